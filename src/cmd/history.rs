use crate::Global;
use crate::cmd::OutputFormat;
use anyhow::Context;
use lockstep_history::{Store, Target, Window};
use lockstep_report::TextOptions;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// `lockstep history [CLUSTER]`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The cluster, as recorded (case-insensitive). Without it: the clusters the history holds.
    pub cluster: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write the report to this file (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only what happened from this date (YYYY-MM-DD, UTC) or time (2026-11-03T08:00:00Z) on.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<i64>,
    /// Only what happened up to this date (to its end, UTC) or time: the history as it stood then.
    #[arg(long, value_name = "WHEN", value_parser = parse_until)]
    pub until: Option<i64>,
}

fn parse_when(s: &str, end_of_day: bool) -> Result<i64, String> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t.as_second());
    }
    let d: jiff::civil::Date = s
        .parse()
        .map_err(|_| format!("expected a date (YYYY-MM-DD) or an RFC 3339 time, found {s:?}"))?;
    let start = d
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map_err(|e| e.to_string())?
        .timestamp()
        .as_second();
    Ok(if end_of_day { start + 86_399 } else { start })
}

fn parse_since(s: &str) -> Result<i64, String> {
    parse_when(s, false)
}

fn parse_until(s: &str) -> Result<i64, String> {
    parse_when(s, true)
}

/// The history `--history` or `LOCKSTEP_HISTORY` names, else the default
/// file; and whether it was named.
pub fn target(global: &Global) -> (Target, bool) {
    match &global.history {
        Some(s) => (Target::parse(s), true),
        None => (Target::default_sqlite(), false),
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    if let (Some(s), Some(u)) = (args.since, args.until)
        && s > u
    {
        anyhow::bail!("--since is after --until");
    }
    let (target, _) = target(global);
    let mut store: Box<dyn Store> = target.open(false)?;
    let o = TextOptions {
        color: args.output.is_none()
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let Some(cluster) = &args.cluster else {
        let list = store.clusters()?;
        let body = match args.format {
            OutputFormat::Json => lockstep_report::history::listing_json(&list),
            _ => lockstep_report::history::listing_text(&list, o),
        };
        crate::output::Output::resolve(args.output.as_deref())?.write(body.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    };
    let Some(data) = store.cluster(cluster, args.until)? else {
        let known: Vec<String> = store.clusters()?.into_iter().map(|c| c.name).collect();
        let shown = match known.len() {
            0 => String::new(),
            n if n <= 10 => format!(" (it has {})", known.join(", ")),
            n => format!(
                " (it has {}, ... {n} in all: `lockstep history` lists them)",
                known[..10].join(", ")
            ),
        };
        anyhow::bail!(
            "the history {} has no cluster {cluster:?}{shown}",
            store.target()
        );
    };
    let report = lockstep_history::history(
        &data,
        Window {
            since: args.since,
            until: args.until,
        },
    );
    let body = match args.format {
        OutputFormat::Text => lockstep_report::history::history_text(&report, o),
        OutputFormat::Json => lockstep_report::history::history_json(&report),
        OutputFormat::Html => lockstep_report::render_history_html(&report)
            .map_err(|e| anyhow::anyhow!(e))
            .context("rendering the history page")?,
    };
    crate::output::Output::resolve(args.output.as_deref())?.write(body.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
