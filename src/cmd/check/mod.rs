mod stream;

use crate::Global;
use crate::cmd::sources::{catalog_stamp, open_knowledge};
use crate::cmd::{Loaded, OutputFormat, load_inputs, load_options, output_for, refuse_empty};
use crate::output::Output;
use crate::say;
use anyhow::Context;
use lockstep_check::knowledge::Knowledge;
use lockstep_check::posture::NodePosture;
use lockstep_check::run::{CheckOptions, CheckReport, Judge, ReportHead, check, report_rest};
use lockstep_check::{Finding, Severity};
use lockstep_history::{CatalogStamp, HistoryError, OutOfStep, RecordingBuilder, Store};
use lockstep_model::Inventory;
use lockstep_report::metrics::{CatalogMetrics, ClusterMetrics, FindingCounts, NodeMetrics};
use lockstep_report::spill::{FindingRuns, Segments};
use lockstep_report::{TextOptions, json, text};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stream::{Pass, Render};

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
    match args.format {
        OutputFormat::Html => run_whole(global, args),
        OutputFormat::Text | OutputFormat::Json => run_streamed(global, args),
    }
}

/// Text and JSON: the inputs stream through the check cluster by cluster
/// ([`stream`]); memory holds the clusters in flight, not the
/// fleet.
fn run_streamed(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let mut timings = Timings::from_env();
    // Known before the inputs are read, said in the order a check of the
    // whole inventory says them: the inputs' warnings, then a refused
    // output, then nothing read, then a catalog that cannot be opened.
    let output = Output::resolve(args.output.as_deref());
    let sources = output.is_ok().then(|| open_knowledge(global));
    timings.mark("catalog");
    let opened = sources.as_ref().and_then(|s| s.as_ref().ok());
    // Verdicts and the catalog's age are judged as of the check's date.
    let judged_on = args
        .as_of
        .unwrap_or_else(|| jiff::ZonedDateTime::now().date());
    let knowledge = opened.map(|s| s.knowledge().judged_on(judged_on));
    let options = CheckOptions { as_of: args.as_of };
    let judge = opened
        .zip(knowledge.as_ref())
        .map(|(s, k)| Judge::new(k, Some(s.protection()), &options));
    let color = output.as_ref().is_ok_and(Output::is_stdout)
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let render = Render::of(args.format, TextOptions { color });
    let spill_dir = output.as_ref().ok().and_then(Output::spill_dir);
    // Errors after the report: the history or the metrics could not be
    // written. The report is written all the same; the exit code says so.
    let mut late_errors: Vec<String> = Vec::new();
    let mut history = HistoryAccess::new(global, args.record);
    let (pass, streamed) = stream::stream(
        &args,
        &load_options(global),
        || Pass::new(judge.as_ref(), render, spill_dir.as_deref(), &args),
        &mut history,
        &mut late_errors,
        &mut timings,
    )
    .context("writing a temporary file of the report")?;
    // The history is opened by the first cluster judged; why it could not
    // be is said first among the late errors.
    let mut late_errors = [history.take_errors(), late_errors].concat();
    let loaded = Loaded::of(
        Inventory {
            clusters: Vec::new(),
            loose_nodes: streamed.loose_nodes,
        },
        &streamed.errors,
        &streamed.warnings,
        &streamed.files,
    );
    for w in &loaded.warnings {
        say!("lockstep: warning: {w}");
    }
    let output = output?;
    output.refuse_inputs(args.paths.iter().chain(&loaded.files).map(PathBuf::as_path))?;
    if let Some(code) = refuse_empty(&loaded, &output) {
        return Ok(code);
    }
    if let Some(Err(_)) = &sources {
        drop(pass);
        drop(judge);
        drop(knowledge);
        return sources
            .context("the catalog is opened with the output")?
            .map(|_| ExitCode::SUCCESS);
    }
    let (Some(sources), Some(judge)) = (opened, judge.as_ref()) else {
        anyhow::bail!("the catalog is opened with the output");
    };
    let catalog = sources.catalog_info_on(judged_on);
    let Pass {
        body,
        mut findings,
        mut companions,
        nodes,
        out_of_step,
        metrics,
        mut counts,
        recording,
        ..
    } = pass;
    // The check's first finding, and the findings of the loose nodes
    // after every cluster's, as a check of the whole inventory makes them.
    let loose = judge.loose(&loaded.inventory.loose_nodes);
    let first = lockstep_check::run::catalog_unavailable(&catalog);
    let extra = first.iter().map(|f| (f, (0, 0))).chain(
        loose
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| (f, (u64::MAX, i as u64))),
    );
    for (f, made) in extra {
        findings.push(f, made, &render.finding(f)?)?;
        counts.add(f);
    }
    companions.extend(loose.companions);
    let companions: Vec<String> = companions.into_iter().collect();
    let rest = report_rest(
        catalog.clone(),
        &options,
        loose.postures,
        judge.companion_chains(&companions),
        Vec::new(),
    );
    let mut head = ReportHead::new(
        &lockstep_model::Inventory::default(),
        catalog,
        &options,
        loaded.errors.clone(),
    );
    head.input_warnings = loaded.warnings.clone();
    head.clusters = streamed.clusters;
    head.nodes = nodes + loaded.inventory.loose_nodes.len();
    timings.mark("nodes outside a cluster");
    let max_severity = findings.max_severity();
    let written = output.write_with(|w| write_streamed(w, render, &head, body, &rest, findings))?;
    timings.mark("report");
    for e in &loaded.errors {
        say!("lockstep: {e}");
    }
    // Standard output closed early: nothing more to say; the exit code is
    // still the one the inputs earned.
    if written.is_none() {
        return Ok(input_code(&loaded));
    }
    // A check of nodes outside a cluster opens the history here.
    history.store();
    late_errors.extend(history.take_errors());
    let extras = Extras {
        record: history.store().filter(|_| args.record),
        recording,
        loose_nodes: &loaded.inventory.loose_nodes,
        metrics: args.metrics.as_deref(),
        cluster_metrics: metrics.unwrap_or_default(),
        loose_metrics: loose_metrics(&rest.loose_nodes, &loaded.inventory.loose_nodes),
        finding_counts: counts,
        out_of_step: &out_of_step,
    };
    late_errors.extend(extras.write(sources));
    timings.mark("metrics and record");
    finish(&args, &loaded, &late_errors, max_severity, timings)
}

/// The streamed report: the head, the clusters' parts in order, the tail
/// with the findings merged into their order.
fn write_streamed(
    w: &mut (dyn std::io::Write + Send),
    render: Render,
    head: &ReportHead,
    mut body: Segments,
    rest: &CheckReport,
    findings: FindingRuns,
) -> std::io::Result<()> {
    match render {
        Render::Text(o) => {
            text::write_head(w, head, o)?;
            body.write_in_order(w, 0)?;
            text::write_findings_head(w, &rest.loose_nodes, findings.len(), o)?;
            let totals = findings.by_severity();
            findings.write_sorted(w, b"")?;
            text::write_totals(w, totals)
        }
        Render::Json => {
            // Bidi controls and C1 controls from the inputs are written as
            // `\uXXXX` escapes: the same strings, nothing raw on a
            // terminal. The parts and findings were escaped as rendered.
            let mut safe = lockstep_model::term::JsonSafeWriter::new(&mut *w);
            json::write_head(&mut safe, head)?;
            std::io::Write::flush(&mut safe)?;
            drop(safe);
            body.write_in_order(w, 1)?;
            let mut safe = lockstep_model::term::JsonSafeWriter::new(&mut *w);
            json::write_tail_start(&mut safe, rest)?;
            std::io::Write::flush(&mut safe)?;
            drop(safe);
            findings.write_sorted(w, b",")?;
            json::write_tail_end(w)
        }
    }
}

/// HTML: the page is built whole (it carries both plans), from the whole
/// inventory.
fn run_whole(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
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
    let mut late_errors: Vec<String> = Vec::new();
    let mut history = HistoryAccess::new(global, args.record);
    let out_of_step = history.out_of_step(&loaded.inventory, &mut late_errors);
    timings.mark("history");
    let mut report = check(
        &loaded.inventory,
        &knowledge,
        Some(sources.protection()),
        catalog_info.clone(),
        &options,
    );
    report.input_errors = loaded.errors.clone();
    report.input_warnings = loaded.warnings.clone();
    timings.mark("check");
    let inputs = crate::cmd::html_page::inputs(&loaded.inventory, &report, &sources, &knowledge);
    let body = lockstep_report::render_html(&report, &inputs).map_err(|e| anyhow::anyhow!(e))?;
    let written = output.write(body.as_bytes())?;
    timings.mark("report");
    for e in &loaded.errors {
        say!("lockstep: {e}");
    }
    if written.is_none() {
        return Ok(input_code(&loaded));
    }
    let by_name: HashMap<&str, &lockstep_model::Cluster> = loaded
        .inventory
        .clusters
        .iter()
        .map(|c| (c.name.as_str(), c))
        .collect();
    let extras = Extras {
        record: history.store().filter(|_| args.record),
        recording: args
            .record
            .then(|| RecordingBuilder::of(&loaded.inventory, &report.findings, &knowledge)),
        loose_nodes: &loaded.inventory.loose_nodes,
        metrics: args.metrics.as_deref(),
        cluster_metrics: report
            .clusters
            .iter()
            .map(|c| ClusterMetrics::of(c, by_name.get(c.name.as_str()).copied()))
            .collect(),
        loose_metrics: loose_metrics(&report.loose_nodes, &loaded.inventory.loose_nodes),
        finding_counts: FindingCounts::of(&report.findings),
        out_of_step: &out_of_step,
    };
    late_errors.extend(extras.write(&sources));
    timings.mark("metrics and record");
    let code = finish(&args, &loaded, &late_errors, report.max_severity(), timings);
    // A fleet's inventory and report are millions of small allocations;
    // the process ends here, and the OS takes the pages back far faster
    // than freeing them one by one would.
    std::mem::forget(report);
    std::mem::forget(loaded);
    code
}

/// The exit code of a run whose report could not be written to a closed
/// standard output: the one the inputs earned.
fn input_code(loaded: &Loaded) -> ExitCode {
    if loaded.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Says the late errors and gives the exit code.
fn finish(
    args: &Args,
    loaded: &Loaded,
    late_errors: &[String],
    max_severity: Option<Severity>,
    mut timings: Timings,
) -> anyhow::Result<ExitCode> {
    for e in late_errors {
        say!("lockstep: error: {e}");
    }
    let failed = match (args.fail_on, max_severity) {
        (FailOn::Level(level), Some(max)) => max >= level,
        _ => false,
    };
    timings.peak();
    Ok(if !loaded.errors.is_empty() || !late_errors.is_empty() {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn loose_metrics(postures: &[NodePosture], nodes: &[lockstep_model::Node]) -> Vec<NodeMetrics> {
    postures
        .iter()
        .map(|p| NodeMetrics::of(p, nodes.iter().find(|n| n.name == p.node)))
        .collect()
}

/// What a check writes after its report: the metrics file and the record.
struct Extras<'a> {
    record: Option<&'a mut (dyn Store + 'static)>,
    /// When the check is recorded: its runs, gathered as it went.
    recording: Option<RecordingBuilder>,
    loose_nodes: &'a [lockstep_model::Node],
    metrics: Option<&'a Path>,
    /// Gathered from each cluster's report as the check went.
    cluster_metrics: Vec<ClusterMetrics>,
    loose_metrics: Vec<NodeMetrics>,
    finding_counts: FindingCounts,
    out_of_step: &'a HashMap<String, OutOfStep>,
}

impl Extras<'_> {
    /// Writes both; returns what failed.
    fn write(self, sources: &lockstep_check::sources::Sources) -> Vec<String> {
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
                &self.loose_metrics,
                &self.finding_counts,
            );
            let written =
                crate::output::Output::resolve(Some(path)).and_then(|o| o.write(body.as_bytes()));
            if let Err(e) = written {
                errors.push(format!("{e:#}"));
            }
        }
        if let (Some(store), Some(builder)) = (self.record, self.recording) {
            let rec = builder.finish(self.loose_nodes, stamp, jiff::Timestamp::now());
            match store_recording(store, &rec, false) {
                Ok(true) => errors.push("some nodes could not be recorded (above)".into()),
                Ok(false) => {}
                Err(e) => errors.push(format!("{e:#}")),
            }
        }
        errors
    }
}

/// The history a check reads (the out-of-step line) and records into,
/// opened when first needed: when there is one, or `--record` asks for it.
/// A history that cannot be opened is an error for the late errors (the
/// check goes on); a reader finding none yet is not.
pub(super) struct HistoryAccess<'g> {
    global: &'g Global,
    record: bool,
    state: HistoryState,
    /// Why it could not be opened (said after the report).
    errors: Vec<String>,
}

enum HistoryState {
    Unopened,
    Open(Box<dyn Store>),
    None,
}

impl<'g> HistoryAccess<'g> {
    pub(super) fn new(global: &'g Global, record: bool) -> Self {
        HistoryAccess {
            global,
            record,
            state: HistoryState::Unopened,
            errors: Vec::new(),
        }
    }

    /// The store, opened now if it was not.
    pub(super) fn store(&mut self) -> Option<&mut (dyn Store + 'static)> {
        if let HistoryState::Unopened = self.state {
            self.state = match self.open() {
                Some(s) => HistoryState::Open(s),
                None => HistoryState::None,
            };
        }
        match &mut self.state {
            HistoryState::Open(s) => Some(s.as_mut()),
            _ => None,
        }
    }

    fn open(&mut self) -> Option<Box<dyn Store>> {
        let (target, explicit) = crate::cmd::history::target(self.global);
        if !(self.record || explicit || target.exists()) {
            return None;
        }
        match target.open(self.record) {
            Ok(s) => Some(s),
            Err(HistoryError::NotFound(_)) if !self.record => None,
            Err(e) => {
                self.errors.push(e.to_string());
                None
            }
        }
    }

    /// Drops the store: it could not be read.
    pub(super) fn close(&mut self) {
        self.state = HistoryState::None;
    }

    /// Why the history could not be opened, once.
    pub(super) fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    /// What the history says about each cluster of the inventory that is
    /// out of step now; a history that cannot be read is a late error and
    /// is not used.
    fn out_of_step(
        &mut self,
        inventory: &Inventory,
        late_errors: &mut Vec<String>,
    ) -> HashMap<String, OutOfStep> {
        let mut out = HashMap::new();
        let Some(store) = self.store() else {
            late_errors.extend(self.take_errors());
            return out;
        };
        let (runs, _) = lockstep_history::record::runs_of(inventory, &[]);
        for run in &runs {
            match lockstep_history::out_of_step(store, run) {
                Ok(Some(o)) => {
                    out.insert(run.cluster.clone(), o);
                }
                Ok(None) => {}
                Err(e) => {
                    late_errors.push(e.to_string());
                    self.close();
                    return HashMap::new();
                }
            }
        }
        out
    }
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
    store_recording(store, &rec, to_stdout)
}

/// Writes a recording and says what was stored (see [`record`]).
fn store_recording(
    store: &mut dyn Store,
    rec: &lockstep_history::Recording,
    to_stdout: bool,
) -> anyhow::Result<bool> {
    for n in &rec.notes {
        say!("lockstep: note: {n}");
    }
    for e in &rec.errors {
        say!("lockstep: not recorded: {e}");
    }
    let out = store.record(rec)?;
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
pub(super) struct Timings {
    last: Option<std::time::Instant>,
}

impl Timings {
    pub(super) fn from_env() -> Self {
        Timings {
            last: std::env::var_os("LOCKSTEP_TIMINGS").map(|_| std::time::Instant::now()),
        }
    }

    pub(super) fn mark(&mut self, phase: &str) {
        if let Some(last) = self.last {
            say!("lockstep: {phase} {:.3} s", last.elapsed().as_secs_f64());
            self.last = Some(std::time::Instant::now());
        }
    }

    /// The process's peak resident memory so far (Linux: `VmHWM` of
    /// /proc/self/status), as the last line of the timings.
    fn peak(&mut self) {
        if self.last.is_none() {
            return;
        }
        let peak = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .map(|v| v.trim().to_string())
            });
        if let Some(peak) = peak {
            say!("lockstep: peak resident memory {peak}");
        }
        if let Some(bytes) = crate::heap::peak() {
            say!("lockstep: peak heap {} kB", bytes / 1024);
        }
    }
}
