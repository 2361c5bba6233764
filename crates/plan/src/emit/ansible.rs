//! An Ansible playbook: one play per node in plan order (`serial: 1`,
//! `max_fail_percentage: 0`), so the order, the drain and the gates are the
//! plan's. Inventory host names are the node names.
//!
//! * drain / resume / health gates / verification: `ansible.windows.win_powershell`
//!   (`Suspend-ClusterNode -Drain -Wait`, `Resume-ClusterNode -Failback Immediate`);
//!   the gates output one line per problem and fail through `failed_when`.
//! * uninstall / install: `ansible.windows.win_hotfix` (`hotfix_kb`,
//!   `state: absent|present`, `source`). The module used to be
//!   `community.windows.win_hotfix`, which is deprecated ("Use
//!   ansible.windows.win_hotfix instead", removal in community.windows
//!   4.0.0) and which ansible-lint's `fqcn[canonical]` rule rejects; the
//!   options are the same. The .msu comes from a folder on the controller
//!   (`lockstep_msu_dir`, found by KB number) and is copied to the node
//!   first, which avoids the second hop a share would need.
//! * restart: `ansible.windows.win_reboot`.
//!
//! Values from the inputs go in only as YAML double-quoted scalars
//! ([`crate::quote::yaml`]) or as `parameters:` of the PowerShell scripts,
//! never into script text.

use super::{EmitError, EmitOptions, checked, refuse_if_refused};
use crate::model::{Plan, Step};
use crate::quote::{validate_host, yaml, yaml_unsafe};

const GATE_SCRIPT: &str = r#"          [CmdletBinding()]
          param([string] $Node, [bool] $Patching)
          $problems = @()
          foreach ($n in @(Get-ClusterNode)) {
              if ([string]$n.State -ne 'Up') { $problems += ('node ' + $n.Name + ' is ' + [string]$n.State) }
          }
          if (Get-Command -Name Get-ClusterSharedVolumeState -ErrorAction SilentlyContinue) {
              foreach ($s in @(Get-ClusterSharedVolumeState)) {
                  $info = [string]$s.StateInfo
                  $refsOnly = ($info -eq 'FileSystemRedirected' -and [string]$s.FileSystemRedirectedIOReason -eq 'FileSystemReFs')
                  if ($info -ne 'Direct' -and -not $refsOnly) { $problems += ('CSV ' + $s.Name + ' is ' + $info + ' on ' + $s.Node) }
              }
          }
          foreach ($g in @(Get-ClusterGroup)) {
              if ([string]$g.State -ne 'Online' -and $g.Name -ne 'Available Storage') { $problems += ('group ' + $g.Name + ' is ' + [string]$g.State) }
          }
          if ($Patching) {
              $cbs = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
              if (Test-Path -LiteralPath $cbs) { $problems += ('reboot pending on ' + $Node) }
              $total = 0
              $left = 0
              foreach ($n in @(Get-ClusterNode)) {
                  $w = 1
                  if ($null -ne $n.NodeWeight) { $w = [int]$n.NodeWeight }
                  $total += $w
                  if ([string]$n.State -eq 'Up' -and $n.Name -ne $Node) { $left += $w }
              }
              $q = Get-ClusterQuorum
              if ($null -ne $q.QuorumResource) { $total += 1; $left += 1 }
              if ($left -lt [math]::Floor($total / 2) + 1) { $problems += ('quorum: ' + $left + ' of ' + $total + ' votes left without ' + $Node) }
              $need = [double]0
              if (Get-Command -Name Get-VM -ErrorAction SilentlyContinue) {
                  foreach ($vm in @(Get-VM | Where-Object { [string]$_.State -eq 'Running' })) { $need += [double]$vm.MemoryAssigned }
              }
              $free = [double]0
              foreach ($n in @(Get-ClusterNode | Where-Object { [string]$_.State -eq 'Up' -and $_.Name -ne $Node })) {
                  $free += [double](Get-CimInstance -ClassName Win32_OperatingSystem -ComputerName $n.Name).FreePhysicalMemory * 1024
              }
              if ($need -gt $free) {
                  $needGiB = '{0:N1}' -f ($need / 1073741824)
                  $freeGiB = '{0:N1}' -f ($free / 1073741824)
                  $problems += ('capacity: VMs need ' + $needGiB + ' GiB, others have ' + $freeGiB + ' GiB free')
              }
          }
          $problems
"#;

fn gate_task(out: &mut String, name: &str, node_q: &str, patching: bool, register: &str) {
    out.push_str(&format!(
        "    - name: {}\n      ansible.windows.win_powershell:\n        parameters:\n          Node: {node_q}\n          Patching: {}\n        script: |\n{GATE_SCRIPT}      register: {register}\n      changed_when: false\n      failed_when: {register}.output | length > 0\n\n",
        yaml(name),
        if patching { "true" } else { "false" }
    ));
}

/// `--retries N`: the install/uninstall tasks retry N times (win_hotfix is
/// idempotent: present stays present, absent stays absent).
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

pub fn emit(plan: &Plan, opts: &EmitOptions) -> Result<String, EmitError> {
    refuse_if_refused(plan)?;
    let source = checked("--source folder", &opts.source)?;
    let mut out = String::new();
    out.push_str("---\n");
    out.push_str("# Generated by lockstep plan. Inventory: one host per cluster node, named as the plan names them.\n");
    out.push_str("# Set lockstep_msu_dir (a folder on the controller with the .msu files, names containing KBnnnnnnn).\n");
    if plan.nodes.is_empty() {
        // Nothing to do: still a valid playbook that only checks health.
        out.push_str("- name: \"Lockstep: nothing to do\"\n  hosts: all\n  gather_facts: false\n  tasks:\n    - name: Nothing to do\n      ansible.builtin.debug:\n        msg: ");
        out.push_str(&yaml_unsafe(&plan.summary));
        out.push('\n');
        return Ok(out);
    }
    let mut first_wave_done = false;
    for wave in &plan.waves {
        for name in &wave.nodes {
            let Some(node) = plan.node(name) else {
                continue;
            };
            validate_host("node name", &node.name)?;
            let nq = yaml(&node.name);
            out.push_str(&format!(
                "- name: {}\n  hosts: {nq}\n  gather_facts: false\n  serial: 1\n  max_fail_percentage: 0\n  any_errors_fatal: true\n  vars:\n    lockstep_msu_dir: {}\n    lockstep_reboot_timeout: {}\n  tasks:\n",
                yaml_unsafe(&format!(
                    "Lockstep {} ({}): {}{}",
                    plan.cluster,
                    plan.target.label(),
                    node.name,
                    if node.canary { " (canary)" } else { "" }
                )),
                yaml_unsafe(source.as_deref().unwrap_or("./updates")),
                plan.settings.reboot_timeout_minutes * 60
            ));
            gate_task(
                &mut out,
                &format!("Health gate before {}", node.name),
                &nq,
                true,
                "lockstep_gate_before",
            );
            for step in &node.steps {
                match step {
                    Step::Drain => out.push_str(&format!(
                        "    - name: {}\n      ansible.windows.win_powershell:\n        parameters:\n          Node: {nq}\n        script: |\n          param([string] $Node)\n          Suspend-ClusterNode -Name $Node -Drain -Wait | Out-Null\n          $n = Get-ClusterNode -Name $Node\n          if ([string]$n.DrainStatus -ne 'Completed') {{ throw ('drain of ' + $Node + ' ended ' + [string]$n.DrainStatus) }}\n      changed_when: true\n\n",
                        yaml(&format!("Drain {}", node.name))
                    )),
                    Step::Uninstall { kb, .. } => out.push_str(&format!(
                        "    - name: {}\n      ansible.windows.win_hotfix:\n        hotfix_kb: {}\n        state: absent\n      register: lockstep_uninstall_{}\n{}\n",
                        yaml(&format!("Uninstall {kb}")),
                        yaml(&kb.to_string()),
                        kb.number(),
                        retry_lines(plan, &format!("lockstep_uninstall_{}", kb.number()))
                    )),
                    Step::Install { kb, .. } => {
                        let dest = format!("C:\\Windows\\Temp\\lockstep\\{kb}.msu");
                        out.push_str(&format!(
                            "    - name: {}\n      ansible.windows.win_copy:\n        src: \"{{{{ lookup('ansible.builtin.fileglob', lockstep_msu_dir ~ '/*{kb}*.msu', wantlist=True) | first }}}}\"\n        dest: {}\n\n",
                            yaml(&format!("Copy the {kb} package")),
                            yaml(&dest)
                        ));
                        out.push_str(&format!(
                            "    - name: {}\n      ansible.windows.win_hotfix:\n        hotfix_kb: {}\n        source: {}\n        state: present\n      register: lockstep_install_{}\n{}\n",
                            yaml(&format!("Install {kb}")),
                            yaml(&kb.to_string()),
                            yaml(&dest),
                            kb.number(),
                            retry_lines(plan, &format!("lockstep_install_{}", kb.number()))
                        ));
                    }
                    Step::Reboot { .. } => out.push_str(&format!(
                        "    - name: {}\n      ansible.windows.win_reboot:\n        reboot_timeout: \"{{{{ lockstep_reboot_timeout }}}}\"\n\n",
                        yaml(&format!("Reboot {}", node.name))
                    )),
                    Step::Verify { present } => {
                        let list = present
                            .iter()
                            .map(|k| yaml(&k.to_string()))
                            .collect::<Vec<_>>()
                            .join(", ");
                        out.push_str(&format!(
                            "    - name: {}\n      ansible.windows.win_powershell:\n        parameters:\n          Kbs: [{list}]\n        script: |\n          param([string[]] $Kbs)\n          $Kbs | Where-Object {{ -not (Get-HotFix -Id $_ -ErrorAction SilentlyContinue) }}\n      register: lockstep_verify\n      changed_when: false\n      failed_when: lockstep_verify.output | length > 0\n\n",
                            yaml(&format!("Verify the updates of {}", node.name))
                        ));
                    }
                    Step::Resume => out.push_str(&format!(
                        "    - name: {}\n      ansible.windows.win_powershell:\n        parameters:\n          Node: {nq}\n        script: |\n          param([string] $Node)\n          Resume-ClusterNode -Name $Node -Failback Immediate | Out-Null\n      changed_when: true\n\n",
                        yaml(&format!("Resume {}", node.name))
                    )),
                }
            }
            gate_task(
                &mut out,
                &format!("Health gate after {}", node.name),
                &nq,
                false,
                "lockstep_gate_after",
            );
        }
        if !first_wave_done {
            first_wave_done = true;
            if let Some(soak) = wave.soak_seconds {
                out.push_str(&format!(
                    "- name: \"Lockstep: canary soak\"\n  hosts: {}\n  gather_facts: false\n  tasks:\n    - name: Soak after the canary\n      ansible.builtin.pause:\n        seconds: {soak}\n\n",
                    yaml(wave.nodes.first().map(String::as_str).unwrap_or("all"))
                ));
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out)
}
