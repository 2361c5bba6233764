//! The self-contained HTML report: one file, inline CSS and JS, no external
//! request, printable. Every value from the inputs goes through minijinja's
//! HTML auto-escaping (host names and file paths are input data), after
//! [`lockstep_model::term`] replaced control characters and bidi controls
//! (a U+202E in a host name must not reorder what the change board reads).
//! Prose is escaped by [`crate::markup`], which also makes its web
//! addresses links; known issues are rendered from their Markdown.
//!
//! A fleet stays one small page: each cluster is a `<details>` section, and
//! when the sections together are large their bodies travel gzip-compressed
//! (base64 in a `<script type="application/x-lockstep-gzip">`, which the
//! browser does not parse as HTML) and are unpacked by the page's script
//! when a section is opened. A page of one cluster is plain HTML, open.

use crate::html_views::{ClusterView, Counts, FindingView, PostureView};
pub use crate::html_views::{KnownIssueView, NodeStepsView, PlanView, WaveView};
use lockstep_check::Finding;
use lockstep_check::run::CheckReport;
use minijinja::{AutoEscape, Environment, Value};
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write as _;

const PAGE: &str = include_str!("templates/report.html.j2");
const CLUSTER: &str = include_str!("templates/cluster.html.j2");
const MACROS: &str = include_str!("templates/macros.html.j2");

/// Cluster sections larger than this in all are sent compressed.
const PACK_ABOVE_BYTES: usize = 2 << 20;
/// A page about more nodes than this is a fleet's overview: its cluster
/// sections leave out the plans and the evidence (each says how to get
/// them), which are most of a section and would make a page of thousands
/// of nodes too large to open.
const FLEET_NODES: usize = 400;
/// Clusters named in the page's title; more are counted.
const TITLE_CLUSTERS: usize = 3;

/// What the page says beyond the check's report.
#[derive(Debug, Clone, Default)]
pub struct HtmlInputs {
    /// "2026-12-05 02:10 UTC".
    pub generated_at: String,
    /// When the inputs were collected, and what says so.
    pub collected: Option<String>,
    /// The catalog's date ("newest update released 2026-06-09, imported …").
    pub catalog_date: Option<String>,
    pub plans: Vec<PlanView>,
    /// The known issues the findings rest on.
    pub known_issues: Vec<KnownIssueView>,
}

#[derive(Serialize)]
struct Section {
    name: String,
    index: usize,
    /// Cluster and node names, for the filter box when the body is packed.
    search: String,
    line: String,
    counts: Counts,
    will_warn: bool,
    nodes: usize,
    missing: usize,
    body: Option<Value>,
    /// gzip, base64: no character HTML escapes.
    packed: Option<Value>,
}

#[derive(Serialize)]
struct KnownIssueHtml {
    id: String,
    title: String,
    severity: String,
    body: Value,
    fix_steps: Vec<String>,
    references: Vec<String>,
}

#[derive(Serialize)]
struct Page {
    title: String,
    version: String,
    generated_at: String,
    collected: Option<String>,
    catalog: String,
    catalog_date: Option<String>,
    catalog_limits: Option<String>,
    /// The bundled catalog, or data too old (what is not judged).
    catalog_notice: Option<String>,
    as_of: Option<String>,
    counts: Counts,
    node_count: usize,
    input_errors: Vec<String>,
    input_warnings: Vec<String>,
    clusters: Vec<Section>,
    packed: bool,
    loose: Option<PostureView>,
    findings: Vec<FindingView>,
    known_issues: Vec<KnownIssueHtml>,
}

/// The page's title: the clusters it is about (never a file path).
pub fn page_title(report: &CheckReport) -> String {
    let names: Vec<&str> = report.clusters.iter().map(|c| c.name.as_str()).collect();
    let loose = report.loose_nodes.len();
    let mut title = match names.len() {
        0 => String::new(),
        n if n <= TITLE_CLUSTERS => names.join(", "),
        n => format!("{} … {} ({n} clusters)", names[0], names[n - 1]),
    };
    if loose > 0 {
        if !title.is_empty() {
            title.push_str(" and ");
        }
        title.push_str(&match (loose, report.loose_nodes.first()) {
            (1, Some(p)) => format!("node {}", p.node),
            _ => format!("{loose} nodes"),
        });
    }
    if title.is_empty() {
        title.push_str("no nodes");
    }
    title
}

fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_formatter(|out, state, value| {
        if let Some(text) = value.as_str().filter(|_| !value.is_safe()) {
            let clean =
                lockstep_model::term::terminal_safe(text, lockstep_model::term::Lines::Keep);
            if let std::borrow::Cow::Owned(clean) = clean {
                return minijinja::escape_formatter(out, state, &Value::from(clean));
            }
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_filter("linkify", |s: String| {
        Value::from_safe_string(crate::markup::linkify(&s))
    });
    for (name, source) in [
        ("macros.html", MACROS),
        ("cluster.html", CLUSTER),
        ("report.html", PAGE),
    ] {
        env.add_template(name, source)
            .map_err(|e| format!("report template {name}: {e}"))?;
    }
    Ok(env)
}

fn render(env: &Environment<'_>, name: &str, ctx: impl Serialize) -> Result<String, String> {
    env.get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(ctx)))
        .map_err(|e| format!("rendering the HTML report: {e:#}"))
}

fn gzip_base64(s: &str) -> Result<String, String> {
    use base64::Engine as _;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(s.as_bytes())
        .and_then(|()| z.finish())
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .map_err(|e| format!("compressing the HTML report: {e}"))
}

fn node_count(report: &CheckReport) -> usize {
    report
        .clusters
        .iter()
        .map(|c| c.drift.nodes.len())
        .sum::<usize>()
        + report.loose_nodes.len()
}

/// Whether the page is a fleet's overview, whose sections carry no plans
/// (the caller need not make them).
pub fn is_fleet(report: &CheckReport) -> bool {
    node_count(report) > FLEET_NODES
}

pub fn render_html(report: &CheckReport, inputs: &HtmlInputs) -> Result<String, String> {
    let env = environment()?;
    let known = &inputs.known_issues;
    let node_count = node_count(report);
    let lean = is_fleet(report);
    // Each cluster's body, rendered in parallel (a fleet has a thousand).
    let bodies: Vec<(ClusterView, String)> = report
        .clusters
        .par_iter()
        .map(|c| {
            let findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.cluster.as_deref() == Some(c.name.as_str()))
                .collect();
            let view = ClusterView::of(c, &findings, &inputs.plans, known, lean);
            let body = render(&env, "cluster.html", &view)?;
            Ok((view, body))
        })
        .collect::<Result<_, String>>()?;
    let packed =
        bodies.len() > 1 && bodies.iter().map(|b| b.1.len()).sum::<usize>() > PACK_ABOVE_BYTES;
    let clusters = bodies
        .into_par_iter()
        .zip(report.clusters.par_iter())
        .enumerate()
        .map(|(i, ((view, body), c))| {
            let nodes: Vec<&str> = c.drift.nodes.iter().map(|n| n.name.as_str()).collect();
            Ok(Section {
                index: i + 1,
                search: format!("{} {}", c.name, nodes.join(" ")),
                line: section_line(&view, nodes.len()),
                name: view.name,
                counts: view.counts,
                will_warn: view.will_warn,
                nodes: nodes.len(),
                missing: view.missing,
                packed: if packed {
                    Some(Value::from_safe_string(gzip_base64(&body)?))
                } else {
                    None
                },
                body: (!packed).then(|| Value::from_safe_string(body)),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let page = Page {
        title: page_title(report),
        version: report.lockstep_version.clone(),
        generated_at: inputs.generated_at.clone(),
        collected: inputs.collected.clone(),
        catalog: match (&report.catalog.available, &report.catalog.path) {
            (true, Some(p)) => p.clone(),
            (true, None) => "loaded".into(),
            (false, _) => "none".into(),
        },
        catalog_date: inputs.catalog_date.clone(),
        catalog_limits: report.catalog.limits.clone(),
        catalog_notice: report.catalog.notice.clone(),
        as_of: report.as_of.map(|d| d.to_string()),
        counts: Counts::of(&report.findings),
        node_count,
        input_errors: report.input_errors.clone(),
        input_warnings: report.input_warnings.clone(),
        clusters,
        packed,
        loose: (!report.loose_nodes.is_empty()).then(|| PostureView::of(&report.loose_nodes)),
        findings: report
            .findings
            .iter()
            .filter(|f| {
                f.cluster
                    .as_deref()
                    .is_none_or(|c| !report.clusters.iter().any(|x| x.name == c))
            })
            .map(|f| FindingView::of(f, known, lean))
            .collect(),
        known_issues: known
            .iter()
            .map(|k| KnownIssueHtml {
                id: k.id.clone(),
                title: k.title.clone(),
                severity: k.severity.clone(),
                body: Value::from_safe_string(crate::markup::markdown(&k.markdown)),
                fix_steps: k.fix_steps.clone(),
                references: k.references.clone(),
            })
            .collect(),
    };
    render(&env, "report.html", &page)
}

/// "8 nodes · 3 errors, 1 warning · 16 updates missing · validation will warn".
fn section_line(v: &ClusterView, nodes: usize) -> String {
    let mut parts = vec![format!("{nodes} node{}", if nodes == 1 { "" } else { "s" })];
    let c = &v.counts;
    parts.push(format!(
        "{} error{}, {} warning{}, {} info",
        c.error,
        if c.error == 1 { "" } else { "s" },
        c.warning,
        if c.warning == 1 { "" } else { "s" },
        c.info
    ));
    if v.missing > 0 {
        parts.push(format!(
            "{} update{} missing",
            v.missing,
            if v.missing == 1 { "" } else { "s" }
        ));
    }
    parts.push(
        if v.will_warn {
            "cluster validation will warn"
        } else {
            "cluster validation passes"
        }
        .into(),
    );
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_check::run::{CatalogInfo, CheckOptions, check};
    use lockstep_check::sources::NoCatalog;

    /// The example cluster `copies` times, named by `name(i)`, checked
    /// without a catalog as `catalog` says.
    fn example_report(
        copies: usize,
        name: impl Fn(usize) -> String,
        catalog: CatalogInfo,
    ) -> CheckReport {
        let dir = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/kb2616676"
        ));
        let loaded = lockstep_ingest::load_paths(&[dir]);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let template = loaded.inventory.clusters[0].clone();
        let mut inv = lockstep_model::Inventory::default();
        for c in 0..copies {
            let mut cluster = template.clone();
            cluster.name = name(c);
            inv.clusters.push(cluster);
        }
        check(
            &inv,
            &NoCatalog,
            None,
            catalog,
            &CheckOptions {
                as_of: Some(jiff::civil::date(2024, 1, 1)),
            },
        )
    }

    fn no_catalog() -> CatalogInfo {
        CatalogInfo {
            available: false,
            path: None,
            limits: Some("no catalog".into()),
            bundled: false,
            data_date: None,
            notice: None,
        }
    }

    /// A fleet's page names the command that gives a cluster's plan; the
    /// cluster's name is input and is quoted as one shell word there
    /// (then HTML-escaped), never pasted bare.
    #[cfg(unix)]
    #[test]
    fn a_fleets_plan_command_quotes_the_cluster_name() {
        // The example has 4 nodes: one cluster more than a fleet's limit.
        let clusters = FLEET_NODES / 4 + 1;
        let report = example_report(
            clusters,
            |c| {
                if c == 0 {
                    "Prod $(reboot) O'Brien".into()
                } else {
                    format!("C{c:03}")
                }
            },
            no_catalog(),
        );
        assert!(is_fleet(&report));
        let html = render_html(&report, &HtmlInputs::default()).unwrap();
        let commands: Vec<&str> = html
            .match_indices("<code>lockstep plan INPUTS --cluster ")
            .map(|(at, m)| {
                let rest = &html[at + m.len()..];
                &rest[..rest.find(" --target").unwrap()]
            })
            .collect();
        assert_eq!(commands.len(), clusters);
        // 'Prod $(reboot) O'\''Brien', escaped for HTML.
        assert_eq!(
            commands[0],
            "&#x27;Prod $(reboot) O&#x27;\\&#x27;&#x27;Brien&#x27;"
        );
        assert_eq!(commands[1], "C001");
    }

    /// The catalog's notice (the bundled catalog, or data too old: updates
    /// released since are not judged) is on the page, as in the text report.
    #[test]
    fn the_catalogs_notice_is_on_the_page() {
        let notice = "bundled catalog of 2026-06-28 (160 days old: updates released since are not judged); `lockstep catalog update` for current data";
        let report = example_report(
            1,
            |_| "HVCLU01".into(),
            CatalogInfo {
                notice: Some(notice.into()),
                ..no_catalog()
            },
        );
        let html = render_html(&report, &HtmlInputs::default()).unwrap();
        assert_eq!(
            html.matches(&format!("<div class=\"verdict warn\">{notice}</div>"))
                .count(),
            1
        );
    }
}
