//! What each node must install under the target, and what is left alone.
//!
//! * `secure`: exactly what `check` reports missing on the node
//!   ([`lockstep_check::missing::missing_updates`] over check's own result):
//!   the drift gaps (missing, suspect) and the chain heads its posture lacks.
//! * `converge`: every drift the nodes can be brought out of by installing.
//!   A node that lacks an update because a newer one it has covers it is
//!   not taken down to it when the nodes that have the older update lack
//!   the newer one: those lagging nodes are raised instead (they get the
//!   newer update through its own drift). Removing and reinstalling is left
//!   for the case where the nodes that have the older update also have the
//!   newer one, so both must be present everywhere (KB2616676).

use crate::model::{LeftAlone, Target};
use lockstep_check::drift::{DriftClass, DriftGroup};
use lockstep_check::knowledge::VerdictKind;
use lockstep_check::missing::{MissingBecause, missing_updates};
use lockstep_check::run::ClusterReport;
use lockstep_model::{Cluster, KbId, KbSet};
use std::collections::{BTreeMap, HashMap};

/// Why one update is installed on one node.
#[derive(Debug, Clone)]
pub struct Need {
    pub reason: String,
    /// A real gap (missing, suspect, or missing against the catalog).
    pub gap: bool,
}

pub struct Needs {
    pub per_node: BTreeMap<String, BTreeMap<KbId, Need>>,
    pub left_alone: Vec<LeftAlone>,
}

fn present_note(present_on: &[String]) -> String {
    if present_on.is_empty() {
        String::new()
    } else {
        format!(" (present on {})", present_on.join(", "))
    }
}

/// Why a drift group is left alone under a target.
fn left_alone_reason(g: &DriftGroup, target: Target, lagging: &[String]) -> String {
    let what = match g.class {
        DriftClass::Covered => {
            if let Some(b) = &g.covered_by_build {
                format!(
                    "covered by the node's build {} (at or past the fixed build {}), so Windows would refuse it as not applicable",
                    b.node_version, b.fixed_build
                )
            } else {
                let top = g.chain.last().map(|e| e.newer.to_string()).unwrap_or_default();
                let intended = g.chain.iter().find_map(|e| {
                    e.verdict
                        .as_ref()
                        .filter(|v| v.kind == VerdictKind::Intended)
                        .map(|v| v.known_issue.clone())
                });
                let mut s = match intended {
                    Some(ki) => format!("covered by {top}, supersedence intended (known issue {ki})"),
                    None => format!("covered by {top}"),
                };
                if !lagging.is_empty() {
                    s.push_str(&format!(
                        "; {} lack{} {top} and {} raised to it instead of {top} being removed here",
                        lagging.join(", "),
                        if lagging.len() == 1 { "s" } else { "" },
                        if lagging.len() == 1 { "is" } else { "are" }
                    ));
                }
                s
            }
        }
        DriftClass::Unknown => "no catalog data, so whether it is a gap cannot be told (import a catalog: lockstep catalog update)".to_string(),
        DriftClass::NotApplicable => format!(
            "not published for {}, so it cannot be installed there",
            g.product.as_deref().unwrap_or("the node's product")
        ),
        DriftClass::Missing | DriftClass::Suspect => "a gap".to_string(),
    };
    let why = match (g.class, target) {
        (DriftClass::NotApplicable, _) => "left alone under every target".to_string(),
        _ => format!("left alone under --target {}", target.label()),
    };
    format!("{} on {}: {what} — {why}", g.kb, g.absent_on.join(", "))
}

fn drift_reason(g: &DriftGroup) -> String {
    let why = match g.class {
        DriftClass::Missing => "missing: no installed update supersedes it".to_string(),
        DriftClass::Suspect => {
            "suspect: covered only through a doubtful supersedence edge".to_string()
        }
        DriftClass::Covered => format!(
            "covered{}; installed so the nodes carry the same updates",
            g.chain
                .last()
                .map(|e| format!(" by {}", e.newer))
                .unwrap_or_default()
        ),
        DriftClass::Unknown => {
            "unknown to the catalog; installed so the nodes carry the same updates".to_string()
        }
        DriftClass::NotApplicable => String::new(),
    };
    format!("{why}{}", present_note(&g.present_on))
}

pub fn needs(cluster: &Cluster, report: &ClusterReport, target: Target) -> Needs {
    let mut per_node: BTreeMap<String, BTreeMap<KbId, Need>> = BTreeMap::new();
    let mut left_alone = Vec::new();
    match target {
        Target::Secure => {
            let groups: HashMap<(KbId, &str), &DriftGroup> = report
                .drift
                .groups
                .iter()
                .flat_map(|g| g.absent_on.iter().map(move |n| ((g.kb, n.as_str()), g)))
                .collect();
            for node in missing_updates(report) {
                let m = per_node.entry(node.node.clone()).or_default();
                for u in node.updates {
                    let mut reasons = Vec::new();
                    for b in &u.because {
                        match b {
                            MissingBecause::Drift { .. } => {
                                if let Some(g) = groups.get(&(u.kb, node.node.as_str())) {
                                    reasons.push(drift_reason(g));
                                }
                            }
                            MissingBecause::Posture { product } => reasons.push(format!(
                                "missing against the catalog for {product}: the newest missing update of its chain"
                            )),
                        }
                    }
                    m.insert(
                        u.kb,
                        Need {
                            reason: reasons.join("; "),
                            gap: true,
                        },
                    );
                }
            }
            for g in &report.drift.groups {
                if !target.closes(g.class) {
                    left_alone.push(LeftAlone {
                        kb: g.kb,
                        nodes: g.absent_on.clone(),
                        class: g.class,
                        reason: left_alone_reason(g, target, &[]),
                    });
                }
            }
        }
        Target::Converge => {
            let installed: HashMap<&str, KbSet> = cluster
                .nodes
                .iter()
                .map(|n| (n.name.as_str(), n.updates.iter().map(|u| u.kb).collect()))
                .collect();
            for g in &report.drift.groups {
                // The nodes that have the absent update but lack the one
                // that covers it: they are raised, not the others lowered.
                let lagging: Vec<String> = match (g.class, g.chain.last()) {
                    (DriftClass::Covered, Some(top)) => g
                        .present_on
                        .iter()
                        .filter(|n| {
                            !installed
                                .get(n.as_str())
                                .is_some_and(|s| s.contains(&top.newer))
                        })
                        .cloned()
                        .collect(),
                    _ => Vec::new(),
                };
                let build_covered = g.class == DriftClass::Covered && g.covered_by_build.is_some();
                if target.closes(g.class) && lagging.is_empty() && !build_covered {
                    let reason = drift_reason(g);
                    for n in &g.absent_on {
                        per_node.entry(n.clone()).or_default().insert(
                            g.kb,
                            Need {
                                reason: reason.clone(),
                                gap: matches!(g.class, DriftClass::Missing | DriftClass::Suspect),
                            },
                        );
                    }
                } else {
                    left_alone.push(LeftAlone {
                        kb: g.kb,
                        nodes: g.absent_on.clone(),
                        class: g.class,
                        reason: left_alone_reason(g, target, &lagging),
                    });
                }
            }
        }
    }
    per_node.retain(|_, m| !m.is_empty());
    Needs {
        per_node,
        left_alone,
    }
}
