//! The plan as text, for the terminal and for the HTML report of `check`
//! (which shows it per cluster as preformatted text).

use crate::model::*;
use crate::planner::format_duration;
use lockstep_model::WinVersion;
use lockstep_model::capabilities::{Feature, supports};

fn mechanism_text(m: Mechanism) -> &'static str {
    match m {
        Mechanism::Wusa => "wusa.exe",
        Mechanism::Dism => "DISM (Add-/Remove-WindowsPackage)",
        Mechanism::Auto => "wusa.exe or DISM, chosen on the node",
    }
}

/// Whether the node's release has `Suspend-ClusterNode -Drain` (2012 on);
/// unknown releases get the modern wording with the script's fallback.
fn has_drain(node: &NodePlan) -> Option<bool> {
    let v: Option<WinVersion> = node.os_version.as_deref().and_then(|v| v.parse().ok());
    supports(v.as_ref(), Feature::ClusterDrain)
}

fn step_text(node: &NodePlan, step: &Step) -> String {
    match step {
        Step::Drain => match has_drain(node) {
            Some(false) => format!(
                "drain {} (Suspend-ClusterNode, then each virtual machine role live-migrated with Move-ClusterVirtualMachineRole and other groups moved with Move-ClusterGroup: Windows Server 2008 R2 has no -Drain)",
                node.name
            ),
            Some(true) => format!("drain {} (Suspend-ClusterNode -Drain -Wait)", node.name),
            None => format!(
                "drain {} (Suspend-ClusterNode -Drain -Wait; where the node's release has no -Drain, pause and move its roles)",
                node.name
            ),
        },
        Step::Uninstall {
            kb,
            package,
            reason,
            reboot,
        } => {
            let how = match (node.mechanism, package) {
                (Mechanism::Wusa, _) => {
                    format!("wusa.exe /uninstall /kb:{} /quiet /norestart", kb.number())
                }
                (Mechanism::Dism, Some(p)) => {
                    format!("Remove-WindowsPackage -Online -PackageName {p} -NoRestart")
                }
                (Mechanism::Dism, None) => {
                    "Remove-WindowsPackage -Online -NoRestart, package looked up on the node"
                        .to_string()
                }
                (Mechanism::Auto, _) => "wusa.exe or Remove-WindowsPackage".to_string(),
            };
            let restart = match reboot {
                RebootRule::Planned => "",
                RebootRule::IfRequested => {
                    "; if the removal asks for a restart (exit code 3010), the node restarts before the next install"
                }
            };
            format!("uninstall {kb} ({how}) — {reason}{restart}")
        }
        Step::Install { kb, reason, .. } => format!("install {kb} — {reason}"),
        Step::Reboot { reason } => format!("reboot {} — {reason}", node.name),
        Step::Verify { present } => format!(
            "verify {} installed (Get-HotFix)",
            present
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Step::Resume => match has_drain(node) {
            Some(false) => format!(
                "resume {} (Resume-ClusterNode; Windows Server 2008 R2 has no -Failback, so its roles stay where they moved)",
                node.name
            ),
            _ => format!(
                "resume {} (Resume-ClusterNode -Failback Immediate)",
                node.name
            ),
        },
    }
}

/// A node's heading in a plan: "HV03 [canary] — Windows 6.1.7601, wusa.exe".
pub fn node_heading(node: &NodePlan) -> String {
    format!(
        "{}{} — Windows {}, {}{}",
        node.name,
        if node.canary { " [canary]" } else { "" },
        node.os_version.as_deref().unwrap_or("version unknown"),
        mechanism_text(node.mechanism),
        match node.roles {
            Some(r) => format!(", {r} role{}", if r == 1 { "" } else { "s" }),
            None => String::new(),
        }
    )
}

/// A node's steps in words, in the order they run (the text plan numbers
/// them; the HTML report lists them).
pub fn step_lines(node: &NodePlan) -> Vec<String> {
    node.steps.iter().map(|st| step_text(node, st)).collect()
}

/// Renders the whole plan; stable (snapshot-tested).
pub fn render_text(plan: &Plan) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Plan for cluster {} — target: {}\n",
        plan.cluster,
        plan.target.label()
    ));
    s.push_str(&format!("{}\n", plan.summary));
    if !plan.refusals.is_empty() {
        s.push_str("\nRefused:\n");
        for r in &plan.refusals {
            s.push_str(&format!("  - {r}\n"));
        }
    }
    if !plan.removals.is_empty() {
        s.push_str("\nRemoved for a while (the node is drained; the update is put back before it resumes):\n");
        for r in &plan.removals {
            s.push_str(&format!("  - {}\n", r.window));
        }
    }
    if !plan.left_alone.is_empty() {
        s.push_str("\nLeft alone:\n");
        for l in &plan.left_alone {
            s.push_str(&format!("  - {}\n", l.reason));
        }
    }
    if !plan.nodes.is_empty() {
        s.push_str(&format!(
            "\nRolling order ({}; {}, stop after {} failed node{}, {} retr{} per node):\n",
            if plan.settings.order == "given" {
                "as given by --order"
            } else if plan.nodes.iter().all(|n| n.roles.is_none()) {
                "nodes with a real gap first, then name order: roles per node unknown"
            } else {
                "nodes with a real gap first, then fewest roles"
            },
            if plan.waves.iter().all(|w| w.nodes.len() == 1) {
                "one node at a time".to_string()
            } else {
                format!("up to {} nodes at a time", plan.settings.max_parallel)
            },
            plan.settings.max_failed_nodes + 1,
            if plan.settings.max_failed_nodes == 0 {
                ""
            } else {
                "s"
            },
            plan.settings.retries,
            if plan.settings.retries == 1 {
                "y"
            } else {
                "ies"
            },
        ));
        let mut n = 0;
        for (wi, wave) in plan.waves.iter().enumerate() {
            s.push_str(&format!(
                "\n  Wave {} ({}): health gate before\n",
                wi + 1,
                wave.nodes.join(", ")
            ));
            for name in &wave.nodes {
                let Some(node) = plan.node(name) else {
                    continue;
                };
                n += 1;
                s.push_str(&format!("  {n}. {}\n", node_heading(node)));
                for (i, step) in step_lines(node).iter().enumerate() {
                    s.push_str(&format!("     {}. {step}\n", i + 1));
                }
            }
            s.push_str("     health gate after\n");
            if let Some(soak) = wave.soak_seconds {
                s.push_str(&format!(
                    "     soak {} before the next node (canary)\n",
                    format_duration(soak)
                ));
            }
        }
    }
    if plan.status == PlanStatus::Empty {
        return s;
    }
    if !plan.untouched.is_empty() && plan.status != PlanStatus::Refused {
        s.push_str(&format!("\nUntouched: {}\n", plan.untouched.join(", ")));
    }
    s.push_str(&format!("\nQuorum: {}\n", plan.quorum.explanation));
    for c in &plan.capacity {
        s.push_str(&format!("Capacity: {}\n", c.explanation));
    }
    if plan.status == PlanStatus::Ready {
        s.push_str("\nHealth gates (before and after every node):\n");
        for g in &plan.gates {
            s.push_str(&format!("  - {g}\n"));
        }
    }
    if !plan.unverified.is_empty() {
        s.push_str("\nNot verifiable from the inventory (the emitted scripts check these live):\n");
        for u in &plan.unverified {
            s.push_str(&format!("  - {u}\n"));
        }
    }
    if !plan.warnings.is_empty() {
        s.push_str("\nWarnings:\n");
        for w in &plan.warnings {
            s.push_str(&format!("  - {w}\n"));
        }
    }
    s
}

/// The plan as JSON (schema `schema/plan-v1.schema.json`).
pub fn render_json(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan)
        .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()));
    s.push('\n');
    s
}
