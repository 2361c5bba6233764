//! An Ansible playbook: one play per node in plan order (`serial: 1`,
//! `max_fail_percentage: 0`), so the order, the drain and the gates are the
//! plan's.
//!
//! * Which hosts: a first play (on the controller) puts each planned node
//!   into a group of its own (`lockstep_node_N`, `ansible.builtin.add_host`),
//!   and each node's play targets that group and first asserts that it runs
//!   on exactly that one host. A node name is never used as a host pattern,
//!   so a node called like an inventory group cannot widen a play to that
//!   group's members; `all`, `ungrouped` and `localhost` are refused by the
//!   planner.
//! * drain / resume / health gates / verification:
//!   `ansible.windows.win_powershell`, in the variant the node's release
//!   supports (`emit::ansible_scripts`): 2008 R2 pauses and live-migrates
//!   (no `-Drain`, no `-Failback`). The gates read only the local node; the
//!   memory of the other nodes comes from a task delegated to each of them
//!   (`delegate_to`), a direct connection from the controller, not a second
//!   hop from inside a WinRM session.
//! * uninstall / install: `ansible.windows.win_hotfix` where the node has
//!   the DISM PowerShell module it needs (Windows Server 2012 and later).
//!   On 2008 R2: `wusa.exe` through `ansible.windows.win_command` with
//!   `become` (runas SYSTEM: wusa is refused in a plain WinRM session,
//!   KB2773898), its command line built by [`crate::winargs`], after a
//!   `Get-HotFix` check so that it stays idempotent. The .msu comes from a
//!   folder on the controller (`lockstep_msu_dir`, found by KB number) and
//!   is copied to the node first.
//! * a removal that asks for a restart (win_hotfix `reboot_required`, wusa
//!   exit code 3010) gets one before the next install; restarts:
//!   `ansible.windows.win_reboot`.
//!
//! Values from the inputs go in only as YAML double-quoted scalars
//! ([`crate::quote::yaml`]) or as `parameters:` of the PowerShell scripts,
//! never into script text.

use super::ansible_scripts::{
    Can, HAS_DISM_SCRIPT, HAS_KB_SCRIPT, block, drain_script, gate_script, memory_script,
    resume_script,
};
use super::{EmitError, EmitOptions, checked, refuse_if_refused, wusa_arguments};
use crate::model::{NodePlan, Plan, RebootRule, Step};
use crate::quote::{validate_node_name, yaml, yaml_unsafe};
use crate::winargs;
use lockstep_model::capabilities::{Feature, supports};
use lockstep_model::{KbId, WinVersion};

/// Where the playbook puts the .msu files on the node.
const NODE_DIR: &str = "C:\\Windows\\Temp\\lockstep";

fn version(n: &NodePlan) -> Option<WinVersion> {
    n.os_version.as_deref().and_then(|v| v.parse().ok())
}

fn can(versions: &[Option<WinVersion>]) -> Can {
    // Several nodes (the memory task runs on all): the feature only when
    // every one has it, unknown when some release is unknown.
    let all = |f: Feature| -> Option<bool> {
        let mut out = Some(true);
        for v in versions {
            match supports(v.as_ref(), f) {
                Some(false) => return Some(false),
                None => out = None,
                Some(true) => {}
            }
        }
        out
    };
    Can {
        drain: all(Feature::ClusterDrain),
        csv_state: all(Feature::CsvStateCmdlet),
        hyper_v: all(Feature::HyperVCmdlets),
    }
}

/// `--retries N`: the install/uninstall tasks retry N times (both
/// mechanisms are idempotent: present stays present, absent stays absent).
fn retry_lines(plan: &Plan, register: &str) -> String {
    if plan.settings.retries == 0 {
        String::new()
    } else {
        format!(
            "      retries: {}\n      delay: 60\n      until: {register} is succeeded\n",
            plan.settings.retries
        )
    }
}

fn ps_task(out: &mut String, name: &str, params: &[(&str, String)], script: &str, tail: &str) {
    out.push_str(&format!(
        "    - name: {}\n      ansible.windows.win_powershell:\n",
        yaml(name)
    ));
    if !params.is_empty() {
        out.push_str("        parameters:\n");
        for (k, v) in params {
            out.push_str(&format!("          {k}: {v}\n"));
        }
    }
    out.push_str("        script: |\n");
    out.push_str(&block(script, 10));
    out.push_str(tail);
    out.push('\n');
}

fn gate(out: &mut String, node: &str, patching: bool, register: &str, gate: &str) {
    ps_task(
        out,
        &format!(
            "Health gate {} {node}",
            if patching { "before" } else { "after" }
        ),
        &[
            ("Node", "\"{{ lockstep_node }}\"".into()),
            ("Patching", if patching { "true" } else { "false" }.into()),
            ("ExcludeGroup", "\"{{ lockstep_exclude_groups }}\"".into()),
            (
                "Memory",
                "\"{{ lockstep_memory.results | map(attribute='output') | map('first') | list }}\""
                    .into(),
            ),
            ("Reserve", "\"{{ lockstep_memory_reserve }}\"".into()),
        ],
        gate,
        &format!(
            "      register: {register}\n      changed_when: false\n      failed_when: {register}.output | length > 0\n"
        ),
    );
}

/// wusa through `win_command` as SYSTEM, when the KB is (not) there.
fn wusa_tasks(out: &mut String, plan: &Plan, op: &str, kb: KbId, when_dism: Option<bool>) {
    let n = kb.number();
    let check = format!("lockstep_has_{n}");
    let mut when = if op == "install" {
        format!("not ({check}.output | first)")
    } else {
        format!("{check}.output | first")
    };
    if when_dism == Some(false) {
        when = format!("not (lockstep_dism.output | first) and {when}");
    }
    ps_task(
        out,
        &format!("Is {kb} installed?"),
        &[("Kb", yaml(&kb.to_string()))],
        HAS_KB_SCRIPT,
        &format!("      register: {check}\n      changed_when: false\n"),
    );
    let msu = format!("{NODE_DIR}\\KB{n}.msu");
    let args = wusa_arguments(op, kb, &msu);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    // Only digits and fixed text: cannot fail.
    let cmd = winargs::command_line("wusa.exe", &refs).unwrap_or_default();
    // Release unknown: win_hotfix registers the plain name, this the _wusa one.
    let register = if when_dism.is_some() {
        format!("lockstep_{op}_{n}_wusa")
    } else {
        format!("lockstep_{op}_{n}")
    };
    out.push_str(&format!(
        "    - name: {}\n      ansible.windows.win_command: {}\n      become: true\n      become_method: ansible.builtin.runas\n      become_user: SYSTEM\n      register: {register}\n      when: {when}\n      changed_when: {register}.rc in [0, 3010]\n      failed_when: {register}.rc not in [0, 3010, 2359302]\n{}\n",
        yaml(&format!(
            "{} {kb} (wusa.exe)",
            if op == "install" { "Install" } else { "Uninstall" }
        )),
        yaml(&cmd),
        retry_lines(plan, &register)
    ));
}

fn hotfix_task(out: &mut String, plan: &Plan, op: &str, kb: KbId, when_dism: bool) {
    let n = kb.number();
    let register = format!("lockstep_{op}_{n}");
    let when = if when_dism {
        "      when: lockstep_dism.output | first\n"
    } else {
        ""
    };
    if op == "install" {
        out.push_str(&format!(
            "    - name: {}\n      ansible.windows.win_hotfix:\n        hotfix_kb: {}\n        source: {}\n        state: present\n      register: {register}\n{when}{}\n",
            yaml(&format!("Install {kb}")),
            yaml(&kb.to_string()),
            yaml(&format!("{NODE_DIR}\\KB{n}.msu")),
            retry_lines(plan, &register)
        ));
    } else {
        out.push_str(&format!(
            "    - name: {}\n      ansible.windows.win_hotfix:\n        hotfix_kb: {}\n        state: absent\n      register: {register}\n{when}{}\n",
            yaml(&format!("Uninstall {kb}")),
            yaml(&kb.to_string()),
            retry_lines(plan, &register)
        ));
    }
}

fn update_tasks(out: &mut String, plan: &Plan, node: &NodePlan, op: &str, kb: KbId) {
    if op == "install" {
        let n = kb.number();
        out.push_str(&format!(
            "    - name: {}\n      ansible.windows.win_copy:\n        src: \"{{{{ lookup('ansible.builtin.fileglob', lockstep_msu_dir ~ '/*{kb}*.msu', wantlist=True) | first }}}}\"\n        dest: {}\n\n",
            yaml(&format!("Copy the {kb} package")),
            yaml(&format!("{NODE_DIR}\\KB{n}.msu"))
        ));
    }
    match supports(version(node).as_ref(), Feature::DismCmdlets) {
        Some(true) => hotfix_task(out, plan, op, kb, false),
        Some(false) => wusa_tasks(out, plan, op, kb, None),
        None => {
            hotfix_task(out, plan, op, kb, true);
            wusa_tasks(out, plan, op, kb, Some(false));
        }
    }
}

/// After the removals: a restart when one asked for it (win_hotfix
/// `reboot_required`, wusa 3010) and the plan has none there.
fn restart_if_requested(out: &mut String, node: &NodePlan, removed: &[KbId]) {
    let unknown = supports(version(node).as_ref(), Feature::DismCmdlets).is_none();
    let conditions: Vec<String> = removed
        .iter()
        .map(|kb| {
            let r = format!("lockstep_uninstall_{}", kb.number());
            let mut c =
                format!("({r}.reboot_required | default(false)) or ({r}.rc | default(0)) == 3010");
            if unknown {
                c.push_str(&format!(" or ({r}_wusa.rc | default(0)) == 3010"));
            }
            c
        })
        .collect();
    out.push_str(&format!(
        "    - name: {}\n      ansible.windows.win_reboot:\n        reboot_timeout: \"{{{{ lockstep_reboot_timeout }}}}\"\n      when: {}\n\n",
        yaml(&format!(
            "Restart {} if a removal asked for it (before the next install)",
            node.name
        )),
        conditions.join(" or ")
    ));
}

struct Play<'a> {
    group: String,
    source: &'a str,
    all_nodes: &'a [String],
}

fn node_play(out: &mut String, plan: &Plan, node: &NodePlan, play: &Play<'_>) {
    let (group, all_nodes) = (&play.group, play.all_nodes);
    let can_node = can(&[version(node)]);
    out.push_str(&format!(
        "- name: {}\n  hosts: {group}\n  gather_facts: false\n  serial: 1\n  max_fail_percentage: 0\n  any_errors_fatal: true\n  vars:\n    lockstep_node: {}\n    lockstep_msu_dir: {}\n    lockstep_reboot_timeout: {}\n    lockstep_memory_reserve: {}\n    lockstep_exclude_groups: [{}]\n  tasks:\n",
        yaml_unsafe(&format!(
            "Lockstep {} ({}): {}{}",
            plan.cluster,
            plan.target.label(),
            node.name,
            if node.canary { " (canary)" } else { "" }
        )),
        yaml(&node.name),
        yaml_unsafe(play.source),
        plan.settings.reboot_timeout_minutes * 60,
        plan.settings.memory_reserve_bytes,
        plan.settings
            .allow_offline_groups
            .iter()
            .map(|g| yaml_unsafe(g))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.push_str(&format!(
        "    - name: {}\n      ansible.builtin.assert:\n        that:\n          - inventory_hostname == lockstep_node\n          - ansible_play_hosts_all | length == 1\n        fail_msg: \"This play patches exactly one host, {{{{ lockstep_node }}}}; it was given {{{{ ansible_play_hosts_all | join(', ') }}}}.\"\n\n",
        yaml(&format!("Guard: this play runs on {} only", node.name))
    ));
    let versions: Vec<Option<WinVersion>> = all_nodes
        .iter()
        .map(|n| plan.node(n).and_then(version))
        .collect();
    ps_task(
        out,
        "Free memory and running VMs of every cluster node, read on each",
        &[("Node", "\"{{ item }}\"".into())],
        &memory_script(can(&versions)),
        &format!(
            "      delegate_to: \"{{{{ item }}}}\"\n      loop: [{}]\n      register: lockstep_memory\n      changed_when: false\n",
            all_nodes
                .iter()
                .map(|n| yaml(n))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let gate_text = gate_script(can_node);
    gate(out, &node.name, true, "lockstep_gate_before", &gate_text);
    if supports(version(node).as_ref(), Feature::DismCmdlets).is_none()
        && node
            .steps
            .iter()
            .any(|s| matches!(s, Step::Install { .. } | Step::Uninstall { .. }))
    {
        ps_task(
            out,
            "Does the node have the DISM cmdlets?",
            &[],
            HAS_DISM_SCRIPT,
            "      register: lockstep_dism\n      changed_when: false\n",
        );
    }
    let mut removed: Vec<KbId> = Vec::new();
    let mut restart_owed = false;
    for step in &node.steps {
        match step {
            Step::Drain => ps_task(
                out,
                &format!("Drain {}", node.name),
                &[
                    ("Node", "\"{{ lockstep_node }}\"".into()),
                    (
                        "Memory",
                        "\"{{ lockstep_memory.results | map(attribute='output') | map('first') | list }}\"".into(),
                    ),
                ],
                &drain_script(can_node),
                "      changed_when: true\n",
            ),
            Step::Uninstall { kb, reboot, .. } => {
                update_tasks(out, plan, node, "uninstall", *kb);
                removed.push(*kb);
                restart_owed |= *reboot == RebootRule::IfRequested;
            }
            Step::Install { kb, .. } => {
                if restart_owed {
                    restart_if_requested(out, node, &removed);
                    restart_owed = false;
                }
                update_tasks(out, plan, node, "install", *kb);
            }
            Step::Reboot { .. } => {
                restart_owed = false;
                out.push_str(&format!(
                    "    - name: {}\n      ansible.windows.win_reboot:\n        reboot_timeout: \"{{{{ lockstep_reboot_timeout }}}}\"\n\n",
                    yaml(&format!("Reboot {}", node.name))
                ));
            }
            Step::Verify { present } => {
                let list = present
                    .iter()
                    .map(|k| yaml(&k.to_string()))
                    .collect::<Vec<_>>()
                    .join(", ");
                ps_task(
                    out,
                    &format!("Verify the updates of {}", node.name),
                    &[("Kbs", format!("[{list}]"))],
                    "param([string[]] $Kbs)\n$Kbs | Where-Object { -not (Get-HotFix -Id $_ -ErrorAction SilentlyContinue) }\n",
                    "      register: lockstep_verify\n      changed_when: false\n      failed_when: lockstep_verify.output | length > 0\n",
                );
            }
            Step::Resume => ps_task(
                out,
                &format!("Resume {}", node.name),
                &[("Node", "\"{{ lockstep_node }}\"".into())],
                &resume_script(can_node),
                "      changed_when: true\n",
            ),
        }
    }
    gate(out, &node.name, false, "lockstep_gate_after", &gate_text);
}

pub fn emit(plan: &Plan, opts: &EmitOptions) -> Result<String, EmitError> {
    refuse_if_refused(plan)?;
    let source = checked("--source folder", &opts.source)?;
    let source = source.unwrap_or_else(|| "./updates".into());
    let mut out = String::new();
    out.push_str("---\n");
    out.push_str("# Generated by lockstep plan. Inventory: the cluster nodes by the names the plan gives them;\n");
    out.push_str("# each node's play runs on that one host only. Windows Server 2008 R2 nodes need WMF 5.1 for Ansible.\n");
    out.push_str("# Set lockstep_msu_dir (a folder on the controller with the .msu files, names containing KBnnnnnnn).\n");
    if plan.nodes.is_empty() {
        // Nothing to do: a valid playbook that touches no host.
        out.push_str("- name: \"Lockstep: nothing to do\"\n  hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Nothing to do\n      ansible.builtin.debug:\n        msg: ");
        out.push_str(&yaml_unsafe(&plan.summary));
        out.push('\n');
        return Ok(out);
    }
    let order: Vec<&NodePlan> = plan
        .waves
        .iter()
        .flat_map(|w| w.nodes.iter())
        .filter_map(|n| plan.node(n))
        .collect();
    let all_nodes: Vec<String> = plan
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .chain(plan.untouched.iter().cloned())
        .collect();
    for n in &all_nodes {
        validate_node_name(n)?;
    }
    out.push_str("- name: \"Lockstep: one group per planned node\"\n  hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Put each planned node in a group of its own\n      ansible.builtin.add_host:\n        name: \"{{ item.host }}\"\n        groups: \"{{ item.group }}\"\n      loop:\n");
    for (i, n) in order.iter().enumerate() {
        out.push_str(&format!(
            "        - {{ host: {}, group: lockstep_node_{} }}\n",
            yaml(&n.name),
            i + 1
        ));
    }
    out.push_str("      changed_when: false\n\n");
    let mut soaked = false;
    let mut i = 0;
    for wave in &plan.waves {
        for name in &wave.nodes {
            let Some(node) = plan.node(name) else {
                continue;
            };
            i += 1;
            let play = Play {
                group: format!("lockstep_node_{i}"),
                source: &source,
                all_nodes: &all_nodes,
            };
            node_play(&mut out, plan, node, &play);
        }
        if !soaked {
            soaked = true;
            if let Some(soak) = wave.soak_seconds {
                out.push_str(&format!(
                    "- name: \"Lockstep: canary soak\"\n  hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Soak after the canary\n      ansible.builtin.pause:\n        seconds: {soak}\n\n"
                ));
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out)
}
