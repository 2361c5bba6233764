//! One module per subcommand. Each parses its own flags (clap `Args`) and
//! calls the stages; none of them holds pipeline logic. The helpers below are
//! the wiring the commands share.

pub mod catalog;
pub mod check;
pub mod collector;
pub mod coverage;
pub mod generate_fleet;
pub mod history;
pub mod inventory;
pub mod known_issues;
pub mod plan;
pub mod record;
pub mod snapshot;

use crate::Global;
use anyhow::Context;
use lockstep_check::sources::Sources;
use lockstep_model::Inventory;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Html,
}

/// Inventories read from the command line's paths, with the inputs that failed.
pub struct Loaded {
    pub inventory: Inventory,
    /// `path:line: expected ...`, one per failed input.
    pub errors: Vec<String>,
}

/// Reads snapshots, directories and fleet manifests; one bad input is an
/// error in the list, the others are still read.
pub fn load_inputs(paths: &[PathBuf]) -> Loaded {
    let outcome = lockstep_ingest::load_paths(paths);
    Loaded {
        inventory: outcome.inventory,
        errors: outcome.errors.iter().map(|e| e.to_string()).collect(),
    }
}

/// The catalog (when there is one) and the known-issues database (always).
pub fn open_knowledge(global: &Global) -> anyhow::Result<Sources> {
    if global.no_catalog {
        let known = Sources::load_known(&global.known_issues)?;
        return Ok(Sources::without_catalog(
            known,
            "--no-catalog: drift is classified only where the built-in known issues know the supersedence; missing security updates cannot be judged.",
        ));
    }
    Sources::open(global.catalog.as_deref(), &global.known_issues)
}

/// Writes to a file atomically (temporary file in the same folder, then
/// rename), or to standard output. A failed run never leaves half a report.
pub fn write_output(path: Option<&Path>, body: &str) -> anyhow::Result<()> {
    match path {
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            match out.write_all(body.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing to standard output"),
            }
        }
        Some(path) => write_atomic(path, body.as_bytes()),
    }
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams a report to a file atomically (temporary file in the same
/// folder, renamed when complete), or to standard output: a fleet's report
/// is written as it is rendered, never held whole in memory.
/// `render` returns what the caller needs afterwards (the check's findings);
/// `None` when standard output was closed early (`| head`), which is not an
/// error worth a message.
pub fn write_output_with<R>(
    path: Option<&Path>,
    render: impl FnOnce(&mut (dyn std::io::Write + Send)) -> std::io::Result<R>,
) -> anyhow::Result<Option<R>> {
    match path {
        None => {
            // Unlocked `Stdout` (it is `Send`): the report may be written
            // from a writer thread.
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
            match render(&mut out).and_then(|r| std::io::Write::flush(&mut out).map(|()| r)) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(None),
                other => other.map(Some).context("writing to standard output"),
            }
        }
        Some(path) => write_atomic_with(path, render).map(Some),
    }
}

fn write_atomic_with<R>(
    path: &Path,
    render: impl FnOnce(&mut (dyn std::io::Write + Send)) -> std::io::Result<R>,
) -> anyhow::Result<R> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let r = render(&mut w)?;
        w.flush()?;
        Ok(r)
    });
    let r = match written {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(anyhow::anyhow!("writing {}: {e}", tmp.display()));
        }
    };
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("writing {}: {e}", path.display())
    })?;
    Ok(r)
}
