//! The playbook targets exactly the planned hosts, and a Windows Server
//! 2008 R2 playbook names nothing 2008 R2 lacks (from the one table of what
//! each release supports).
mod common;
use common::*;
use lockstep_model::WinVersion;
use lockstep_model::capabilities::{Feature, TABLE, supports};
use lockstep_plan::*;

/// The words that would use a feature in a playbook.
fn tokens(f: Feature) -> &'static [&'static str] {
    match f {
        Feature::ClusterDrain => &["-Drain", "-Failback"],
        Feature::DismCmdlets => &[
            "win_hotfix",
            "Add-WindowsPackage",
            "Remove-WindowsPackage",
            "Get-WindowsPackage",
        ],
        Feature::ScheduledTasksCmdlets => &["Register-ScheduledTask", "New-ScheduledTaskAction"],
        Feature::HyperVCmdlets => &["Get-VM"],
        Feature::CsvStateCmdlet => &["Get-ClusterSharedVolumeState"],
        Feature::QuorumWitnessParameters => &["-FileShareWitness", "-DiskWitness", "-NoWitness"],
        Feature::CloudWitness => &["-CloudWitness"],
        // Read as an optional property (PSObject.Properties): valid anywhere.
        Feature::DynamicQuorum => &[],
        Feature::DefenderCmdlets => &["Get-MpPreference", "Add-MpPreference"],
        Feature::ClusterAwareUpdating => &["Invoke-CauRun", "ClusterAwareUpdating"],
        Feature::WusaQuietUninstall => &["/uninstall"],
    }
}

#[test]
fn the_2008_r2_playbook_uses_nothing_2008_r2_lacks() {
    let p = plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    assert!(
        p.nodes
            .iter()
            .all(|n| n.os_version.as_deref() == Some("6.1.7601"))
    );
    let yml = emit(&p, Emit::Ansible, &EmitOptions::default()).unwrap();
    let r2: WinVersion = "6.1.7601".parse().unwrap();
    let mut lacking = Vec::new();
    for row in TABLE {
        if supports(Some(&r2), row.feature) == Some(false) {
            lacking.push(row.feature);
            for t in tokens(row.feature) {
                assert!(
                    !yml.contains(t),
                    "the 2008 R2 playbook uses {t} ({}), which 2008 R2 lacks",
                    row.what
                );
            }
        }
    }
    assert_eq!(lacking.len(), 10, "{lacking:?}");
    // Nothing reaches another host from inside the node's WinRM session
    // (the credentials do not follow: second hop).
    assert!(!yml.contains("-ComputerName"));
    assert!(!yml.contains("Get-CimInstance"));
    // What 2008 R2 does instead.
    for needle in [
        "      ansible.windows.win_command: \"wusa.exe /uninstall /kb:2616676 /quiet /norestart\"\n      become: true\n      become_method: ansible.builtin.runas\n      become_user: SYSTEM\n",
        "      ansible.windows.win_command: \"wusa.exe C:\\\\Windows\\\\Temp\\\\lockstep\\\\KB2607712.msu /quiet /norestart\"\n",
        "          Suspend-ClusterNode -Name $Node | Out-Null\n",
        "                  Move-ClusterVirtualMachineRole -Name $g.Name -Node $best | Out-Null\n",
        "          Resume-ClusterNode -Name $Node | Out-Null\n",
        "              foreach ($i in @($csv.SharedVolumeInfo)) {\n",
        "      delegate_to: \"{{ item }}\"\n      loop: [\"HV03\", \"HV04\", \"HV01\", \"HV02\"]\n",
        "      when: (lockstep_uninstall_2616676.reboot_required | default(false)) or (lockstep_uninstall_2616676.rc | default(0)) == 3010\n",
    ] {
        assert!(yml.contains(needle), "missing {needle}\n{yml}");
    }
}

#[test]
fn each_play_targets_its_one_planned_host() {
    // A node named like an inventory group ("dbservers") must not widen a
    // play to that group: plays target a generated one-host group and
    // assert it.
    let mut c = example_cluster();
    c.nodes[2].name = "dbservers".into();
    let p = plan_with(
        &c,
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    let yml = emit(&p, Emit::Ansible, &EmitOptions::default()).unwrap();
    let hosts: Vec<&str> = yml
        .lines()
        .filter_map(|l| l.strip_prefix("  hosts: "))
        .collect();
    assert_eq!(hosts, ["localhost", "lockstep_node_1", "lockstep_node_2"]);
    assert!(yml.contains(
        "      loop:\n        - { host: \"HV04\", group: lockstep_node_1 }\n        - { host: \"dbservers\", group: lockstep_node_2 }\n"
    ));
    assert!(yml.contains("    lockstep_node: \"dbservers\"\n"));
    assert_eq!(
        yml.matches("          - inventory_hostname == lockstep_node\n          - ansible_play_hosts_all | length == 1\n")
            .count(),
        2
    );
    // Nothing to do: a play on the controller only.
    let empty = plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    let yml = emit(&empty, Emit::Ansible, &EmitOptions::default()).unwrap();
    assert!(yml.contains("  hosts: localhost\n") && !yml.contains("hosts: all"));
}

#[test]
fn reserved_node_names_are_refused() {
    for name in [
        "all",
        "ALL",
        "ungrouped",
        "localhost",
        "LOCALHOST.corp.example",
        "127.0.0.1",
    ] {
        let mut c = example_cluster();
        c.nodes[3].name = name.into();
        let known = known();
        let k = lockstep_check::sources::WithKnownIssues::new(
            lockstep_check::sources::NoCatalog,
            &known,
        );
        let err = plan_cluster(&c, &report_k(&c, &k), &k, &PlanOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "invalid node name {name:?}: expected a computer name other than all, ungrouped or localhost and not all digits (Ansible would take it for its implicit group or host)"
            )
        );
    }
}
