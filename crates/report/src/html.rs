//! The self-contained HTML report: one file, inline CSS and JS, no external
//! request, printable. Every value from the inputs goes through minijinja's
//! HTML auto-escaping (host names and file paths are input data), after
//! [`lockstep_model::term`] replaced control characters and bidi controls
//! (a U+202E in a host name must not reorder what the change board reads).

use lockstep_check::Severity;
use lockstep_check::drift::{Cell as DriftCell, DriftClass};
use lockstep_check::posture::NodePosture;
use lockstep_check::run::CheckReport;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

const TEMPLATE: &str = include_str!("templates/report.html.j2");

#[derive(Serialize)]
struct View {
    title: String,
    version: String,
    catalog: String,
    catalog_limits: Option<String>,
    as_of: Option<String>,
    counts: Counts,
    node_count: usize,
    input_errors: Vec<String>,
    input_warnings: Vec<String>,
    clusters: Vec<ClusterView>,
    loose: Vec<PostureView>,
    findings: Vec<FindingView>,
}

#[derive(Serialize)]
struct Counts {
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct ClusterView {
    name: String,
    nodes: Vec<lockstep_check::drift::NodeSummary>,
    common: usize,
    validation: lockstep_check::drift::ValidationVerdict,
    rows: Vec<RowView>,
    groups: Vec<GroupView>,
    posture: Vec<PostureView>,
    plans: Vec<PlanView>,
}

#[derive(Serialize)]
struct RowView {
    kb: String,
    title: Option<String>,
    search: String,
    cells: Vec<CellView>,
}

#[derive(Serialize)]
struct CellView {
    class: &'static str,
    label: String,
    title: String,
}

#[derive(Serialize)]
struct GroupView {
    class: &'static str,
    summary: String,
    search: String,
}

#[derive(Serialize)]
struct PostureView {
    node: String,
    product: String,
    note: Option<String>,
    lines: Vec<String>,
    search: String,
}

/// A plan rendered as text by the plan stage, shown per cluster.
#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub cluster: String,
    pub target: String,
    pub text: String,
}

#[derive(Serialize)]
struct FindingView {
    severity: String,
    code: String,
    cluster: Option<String>,
    nodes: Vec<String>,
    title: String,
    detail: String,
    evidence: Vec<EvidenceView>,
    fix: Option<String>,
    commands: Vec<String>,
    known_issues: Vec<String>,
    search: String,
}

#[derive(Serialize)]
struct EvidenceView {
    source: String,
    note: String,
}

fn class_css(c: DriftClass) -> &'static str {
    c.label()
}

fn posture_view(p: &NodePosture) -> PostureView {
    let mut lines = Vec::new();
    for prod in &p.products {
        for h in &prod.missing {
            let mut l = format!("{} [{}]", h.kb, prod.product);
            if let Some(d) = h.release_date {
                l.push_str(&format!(" released {d}"));
            }
            if !h.folds.is_empty() {
                l.push_str(&format!(
                    "; supersedes {}",
                    h.folds
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if !prod.applicable {
                l.push_str(" (only if the product is installed)");
            }
            lines.push(l);
        }
    }
    let product = p.product.clone().unwrap_or_else(|| "unknown".into());
    PostureView {
        search: format!("{} {} {}", p.node, product, lines.join(" ")),
        node: p.node.clone(),
        product,
        note: p.note.clone(),
        lines,
    }
}

pub fn render_html(
    report: &CheckReport,
    title: &str,
    plans: &[PlanView],
) -> Result<String, String> {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
    let clusters = report
        .clusters
        .iter()
        .map(|c| {
            let d = &c.drift;
            let rows = d
                .rows
                .iter()
                .map(|r| {
                    let mut search = r.kb.to_string();
                    let cells = r
                        .cells
                        .iter()
                        .zip(&d.nodes)
                        .map(|(cell, node)| match cell {
                            DriftCell::Present {
                                installed_on,
                                source,
                            } => {
                                search.push_str(&format!(" {} installed", node.name));
                                CellView {
                                    class: "present",
                                    label: installed_on
                                        .map(|d| d.to_string())
                                        .unwrap_or_else(|| "installed".into()),
                                    title: format!("{} on {}: {}", r.kb, node.name, source),
                                }
                            }
                            DriftCell::Absent { class } => {
                                search.push_str(&format!(" {} {}", node.name, class.label()));
                                CellView {
                                    class: class_css(*class),
                                    label: class.label().into(),
                                    title: format!(
                                        "{} absent on {}: {}",
                                        r.kb,
                                        node.name,
                                        class.label()
                                    ),
                                }
                            }
                        })
                        .collect();
                    RowView {
                        kb: r.kb.to_string(),
                        title: r.title.clone(),
                        search,
                        cells,
                    }
                })
                .collect();
            ClusterView {
                name: c.name.clone(),
                nodes: d.nodes.clone(),
                common: d.common_updates,
                validation: d.validation.clone(),
                rows,
                groups: d
                    .groups
                    .iter()
                    .map(|g| GroupView {
                        class: g.class.label(),
                        summary: g.summary.clone(),
                        search: format!("{} {} {}", g.kb, g.class.label(), g.summary),
                    })
                    .collect(),
                posture: c.posture.iter().map(posture_view).collect(),
                plans: plans
                    .iter()
                    .filter(|p| p.cluster == c.name)
                    .cloned()
                    .collect(),
            }
        })
        .collect();
    let findings = report
        .findings
        .iter()
        .map(|f| FindingView {
            severity: f.severity.to_string(),
            code: f.code.to_string(),
            cluster: f.cluster.clone(),
            nodes: f.nodes.clone(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            evidence: f
                .evidence
                .iter()
                .map(|e| EvidenceView {
                    source: e.source.to_string(),
                    note: e.note.clone(),
                })
                .collect(),
            fix: f.fix.as_ref().map(|x| x.text.clone()),
            commands: f
                .fix
                .as_ref()
                .map(|x| x.commands.clone())
                .unwrap_or_default(),
            known_issues: f.known_issues.clone(),
            search: format!(
                "{} {} {} {} {} {}",
                f.severity,
                f.code,
                f.cluster.as_deref().unwrap_or(""),
                f.nodes.join(" "),
                f.title,
                f.detail
            ),
        })
        .collect();
    let view = View {
        title: title.to_string(),
        version: report.lockstep_version.clone(),
        catalog: match (&report.catalog.available, &report.catalog.path) {
            (true, Some(p)) => p.clone(),
            (true, None) => "loaded".into(),
            (false, _) => "none".into(),
        },
        catalog_limits: report.catalog.limits.clone(),
        as_of: report.as_of.map(|d| d.to_string()),
        counts: Counts {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
        },
        node_count: report
            .clusters
            .iter()
            .map(|c| c.drift.nodes.len())
            .sum::<usize>()
            + report.loose_nodes.len(),
        input_errors: report.input_errors.clone(),
        input_warnings: report.input_warnings.clone(),
        clusters,
        loose: report.loose_nodes.iter().map(posture_view).collect(),
        findings,
    };
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(|out, state, value| {
        if let Some(text) = value.as_str().filter(|_| !value.is_safe()) {
            let clean =
                lockstep_model::term::terminal_safe(text, lockstep_model::term::Lines::Keep);
            if let std::borrow::Cow::Owned(clean) = clean {
                return minijinja::escape_formatter(out, state, &minijinja::Value::from(clean));
            }
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| format!("report template: {e}"))?;
    let tmpl = env
        .get_template("report.html")
        .map_err(|e| format!("report template: {e}"))?;
    tmpl.render(minijinja::value::Serde(view))
        .map_err(|e| format!("rendering the HTML report: {e:#}"))
}
