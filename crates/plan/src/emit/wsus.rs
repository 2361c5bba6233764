//! The approval sequence for a WSUS-managed cluster, as a script for the
//! WSUS server (UpdateServices module), for install-only plans.
//!
//! A client installs what is approved for a computer target group it is in
//! *and* applicable to it. Approving for the group that holds the whole
//! cluster would hand the updates to nodes the plan leaves untouched, so
//! each planned node gets a computer group of its own (`lockstep-<node>`,
//! under `--wsus-group` when given, created when missing, the node's
//! computer added to it; this needs WSUS server-side targeting, which the
//! script checks) and each approval is for
//! exactly that group. Updates a node installs in a supersedence order go
//! in passes (pass 1 approves every node's first update, pass 2 the second,
//! …); after each pass the script waits — the reporting gate — until every
//! node of the pass reports its update Installed
//! (`GetUpdateInstallationInfoPerComputerTarget`), which happens after the
//! node installed, restarted and reported.
//!
//! WSUS installs on the clients' schedule, not one drained node at a time:
//! let Cluster-Aware Updating (Microsoft.WindowsUpdatePlugin, which follows
//! WSUS approvals) do the installs between the gates.
//!
//! A plan that removes an update first is refused with the reason: an
//! Uninstall approval is carried out by the Windows Update Agent on its own
//! schedule, without draining the node, CAU's Windows Update plug-in does
//! not act on uninstall approvals, and many updates cannot be removed
//! through WSUS at all (`UninstallationBehavior`).

use super::{EmitError, EmitOptions, refuse_if_refused};
use crate::model::{Plan, Step};
use crate::quote::{ps, validate_node_name};

const BODY: &str = r#"
Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
Import-Module -Name UpdateServices
$wsus = Get-WsusServer
if ([string]$wsus.GetConfiguration().TargetingMode -ne 'Server') {
    throw 'lockstep: WSUS uses client-side targeting: the clients put themselves into their groups, so per-node approval groups would not hold. Switch to server-side targeting (Options, Computers) or approve by hand, one node at a time.'
}

function Get-LockstepNodeGroup {
    # The computer group of one node, created when missing, with the node's
    # computer in it (and still in its other groups).
    param([string] $Node, [string] $GroupName)
    $group = $wsus.GetComputerTargetGroups() | Where-Object { $_.Name -eq $GroupName }
    if ($null -eq $group) {
        if (-not $PSCmdlet.ShouldProcess($GroupName, 'create the WSUS computer group')) { return $null }
        if ($ParentGroup -eq '') {
            $group = $wsus.CreateComputerTargetGroup($GroupName)
        } else {
            $parent = $wsus.GetComputerTargetGroups() | Where-Object { $_.Name -eq $ParentGroup }
            if ($null -eq $parent) { throw ('lockstep: WSUS computer group ' + $ParentGroup + ' not found') }
            $group = $wsus.CreateComputerTargetGroup($GroupName, $parent)
        }
    }
    $target = @($wsus.SearchComputerTargets($Node) | Where-Object { $_.FullDomainName -eq $Node -or $_.FullDomainName -like ($Node + '.*') })
    if ($target.Count -ne 1) { throw ('lockstep: expected one WSUS computer named ' + $Node + ', found ' + $target.Count) }
    if (-not (@($group.GetComputerTargets()) | Where-Object { $_.Id -eq $target[0].Id })) {
        if ($PSCmdlet.ShouldProcess($Node, ('add to the WSUS computer group ' + $GroupName))) { $group.AddComputerTarget($target[0]) }
    }
    return $group
}

function Get-LockstepWsusUpdate {
    param([string] $Kb)
    $found = @($wsus.SearchUpdates('KB' + $Kb) | Where-Object { $_.KnowledgebaseArticles -contains $Kb -and -not $_.IsDeclined })
    if ($found.Count -eq 0) { throw ('lockstep: KB' + $Kb + ' is not in the WSUS catalog (import it from the Microsoft Update Catalog)') }
    return $found
}

function Wait-LockstepReport {
    # The reporting gate: the node's computer reports the update installed.
    param([string] $Node, $Group, [string] $Kb)
    $deadline = (Get-Date).AddMinutes($ReportTimeoutMinutes)
    while ($true) {
        $pending = @()
        foreach ($u in (Get-LockstepWsusUpdate -Kb $Kb)) {
            foreach ($info in @($u.GetUpdateInstallationInfoPerComputerTarget($Group))) {
                $state = [string]$info.UpdateInstallationState
                if ($state -ne 'Installed' -and $state -ne 'NotApplicable') { $pending += $state }
            }
        }
        if ($pending.Count -eq 0) { Write-Host ('lockstep: ' + $Node + ' reports KB' + $Kb + ' Installed'); return }
        if ((Get-Date) -gt $deadline) { throw ('lockstep: STOPPED: ' + $Node + ' does not report KB' + $Kb + ' Installed yet (' + ($pending -join ', ') + '). Let it scan and report (wuauclt /reportnow, usoclient StartScan), then run again.') }
        Write-Host ('lockstep: waiting for ' + $Node + ' to report KB' + $Kb + ' Installed (' + ($pending -join ', ') + ')')
        Start-Sleep -Seconds 300
    }
}

for ($pass = 1; $pass -le $Passes; $pass++) {
    $items = @($Approvals | Where-Object { $_.Pass -eq $pass })
    $groups = @{}
    foreach ($a in $items) {
        $group = Get-LockstepNodeGroup -Node $a.Node -GroupName $a.Group
        $groups[$a.Node] = $group
        foreach ($u in (Get-LockstepWsusUpdate -Kb $a.Kb)) {
            if ($PSCmdlet.ShouldProcess(('KB' + $a.Kb + ' for ' + $a.Group), 'Install')) {
                Approve-WsusUpdate -Update (Get-WsusUpdate -UpdateId $u.Id.UpdateId) -Action Install -TargetGroupName $a.Group
            }
        }
    }
    if (-not $WhatIfPreference) {
        foreach ($a in $items) { Wait-LockstepReport -Node $a.Node -Group $groups[$a.Node] -Kb $a.Kb }
    }
}
Write-Host 'lockstep: WSUS approval sequence complete'
"#;

pub fn emit(plan: &Plan, opts: &EmitOptions) -> Result<String, EmitError> {
    refuse_if_refused(plan)?;
    if plan.needs_uninstall() {
        let who: Vec<String> = plan
            .removals()
            .iter()
            .map(|(node, kbs)| format!("{node} removes {}", kbs.join(", ")))
            .collect();
        return Err(EmitError::Unsupported(format!(
            "WSUS approvals cannot carry out this plan: it removes updates first ({}). An Uninstall approval is carried out by the Windows Update Agent on its own schedule, without draining the node; Cluster-Aware Updating's Windows Update plug-in does not act on uninstall approvals; and many updates cannot be removed through WSUS at all. Run the removals with --emit powershell or --emit ansible (one drained node at a time); WSUS can approve the installs of a later, install-only plan.",
            who.join("; ")
        )));
    }
    let mut approvals = Vec::new();
    let mut passes = 0;
    for n in &plan.nodes {
        validate_node_name(&n.name)?;
        let installs: Vec<_> = n
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Install { kb, .. } => Some(*kb),
                _ => None,
            })
            .collect();
        passes = passes.max(installs.len());
        for (i, kb) in installs.iter().enumerate() {
            approvals.push(format!(
                "    [pscustomobject]@{{ Pass = {}; Node = {}; Group = {}; Kb = {} }}\n",
                i + 1,
                ps(&n.name),
                ps(&format!("lockstep-{}", n.name)),
                ps(&kb.number().to_string())
            ));
        }
    }
    let mut s = String::new();
    s.push_str("#Requires -Version 5.1\n<#\n.SYNOPSIS\n    WSUS approvals for a lockstep plan (run on the WSUS server), one computer group per node.\n\n.DESCRIPTION\n    Each planned node gets a computer group of its own (lockstep-<node>; needs server-side\n    targeting) and each update is approved for Install for exactly the node that needs it, so\n    nodes the plan leaves untouched are offered nothing. A node installs its updates in the\n    plan's order, one pass per update; after each pass the script waits until every node of the\n    pass reports its update Installed (the reporting gate). Let Cluster-Aware Updating\n    (Microsoft.WindowsUpdatePlugin) install between the gates so the nodes are drained and\n    patched one at a time.\n#>\n[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]\nparam(\n");
    s.push_str(&format!(
        "    [string] $ParentGroup = {},\n",
        ps(opts.wsus_group.as_deref().unwrap_or(""))
    ));
    s.push_str("    [int] $ReportTimeoutMinutes = 1440\n)\n\n");
    s.push_str(&format!("$LockstepClusterLabel = {}\n", ps(&plan.cluster)));
    s.push_str(&format!("$Passes = {passes}\n"));
    s.push_str("$Approvals = @(\n");
    for a in approvals {
        s.push_str(&a);
    }
    s.push_str(")\n");
    s.push_str(BODY);
    Ok(s)
}
