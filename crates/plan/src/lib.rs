//! Plan: the fix in the order that works, one drained node at a time.
//!
//! ```text
//!  check's ClusterReport + Cluster + Knowledge ──► planner ──► Plan ──► text / JSON /
//!                                                             PowerShell / Ansible /
//!                                                             WSUS / CAU
//!                                           └──► simulate (replays it on the model)
//! ```
//!
//! * [`planner`] — targets (secure / converge), per-node order derived from
//!   the supersedence chains, CAU-like rolling across the cluster with quorum
//!   and capacity kept.
//! * [`model`] — the plan as data (JSON schema `schema/plan-v1.schema.json`).
//! * [`emit`] — emitters; every value from the inputs is validated and
//!   emitted as a quoted literal ([`quote`]).
//! * [`simulate`] — replays a plan on the inventory model and reports any
//!   violated invariant (target met, supersedence order, restarts, quorum,
//!   capacity); every plan passes it before it is returned.
//! * [`graph`] — the supersedence graph walks (linear in what they reach).
//! * [`keep_up`] — quorum and capacity arithmetic, shared by the planner and
//!   the simulator.
//! * [`winargs`] — Windows command lines (CommandLineToArgvW, cmd.exe,
//!   schtasks) for the emitted scripts.

pub mod emit;
pub mod graph;
pub mod keep_up;
pub mod model;
pub mod planner;
pub mod quote;
pub mod simulate;
pub mod text;
pub mod winargs;

pub use emit::{Emit, EmitOptions, emit};
pub use model::*;
pub use planner::{PlanError, PlanOptions, format_duration, parse_duration, plan_cluster};
pub use text::{node_heading, render_json, render_text, step_lines};

use lockstep_check::knowledge::Knowledge;
use lockstep_check::missing::missing_updates;
use lockstep_check::run::ClusterReport;
use lockstep_model::Inventory;

/// For the HTML report of `check`: `(cluster, plan)` for every cluster
/// with something to do under the target (its nodes differ, or check
/// reports updates missing), planned from check's own per-cluster results
/// (`reports`, in the inventory's cluster order) with the default options
/// (one node at a time, no soak). A cluster whose plan cannot be made (an
/// invalid node name) gets the reason instead.
pub fn report_plans(
    inventory: &Inventory,
    reports: &[ClusterReport],
    k: &dyn Knowledge,
    target: Target,
) -> Vec<(String, Result<Plan, String>)> {
    let opts = PlanOptions {
        target,
        ..PlanOptions::default()
    };
    inventory
        .clusters
        .iter()
        .zip(reports)
        .filter_map(|(c, report)| {
            let missing = target == Target::Secure && !missing_updates(report).is_empty();
            if report.drift.groups.is_empty() && !missing {
                return None;
            }
            let plan = plan_cluster(c, report, k, &opts)
                .map_err(|e| format!("No plan for {}: {e}", c.name));
            Some((c.name.clone(), plan))
        })
        .collect()
}
