//! The whole check over an inventory: drift per cluster, posture per node,
//! findings. Pure: no I/O, so reports and tests see the same data.

use crate::drift::{ClusterDrift, DriftClass, cluster_drift};
use crate::knowledge::Knowledge;
use crate::posture::{ChainHead, NodePosture, PostureEngine, ProductPosture};
use crate::{Evidence, Finding, Fix, Severity};
use jiff::civil::Date;
use lockstep_model::{Cluster, Inventory, KbId, KbMap, Node};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;

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
            .map(|n| self.engine.node_posture(n, self.as_of, k))
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
        &f.code,
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

/// Posture findings, grouped: nodes of one cluster whose missing chain
/// heads are identical share one finding (a cluster patched together lacks
/// the same updates on every node, and the admin installs them once per
/// node either way). The OS product gives `security-update-missing`; the
/// separately installed products the node shows give one
/// `companion-update-missing` per node group, each KB listed once with every
/// product it belongs to (a .NET rollup is published for several .NET
/// versions; the admin installs it once). Products the inventory does not
/// show are listed in the posture, not raised as findings.
fn posture_findings(
    cluster: Option<&str>,
    nodes: &[Node],
    postures: &[NodePosture],
) -> Vec<Finding> {
    // Nodes are grouped by what they lack (the heads, what each folds, the
    // products listing each); the words are written once per group.
    #[derive(Clone, PartialEq, Eq, Hash)]
    struct Gap<'p> {
        code: &'static str,
        products: Vec<&'p str>,
        /// (head, folded KBs newest first, the products listing it)
        heads: Vec<(KbId, Vec<KbId>, Vec<&'p str>)>,
    }
    struct Group<'p> {
        gap: Gap<'p>,
        /// The first member's heads, for titles, dates and severities.
        first: Vec<&'p ChainHead>,
        os: Option<&'p str>,
        members: Vec<usize>,
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<Gap, usize> = HashMap::new();
    for (ni, p) in postures.iter().enumerate() {
        let mut products = p
            .products
            .iter()
            .filter(|x| x.applicable && !x.missing.is_empty());
        let os = p
            .products
            .first()
            .filter(|x| x.applicable && !x.missing.is_empty());
        let mut found: Vec<(Gap, Vec<&ChainHead>)> = Vec::new();
        if let Some(os) = os {
            products.next();
            found.push((
                Gap {
                    code: "security-update-missing",
                    products: vec![&*os.product],
                    heads: os
                        .missing
                        .iter()
                        .map(|h| (h.kb, h.folds.clone(), Vec::new()))
                        .collect(),
                },
                os.missing.iter().collect(),
            ));
        }
        // Every companion head once, with the products that list it and the
        // union of what it folds on each.
        let mut heads: Vec<(KbId, Vec<KbId>, Vec<&str>)> = Vec::new();
        let mut first: Vec<&ChainHead> = Vec::new();
        let mut at: KbMap<usize> = KbMap::default();
        let mut names: Vec<&str> = Vec::new();
        for prod in products {
            names.push(&prod.product);
            for h in &prod.missing {
                match at.get(&h.kb) {
                    Some(&i) => {
                        heads[i].1.extend(h.folds.iter().copied());
                        heads[i].2.push(&prod.product);
                    }
                    None => {
                        at.insert(h.kb, heads.len());
                        heads.push((h.kb, h.folds.clone(), vec![&*prod.product]));
                        first.push(h);
                    }
                }
            }
        }
        if !heads.is_empty() {
            let mut order: Vec<usize> = (0..heads.len()).collect();
            order.sort_by(|&a, &b| {
                first[b]
                    .release_date
                    .cmp(&first[a].release_date)
                    .then(first[b].kb.cmp(&first[a].kb))
            });
            let mut sorted_heads = Vec::with_capacity(heads.len());
            let mut sorted_first = Vec::with_capacity(heads.len());
            for i in order {
                let kb = heads[i].0;
                let (_, mut folds, prods) =
                    std::mem::replace(&mut heads[i], (kb, Vec::new(), Vec::new()));
                folds.sort_by(|a, b| b.cmp(a));
                folds.dedup();
                sorted_heads.push((kb, folds, prods));
                sorted_first.push(first[i]);
            }
            found.push((
                Gap {
                    code: "companion-update-missing",
                    products: names,
                    heads: sorted_heads,
                },
                sorted_first,
            ));
        }
        for (gap, first) in found {
            match index.get(&gap) {
                Some(&i) => groups[i].members.push(ni),
                None => {
                    index.insert(gap.clone(), groups.len());
                    groups.push(Group {
                        gap,
                        first,
                        os: p.product.as_deref(),
                        members: vec![ni],
                    });
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let Group {
                gap,
                first,
                os,
                members,
            } = g;
            let companion = gap.code == "companion-update-missing";
            // Per line, "Microsoft .NET Framework 3.5" says enough: the
            // finding names the OS once.
            let suffix = os.map(|os| format!(" on {os}"));
            let short = |name: &str| -> String {
                suffix
                    .as_deref()
                    .and_then(|sfx| name.strip_suffix(sfx))
                    .unwrap_or(name)
                    .to_string()
            };
            let several = gap.products.len() > 1;
            let mut severity = Severity::Warning;
            let mut lines = Vec::with_capacity(first.len());
            for (head, (_, folds, prods)) in first.iter().zip(&gap.heads) {
                if matches!(
                    head.severity.as_deref(),
                    Some("Critical") | Some("Important") | None
                ) {
                    severity = Severity::Error;
                }
                let mut line = head.kb.to_string();
                if let Some(t) = &head.title {
                    let _ = write!(line, " ({t})");
                }
                // Only worth saying when the finding spans several products.
                if companion && several {
                    let names: Vec<String> = prods.iter().map(|p| short(p)).collect();
                    let _ = write!(line, " for {}", names.join("; "));
                }
                if let Some(d) = head.release_date {
                    let _ = write!(line, " released {d}");
                }
                if !folds.is_empty() {
                    line.push_str("; supersedes ");
                    line.push_str(
                        &folds
                            .iter()
                            .map(|k| k.to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    );
                }
                lines.push(line);
            }
            let names: Vec<String> = members.iter().map(|&i| nodes[i].name.clone()).collect();
            let on = names.join(", ");
            let kb_list = gap
                .heads
                .iter()
                .map(|h| h.0.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let title = if companion {
                format!(
                    "{} update(s) missing on {on} for {} separately installed product(s)",
                    gap.heads.len(),
                    gap.products.len()
                )
            } else {
                let product = gap.products.first().copied().unwrap_or("");
                if gap.heads.len() == 1 {
                    format!("{kb_list} missing on {on} ({product})")
                } else {
                    format!(
                        "{} updates missing on {on} ({product}): {kb_list}",
                        gap.heads.len()
                    )
                }
            };
            let mut detail = String::new();
            if companion {
                detail.push_str(
                    "Products the inventory shows installed (an installed update of each): ",
                );
                detail.push_str(&gap.products.join("; "));
                detail.push('\n');
            }
            // Said once, not on every line: a fleet has millions of them.
            detail.push_str(
                "Each is the newest missing update of its chain; what it supersedes is absent too:\n",
            );
            detail.push_str(&lines.join("\n"));
            Finding {
                code: gap.code.into(),
                severity,
                cluster: cluster.map(str::to_string),
                title,
                detail,
                evidence: members
                    .iter()
                    .filter_map(|&i| {
                        nodes[i].os.version.as_ref().map(|v| Evidence {
                            source: v.source.clone(),
                            note: format!("{}: OS version {}", nodes[i].name, v.value),
                        })
                    })
                    .collect(),
                fix: Some(Fix {
                    text: format!("Install {kb_list} on {on}."),
                    commands: Vec::new(),
                }),
                nodes: names,
                known_issues: Vec::new(),
            }
        })
        .collect()
}
