//! `lockstep collector [-o PATH]`: prints the collector script
//! `Collect-LockstepSnapshot.ps1` (embedded in the binary, so it always
//! writes the snapshot version this lockstep reads), or writes it to a file.

use crate::Global;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Copy the script to a cluster node and run it from an elevated Windows PowerShell 5.1:\n  .\\Collect-LockstepSnapshot.ps1 -OutFile C:\\Temp\\cluster.json\nThen bring the JSON back and run `lockstep check cluster.json`."
)]
pub struct Args {
    /// Write the script to this file (with Windows CRLF line ends) instead of printing it.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let script = lockstep_collect::SCRIPT;
    match args.output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(script.as_bytes())
                .and_then(|_| out.flush())
                .context("writing the collector script to standard output")?;
        }
        Some(path) => {
            // CRLF: Notepad on Server 2012 R2/2016 shows LF-only files as one
            // line, and admins open the script before running it.
            let crlf = script.replace("\r\n", "\n").replace('\n', "\r\n");
            std::fs::write(&path, crlf).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "wrote {} (collector {}); run it elevated on a cluster node",
                path.display(),
                lockstep_collect::COLLECTOR_VERSION
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
