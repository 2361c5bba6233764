//! What keeps the cluster up while nodes are down: the quorum arithmetic
//! and the capacity check. The planner builds its waves with these and the
//! simulator replays the plan with the same ones, from the plan's settings
//! (what the admin stated) and the inventory.

use crate::model::{CapacityCheck, PlanSettings};
use crate::quote::gib;
use lockstep_model::Cluster;
use lockstep_model::capabilities::witness_advice;
use std::collections::{BTreeMap, BTreeSet};

/// Where the witness fact comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Said {
    Inventory,
    Admin,
    Assumed,
}

pub struct Votes {
    /// Votes counted now per node: DynamicWeight where dynamic quorum is
    /// in use and the inventory shows it, else NodeWeight (or the admin's).
    per_node: BTreeMap<String, u32>,
    /// Configured votes (NodeWeight or the admin's), for the explanation.
    configured: BTreeMap<String, u32>,
    pub witness: Option<String>,
    witness_said: Said,
    /// Nodes already down in the inventory.
    pub down: BTreeSet<String>,
    pub verified: bool,
    pub dynamic: bool,
    /// The oldest OS release among the nodes, for the witness advice.
    oldest: Option<lockstep_model::WinVersion>,
}

impl Votes {
    pub fn of(cluster: &Cluster, settings: &PlanSettings) -> Votes {
        let mut per_node = BTreeMap::new();
        let mut configured = BTreeMap::new();
        let mut verified = true;
        let mut down = BTreeSet::new();
        let admin_votes = !settings.node_votes.is_empty();
        let dynamic = !admin_votes
            && !cluster.nodes.is_empty()
            && cluster
                .nodes
                .iter()
                .all(|n| n.state.as_ref().is_some_and(|s| s.dynamic_weight.is_some()));
        for n in &cluster.nodes {
            let stated = settings
                .node_votes
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(&n.name))
                .map(|(_, v)| *v);
            let w = match stated.or(n.state.as_ref().and_then(|s| s.node_weight)) {
                Some(w) => w,
                None => {
                    verified = false;
                    1
                }
            };
            if let Some(s) = &n.state
                && !s.state.eq_ignore_ascii_case("Up")
                && !s.state.eq_ignore_ascii_case("Paused")
            {
                down.insert(n.name.clone());
            }
            configured.insert(n.name.clone(), w);
            let now = if dynamic {
                n.state.as_ref().and_then(|s| s.dynamic_weight).unwrap_or(w)
            } else {
                w
            };
            per_node.insert(n.name.clone(), now);
        }
        let (witness, witness_said) = match settings.witness.as_deref() {
            Some("none") => (None, Said::Admin),
            Some(kind) => (Some(kind.to_string()), Said::Admin),
            None => match &cluster.state {
                Some(s) => (s.witness.as_ref().map(|w| w.kind.clone()), Said::Inventory),
                None => {
                    verified = false;
                    (None, Said::Assumed)
                }
            },
        };
        let oldest = cluster
            .nodes
            .iter()
            .filter_map(|n| n.os.version.as_ref().map(|v| v.value))
            .min();
        Votes {
            per_node,
            configured,
            witness,
            witness_said,
            down,
            verified,
            dynamic,
            oldest,
        }
    }

    pub fn total(&self) -> u32 {
        self.per_node.values().sum::<u32>() + u32::from(self.witness.is_some())
    }

    pub fn majority(&self) -> u32 {
        self.total() / 2 + 1
    }

    /// Votes left when `wave` is down (nodes already down count as down).
    pub fn left(&self, wave: &[String]) -> u32 {
        let nodes: u32 = self
            .per_node
            .iter()
            .filter(|(n, _)| !wave.contains(n) && !self.down.contains(*n))
            .map(|(_, w)| *w)
            .sum();
        nodes + u32::from(self.witness.is_some())
    }

    pub fn keeps_quorum(&self, wave: &[String]) -> bool {
        self.left(wave) >= self.majority()
    }

    /// What the inventory lacked, for the plan's "not verifiable" list.
    pub fn assumed(&self) -> Option<&'static str> {
        if self.witness_said == Said::Assumed {
            Some(
                "the inventory has no cluster state (plain systeminfo captures): every node is assumed to have a vote and the cluster no witness",
            )
        } else {
            None
        }
    }

    pub fn describe(&self) -> String {
        let configured: u32 = self.configured.values().sum();
        let witness = match (&self.witness, self.witness_said) {
            (Some(w), Said::Admin) => format!("a witness ({w}, as the admin states)"),
            (Some(w), _) => format!("a witness ({w})"),
            (None, Said::Admin) => "no witness (as the admin states)".to_string(),
            (None, _) => "no witness".to_string(),
        };
        let mut s = format!(
            "{configured} node vote{} and {witness}",
            if configured == 1 { "" } else { "s" },
        );
        if self.dynamic {
            let without: Vec<&str> = self
                .per_node
                .iter()
                .filter(|(n, w)| **w == 0 && self.configured.get(*n).is_some_and(|c| *c > 0))
                .map(|(n, _)| n.as_str())
                .collect();
            if !without.is_empty() {
                s.push_str(&format!(
                    "; dynamic quorum has taken the vote of {} (DynamicWeight 0), so {} do{} not count",
                    without.join(", "),
                    if without.len() == 1 { "it" } else { "they" },
                    if without.len() == 1 { "es" } else { "" }
                ));
            }
        }
        let total = self.total();
        format!(
            "{s}: {total} vote{}, majority {}",
            if total == 1 { "" } else { "s" },
            self.majority()
        )
    }

    /// What to do when a node cannot go down without losing quorum.
    pub fn remedy(&self) -> String {
        let advice = witness_advice(self.oldest.as_ref());
        if self.witness_said == Said::Assumed {
            format!(
                "The inventory has no cluster state, so no witness was assumed: if the cluster has one, say so with --witness disk|file-share|cloud (witness = \"…\" in a fleet manifest), and state node votes with --node-votes; otherwise configure a witness ({advice}) or add a node, then plan again."
            )
        } else {
            format!("Configure a witness ({advice}) or add a node, then plan again.")
        }
    }
}

/// Memory the running VMs of `wave` need, against what the nodes that stay
/// up have free after keeping `reserve` each for themselves. First-fit
/// decreasing: a VM cannot be split across hosts, so the sum alone would be
/// optimistic. `Err` (the reason) when the inventory lacks the data.
pub fn capacity(
    cluster: &Cluster,
    wave: &[String],
    down: &BTreeSet<String>,
    reserve: u64,
) -> Result<CapacityCheck, String> {
    let mut demand: Vec<u64> = Vec::new();
    for name in wave {
        let node = cluster.nodes.iter().find(|n| &n.name == name);
        let vms = node
            .and_then(|n| n.vms.as_ref())
            .ok_or_else(|| format!("the VMs of {name} are not in the inventory"))?;
        for vm in vms {
            if vm.memory_assigned_bytes > 0 {
                demand.push(vm.memory_assigned_bytes);
            }
        }
    }
    let mut bins: Vec<(String, u64)> = Vec::new();
    for n in &cluster.nodes {
        if wave.contains(&n.name) || down.contains(&n.name) {
            continue;
        }
        let mem = n
            .memory
            .ok_or_else(|| format!("the memory of {} is not in the inventory", n.name))?;
        let free = match mem.free_bytes {
            Some(f) => f,
            None => {
                let own: u64 = n
                    .vms
                    .as_ref()
                    .map(|v| v.iter().map(|vm| vm.memory_assigned_bytes).sum())
                    .unwrap_or(0);
                mem.total_bytes.saturating_sub(own)
            }
        };
        bins.push((n.name.clone(), free.saturating_sub(reserve)));
    }
    let need: u64 = demand.iter().sum();
    let free_total: u64 = bins.iter().map(|b| b.1).sum();
    demand.sort_unstable_by(|a, b| b.cmp(a));
    let mut left: Vec<u64> = bins.iter().map(|b| b.1).collect();
    let mut fits = true;
    for d in &demand {
        match left.iter_mut().find(|l| **l >= *d) {
            Some(l) => *l -= d,
            None => {
                fits = false;
                break;
            }
        }
    }
    let others = bins
        .iter()
        .map(|(n, f)| format!("{n} {}", gib(*f)))
        .collect::<Vec<_>>()
        .join(", ");
    let explanation = format!(
        "{}'s running VMs need {} ({} VM{} by assigned memory); the nodes that stay up have {} free{} ({}){}",
        wave.join(", "),
        gib(need),
        demand.len(),
        if demand.len() == 1 { "" } else { "s" },
        gib(free_total),
        if reserve > 0 {
            format!(" after keeping {} each for the host", gib(reserve))
        } else {
            String::new()
        },
        if others.is_empty() {
            "none".to_string()
        } else {
            others
        },
        if fits {
            " — they fit".to_string()
        } else if need <= free_total {
            " — they do not fit: no single node has room for the largest VMs".to_string()
        } else {
            " — they do not fit".to_string()
        }
    );
    Ok(CapacityCheck {
        nodes: wave.to_vec(),
        vm_memory_bytes: need,
        vm_count: demand.len(),
        free_bytes: free_total,
        fits,
        explanation,
    })
}

/// Whether the inventory has what the capacity check needs for every node.
pub fn capacity_known(cluster: &Cluster) -> bool {
    cluster
        .nodes
        .iter()
        .all(|n| n.vms.is_some() && n.memory.is_some())
}
