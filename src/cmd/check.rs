use crate::Global;
use crate::cmd::{OutputFormat, load_inputs, open_knowledge, output_for, refuse_empty};
use crate::say;
use lockstep_check::knowledge::Knowledge;
use lockstep_check::run::{
    CheckOptions, CheckReport, ClusterReport, ReportHead, check, check_each,
};
use lockstep_check::{Finding, Severity};
use lockstep_history::{CatalogStamp, HistoryError, OutOfStep, Store};
use lockstep_model::Inventory;
use lockstep_report::metrics::{CatalogMetrics, ClusterMetrics, NodeMetrics};
use lockstep_report::{TextOptions, json, text};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

/// `lockstep check PATH...`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Snapshot JSON files, directories (one cluster each) or fleet manifests (TOML).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Write the report to this file instead of standard output (a regular file is replaced atomically; `-` is standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this level (never: always exit 0 unless an input failed).
    #[arg(long, value_name = "LEVEL", default_value = "error", value_parser = parse_fail_on)]
    pub fail_on: FailOn,
    /// Judge security posture with what the catalog says was published by this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
    /// Record this check into the history (--history, LOCKSTEP_HISTORY, or
    /// $XDG_DATA_HOME/lockstep/history.sqlite3), after the report is written.
    #[arg(long)]
    pub record: bool,
    /// Also write Prometheus metrics (text format, for node_exporter's textfile collector) to FILE, atomically.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub enum FailOn {
    Level(Severity),
    Never,
}

fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("never") {
        Ok(FailOn::Never)
    } else {
        s.parse::<Severity>().map(FailOn::Level)
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut timings = Timings::from_env();
    let loaded = load_inputs(global, &args.paths);
    timings.mark("load");
    let output = output_for(args.output.as_deref(), &args.paths, &loaded)?;
    if let Some(code) = refuse_empty(&loaded, &output) {
        return Ok(code);
    }
    let sources = open_knowledge(global)?;
    timings.mark("catalog");
    // Verdicts and the catalog's age are judged as of the check's date.
    let judged_on = args
        .as_of
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date());
    let knowledge = sources.knowledge().judged_on(judged_on);
    let catalog_info = sources.catalog_info_on(judged_on);
    let options = CheckOptions { as_of: args.as_of };
    // Errors after the report: the history or the metrics could not be
    // written. The report is written all the same; the exit code says so.
    let mut late_errors: Vec<String> = Vec::new();
    let (mut store, out_of_step) =
        open_history(global, args.record, &loaded.inventory, &mut late_errors);
    timings.mark("history");
    let per_cluster = PerCluster::new(&loaded.inventory, &out_of_step, args.metrics.is_some());
    let observe = |c: &ClusterReport| per_cluster.observe(c);
    let color = output.is_stdout()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut head = ReportHead::new(
        &loaded.inventory,
        catalog_info.clone(),
        &options,
        loaded.errors.clone(),
    );
    head.input_warnings = loaded.warnings.clone();
    // Text and JSON stream: each cluster is judged, rendered and written,
    // then dropped; the findings follow the last cluster.
    // `separated`: each rendered cluster starts with a one-byte separator
    // (JSON's `,`) that the first one drops. A writer thread takes the
    // rendered clusters, so judging the next chunk overlaps the writing.
    let streamed = |w: &mut (dyn std::io::Write + Send),
                    separated: bool,
                    render: &(dyn Fn(ClusterReport) -> std::io::Result<Vec<u8>> + Sync)|
     -> std::io::Result<CheckReport> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(64);
            let writer = scope.spawn(move || -> std::io::Result<()> {
                let mut first = true;
                for part in rx {
                    let skip = usize::from(separated && first);
                    first = false;
                    w.write_all(part.get(skip..).unwrap_or_default())?;
                }
                Ok(())
            });
            let checked = check_each(
                &loaded.inventory,
                &knowledge,
                Some(sources.protection()),
                catalog_info.clone(),
                &options,
                render,
                |part: std::io::Result<Vec<u8>>| {
                    // A closed channel means the writer failed: its error
                    // is the one to report, from `join` below.
                    tx.send(part?)
                        .map_err(|_| std::io::Error::other("the report writer stopped"))
                },
            );
            drop(tx);
            let written = writer
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the report writer panicked")));
            let mut report = match (checked, written) {
                (_, Err(e)) | (Err(e), Ok(())) => return Err(e),
                (Ok(report), Ok(())) => report,
            };
            report.input_errors = loaded.errors.clone();
            report.input_warnings = loaded.warnings.clone();
            Ok(report)
        })
    };
    let report = match args.format {
        OutputFormat::Text => {
            let o = TextOptions { color };
            output.write_with(|w| {
                text::write_head(w, &head, o)?;
                let report = streamed(w, false, &|c| {
                    observe(&c);
                    let mut s = String::new();
                    text::cluster_text_with(&mut s, &c, per_cluster.line(&c.name), o);
                    Ok(text::terminal_safe(s, o).into_bytes())
                })?;
                timings.mark("check and clusters");
                text::write_tail(w, &report, o)?;
                Ok(report)
            })?
        }
        OutputFormat::Json => output.write_with(|w| {
            // Bidi controls and C1 controls from the inputs are written as
            // `\uXXXX` escapes: the same strings, nothing raw on a terminal.
            let mut w = lockstep_model::term::JsonSafeWriter::new(w);
            json::write_head(&mut w, &head)?;
            let report = streamed(&mut w, true, &|c| {
                observe(&c);
                json::cluster_json(&c)
            })?;
            timings.mark("check and clusters");
            json::write_tail(&mut w, &report)?;
            std::io::Write::flush(&mut w)?;
            Ok(report)
        })?,
        OutputFormat::Html => {
            let mut report = check(
                &loaded.inventory,
                &knowledge,
                Some(sources.protection()),
                catalog_info.clone(),
                &options,
            );
            report.input_errors = loaded.errors.clone();
            report.input_warnings = loaded.warnings.clone();
            report.clusters.iter().for_each(observe);
            timings.mark("check");
            let inputs = super::html_page::inputs(&loaded.inventory, &report, &sources, &knowledge);
            let body =
                lockstep_report::render_html(&report, &inputs).map_err(|e| anyhow::anyhow!(e))?;
            output.write(body.as_bytes())?.map(|()| report)
        }
    };
    timings.mark("report");
    for e in &loaded.errors {
        say!("lockstep: {e}");
    }
    // Standard output closed early: nothing more to say; the exit code is
    // still the one the inputs earned.
    let Some(report) = report else {
        return Ok(if loaded.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        });
    };
    let extras = Extras {
        record: store.as_deref_mut().filter(|_| args.record),
        metrics: args.metrics.as_deref(),
        cluster_metrics: per_cluster.into_metrics(),
        out_of_step: &out_of_step,
    };
    late_errors.extend(extras.write(&report, &loaded.inventory, &sources, &knowledge));
    timings.mark("metrics and record");
    for e in &late_errors {
        say!("lockstep: error: {e}");
    }
    let failed = match (args.fail_on, report.max_severity()) {
        (FailOn::Level(level), Some(max)) => max >= level,
        _ => false,
    };
    let code = if !loaded.errors.is_empty() || !late_errors.is_empty() {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // A fleet's inventory and report are millions of small allocations;
    // the process ends here, and the OS takes the pages back far faster
    // than freeing them one by one would (about a second on 8,000 nodes).
    std::mem::forget(report);
    std::mem::forget(loaded);
    Ok(code)
}

/// What the check's report and metrics take from each cluster as it
/// streams past: the history's line, and the metrics.
struct PerCluster<'a> {
    lines: HashMap<&'a str, String>,
    by_name: HashMap<&'a str, &'a lockstep_model::Cluster>,
    metrics: Option<Mutex<Vec<ClusterMetrics>>>,
}

impl<'a> PerCluster<'a> {
    fn new(
        inventory: &'a Inventory,
        out_of_step: &'a HashMap<String, OutOfStep>,
        metrics: bool,
    ) -> Self {
        PerCluster {
            lines: out_of_step
                .iter()
                .map(|(c, o)| (c.as_str(), text::out_of_step_line(o)))
                .collect(),
            by_name: if metrics {
                inventory
                    .clusters
                    .iter()
                    .map(|c| (c.name.as_str(), c))
                    .collect()
            } else {
                HashMap::new()
            },
            metrics: metrics.then(|| Mutex::new(Vec::new())),
        }
    }

    fn line(&self, cluster: &str) -> Option<&str> {
        self.lines.get(cluster).map(String::as_str)
    }

    fn observe(&self, c: &ClusterReport) {
        if let Some(m) = &self.metrics {
            let cm = ClusterMetrics::of(c, self.by_name.get(c.name.as_str()).copied());
            if let Ok(mut v) = m.lock() {
                v.push(cm);
            }
        }
    }

    fn into_metrics(self) -> Vec<ClusterMetrics> {
        self.metrics
            .and_then(|m| m.into_inner().ok())
            .unwrap_or_default()
    }
}

/// What a check writes after its report: the metrics file and the record.
struct Extras<'a> {
    record: Option<&'a mut (dyn Store + 'static)>,
    metrics: Option<&'a Path>,
    /// Gathered from each cluster's report as the check streamed it.
    cluster_metrics: Vec<ClusterMetrics>,
    out_of_step: &'a HashMap<String, OutOfStep>,
}

impl Extras<'_> {
    /// Writes both; returns what failed.
    fn write(
        self,
        report: &CheckReport,
        inventory: &Inventory,
        sources: &lockstep_check::sources::Sources,
        knowledge: &dyn Knowledge,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let stamp = if self.record.is_some() || self.metrics.is_some() {
            catalog_stamp(&sources.catalog_info()).and_then(|r| r.map_err(|e| errors.push(e)).ok())
        } else {
            None
        };
        if let Some(path) = self.metrics {
            let mut clusters = self.cluster_metrics;
            for c in &mut clusters {
                c.out_of_step_since = self.out_of_step.get(&c.name).map(|o| o.since);
            }
            let loose: Vec<NodeMetrics> = report
                .loose_nodes
                .iter()
                .map(|p| {
                    let node = inventory.loose_nodes.iter().find(|n| n.name == p.node);
                    NodeMetrics::of(p, node)
                })
                .collect();
            let catalog = CatalogMetrics {
                available: sources.catalog_info().available,
                newest_release: stamp
                    .as_ref()
                    .and_then(|s| s.newest_release.as_deref())
                    .and_then(|d| d.parse::<jiff::civil::Date>().ok())
                    .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
                    .map(|z| z.timestamp().as_second()),
                imported_at: stamp
                    .as_ref()
                    .and_then(|s| s.imported_at)
                    .map(|t| t.as_second()),
            };
            let body = lockstep_report::metrics::render_metrics(
                jiff::Timestamp::now().as_second(),
                catalog,
                &clusters,
                &loose,
                &report.findings,
            );
            let written =
                crate::output::Output::resolve(Some(path)).and_then(|o| o.write(body.as_bytes()));
            if let Err(e) = written {
                errors.push(format!("{e:#}"));
            }
        }
        if let Some(store) = self.record {
            match record(store, inventory, &report.findings, knowledge, stamp, false) {
                Ok(true) => errors.push("some nodes could not be recorded (above)".into()),
                Ok(false) => {}
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        errors
    }
}

/// The stamp of the catalog a check used (the bundled one, or a file).
pub fn catalog_stamp(
    info: &lockstep_check::run::CatalogInfo,
) -> Option<Result<CatalogStamp, String>> {
    match (&info.path, info.bundled) {
        (_, true) => Some(CatalogStamp::of_bundled()),
        (Some(p), false) => Some(CatalogStamp::of_catalog(Path::new(p))),
        (None, false) => None,
    }
}

/// The history, when there is one (or `--record` asks for it), and what it
/// says about each cluster of the inventory that is out of step now. A
/// history that cannot be opened is an error for `late_errors` (the
/// check goes on); a reader finding none yet is not.
fn open_history(
    global: &Global,
    record: bool,
    inventory: &Inventory,
    late_errors: &mut Vec<String>,
) -> (Option<Box<dyn Store>>, HashMap<String, OutOfStep>) {
    let (target, explicit) = super::history::target(global);
    let mut out = HashMap::new();
    if !(record || explicit || target.exists()) {
        return (None, out);
    }
    let mut store = match target.open(record) {
        Ok(s) => s,
        Err(HistoryError::NotFound(_)) if !record => return (None, out),
        Err(e) => {
            late_errors.push(e.to_string());
            return (None, out);
        }
    };
    let (runs, _) = lockstep_history::record::runs_of(inventory, &[]);
    for run in &runs {
        match lockstep_history::out_of_step(store.as_mut(), run) {
            Ok(Some(o)) => {
                out.insert(run.cluster.clone(), o);
            }
            Ok(None) => {}
            Err(e) => {
                late_errors.push(e.to_string());
                return (None, HashMap::new());
            }
        }
    }
    (Some(store), out)
}

/// Records a check into the history and says what was stored (on standard
/// output for `lockstep record`, else on standard error). Returns whether
/// some node could not be recorded.
pub fn record(
    store: &mut dyn Store,
    inventory: &Inventory,
    findings: &[Finding],
    knowledge: &dyn Knowledge,
    catalog: Option<CatalogStamp>,
    to_stdout: bool,
) -> anyhow::Result<bool> {
    let rec = lockstep_history::recording(
        inventory,
        findings,
        knowledge,
        catalog,
        jiff::Timestamp::now(),
    );
    for n in &rec.notes {
        say!("lockstep: note: {n}");
    }
    for e in &rec.errors {
        say!("lockstep: not recorded: {e}");
    }
    let out = store.record(&rec)?;
    let line = format!(
        "recorded {} run(s) of {} cluster(s) ({} already recorded), {} node observation(s) ({} already recorded), {} new update set(s) into {}",
        out.runs_new,
        rec.runs.len(),
        out.runs_known,
        out.observations_new,
        out.observations_known,
        out.update_sets_new,
        store.target()
    );
    if to_stdout {
        crate::output::print(&format!("{line}\n"))?;
    } else {
        say!("lockstep: {line}");
    }
    Ok(!rec.errors.is_empty())
}

/// Phase times on standard error when `LOCKSTEP_TIMINGS` is set: how
/// BENCHMARKS.md says where the time goes, without a profiler.
struct Timings {
    last: Option<std::time::Instant>,
}

impl Timings {
    fn from_env() -> Self {
        Timings {
            last: std::env::var_os("LOCKSTEP_TIMINGS").map(|_| std::time::Instant::now()),
        }
    }

    fn mark(&mut self, phase: &str) {
        if let Some(last) = self.last {
            say!("lockstep: {phase} {:.3} s", last.elapsed().as_secs_f64());
            self.last = Some(std::time::Instant::now());
        }
    }
}
