//! `lockstep snapshot validate FILE...` and `lockstep snapshot schema`.
//!
//! `validate` checks each file against `schema/snapshot-v1.schema.json`
//! (embedded in the binary) and prints every problem with its JSON pointer,
//! e.g. `hv.json: /clusters/0/nodes/1/os/data/build: "x" is not of type
//! "integer"`. A file that passes the schema is also read the way `check`
//! reads it, so values the schema cannot judge (an OS version that is not a
//! version) are reported too. Files are decoded like every other input
//! (`lockstep_ingest::decode`): the UTF-16LE that Windows PowerShell 5.1's `>`
//! writes works as well as UTF-8 with or without a BOM. Exit code 2 when any
//! file has a problem, 0 when all are valid.

use crate::Global;
use crate::output::print;
use crate::say;
use lockstep_ingest::formats::snapshot::FORMAT;
use lockstep_ingest::{FileContent, Text};
use lockstep_model::input_file::{self, Origin};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// Check snapshot files against the snapshot v1 JSON Schema; print every problem with its JSON path.
    Validate {
        /// Snapshot files written by Collect-LockstepSnapshot.ps1.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of snapshot v1 (draft 2020-12).
    Schema,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Schema => {
            print(lockstep_collect::SCHEMA_JSON)?;
            Ok(ExitCode::SUCCESS)
        }
        Sub::Validate { files } => {
            let mut bad_files = 0usize;
            let mut out = String::new();
            for file in &files {
                let problems = validate_file(file, global.max_input_size);
                let name = crate::cmd::shown(file);
                match problems {
                    Ok(summary) => {
                        let _ = writeln!(out, "{name}: valid ({summary})");
                    }
                    Err(problems) => {
                        bad_files += 1;
                        for p in &problems {
                            let _ = writeln!(out, "{name}: {}", lockstep_model::term::one_line(p));
                        }
                    }
                }
            }
            print(&out)?;
            if bad_files > 0 {
                say!(
                    "lockstep: {bad_files} of {} snapshot file(s) invalid",
                    files.len()
                );
                Ok(ExitCode::from(2))
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}

/// A one-line summary of a valid file, or every problem found in it.
fn validate_file(path: &std::path::Path, max_size: u64) -> Result<String, Vec<String>> {
    let display = path.display().to_string();
    let bytes = input_file::read(path, max_size, Origin::Named).map_err(|e| vec![e.to_string()])?;
    let text =
        lockstep_ingest::decode::decode(&bytes, &display).map_err(|e| vec![e.to_string()])?;
    let body = text.trim_start_matches('\u{FEFF}');
    let value: serde_json::Value = serde_json::from_str(body).map_err(|e| {
        let position = format!(" at line {} column {}", e.line(), e.column());
        let full = e.to_string();
        let what = full.strip_suffix(&position).unwrap_or(&full);
        vec![format!(
            "line {} column {}: expected a lockstep snapshot (schema lockstep-snapshot/1): invalid JSON: {what}",
            e.line(),
            e.column()
        )]
    })?;
    let problems = lockstep_collect::validate(&value);
    if !problems.is_empty() {
        return Err(problems.iter().map(ToString::to_string).collect());
    }
    match (FORMAT.parse)(&Text::new(display.as_str(), body)) {
        Ok(FileContent::Clusters(clusters)) => {
            let nodes: usize = clusters.iter().map(|c| c.nodes.len()).sum();
            Ok(format!(
                "lockstep-snapshot/1, {} cluster(s), {nodes} node(s)",
                clusters.len()
            ))
        }
        Ok(_) => Err(vec!["expected clusters from a snapshot".into()]),
        // IngestError's Display names the file already; strip it for the per-file listing.
        Err(e) => Err(vec![
            e.to_string()
                .strip_prefix(&format!("{display}:"))
                .map(|s| format!("line{s}"))
                .unwrap_or_else(|| e.to_string()),
        ]),
    }
}
