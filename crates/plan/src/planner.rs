//! From a cluster's drift to an ordered, rolling plan.
//!
//! ## Per node
//!
//! For every drift group the target closes, each node that lacks the KB must
//! install it. What blocks a plain install is supersedence: Windows answers
//! "not applicable" (0x80240017) when an installed update supersedes the one
//! being installed, directly or through a chain. So for each needed KB the
//! planner walks the "superseded by" edges of the node's product upwards
//! (every path, not just the shortest the drift shows; edges a known issue
//! calls *wrong* are not walked, as in the drift) and collects every
//! *installed* update it meets: those are removed first and put back after.
//!
//! The install order is a topological order of the supersedence graph over
//! the updates to install (needed ones and reinstalls): an update goes in
//! before every update that supersedes it, ties by KB number. Removals run
//! newest first for the same reason.
//!
//! ## Reboots
//!
//! One reboot per node, at the end, after all installs — except when a
//! removed update is a cumulative one (LCU, monthly rollup, security-only
//! rollup, hotpatch): then the node also reboots between the removals and
//! the installs. Removing a cumulative update stages its removal as a
//! pending component-store operation that completes at restart; until then
//! the newer payload is still the active one and the older package's
//! applicability is evaluated against it, so an immediate install of the
//! older update can be refused as not applicable (or leave both pending and
//! the node in a mixed state). A plain hotfix such as KB2616676 (certificate
//! update) is removed immediately and needs no intermediate restart.
//! Servicing stack updates cannot be removed at all: a plan that would need
//! that is refused for the node.
//!
//! ## Across the cluster
//!
//! Nodes with work are ordered fewest roles first (cluster groups owned,
//! ties by name), or as `--order` says. The first node is the canary: it
//! runs alone and, with `--soak`, the rest waits. The others go in waves of
//! `--max-parallel` nodes when quorum and capacity allow that many down at
//! once; a wave that would not is split into single nodes (with a warning),
//! and a single node that would not is refused, with the numbers.

use crate::model::*;
use crate::quote::{InvalidValue, gib, validate_host, validate_package};
use lockstep_check::drift::{ClusterDrift, DriftClass, DriftGroup};
use lockstep_check::knowledge::{Knowledge, UpdateKind, VerdictKind};
use lockstep_model::{Cluster, KbId, Node};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub target: Target,
    /// Node order given by the user; nodes it omits follow in the default order.
    pub order: Option<Vec<String>>,
    pub max_parallel: u32,
    pub soak_seconds: Option<u64>,
    pub max_failed_nodes: u32,
    pub retries: u32,
    pub reboot_timeout_minutes: u32,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            target: Target::Converge,
            order: None,
            max_parallel: 1,
            soak_seconds: None,
            max_failed_nodes: 0,
            retries: 0,
            reboot_timeout_minutes: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Invalid(#[from] InvalidValue),
    #[error("--order names {0:?}, which is not a node of cluster {1} (nodes: {2})")]
    UnknownOrderNode(String, String, String),
    #[error("--max-parallel must be at least 1")]
    ZeroParallel,
}

/// Every installed update reachable upwards from `kb` ("superseded by",
/// transitively) on `product`, skipping edges a known issue calls wrong.
fn installed_superseders(
    kb: KbId,
    product: &str,
    installed: &HashSet<KbId>,
    k: &dyn Knowledge,
) -> BTreeSet<KbId> {
    let mut out = BTreeSet::new();
    for up in supersede_closure(kb, product, k) {
        if installed.contains(&up) {
            out.insert(up);
        }
    }
    out
}

/// All KBs that supersede `kb` on `product`, transitively.
pub(crate) fn supersede_closure(kb: KbId, product: &str, k: &dyn Knowledge) -> BTreeSet<KbId> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([kb]);
    while let Some(cur) = queue.pop_front() {
        for e in k.superseded_by(cur, product) {
            if e.verdict
                .as_ref()
                .is_some_and(|v| v.kind == VerdictKind::Wrong)
            {
                continue;
            }
            if e.newer != kb && seen.insert(e.newer) {
                queue.push_back(e.newer);
            }
        }
    }
    seen
}

/// Topological order: an update before every update that supersedes it.
/// Returns the order and whether a cycle (bad data) had to be broken.
fn install_order(
    kbs: &BTreeSet<KbId>,
    product: Option<&str>,
    k: &dyn Knowledge,
) -> (Vec<KbId>, bool) {
    let ups: BTreeMap<KbId, BTreeSet<KbId>> = kbs
        .iter()
        .map(|&kb| {
            let u = product
                .map(|p| supersede_closure(kb, p, k))
                .unwrap_or_default();
            (kb, u.intersection(kbs).copied().collect())
        })
        .collect();
    // indegree[b] = number of a that must come before b (b supersedes a).
    let mut before: BTreeMap<KbId, BTreeSet<KbId>> =
        kbs.iter().map(|&b| (b, BTreeSet::new())).collect();
    for (&a, sups) in &ups {
        for &b in sups {
            if b != a
                && let Some(s) = before.get_mut(&b)
            {
                s.insert(a);
            }
        }
    }
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    let mut cycle = false;
    while done.len() < kbs.len() {
        let ready = kbs
            .iter()
            .find(|b| !done.contains(*b) && before[*b].iter().all(|a| done.contains(a)));
        let next = match ready {
            Some(&b) => b,
            None => {
                cycle = true;
                match kbs.iter().find(|b| !done.contains(*b)) {
                    Some(&b) => b,
                    None => break,
                }
            }
        };
        done.insert(next);
        order.push(next);
    }
    (order, cycle)
}

fn mechanism_of(node: &Node) -> Mechanism {
    match node.os.version.as_ref().map(|v| v.value.major()) {
        Some(6) => Mechanism::Wusa,
        Some(m) if m >= 10 => Mechanism::Dism,
        _ => Mechanism::Auto,
    }
}

fn is_cumulative(kind: Option<UpdateKind>) -> bool {
    matches!(
        kind,
        Some(
            UpdateKind::Cumulative
                | UpdateKind::MonthlyRollup
                | UpdateKind::SecurityOnly
                | UpdateKind::Hotpatch
        )
    )
}

fn join(names: &[String]) -> String {
    names.join(", ")
}

fn kb_list(kbs: &[KbId]) -> String {
    kbs.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a drift group is left alone under a target.
fn left_alone_reason(g: &DriftGroup, target: Target) -> String {
    let what = match g.class {
        DriftClass::Covered => {
            if let Some(b) = &g.covered_by_build {
                format!(
                    "covered by the node's build {} (at or past the fixed build {})",
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
                match intended {
                    Some(ki) => format!("covered by {top}, supersedence intended (known issue {ki})"),
                    None => format!("covered by {top}"),
                }
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
    format!("{} on {}: {what} — {why}", g.kb, join(&g.absent_on))
}

struct Votes {
    per_node: BTreeMap<String, u32>,
    witness: Option<String>,
    down: BTreeSet<String>,
    verified: bool,
    assumed_note: Option<String>,
}

fn votes_of(cluster: &Cluster) -> Votes {
    let mut per_node = BTreeMap::new();
    let mut verified = true;
    let mut down = BTreeSet::new();
    for n in &cluster.nodes {
        let w = match n.state.as_ref().and_then(|s| s.node_weight) {
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
        per_node.insert(n.name.clone(), w);
    }
    let (witness, note) = match &cluster.state {
        Some(s) => (s.witness.as_ref().map(|w| w.kind.clone()), None),
        None => {
            verified = false;
            (
                None,
                Some("the inventory has no cluster state (plain systeminfo captures): every node is assumed to have a vote and the cluster no witness".to_string()),
            )
        }
    };
    Votes {
        per_node,
        witness,
        down,
        verified,
        assumed_note: note,
    }
}

impl Votes {
    fn total(&self) -> u32 {
        self.per_node.values().sum::<u32>() + u32::from(self.witness.is_some())
    }
    fn majority(&self) -> u32 {
        self.total() / 2 + 1
    }
    /// Votes left when `wave` is down (nodes already down count as down).
    fn left(&self, wave: &[String]) -> u32 {
        let nodes: u32 = self
            .per_node
            .iter()
            .filter(|(n, _)| !wave.contains(n) && !self.down.contains(*n))
            .map(|(_, w)| *w)
            .sum();
        nodes + u32::from(self.witness.is_some())
    }
    fn describe(&self) -> String {
        let node_votes: u32 = self.per_node.values().sum();
        format!(
            "{node_votes} node vote{} and {}: {} votes, majority {}",
            if node_votes == 1 { "" } else { "s" },
            match &self.witness {
                Some(w) => format!("a witness ({w})"),
                None => "no witness".to_string(),
            },
            self.total(),
            self.majority()
        )
    }
}

/// Memory the running VMs of `wave` need, and what the others have free.
/// `None` (with the reason) when the inventory lacks the data.
fn capacity_of(
    cluster: &Cluster,
    wave: &[String],
    down: &BTreeSet<String>,
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
        bins.push((n.name.clone(), free));
    }
    let need: u64 = demand.iter().sum();
    let free_total: u64 = bins.iter().map(|b| b.1).sum();
    // First-fit decreasing: a VM cannot be split across hosts, so the sum
    // alone would be optimistic.
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
        "{}'s running VMs need {} ({} VM{} by assigned memory); the nodes that stay up have {} free ({}){}",
        join(wave),
        gib(need),
        demand.len(),
        if demand.len() == 1 { "" } else { "s" },
        gib(free_total),
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

const GATES: &[&str] = &[
    "every cluster node is Up (Get-ClusterNode); the node being patched is Paused only while it is drained",
    "every Cluster Shared Volume is Direct on every node (Get-ClusterSharedVolumeState); FileSystemRedirected with reason FileSystemReFs alone is the normal state of a ReFS CSV",
    "every cluster group is Online (Get-ClusterGroup; Available Storage excepted)",
    "no reboot pending on the node (Component Based Servicing RebootPending, Windows Update RebootRequired, PendingFileRenameOperations)",
    "quorum: the votes of the nodes that stay up are a majority (Get-ClusterNode NodeWeight, Get-ClusterQuorum)",
    "capacity: the running VMs on the node, by assigned memory, fit in the free memory of the nodes that stay up (Get-VM, Win32_OperatingSystem)",
    "after the reboot: the node's updates are verified (Get-HotFix) and the node is resumed and Up",
];

/// Builds the plan for one cluster.
pub fn plan_cluster(
    cluster: &Cluster,
    drift: &ClusterDrift,
    k: &dyn Knowledge,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    if opts.max_parallel == 0 {
        return Err(PlanError::ZeroParallel);
    }
    for n in &cluster.nodes {
        validate_host("node name", &n.name)?;
    }
    let target = opts.target;
    let mut warnings = Vec::new();
    let mut unverified = Vec::new();
    let mut refusals = Vec::new();

    // What each node must install, and what is left alone.
    let mut need: BTreeMap<String, BTreeSet<KbId>> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, KbId), String> = BTreeMap::new();
    let mut left_alone = Vec::new();
    for g in &drift.groups {
        if target.closes(g.class) {
            for n in &g.absent_on {
                need.entry(n.clone()).or_default().insert(g.kb);
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
                        "unknown to the catalog; installed so the nodes carry the same updates"
                            .to_string()
                    }
                    DriftClass::NotApplicable => String::new(),
                };
                let on = if g.present_on.is_empty() {
                    String::new()
                } else {
                    format!(" (present on {})", join(&g.present_on))
                };
                reasons.insert((n.clone(), g.kb), format!("{why}{on}"));
            }
        } else {
            left_alone.push(LeftAlone {
                kb: g.kb,
                nodes: g.absent_on.clone(),
                class: g.class,
                reason: left_alone_reason(g, target),
            });
        }
    }

    // Per-node steps.
    let mut node_plans: Vec<NodePlan> = Vec::new();
    let groups = cluster.state.as_ref().and_then(|s| s.groups.as_ref());
    if groups.is_none() {
        unverified.push("cluster groups (roles per node): not in the inventory — nodes go in name order instead of fewest roles first; the script checks groups Online live".to_string());
    }
    for node in &cluster.nodes {
        let Some(needed) = need.get(&node.name) else {
            continue;
        };
        let product = k.product_of(&node.os).or_else(|| {
            drift
                .groups
                .iter()
                .find(|g| g.absent_on.contains(&node.name) && g.product.is_some())
                .and_then(|g| g.product.clone())
        });
        let installed: HashSet<KbId> = node.updates.iter().map(|u| u.kb).collect();
        let mut blockers: BTreeMap<KbId, BTreeSet<KbId>> = BTreeMap::new();
        if let Some(p) = &product {
            for &kb in needed {
                for b in installed_superseders(kb, p, &installed, k) {
                    blockers.entry(b).or_default().insert(kb);
                }
            }
        }
        let mechanism = mechanism_of(node);
        if let Some(v) = node.os.version.as_ref().filter(|v| v.value.major() < 6) {
            refusals.push(format!(
                "{}: Windows {} (XP / Server 2003 family) installs updates from update.exe packages, which lockstep does not drive; patch it by hand",
                node.name, v.value
            ));
            continue;
        }
        if let Some(ssu) = blockers.keys().find(|b| {
            product.as_deref().and_then(|p| k.kind(**b, p)) == Some(UpdateKind::ServicingStack)
        }) {
            refusals.push(format!(
                "{}: {} would have to be removed first, but it is a servicing stack update, which cannot be uninstalled",
                node.name, ssu
            ));
            continue;
        }
        let all: BTreeSet<KbId> = needed.iter().chain(blockers.keys()).copied().collect();
        let (order, cycle) = install_order(&all, product.as_deref(), k);
        if cycle {
            warnings.push(format!(
                "{}: the supersedence data has a cycle among {}; they are installed in KB order",
                node.name,
                kb_list(&order)
            ));
        }
        let removal_set: BTreeSet<KbId> = blockers.keys().copied().collect();
        let (removals, _) = install_order(&removal_set, product.as_deref(), k);
        let mut steps = vec![Step::Drain];
        for &b in removals.iter().rev() {
            let package = if mechanism == Mechanism::Dism {
                let needle = format!("kb{}~", b.number());
                node.packages
                    .as_ref()
                    .and_then(|ps| {
                        ps.iter().find(|p| {
                            p.name.to_ascii_lowercase().contains(&needle)
                                && !p.state.eq_ignore_ascii_case("Superseded")
                        })
                    })
                    .map(|p| p.name.clone())
            } else {
                None
            };
            if let Some(p) = &package {
                validate_package(p)?;
            }
            let blocked = blockers
                .get(&b)
                .map(|s| s.iter().copied().collect::<Vec<_>>())
                .unwrap_or_default();
            steps.push(Step::Uninstall {
                kb: b,
                package,
                reason: format!(
                    "it supersedes {}, which cannot be installed while it is present (not applicable, 0x80240017); reinstalled after",
                    kb_list(&blocked)
                ),
            });
        }
        let cumulative_removed: Vec<KbId> = removals
            .iter()
            .copied()
            .filter(|b| is_cumulative(product.as_deref().and_then(|p| k.kind(*b, p))))
            .collect();
        let mut reboots = 0;
        if !cumulative_removed.is_empty() {
            reboots += 1;
            steps.push(Step::Reboot {
                reason: format!(
                    "{} {} cumulative: its removal completes only at restart, and the older update's applicability is judged against it until then",
                    kb_list(&cumulative_removed),
                    if cumulative_removed.len() == 1 { "is" } else { "are" }
                ),
            });
        }
        for &kb in &order {
            let reinstall = removal_set.contains(&kb) && !needed.contains(&kb);
            let reason = if reinstall {
                "reinstall: removed above to make room for the update it supersedes".to_string()
            } else {
                reasons
                    .get(&(node.name.clone(), kb))
                    .cloned()
                    .unwrap_or_default()
            };
            steps.push(Step::Install {
                kb,
                reinstall,
                reason,
            });
        }
        reboots += 1;
        steps.push(Step::Reboot {
            reason: "one restart completes every install and removal on the node".to_string(),
        });
        let mut present: Vec<KbId> = all.iter().copied().collect();
        present.sort();
        steps.push(Step::Verify { present });
        steps.push(Step::Resume);
        let roles = groups.map(|gs| {
            gs.iter()
                .filter(|g| {
                    g.owner_node
                        .as_deref()
                        .is_some_and(|o| o.eq_ignore_ascii_case(&node.name))
                })
                .count()
        });
        node_plans.push(NodePlan {
            name: node.name.clone(),
            os_version: node.os.version.as_ref().map(|v| v.value.to_string()),
            mechanism,
            roles,
            canary: false,
            steps,
            installs: needed.iter().copied().collect(),
            reinstalls: removals.clone(),
            reboots,
        });
        if mechanism == Mechanism::Auto {
            unverified.push(format!(
                "{}: OS version unknown — the script picks wusa.exe (Windows 6.x) or DISM (Windows 10 / Server 2016 and later) on the node",
                node.name
            ));
        }
    }

    if !k.has_catalog()
        && drift
            .groups
            .iter()
            .any(|g| g.class == DriftClass::Unknown && target.closes(g.class))
    {
        warnings.push("no catalog: supersedence between the updates installed here is unknown beyond the known-issues database, so an install may be refused as not applicable (0x80240017); the script then stops that node with that message. Import a catalog (lockstep catalog update) and plan again for the full order.".to_string());
    }

    // Node order.
    node_plans.sort_by(|a, b| {
        a.roles
            .unwrap_or(0)
            .cmp(&b.roles.unwrap_or(0))
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut order_label = "fewest-roles".to_string();
    if let Some(given) = &opts.order {
        order_label = "given".to_string();
        let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
        let mut ordered = Vec::new();
        for g in given {
            let g = g.trim();
            let Some(real) = names.iter().find(|n| n.eq_ignore_ascii_case(g)) else {
                return Err(PlanError::UnknownOrderNode(
                    g.to_string(),
                    cluster.name.clone(),
                    join(&names),
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
        node_plans = ordered;
    }

    // Quorum and capacity, wave by wave.
    let votes = votes_of(cluster);
    if let Some(note) = &votes.assumed_note {
        unverified.push(format!(
            "node votes and the quorum witness: {note} — the script checks quorum live before each node"
        ));
    } else if !votes.verified {
        unverified.push("node votes (NodeWeight) of some nodes: not in the inventory, assumed 1 — the script checks quorum live".to_string());
    }
    let capacity_known = cluster
        .nodes
        .iter()
        .all(|n| n.vms.is_some() && n.memory.is_some());
    if !capacity_known {
        unverified.push("VMs and host memory: not in the inventory — the script checks live, before draining each node, that its running VMs fit on the nodes that stay up".to_string());
    }
    let has_pending_info = cluster.nodes.iter().all(|n| n.pending_reboot.is_some());
    if !has_pending_info {
        unverified.push("pending reboots: not in the inventory — checked live on each node before it is drained".to_string());
    }
    let csv_known = cluster
        .protection
        .csv_states
        .as_ref()
        .and_then(|s| s.data())
        .is_some();
    if !csv_known {
        unverified.push("CSV state: not in the inventory — checked live (Direct, or FileSystemReFs redirection only) before and after each node".to_string());
    }
    // Inventory-time health: said as warnings (the state may have changed
    // since the capture; the live gates decide).
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
    if let Some(gs) = groups {
        for g in gs {
            if !g.state.eq_ignore_ascii_case("Online")
                && g.group_type.as_deref() != Some("AvailableStorage")
            {
                warnings.push(format!("cluster group {:?} was {} in the inventory; the gate requires every group Online", g.name, g.state));
            }
        }
    }
    if let Some(states) = cluster
        .protection
        .csv_states
        .as_ref()
        .and_then(|s| s.data())
    {
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

    let mut waves: Vec<Wave> = Vec::new();
    let mut capacity = Vec::new();
    let mut max_wave = 0usize;
    let mut quorum_lost: Vec<String> = Vec::new();
    let mut i = 0;
    while i < node_plans.len() {
        let size = if i == 0 {
            1
        } else {
            opts.max_parallel as usize
        };
        let candidate: Vec<String> = node_plans
            .iter()
            .skip(i)
            .take(size)
            .map(|p| p.name.clone())
            .collect();
        let check = |wave: &[String]| -> (bool, Option<Result<CapacityCheck, String>>) {
            let q = votes.left(wave) >= votes.majority();
            let c = if capacity_known {
                Some(capacity_of(cluster, wave, &votes.down))
            } else {
                None
            };
            (q, c)
        };
        let (q_ok, cap) = check(&candidate);
        let cap_ok = !matches!(&cap, Some(Ok(c)) if !c.fits);
        let chosen: Vec<Vec<String>> = if q_ok && cap_ok {
            vec![candidate.clone()]
        } else if candidate.len() > 1 {
            warnings.push(format!(
                "--max-parallel {}: taking {} down together would {}; they go one at a time",
                opts.max_parallel,
                join(&candidate),
                if !q_ok {
                    "lose quorum"
                } else {
                    "exceed the memory the other nodes have free"
                }
            ));
            candidate.iter().map(|n| vec![n.clone()]).collect()
        } else {
            vec![candidate.clone()]
        };
        for wave in chosen {
            let (q_ok, cap) = check(&wave);
            if !q_ok {
                quorum_lost.push(format!(
                    "taking {} down leaves {} of {} votes, fewer than the majority of {}",
                    join(&wave),
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
                    capacity.push(c);
                }
                Some(Err(why)) => unverified.push(format!("capacity of {}: {why}", join(&wave))),
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
    if waves.len() > 1
        && let Some(first) = waves.first_mut()
    {
        first.soak_seconds = opts.soak_seconds;
    }
    if let Some(first) = node_plans.first_mut() {
        first.canary = true;
    }
    let mut quorum_expl = votes.describe();
    if let Some(note) = &votes.assumed_note {
        quorum_expl.push_str(&format!(" (assumed: {note})"));
    }
    if quorum_lost.is_empty() {
        if max_wave > 0 {
            let worst = waves
                .iter()
                .map(|w| votes.left(&w.nodes))
                .min()
                .unwrap_or(votes.total());
            quorum_expl.push_str(&format!(
                "; with {} node{} down at a time at least {} votes stay up — quorum kept",
                max_wave,
                if max_wave == 1 { "" } else { "s" },
                worst
            ));
        }
    } else {
        quorum_expl.push_str(&format!(
            "; {} — quorum would be lost",
            quorum_lost.join("; ")
        ));
        refusals.push(format!(
            "quorum: {quorum_expl}. A cluster that loses quorum stops every role. Configure a witness (Set-ClusterQuorum -FileShareWitness \\\\server\\share, or -CloudWitness) or add a node, then plan again."
        ));
    }

    let touched: BTreeSet<&str> = node_plans.iter().map(|p| p.name.as_str()).collect();
    let untouched: Vec<String> = cluster
        .nodes
        .iter()
        .filter(|n| !touched.contains(n.name.as_str()))
        .map(|n| n.name.clone())
        .collect();

    let status = if !refusals.is_empty() {
        PlanStatus::Refused
    } else if node_plans.is_empty() {
        PlanStatus::Empty
    } else {
        PlanStatus::Ready
    };
    let summary = match status {
        PlanStatus::Refused => format!(
            "Refused: {} (nothing is emitted to run).",
            refusals.join("; ")
        ),
        PlanStatus::Empty => {
            if drift.groups.is_empty() {
                format!(
                    "Nothing to do: every node of {} carries the same updates.",
                    cluster.name
                )
            } else if left_alone.iter().all(|l| l.class == DriftClass::Covered) {
                format!(
                    "Nothing to do under --target {}: the drift is covered — every absent update is superseded by one the node has. Cluster validation keeps warning until the nodes are identical: --target converge gives those steps.",
                    target.label()
                )
            } else {
                format!(
                    "Nothing to do under --target {}: no difference is one this target closes.",
                    target.label()
                )
            }
        }
        PlanStatus::Ready => format!(
            "--target {}: {} node{} change{}, {} ({}){}.",
            target.label(),
            node_plans.len(),
            if node_plans.len() == 1 { "" } else { "s" },
            if node_plans.len() == 1 { "s" } else { "" },
            if max_wave <= 1 {
                "one at a time".to_string()
            } else {
                format!("up to {max_wave} at a time after the canary")
            },
            node_plans
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if untouched.is_empty() {
                String::new()
            } else {
                format!("; {} untouched", join(&untouched))
            }
        ),
    };
    let (nodes, waves) = if status == PlanStatus::Refused {
        (Vec::new(), Vec::new())
    } else {
        (node_plans, waves)
    };
    Ok(Plan {
        schema: PLAN_SCHEMA.to_string(),
        cluster: cluster.name.clone(),
        target,
        status,
        summary,
        refusals,
        warnings,
        left_alone,
        unverified,
        settings: PlanSettings {
            max_parallel: opts.max_parallel,
            max_failed_nodes: opts.max_failed_nodes,
            retries: opts.retries,
            soak_seconds: opts.soak_seconds,
            order: order_label,
            reboot_timeout_minutes: opts.reboot_timeout_minutes,
        },
        quorum: QuorumCheck {
            total_votes: votes.total(),
            witness: votes.witness.clone(),
            majority: votes.majority(),
            verified: votes.verified,
            explanation: quorum_expl,
        },
        capacity,
        nodes,
        waves,
        untouched,
        gates: GATES.iter().map(|g| g.to_string()).collect(),
    })
}

/// Parses `30m`, `2h`, `90s`, `1h30m`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("expected a duration such as 30m or 2h".into());
    }
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
        } else {
            let n: u64 = num
                .parse()
                .map_err(|_| format!("expected a duration such as 30m or 2h, found {s:?}"))?;
            num.clear();
            let mult = match c {
                's' | 'S' => 1,
                'm' | 'M' => 60,
                'h' | 'H' => 3600,
                'd' | 'D' => 86400,
                _ => {
                    return Err(format!(
                        "expected a duration such as 30m or 2h, found {s:?}"
                    ));
                }
            };
            total = total
                .checked_add(n.checked_mul(mult).ok_or("duration too long")?)
                .ok_or("duration too long")?;
        }
    }
    if !num.is_empty() {
        return Err(format!("expected a unit (s, m, h, d) after {num} in {s:?}"));
    }
    Ok(total)
}

/// `1800` → `30m`, `7200` → `2h`, `5400` → `1h30m`.
pub fn format_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}
