//! The PowerShell the playbook runs on the nodes (`win_powershell`), in the
//! variant each node's release supports ([`lockstep_model::capabilities`]):
//! a Windows Server 2008 R2 play names no cmdlet, parameter or module 2008
//! R2 lacks. Every script reads only the local node (WMI, the local cluster
//! service): nothing reaches another host from inside a WinRM session, where
//! the credentials would not follow (the second hop).

/// What the scripts may use on the nodes they run on: `Some(true)` has it,
/// `Some(false)` lacks it, `None` unknown (checked with `Get-Command`).
#[derive(Debug, Clone, Copy)]
pub struct Can {
    pub drain: Option<bool>,
    pub csv_state: Option<bool>,
    pub hyper_v: Option<bool>,
}

/// Collects the node's free memory and the assigned memory of each running
/// VM, run on every cluster node (`delegate_to`), each locally.
pub fn memory_script(can: Can) -> String {
    let vms = match can.hyper_v {
        Some(false) => "$vms = @(([double]$os.TotalVisibleMemorySize - [double]$os.FreePhysicalMemory) * 1024)\n".to_string(),
        Some(true) => "$vms = @(Get-VM | Where-Object { [string]$_.State -eq 'Running' } | ForEach-Object { [double]$_.MemoryAssigned })\n".to_string(),
        None => "if (Get-Command -Name Get-VM -ErrorAction SilentlyContinue) {\n    $vms = @(Get-VM | Where-Object { [string]$_.State -eq 'Running' } | ForEach-Object { [double]$_.MemoryAssigned })\n} else {\n    $vms = @(([double]$os.TotalVisibleMemorySize - [double]$os.FreePhysicalMemory) * 1024)\n}\n".to_string(),
    };
    let mut s = String::new();
    s.push_str("param([string] $Node)\n");
    s.push_str("# Without the Hyper-V module (Windows Server 2008 R2) the used memory\n# stands for one VM: a cautious bound.\n");
    s.push_str("$os = Get-WmiObject -Class Win32_OperatingSystem\n");
    s.push_str(&vms);
    s.push_str("[pscustomobject]@{ Node = $Node; Free = [double]$os.FreePhysicalMemory * 1024; Vms = $vms }\n");
    s
}

/// The health gate on the node `$Node`: nodes Up, CSVs Direct, groups
/// Online (but `$ExcludeGroup`), and with `$Patching`: no reboot pending,
/// quorum kept, and every running VM of the node fits on one node that
/// stays up (first fit, largest first, `$Reserve` kept free on each), from
/// the memory every node reported of itself (`$Memory`).
pub fn gate_script(can: Can) -> String {
    let csv_new = "foreach ($s in @(Get-ClusterSharedVolumeState)) {\n    $info = [string]$s.StateInfo\n    $refsOnly = ($info -eq 'FileSystemRedirected' -and [string]$s.FileSystemRedirectedIOReason -eq 'FileSystemReFs')\n    if ($info -ne 'Direct' -and -not $refsOnly) { $problems += ('CSV ' + $s.Name + ' is ' + $info + ' on ' + $s.Node) }\n}\n";
    let csv_old = "foreach ($csv in @(Get-ClusterSharedVolume)) {\n    foreach ($i in @($csv.SharedVolumeInfo)) {\n        if ($i.RedirectedAccess) { $problems += ('CSV ' + $csv.Name + ' is in redirected access') }\n    }\n}\n";
    let csv = match can.csv_state {
        Some(true) => csv_new.to_string(),
        Some(false) => csv_old.to_string(),
        None => format!(
            "if (Get-Command -Name Get-ClusterSharedVolumeState -ErrorAction SilentlyContinue) {{\n{}}} else {{\n{}}}\n",
            indent(csv_new),
            indent(csv_old)
        ),
    };
    let mut s = String::new();
    s.push_str("[CmdletBinding()]\n");
    s.push_str("param([string] $Node, [bool] $Patching, [string[]] $ExcludeGroup = @(), [object[]] $Memory = @(), [double] $Reserve = 0)\n");
    s.push_str("$problems = @()\n");
    s.push_str("foreach ($n in @(Get-ClusterNode)) {\n    if ([string]$n.State -ne 'Up') { $problems += ('node ' + $n.Name + ' is ' + [string]$n.State) }\n}\n");
    s.push_str(&csv);
    s.push_str("foreach ($g in @(Get-ClusterGroup)) {\n    $allowed = $g.Name -eq 'Available Storage' -or $ExcludeGroup -contains $g.Name\n    if ([string]$g.State -ne 'Online' -and -not $allowed) { $problems += ('group ' + $g.Name + ' is ' + [string]$g.State) }\n}\n");
    s.push_str("if ($Patching) {\n");
    s.push_str(&indent(
        "$cbs = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending'\n\
         if (Test-Path -LiteralPath $cbs) { $problems += ('reboot pending on ' + $Node) }\n\
         # Votes counted now: DynamicWeight where dynamic quorum shows it.\n\
         $total = 0\n\
         $left = 0\n\
         foreach ($n in @(Get-ClusterNode)) {\n\
         \x20   $w = 1\n\
         \x20   if ($n.PSObject.Properties['DynamicWeight'] -and $null -ne $n.DynamicWeight) { $w = [int]$n.DynamicWeight }\n\
         \x20   elseif ($n.PSObject.Properties['NodeWeight'] -and $null -ne $n.NodeWeight) { $w = [int]$n.NodeWeight }\n\
         \x20   $total += $w\n\
         \x20   if ([string]$n.State -eq 'Up' -and $n.Name -ne $Node) { $left += $w }\n\
         }\n\
         $q = Get-ClusterQuorum\n\
         if ($null -ne $q.QuorumResource) { $total += 1; $left += 1 }\n\
         if ($left -lt [math]::Floor($total / 2) + 1) { $problems += ('quorum: ' + $left + ' of ' + $total + ' votes left without ' + $Node) }\n\
         $vms = @()\n\
         $bins = @()\n\
         foreach ($m in $Memory) {\n\
         \x20   if ($m.Node -eq $Node) { $vms = @($m.Vms) }\n\
         \x20   elseif (@(Get-ClusterNode | Where-Object { $_.Name -eq $m.Node -and [string]$_.State -eq 'Up' }).Count -gt 0) {\n\
         \x20       $free = [double]$m.Free - $Reserve\n\
         \x20       if ($free -lt 0) { $free = 0 }\n\
         \x20       $bins += [pscustomobject]@{ Node = $m.Node; Free = $free }\n\
         \x20   }\n\
         }\n\
         foreach ($vm in @($vms | ForEach-Object { [double]$_ } | Sort-Object -Descending)) {\n\
         \x20   $bin = $bins | Where-Object { $_.Free -ge $vm } | Select-Object -First 1\n\
         \x20   if ($null -eq $bin) {\n\
         \x20       $gib = '{0:N1}' -f ($vm / 1073741824)\n\
         \x20       $problems += ('capacity: a running VM of ' + $Node + ' needs ' + $gib + ' GiB and no node that stays up has that much free')\n\
         \x20       break\n\
         \x20   }\n\
         \x20   $bin.Free -= $vm\n\
         }\n",
    ));
    s.push_str("}\n$problems\n");
    s
}

/// Takes the node's roles elsewhere: `Suspend-ClusterNode -Drain` where
/// the release has it; on 2008 R2 the node is paused and each group moved
/// (virtual machines live-migrated) to the node that reported the most
/// free memory.
pub fn drain_script(can: Can) -> String {
    let drain = "Suspend-ClusterNode -Name $Node -Drain -Wait | Out-Null\n$n = Get-ClusterNode -Name $Node\nif ([string]$n.DrainStatus -ne 'Completed') { throw ('drain of ' + $Node + ' ended ' + [string]$n.DrainStatus) }\n";
    let pause = "Suspend-ClusterNode -Name $Node | Out-Null\n\
                 $up = @(Get-ClusterNode | Where-Object { [string]$_.State -eq 'Up' -and $_.Name -ne $Node } | ForEach-Object { $_.Name })\n\
                 $best = $null\n\
                 $bestFree = -1\n\
                 foreach ($m in $Memory) {\n\
                 \x20   if ($up -contains $m.Node -and [double]$m.Free -gt $bestFree) { $best = $m.Node; $bestFree = [double]$m.Free }\n\
                 }\n\
                 if ($null -eq $best) { throw ('no other node is Up to take the roles of ' + $Node) }\n\
                 foreach ($g in @(Get-ClusterGroup | Where-Object { $_.OwnerNode.Name -eq $Node })) {\n\
                 \x20   if (@(Get-ClusterResource | Where-Object { $_.OwnerGroup.Name -eq $g.Name -and $_.ResourceType.Name -eq 'Virtual Machine' }).Count -gt 0) {\n\
                 \x20       Move-ClusterVirtualMachineRole -Name $g.Name -Node $best | Out-Null\n\
                 \x20   } else {\n\
                 \x20       Move-ClusterGroup -Name $g.Name -Node $best | Out-Null\n\
                 \x20   }\n\
                 }\n";
    let mut s = String::from("param([string] $Node, [object[]] $Memory = @())\n");
    match can.drain {
        Some(true) => s.push_str(drain),
        Some(false) => s.push_str(pause),
        None => s.push_str(&format!(
            "if ((Get-Command -Name Suspend-ClusterNode).Parameters.ContainsKey('Drain')) {{\n{}}} else {{\n{}}}\n",
            indent(drain),
            indent(pause)
        )),
    }
    s
}

pub fn resume_script(can: Can) -> String {
    let new = "Resume-ClusterNode -Name $Node -Failback Immediate | Out-Null\n";
    // 2008 R2 has no -Failback: the roles stay where the drain moved them.
    let old = "Resume-ClusterNode -Name $Node | Out-Null\n";
    let mut s = String::from("param([string] $Node)\n");
    match can.drain {
        Some(true) => s.push_str(new),
        Some(false) => s.push_str(old),
        None => s.push_str(&format!(
            "if ((Get-Command -Name Resume-ClusterNode).Parameters.ContainsKey('Failback')) {{\n{}}} else {{\n{}}}\n",
            indent(new),
            indent(old)
        )),
    }
    s
}

/// Whether a KB is installed (`Get-HotFix`), for the wusa tasks' conditions.
pub const HAS_KB_SCRIPT: &str =
    "param([string] $Kb)\n[bool](Get-HotFix -Id $Kb -ErrorAction SilentlyContinue)\n";

/// Whether the node has the DISM cmdlets `win_hotfix` needs (release unknown).
pub const HAS_DISM_SCRIPT: &str =
    "[bool](Get-Command -Name Add-WindowsPackage -ErrorAction SilentlyContinue)\n";

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect()
}

/// A script as a YAML block scalar body at `spaces` indentation.
pub fn block(script: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    script
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}
