//! Known issues: installed products, minifilters and Defender versions matched
//! against the known-issues database.

use super::facts::{
    cluster_name, defender_status, fltmc_filters, fltmc_instances, node_filter_names,
};
use super::minifilters::MinifilterTable;
use crate::{Evidence, Finding, FindingCode, Fix, Item, ItemKind, Severity};
use lockstep_catalog::known_issues::{IssueSeverity, KnownIssue, KnownIssues};
use lockstep_model::protection::{Section, SectionStatus};
use lockstep_model::{Cluster, Node, WinVersion};

fn severity_of(s: IssueSeverity) -> Severity {
    match s {
        IssueSeverity::Info => Severity::Info,
        IssueSeverity::Warning => Severity::Warning,
        IssueSeverity::Error => Severity::Error,
    }
}

pub(super) fn parse_version(s: Option<&str>) -> Option<WinVersion> {
    s.and_then(|v| v.trim().parse().ok())
}

fn issue_fix(issue: &KnownIssue) -> Fix {
    let mut text = issue
        .fix_steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>()
        .join("\n");
    if !issue.references.is_empty() {
        text.push_str(&format!("\nReferences: {}", issue.references.join(" ")));
    }
    Fix {
        text,
        commands: Vec::new(),
    }
}

/// Whether `issue` is new to the node (each known issue is reported once);
/// remembers it.
fn first_time(seen: &mut Vec<String>, issue: &KnownIssue) -> bool {
    if seen.contains(&issue.id) {
        return false;
    }
    seen.push(issue.id.clone());
    true
}

/// The finding for a known issue on `node`, as the database words it; the
/// caller gives the title, the evidence and the item, and may adjust the rest.
fn issue_finding(node: &Node, cluster: Option<&Cluster>, issue: &KnownIssue) -> Finding {
    Finding {
        code: FindingCode::AvKnownIssue,
        severity: severity_of(issue.severity),
        cluster: cluster_name(cluster),
        nodes: vec![node.name.clone()],
        title: String::new(),
        detail: issue.description.clone(),
        evidence: Vec::new(),
        fix: Some(issue_fix(issue)),
        known_issues: vec![issue.id.clone()],
        items: Vec::new(),
    }
}

/// Products, then minifilters (only without a product list), then the
/// Defender platform: each known issue once per node.
pub(super) fn known_issue_findings(
    node: &Node,
    cluster: Option<&Cluster>,
    known: &KnownIssues,
) -> Vec<Finding> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = product_issue_findings(node, cluster, known, &mut seen);
    out.extend(filter_issue_findings(node, cluster, known, &mut seen));
    out.extend(defender_issue_findings(node, cluster, known, &mut seen));
    out
}

/// The fltmc line that shows filter `name` on the node, with its vendor.
fn filter_evidence(node: &Node, name: &str) -> Option<Evidence> {
    let src = fltmc_filters(node)
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| (f.source.clone(), f.altitude.clone()))
        .or_else(|| {
            fltmc_instances(node)
                .find(|i| i.filter.eq_ignore_ascii_case(name))
                .map(|i| (i.source.clone(), i.altitude.clone()))
        })?;
    let vendor = MinifilterTable::builtin()
        .get(name)
        .map(|k| format!(", {} {}", k.vendor, k.product))
        .unwrap_or_default();
    Some(Evidence {
        source: src.0.into(),
        note: format!(
            "fltmc: filter {name} at altitude {}{vendor}",
            src.1.unwrap_or_default()
        ),
    })
}

/// Known issues of the installed products.
fn product_issue_findings(
    node: &Node,
    cluster: Option<&Cluster>,
    known: &KnownIssues,
    seen: &mut Vec<String>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let products = node.protection.products.as_ref().and_then(Section::data);
    let filters = node_filter_names(node);
    for p in products.into_iter().flatten() {
        let version = parse_version(p.version.as_deref());
        for issue in known.antivirus_matches(&p.name, p.vendor.as_deref(), version.as_ref()) {
            if !first_time(seen, issue) {
                continue;
            }
            let Some(av) = issue.antivirus() else {
                continue;
            };
            let shown = match &p.version {
                Some(v) => format!("{} {v}", p.name),
                None => p.name.clone(),
            };
            let mut evidence = vec![Evidence {
                source: (&p.source).into(),
                note: format!(
                    "installed: {shown}{}",
                    p.vendor
                        .as_deref()
                        .map(|v| format!(" ({v})"))
                        .unwrap_or_default()
                ),
            }];
            for f in &av.filters {
                if filters.iter().any(|n| n.eq_ignore_ascii_case(f)) {
                    evidence.extend(filter_evidence(node, f));
                }
            }
            let mut severity = severity_of(issue.severity);
            let mut detail = issue.description.clone();
            if version.is_none() {
                detail.insert_str(0, "The installed version could not be read, so every version of this product is flagged; check it.\n\n");
            }
            if let Some(w) = &av.window {
                severity = severity.min(Severity::Warning);
                detail.insert_str(
                    0,
                    &format!("Affected only hosts that were online between {} and {}; check whether this one was.\n\n", w.start, w.end),
                );
            }
            out.push(Finding {
                severity,
                title: format!(
                    "{}: {shown} — known issue {}: {}",
                    node.name, issue.id, issue.title
                ),
                detail,
                evidence,
                items: vec![Item::new(ItemKind::Product, shown.clone()).on(&node.name)],
                ..issue_finding(node, cluster, issue)
            });
        }
    }

    out
}

/// Known issues of the minifilters, when the products are not known.
fn filter_issue_findings(
    node: &Node,
    cluster: Option<&Cluster>,
    known: &KnownIssues,
    seen: &mut Vec<String>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let products_section = node.protection.products.as_ref();
    let filters = node_filter_names(node);
    // A filter name alone is a
    // weak signal (a vendor's products share drivers), so only without a
    // product list, and only as "possibly".
    let products_known =
        products_section.is_some_and(|s| s.status == SectionStatus::Ok && s.data.is_some());
    if !products_known {
        for f in &filters {
            for issue in known.filter_matches(f) {
                if !first_time(seen, issue) {
                    continue;
                }
                let Some(av) = issue.antivirus() else {
                    continue;
                };
                out.push(Finding {
                    severity: severity_of(issue.severity).min(Severity::Warning),
                    title: format!(
                        "{}: filter {f} ({}) may belong to a product with known issue {}: {}",
                        node.name, av.vendor, issue.id, issue.title
                    ),
                    detail: format!(
                        "The inputs have no installed-products list for {}, so the {} {} version cannot be checked; the filter {f} is one of its drivers.\n\n{}",
                        node.name, av.vendor, av.product, issue.description
                    ),
                    evidence: filter_evidence(node, f).into_iter().collect(),
                    items: vec![Item::new(ItemKind::Filter, f.clone()).on(&node.name)],
                    ..issue_finding(node, cluster, issue)
                });
            }
        }
    }

    out
}

/// Known issues of the Defender platform and engine versions.
fn defender_issue_findings(
    node: &Node,
    cluster: Option<&Cluster>,
    known: &KnownIssues,
    seen: &mut Vec<String>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    if let Some(s) = defender_status(node) {
        for issue in
            known.defender_matches(s.am_product_version.as_ref(), s.am_engine_version.as_ref())
        {
            if !first_time(seen, issue) {
                continue;
            }
            let show = |v: &Option<WinVersion>| {
                v.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into())
            };
            out.push(Finding {
                title: format!(
                    "{}: Microsoft Defender platform {} / engine {} — known issue {}: {}",
                    node.name,
                    show(&s.am_product_version),
                    show(&s.am_engine_version),
                    issue.id,
                    issue.title
                ),
                evidence: vec![Evidence {
                    source: (&s.source).into(),
                    note: format!(
                        "Get-MpComputerStatus AMProductVersion {} AMEngineVersion {}",
                        show(&s.am_product_version),
                        show(&s.am_engine_version)
                    ),
                }],
                items: vec![
                    Item::new(
                        ItemKind::Product,
                        format!(
                            "Microsoft Defender platform {} engine {}",
                            show(&s.am_product_version),
                            show(&s.am_engine_version)
                        ),
                    )
                    .on(&node.name),
                ],
                ..issue_finding(node, cluster, issue)
            });
        }
    }
    out
}
