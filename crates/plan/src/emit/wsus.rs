//! The approval sequence for a WSUS-managed cluster, as a script for the
//! WSUS server (UpdateServices module).
//!
//! A client only installs what is approved *and* applicable, and an update
//! superseded by one the client has is not applicable. So, for the target
//! group that holds the cluster nodes:
//!
//! 1. the superseding updates the plan removes are set to *Uninstall* where
//!    WSUS supports removing them (else unapproved, and removed on the nodes
//!    with the PowerShell plan), and the script waits until every computer
//!    of the group reports them *NotInstalled*;
//! 2. the older updates are approved for *Install*, and the script waits —
//!    the reporting gate — until every computer reports them *Installed*
//!    (`GetUpdateInstallationInfoPerComputerTarget`), which happens only
//!    after the clients install, restart and report
//!    (`wuauclt /reportnow`, `usoclient StartScan`);
//! 3. the superseding updates are approved for *Install* again, with the
//!    same gate.
//!
//! WSUS itself installs on the clients' schedule, not one drained node at a
//! time: let Cluster-Aware Updating (Microsoft.WindowsUpdatePlugin, which
//! follows WSUS approvals) do the installs between the gates so the nodes
//! still go one at a time.

use super::{EmitError, EmitOptions, refuse_if_refused};
use crate::model::Plan;
use crate::quote::ps;
use lockstep_model::KbId;
use std::collections::BTreeSet;

fn kb_array(kbs: &BTreeSet<KbId>) -> String {
    if kbs.is_empty() {
        return "@()".into();
    }
    format!(
        "@({})",
        kbs.iter()
            .map(|k| ps(&k.number().to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

const BODY: &str = r#"
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
Import-Module -Name UpdateServices
$wsus = Get-WsusServer
$group = $wsus.GetComputerTargetGroups() | Where-Object { $_.Name -eq $TargetGroup }
if ($null -eq $group) { throw ('lockstep: WSUS target group ' + $TargetGroup + ' not found') }

function Get-LockstepWsusUpdate {
    param([string] $Kb)
    $found = @($wsus.SearchUpdates('KB' + $Kb) | Where-Object { $_.KnowledgebaseArticles -contains $Kb -and -not $_.IsDeclined })
    if ($found.Count -eq 0) { throw ('lockstep: KB' + $Kb + ' is not in the WSUS catalog (import it from the Microsoft Update Catalog)') }
    return $found
}

function Wait-LockstepReport {
    # The reporting gate: every computer of the group reports the state.
    param([string] $Kb, [string] $Want)
    $deadline = (Get-Date).AddMinutes($ReportTimeoutMinutes)
    while ($true) {
        $pending = @()
        foreach ($u in (Get-LockstepWsusUpdate -Kb $Kb)) {
            foreach ($info in @($u.GetUpdateInstallationInfoPerComputerTarget($group))) {
                $state = [string]$info.UpdateInstallationState
                if ($state -ne $Want -and $state -ne 'NotApplicable') {
                    $pending += ($wsus.GetComputerTarget($info.ComputerTargetId).FullDomainName + ' ' + $state)
                }
            }
        }
        if ($pending.Count -eq 0) { Write-Host ('lockstep: every computer in ' + $TargetGroup + ' reports KB' + $Kb + ' ' + $Want); return }
        if ((Get-Date) -gt $deadline) { throw ('lockstep: STOPPED: KB' + $Kb + ' not yet ' + $Want + ' on: ' + ($pending -join '; ') + '. Let the clients scan and report (wuauclt /reportnow, usoclient StartScan), then run again.') }
        Write-Host ('lockstep: waiting for KB' + $Kb + ' ' + $Want + ' on: ' + ($pending -join '; '))
        Start-Sleep -Seconds 300
    }
}

function Set-LockstepApproval {
    param([string] $Kb, [string] $Action)
    foreach ($u in (Get-LockstepWsusUpdate -Kb $Kb)) {
        $a = $Action
        if ($a -eq 'Uninstall' -and -not $u.UninstallationBehavior.IsSupported) {
            Write-Warning ('lockstep: WSUS cannot remove KB' + $Kb + '; it is unapproved instead: remove it on the nodes with the lockstep PowerShell plan')
            $a = 'NotApproved'
        }
        if ($PSCmdlet.ShouldProcess(('KB' + $Kb + ' for ' + $TargetGroup), $a)) {
            Approve-WsusUpdate -Update (Get-WsusUpdate -UpdateId $u.Id.UpdateId) -Action $a -TargetGroupName $TargetGroup
        }
    }
}

# 1. Remove the superseding updates from the group's computers.
foreach ($kb in $Superseding) { Set-LockstepApproval -Kb $kb -Action 'Uninstall' }
if (-not $WhatIfPreference) { foreach ($kb in $Superseding) { Wait-LockstepReport -Kb $kb -Want 'NotInstalled' } }
# 2. Approve the older updates and wait until every computer reports them installed.
foreach ($kb in $Older) { Set-LockstepApproval -Kb $kb -Action 'Install' }
if (-not $WhatIfPreference) { foreach ($kb in $Older) { Wait-LockstepReport -Kb $kb -Want 'Installed' } }
# 3. Re-approve the superseding updates, same gate.
foreach ($kb in $Superseding) { Set-LockstepApproval -Kb $kb -Action 'Install' }
if (-not $WhatIfPreference) { foreach ($kb in $Superseding) { Wait-LockstepReport -Kb $kb -Want 'Installed' } }
Write-Host 'lockstep: WSUS approval sequence complete'
"#;

pub fn emit(plan: &Plan, opts: &EmitOptions) -> Result<String, EmitError> {
    refuse_if_refused(plan)?;
    let mut superseding = BTreeSet::new();
    let mut older = BTreeSet::new();
    for n in &plan.nodes {
        superseding.extend(n.reinstalls.iter().copied());
        older.extend(n.installs.iter().copied());
    }
    let group = opts
        .wsus_group
        .clone()
        .unwrap_or_else(|| plan.cluster.clone());
    let mut s = String::new();
    s.push_str("#Requires -Version 5.1\n<#\n.SYNOPSIS\n    WSUS approval sequence for a lockstep plan (run on the WSUS server).\n\n.DESCRIPTION\n    1. The superseding updates get an Uninstall approval (or are unapproved where WSUS\n       cannot remove them); wait until every computer of the group reports them NotInstalled.\n    2. The older updates are approved for Install; wait until every computer reports them\n       Installed (the reporting gate).\n    3. The superseding updates are approved for Install again; same gate.\n    Let Cluster-Aware Updating (Microsoft.WindowsUpdatePlugin) install between the gates so\n    the nodes are drained and patched one at a time.\n#>\n[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]\nparam(\n");
    s.push_str(&format!("    [string] $TargetGroup = {},\n", ps(&group)));
    s.push_str("    [int] $ReportTimeoutMinutes = 1440\n)\n\n");
    s.push_str(&format!("$LockstepClusterLabel = {}\n", ps(&plan.cluster)));
    s.push_str(&format!("$Superseding = {}\n", kb_array(&superseding)));
    s.push_str(&format!("$Older = {}\n", kb_array(&older)));
    s.push_str(BODY);
    Ok(s)
}
