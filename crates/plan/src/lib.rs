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
pub use text::{render_json, render_text};

use lockstep_check::knowledge::Knowledge;
use lockstep_check::missing::missing_updates;
use lockstep_check::run::ClusterReport;
use lockstep_model::Inventory;

/// For the HTML report of `check`: `(cluster, target, text)` for every
/// cluster with something to do under the target (its nodes differ, or
/// check reports updates missing), planned from check's own per-cluster
/// results (`reports`, in the inventory's cluster order) with the default
/// options (one node at a time, no soak). A cluster whose plan cannot be
/// made (an invalid node name) gets the reason as its text.
pub fn report_sections(
    inventory: &Inventory,
    reports: &[ClusterReport],
    k: &dyn Knowledge,
    target: Target,
) -> Vec<(String, String, String)> {
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
            let text = match plan_cluster(c, report, k, &opts) {
                Ok(p) => render_text(&p),
                Err(e) => format!("No plan for {}: {e}\n", c.name),
            };
            Some((c.name.clone(), target.label().to_string(), text))
        })
        .collect()
}
