//! What `check --format html` puts on the page beyond the check's report:
//! when it was generated, when the inputs were collected, the catalog's
//! date, both plans per cluster as ordered steps, and the known issues the
//! findings rest on.

use lockstep_catalog::known_issues::KnownIssues;
use lockstep_check::knowledge::Knowledge;
use lockstep_check::run::{CatalogInfo, CheckReport};
use lockstep_check::sources::Sources;
use lockstep_model::{CollectedBasis, Inventory};
use lockstep_plan::{Plan, Target, format_duration, node_heading, report_plans, step_lines};
use lockstep_report::html::{HtmlInputs, KnownIssueView, NodeStepsView, PlanView, WaveView};
use std::path::Path;

pub fn inputs(
    inventory: &Inventory,
    report: &CheckReport,
    sources: &Sources,
    knowledge: &dyn Knowledge,
) -> HtmlInputs {
    // The page for the change ticket carries both plans, so the board
    // sees what each target would do.
    let targets: &[Target] = if lockstep_report::html::is_fleet(report) {
        &[]
    } else {
        &[Target::Secure, Target::Converge]
    };
    let plans = targets
        .iter()
        .copied()
        .flat_map(|t| {
            report_plans(inventory, &report.clusters, knowledge, t)
                .into_iter()
                .map(move |(cluster, plan)| plan_view(&cluster, t, plan))
        })
        .collect();
    HtmlInputs {
        generated_at: minutes(jiff::Timestamp::now()),
        collected: collected(inventory),
        catalog_date: catalog_date(&sources.catalog_info()),
        plans,
        known_issues: known_issues(report, &sources.known),
    }
}

fn minutes(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// The range of the nodes' collection times, and what they rest on.
fn collected(inventory: &Inventory) -> Option<String> {
    let times: Vec<_> = inventory
        .all_nodes()
        .filter_map(|n| n.collected_at)
        .collect();
    let first = times.iter().map(|c| c.at).min()?;
    let last = times.iter().map(|c| c.at).max()?;
    let input = times.iter().any(|c| c.basis == CollectedBasis::Input);
    let files = times
        .iter()
        .any(|c| c.basis == CollectedBasis::FileModified);
    let basis = match (input, files) {
        (true, false) => "as the snapshots say",
        (false, true) => "the capture files' modification times",
        _ => "snapshots and capture files' modification times",
    };
    let (first, last) = (minutes(first), minutes(last));
    let range = if first == last {
        first
    } else {
        format!("{first} – {last}")
    };
    let unknown = inventory.all_nodes().count() - times.len();
    Some(if unknown == 0 {
        format!("{range} ({basis})")
    } else {
        format!("{range} ({basis}; unknown for {unknown} node(s))")
    })
}

/// What the catalog is as of: its newest dated document (MSRC's monthly
/// documents carry a release date), else its documents by name (WES-NG's
/// names carry theirs: `CVEs_20260628.csv`), and when it was imported.
/// The stamp is the one `check --record` takes (the bundled catalog's too).
fn catalog_date(info: &CatalogInfo) -> Option<String> {
    let stamp = crate::cmd::sources::catalog_stamp(info)?.ok()?;
    let mut parts = Vec::new();
    match stamp.newest_release {
        Some(d) => parts.push(format!("newest document released {d}")),
        None => {
            // The bundled catalog's path is its name, not a file.
            let path = info.path.as_deref().filter(|_| !info.bundled)?;
            let docs = lockstep_catalog::Store::open(Path::new(path))
                .and_then(|s| s.documents())
                .ok()?;
            let names: Vec<String> = docs
                .iter()
                .take(3)
                .map(|d| format!("{}:{}", d.kind.as_str(), d.name))
                .collect();
            if !names.is_empty() {
                parts.push(format!(
                    "{}{}",
                    names.join(", "),
                    if docs.len() > 3 {
                        format!(" and {} more", docs.len() - 3)
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    if let Some(t) = stamp.imported_at {
        parts.push(format!("imported {}", minutes(t)));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn plan_view(cluster: &str, target: Target, plan: Result<Plan, String>) -> PlanView {
    let plan = match plan {
        Ok(p) => p,
        Err(why) => {
            return PlanView {
                cluster: cluster.to_string(),
                target: target.label().into(),
                status: "refused".into(),
                summary: why,
                refusals: Vec::new(),
                warnings: Vec::new(),
                removals: Vec::new(),
                left_alone: Vec::new(),
                waves: Vec::new(),
                untouched: Vec::new(),
                quorum: String::new(),
                capacity: Vec::new(),
                gates: Vec::new(),
                unverified: Vec::new(),
            };
        }
    };
    let waves = plan
        .waves
        .iter()
        .map(|w| WaveView {
            nodes: w
                .nodes
                .iter()
                .filter_map(|n| plan.node(n))
                .map(|n| NodeStepsView {
                    heading: node_heading(n),
                    steps: step_lines(n),
                })
                .collect(),
            soak: w
                .soak_seconds
                .map(|s| format!("soak {} before the next node (canary)", format_duration(s))),
        })
        .collect();
    PlanView {
        cluster: cluster.to_string(),
        target: target.label().into(),
        status: serde_json::to_value(plan.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        summary: plan.summary.clone(),
        refusals: plan.refusals.clone(),
        warnings: plan.warnings.clone(),
        removals: plan.removals.iter().map(|r| r.window.clone()).collect(),
        left_alone: plan.left_alone.iter().map(|l| l.reason.clone()).collect(),
        waves,
        untouched: plan.untouched.clone(),
        quorum: plan.quorum.explanation.clone(),
        capacity: plan
            .capacity
            .iter()
            .map(|c| c.explanation.clone())
            .collect(),
        gates: plan.gates.clone(),
        unverified: plan.unverified.clone(),
    }
}

/// Every known issue a finding cites, in the order first cited.
fn known_issues(report: &CheckReport, db: &KnownIssues) -> Vec<KnownIssueView> {
    let mut ids: Vec<&str> = Vec::new();
    for f in &report.findings {
        for id in &f.known_issues {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
    }
    ids.into_iter()
        .filter_map(|id| db.get(id))
        .map(|k| KnownIssueView {
            id: k.id.clone(),
            title: k.title.clone(),
            severity: k.severity.as_str().into(),
            markdown: k.description.clone(),
            fix_steps: k.fix_steps.clone(),
            references: k.references.clone(),
        })
        .collect()
}
