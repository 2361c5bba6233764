//! Replays a plan on the inventory model and reports every broken
//! invariant: an uninstall of an absent update, an install while an
//! installed update supersedes it (Windows: not applicable), an install
//! right after removing an update that needs a restart first, a step outside
//! drain … resume, more nodes down than the plan allows, quorum lost,
//! drained VMs that do not fit, and a final state that does not meet the
//! target (under `secure`: nothing the plan took from check as missing is still missing; under
//! `converge`: no drift the target closes is left but what the plan says it
//! leaves alone). `plan_cluster` runs it on every plan before returning it;
//! the property tests run it over random clusters.

use crate::graph::{Graph, is_cumulative};
use crate::keep_up::{Votes, capacity, capacity_known};
use crate::model::{Plan, PlanStatus, Step, Target};
use lockstep_check::drift::cluster_drift;
use lockstep_check::knowledge::Knowledge;
use lockstep_check::missing::{judge_cluster, missing_updates};
use lockstep_check::posture::PostureEngine;
use lockstep_model::{Cluster, InstalledUpdate, KbId, KbSet, SourceRef};
use std::collections::HashSet;

#[derive(Debug, Clone)]
pub struct SimReport {
    pub violations: Vec<String>,
    /// The cluster after the plan ran.
    pub final_cluster: Cluster,
    /// Most nodes down at once.
    pub max_down: usize,
    /// Fewest votes up at any time (node votes plus witness).
    pub min_votes_up: u32,
}

pub fn simulate(plan: &Plan, cluster: &Cluster, k: &dyn Knowledge) -> SimReport {
    let mut c = cluster.clone();
    let mut v = Vec::new();
    let votes = Votes::of(cluster, &plan.settings);
    let mut max_down = 0;
    let mut min_votes_up = votes.total();
    let check_capacity = capacity_known(cluster);
    for wave in &plan.waves {
        if wave.nodes.len() as u32 > plan.settings.max_parallel.max(1) {
            v.push(format!(
                "wave {:?} takes more nodes down than --max-parallel {}",
                wave.nodes, plan.settings.max_parallel
            ));
        }
        max_down = max_down.max(wave.nodes.len());
        let up = votes.left(&wave.nodes);
        min_votes_up = min_votes_up.min(up);
        if !votes.keeps_quorum(&wave.nodes) {
            v.push(format!(
                "quorum lost with {:?} down: {up} of {} votes",
                wave.nodes,
                votes.total()
            ));
        }
        if check_capacity
            && let Ok(cap) = capacity(
                &c,
                &wave.nodes,
                &votes.down,
                plan.settings.memory_reserve_bytes,
            )
            && !cap.fits
        {
            v.push(format!(
                "capacity exceeded with {:?} down: {}",
                wave.nodes, cap.explanation
            ));
        }
        for name in &wave.nodes {
            replay_node(plan, &mut c, name, k, &mut v);
        }
    }
    if plan.status != PlanStatus::Refused {
        target_met(plan, &c, k, &mut v);
    }
    SimReport {
        violations: v,
        final_cluster: c,
        max_down,
        min_votes_up,
    }
}

fn replay_node(plan: &Plan, c: &mut Cluster, name: &str, k: &dyn Knowledge, v: &mut Vec<String>) {
    let Some(np) = plan.node(name) else {
        v.push(format!("wave names {name}, which has no node plan"));
        return;
    };
    let Some(node) = c.nodes.iter_mut().find(|n| n.name == name) else {
        v.push(format!("{name} is not a node of the cluster"));
        return;
    };
    let product = k.product_of(&node.os);
    let mut graph = Graph::new(k, product.as_deref());
    if np.steps.first() != Some(&Step::Drain) || np.steps.last() != Some(&Step::Resume) {
        v.push(format!(
            "{name}: steps do not start with drain and end with resume"
        ));
    }
    let mut installed: KbSet = node.updates.iter().map(|u| u.kb).collect();
    let mut removed: HashSet<KbId> = HashSet::new();
    let mut changed_since_reboot = false;
    // Removed since the last restart, needing one before the next install.
    let mut restart_owed: Vec<KbId> = Vec::new();
    for step in &np.steps {
        match step {
            Step::Uninstall { kb, .. } => {
                if !installed.remove(kb) {
                    v.push(format!("{name}: uninstall of {kb}, which is not installed"));
                }
                removed.insert(*kb);
                let needs_restart = is_cumulative(graph.kind(*kb))
                    || product
                        .as_deref()
                        .and_then(|p| k.restart_required(*kb, p))
                        .unwrap_or(false);
                if needs_restart {
                    restart_owed.push(*kb);
                }
                changed_since_reboot = true;
            }
            Step::Install { kb, .. } => {
                if let Some(b) = graph.installed_above(*kb, &installed) {
                    v.push(format!(
                        "{name}: install of {kb} while {b} (which supersedes it) is installed: not applicable"
                    ));
                }
                if !restart_owed.is_empty() {
                    v.push(format!(
                        "{name}: install of {kb} before the restart that removing {} needs",
                        restart_owed
                            .iter()
                            .map(|k| k.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    restart_owed.clear();
                }
                installed.insert(*kb);
                changed_since_reboot = true;
            }
            Step::Reboot { .. } => {
                changed_since_reboot = false;
                restart_owed.clear();
            }
            Step::Verify { present } => {
                if changed_since_reboot {
                    v.push(format!("{name}: verify before the reboot"));
                }
                for kb in present {
                    if !installed.contains(kb) {
                        v.push(format!(
                            "{name}: verify expects {kb}, which is not installed"
                        ));
                    }
                }
            }
            Step::Drain | Step::Resume => {}
        }
    }
    if changed_since_reboot {
        v.push(format!("{name}: changes left without a reboot"));
    }
    node.updates.retain(|u| installed.contains(&u.kb));
    let have: KbSet = node.updates.iter().map(|u| u.kb).collect();
    let mut added: Vec<KbId> = installed.difference(&have).copied().collect();
    added.sort();
    for kb in added {
        node.updates.push(InstalledUpdate {
            kb,
            id_text: None,
            description: None,
            installed_on: None,
            installed_by: None,
            source: SourceRef::new("simulated", 0),
        });
    }
}

/// The target is met on the cluster after the plan.
fn target_met(plan: &Plan, after: &Cluster, k: &dyn Knowledge, v: &mut Vec<String>) {
    match plan.target {
        Target::Secure => {
            // What check reported missing (the plan's installs, taken from
            // check's result) is missing no more. An install can make check
            // judge more on the next run (a rollup that also ships for a
            // separately installed product makes that product show): not a
            // failure of this plan.
            let was: HashSet<(String, KbId)> = plan
                .nodes
                .iter()
                .flat_map(|n| n.installs.iter().map(move |kb| (n.name.clone(), *kb)))
                .collect();
            for n in missing_updates(&judge_cluster(after, &PostureEngine::default(), None, k)) {
                let still: Vec<String> = n
                    .updates
                    .iter()
                    .filter(|u| was.contains(&(n.node.clone(), u.kb)))
                    .map(|u| u.kb.to_string())
                    .collect();
                if !still.is_empty() {
                    v.push(format!(
                        "after the plan, check still reports {} missing on {} (target secure)",
                        still.join(", "),
                        n.node
                    ));
                }
            }
        }
        Target::Converge => {
            let left: HashSet<(KbId, &str)> = plan
                .left_alone
                .iter()
                .flat_map(|l| l.nodes.iter().map(move |n| (l.kb, n.as_str())))
                .collect();
            for g in &cluster_drift(after, k).groups {
                if !plan.target.closes(g.class) {
                    continue;
                }
                let open: Vec<&String> = g
                    .absent_on
                    .iter()
                    .filter(|n| !left.contains(&(g.kb, n.as_str())))
                    .collect();
                if !open.is_empty() {
                    v.push(format!(
                        "after the plan, {} is still {} on {:?} (target converge)",
                        g.kb,
                        g.class.label(),
                        open
                    ));
                }
            }
        }
    }
}
