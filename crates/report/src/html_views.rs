//! What the HTML page shows, as plain data for its templates: a cluster
//! (nodes, verdict, drift matrix, posture, plans, its findings), a finding,
//! a plan as ordered steps per node, a known issue.

use crate::posture::{PostureGroup, groups, node_summary};
use lockstep_check::drift::Cell as DriftCell;
use lockstep_check::posture::NodePosture;
use lockstep_check::run::ClusterReport;
use lockstep_check::{Finding, Severity};
use serde::Serialize;

/// A plan as the page lists it: what it does, then per wave each node's
/// steps in order. Built by the caller from the plan stage's `Plan`.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub cluster: String,
    pub target: String,
    /// `ready`, `empty` or `refused`.
    pub status: String,
    pub summary: String,
    pub refusals: Vec<String>,
    pub warnings: Vec<String>,
    /// Each update removed for a while, with its window.
    pub removals: Vec<String>,
    pub left_alone: Vec<String>,
    pub waves: Vec<WaveView>,
    pub untouched: Vec<String>,
    pub quorum: String,
    pub capacity: Vec<String>,
    /// The checks before and after every node.
    pub gates: Vec<String>,
    /// What the inventory lacked; the scripts check it live.
    pub unverified: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveView {
    pub nodes: Vec<NodeStepsView>,
    /// "soak 30m before the next node (canary)".
    pub soak: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeStepsView {
    /// "HV03 [canary] — Windows 6.1.7601, wusa.exe".
    pub heading: String,
    pub steps: Vec<String>,
}

/// A known issue a finding rests on, shown once under "Known issues".
#[derive(Debug, Clone, Serialize)]
pub struct KnownIssueView {
    pub id: String,
    pub title: String,
    pub severity: String,
    /// The issue's description, Markdown.
    pub markdown: String,
    pub fix_steps: Vec<String>,
    pub references: Vec<String>,
}

#[derive(Serialize)]
pub(crate) struct FindingView {
    severity: String,
    code: String,
    cluster: Option<String>,
    nodes: Vec<String>,
    title: String,
    detail: String,
    evidence: Vec<(String, String)>,
    fix: Option<String>,
    commands: Vec<String>,
    known_issues: Vec<String>,
}

impl FindingView {
    /// A known issue's description quoted whole in the detail is left to
    /// the Known issues section, where it is rendered from Markdown.
    /// `lean`: without the evidence (a fleet's page).
    pub(crate) fn of(f: &Finding, known: &[KnownIssueView], lean: bool) -> FindingView {
        let mut detail = f.detail.clone();
        for id in &f.known_issues {
            if let Some(k) = known.iter().find(|k| &k.id == id)
                && !k.markdown.is_empty()
                && detail.contains(&k.markdown)
            {
                detail = detail.replace(&k.markdown, &format!("See known issue {id} below."));
            }
        }
        FindingView {
            severity: f.severity.to_string(),
            code: f.code.to_string(),
            cluster: f.cluster.clone(),
            nodes: f.nodes.clone(),
            title: f.title.clone(),
            detail,
            evidence: if lean {
                Vec::new()
            } else {
                f.evidence
                    .iter()
                    .map(|e| (e.source.to_string(), e.note.clone()))
                    .collect()
            },
            fix: f.fix.as_ref().map(|x| x.text.clone()),
            commands: f
                .fix
                .as_ref()
                .map(|x| x.commands.clone())
                .unwrap_or_default(),
            known_issues: f.known_issues.clone(),
        }
    }
}

#[derive(Serialize, Default)]
pub(crate) struct Counts {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl Counts {
    pub(crate) fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }
}

#[derive(Serialize)]
struct CellView {
    class: &'static str,
    label: String,
}

#[derive(Serialize)]
struct RowView {
    kb: String,
    title: Option<String>,
    cells: Vec<CellView>,
}

/// A node's summary line.
#[derive(Serialize)]
pub(crate) struct SummaryLine {
    node: String,
    product: Option<String>,
    text: String,
}

/// Nodes' posture: a line each, then the groups' update tables.
#[derive(Serialize)]
pub(crate) struct PostureView {
    lines: Vec<SummaryLine>,
    groups: Vec<PostureGroup>,
}

impl PostureView {
    pub(crate) fn of(postures: &[NodePosture]) -> PostureView {
        PostureView {
            lines: postures
                .iter()
                .map(|p| SummaryLine {
                    node: p.node.clone(),
                    product: p.product.clone(),
                    text: node_summary(p),
                })
                .collect(),
            groups: groups(postures),
        }
    }
}

/// One cluster's section.
#[derive(Serialize)]
pub(crate) struct ClusterView {
    pub name: String,
    /// The name as a word of a `lockstep plan --cluster` line the user can
    /// paste (names are input: a space or `$(…)` must stay one word).
    cluster_word: String,
    nodes: Vec<lockstep_check::drift::NodeSummary>,
    common: usize,
    validation: lockstep_check::drift::ValidationVerdict,
    rows: Vec<RowView>,
    posture: PostureView,
    plans: Vec<PlanView>,
    findings: Vec<FindingView>,
    pub counts: Counts,
    /// Updates missing on some node (chain heads, all products).
    pub missing: usize,
    pub will_warn: bool,
    /// A fleet's page: without plans and evidence, which say where to get them.
    lean: bool,
}

impl ClusterView {
    pub(crate) fn of(
        c: &ClusterReport,
        findings: &[&Finding],
        plans: &[PlanView],
        known: &[KnownIssueView],
        lean: bool,
    ) -> ClusterView {
        let d = &c.drift;
        let rows = d
            .rows
            .iter()
            .map(|r| RowView {
                kb: r.kb.to_string(),
                title: r.title.clone(),
                cells: r
                    .cells
                    .iter()
                    .map(|cell| match cell {
                        DriftCell::Present { installed_on, .. } => CellView {
                            class: "present",
                            label: installed_on
                                .map(|d| d.to_string())
                                .unwrap_or_else(|| "installed".into()),
                        },
                        DriftCell::Absent { class } => CellView {
                            class: class.label(),
                            label: class.label().into(),
                        },
                    })
                    .collect(),
            })
            .collect();
        let mut missing: Vec<_> = c
            .posture
            .iter()
            .flat_map(|p| p.products.iter().filter(|x| x.applicable))
            .flat_map(|x| x.missing.iter().map(|h| h.kb))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        ClusterView {
            name: c.name.clone(),
            cluster_word: lockstep_model::quote::path_word(&c.name),
            nodes: d.nodes.clone(),
            common: d.common_updates,
            validation: d.validation.clone(),
            rows,
            posture: PostureView::of(&c.posture),
            plans: if lean {
                Vec::new()
            } else {
                plans
                    .iter()
                    .filter(|p| p.cluster == c.name)
                    .cloned()
                    .collect()
            },
            findings: findings
                .iter()
                .map(|f| FindingView::of(f, known, lean))
                .collect(),
            counts: Counts::of(findings.iter().copied()),
            missing: missing.len(),
            will_warn: d.validation.will_warn,
            lean,
        }
    }
}
