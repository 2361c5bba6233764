//! The whole check over an inventory: drift per cluster, posture per node,
//! findings. Pure: no I/O, so reports and tests see the same data.

use crate::drift::{ClusterDrift, DriftClass, cluster_drift};
use crate::knowledge::Knowledge;
use crate::posture::{NodePosture, PostureEngine, ProductPosture};
use crate::posture_findings::posture_findings;
use crate::{Evidence, Finding, FindingCode, Fix, Item, ItemKind, Severity};
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
    /// The catalog compiled into lockstep was used (no local catalog exists).
    #[serde(default)]
    pub bundled: bool,
    /// The date of the newest data in the catalog.
    #[serde(default, serialize_with = "lockstep_model::date_serde::option")]
    pub data_date: Option<Date>,
    /// What the reader should know about the catalog's data: that it is
    /// the bundled one, and whether it is old.
    #[serde(default)]
    pub notice: Option<String>,
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
    /// What was read but shapes the verdicts (`path:line: ...`): a hotfix
    /// list cut short, captures of one host that disagree.
    #[serde(default)]
    pub input_warnings: Vec<String>,
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

/// What a report says before its first cluster, known before the check
/// runs: lets a report be streamed cluster by cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportHead {
    pub schema: String,
    pub lockstep_version: String,
    pub as_of: Option<Date>,
    pub catalog: CatalogInfo,
    pub input_errors: Vec<String>,
    pub input_warnings: Vec<String>,
    /// How many clusters and nodes (clustered and loose) will follow.
    pub clusters: usize,
    pub nodes: usize,
}

impl ReportHead {
    pub fn new(
        inventory: &Inventory,
        catalog: CatalogInfo,
        options: &CheckOptions,
        input_errors: Vec<String>,
    ) -> Self {
        ReportHead {
            schema: REPORT_SCHEMA.into(),
            lockstep_version: env!("CARGO_PKG_VERSION").into(),
            as_of: options.as_of,
            catalog,
            input_errors,
            input_warnings: Vec::new(),
            clusters: inventory.clusters.len(),
            nodes: inventory.all_nodes().count(),
        }
    }
}

impl CheckReport {
    /// The head of this (whole) report.
    pub fn head(&self) -> ReportHead {
        ReportHead {
            schema: self.schema.clone(),
            lockstep_version: self.lockstep_version.clone(),
            as_of: self.as_of,
            catalog: self.catalog.clone(),
            input_errors: self.input_errors.clone(),
            input_warnings: self.input_warnings.clone(),
            clusters: self.clusters.len(),
            nodes: self
                .clusters
                .iter()
                .map(|c| c.drift.nodes.len())
                .sum::<usize>()
                + self.loose_nodes.len(),
        }
    }
}

/// The whole check, every cluster's report kept.
pub fn check(
    inventory: &Inventory,
    k: &dyn Knowledge,
    protection: Option<ProtectionInputs<'_>>,
    catalog: CatalogInfo,
    options: &CheckOptions,
) -> CheckReport {
    let mut clusters = Vec::with_capacity(inventory.clusters.len());
    let report = check_each(
        inventory,
        k,
        protection,
        catalog,
        options,
        |c| c,
        |c| {
            clusters.push(c);
            Ok::<(), std::convert::Infallible>(())
        },
    );
    match report {
        Ok(mut r) => {
            r.clusters = clusters;
            r
        }
        Err(never) => match never {},
    }
}

/// Clusters judged in parallel per chunk, handed on in input order.
const CLUSTERS_PER_CHUNK: usize = 64;

/// The `catalog-unavailable` finding, when there is no catalog: the first
/// finding of every check without one.
pub fn catalog_unavailable(catalog: &CatalogInfo) -> Option<Finding> {
    if catalog.available {
        return None;
    }
    Some(Finding {
        code: FindingCode::CatalogUnavailable,
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
        items: Vec::new(),
    })
}

/// One cluster judged: its report, its findings (in the order the check
/// makes them, unsorted) and the separately installed products its nodes'
/// OS supports but the inventory does not show (sorted, once each).
pub struct JudgedCluster {
    pub report: ClusterReport,
    pub findings: Vec<Finding>,
    pub companions: Vec<String>,
}

/// Nodes outside a cluster, judged: their postures, findings and the
/// companions not shown (as [`JudgedCluster`]).
pub struct JudgedLoose {
    pub postures: Vec<NodePosture>,
    pub findings: Vec<Finding>,
    pub companions: Vec<String>,
}

/// What judges clusters and nodes: the knowledge, the host-protection
/// inputs and the options of one check, with the posture graphs it builds
/// on the way (shared by every cluster and thread). A streamed check
/// judges each cluster as it is read; [`check_each`] judges an inventory.
pub struct Judge<'a> {
    k: &'a dyn Knowledge,
    protection: Option<ProtectionInputs<'a>>,
    as_of: Option<Date>,
    engine: PostureEngine,
}

impl<'a> Judge<'a> {
    pub fn new(
        k: &'a dyn Knowledge,
        protection: Option<ProtectionInputs<'a>>,
        options: &CheckOptions,
    ) -> Self {
        Judge {
            k,
            protection,
            as_of: options.as_of,
            engine: PostureEngine::default(),
        }
    }

    /// What the clusters are judged with.
    pub fn knowledge(&self) -> &'a dyn Knowledge {
        self.k
    }

    /// Drift, posture, health and host protection of one cluster.
    pub fn cluster(&self, cluster: &Cluster) -> JudgedCluster {
        let k = self.k;
        let mut findings = Vec::new();
        let drift = cluster_drift(cluster, k);
        findings.extend(drift_findings(cluster, &drift));
        findings.extend(os_mismatch(cluster, &drift));
        let posture: Vec<NodePosture> = cluster
            .nodes
            .iter()
            .map(|n| {
                self.engine
                    .node_posture_in(n, &cluster.nodes, self.as_of, k)
            })
            .collect();
        findings.extend(posture_findings(
            Some(&cluster.name),
            &cluster.nodes,
            &posture,
        ));
        findings.extend(crate::health::cluster_findings(cluster));
        if let Some(pi) = &self.protection {
            findings.extend(crate::protection::audit_cluster(
                cluster, pi.rules, pi.known,
            ));
        }
        let mut companions: Vec<String> = posture
            .iter()
            .flat_map(|p| p.companions_not_shown.iter().cloned())
            .collect();
        companions.sort();
        companions.dedup();
        JudgedCluster {
            report: ClusterReport {
                name: cluster.name.clone(),
                drift,
                posture,
            },
            findings,
            companions,
        }
    }

    /// Posture, health and host protection of nodes outside a cluster.
    pub fn loose(&self, nodes: &[Node]) -> JudgedLoose {
        let mut findings = Vec::new();
        let mut postures = Vec::with_capacity(nodes.len());
        for node in nodes {
            let p = self.engine.node_posture(node, self.as_of, self.k);
            findings.extend(posture_findings(
                None,
                std::slice::from_ref(node),
                std::slice::from_ref(&p),
            ));
            findings.extend(crate::health::node_findings(node));
            if let Some(pi) = &self.protection {
                findings.extend(crate::protection::audit_node(
                    node, None, pi.rules, pi.known,
                ));
            }
            postures.push(p);
        }
        let mut companions: Vec<String> = postures
            .iter()
            .flat_map(|p| p.companions_not_shown.iter().cloned())
            .collect();
        companions.sort();
        companions.dedup();
        JudgedLoose {
            postures,
            findings,
            companions,
        }
    }

    /// The chains of the separately installed products that some node's
    /// OS supports but the inventory does not show (`names` sorted, once
    /// each): the report's `companion_chains`.
    pub fn companion_chains(&self, names: &[String]) -> Vec<ProductPosture> {
        names
            .iter()
            .map(|p| self.engine.product_chains(p, self.as_of, self.k))
            .collect()
    }
}

/// The report without its clusters (loose nodes, companion chains, the
/// findings as given), as [`check_each`] and a streamed check return it.
pub fn report_rest(
    catalog: CatalogInfo,
    options: &CheckOptions,
    loose_nodes: Vec<NodePosture>,
    companion_chains: Vec<ProductPosture>,
    findings: Vec<Finding>,
) -> CheckReport {
    CheckReport {
        schema: REPORT_SCHEMA.into(),
        lockstep_version: env!("CARGO_PKG_VERSION").into(),
        as_of: options.as_of,
        catalog,
        input_errors: Vec::new(),
        input_warnings: Vec::new(),
        clusters: Vec::new(),
        loose_nodes,
        companion_chains,
        findings,
    }
}

/// The check, streamed: each cluster's report goes through `render` (in
/// parallel; e.g. to text) and then, in input order, to `sink` (e.g. the
/// output file), and is dropped, so a fleet's drift matrices and postures
/// are never all in memory. Returns the rest of the report (loose nodes,
/// companion chains, every finding, sorted), with `clusters` empty. A sink
/// error stops the check and is returned.
pub fn check_each<T: Send, E>(
    inventory: &Inventory,
    k: &dyn Knowledge,
    protection: Option<ProtectionInputs<'_>>,
    catalog: CatalogInfo,
    options: &CheckOptions,
    render: impl Fn(ClusterReport) -> T + Sync,
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<CheckReport, E> {
    let mut findings: Vec<Finding> = catalog_unavailable(&catalog).into_iter().collect();
    let judge = Judge::new(k, protection, options);
    let mut not_shown: Vec<String> = Vec::new();
    for chunk in inventory.clusters.chunks(CLUSTERS_PER_CHUNK) {
        let judged: Vec<(T, Vec<Finding>, Vec<String>)> = chunk
            .par_iter()
            .map(|cluster| {
                let j = judge.cluster(cluster);
                (render(j.report), j.findings, j.companions)
            })
            .collect();
        for (rendered, f, companions) in judged {
            sink(rendered)?;
            findings.extend(f);
            not_shown.extend(companions);
        }
    }
    let loose = judge.loose(&inventory.loose_nodes);
    findings.extend(loose.findings);
    not_shown.extend(loose.companions);
    not_shown.sort();
    not_shown.dedup();
    let companion_chains = judge.companion_chains(&not_shown);
    sort_findings(&mut findings);
    Ok(report_rest(
        catalog,
        options,
        loose.postures,
        companion_chains,
        findings,
    ))
}

/// The report's order of findings: severity (highest first), code,
/// cluster, nodes, title; a stable sort keeps the check's order among
/// equals.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(finding_order);
}

/// The order [`sort_findings`] sorts by.
pub fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    finding_key(a).cmp(&finding_key(b))
}

/// What findings are sorted by, in order: severity (highest first), code,
/// cluster, nodes, title.
pub type FindingKey<'f> = (
    std::cmp::Reverse<Severity>,
    &'f str,
    Option<&'f str>,
    &'f [String],
    &'f str,
);

/// The sort key of a finding ([`sort_findings`]).
pub fn finding_key(f: &Finding) -> FindingKey<'_> {
    (
        std::cmp::Reverse(f.severity),
        f.code.as_str(),
        f.cluster.as_deref(),
        &f.nodes,
        &f.title,
    )
}

/// One finding per code: a cluster whose nodes differ in 80 updates gets one
/// "covered" finding listing them, not 80. A single group keeps its own words.
fn merge_by_code(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: Vec<Finding> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    // Fix texts already in each merged finding (identical fixes said once).
    let mut fixes: Vec<std::collections::HashSet<String>> = Vec::new();
    for f in findings {
        match merged.iter().position(|m| m.code == f.code) {
            None => {
                fixes.push(f.fix.iter().map(|x| x.text.clone()).collect());
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
                m.items.extend(f.items);
                if let (Some(mf), Some(ff)) = (&mut m.fix, f.fix)
                    && !fixes[i].contains(&ff.text)
                {
                    mf.text.push('\n');
                    mf.text.push_str(&ff.text);
                    fixes[i].insert(ff.text);
                }
            }
        }
    }
    for (m, count) in merged.iter_mut().zip(counts) {
        if count > 1 {
            m.nodes.sort();
            let class = m.code.as_str().trim_start_matches("update-drift-");
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
                FindingCode::UpdateDriftMissing,
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
                FindingCode::UpdateDriftSuspect,
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
                FindingCode::UpdateDriftUnknown,
                Severity::Warning,
                Fix {
                    text: "Import a catalog that covers this update (`lockstep catalog update`), or check the KB article by hand.".into(),
                    commands: Vec::new(),
                },
            ),
            DriftClass::Covered => (
                FindingCode::UpdateDriftCovered,
                Severity::Info,
                Fix {
                    text: "Not a security gap. Cluster validation still warns; `lockstep plan --target converge` makes the nodes identical.".into(),
                    commands: Vec::new(),
                },
            ),
            DriftClass::NotApplicable => (
                FindingCode::UpdateDriftNotApplicable,
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
                source: src.into(),
                note: format!("{} installed on {node}", g.kb),
            })
            .collect();
        for name in &g.absent_on {
            if let Some(n) = cluster.nodes.iter().find(|n| &n.name == name)
                && let Some(src) = n.sources.first()
            {
                evidence.push(Evidence {
                    source: crate::EvidenceSource::whole(src.as_str()),
                    note: format!("{} not listed on {name}", g.kb),
                });
            }
        }
        let product = |node: &str| {
            drift
                .nodes
                .iter()
                .find(|n| n.name == node)
                .and_then(|n| n.product.clone())
        };
        out.push(Finding {
            code,
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
            items: g
                .absent_on
                .iter()
                .map(|n| Item {
                    product: product(n),
                    ..Item::update(g.kb).on(n)
                })
                .collect(),
        });
    }
    let mut out = merge_by_code(out);
    if drift.validation.will_warn {
        out.push(Finding {
            code: FindingCode::ClusterValidationWillWarn,
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
            items: drift
                .validation
                .kbs
                .iter()
                .map(|&kb| Item::update(kb))
                .collect(),
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
        code: FindingCode::ClusterMixedOs,
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
        items: products
            .iter()
            .map(|(p, n)| Item::new(ItemKind::Product, *p).on(*n))
            .collect(),
    })
}
