
# ---- Installer results ----
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
        (-1) {
            Stop-Lockstep -Node $Node -Message ($Operation + ' of KB' + $Kb + ': the scheduled task that runs wusa.exe did not finish within 60 minutes; look at the task lockstep-' + $Operation + '-' + $Kb + ' and the Setup event log on the node.')
        }
        default {
            Stop-Lockstep -Node $Node -Message ($Operation + ' of KB' + $Kb + ' failed with exit code ' + $Code + ' (0x' + ('{0:X8}' -f $Code) + ').')
        }
    }
}

function Get-LockstepNodeMemory {
    # Free memory of a node and the assigned memory of each running VM,
    # read on the node itself (WMI and Hyper-V locally: no second hop).
    # Where the Hyper-V module is missing (Windows Server 2008 R2) the
    # node's used memory stands for one VM: the bound is then cautious.
    param([string] $Node)
    Invoke-Command -ComputerName $Node -ScriptBlock {
        $os = Get-WmiObject -Class Win32_OperatingSystem
        $vms = @()
        if (Get-Command -Name Get-VM -ErrorAction SilentlyContinue) {
            $vms = @(Get-VM | Where-Object { [string]$_.State -eq 'Running' } | ForEach-Object { [double]$_.MemoryAssigned })
        } else {
            $vms = @(([double]$os.TotalVisibleMemorySize - [double]$os.FreePhysicalMemory) * 1024)
        }
        New-Object -TypeName PSObject -Property @{ Free = [double]$os.FreePhysicalMemory * 1024; Vms = $vms }
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
        if ([string]$g.State -ne 'Online' -and $g.Name -ne 'Available Storage' -and $ExcludeGroup -notcontains $g.Name) {
            $problems.Add('cluster group ' + $g.Name + ' is ' + [string]$g.State + ' (-ExcludeGroup names groups that may stay offline)')
        }
    }
    if ($Patching.Count -gt 0) {
        # Quorum: the votes counted now (DynamicWeight where dynamic quorum
        # is in use, else NodeWeight) of the nodes that stay up, plus the
        # witness, must be more than half of all votes counted now.
        $total = 0; $left = 0
        foreach ($n in $nodes) {
            $w = 1
            if ($n.PSObject.Properties['DynamicWeight'] -and $null -ne $n.DynamicWeight) { $w = [int]$n.DynamicWeight }
            elseif ($n.PSObject.Properties['NodeWeight'] -and $null -ne $n.NodeWeight) { $w = [int]$n.NodeWeight }
            $total += $w
            if ([string]$n.State -eq 'Up' -and $Patching -notcontains $n.Name) { $left += $w }
        }
        $quorum = Get-ClusterQuorum @ca
        if ($null -ne $quorum.QuorumResource) {
            $ww = 1
            $cl = Get-Cluster @ca
            if ($cl.PSObject.Properties['WitnessDynamicWeight'] -and $null -ne $cl.WitnessDynamicWeight) { $ww = [int]$cl.WitnessDynamicWeight }
            $total += $ww
            if ([string]$quorum.QuorumResource.State -eq 'Online') { $left += $ww }
        }
        $majority = [math]::Floor($total / 2) + 1
        if ($left -lt $majority) {
            $problems.Add('quorum: taking ' + ($Patching -join ', ') + ' down leaves ' + $left + ' of ' + $total + ' votes, fewer than the majority of ' + $majority)
        }
        # Capacity, as the planner counts it: every running VM of the
        # drained nodes must fit on one node that stays up (largest first,
        # first fit), each keeping $MemoryReserveBytes free for itself.
        $vms = @()
        foreach ($p in $Patching) { $vms += @((Get-LockstepNodeMemory -Node $p).Vms) }
        $bins = @()
        foreach ($n in $nodes) {
            if ([string]$n.State -eq 'Up' -and $Patching -notcontains $n.Name) {
                $free = [double](Get-LockstepNodeMemory -Node $n.Name).Free - $MemoryReserveBytes
                if ($free -lt 0) { $free = 0 }
                $bins += New-Object -TypeName PSObject -Property @{ Node = $n.Name; Free = $free }
            }
        }
        foreach ($vm in @($vms | Sort-Object -Descending)) {
            $bin = $bins | Where-Object { $_.Free -ge $vm } | Select-Object -First 1
            if ($null -eq $bin) {
                $problems.Add('capacity: a running VM of ' + ($Patching -join ', ') + ' needs ' + ('{0:N1}' -f ($vm / 1073741824)) + ' GiB and no node that stays up has that much free (after the ' + ('{0:N1}' -f ($MemoryReserveBytes / 1073741824)) + ' GiB each keeps)')
                break
            }
            $bin.Free -= $vm
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
    # Copies the KB's .msu to the node's %SystemRoot%\Temp\lockstep over the
    # admin share (no second hop from inside a remote session), as KBn.msu:
    # the command lines of the plan name it so.
    param([string] $Node, [string] $Kb)
    $files = @(Get-ChildItem -LiteralPath $Source -Filter ('*KB' + $Kb + '*.msu') -File)
    if ($files.Count -ne 1) {
        Stop-Lockstep -Node $Node -Message ('expected exactly one .msu for KB' + $Kb + ' in ' + $Source + ', found ' + $files.Count + '.')
    }
    $share = '\\' + $Node + '\ADMIN$\Temp\lockstep'
    if (-not (Test-Path -LiteralPath $share)) { New-Item -ItemType Directory -Path $share | Out-Null }
    Copy-Item -LiteralPath $files[0].FullName -Destination (Join-Path -Path $share -ChildPath ('KB' + $Kb + '.msu')) -Force
    return ('Temp\lockstep\KB' + $Kb + '.msu')
}

# Runs wusa.exe on the node as a one-shot SYSTEM scheduled task (wusa is
# refused inside a WinRM session: KB2773898) and returns its exit code.
# The command lines come from the plan, built by the Windows argument rules
# (lockstep's winargs module). Where the node has the ScheduledTasks module
# (Windows Server 2012 and later) the task is registered with it and the
# exit code is the task's LastTaskResult; on 2008 R2 schtasks.exe creates a
# task that runs wusa through cmd.exe, which writes the exit code to a
# file. schtasks gets its whole command line through Start-Process as one
# string: Windows PowerShell 5.1 would not escape the quotes inside /TR.
$WusaOnNode = {
    param([string] $Runner, [string] $Task, [string] $Execute, [string] $Argument, [string] $Schtasks, [string] $CodeFile)
    $dir = Join-Path -Path $env:SystemRoot -ChildPath 'Temp\lockstep'
    if (-not (Test-Path -LiteralPath $dir)) { New-Item -ItemType Directory -Path $dir | Out-Null }
    if ($Runner -eq 'auto') {
        if (Get-Command -Name Register-ScheduledTask -ErrorAction SilentlyContinue) { $Runner = 'scheduledtasks' } else { $Runner = 'schtasks' }
    }
    $deadline = (Get-Date).AddMinutes(60)
    if ($Runner -eq 'scheduledtasks') {
        $exe = [Environment]::ExpandEnvironmentVariables($Execute)
        $arg = [Environment]::ExpandEnvironmentVariables($Argument)
        $action = New-ScheduledTaskAction -Execute $exe -Argument $arg
        $principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
        Register-ScheduledTask -TaskName $Task -Action $action -Principal $principal -Force | Out-Null
        $started = Get-Date
        Start-ScheduledTask -TaskName $Task
        Start-Sleep -Seconds 2
        while ($true) {
            $state = [string](Get-ScheduledTask -TaskName $Task).State
            $info = Get-ScheduledTaskInfo -TaskName $Task
            $result = [int64]$info.LastTaskResult
            # 267009 (0x41301): still running; 267011 (0x41303): not run yet.
            if ($state -ne 'Running' -and $info.LastRunTime -ge $started.AddSeconds(-5) -and $result -ne 267009 -and $result -ne 267011) { break }
            if ((Get-Date) -gt $deadline) { Unregister-ScheduledTask -TaskName $Task -Confirm:$false; return -1 }
            Start-Sleep -Seconds 5
        }
        Unregister-ScheduledTask -TaskName $Task -Confirm:$false
        # LastTaskResult is unsigned: 0x80240017 reads 2149842967.
        if ($result -gt 2147483647) { $result -= 4294967296 }
        return [int]$result
    }
    $codePath = Join-Path -Path $env:SystemRoot -ChildPath $CodeFile
    Remove-Item -LiteralPath $codePath -ErrorAction SilentlyContinue
    $schtasks = Join-Path -Path $env:SystemRoot -ChildPath 'System32\schtasks.exe'
    foreach ($line in @($Schtasks, ('/Run /TN ' + $Task))) {
        $p = Start-Process -FilePath $schtasks -ArgumentList $line -NoNewWindow -Wait -PassThru
        if ($p.ExitCode -ne 0) { return ('schtasks.exe exit code ' + $p.ExitCode) }
    }
    while (-not (Test-Path -LiteralPath $codePath)) {
        if ((Get-Date) -gt $deadline) { Start-Process -FilePath $schtasks -ArgumentList ('/Delete /F /TN ' + $Task) -NoNewWindow -Wait | Out-Null; return -1 }
        Start-Sleep -Seconds 5
    }
    Start-Sleep -Seconds 1
    Start-Process -FilePath $schtasks -ArgumentList ('/Delete /F /TN ' + $Task) -NoNewWindow -Wait | Out-Null
    return [int]((Get-Content -LiteralPath $codePath | Select-Object -First 1).Trim())
}

# DISM on the node; returns 0, 3010 or the HRESULT of the failure.
$DismOnNode = {
    param([string] $Operation, [string] $Path, [string] $PackageName, [string] $Kb)
    try {
        if ($Operation -eq 'install') {
            $r = Add-WindowsPackage -Online -PackagePath (Join-Path -Path $env:SystemRoot -ChildPath $Path) -NoRestart
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
    # Installs or removes one update; returns the verdict ('ok',
    # 'reboot-required', 'already-installed', 'not-applicable', 'skipped').
    param([string] $Node, $NodePlan, $Step)
    $Operation = [string]$Step.Action
    $Kb = [string]$Step.Kb
    $present = Test-LockstepKbPresent -Node $Node -Kb $Kb
    if ($Operation -eq 'install' -and $present) { Write-Host ('lockstep: ' + $Node + ': KB' + $Kb + ' already installed'); return 'skipped' }
    if ($Operation -eq 'uninstall' -and -not $present) { Write-Host ('lockstep: ' + $Node + ': KB' + $Kb + ' already absent'); return 'skipped' }
    if (-not $PSCmdlet.ShouldProcess($Node, ($Operation + ' KB' + $Kb))) { return 'skipped' }
    $Mechanism = [string]$NodePlan.Mechanism
    if ($Mechanism -eq 'auto') {
        $major = Invoke-Command -ComputerName $Node -ScriptBlock { [Environment]::OSVersion.Version.Major }
        if ([int]$major -ge 10) { $Mechanism = 'dism' } else { $Mechanism = 'wusa' }
    }
    $path = ''
    if ($Operation -eq 'install') { $path = Copy-LockstepMsu -Node $Node -Kb $Kb }
    if ($Mechanism -eq 'wusa') {
        $code = Invoke-Command -ComputerName $Node -ScriptBlock $WusaOnNode -ArgumentList $NodePlan.Runner, $Step.Task, $Step.Execute, $Step.Argument, $Step.Schtasks, $Step.CodeFile
        if ($code -is [string]) { Stop-Lockstep -Node $Node -Message ($code + ' creating or starting the task ' + $Step.Task + '.') }
    } else {
        $code = Invoke-Command -ComputerName $Node -ScriptBlock $DismOnNode -ArgumentList $Operation, $path, $Step.Package, $Kb
        if ($code -eq -3) { Stop-Lockstep -Node $Node -Message ('no single installed DISM package found for KB' + $Kb + ' (Get-WindowsPackage -Online).') }
    }
    $verdict = Resolve-LockstepResult -Node $Node -Operation $Operation -Kb $Kb -Code $code
    Write-Host ('lockstep: ' + $Node + ': ' + $Operation + ' KB' + $Kb + ': ' + $verdict)
    return $verdict
}

function Suspend-LockstepNode {
    # Suspend-ClusterNode -Drain on Windows Server 2012 and later. 2008 R2
    # has no -Drain (the plan says which the node runs): pause the node and
    # live-migrate its VM roles (Move-ClusterVirtualMachineRole), moving
    # other groups, to the Up node with the most free memory.
    param([string] $Node, [string] $Drain)
    $ca = Get-LockstepClusterArgs
    if ($Drain -eq 'auto') {
        if ((Get-Command -Name Suspend-ClusterNode).Parameters.ContainsKey('Drain')) { $Drain = 'drain' } else { $Drain = 'pause' }
    }
    if ($Drain -eq 'drain') {
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
            $free = [double](Get-LockstepNodeMemory -Node $o.Name).Free
            if ($free -gt $bestFree) { $best = $o.Name; $bestFree = $free }
        }
        if ($null -eq $best) { Stop-Lockstep -Node $Node -Message 'no other node is Up to take its roles.' }
        if (@(Get-ClusterResource @ca | Where-Object { $_.OwnerGroup.Name -eq $g.Name -and $_.ResourceType.Name -eq 'Virtual Machine' }).Count -gt 0) {
            Move-ClusterVirtualMachineRole @ca -Name $g.Name -Node $best | Out-Null
        } else {
            Move-ClusterGroup @ca -Name $g.Name -Node $best | Out-Null
        }
    }
}

function Resume-LockstepNode {
    param([string] $Node, [string] $Drain)
    $ca = Get-LockstepClusterArgs
    if ($Drain -eq 'auto') {
        if ((Get-Command -Name Resume-ClusterNode).Parameters.ContainsKey('Failback')) { $Drain = 'drain' } else { $Drain = 'pause' }
    }
    if ($Drain -eq 'drain') {
        Resume-ClusterNode @ca -Name $Node -Failback Immediate | Out-Null
    } else {
        Resume-ClusterNode @ca -Name $Node | Out-Null
        Write-Warning ('lockstep: ' + $Node + ' resumed; Windows Server 2008 R2 has no -Failback, so its roles stay where they were moved.')
    }
    $n = Get-ClusterNode @ca -Name $Node
    if ([string]$n.State -ne 'Up') { Stop-Lockstep -Node $Node -Message ('after Resume-ClusterNode the node is ' + [string]$n.State + '.') }
}

function Restart-LockstepNode {
    param([string] $Node, [string] $Why)
    if ($PSCmdlet.ShouldProcess($Node, ('Restart-Computer -Wait -For PowerShell (' + $Why + ')'))) {
        Restart-Computer -ComputerName $Node -Force -Wait -For PowerShell -Timeout ($RebootTimeoutMinutes * 60) -Delay 15
    }
}

function Invoke-LockstepNode {
    param($Plan)
    $node = $Plan.Node
    Test-LockstepPendingReboot -Node $node
    # A removal that exited 3010 is completed by a restart before the next
    # install, so that the install is not judged against it.
    $restartOwed = $false
    foreach ($step in $Plan.Steps) {
        switch ($step.Action) {
            'drain' {
                if ($PSCmdlet.ShouldProcess($node, 'drain (Suspend-ClusterNode)')) {
                    Suspend-LockstepNode -Node $node -Drain $Plan.Drain
                }
            }
            'uninstall' {
                $verdict = Invoke-LockstepUpdate -Node $node -NodePlan $Plan -Step $step
                if ($verdict -eq 'reboot-required' -and $step.RestartIfRequested) { $restartOwed = $true }
            }
            'install' {
                if ($restartOwed) {
                    Restart-LockstepNode -Node $node -Why 'a removal asked for a restart (3010) before the next install'
                    $restartOwed = $false
                }
                Invoke-LockstepUpdate -Node $node -NodePlan $Plan -Step $step | Out-Null
            }
            'reboot' {
                Restart-LockstepNode -Node $node -Why 'planned'
                $restartOwed = $false
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
                if ($PSCmdlet.ShouldProcess($node, 'Resume-ClusterNode')) {
                    Resume-LockstepNode -Node $node -Drain $Plan.Drain
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
    # The script drains and restarts the nodes it patches: it must not run
    # on one of them.
    $here = [string]$env:COMPUTERNAME
    foreach ($p in $LockstepNodes) {
        if ((([string]$p.Node) -split '\.')[0] -eq $here) {
            throw ('lockstep: this script runs on ' + $here + ', a node the plan drains and restarts. Run it from a management host with the FailoverClusters module (or from a node the plan leaves untouched).')
        }
    }
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
