//! Across the cluster: node order, waves, quorum and capacity per wave, and
//! what the inventory says about the cluster's health.

use super::PlanError;
use crate::keep_up::{Votes, capacity, capacity_known};
use crate::model::*;
use lockstep_model::Cluster;

/// Nodes with a real gap first, then fewest roles, then name; or the
/// admin's order, the nodes it omits following in that default order.
pub fn order_nodes(
    cluster: &Cluster,
    mut node_plans: Vec<NodePlan>,
    given: Option<&[String]>,
    target: Target,
    warnings: &mut Vec<String>,
) -> Result<(Vec<NodePlan>, String), PlanError> {
    node_plans.sort_by(|a, b| {
        b.gap
            .cmp(&a.gap)
            .then_with(|| a.roles.unwrap_or(0).cmp(&b.roles.unwrap_or(0)))
            .then_with(|| a.name.cmp(&b.name))
    });
    let Some(given) = given else {
        return Ok((node_plans, "gaps-first".to_string()));
    };
    let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    let mut ordered = Vec::new();
    for g in given {
        let g = g.trim();
        let Some(real) = names.iter().find(|n| n.eq_ignore_ascii_case(g)) else {
            return Err(PlanError::UnknownOrderNode(
                g.to_string(),
                cluster.name.clone(),
                names.join(", "),
            ));
        };
        match node_plans.iter().position(|p| &p.name == real) {
            Some(i) => ordered.push(node_plans.remove(i)),
            None => {
                if !ordered.iter().any(|p: &NodePlan| &p.name == real) {
                    warnings.push(format!(
                        "--order names {real}, which has nothing to do under --target {}",
                        target.label()
                    ));
                }
            }
        }
    }
    ordered.append(&mut node_plans);
    Ok((ordered, "given".to_string()))
}

/// Facts the inventory lacks (the scripts check them live) and its health
/// at capture time (warnings: the live gates decide).
pub fn inventory_notes(
    cluster: &Cluster,
    settings: &PlanSettings,
    votes: &Votes,
    unverified: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    if let Some(note) = votes.assumed() {
        unverified.push(format!(
            "node votes and the quorum witness: {note} — the script checks quorum live before each node"
        ));
    } else if !votes.verified {
        unverified.push("node votes (NodeWeight) of some nodes: not in the inventory, assumed 1 — the script checks quorum live".to_string());
    }
    if !capacity_known(cluster) {
        unverified.push("VMs and host memory: not in the inventory — the script checks live, before draining each node, that its running VMs fit on the nodes that stay up".to_string());
    }
    if !cluster.nodes.iter().all(|n| n.pending_reboot.is_some()) {
        unverified.push("pending reboots: not in the inventory — checked live on each node before it is drained".to_string());
    }
    let csv_states = cluster
        .protection
        .csv_states
        .as_ref()
        .and_then(|s| s.data());
    if csv_states.is_none() {
        unverified.push("CSV state: not in the inventory — checked live (Direct, or FileSystemReFs redirection only) before and after each node".to_string());
    }
    for n in &cluster.nodes {
        if let Some(s) = &n.state
            && !s.state.eq_ignore_ascii_case("Up")
        {
            warnings.push(format!(
                "{} was {} in the inventory; the health gate requires every node Up",
                n.name, s.state
            ));
        }
        if n.pending_reboot.is_some_and(|p| p.any()) {
            warnings.push(format!("{} had a reboot pending in the inventory; the gate stops before it until it is restarted", n.name));
        }
    }
    if let Some(gs) = cluster.state.as_ref().and_then(|s| s.groups.as_ref()) {
        for g in gs {
            let allowed = settings
                .allow_offline_groups
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&g.name));
            if !g.state.eq_ignore_ascii_case("Online")
                && g.group_type.as_deref() != Some("AvailableStorage")
                && !allowed
            {
                warnings.push(format!("cluster group {:?} was {} in the inventory; the gate requires every group Online (--allow-offline-group names one that may stay offline)", g.name, g.state));
            }
        }
    }
    if let Some(states) = csv_states {
        use lockstep_model::protection::{CsvStateInfo, FsRedirectReason};
        for s in states {
            let refs_only = s.state == CsvStateInfo::FileSystemRedirected
                && s.fs_reason.0 == FsRedirectReason::FileSystemReFs;
            if s.state != CsvStateInfo::Direct && !refs_only {
                warnings.push(format!(
                    "CSV {} was {:?} on {} ({}) in the inventory; the gate requires Direct",
                    s.volume, s.state, s.node, s.fs_reason
                ));
            }
        }
    }
}

pub struct Rolling {
    pub waves: Vec<Wave>,
    pub capacity: Vec<CapacityCheck>,
    pub quorum: QuorumCheck,
    pub refusals: Vec<String>,
    pub max_wave: usize,
}

/// Waves of `max_parallel` nodes after a lone canary, where quorum and
/// capacity allow; a wave that would not is split into single nodes, and a
/// single node that would not is refused with the numbers.
pub fn waves(
    cluster: &Cluster,
    node_plans: &[NodePlan],
    settings: &PlanSettings,
    votes: &Votes,
    soak_seconds: Option<u64>,
    warnings: &mut Vec<String>,
    unverified: &mut Vec<String>,
) -> Rolling {
    let known = capacity_known(cluster);
    let reserve = settings.memory_reserve_bytes;
    let check = |wave: &[String]| {
        let cap = known.then(|| capacity(cluster, wave, &votes.down, reserve));
        (votes.keeps_quorum(wave), cap)
    };
    let mut waves: Vec<Wave> = Vec::new();
    let mut capacity_checks = Vec::new();
    let mut refusals = Vec::new();
    let mut max_wave = 0usize;
    let mut quorum_lost: Vec<String> = Vec::new();
    let mut i = 0;
    while i < node_plans.len() {
        let size = if i == 0 {
            1
        } else {
            settings.max_parallel as usize
        };
        let candidate: Vec<String> = node_plans
            .iter()
            .skip(i)
            .take(size)
            .map(|p| p.name.clone())
            .collect();
        let (q_ok, cap) = check(&candidate);
        let cap_ok = !matches!(&cap, Some(Ok(c)) if !c.fits);
        let chosen: Vec<Vec<String>> = if (q_ok && cap_ok) || candidate.len() == 1 {
            vec![candidate.clone()]
        } else {
            warnings.push(format!(
                "--max-parallel {}: taking {} down together would {}; they go one at a time",
                settings.max_parallel,
                candidate.join(", "),
                if !q_ok {
                    "lose quorum"
                } else {
                    "exceed the memory the other nodes have free"
                }
            ));
            candidate.iter().map(|n| vec![n.clone()]).collect()
        };
        for wave in chosen {
            let (q_ok, cap) = check(&wave);
            if !q_ok {
                quorum_lost.push(format!(
                    "taking {} down leaves {} of {} votes, fewer than the majority of {}",
                    wave.join(", "),
                    votes.left(&wave),
                    votes.total(),
                    votes.majority()
                ));
            }
            match cap {
                Some(Ok(c)) => {
                    if !c.fits {
                        refusals.push(format!("capacity: {}", c.explanation));
                    }
                    capacity_checks.push(c);
                }
                Some(Err(why)) => {
                    unverified.push(format!("capacity of {}: {why}", wave.join(", ")))
                }
                None => {}
            }
            max_wave = max_wave.max(wave.len());
            waves.push(Wave {
                nodes: wave,
                soak_seconds: None,
            });
        }
        i += candidate.len();
    }
    // Waves of one only because there are too few nodes, which the splits
    // above do not say; with no node to change there is nothing to say.
    let too_few = match node_plans.len() {
        1 => Some("only one node changes"),
        2 => Some("only 2 nodes change and the first is the canary, which always goes alone"),
        _ => None,
    };
    if settings.max_parallel > 1
        && max_wave <= 1
        && let Some(why) = too_few
    {
        warnings.push(format!(
            "--max-parallel {}: {why}; every node goes alone",
            settings.max_parallel
        ));
    }
    if waves.len() > 1
        && let Some(first) = waves.first_mut()
    {
        first.soak_seconds = soak_seconds;
    }
    let mut explanation = votes.describe();
    if let Some(note) = votes.assumed() {
        explanation.push_str(&format!(" (assumed: {note})"));
    }
    if quorum_lost.is_empty() {
        if max_wave > 0 {
            let worst = waves
                .iter()
                .map(|w| votes.left(&w.nodes))
                .min()
                .unwrap_or(votes.total());
            explanation.push_str(&format!(
                "; with {} node{} down at a time at least {} vote{} stay{} up — quorum kept",
                max_wave,
                if max_wave == 1 { "" } else { "s" },
                worst,
                if worst == 1 { "" } else { "s" },
                if worst == 1 { "s" } else { "" }
            ));
        }
    } else {
        explanation.push_str(&format!(
            "; {} — quorum would be lost",
            quorum_lost.join("; ")
        ));
        refusals.push(format!(
            "quorum: {explanation}. A cluster that loses quorum stops every role. {}",
            votes.remedy()
        ));
    }
    Rolling {
        waves,
        capacity: capacity_checks,
        quorum: QuorumCheck {
            total_votes: votes.total(),
            witness: votes.witness.clone(),
            majority: votes.majority(),
            verified: votes.verified,
            dynamic: votes.dynamic,
            explanation,
        },
        refusals,
        max_wave,
    }
}
