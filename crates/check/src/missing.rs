//! What `check` reports missing on each node, as one list: the updates its
//! `update-drift-missing`, `update-drift-suspect`, `security-update-missing`
//! and `companion-update-missing` findings tell the admin to install.
//! `lockstep plan --target secure` installs exactly this list, read through
//! [`missing_updates`] from check's own per-cluster result
//! ([`ClusterReport`]), so the two commands cannot disagree.

use crate::drift::{DriftClass, cluster_drift};
use crate::knowledge::Knowledge;
use crate::posture::PostureEngine;
use crate::run::ClusterReport;
use jiff::civil::Date;
use lockstep_model::{Cluster, KbId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Why check reports an update missing on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum MissingBecause {
    /// Other nodes of the cluster have it and the drift class is a gap
    /// (`missing` or `suspect`).
    Drift { class: DriftClass },
    /// A chain head the catalog says the node's product (its OS, or a
    /// separately installed product it shows) lacks.
    Posture { product: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingUpdate {
    pub kb: KbId,
    /// Every reason check gives (drift and posture may both name a KB).
    pub because: Vec<MissingBecause>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeMissing {
    pub node: String,
    /// In KB order.
    pub updates: Vec<MissingUpdate>,
}

/// One cluster's drift and per-node posture, judged as `check` judges
/// every cluster (the same functions, the same order of nodes).
pub fn judge_cluster(
    cluster: &Cluster,
    engine: &PostureEngine,
    as_of: Option<Date>,
    k: &dyn Knowledge,
) -> ClusterReport {
    ClusterReport {
        name: cluster.name.clone(),
        drift: cluster_drift(cluster, k),
        posture: cluster
            .nodes
            .iter()
            .map(|n| engine.node_posture_in(n, &cluster.nodes, as_of, k))
            .collect(),
    }
}

/// The updates check reports missing, per node (in the cluster's node
/// order; nodes that lack nothing are left out). The drift groups in a gap
/// class and the postures' applicable chain heads are exactly what the
/// findings named above are made from.
pub fn missing_updates(report: &ClusterReport) -> Vec<NodeMissing> {
    type Reasons = BTreeMap<KbId, Vec<MissingBecause>>;
    let mut per_node: Vec<(String, Reasons)> = report
        .drift
        .nodes
        .iter()
        .map(|n| (n.name.clone(), Reasons::new()))
        .collect();
    let mut at: HashMap<String, usize> = per_node
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.clone(), i))
        .collect();
    let mut add = |name: &str, kb: KbId, why: MissingBecause| {
        let i = *at.entry(name.to_string()).or_insert_with(|| {
            per_node.push((name.to_string(), Reasons::new()));
            per_node.len() - 1
        });
        if let Some((_, m)) = per_node.get_mut(i) {
            let reasons = m.entry(kb).or_default();
            if !reasons.contains(&why) {
                reasons.push(why);
            }
        }
    };
    for g in &report.drift.groups {
        if matches!(g.class, DriftClass::Missing | DriftClass::Suspect) {
            for n in &g.absent_on {
                add(n, g.kb, MissingBecause::Drift { class: g.class });
            }
        }
    }
    for p in &report.posture {
        for prod in p
            .products
            .iter()
            .filter(|x| x.applicable && !x.missing.is_empty())
        {
            for h in &prod.missing {
                add(
                    &p.node,
                    h.kb,
                    MissingBecause::Posture {
                        product: prod.product.to_string(),
                    },
                );
            }
        }
    }
    per_node
        .into_iter()
        .filter(|(_, m)| !m.is_empty())
        .map(|(node, m)| NodeMissing {
            node,
            updates: m
                .into_iter()
                .map(|(kb, because)| MissingUpdate { kb, because })
                .collect(),
        })
        .collect()
}
