//! `lockstep inventory PATH...`: read inventories and print the normalized
//! nodes, as a table or as JSON. Inputs that cannot be read are reported on
//! stderr (`lockstep: <path>:<line>: expected ...`) and the others are still
//! printed; the exit code is 2 when any input failed. Warnings about inputs
//! that were read (a hotfix list cut short, two captures of one host that
//! disagree) go to stderr too (`lockstep: warning: <path>:<line>: ...`) and
//! into the JSON; they do not change the exit code.

use crate::Global;
use crate::cmd::load_options;
use crate::output::print;
use crate::say;
use lockstep_ingest::{IngestError, IngestWarning, LoadOutcome, load_paths_with};
use lockstep_model::Node;
use lockstep_model::term::one_line;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
}

/// `lockstep inventory PATH...`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Inventory files or directories (a directory is one cluster; a
    /// subdirectory per node works too).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output: a table for people, or JSON (the inventory, which format each
    /// file was read as, the errors and the warnings).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let outcome = load_paths_with(&args.paths, &load_options(global));
    for w in &outcome.warnings {
        say!("lockstep: warning: {w}");
    }
    for e in &outcome.errors {
        say!("lockstep: {e}");
    }
    let empty =
        outcome.inventory.all_nodes().next().is_none() && outcome.inventory.clusters.is_empty();
    let code = if outcome.errors.is_empty() && !empty {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    };
    match args.format {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&to_json(&outcome))?;
            text.push('\n');
            print(&lockstep_model::term::json_safe(text))?;
        }
        OutputFormat::Table => {
            if !empty {
                print(&table(&outcome))?;
            }
        }
    }
    if empty && outcome.errors.is_empty() {
        say!(
            "lockstep: error: the inputs hold no node (a directory of node captures, a snapshot or a fleet manifest is one)"
        );
    }
    // A fleet is millions of allocations and the process ends here: the OS
    // takes them back at once, freeing them one by one would not (as check).
    std::mem::forget(outcome);
    Ok(code)
}

fn error_json(e: &IngestError) -> serde_json::Value {
    serde_json::json!({
        "path": e.path,
        "line": e.line,
        "expected": e.expected,
        "found": e.found,
        "message": e.to_string(),
    })
}

fn warning_json(w: &IngestWarning) -> serde_json::Value {
    serde_json::json!({
        "path": w.path,
        "line": w.line,
        "message": w.to_string(),
    })
}

fn to_json(o: &LoadOutcome) -> serde_json::Value {
    serde_json::json!({
        "inventory": o.inventory,
        "files": o.files.iter().map(|(p, f)| serde_json::json!({"path": p, "format": f})).collect::<Vec<_>>(),
        "errors": o.errors.iter().map(error_json).collect::<Vec<_>>(),
        "warnings": o.warnings.iter().map(warning_json).collect::<Vec<_>>(),
    })
}

fn file_name(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

fn row(cluster: &str, n: &Node) -> Vec<String> {
    let os =
        n.os.caption
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_default();
    let build = match (&n.os.version, &n.os.service_pack) {
        (Some(v), Some(sp)) => format!("{} {sp}", v.value),
        (Some(v), None) => v.value.to_string(),
        (None, _) => String::new(),
    };
    // Every cell is one line of input text made safe for the terminal; the
    // sources cell lists one file per line.
    let sources: Vec<String> = n
        .sources
        .iter()
        .map(|s| one_line(file_name(s)).into_owned())
        .collect();
    vec![
        one_line(cluster).into_owned(),
        one_line(&n.name).into_owned(),
        one_line(&os).into_owned(),
        one_line(&build).into_owned(),
        n.updates.len().to_string(),
        sources.join("\n"),
    ]
}

/// One row per node, in comfy-table's look (the check report's tables),
/// written directly and made as they are written: a 500 MB capture is
/// 70,000 rows.
fn table(o: &LoadOutcome) -> String {
    let rows = o
        .inventory
        .clusters
        .iter()
        .flat_map(|c| c.nodes.iter().map(|n| (c.name.as_str(), n)))
        .chain(o.inventory.loose_nodes.iter().map(|n| ("-", n)))
        .map(|(cluster, n)| row(cluster, n));
    let mut out = String::new();
    lockstep_report::text::table(
        &mut out,
        &["Cluster", "Node", "OS", "Build", "KBs", "Sources"],
        rows,
    );
    out
}
