//! One module per subcommand. Each parses its own flags (clap `Args`) and
//! calls the stages; none of them holds pipeline logic. The helpers below are
//! the wiring the commands share.

pub mod catalog;
pub mod check;
pub mod collector;
pub mod coverage;
pub mod generate_fleet;
pub mod history;
pub mod html_page;
pub mod inventory;
pub mod known_issues;
pub mod plan;
pub mod record;
pub mod snapshot;
pub mod sources;

use crate::Global;
use crate::output::Output;
use crate::say;
use lockstep_ingest::LoadOptions;
use lockstep_model::Inventory;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Html,
}

/// `--format text|json` of the commands that print either (`--json`, the
/// older spelling, still works).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    format: TextOrJson,
    /// The same as --format json.
    #[arg(long, hide = true)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

impl FormatArg {
    pub fn is_json(self) -> bool {
        self.json || self.format == TextOrJson::Json
    }
}

/// Inventories read from the command line's paths, with the inputs that failed.
pub struct Loaded {
    pub inventory: Inventory,
    /// `path:line: expected ...`, one per failed input.
    pub errors: Vec<String>,
    /// `path:line: ...`: what was read but shapes the verdicts (a hotfix
    /// list cut short, two captures of one host that disagree).
    pub warnings: Vec<String>,
    /// Every file that was read and parsed.
    pub files: Vec<PathBuf>,
}

impl Loaded {
    /// No input could be read: nothing was parsed. A report written now
    /// would replace a good one with a list of errors.
    pub fn nothing_read(&self) -> bool {
        self.files.is_empty()
    }
}

/// How the global options say inputs are read.
pub fn load_options(global: &Global) -> LoadOptions {
    LoadOptions {
        max_input_size: global.max_input_size,
        manifest_outside: global.allow_paths_outside_manifest,
    }
}

impl Loaded {
    /// What loading gave, as the commands keep it.
    pub fn of(
        inventory: Inventory,
        errors: &[lockstep_ingest::IngestError],
        warnings: &[lockstep_ingest::IngestWarning],
        files: &[(String, &'static str)],
    ) -> Loaded {
        Loaded {
            inventory,
            errors: errors.iter().map(|e| e.to_string()).collect(),
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
            files: files.iter().map(|(p, _)| PathBuf::from(p)).collect(),
        }
    }
}

/// Reads snapshots, directories and fleet manifests; one bad input is an
/// error in the list, the others are still read. The warnings go to
/// standard error at once (`lockstep: warning: ...`).
pub fn load_inputs(global: &Global, paths: &[PathBuf]) -> Loaded {
    let outcome = lockstep_ingest::load_paths_with(paths, &load_options(global));
    let loaded = Loaded::of(
        outcome.inventory,
        &outcome.errors,
        &outcome.warnings,
        &outcome.files,
    );
    for w in &loaded.warnings {
        crate::say!("lockstep: warning: {w}");
    }
    loaded
}

/// When no input could be read, says so (every error, then why nothing was
/// written) and gives exit code 2; `None` when there is something to report.
/// `plan` and `check` do not write a report about nothing: an empty folder
/// or a typo in the path is not a clean cluster.
pub fn refuse_empty(loaded: &Loaded, output: &Output) -> Option<ExitCode> {
    if !loaded.nothing_read() {
        return None;
    }
    for e in &loaded.errors {
        say!("lockstep: {e}");
    }
    let kept = if output.is_stdout() {
        String::new()
    } else {
        format!("; {} was not written", output.shown())
    };
    if loaded.errors.is_empty() {
        say!(
            "lockstep: error: the inputs hold no inventory file (a directory of node captures, a snapshot or a fleet manifest is one){kept}"
        );
    } else {
        say!("lockstep: error: no input could be read{kept}");
    }
    Some(ExitCode::from(2))
}

/// The `-o` of a command that reads `inputs`: resolved, and refused when it
/// names one of them.
pub fn output_for(
    path: Option<&Path>,
    paths: &[PathBuf],
    loaded: &Loaded,
) -> anyhow::Result<Output> {
    let output = Output::resolve(path)?;
    output.refuse_inputs(paths.iter().chain(&loaded.files).map(PathBuf::as_path))?;
    Ok(output)
}

// Commands name paths in messages with the writer's rule.
pub use crate::output::shown;

/// `--max-input-size`: bytes, or a number with K, M or G (powers of 1024,
/// an optional trailing `B` or `iB`).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, shift) = match body.chars().last() {
        Some('K') => (&body[..body.len() - 1], 10),
        Some('M') => (&body[..body.len() - 1], 20),
        Some('G') => (&body[..body.len() - 1], 30),
        _ => (body, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("expected a size such as 256M, 1G or 1048576, found {s:?}"))?;
    let bytes = n
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))?;
    if bytes == 0 {
        return Err("the size must be at least 1 byte".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("10MB"), Ok(10 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
