//! Health facts the inventory already holds, as findings: an install the
//! Windows Update history shows failing, a reboot pending on a node, a
//! cluster group that is not online. Each would stop a rolling plan at its
//! health gate (or make an install fail again), so the admin hears of it
//! from `check`, before planning.
//!
//! Codes: `update-install-failed`, `reboot-pending`, `cluster-group-offline`.

use crate::{Evidence, EvidenceSource, Finding, FindingCode, Fix, Item, ItemKind, Severity};
use lockstep_model::capabilities::{Feature, release_name, supports};
use lockstep_model::quote::ps_literal;
use lockstep_model::{Cluster, Node};

/// The health findings of a cluster: its nodes' and its groups'.
pub fn cluster_findings(cluster: &Cluster) -> Vec<Finding> {
    let mut out = Vec::new();
    for n in &cluster.nodes {
        out.extend(failed_installs(n, Some(&cluster.name)));
    }
    out.extend(pending_reboots(&cluster.nodes, Some(&cluster.name)));
    out.extend(offline_groups(cluster));
    out
}

/// The health findings of a node given on its own.
pub fn node_findings(node: &Node) -> Vec<Finding> {
    let mut out: Vec<Finding> = failed_installs(node, None).into_iter().collect();
    out.extend(pending_reboots(std::slice::from_ref(node), None));
    out
}

fn node_source(node: &Node) -> EvidenceSource {
    match &node.name_source {
        Some(s) => s.into(),
        None => EvidenceSource::whole(node.sources.first().map_or("<inputs>", String::as_str)),
    }
}

/// Installs that failed and that the node still lacks.
fn failed_installs(node: &Node, cluster: Option<&str>) -> Option<Finding> {
    let failed: Vec<_> = node
        .failed_installs
        .iter()
        .filter(|f| !node.has_kb(f.kb))
        .collect();
    if failed.is_empty() {
        return None;
    }
    let kbs: Vec<String> = failed.iter().map(|f| f.kb.to_string()).collect();
    let lines: Vec<String> = failed
        .iter()
        .map(|f| {
            let mut line = format!("{} — {}", f.kb, f.result);
            if let Some(d) = f.date {
                line.push_str(&format!(" on {d}"));
            }
            if let Some(t) = &f.title {
                line.push_str(&format!(" ({t})"));
            }
            line
        })
        .collect();
    Some(Finding {
        code: FindingCode::UpdateInstallFailed,
        severity: Severity::Warning,
        cluster: cluster.map(str::to_string),
        nodes: vec![node.name.clone()],
        title: format!(
            "{}: the install of {} failed and it is not installed",
            node.name,
            kbs.join(", ")
        ),
        detail: format!(
            "The Windows Update history of {} shows these installs failing, with no later successful install:\n{}",
            node.name,
            lines.join("\n")
        ),
        evidence: failed
            .iter()
            .map(|f| Evidence {
                source: (&f.source).into(),
                note: format!("{}: install of {} {}", node.name, f.kb, f.result),
            })
            .collect(),
        fix: Some(Fix {
            text: format!(
                "Find out why before installing {} on {} again: the Windows Update log (%windir%\\WindowsUpdate.log; Get-WindowsUpdateLog from Windows Server 2016 on), %windir%\\Logs\\CBS\\CBS.log and the Setup event log. A plan that installs it stops at that node if it fails again.",
                kbs.join(", "),
                node.name
            ),
            commands: Vec::new(),
        }),
        known_issues: Vec::new(),
        items: failed
            .iter()
            .map(|f| Item::update(f.kb).on(&node.name))
            .collect(),
    })
}

/// Nodes with a reboot pending: one finding for all of them.
fn pending_reboots(nodes: &[Node], cluster: Option<&str>) -> Option<Finding> {
    let pending: Vec<&Node> = nodes
        .iter()
        .filter(|n| n.pending_reboot.is_some_and(|p| p.any()))
        .collect();
    if pending.is_empty() {
        return None;
    }
    let names: Vec<String> = pending.iter().map(|n| n.name.clone()).collect();
    let mut detail = Vec::new();
    let mut evidence = Vec::new();
    let mut commands = Vec::new();
    let mut old_release = Vec::new();
    let mut items = Vec::new();
    for n in &pending {
        let Some(p) = n.pending_reboot else { continue };
        let mut why = Vec::new();
        if p.cbs_reboot_pending {
            why.push("Component Based Servicing RebootPending");
        }
        if p.windows_update_reboot_required {
            why.push("Windows Update RebootRequired");
        }
        if p.pending_file_rename_operations {
            why.push("PendingFileRenameOperations");
        }
        detail.push(format!("{}: {}", n.name, why.join(", ")));
        items.extend(
            why.iter()
                .map(|w| Item::new(ItemKind::PendingReboot, *w).on(&n.name)),
        );
        evidence.push(Evidence {
            source: node_source(n),
            note: format!("{}: reboot pending ({})", n.name, why.join(", ")),
        });
        let version = n.os.version.as_ref().map(|v| &v.value);
        let Some(name) = ps_literal(&n.name) else {
            continue;
        };
        if supports(version, Feature::ClusterDrain) == Some(false) {
            old_release.push(format!(
                "{} ({})",
                n.name,
                version.map_or_else(|| "unknown release".to_string(), release_name)
            ));
            commands.push(format!("Suspend-ClusterNode -Name {name}"));
        } else {
            commands.push(format!("Suspend-ClusterNode -Name {name} -Drain -Wait"));
        }
        commands.push(format!(
            "Restart-Computer -ComputerName {name} -Force -Wait -For PowerShell"
        ));
        if supports(version, Feature::ClusterDrain) == Some(false) {
            commands.push(format!("Resume-ClusterNode -Name {name}"));
        } else {
            commands.push(format!(
                "Resume-ClusterNode -Name {name} -Failback Immediate"
            ));
        }
    }
    let mut text = format!(
        "Restart {}{}, drained, before patching: an install made before the restart is not active yet, and a rolling plan stops at its health gate until it is done.",
        names.join(", "),
        if names.len() > 1 {
            " one at a time"
        } else {
            ""
        }
    );
    if !old_release.is_empty() {
        text.push_str(&format!(
            " {} {} no Suspend-ClusterNode -Drain: pause the node and live-migrate its virtual machines away (Move-ClusterVirtualMachineRole) before the restart.",
            old_release.join(", "),
            if old_release.len() == 1 { "has" } else { "have" }
        ));
    }
    text.push_str(" From a management host or another node:");
    Some(Finding {
        code: FindingCode::RebootPending,
        severity: Severity::Warning,
        cluster: cluster.map(str::to_string),
        nodes: names.clone(),
        title: format!("Reboot pending on {}", names.join(", ")),
        detail: detail.join("\n"),
        evidence,
        fix: Some(Fix { text, commands }),
        known_issues: Vec::new(),
        items,
    })
}

/// Cluster groups that are not online (Available Storage excepted).
fn offline_groups(cluster: &Cluster) -> Option<Finding> {
    let groups = cluster.state.as_ref()?.groups.as_ref()?;
    let off: Vec<_> = groups
        .iter()
        .filter(|g| {
            !g.state.eq_ignore_ascii_case("Online")
                && g.group_type.as_deref() != Some("AvailableStorage")
        })
        .collect();
    if off.is_empty() {
        return None;
    }
    let source = cluster
        .source
        .as_ref()
        .map_or_else(|| EvidenceSource::whole("<inputs>"), EvidenceSource::from);
    let lines: Vec<String> = off
        .iter()
        .map(|g| {
            format!(
                "{} is {}{}",
                g.name,
                g.state,
                g.owner_node
                    .as_deref()
                    .map(|o| format!(" (owner {o})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    Some(Finding {
        code: FindingCode::ClusterGroupOffline,
        severity: Severity::Warning,
        cluster: Some(cluster.name.clone()),
        nodes: Vec::new(),
        title: format!(
            "{} cluster group{} not online: {}",
            off.len(),
            if off.len() == 1 { "" } else { "s" },
            off.iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        detail: lines.join("\n"),
        evidence: off
            .iter()
            .map(|g| Evidence {
                source: source.clone(),
                note: format!("cluster group {} {}", g.name, g.state),
            })
            .collect(),
        fix: Some(Fix {
            text: "Bring each group online, or, when it is meant to stay offline, name it to the plan (lockstep plan --allow-offline-group, or allow_offline_groups in a fleet manifest) so that the health gate does not wait for it:".into(),
            commands: off
                .iter()
                .filter_map(|g| ps_literal(&g.name))
                .map(|name| format!("Start-ClusterGroup -Name {name}"))
                .collect(),
        }),
        known_issues: Vec::new(),
        items: off
            .iter()
            .map(|g| Item::new(ItemKind::Group, g.name.clone()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_model::inventory::ClusterGroup;
    use lockstep_model::{ClusterState, FailedInstall, KbId, PendingReboot, SourceRef, Sourced};

    fn node(name: &str, version: &str) -> Node {
        let mut n = Node {
            name: name.into(),
            sources: vec![format!("{name}.json")],
            ..Default::default()
        };
        n.os.version = Some(Sourced::new(
            version.parse().unwrap(),
            SourceRef::new("x", 1),
        ));
        n
    }

    #[test]
    fn failed_install_not_later_installed() {
        let mut n = node("HV01", "10.0.20348");
        n.failed_installs.push(FailedInstall {
            kb: KbId(5033118),
            title: Some("2023-12 Cumulative Update (KB5033118)".into()),
            date: Some(jiff::civil::date(2023, 12, 13)),
            result: "Failed".into(),
            source: SourceRef::new("s.json", 709),
        });
        let f = failed_installs(&n, Some("C")).unwrap();
        assert_eq!(f.code, "update-install-failed");
        assert_eq!(f.nodes, ["HV01"]);
        assert_eq!(
            f.title,
            "HV01: the install of KB5033118 failed and it is not installed"
        );
        assert_eq!(f.evidence[0].source.line, std::num::NonZeroU32::new(709));
        // Installed since (Get-HotFix lists it): not a finding.
        n.updates.push(lockstep_model::InstalledUpdate {
            kb: KbId(5033118),
            id_text: None,
            description: None,
            installed_on: None,
            installed_by: None,
            source: SourceRef::new("s.json", 1),
        });
        assert!(failed_installs(&n, Some("C")).is_none());
    }

    #[test]
    fn pending_reboot_advice_fits_the_release() {
        let mut a = node("HV01", "6.1.7601");
        a.pending_reboot = Some(PendingReboot {
            cbs_reboot_pending: true,
            ..Default::default()
        });
        let mut b = node("HV02", "10.0.20348");
        b.pending_reboot = Some(PendingReboot {
            pending_file_rename_operations: true,
            ..Default::default()
        });
        let c = node("HV03", "10.0.20348");
        let f = pending_reboots(&[a, b, c], Some("C")).unwrap();
        assert_eq!(f.nodes, ["HV01", "HV02"]);
        let fix = f.fix.unwrap();
        assert_eq!(
            fix.commands,
            [
                "Suspend-ClusterNode -Name 'HV01'",
                "Restart-Computer -ComputerName 'HV01' -Force -Wait -For PowerShell",
                "Resume-ClusterNode -Name 'HV01'",
                "Suspend-ClusterNode -Name 'HV02' -Drain -Wait",
                "Restart-Computer -ComputerName 'HV02' -Force -Wait -For PowerShell",
                "Resume-ClusterNode -Name 'HV02' -Failback Immediate",
            ]
        );
        assert!(
            fix.text
                .contains("HV01 (Windows Server 2008 R2) has no Suspend-ClusterNode -Drain")
        );
        assert_eq!(
            f.detail,
            "HV01: Component Based Servicing RebootPending\nHV02: PendingFileRenameOperations"
        );
    }

    #[test]
    fn offline_groups_with_a_quoted_command() {
        let c = Cluster {
            name: "C".into(),
            state: Some(ClusterState {
                groups: Some(vec![
                    ClusterGroup {
                        name: "Available Storage".into(),
                        state: "Offline".into(),
                        owner_node: None,
                        group_type: Some("AvailableStorage".into()),
                    },
                    ClusterGroup {
                        name: "TEST'01".into(),
                        state: "Offline".into(),
                        owner_node: Some("HV03".into()),
                        group_type: Some("VirtualMachine".into()),
                    },
                    ClusterGroup {
                        name: "SQL01".into(),
                        state: "Online".into(),
                        owner_node: Some("HV01".into()),
                        group_type: Some("VirtualMachine".into()),
                    },
                ]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let f = offline_groups(&c).unwrap();
        assert_eq!(f.title, "1 cluster group not online: TEST'01");
        assert_eq!(f.detail, "TEST'01 is Offline (owner HV03)");
        assert_eq!(
            f.fix.unwrap().commands,
            ["Start-ClusterGroup -Name 'TEST''01'"]
        );
    }
}
