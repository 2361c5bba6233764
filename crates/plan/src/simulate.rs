//! Replays a plan on the inventory model and reports every broken
//! invariant: an uninstall of an absent update, an install while an
//! installed update supersedes it (Windows: not applicable), a step outside
//! drain … resume, more nodes down than the plan allows, quorum lost,
//! drained VMs that do not fit, and a final state that does not meet the
//! target. The property tests run it over random clusters.

use crate::model::{Plan, PlanStatus, Step};
use crate::planner::supersede_closure;
use lockstep_check::drift::cluster_drift;
use lockstep_check::knowledge::Knowledge;
use lockstep_model::{Cluster, InstalledUpdate, SourceRef};

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
    let weight = |name: &str| {
        cluster
            .nodes
            .iter()
            .find(|n| n.name == name)
            .and_then(|n| n.state.as_ref().and_then(|s| s.node_weight))
            .unwrap_or(1)
    };
    let witness = u32::from(cluster.state.as_ref().is_some_and(|s| s.witness.is_some()));
    let total: u32 = cluster.nodes.iter().map(|n| weight(&n.name)).sum::<u32>() + witness;
    let majority = total / 2 + 1;
    let mut max_down = 0;
    let mut min_votes_up = total;
    for wave in &plan.waves {
        if wave.nodes.len() as u32 > plan.settings.max_parallel.max(1) {
            v.push(format!(
                "wave {:?} takes more nodes down than --max-parallel {}",
                wave.nodes, plan.settings.max_parallel
            ));
        }
        max_down = max_down.max(wave.nodes.len());
        let up: u32 = cluster
            .nodes
            .iter()
            .filter(|n| !wave.nodes.contains(&n.name))
            .map(|n| weight(&n.name))
            .sum::<u32>()
            + witness;
        min_votes_up = min_votes_up.min(up);
        if up < majority {
            v.push(format!(
                "quorum lost with {:?} down: {up} of {total} votes",
                wave.nodes
            ));
        }
        if c.nodes
            .iter()
            .all(|n| n.vms.is_some() && n.memory.is_some())
        {
            let need: u64 = c
                .nodes
                .iter()
                .filter(|n| wave.nodes.contains(&n.name))
                .flat_map(|n| n.vms.iter().flatten())
                .map(|vm| vm.memory_assigned_bytes)
                .sum();
            let free: u64 = c
                .nodes
                .iter()
                .filter(|n| !wave.nodes.contains(&n.name))
                .map(|n| {
                    n.memory.map_or(0, |m| {
                        m.free_bytes.unwrap_or_else(|| {
                            m.total_bytes.saturating_sub(
                                n.vms
                                    .iter()
                                    .flatten()
                                    .map(|vm| vm.memory_assigned_bytes)
                                    .sum(),
                            )
                        })
                    })
                })
                .sum();
            if need > free {
                v.push(format!(
                    "capacity exceeded with {:?} down: need {need}, free {free}",
                    wave.nodes
                ));
            }
        }
        for name in &wave.nodes {
            let Some(np) = plan.node(name) else {
                v.push(format!("wave names {name}, which has no node plan"));
                continue;
            };
            let Some(node) = c.nodes.iter_mut().find(|n| &n.name == name) else {
                v.push(format!("{name} is not a node of the cluster"));
                continue;
            };
            let product = k.product_of(&node.os);
            if np.steps.first() != Some(&Step::Drain) || np.steps.last() != Some(&Step::Resume) {
                v.push(format!(
                    "{name}: steps do not start with drain and end with resume"
                ));
            }
            let mut changed_since_reboot = false;
            for step in &np.steps {
                match step {
                    Step::Uninstall { kb, .. } => {
                        if !node.has_kb(*kb) {
                            v.push(format!("{name}: uninstall of {kb}, which is not installed"));
                        }
                        node.updates.retain(|u| u.kb != *kb);
                        changed_since_reboot = true;
                    }
                    Step::Install { kb, .. } => {
                        if let Some(p) = &product {
                            let sup = supersede_closure(*kb, p, k);
                            if let Some(b) = node.updates.iter().find(|u| sup.contains(&u.kb)) {
                                v.push(format!("{name}: install of {kb} while {} (which supersedes it) is installed: not applicable", b.kb));
                            }
                        }
                        if !node.has_kb(*kb) {
                            node.updates.push(InstalledUpdate {
                                kb: *kb,
                                id_text: None,
                                description: None,
                                installed_on: None,
                                installed_by: None,
                                source: SourceRef::new("simulated", 0),
                            });
                        }
                        changed_since_reboot = true;
                    }
                    Step::Reboot { .. } => changed_since_reboot = false,
                    Step::Verify { present } => {
                        if changed_since_reboot {
                            v.push(format!("{name}: verify before the reboot"));
                        }
                        for kb in present {
                            if !node.has_kb(*kb) {
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
        }
    }
    if plan.status != PlanStatus::Refused {
        let after = cluster_drift(&c, k);
        for g in &after.groups {
            if plan.target.closes(g.class) {
                v.push(format!(
                    "after the plan, {} is still {} on {:?} (target {})",
                    g.kb,
                    g.class.label(),
                    g.absent_on,
                    plan.target.label()
                ));
            }
        }
        let before = cluster_drift(cluster, k);
        for g in &before.groups {
            if plan.target.closes(g.class) {
                for n in &g.absent_on {
                    if !c.nodes.iter().any(|x| &x.name == n && x.has_kb(g.kb)) {
                        v.push(format!(
                            "{} needed on {n} under --target {} but not installed",
                            g.kb,
                            plan.target.label()
                        ));
                    }
                }
            }
        }
    }
    SimReport {
        violations: v,
        final_cluster: c,
        max_down,
        min_votes_up,
    }
}
