//! `lockstep check --metrics FILE`: the check as Prometheus text exposition
//! format (version 0.0.4), for node_exporter's textfile collector.
//!
//! Times are exported as `*_timestamp_seconds` (Unix time), not as ages: a
//! textfile is written once and scraped for hours, and an age written into
//! it would stop growing. The age is `time() - metric` in PromQL.
//!
//! Every label value comes from input data (cluster and node names) and is
//! escaped as the format requires ([`label_value`]).

use lockstep_check::Finding;
use lockstep_check::drift::DriftClass;
use lockstep_check::posture::NodePosture;
use lockstep_check::run::ClusterReport;
use lockstep_model::Cluster;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const CLASSES: [DriftClass; 5] = [
    DriftClass::Missing,
    DriftClass::Suspect,
    DriftClass::Unknown,
    DriftClass::NotApplicable,
    DriftClass::Covered,
];
const SEVERITIES: [&str; 5] = ["critical", "important", "moderate", "low", "unknown"];

/// What the metrics say about one cluster, taken from its report as the
/// check streams it (the report itself is then dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterMetrics {
    pub name: String,
    /// Updates absent on some nodes, per class (an update absent for two
    /// reasons on two nodes counts in both classes).
    pub drift: [usize; 5],
    pub will_warn: bool,
    pub nodes: Vec<NodeMetrics>,
    /// When the history says the nodes have been out of step since.
    pub out_of_step_since: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeMetrics {
    pub name: String,
    /// Missing security updates (chain heads) per severity, in the order of
    /// `critical`, `important`, `moderate`, `low`, `unknown`.
    pub missing: [usize; 5],
    pub collected_at: Option<i64>,
}

/// The catalog's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogMetrics {
    pub available: bool,
    pub newest_release: Option<i64>,
    pub imported_at: Option<i64>,
}

impl NodeMetrics {
    pub fn of(p: &NodePosture, node: Option<&lockstep_model::Node>) -> NodeMetrics {
        let mut missing = [0; 5];
        for prod in p.products.iter().filter(|x| x.applicable) {
            for h in &prod.missing {
                let sev = h.severity.as_deref().unwrap_or("").to_ascii_lowercase();
                let i = SEVERITIES
                    .iter()
                    .position(|s| *s == sev)
                    .unwrap_or(SEVERITIES.len() - 1);
                missing[i] += 1;
            }
        }
        NodeMetrics {
            name: p.node.clone(),
            missing,
            collected_at: node.and_then(|n| n.collected_at).map(|c| c.at.as_second()),
        }
    }
}

impl ClusterMetrics {
    /// `cluster`: the inventory's cluster of the same name (capture times).
    pub fn of(c: &ClusterReport, cluster: Option<&Cluster>) -> ClusterMetrics {
        let mut per_class: [std::collections::BTreeSet<u32>; 5] = Default::default();
        for g in &c.drift.groups {
            if let Some(i) = CLASSES.iter().position(|k| *k == g.class) {
                per_class[i].insert(g.kb.number());
            }
        }
        let node = |name: &str| cluster.and_then(|cl| cl.nodes.iter().find(|n| n.name == name));
        ClusterMetrics {
            name: c.name.clone(),
            drift: per_class.map(|s| s.len()),
            will_warn: c.drift.validation.will_warn,
            nodes: c
                .posture
                .iter()
                .map(|p| NodeMetrics::of(p, node(&p.node)))
                .collect(),
            out_of_step_since: None,
        }
    }
}

/// A label value as the exposition format wants it: `\`, `"` and the
/// newline escaped.
pub fn label_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// The check's findings counted by code and severity (what the metrics
/// file says of them), gathered as a streamed check hands them on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingCounts(BTreeMap<(String, String), usize>);

impl FindingCounts {
    pub fn of<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Self {
        let mut counts = FindingCounts::default();
        for f in findings {
            counts.add(f);
        }
        counts
    }

    pub fn add(&mut self, f: &Finding) {
        *self
            .0
            .entry((f.code.to_string(), f.severity.to_string()))
            .or_default() += 1;
    }
}

/// The whole file. `clusters` in any order (sorted here by name); `loose`
/// are the nodes outside a cluster (their `cluster` label is empty).
pub fn render_metrics(
    generated_at: i64,
    catalog: CatalogMetrics,
    clusters: &[ClusterMetrics],
    loose: &[NodeMetrics],
    findings: &FindingCounts,
) -> String {
    let mut sorted: Vec<&ClusterMetrics> = clusters.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    family(
        &mut out,
        "lockstep_check_timestamp_seconds",
        "When the check that wrote this file ran, as Unix time.",
    );
    let _ = writeln!(out, "lockstep_check_timestamp_seconds {generated_at}");
    family(
        &mut out,
        "lockstep_catalog_available",
        "1 when the check had an update catalog, else 0.",
    );
    let _ = writeln!(
        out,
        "lockstep_catalog_available {}",
        u8::from(catalog.available)
    );
    if let Some(t) = catalog.newest_release {
        family(
            &mut out,
            "lockstep_catalog_newest_release_timestamp_seconds",
            "Release date of the newest document in the catalog, as Unix time; time() minus it is the catalog's age.",
        );
        let _ = writeln!(out, "lockstep_catalog_newest_release_timestamp_seconds {t}");
    }
    if let Some(t) = catalog.imported_at {
        family(
            &mut out,
            "lockstep_catalog_imported_timestamp_seconds",
            "When a document was last imported into the catalog, as Unix time.",
        );
        let _ = writeln!(out, "lockstep_catalog_imported_timestamp_seconds {t}");
    }
    family(
        &mut out,
        "lockstep_cluster_nodes",
        "Nodes of the cluster in the inputs.",
    );
    for c in &sorted {
        let _ = writeln!(
            out,
            "lockstep_cluster_nodes{{cluster=\"{}\"}} {}",
            label_value(&c.name),
            c.nodes.len()
        );
    }
    family(
        &mut out,
        "lockstep_cluster_drift_updates",
        "Updates installed on some nodes of the cluster and absent on others, by how the absence is classified.",
    );
    for c in &sorted {
        let name = label_value(&c.name);
        for (class, n) in CLASSES.iter().zip(c.drift) {
            let _ = writeln!(
                out,
                "lockstep_cluster_drift_updates{{cluster=\"{name}\",class=\"{}\"}} {n}",
                class.label()
            );
        }
    }
    family(
        &mut out,
        "lockstep_cluster_validation_will_warn",
        "1 when cluster validation (Validate Software Update Levels) will warn, else 0.",
    );
    for c in &sorted {
        let _ = writeln!(
            out,
            "lockstep_cluster_validation_will_warn{{cluster=\"{}\"}} {}",
            label_value(&c.name),
            u8::from(c.will_warn)
        );
    }
    if sorted.iter().any(|c| c.out_of_step_since.is_some()) {
        family(
            &mut out,
            "lockstep_cluster_out_of_step_since_timestamp_seconds",
            "Since when the history says the nodes of the cluster are out of step, as Unix time (only clusters out of step).",
        );
        for c in &sorted {
            if let Some(t) = c.out_of_step_since {
                let _ = writeln!(
                    out,
                    "lockstep_cluster_out_of_step_since_timestamp_seconds{{cluster=\"{}\"}} {t}",
                    label_value(&c.name)
                );
            }
        }
    }
    let nodes: Vec<(&str, &NodeMetrics)> = sorted
        .iter()
        .flat_map(|c| c.nodes.iter().map(move |n| (c.name.as_str(), n)))
        .chain(loose.iter().map(|n| ("", n)))
        .collect();
    family(
        &mut out,
        "lockstep_node_missing_security_updates",
        "Security updates missing on the node against the catalog (newest of each chain), by the worst CVE severity.",
    );
    for (c, n) in &nodes {
        for (sev, count) in SEVERITIES.iter().zip(n.missing) {
            let _ = writeln!(
                out,
                "lockstep_node_missing_security_updates{{cluster=\"{}\",node=\"{}\",severity=\"{sev}\"}} {count}",
                label_value(c),
                label_value(&n.name)
            );
        }
    }
    if nodes.iter().any(|(_, n)| n.collected_at.is_some()) {
        family(
            &mut out,
            "lockstep_node_collected_timestamp_seconds",
            "When the node's capture was collected (what the input says, else its files' modification time), as Unix time; time() minus it is the capture's age.",
        );
        for (c, n) in &nodes {
            if let Some(t) = n.collected_at {
                let _ = writeln!(
                    out,
                    "lockstep_node_collected_timestamp_seconds{{cluster=\"{}\",node=\"{}\"}} {t}",
                    label_value(c),
                    label_value(&n.name)
                );
            }
        }
    }
    family(
        &mut out,
        "lockstep_findings",
        "Findings of the check, by code and severity.",
    );
    for ((code, sev), n) in &findings.0 {
        let _ = writeln!(
            out,
            "lockstep_findings{{code=\"{}\",severity=\"{sev}\"}} {n}",
            label_value(code)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let c = ClusterMetrics {
            name: "HV\"CLU\n1".into(),
            drift: [1, 0, 0, 0, 2],
            will_warn: true,
            nodes: vec![NodeMetrics {
                name: "N\\1".into(),
                missing: [0, 1, 0, 0, 0],
                collected_at: Some(1_700_000_000),
            }],
            out_of_step_since: Some(1_699_000_000),
        };
        let text = render_metrics(
            1_700_000_100,
            CatalogMetrics::default(),
            &[c],
            &[],
            &FindingCounts::default(),
        );
        assert!(
            text.contains(
                "lockstep_cluster_drift_updates{cluster=\"HV\\\"CLU\\n1\",class=\"missing\"} 1\n"
            ),
            "{text}"
        );
        assert!(text.contains("lockstep_node_missing_security_updates{cluster=\"HV\\\"CLU\\n1\",node=\"N\\\\1\",severity=\"important\"} 1\n"), "{text}");
        assert!(text.contains("lockstep_cluster_out_of_step_since_timestamp_seconds{cluster=\"HV\\\"CLU\\n1\"} 1699000000\n"));
        assert_eq!(text.lines().filter(|l| l.contains('\n')).count(), 0);
    }
}
