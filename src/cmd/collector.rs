//! `lockstep collector [-o PATH]`: prints the collector script
//! `Collect-LockstepSnapshot.ps1` (embedded in the binary, so it always
//! writes the snapshot version this lockstep reads), or writes it to a file.

use crate::Global;
use crate::output::Output;
use crate::say;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Copy the script to a cluster node and run it from an elevated Windows PowerShell 5.1:\n  .\\Collect-LockstepSnapshot.ps1 -OutFile C:\\Temp\\cluster.json\nThen bring the JSON back and run `lockstep check cluster.json`."
)]
pub struct Args {
    /// Write the script to this file (with Windows CRLF line ends) instead of printing it; `-` is standard output.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let script = lockstep_collect::SCRIPT;
    let output = Output::resolve(args.output.as_deref())?;
    if output.is_stdout() {
        output.write(script.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    // CRLF: Notepad on Server 2012 R2/2016 shows LF-only files as one
    // line, and admins open the script before running it.
    let crlf = script.replace("\r\n", "\n").replace('\n', "\r\n");
    if output.write(crlf.as_bytes())?.is_some() {
        say!(
            "wrote {} (collector {}); run it elevated on a cluster node",
            output.shown(),
            lockstep_collect::COLLECTOR_VERSION
        );
    }
    Ok(ExitCode::SUCCESS)
}
