//! `lockstep inventory PATH...`: read inventories and print the normalized
//! nodes, as a table or as JSON. Inputs that cannot be read are reported on
//! stderr (`lockstep: <path>:<line>: expected ...`) and the others are still
//! printed; the exit code is 2 when any input failed. Warnings about inputs
//! that were read (a hotfix list cut short, two captures of one host that
//! disagree) go to stderr too (`lockstep: warning: <path>:<line>: ...`) and
//! into the JSON; they do not change the exit code.

use crate::Global;
use comfy_table::{Table, presets};
use lockstep_ingest::{IngestError, IngestWarning, LoadOutcome, load_paths};
use lockstep_model::Node;
use std::io::Write;
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

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let outcome = load_paths(&args.paths);
    for w in &outcome.warnings {
        eprintln!("lockstep: warning: {w}");
    }
    for e in &outcome.errors {
        eprintln!("lockstep: {e}");
    }
    let mut stdout = std::io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut stdout, &to_json(&outcome))?;
            writeln!(stdout)?;
        }
        OutputFormat::Table => {
            if outcome.inventory.all_nodes().next().is_some() {
                writeln!(stdout, "{}", table(&outcome))?;
            } else if outcome.errors.is_empty() {
                eprintln!("lockstep: no nodes found in the inputs");
            }
        }
    }
    let code = if outcome.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    };
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
    let sources: Vec<&str> = n.sources.iter().map(|s| file_name(s)).collect();
    vec![
        cluster.to_string(),
        n.name.clone(),
        os,
        build,
        n.updates.len().to_string(),
        sources.join("\n"),
    ]
}

fn table(o: &LoadOutcome) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.set_header(["Cluster", "Node", "OS", "Build", "KBs", "Sources"]);
    for c in &o.inventory.clusters {
        for n in &c.nodes {
            t.add_row(row(&c.name, n));
        }
    }
    for n in &o.inventory.loose_nodes {
        t.add_row(row("-", n));
    }
    t
}
