//! `lockstep check` as a stream: each cluster is read, judged, rendered
//! into a temporary file and dropped before the next is read, so memory
//! holds the catalog and the clusters in flight, never the fleet.
//!
//! The report is byte for byte the one a check of the whole inventory
//! writes (`check()` and the whole-report renderers; a test holds them
//! equal): its head (how many clusters and nodes, the input errors and
//! warnings) is known only once every input is read, and its findings are
//! sorted across clusters, so the clusters' parts and the rendered
//! findings wait on disk ([`lockstep_report::spill`]) until the head is
//! written. When a later input adds to a cluster already judged (a folder
//! and a snapshot of the same cluster), or the history cannot be read, the
//! pass is void and a second pass runs: it holds those clusters until the
//! end, or runs without the history, as the whole check would have.

use super::{Args, HistoryAccess, Timings};
use crate::cmd::OutputFormat;
use lockstep_check::Finding;
use lockstep_check::run::{ClusterReport, Judge};
use lockstep_history::{OutOfStep, RecordingBuilder};
use lockstep_model::Cluster;
use lockstep_report::metrics::{ClusterMetrics, FindingCounts};
use lockstep_report::spill::{FindingRuns, Segments};
use lockstep_report::{TextOptions, json, text};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::Path;

/// How the clusters' parts and findings are rendered.
#[derive(Debug, Clone, Copy)]
pub(super) enum Render {
    Text(TextOptions),
    Json,
}

impl Render {
    pub(super) fn of(format: OutputFormat, o: TextOptions) -> Render {
        match format {
            OutputFormat::Json => Render::Json,
            _ => Render::Text(o),
        }
    }

    /// A cluster's part of the report (JSON: with its leading `,`),
    /// safe for where it is written.
    fn cluster(self, c: &ClusterReport, history: Option<&str>) -> io::Result<Vec<u8>> {
        match self {
            Render::Text(o) => {
                let mut s = String::new();
                text::cluster_text_with(&mut s, c, history, o);
                Ok(text::terminal_safe(s, o).into_bytes())
            }
            Render::Json => json_safe(json::cluster_json(c)?),
        }
    }

    pub(super) fn finding(self, f: &Finding) -> io::Result<Vec<u8>> {
        match self {
            Render::Text(o) => Ok(text::finding_bytes(f, o)),
            Render::Json => json_safe(json::finding_json(f)?),
        }
    }
}

/// Bidi and C1 controls from the inputs as `\uXXXX` escapes (what the
/// report's JSON writer does to everything it writes).
fn json_safe(bytes: Vec<u8>) -> io::Result<Vec<u8>> {
    let s = String::from_utf8(bytes).map_err(io::Error::other)?;
    Ok(lockstep_model::term::json_safe(s).into_bytes())
}

/// Clusters judged at once (in parallel), at most.
const CHUNK_CLUSTERS: usize = 64;
/// Nodes judged at once, at most (a larger cluster is judged alone). The
/// chunk in flight is most of a check's peak above the catalog: at 512
/// its heap varied by a fifth with how clusters fell into chunks
/// (tests/scale.rs); 256 keeps both threads busy as well.
const CHUNK_NODES: usize = 256;

/// One pass over the inputs.
pub(super) struct Pass<'a> {
    judge: Option<&'a Judge<'a>>,
    render: Render,
    pending: Vec<(usize, Cluster)>,
    pending_nodes: usize,
    pub(super) body: Segments,
    pub(super) findings: FindingRuns,
    pub(super) companions: BTreeSet<String>,
    /// Nodes of the clusters judged.
    pub(super) nodes: usize,
    pub(super) out_of_step: HashMap<String, OutOfStep>,
    /// Per cluster, when the metrics are asked for.
    pub(super) metrics: Option<Vec<ClusterMetrics>>,
    pub(super) counts: FindingCounts,
    /// When the check is recorded.
    pub(super) recording: Option<RecordingBuilder>,
    /// The history could not be read: the pass is void.
    pub(super) history_failed: Option<String>,
    /// A temporary file could not be written: the check stops.
    pub(super) failed: Option<io::Error>,
}

impl<'a> Pass<'a> {
    /// `judge`: `None` only reads the inputs (the catalog or the output is
    /// refused, and that is all the check will say).
    pub(super) fn new(
        judge: Option<&'a Judge<'a>>,
        render: Render,
        spill_dir: Option<&Path>,
        args: &Args,
    ) -> io::Result<Pass<'a>> {
        Ok(Pass {
            judge,
            render,
            pending: Vec::new(),
            pending_nodes: 0,
            body: Segments::new(spill_dir)?,
            findings: FindingRuns::new(spill_dir)?,
            companions: BTreeSet::new(),
            nodes: 0,
            out_of_step: HashMap::new(),
            metrics: args.metrics.is_some().then(Vec::new),
            counts: FindingCounts::default(),
            recording: args.record.then(RecordingBuilder::default),
            history_failed: None,
            failed: None,
        })
    }

    fn void(&self) -> bool {
        self.judge.is_none() || self.history_failed.is_some() || self.failed.is_some()
    }

    /// Takes the cluster at `position` as the loader hands it on.
    pub(super) fn add(&mut self, position: usize, c: Cluster, history: &mut HistoryAccess<'_>) {
        self.nodes += c.nodes.len();
        if self.void() {
            return;
        }
        self.pending_nodes += c.nodes.len();
        self.pending.push((position, c));
        if self.pending.len() >= CHUNK_CLUSTERS || self.pending_nodes >= CHUNK_NODES {
            self.flush(history);
        }
    }

    /// Judges, renders and writes away the clusters waiting.
    pub(super) fn flush(&mut self, history: &mut HistoryAccess<'_>) {
        let pending = std::mem::take(&mut self.pending);
        self.pending_nodes = 0;
        let Some(judge) = self.judge.filter(|_| !self.void()) else {
            return;
        };
        if pending.is_empty() {
            return;
        }
        let lines = self.history_lines(&pending, history);
        if self.void() {
            return;
        }
        let render = self.render;
        let want_metrics = self.metrics.is_some();
        let judged: Vec<io::Result<Judged>> = pending
            .par_iter()
            .zip(lines)
            .map(|((_, c), line)| {
                let j = judge.cluster(c);
                let metrics = want_metrics.then(|| ClusterMetrics::of(&j.report, Some(c)));
                let body = render.cluster(&j.report, line.as_deref())?;
                let rendered = j
                    .findings
                    .iter()
                    .map(|f| render.finding(f))
                    .collect::<io::Result<Vec<_>>>()?;
                Ok(Judged {
                    body,
                    findings: j.findings,
                    rendered,
                    companions: j.companions,
                    metrics,
                })
            })
            .collect();
        for ((position, c), j) in pending.iter().zip(judged) {
            if let Err(e) = j.and_then(|j| self.keep(*position, c, j)) {
                self.failed = Some(e);
                return;
            }
        }
    }

    /// What the history says of each cluster: the out-of-step line.
    fn history_lines(
        &mut self,
        pending: &[(usize, Cluster)],
        history: &mut HistoryAccess<'_>,
    ) -> Vec<Option<String>> {
        let Some(store) = history.store() else {
            return vec![None; pending.len()];
        };
        let mut lines = Vec::with_capacity(pending.len());
        for (_, c) in pending {
            let run = lockstep_history::run_of(c, []).0;
            let line = match run.map(|run| lockstep_history::out_of_step(store, &run)) {
                Some(Ok(Some(o))) => {
                    let line = text::out_of_step_line(&o);
                    self.out_of_step.insert(c.name.clone(), o);
                    Some(line)
                }
                Some(Ok(None)) | None => None,
                Some(Err(e)) => {
                    self.history_failed = Some(e.to_string());
                    None
                }
            };
            lines.push(line);
        }
        lines
    }

    /// Writes a judged cluster away and keeps what the end of the check
    /// needs of it.
    fn keep(&mut self, position: usize, c: &Cluster, j: Judged) -> io::Result<()> {
        self.body.push(position, &j.body)?;
        let group = position as u64 + 1;
        for (i, (f, bytes)) in j.findings.iter().zip(j.rendered).enumerate() {
            self.findings.push(f, (group, i as u64), &bytes)?;
            self.counts.add(f);
        }
        if let (Some(r), Some(judge)) = (&mut self.recording, self.judge) {
            r.add_cluster(position, c, &j.findings, judge.knowledge());
        }
        self.companions.extend(j.companions);
        if let (Some(all), Some(m)) = (&mut self.metrics, j.metrics) {
            all.push(m);
        }
        Ok(())
    }
}

/// One cluster judged and rendered.
struct Judged {
    body: Vec<u8>,
    findings: Vec<Finding>,
    rendered: Vec<Vec<u8>>,
    companions: Vec<String>,
    metrics: Option<ClusterMetrics>,
}

/// Runs passes until one is not void; returns it with what the loader
/// left (loose nodes, errors, warnings, files).
pub(super) fn stream<'a>(
    args: &Args,
    opts: &lockstep_ingest::LoadOptions,
    mut new_pass: impl FnMut() -> io::Result<Pass<'a>>,
    history: &mut HistoryAccess<'_>,
    late_errors: &mut Vec<String>,
    timings: &mut Timings,
) -> io::Result<(Pass<'a>, lockstep_ingest::Streamed)> {
    let mut hold = lockstep_ingest::Hold::none();
    loop {
        let mut pass = new_pass()?;
        let streamed =
            lockstep_ingest::stream_paths_with(&args.paths, opts, hold.clone(), &mut |at, c| {
                pass.add(at, c, history)
            });
        pass.flush(history);
        timings.mark("read, check and clusters");
        if let Some(e) = pass.failed.take() {
            return Err(e);
        }
        if let Some(e) = pass.history_failed.take() {
            // As a check of the whole inventory: no history lines at all,
            // and the error said after the report.
            late_errors.push(e);
            history.close();
            continue;
        }
        if !streamed.merged_late.is_empty() {
            hold = match hold {
                lockstep_ingest::Hold::Positions(mut p) => {
                    p.extend(streamed.merged_late);
                    lockstep_ingest::Hold::Positions(p)
                }
                all => all,
            };
            continue;
        }
        return Ok((pass, streamed));
    }
}
