//! From check's result for a cluster to an ordered, rolling plan.
//!
//! ## Per node
//!
//! What each node installs comes from [`needs`]: under `secure` exactly what
//! `check` reports missing on it, under `converge` the drift the nodes can
//! be raised out of. What blocks a plain install is supersedence: Windows answers
//! "not applicable" (0x80240017) when an installed update supersedes the one
//! being installed, directly or through a chain. So for each needed KB the
//! planner walks the "superseded by" edges of the node's product upwards
//! (every path, not just the shortest the drift shows; edges a known issue
//! calls *wrong* are not walked, as in the drift) and collects every
//! *installed* update it meets: those are removed first and put back after.
//!
//! The install order is a topological order of the supersedence graph over
//! the updates to install (needed ones and reinstalls): an update goes in
//! before every update that supersedes it; among those ready, servicing
//! stack updates first, then cumulative updates and rollups, then the rest,
//! ties by KB number. Removals run newest first for the same reason. Every
//! update removed for a while is listed with the window it is absent
//! ([`Removal`]).
//!
//! ## Reboots
//!
//! One reboot per node, at the end, after all installs — and one between
//! the removals and the installs when a removed update is a cumulative one
//! (LCU, monthly rollup, security-only rollup, hotpatch), when the catalog
//! says its removal needs a restart (MSRC RestartRequired), or with
//! `--reboot-between`. Removing a cumulative update stages its removal as a
//! pending component-store operation that completes at restart; until then
//! the newer payload is still the active one and the older package's
//! applicability is evaluated against it, so an immediate install of the
//! older update can be refused as not applicable. Otherwise the removal is
//! marked [`RebootRule::IfRequested`]: the scripts restart the node before
//! the next install when the removal exits with 3010 (restart required).
//! Servicing stack updates cannot be removed at all: a plan that would need
//! that is refused for the node.
//!
//! ## Across the cluster
//!
//! Nodes with work are ordered: nodes with a real gap first, then fewest
//! roles (cluster groups owned), ties by name; or as `--order` says. The first node is the canary: it
//! runs alone and, with `--soak`, the rest waits. The others go in waves of
//! `--max-parallel` nodes when quorum and capacity allow that many down at
//! once; a wave that would not is split into single nodes (with a warning),
//! and a single node that would not is refused, with the numbers. Quorum
//! counts what the admin states (`--witness`, `--node-votes`) over the
//! inventory, and dynamic quorum's current votes where the inventory shows
//! them; capacity keeps `--memory-reserve` free on every host.
//!
//! Before the plan is returned the simulator replays it; a plan it rejects
//! is refused, so nothing it rejects is ever emitted.

use crate::graph::Graph;
use crate::keep_up::Votes;
use crate::model::*;
use crate::quote::{InvalidValue, validate_node_name};
use lockstep_check::drift::DriftClass;
use lockstep_check::knowledge::Knowledge;
use lockstep_check::run::ClusterReport;
use lockstep_model::Cluster;
use std::collections::{BTreeMap, BTreeSet};

mod needs;
mod steps;
mod waves;

pub use steps::mechanism_of;

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
    /// The witness the admin states: `Some(None)` none, `Some(Some(kind))`
    /// one of that kind; over the inventory and the fleet manifest.
    pub witness: Option<Option<String>>,
    /// Node votes the admin states (node name → 0 or 1).
    pub node_votes: BTreeMap<String, u32>,
    /// Memory every host keeps free for itself.
    pub memory_reserve_bytes: Option<u64>,
    /// Cluster groups that may stay offline.
    pub allow_offline_groups: Vec<String>,
    /// A restart after the removals on every node that removes something.
    pub reboot_between: bool,
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
            witness: None,
            node_votes: BTreeMap::new(),
            memory_reserve_bytes: None,
            allow_offline_groups: Vec::new(),
            reboot_between: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Invalid(#[from] InvalidValue),
    #[error("--order names {0:?}, which is not a node of cluster {1} (nodes: {2})")]
    UnknownOrderNode(String, String, String),
    #[error("--node-votes names {0:?}, which is not a node of cluster {1} (nodes: {2})")]
    UnknownVotesNode(String, String, String),
    #[error("--node-votes gives {0} {1} votes: a node has 0 or 1 (NodeWeight)")]
    BadVotes(String, u32),
    #[error("--max-parallel must be at least 1")]
    ZeroParallel,
}

/// The options the plan is made with: the admin's command line over the
/// fleet manifest's statements.
fn settings(cluster: &Cluster, opts: &PlanOptions) -> Result<PlanSettings, PlanError> {
    let names = || {
        cluster
            .nodes
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut node_votes = cluster.admin.node_votes.clone();
    for (n, v) in &opts.node_votes {
        node_votes.insert(n.clone(), *v);
    }
    for (n, v) in &node_votes {
        if !cluster.nodes.iter().any(|x| x.name.eq_ignore_ascii_case(n)) {
            return Err(PlanError::UnknownVotesNode(
                n.clone(),
                cluster.name.clone(),
                names(),
            ));
        }
        if *v > 1 {
            return Err(PlanError::BadVotes(n.clone(), *v));
        }
    }
    let witness = opts
        .witness
        .clone()
        .or_else(|| cluster.admin.witness.clone())
        .map(|w| w.unwrap_or_else(|| "none".to_string()));
    let mut allow_offline_groups = cluster.admin.allow_offline_groups.clone();
    for g in &opts.allow_offline_groups {
        if !allow_offline_groups
            .iter()
            .any(|a| a.eq_ignore_ascii_case(g))
        {
            allow_offline_groups.push(g.clone());
        }
    }
    Ok(PlanSettings {
        max_parallel: opts.max_parallel,
        max_failed_nodes: opts.max_failed_nodes,
        retries: opts.retries,
        soak_seconds: opts.soak_seconds,
        order: "gaps-first".to_string(),
        reboot_timeout_minutes: opts.reboot_timeout_minutes,
        witness,
        node_votes,
        memory_reserve_bytes: opts
            .memory_reserve_bytes
            .or(cluster.admin.memory_reserve_bytes)
            .unwrap_or(0),
        allow_offline_groups,
        reboot_between: opts.reboot_between,
    })
}

const GATES: &[&str] = &[
    "every cluster node is Up (Get-ClusterNode); the node being patched is Paused only while it is drained",
    "every Cluster Shared Volume is Direct on every node (Get-ClusterSharedVolumeState); FileSystemRedirected with reason FileSystemReFs alone is the normal state of a ReFS CSV",
    "every cluster group is Online (Get-ClusterGroup; Available Storage and the groups named with --allow-offline-group excepted)",
    "no reboot pending on the node (Component Based Servicing RebootPending, Windows Update RebootRequired, PendingFileRenameOperations)",
    "quorum: the votes of the nodes that stay up are a majority (Get-ClusterNode NodeWeight / DynamicWeight, Get-ClusterQuorum)",
    "capacity: each running VM of the node, by assigned memory, fits on a node that stays up (first fit, largest first, keeping the memory reserve free)",
    "after the reboot: the node's updates are verified (Get-HotFix) and the node is resumed and Up",
];

/// Builds the plan for one cluster from check's result for it
/// ([`lockstep_check::missing::judge_cluster`] gives one).
pub fn plan_cluster(
    cluster: &Cluster,
    report: &ClusterReport,
    k: &dyn Knowledge,
    opts: &PlanOptions,
) -> Result<Plan, PlanError> {
    if opts.max_parallel == 0 {
        return Err(PlanError::ZeroParallel);
    }
    for n in &cluster.nodes {
        validate_node_name(&n.name)?;
    }
    let target = opts.target;
    let settings = settings(cluster, opts)?;
    let mut warnings = Vec::new();
    let mut unverified = Vec::new();
    let mut refusals = Vec::new();
    let needs = needs::needs(cluster, report, target);

    let groups = cluster.state.as_ref().and_then(|s| s.groups.as_ref());
    if groups.is_none() {
        unverified.push("cluster groups (roles per node): not in the inventory — nodes with a real gap first, then name order instead of fewest roles first; the script checks groups Online live".to_string());
    }
    let mut node_plans: Vec<NodePlan> = Vec::new();
    let mut removals: Vec<Removal> = Vec::new();
    for node in &cluster.nodes {
        let Some(needed) = needs.per_node.get(&node.name) else {
            continue;
        };
        let product = k.product_of(&node.os).or_else(|| {
            report
                .drift
                .groups
                .iter()
                .find(|g| g.absent_on.contains(&node.name) && g.product.is_some())
                .and_then(|g| g.product.clone())
        });
        let mut graph = Graph::new(k, product.as_deref());
        match steps::node_plan(node, needed, &mut graph, k, &settings)? {
            steps::NodeOutcome::Refused(why) => refusals.push(why),
            steps::NodeOutcome::Planned {
                mut plan,
                removals: r,
                warnings: w,
            } => {
                plan.roles = groups.map(|gs| {
                    gs.iter()
                        .filter(|g| {
                            g.owner_node
                                .as_deref()
                                .is_some_and(|o| o.eq_ignore_ascii_case(&node.name))
                        })
                        .count()
                });
                if plan.mechanism == Mechanism::Auto {
                    unverified.push(format!(
                        "{}: OS version unknown — the script picks wusa.exe (Windows 6.x) or DISM (Windows 10 / Server 2016 and later) on the node",
                        node.name
                    ));
                }
                warnings.extend(w);
                removals.extend(r);
                node_plans.push(plan);
            }
        }
    }
    if !k.has_catalog()
        && report
            .drift
            .groups
            .iter()
            .any(|g| g.class == DriftClass::Unknown && target.closes(g.class))
    {
        warnings.push("no catalog: supersedence between the updates installed here is unknown beyond the known-issues database, so an install may be refused as not applicable (0x80240017); the script then stops that node with that message. Import a catalog (lockstep catalog update) and plan again for the full order.".to_string());
    }

    let (mut node_plans, order_label) = waves::order_nodes(
        cluster,
        node_plans,
        opts.order.as_deref(),
        target,
        &mut warnings,
    )?;
    let votes = Votes::of(cluster, &settings);
    waves::inventory_notes(cluster, &settings, &votes, &mut unverified, &mut warnings);
    let rolling = waves::waves(
        cluster,
        &node_plans,
        &settings,
        &votes,
        opts.soak_seconds,
        &mut warnings,
        &mut unverified,
    );
    refusals.extend(rolling.refusals);
    if let Some(first) = node_plans.first_mut() {
        first.canary = true;
    }
    // Removals in the plan's node order.
    removals.sort_by_key(|r| node_plans.iter().position(|p| p.name == r.node));

    let touched: BTreeSet<&str> = node_plans.iter().map(|p| p.name.as_str()).collect();
    let untouched: Vec<String> = cluster
        .nodes
        .iter()
        .filter(|n| !touched.contains(n.name.as_str()))
        .map(|n| n.name.clone())
        .collect();
    let mut plan = Plan {
        schema: PLAN_SCHEMA.to_string(),
        cluster: cluster.name.clone(),
        target,
        status: PlanStatus::Ready,
        summary: String::new(),
        refusals,
        warnings,
        removals,
        left_alone: needs.left_alone,
        unverified,
        settings: PlanSettings {
            order: order_label,
            ..settings
        },
        quorum: rolling.quorum,
        capacity: rolling.capacity,
        nodes: node_plans,
        waves: rolling.waves,
        untouched,
        gates: GATES.iter().map(|g| g.to_string()).collect(),
    };
    if plan.refusals.is_empty() && !plan.nodes.is_empty() {
        // The simulator replays the plan on the inventory; what it rejects
        // is not emitted.
        let sim = crate::simulate::simulate(&plan, cluster, k);
        for v in sim.violations {
            plan.refusals
                .push(format!("the simulator rejected the plan: {v}"));
        }
    }
    finish(&mut plan, report, rolling.max_wave);
    Ok(plan)
}

/// Status and summary; a refused plan keeps no steps.
fn finish(plan: &mut Plan, report: &ClusterReport, max_wave: usize) {
    plan.status = if !plan.refusals.is_empty() {
        PlanStatus::Refused
    } else if plan.nodes.is_empty() {
        PlanStatus::Empty
    } else {
        PlanStatus::Ready
    };
    let target = plan.target;
    plan.summary = match plan.status {
        PlanStatus::Refused => format!(
            "Refused: {} (nothing is emitted to run).",
            plan.refusals.join("; ")
        ),
        PlanStatus::Empty => {
            if report.drift.groups.is_empty() && target == Target::Converge {
                format!(
                    "Nothing to do: every node of {} carries the same updates.",
                    plan.cluster
                )
            } else if report.drift.groups.is_empty() {
                format!(
                    "Nothing to do under --target secure: check reports no update missing on the nodes of {}.",
                    plan.cluster
                )
            } else if plan
                .left_alone
                .iter()
                .all(|l| l.class == DriftClass::Covered)
            {
                format!(
                    "Nothing to do under --target {}: the drift is covered — every absent update is superseded by one the node has. Cluster validation keeps warning until the nodes are identical{}.",
                    target.label(),
                    if target == Target::Secure {
                        ": --target converge gives those steps"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "Nothing to do under --target {}: no difference is one this target closes.",
                    target.label()
                )
            }
        }
        PlanStatus::Ready => {
            let n = plan.nodes.len();
            let removed: BTreeSet<String> =
                plan.removals.iter().map(|r| r.kb.to_string()).collect();
            format!(
                "--target {}: {} node{} change{}, {} ({}){}{}.",
                target.label(),
                n,
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
                if max_wave <= 1 {
                    "one at a time".to_string()
                } else {
                    format!("up to {max_wave} at a time after the canary")
                },
                plan.nodes
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if plan.untouched.is_empty() {
                    String::new()
                } else {
                    format!("; {} untouched", plan.untouched.join(", "))
                },
                if removed.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} removed for a while on the drained node (see Removed for a while)",
                        removed.into_iter().collect::<Vec<_>>().join(", ")
                    )
                }
            )
        }
    };
    if plan.status == PlanStatus::Refused {
        plan.nodes.clear();
        plan.waves.clear();
        plan.removals.clear();
    }
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
