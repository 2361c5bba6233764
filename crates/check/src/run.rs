//! The whole check over an inventory: drift per cluster, posture per node,
//! findings. Pure: no I/O, so reports and tests see the same data.

use crate::drift::{ClusterDrift, DriftClass, cluster_drift};
use crate::knowledge::Knowledge;
use crate::posture::{NodePosture, PostureEngine, ProductPosture};
use crate::{Evidence, Finding, Fix, Severity};
use jiff::civil::Date;
use lockstep_model::{Cluster, Inventory, Node};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub const REPORT_SCHEMA: &str = "lockstep-report/1";

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Judge security posture with what was published by this date.
    pub as_of: Option<Date>,
}

/// Where the catalog came from and what it cannot tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogInfo {
    pub available: bool,
    pub path: Option<String>,
    /// Said when no catalog was loaded: what the report cannot tell, and how to get one.
    pub limits: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterReport {
    pub name: String,
    pub drift: ClusterDrift,
    pub posture: Vec<NodePosture>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub schema: String,
    pub lockstep_version: String,
    pub as_of: Option<Date>,
    pub catalog: CatalogInfo,
    /// Inputs that could not be read (`path:line: expected ...`).
    pub input_errors: Vec<String>,
    pub clusters: Vec<ClusterReport>,
    /// Nodes given on their own, not as part of a cluster.
    pub loose_nodes: Vec<NodePosture>,
    /// Chain heads of separately installed products (.NET, browsers) that
    /// some node's OS supports but the inventory does not show installed:
    /// applicable only if the product is there. Once per product.
    pub companion_chains: Vec<ProductPosture>,
    /// Sorted: severity (highest first), code, cluster, nodes.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Host-protection inputs: the rules and the known-issues database.
pub struct ProtectionInputs<'a> {
    pub rules: &'a crate::protection::Rules,
    pub known: &'a lockstep_catalog::known_issues::KnownIssues,
}

pub fn check(
    inventory: &Inventory,
    k: &dyn Knowledge,
    protection: Option<ProtectionInputs<'_>>,
    catalog: CatalogInfo,
    options: &CheckOptions,
) -> CheckReport {
    let mut findings = Vec::new();
    if !catalog.available {
        findings.push(Finding {
            code: "catalog-unavailable".into(),
            severity: Severity::Info,
            cluster: None,
            nodes: Vec::new(),
            title: "No update catalog: supersedence and missing security updates cannot be judged"
                .into(),
            detail: catalog.limits.clone().unwrap_or_default(),
            evidence: Vec::new(),
            fix: Some(Fix {
                text: "Import a catalog once; it is kept locally.".into(),
                commands: vec![
                    "lockstep catalog update".into(),
                    "lockstep catalog import definitions.zip".into(),
                ],
            }),
            known_issues: Vec::new(),
        });
    }
    let engine = PostureEngine::default();
    // Clusters are independent: judged in parallel, collected in input order.
    let per_cluster: Vec<(ClusterReport, Vec<Finding>)> = inventory
        .clusters
        .par_iter()
        .map(|cluster| {
            let mut findings = Vec::new();
            let drift = cluster_drift(cluster, k);
            findings.extend(drift_findings(cluster, &drift));
            findings.extend(os_mismatch(cluster, &drift));
            let posture: Vec<NodePosture> = cluster
                .nodes
                .iter()
                .map(|n| engine.node_posture(n, options.as_of, k))
                .collect();
            for (node, p) in cluster.nodes.iter().zip(&posture) {
                findings.extend(posture_findings(Some(&cluster.name), node, p));
            }
            if let Some(pi) = &protection {
                findings.extend(crate::protection::audit_cluster(
                    cluster, pi.rules, pi.known,
                ));
            }
            (
                ClusterReport {
                    name: cluster.name.clone(),
                    drift,
                    posture,
                },
                findings,
            )
        })
        .collect();
    let mut clusters = Vec::with_capacity(per_cluster.len());
    for (report, f) in per_cluster {
        clusters.push(report);
        findings.extend(f);
    }
    let mut loose = Vec::new();
    for node in &inventory.loose_nodes {
        let p = engine.node_posture(node, options.as_of, k);
        findings.extend(posture_findings(None, node, &p));
        if let Some(pi) = &protection {
            findings.extend(crate::protection::audit_node(
                node, None, pi.rules, pi.known,
            ));
        }
        loose.push(p);
    }
    let mut not_shown: Vec<&String> = clusters
        .iter()
        .flat_map(|c| c.posture.iter())
        .chain(loose.iter())
        .flat_map(|p| p.companions_not_shown.iter())
        .collect();
    not_shown.sort();
    not_shown.dedup();
    let companion_chains = not_shown
        .into_iter()
        .map(|p| engine.product_chains(p, options.as_of, k))
        .collect();
    sort_findings(&mut findings);
    CheckReport {
        schema: REPORT_SCHEMA.into(),
        lockstep_version: env!("CARGO_PKG_VERSION").into(),
        as_of: options.as_of,
        catalog,
        input_errors: Vec::new(),
        clusters,
        loose_nodes: loose,
        companion_chains,
        findings,
    }
}

pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.cluster.cmp(&b.cluster))
            .then_with(|| a.nodes.cmp(&b.nodes))
            .then_with(|| a.title.cmp(&b.title))
    });
}

/// One finding per code: a cluster whose nodes differ in 80 updates gets one
/// "covered" finding listing them, not 80. A single group keeps its own words.
fn merge_by_code(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: Vec<Finding> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    for f in findings {
        match merged.iter().position(|m| m.code == f.code) {
            None => {
                merged.push(f);
                counts.push(1);
            }
            Some(i) => {
                let m = &mut merged[i];
                counts[i] += 1;
                for n in f.nodes {
                    if !m.nodes.contains(&n) {
                        m.nodes.push(n);
                    }
                }
                m.detail.push('\n');
                m.detail.push_str(&f.detail);
                m.evidence.extend(f.evidence);
                for k in f.known_issues {
                    if !m.known_issues.contains(&k) {
                        m.known_issues.push(k);
                    }
                }
                if let (Some(mf), Some(ff)) = (&mut m.fix, f.fix)
                    && !mf.text.contains(&ff.text)
                {
                    mf.text.push('\n');
                    mf.text.push_str(&ff.text);
                }
            }
        }
    }
    for (m, count) in merged.iter_mut().zip(counts) {
        if count > 1 {
            m.nodes.sort();
            let class = m.code.trim_start_matches("update-drift-");
            m.title = format!("{count} updates absent on some nodes ({class})");
        }
    }
    merged
}

fn drift_findings(cluster: &Cluster, drift: &ClusterDrift) -> Vec<Finding> {
    let mut out = Vec::new();
    for g in &drift.groups {
        let (code, severity, fix) = match g.class {
            DriftClass::Missing => (
                "update-drift-missing",
                Severity::Error,
                Fix {
                    text: format!(
                        "Install {} on {}, one drained node at a time: `lockstep plan --target secure` gives the steps.",
                        g.kb,
                        g.absent_on.join(", ")
                    ),
                    commands: Vec::new(),
                },
            ),
            DriftClass::Suspect => (
                "update-drift-suspect",
                Severity::Warning,
                Fix {
                    text: format!(
                        "Treat {} as missing on {} until the known issue says otherwise: `lockstep plan --target secure` installs it.",
                        g.kb,
                        g.absent_on.join(", ")
                    ),
                    commands: Vec::new(),
                },
            ),
            DriftClass::Unknown => (
                "update-drift-unknown",
                Severity::Warning,
                Fix {
                    text: "Import a catalog that covers this update (`lockstep catalog update`), or check the KB article by hand.".into(),
                    commands: Vec::new(),
                },
            ),
            DriftClass::Covered => (
                "update-drift-covered",
                Severity::Info,
                Fix {
                    text: "Not a security gap. Cluster validation still warns; `lockstep plan --target converge` makes the nodes identical.".into(),
                    commands: Vec::new(),
                },
            ),
            DriftClass::NotApplicable => (
                "update-drift-not-applicable",
                Severity::Info,
                Fix {
                    text: "The nodes run different products; the update cannot be installed where it is absent.".into(),
                    commands: Vec::new(),
                },
            ),
        };
        let mut evidence: Vec<Evidence> = g
            .evidence
            .iter()
            .map(|(node, src)| Evidence {
                source: src.clone(),
                note: format!("{} installed on {node}", g.kb),
            })
            .collect();
        for name in &g.absent_on {
            if let Some(n) = cluster.nodes.iter().find(|n| &n.name == name)
                && let Some(src) = n.sources.first()
            {
                evidence.push(Evidence {
                    source: lockstep_model::SourceRef::new(src.as_str(), 0),
                    note: format!("{} not listed on {name}", g.kb),
                });
            }
        }
        out.push(Finding {
            code: code.into(),
            severity,
            cluster: Some(cluster.name.clone()),
            nodes: g.absent_on.clone(),
            title: format!(
                "{} absent on {} ({})",
                g.kb,
                g.absent_on.join(", "),
                g.class.label()
            ),
            detail: g.summary.clone(),
            evidence,
            fix: Some(fix),
            known_issues: g.known_issues.clone(),
        });
    }
    let mut out = merge_by_code(out);
    if drift.validation.will_warn {
        out.push(Finding {
            code: "cluster-validation-will-warn".into(),
            severity: Severity::Warning,
            cluster: Some(cluster.name.clone()),
            nodes: Vec::new(),
            title: format!(
                "Cluster validation will warn: {} not on every node",
                drift
                    .validation
                    .kbs
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            detail: drift.validation.explanation.clone(),
            evidence: Vec::new(),
            fix: Some(Fix {
                text: drift.validation.remedy.clone(),
                commands: Vec::new(),
            }),
            known_issues: Vec::new(),
        });
    }
    out
}

fn os_mismatch(cluster: &Cluster, drift: &ClusterDrift) -> Option<Finding> {
    let mut products: Vec<(&str, &str)> = drift
        .nodes
        .iter()
        .map(|n| {
            (
                n.product.as_deref().unwrap_or("unknown product"),
                n.name.as_str(),
            )
        })
        .collect();
    products.sort();
    let distinct: std::collections::BTreeSet<&str> = products.iter().map(|p| p.0).collect();
    if distinct.len() < 2 {
        return None;
    }
    Some(Finding {
        code: "cluster-mixed-os".into(),
        severity: Severity::Warning,
        cluster: Some(cluster.name.clone()),
        nodes: Vec::new(),
        title: format!("Nodes run {} different OS products", distinct.len()),
        detail: products
            .iter()
            .map(|(p, n)| format!("{n}: {p}"))
            .collect::<Vec<_>>()
            .join("; "),
        evidence: Vec::new(),
        fix: Some(Fix {
            text: "Mixed-OS clusters are supported only during a rolling upgrade; finish it."
                .into(),
            commands: Vec::new(),
        }),
        known_issues: Vec::new(),
    })
}

/// One finding per node and product that lacks something: the chain heads,
/// each with what it folds. Separately installed products the inventory does
/// not show are listed in the posture, not raised as findings.
fn posture_findings(cluster: Option<&str>, node: &Node, p: &NodePosture) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, prod) in p.products.iter().enumerate() {
        if prod.missing.is_empty() || !prod.applicable {
            continue;
        }
        let os_product = i == 0;
        let mut severity = Severity::Warning;
        let mut lines = Vec::new();
        for head in &prod.missing {
            if matches!(
                head.severity.as_deref(),
                Some("Critical") | Some("Important") | None
            ) {
                severity = Severity::Error;
            }
            let mut line = format!(
                "{}{} is the newest update of its chain for {} and is not installed on {}",
                head.kb,
                head.title
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default(),
                prod.product,
                node.name
            );
            if let Some(d) = head.release_date {
                line.push_str(&format!("; released {d}"));
            }
            if !head.folds.is_empty() {
                line.push_str(&format!(
                    "; it supersedes the also absent {}",
                    head.folds
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            lines.push(line);
        }
        let kbs: Vec<String> = prod.missing.iter().map(|h| h.kb.to_string()).collect();
        out.push(Finding {
            code: if os_product {
                "security-update-missing"
            } else {
                "companion-update-missing"
            }
            .into(),
            severity,
            cluster: cluster.map(str::to_string),
            nodes: vec![node.name.clone()],
            title: if kbs.len() == 1 {
                format!("{} missing on {} ({})", kbs[0], node.name, prod.product)
            } else {
                format!(
                    "{} updates missing on {} ({}): {}",
                    kbs.len(),
                    node.name,
                    prod.product,
                    kbs.join(", ")
                )
            },
            detail: lines.join("\n"),
            evidence: node
                .os
                .version
                .as_ref()
                .map(|v| Evidence {
                    source: v.source.clone(),
                    note: format!("OS version {}", v.value),
                })
                .into_iter()
                .collect(),
            fix: Some(Fix {
                text: format!("Install {} on {}.", kbs.join(", "), node.name),
                commands: Vec::new(),
            }),
            known_issues: Vec::new(),
        });
    }
    out
}
