//! One Windows PowerShell 5.1 script that runs the plan from a cluster node
//! or a management host with the FailoverClusters module.
//!
//! The script is a fixed body (below) plus a data section: the plan's nodes,
//! steps and waves as single-quoted literals built by [`crate::quote::ps`].
//! No input value is ever spliced into code or comments, so the tests can
//! parse the script and check that every node name and package name occurs
//! only inside a single-quoted string.
//!
//! Mechanisms:
//! * Windows 6.x: `wusa.exe <msu> /quiet /norestart` and
//!   `wusa.exe /uninstall /kb:N /quiet /norestart`. wusa cannot run inside a
//!   WinRM session (Microsoft KB2773898: "Installing an update using WUSA or
//!   the WUA APIs on a remote machine isn't supported", it fails with 0x5),
//!   so the script runs it on the node as a one-shot SYSTEM scheduled task
//!   and reads its exit code from a file.
//! * Windows 10 / Server 2016 and later: DISM, `Add-WindowsPackage -Online
//!   -PackagePath <msu> -NoRestart` and `Remove-WindowsPackage -Online
//!   -PackageName <name> -NoRestart`. Microsoft deprecated the quiet wusa
//!   uninstall in Windows 10 1507 ("Deprecated features for Windows client",
//!   https://learn.microsoft.com/windows/whats-new/deprecated-features: "The
//!   wusa usage to quietly uninstall an update has been deprecated. The
//!   uninstall command with /quiet switch fails with event ID 8 in the Setup
//!   event log."). Add-WindowsPackage "adds a single .cab or .msu file"
//!   (https://learn.microsoft.com/powershell/module/dism/add-windowspackage);
//!   Remove-WindowsPackage cannot take an .msu ("Only .cab files can be
//!   specified. You cannot use this command to remove .msu files",
//!   https://learn.microsoft.com/powershell/module/dism/remove-windowspackage),
//!   so it gets the package identity from `Get-WindowsPackage -Online`.
//!
//! Installer results are classified alike for both: 0 success, 3010 reboot
//! required, 0x240006 (2359302) already installed, 0x80240017
//! (-2145124329) not applicable — on an install that means an installed
//! update supersedes it, and the node stops with that message. DISM's
//! CBS_E_NOT_APPLICABLE (0x800F081E) maps to the same verdict.

use super::{EmitError, EmitOptions, refuse_if_refused};
use crate::model::{Plan, Step};
use crate::quote::{ps, validate_host, validate_package};

fn ps_array(items: &[String]) -> String {
    if items.is_empty() {
        "@()".to_string()
    } else {
        format!("@({})", items.join(", "))
    }
}

fn data_section(plan: &Plan) -> Result<String, EmitError> {
    let mut d = String::new();
    d.push_str(&format!("$LockstepClusterLabel = {}\n", ps(&plan.cluster)));
    d.push_str(&format!("$LockstepTarget = {}\n", ps(plan.target.label())));
    d.push_str(&format!(
        "$MaxFailedNodes = {}\n",
        plan.settings.max_failed_nodes
    ));
    d.push_str(&format!("$Retries = {}\n", plan.settings.retries));
    d.push_str(&format!(
        "$RebootTimeoutMinutes = {}\n",
        plan.settings.reboot_timeout_minutes
    ));
    d.push_str("$LockstepNodes = @(\n");
    for n in &plan.nodes {
        validate_host("node name", &n.name)?;
        d.push_str("    [pscustomobject]@{\n");
        d.push_str(&format!("        Node      = {}\n", ps(&n.name)));
        d.push_str(&format!(
            "        Canary    = {}\n",
            if n.canary { "$true" } else { "$false" }
        ));
        d.push_str(&format!(
            "        Mechanism = {}\n",
            ps(n.mechanism.label())
        ));
        d.push_str("        Steps     = @(\n");
        for s in &n.steps {
            let (action, kb, package, present) = match s {
                Step::Drain => ("drain", String::new(), String::new(), Vec::new()),
                Step::Uninstall { kb, package, .. } => {
                    if let Some(p) = package {
                        validate_package(p)?;
                    }
                    (
                        "uninstall",
                        kb.number().to_string(),
                        package.clone().unwrap_or_default(),
                        Vec::new(),
                    )
                }
                Step::Install { kb, .. } => (
                    "install",
                    kb.number().to_string(),
                    String::new(),
                    Vec::new(),
                ),
                Step::Reboot { .. } => ("reboot", String::new(), String::new(), Vec::new()),
                Step::Verify { present } => (
                    "verify",
                    String::new(),
                    String::new(),
                    present
                        .iter()
                        .map(|k| ps(&k.number().to_string()))
                        .collect(),
                ),
                Step::Resume => ("resume", String::new(), String::new(), Vec::new()),
            };
            d.push_str(&format!(
                "            [pscustomobject]@{{ Action = {}; Kb = {}; Package = {}; Present = {} }}\n",
                ps(action),
                ps(&kb),
                ps(&package),
                ps_array(&present)
            ));
        }
        d.push_str("        )\n    }\n");
    }
    d.push_str(")\n$LockstepWaves = @(\n");
    for w in &plan.waves {
        let names: Vec<String> = w.nodes.iter().map(|n| ps(n)).collect();
        d.push_str(&format!(
            "    [pscustomobject]@{{ Nodes = {}; SoakSeconds = {} }}\n",
            ps_array(&names),
            w.soak_seconds.unwrap_or(0)
        ));
    }
    d.push_str(")\n");
    Ok(d)
}

const HEADER: &str = r#"#Requires -Version 5.1
<#
.SYNOPSIS
    Runs a lockstep plan: patches the cluster's nodes one drained node at a time.

.DESCRIPTION
    Generated by lockstep; review it before running (use -WhatIf first).
    For every node, in order: health gate, drain (Suspend-ClusterNode -Drain -Wait),
    the node's uninstalls and installs in the order the plan derived from the
    supersedence chains, restart (Restart-Computer -Wait -For PowerShell),
    verification of the node's updates (Get-HotFix), resume
    (Resume-ClusterNode -Failback Immediate), health gate.
    The first node is the canary; with a soak time the script waits after it.
    It stops at the first failure with a message saying what failed and how to
    continue (-ResumeFrom). Every step is idempotent: an update already
    present is not installed again, one already absent is not removed again.

.PARAMETER Source
    Folder with the .msu files, one per KB, each file name containing KBnnnnnnn
    (as the Microsoft Update Catalog names them).

.PARAMETER ResumeFrom
    Start at this node after a stop; the nodes before it in the plan are skipped.

.PARAMETER Cluster
    The cluster to act on (default: the cluster of this node).

.PARAMETER LogPath
    Transcript file (default: lockstep-plan-<time>.log in the TEMP folder).

.EXAMPLE
    .\lockstep-plan.ps1 -Source \\fileserver\updates -WhatIf
#>
[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
param(
    [Parameter(Mandatory = $true)]
    [string] $Source,
    [string] $ResumeFrom = '',
    [string] $Cluster = '.',
    [string] $LogPath = ''
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
Import-Module -Name FailoverClusters

# ---- The plan (data only: every value is a single-quoted literal) ----
"#;

const BODY: &str = r#"# ---- Installer results ----
$ExitSuccess = 0
$ExitRebootRequired = 3010
$ExitAlreadyInstalled = 2359302        # 0x00240006 WU_S_ALREADY_INSTALLED
$ExitNotApplicable = -2145124329       # 0x80240017 WU_E_NOT_APPLICABLE
$DismNotApplicable = -2146498530       # 0x800F081E CBS_E_NOT_APPLICABLE

function Stop-Lockstep {
    param([string] $Node, [string] $Message)
    $text = 'lockstep: STOPPED at node ' + $Node + ': ' + $Message +
        ' Fix the cause, then run this script again with -ResumeFrom ' + $Node + '.'
    throw $text
}

function Get-LockstepClusterArgs {
    if ($Cluster -eq '.' -or $Cluster -eq '') { return @{} }
    return @{ Cluster = $Cluster }
}

function Resolve-LockstepResult {
    # Classifies an installer exit code; throws on failure.
    param([string] $Node, [string] $Operation, [string] $Kb, [int] $Code)
    switch ($Code) {
        $ExitSuccess { return 'ok' }
        $ExitRebootRequired { return 'reboot-required' }
        $ExitAlreadyInstalled { return 'already-installed' }
        $ExitNotApplicable {
            if ($Operation -eq 'install') {
                Stop-Lockstep -Node $Node -Message ('KB' + $Kb + ' is not applicable (0x80240017): an update installed on the node supersedes it, so it cannot be installed while that update is present. Uninstall the superseding update first (lockstep plan --target converge orders this), or check that the .msu matches the node''s OS and architecture.')
            }
            return 'not-applicable'
        }
        $DismNotApplicable {
            Stop-Lockstep -Node $Node -Message ('KB' + $Kb + ' is not applicable (0x800F081E): an update installed on the node supersedes it, or the package does not match the node.')
        }
        default {
            Stop-Lockstep -Node $Node -Message ($Operation + ' of KB' + $Kb + ' failed with exit code ' + $Code + ' (0x' + ('{0:X8}' -f $Code) + ').')
        }
    }
}

function Test-LockstepClusterHealth {
    # The health gate: nodes Up, CSVs Direct, groups Online, quorum and
    # capacity for the nodes about to go down ($Patching).
    param([string] $Phase, [string[]] $Patching = @(), [string[]] $MayBePaused = @())
    $ca = Get-LockstepClusterArgs
    $problems = New-Object System.Collections.Generic.List[string]
    $nodes = @(Get-ClusterNode @ca)
    foreach ($n in $nodes) {
        $state = [string]$n.State
        if ($state -ne 'Up' -and -not ($state -eq 'Paused' -and $MayBePaused -contains $n.Name)) {
            $problems.Add('node ' + $n.Name + ' is ' + $state)
        }
    }
    if (Get-Command -Name Get-ClusterSharedVolumeState -ErrorAction SilentlyContinue) {
        foreach ($s in @(Get-ClusterSharedVolumeState @ca)) {
            $info = [string]$s.StateInfo
            $reason = [string]$s.FileSystemRedirectedIOReason
            $refsOnly = ($info -eq 'FileSystemRedirected' -and $reason -eq 'FileSystemReFs')
            if ($info -ne 'Direct' -and -not $refsOnly) {
                $problems.Add('CSV ' + $s.Name + ' is ' + $info + ' on ' + $s.Node + ' (' + $reason + ' ' + [string]$s.BlockRedirectedIOReason + ')')
            }
        }
    } else {
        foreach ($csv in @(Get-ClusterSharedVolume @ca)) {
            foreach ($i in @($csv.SharedVolumeInfo)) {
                if ($i.RedirectedAccess) { $problems.Add('CSV ' + $csv.Name + ' is in redirected access') }
            }
        }
    }
    foreach ($g in @(Get-ClusterGroup @ca)) {
        if ([string]$g.State -ne 'Online' -and $g.Name -ne 'Available Storage') {
            $problems.Add('cluster group ' + $g.Name + ' is ' + [string]$g.State)
        }
    }
    if ($Patching.Count -gt 0) {
        # Quorum: the votes of the nodes that stay up (plus the witness)
        # must be more than half of all votes.
        $total = 0; $left = 0
        foreach ($n in $nodes) {
            $w = 1
            if ($n.PSObject.Properties['NodeWeight'] -and $null -ne $n.NodeWeight) { $w = [int]$n.NodeWeight }
            $total += $w
            if ([string]$n.State -eq 'Up' -and $Patching -notcontains $n.Name) { $left += $w }
        }
        $quorum = Get-ClusterQuorum @ca
        if ($null -ne $quorum.QuorumResource) {
            $total += 1
            if ([string]$quorum.QuorumResource.State -eq 'Online') { $left += 1 }
        }
        $majority = [math]::Floor($total / 2) + 1
        if ($left -lt $majority) {
            $problems.Add('quorum: taking ' + ($Patching -join ', ') + ' down leaves ' + $left + ' of ' + $total + ' votes, fewer than the majority of ' + $majority)
        }
        # Capacity: the running VMs of the drained nodes must fit in the
        # free memory of the nodes that stay up. Where Get-VM is missing
        # (Windows Server 2008 R2) the node's used memory is the bound.
        $need = [double]0
        foreach ($p in $Patching) {
            if (Get-Command -Name Get-VM -ErrorAction SilentlyContinue) {
                $vms = @(Get-VM -ComputerName $p | Where-Object { [string]$_.State -eq 'Running' })
                foreach ($vm in $vms) { $need += [double]$vm.MemoryAssigned }
            } else {
                $os = Get-CimInstance -ClassName Win32_OperatingSystem -ComputerName $p
                $need += ([double]$os.TotalVisibleMemorySize - [double]$os.FreePhysicalMemory) * 1024
            }
        }
        $free = [double]0
        foreach ($n in $nodes) {
            if ([string]$n.State -eq 'Up' -and $Patching -notcontains $n.Name) {
                $os = Get-CimInstance -ClassName Win32_OperatingSystem -ComputerName $n.Name
                $free += [double]$os.FreePhysicalMemory * 1024
            }
        }
        if ($need -gt $free) {
            $problems.Add('capacity: the running VMs of ' + ($Patching -join ', ') + ' need ' + ('{0:N1}' -f ($need / 1073741824)) + ' GiB, the nodes that stay up have ' + ('{0:N1}' -f ($free / 1073741824)) + ' GiB free')
        }
    }
    if ($problems.Count -gt 0) {
        throw ('health gate ' + $Phase + ' failed: ' + ($problems -join '; '))
    }
    Write-Host ('lockstep: health gate ' + $Phase + ': passed')
}

function Test-LockstepPendingReboot {
    param([string] $Node)
    $pending = Invoke-Command -ComputerName $Node -ScriptBlock {
        $r = @()
        if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') { $r += 'CBS RebootPending' }
        if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') { $r += 'Windows Update RebootRequired' }
        $p = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name 'PendingFileRenameOperations' -ErrorAction SilentlyContinue
        if ($null -ne $p) { $r += 'PendingFileRenameOperations' }
        $r
    }
    if (@($pending).Count -gt 0) {
        Stop-Lockstep -Node $Node -Message ('a reboot is pending (' + (@($pending) -join ', ') + '); restart the node and check it before patching it.')
    }
}

function Test-LockstepKbPresent {
    param([string] $Node, [string] $Kb)
    $hf = Invoke-Command -ComputerName $Node -ScriptBlock {
        param($id)
        Get-HotFix -Id $id -ErrorAction SilentlyContinue
    } -ArgumentList ('KB' + $Kb)
    return ($null -ne $hf)
}

function Copy-LockstepMsu {
    # Copies the KB's .msu to the node's Windows\Temp\lockstep over the
    # admin share (no second hop from inside a remote session).
    param([string] $Node, [string] $Kb)
    $files = @(Get-ChildItem -LiteralPath $Source -Filter ('*KB' + $Kb + '*.msu') -File)
    if ($files.Count -ne 1) {
        Stop-Lockstep -Node $Node -Message ('expected exactly one .msu for KB' + $Kb + ' in ' + $Source + ', found ' + $files.Count + '.')
    }
    $share = '\\' + $Node + '\ADMIN$\Temp\lockstep'
    if (-not (Test-Path -LiteralPath $share)) { New-Item -ItemType Directory -Path $share | Out-Null }
    # Renamed to KBn.msu: the scheduled task's command line must stay
    # under schtasks' 261-character limit.
    $name = 'KB' + $Kb + '.msu'
    Copy-Item -LiteralPath $files[0].FullName -Destination (Join-Path -Path $share -ChildPath $name) -Force
    return ('Temp\lockstep\' + $name)
}

# Runs wusa.exe on the node as a one-shot SYSTEM task (wusa is refused
# inside a WinRM session: KB2773898) and returns its exit code.
$WusaOnNode = {
    param([string] $Arguments, [string] $Tag)
    $dir = Join-Path -Path $env:windir -ChildPath 'Temp\lockstep'
    if (-not (Test-Path -LiteralPath $dir)) { New-Item -ItemType Directory -Path $dir | Out-Null }
    $codeFile = Join-Path -Path $dir -ChildPath ($Tag + '.exitcode')
    Remove-Item -LiteralPath $codeFile -ErrorAction SilentlyContinue
    $task = 'lockstep-' + $Tag
    $cmd = 'cmd.exe /c "%windir%\System32\wusa.exe ' + $Arguments + ' & call echo %^errorlevel% > ' + $codeFile + '"'
    & schtasks.exe /Create /F /RU SYSTEM /SC ONCE /ST 00:00 /TN $task /TR $cmd | Out-Null
    & schtasks.exe /Run /TN $task | Out-Null
    $deadline = (Get-Date).AddMinutes(60)
    while (-not (Test-Path -LiteralPath $codeFile)) {
        if ((Get-Date) -gt $deadline) { & schtasks.exe /Delete /F /TN $task | Out-Null; return -1 }
        Start-Sleep -Seconds 5
    }
    Start-Sleep -Seconds 1
    & schtasks.exe /Delete /F /TN $task | Out-Null
    return [int]((Get-Content -LiteralPath $codeFile | Select-Object -First 1).Trim())
}

# DISM on the node; returns 0, 3010 or the HRESULT of the failure.
$DismOnNode = {
    param([string] $Operation, [string] $Path, [string] $PackageName, [string] $Kb)
    try {
        if ($Operation -eq 'install') {
            $r = Add-WindowsPackage -Online -PackagePath (Join-Path -Path $env:windir -ChildPath $Path) -NoRestart
        } else {
            $name = $PackageName
            if ($name -eq '') {
                $found = @(Get-WindowsPackage -Online | Where-Object { $_.PackageName -like ('*KB' + $Kb + '~*') -and [string]$_.PackageState -eq 'Installed' })
                if ($found.Count -eq 0) {
                    foreach ($p in @(Get-WindowsPackage -Online | Where-Object { $_.PackageName -like 'Package_for_RollupFix*' -and [string]$_.PackageState -eq 'Installed' })) {
                        $info = Get-WindowsPackage -Online -PackageName $p.PackageName
                        if ([string]$info.Description -match ('KB' + $Kb + '\b')) { $found += $p }
                    }
                }
                if ($found.Count -ne 1) { return -3 }
                $name = $found[0].PackageName
            }
            $r = Remove-WindowsPackage -Online -PackageName $name -NoRestart
        }
        if ($r.RestartNeeded) { return 3010 }
        return 0
    } catch {
        return [int]$_.Exception.HResult
    }
}

function Invoke-LockstepUpdate {
    param([string] $Node, [string] $Mechanism, [string] $Operation, [string] $Kb, [string] $Package)
    $present = Test-LockstepKbPresent -Node $Node -Kb $Kb
    if ($Operation -eq 'install' -and $present) { Write-Host ('lockstep: ' + $Node + ': KB' + $Kb + ' already installed'); return }
    if ($Operation -eq 'uninstall' -and -not $present) { Write-Host ('lockstep: ' + $Node + ': KB' + $Kb + ' already absent'); return }
    if (-not $PSCmdlet.ShouldProcess($Node, ($Operation + ' KB' + $Kb))) { return }
    if ($Mechanism -eq 'auto') {
        $major = Invoke-Command -ComputerName $Node -ScriptBlock { [Environment]::OSVersion.Version.Major }
        if ([int]$major -ge 10) { $Mechanism = 'dism' } else { $Mechanism = 'wusa' }
    }
    $path = ''
    if ($Operation -eq 'install') { $path = Copy-LockstepMsu -Node $Node -Kb $Kb }
    if ($Mechanism -eq 'wusa') {
        if ($Operation -eq 'install') {
            $arguments = '%windir%\' + $path + ' /quiet /norestart'
        } else {
            $arguments = '/uninstall /kb:' + $Kb + ' /quiet /norestart'
        }
        $code = Invoke-Command -ComputerName $Node -ScriptBlock $WusaOnNode -ArgumentList $arguments, ($Operation + '-' + $Kb)
    } else {
        $code = Invoke-Command -ComputerName $Node -ScriptBlock $DismOnNode -ArgumentList $Operation, $path, $Package, $Kb
        if ($code -eq -3) { Stop-Lockstep -Node $Node -Message ('no single installed DISM package found for KB' + $Kb + ' (Get-WindowsPackage -Online).') }
    }
    $verdict = Resolve-LockstepResult -Node $Node -Operation $Operation -Kb $Kb -Code $code
    Write-Host ('lockstep: ' + $Node + ': ' + $Operation + ' KB' + $Kb + ': ' + $verdict)
}

function Suspend-LockstepNode {
    # Suspend-ClusterNode -Drain (Windows Server 2012 and later). The 2008 R2
    # module has no -Drain: pause the node and live-migrate its VM roles
    # (Move-ClusterVirtualMachineRole), moving other groups, to the Up node
    # with the most free memory.
    param([string] $Node)
    $ca = Get-LockstepClusterArgs
    if ((Get-Command -Name Suspend-ClusterNode).Parameters.ContainsKey('Drain')) {
        Suspend-ClusterNode @ca -Name $Node -Drain -Wait | Out-Null
        $n = Get-ClusterNode @ca -Name $Node
        if ($n.PSObject.Properties['DrainStatus'] -and [string]$n.DrainStatus -ne 'Completed') {
            Stop-Lockstep -Node $Node -Message ('drain did not complete (DrainStatus ' + [string]$n.DrainStatus + ').')
        }
        return
    }
    Suspend-ClusterNode @ca -Name $Node | Out-Null
    foreach ($g in @(Get-ClusterGroup @ca | Where-Object { $_.OwnerNode.Name -eq $Node })) {
        $best = $null; $bestFree = -1
        foreach ($o in @(Get-ClusterNode @ca | Where-Object { [string]$_.State -eq 'Up' -and $_.Name -ne $Node })) {
            $free = [double](Get-WmiObject -Class Win32_OperatingSystem -ComputerName $o.Name).FreePhysicalMemory
            if ($free -gt $bestFree) { $best = $o.Name; $bestFree = $free }
        }
        if ($null -eq $best) { Stop-Lockstep -Node $Node -Message 'no other node is Up to take its roles.' }
        if ([string]$g.GroupType -eq 'VirtualMachine' -or @(Get-ClusterResource @ca | Where-Object { $_.OwnerGroup.Name -eq $g.Name -and $_.ResourceType.Name -eq 'Virtual Machine' }).Count -gt 0) {
            Move-ClusterVirtualMachineRole @ca -Name $g.Name -Node $best | Out-Null
        } else {
            Move-ClusterGroup @ca -Name $g.Name -Node $best | Out-Null
        }
    }
}

function Resume-LockstepNode {
    param([string] $Node)
    $ca = Get-LockstepClusterArgs
    if ((Get-Command -Name Resume-ClusterNode).Parameters.ContainsKey('Failback')) {
        Resume-ClusterNode @ca -Name $Node -Failback Immediate | Out-Null
    } else {
        Resume-ClusterNode @ca -Name $Node | Out-Null
        Write-Warning ('lockstep: ' + $Node + ' resumed; this FailoverClusters module has no -Failback, so its roles stay where the drain moved them.')
    }
    $n = Get-ClusterNode @ca -Name $Node
    if ([string]$n.State -ne 'Up') { Stop-Lockstep -Node $Node -Message ('after Resume-ClusterNode the node is ' + [string]$n.State + '.') }
}

function Invoke-LockstepNode {
    param($Plan)
    $node = $Plan.Node
    Test-LockstepPendingReboot -Node $node
    foreach ($step in $Plan.Steps) {
        switch ($step.Action) {
            'drain' {
                if ($PSCmdlet.ShouldProcess($node, 'Suspend-ClusterNode -Drain -Wait')) {
                    Suspend-LockstepNode -Node $node
                }
            }
            'uninstall' { Invoke-LockstepUpdate -Node $node -Mechanism $Plan.Mechanism -Operation 'uninstall' -Kb $step.Kb -Package $step.Package }
            'install' { Invoke-LockstepUpdate -Node $node -Mechanism $Plan.Mechanism -Operation 'install' -Kb $step.Kb -Package '' }
            'reboot' {
                if ($PSCmdlet.ShouldProcess($node, 'Restart-Computer -Wait -For PowerShell')) {
                    Restart-Computer -ComputerName $node -Force -Wait -For PowerShell -Timeout ($RebootTimeoutMinutes * 60) -Delay 15
                }
            }
            'verify' {
                if (-not $WhatIfPreference) {
                    $missing = @($step.Present | Where-Object { -not (Test-LockstepKbPresent -Node $node -Kb $_) })
                    if ($missing.Count -gt 0) {
                        Stop-Lockstep -Node $node -Message ('after the restart these updates are not installed: KB' + ($missing -join ', KB') + '.')
                    }
                    Write-Host ('lockstep: ' + $node + ': verified KB' + ($step.Present -join ', KB'))
                }
            }
            'resume' {
                if ($PSCmdlet.ShouldProcess($node, 'Resume-ClusterNode -Failback Immediate')) {
                    Resume-LockstepNode -Node $node
                }
            }
            default { Stop-Lockstep -Node $node -Message ('unknown step ' + $step.Action) }
        }
    }
}

# ---- Run ----
if ($LogPath -eq '') {
    $LogPath = Join-Path -Path $env:TEMP -ChildPath ('lockstep-plan-' + (Get-Date -Format 'yyyyMMdd-HHmmss') + '.log')
}
Start-Transcript -LiteralPath $LogPath -Append | Out-Null
try {
    Write-Host ('lockstep: cluster ' + $LockstepClusterLabel + ', target ' + $LockstepTarget + ', ' + $LockstepNodes.Count + ' node(s); transcript ' + $LogPath)
    if (-not (Test-Path -LiteralPath $Source)) { throw ('lockstep: -Source ' + $Source + ' does not exist') }
    $started = ($ResumeFrom -eq '')
    if (-not $started -and -not ($LockstepNodes | Where-Object { $_.Node -eq $ResumeFrom })) {
        throw ('lockstep: -ResumeFrom ' + $ResumeFrom + ' is not a node of this plan (' + (($LockstepNodes | ForEach-Object { $_.Node }) -join ', ') + ')')
    }
    $failed = 0
    foreach ($wave in $LockstepWaves) {
        $todo = @()
        foreach ($name in $wave.Nodes) {
            if (-not $started -and $name -eq $ResumeFrom) { $started = $true }
            if ($started) { $todo += $name } else { Write-Host ('lockstep: skipping ' + $name + ' (before -ResumeFrom)') }
        }
        if ($todo.Count -eq 0) { continue }
        if (-not $WhatIfPreference) { Test-LockstepClusterHealth -Phase ('before ' + ($todo -join ', ')) -Patching $todo }
        foreach ($name in $todo) {
            $plan = $LockstepNodes | Where-Object { $_.Node -eq $name }
            $attempt = 0
            while ($true) {
                try {
                    Invoke-LockstepNode -Plan $plan
                    break
                } catch {
                    $attempt += 1
                    if ($attempt -le $Retries) {
                        Write-Warning ('lockstep: ' + $name + ': ' + $_.Exception.Message + ' — retry ' + $attempt + ' of ' + $Retries)
                        continue
                    }
                    $failed += 1
                    Write-Warning ('lockstep: ' + $name + ' FAILED: ' + $_.Exception.Message)
                    if ($failed -gt $MaxFailedNodes) {
                        throw ('lockstep: stopping after ' + $failed + ' failed node(s) (-MaxFailedNodes ' + $MaxFailedNodes + '). Last failure at ' + $name + ': ' + $_.Exception.Message)
                    }
                    break
                }
            }
        }
        if (-not $WhatIfPreference) {
            # Nodes just resumed come back Up; give the cluster a moment.
            Start-Sleep -Seconds 30
            Test-LockstepClusterHealth -Phase ('after ' + ($todo -join ', '))
        }
        if ($wave.SoakSeconds -gt 0 -and -not $WhatIfPreference) {
            Write-Host ('lockstep: canary soak: waiting ' + $wave.SoakSeconds + ' s before the next node')
            Start-Sleep -Seconds $wave.SoakSeconds
            Test-LockstepClusterHealth -Phase 'after the soak'
        }
    }
    Write-Host ('lockstep: done; ' + $failed + ' node(s) failed')
} finally {
    Stop-Transcript | Out-Null
}
"#;

/// The whole script.
pub fn emit(plan: &Plan, _opts: &EmitOptions) -> Result<String, EmitError> {
    refuse_if_refused(plan)?;
    let mut s = String::new();
    s.push_str(HEADER);
    s.push_str(&data_section(plan)?);
    s.push('\n');
    s.push_str(BODY);
    Ok(s)
}
