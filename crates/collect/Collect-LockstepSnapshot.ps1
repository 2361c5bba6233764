<#
.SYNOPSIS
    Collects a read-only lockstep snapshot of a Windows Server failover cluster.

.DESCRIPTION
    Run on one cluster node (elevated) with Windows PowerShell 5.1. The script
    reads the cluster (quorum, witness, groups, nodes, Cluster Shared Volumes and
    their per-node state) with the FailoverClusters module, then queries every
    node in parallel through Invoke-Command (WinRM): OS build and UBR, Get-HotFix,
    Get-WindowsPackage, the Windows Update history, pending reboot flags, Defender
    preferences and status, fltmc filters and instances, installed products,
    Hyper-V VMs and physical memory.

    It writes one JSON document, schema lockstep-snapshot/1 (see
    schema/snapshot-v1.schema.json in the lockstep repository), UTF-8 without BOM.
    Anything it cannot read is recorded with a status (accessDenied,
    notAvailable, error) and the message, so lockstep reports it as unknown.

    It changes nothing: it calls only Get-*/Test-* cmdlets, reads the registry,
    runs "fltmc filters" and "fltmc instances", and queries the Windows Update
    history through the Microsoft.Update.Session COM object. The only write is
    the output file.

    Works on Windows Server 2012 R2 through 2025. On a computer that is not a
    running cluster node (no FailoverClusters module, or no cluster) it
    collects the local computer only. Without the Hyper-V or Defender
    modules those sections are marked notAvailable.

.PARAMETER Cluster
    The cluster to collect. Default: the cluster this computer belongs to.

.PARAMETER OutFile
    Where to write the snapshot. Default:
    .\lockstep-snapshot-<cluster>-<yyyyMMddTHHmmssZ>.json. Use '-' to write
    the JSON to the pipeline instead.

.PARAMETER Credential
    Credentials for the Invoke-Command sessions to the nodes. The cluster
    cmdlets always use the current identity.

.PARAMETER ThrottleLimit
    How many nodes are queried at the same time (default 16).

.PARAMETER SkipPackages
    Do not run Get-WindowsPackage -Online (about a minute per node). Without
    the package list, lockstep's plan cannot offer DISM removal.

.EXAMPLE
    .\Collect-LockstepSnapshot.ps1 -OutFile C:\Temp\hvclu22.json
#>
[CmdletBinding()]
param(
    [string]$Cluster = '',
    [string]$OutFile = '',
    [System.Management.Automation.PSCredential]$Credential = $null,
    [ValidateRange(1, 256)]
    [int]$ThrottleLimit = 16,
    [switch]$SkipPackages
)

$ErrorActionPreference = 'Stop'
$CollectorVersion = '1.0.0'

# Runs on every node (remotely through Invoke-Command, or locally without a
# cluster). Returns the node's sections as one compressed JSON string: JSON
# survives the remoting serializer intact, nested hashtables may not.
$NodeScript = {
    param([bool]$SkipPackages)

    $ErrorActionPreference = 'Stop'

    function Get-SectionStatus {
        param($ErrorRecord)
        $exception = $ErrorRecord.Exception
        $message = [string]$exception.Message
        if ($exception -is [System.Management.Automation.CommandNotFoundException]) { return 'notAvailable' }
        if ($exception -is [System.UnauthorizedAccessException]) { return 'accessDenied' }
        if ($message -match 'Access (is )?denied|0x80070005|0x80041003|requires elevation|must be an? administrator|not have enough permissions') { return 'accessDenied' }
        # 0x800106ba: the Defender service is not running (feature removed or another product in charge).
        if ($message -match '0x800106ba') { return 'notAvailable' }
        return 'error'
    }

    # Runs one section body; a throw becomes a status with the message.
    function Get-Section {
        param([scriptblock]$Body)
        try {
            $data = & $Body
            return [ordered]@{ status = 'ok'; data = $data }
        }
        catch {
            return [ordered]@{ status = (Get-SectionStatus -ErrorRecord $_); message = [string]$_.Exception.Message }
        }
    }

    function Get-TextOrNull {
        param($Value)
        if ($null -eq $Value) { return $null }
        $text = ([string]$Value).Trim()
        if ($text.Length -eq 0) { return $null }
        return $text
    }

    function Get-UtcText {
        param($Value)
        if ($null -eq $Value) { return $null }
        return ([datetime]$Value).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
    }

    # Get-MpPreference shows an unelevated session one string instead of each list.
    function Get-ExclusionList {
        param($Value)
        if ($null -eq $Value) { return $null }
        $items = @($Value | ForEach-Object { [string]$_ })
        $hidden = @($items | Where-Object { $_ -like 'N/A:*' })
        if ($hidden.Count -gt 0) { return '{' + ($items -join ', ') + '}' }
        return , $items
    }

    $os = Get-Section {
        $cv = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
        $win32Os = Get-CimInstance -ClassName Win32_OperatingSystem
        $computerSystem = Get-CimInstance -ClassName Win32_ComputerSystem
        $ubr = $null
        if ($null -ne $cv.UBR) { $ubr = [int]$cv.UBR }
        $displayVersion = Get-TextOrNull $cv.DisplayVersion
        if ($null -eq $displayVersion) { $displayVersion = Get-TextOrNull $cv.ReleaseId }
        if ($null -eq $displayVersion) { $displayVersion = Get-TextOrNull $cv.CSDVersion }
        $build = [int]$cv.CurrentBuildNumber
        [ordered]@{
            caption          = ([string]$win32Os.Caption).Trim()
            version          = [string]$win32Os.Version
            build            = $build
            ubr              = $ubr
            displayVersion   = $displayVersion
            installationType = Get-TextOrNull $cv.InstallationType
            architecture     = Get-TextOrNull $env:PROCESSOR_ARCHITECTURE
            domain           = Get-TextOrNull $computerSystem.Domain
            lastBootTime     = Get-UtcText $win32Os.LastBootUpTime
        }
    }

    $hotfixes = Get-Section {
        , @(Get-HotFix | ForEach-Object {
                # InstalledOn is a script property that throws on some malformed entries.
                $installedOn = $null
                try {
                    if ($null -ne $_.InstalledOn) {
                        $installedOn = ([datetime]$_.InstalledOn).ToString('yyyy-MM-dd', [System.Globalization.CultureInfo]::InvariantCulture)
                    }
                }
                catch { $installedOn = $null }
                [ordered]@{
                    hotFixId    = ([string]$_.HotFixID).Trim()
                    description = Get-TextOrNull $_.Description
                    installedOn = $installedOn
                    installedBy = Get-TextOrNull $_.InstalledBy
                }
            })
    }

    $packages = $null
    if (-not $SkipPackages) {
        $packages = Get-Section {
            if (-not (Get-Command -Name Get-WindowsPackage -ErrorAction SilentlyContinue)) { throw (New-Object System.Management.Automation.CommandNotFoundException -ArgumentList 'The Dism module is not available on this computer.') }
            , @(Get-WindowsPackage -Online | ForEach-Object {
                    [ordered]@{
                        packageName  = [string]$_.PackageName
                        packageState = [string]$_.PackageState
                        releaseType  = Get-TextOrNull $_.ReleaseType
                        installTime  = Get-UtcText $_.InstallTime
                    }
                })
        }
    }

    $updateHistory = Get-Section {
        $session = New-Object -ComObject Microsoft.Update.Session
        $searcher = $session.CreateUpdateSearcher()
        $count = $searcher.GetTotalHistoryCount()
        $entries = @()
        if ($count -gt 0) { $entries = @($searcher.QueryHistory(0, $count)) }
        $operations = @{ 1 = 'Installation'; 2 = 'Uninstallation' }
        $results = @{ 0 = 'NotStarted'; 1 = 'InProgress'; 2 = 'Succeeded'; 3 = 'SucceededWithErrors'; 4 = 'Failed'; 5 = 'Aborted' }
        , @($entries | Where-Object { $null -ne $_ -and $_.Title } | ForEach-Object {
                $operation = $operations[[int]$_.Operation]
                if ($null -eq $operation) { $operation = 'Other' }
                $result = $results[[int]$_.ResultCode]
                if ($null -eq $result) { $result = 'Failed' }
                $date = $null
                # IUpdateHistoryEntry.Date is already UTC; mark it so instead of converting.
                if ($null -ne $_.Date) { $date = [datetime]::SpecifyKind([datetime]$_.Date, [System.DateTimeKind]::Utc).ToString('o', [System.Globalization.CultureInfo]::InvariantCulture) }
                $updateId = $null
                if ($null -ne $_.UpdateIdentity) { $updateId = Get-TextOrNull $_.UpdateIdentity.UpdateID }
                [ordered]@{
                    title      = [string]$_.Title
                    date       = $date
                    operation  = $operation
                    resultCode = $result
                    updateId   = $updateId
                }
            })
    }

    $pendingReboot = Get-Section {
        $sessionManager = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -ErrorAction SilentlyContinue
        $renames = @()
        if ($null -ne $sessionManager -and $null -ne $sessionManager.PendingFileRenameOperations) {
            $renames = @($sessionManager.PendingFileRenameOperations | Where-Object { $_ })
        }
        [ordered]@{
            cbsRebootPending            = [bool](Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending')
            windowsUpdateRebootRequired = [bool](Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired')
            pendingFileRenameOperations = ($renames.Count -gt 0)
        }
    }

    $defenderPreferences = Get-Section {
        if (-not (Get-Command -Name Get-MpPreference -ErrorAction SilentlyContinue)) { throw (New-Object System.Management.Automation.CommandNotFoundException -ArgumentList 'The Defender module is not available on this computer.') }
        $preference = Get-MpPreference
        [ordered]@{
            ExclusionPath             = Get-ExclusionList $preference.ExclusionPath
            ExclusionExtension        = Get-ExclusionList $preference.ExclusionExtension
            ExclusionProcess          = Get-ExclusionList $preference.ExclusionProcess
            DisableAutoExclusions     = $preference.DisableAutoExclusions
            DisableRealtimeMonitoring = $preference.DisableRealtimeMonitoring
        }
    }

    $defenderStatus = Get-Section {
        if (-not (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue)) { throw (New-Object System.Management.Automation.CommandNotFoundException -ArgumentList 'The Defender module is not available on this computer.') }
        $status = Get-MpComputerStatus
        [ordered]@{
            AMProductVersion          = Get-TextOrNull $status.AMProductVersion
            AMEngineVersion           = Get-TextOrNull $status.AMEngineVersion
            AMRunningMode             = Get-TextOrNull $status.AMRunningMode
            AntivirusSignatureVersion = Get-TextOrNull $status.AntivirusSignatureVersion
            RealTimeProtectionEnabled = $status.RealTimeProtectionEnabled
            IsTamperProtected         = $status.IsTamperProtected
            AntivirusEnabled          = $status.AntivirusEnabled
            AMServiceEnabled          = $status.AMServiceEnabled
        }
    }

    # fltmc needs elevation; it prints the error and sets a non-zero exit code instead of throwing.
    $fltmcFilters = Get-Section {
        # Native stderr merged with 2>&1 would throw under 'Stop' in Windows PowerShell 5.1.
        $ErrorActionPreference = 'Continue'
        $lines = @(& fltmc.exe filters 2>&1 | ForEach-Object { [string]$_ })
        $text = $lines -join "`r`n"
        if ($LASTEXITCODE -ne 0) { throw $text.Trim() }
        $text
    }

    $fltmcInstances = Get-Section {
        $ErrorActionPreference = 'Continue'
        $lines = @(& fltmc.exe instances 2>&1 | ForEach-Object { [string]$_ })
        $text = $lines -join "`r`n"
        if ($LASTEXITCODE -ne 0) { throw $text.Trim() }
        $text
    }

    $installedProducts = Get-Section {
        $views = @(
            'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
            'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
        )
        , @($views | ForEach-Object { Get-ItemProperty -Path $_ -ErrorAction SilentlyContinue } |
                Where-Object { $_.DisplayName } |
                ForEach-Object {
                    [ordered]@{
                        name    = ([string]$_.DisplayName).Trim()
                        vendor  = Get-TextOrNull $_.Publisher
                        version = Get-TextOrNull $_.DisplayVersion
                    }
                })
    }

    $vms = Get-Section {
        if (-not (Get-Command -Name Get-VM -ErrorAction SilentlyContinue)) { throw (New-Object System.Management.Automation.CommandNotFoundException -ArgumentList 'The Hyper-V module is not available on this computer.') }
        , @(Get-VM | ForEach-Object {
                $startup = $null
                if ($null -ne $_.MemoryStartup) { $startup = [long]$_.MemoryStartup }
                [ordered]@{
                    name                  = [string]$_.Name
                    state                 = [string]$_.State
                    memoryAssignedBytes   = [long]$_.MemoryAssigned
                    memoryStartupBytes    = $startup
                    configurationLocation = Get-TextOrNull $_.ConfigurationLocation
                    snapshotFileLocation  = Get-TextOrNull $_.SnapshotFileLocation
                    smartPagingFilePath   = Get-TextOrNull $_.SmartPagingFilePath
                    hardDrives            = @($_.HardDrives | ForEach-Object { Get-TextOrNull $_.Path } | Where-Object { $_ })
                }
            })
    }

    $memory = Get-Section {
        $win32Os = Get-CimInstance -ClassName Win32_OperatingSystem
        $free = $null
        if ($null -ne $win32Os.FreePhysicalMemory) { $free = [long]$win32Os.FreePhysicalMemory * 1024 }
        [ordered]@{
            totalPhysicalBytes = [long]$win32Os.TotalVisibleMemorySize * 1024
            freePhysicalBytes  = $free
        }
    }

    $result = [ordered]@{
        computerName        = $env:COMPUTERNAME
        os                  = $os
        hotfixes            = $hotfixes
        updateHistory       = $updateHistory
        pendingReboot       = $pendingReboot
        defenderPreferences = $defenderPreferences
        defenderStatus      = $defenderStatus
        fltmcFilters        = $fltmcFilters
        fltmcInstances      = $fltmcInstances
        installedProducts   = $installedProducts
        vms                 = $vms
        memory              = $memory
    }
    if ($null -ne $packages) { $result['packages'] = $packages }
    ConvertTo-Json -InputObject $result -Depth 10 -Compress
}

# Same classification as on the nodes, for the cluster-level sections.
function Get-LocalSectionStatus {
    param($ErrorRecord)
    $exception = $ErrorRecord.Exception
    $message = [string]$exception.Message
    if ($exception -is [System.Management.Automation.CommandNotFoundException]) { return 'notAvailable' }
    if ($exception -is [System.UnauthorizedAccessException]) { return 'accessDenied' }
    if ($message -match 'Access (is )?denied|0x80070005|requires elevation|must be an? administrator') { return 'accessDenied' }
    return 'error'
}

function Get-LocalSection {
    param([scriptblock]$Body)
    try {
        $data = & $Body
        return [ordered]@{ status = 'ok'; data = $data }
    }
    catch {
        return [ordered]@{ status = (Get-LocalSectionStatus -ErrorRecord $_); message = [string]$_.Exception.Message }
    }
}

function Get-NameOrNull {
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($null -ne $Value.Name) { return [string]$Value.Name }
    $text = [string]$Value
    if ($text.Length -eq 0) { return $null }
    return $text
}

function Get-ErrorSection {
    param([string]$Status, [string]$Message)
    return [ordered]@{ status = $Status; message = $Message }
}

# Every node section carries the same failure when the node itself could not be queried.
function Get-UnreachableNode {
    param($Node, [string]$Status, [string]$Message)
    $node = $Node
    foreach ($key in @('os', 'hotfixes', 'updateHistory', 'pendingReboot', 'defenderPreferences', 'defenderStatus', 'fltmcFilters', 'fltmcInstances', 'installedProducts', 'vms', 'memory')) {
        $node[$key] = Get-ErrorSection -Status $Status -Message $Message
    }
    if (-not $SkipPackages) { $node['packages'] = Get-ErrorSection -Status $Status -Message $Message }
    return $node
}

# Copies the sections a node returned into its snapshot entry.
function Get-CollectedNode {
    param($Node, $Collected)
    $node = $Node
    foreach ($property in $Collected.PSObject.Properties) {
        if ($property.Name -ne 'computerName') { $node[$property.Name] = $property.Value }
    }
    return $node
}

$identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
$principal = New-Object System.Security.Principal.WindowsPrincipal -ArgumentList $identity
$elevated = $principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
if (-not $elevated) {
    Write-Warning 'Not elevated: Defender exclusions, fltmc and Get-WindowsPackage will be reported as accessDenied. Run from an elevated PowerShell for a complete snapshot.'
}

$clusterObject = $null
$clusterEntry = $null
if ($null -ne (Get-Command -Name Get-Cluster -ErrorAction SilentlyContinue)) {
    $clusterParameters = @{}
    if ($Cluster) { $clusterParameters['Name'] = $Cluster }
    try {
        $clusterObject = Get-Cluster @clusterParameters
    }
    catch {
        # Asked for a cluster by name: failing to reach it is the answer.
        if ($Cluster) { throw }
        Write-Warning "This computer is not a running cluster node ($($_.Exception.Message)): collecting this computer only."
    }
}
elseif ($Cluster) {
    throw "The FailoverClusters module is not available on $env:COMPUTERNAME, so cluster '$Cluster' cannot be read. Run the script on a cluster node."
}
else {
    Write-Warning 'The FailoverClusters module is not available: collecting this computer only.'
}

if ($null -ne $clusterObject) {
    $clusterName = [string]$clusterObject.Name
    Write-Verbose "Collecting cluster $clusterName"

    $quorum = Get-LocalSection {
        $clusterQuorum = Get-ClusterQuorum -Cluster $clusterName
        $witness = $null
        $resource = $clusterQuorum.QuorumResource
        if ($null -ne $resource) {
            $resourceType = Get-NameOrNull $resource.ResourceType
            $kind = 'DiskWitness'
            $path = [string]$resource.Name
            if ($resourceType -eq 'File Share Witness') {
                $kind = 'FileShareWitness'
                $path = [string](Get-ClusterParameter -InputObject $resource -Name SharePath).Value
            }
            elseif ($resourceType -eq 'Cloud Witness') {
                $kind = 'CloudWitness'
                $path = [string](Get-ClusterParameter -InputObject $resource -Name AccountName).Value
            }
            $witness = [ordered]@{ type = $kind; resource = [string]$resource.Name; path = $path }
        }
        [ordered]@{ quorumType = [string]$clusterQuorum.QuorumType; witness = $witness }
    }

    $groups = Get-LocalSection {
        , @(Get-ClusterGroup -Cluster $clusterName | ForEach-Object {
                [ordered]@{
                    name      = [string]$_.Name
                    state     = [string]$_.State
                    ownerNode = Get-NameOrNull $_.OwnerNode
                    groupType = Get-NameOrNull $_.GroupType
                }
            })
    }

    $sharedVolumes = Get-LocalSection {
        $haveCsvState = $null -ne (Get-Command -Name Get-ClusterSharedVolumeState -ErrorAction SilentlyContinue)
        , @(Get-ClusterSharedVolume -Cluster $clusterName | ForEach-Object {
                $volume = $_
                $info = @($volume.SharedVolumeInfo) | Select-Object -First 1
                $path = $null
                $volumeId = $null
                $fileSystem = $null
                if ($null -ne $info) {
                    $path = [string]$info.FriendlyVolumeName
                    if ($null -ne $info.Partition) {
                        $volumeId = [string]$info.Partition.Name
                        $fileSystem = [string]$info.Partition.FileSystem
                    }
                }
                $entry = [ordered]@{
                    name       = [string]$volume.Name
                    path       = $path
                    ownerNode  = Get-NameOrNull $volume.OwnerNode
                    volumeId   = $volumeId
                    fileSystem = $fileSystem
                }
                if ($haveCsvState) {
                    $entry['state'] = Get-LocalSection {
                        , @(Get-ClusterSharedVolumeState -Cluster $clusterName -Name $volume.Name | ForEach-Object {
                                [ordered]@{
                                    node                         = Get-NameOrNull $_.Node
                                    stateInfo                    = [string]$_.StateInfo
                                    fileSystemRedirectedIOReason = [string]$_.FileSystemRedirectedIOReason
                                    blockRedirectedIOReason      = [string]$_.BlockRedirectedIOReason
                                }
                            })
                    }
                }
                $entry
            })
    }

    $clusterNodes = @(Get-ClusterNode -Cluster $clusterName | ForEach-Object {
            [ordered]@{
                name          = [string]$_.Name
                state         = [string]$_.State
                nodeWeight    = [int]$_.NodeWeight
                dynamicWeight = [int]$_.DynamicWeight
                drainStatus   = [string]$_.DrainStatus
            }
        })

    $clusterEntry = [ordered]@{
        name                            = $clusterName
        domain                          = Get-NameOrNull $clusterObject.Domain
        quorum                          = $quorum
        sharedVolumeCompatibleFilters   = @($clusterObject.SharedVolumeCompatibleFilters | ForEach-Object { [string]$_ })
        sharedVolumeIncompatibleFilters = @($clusterObject.SharedVolumeIncompatibleFilters | ForEach-Object { [string]$_ })
        groups                          = $groups
        sharedVolumes                   = $sharedVolumes
        nodes                           = @()
    }

    $invokeParameters = @{
        ComputerName  = @($clusterNodes | ForEach-Object { $_.name })
        ScriptBlock   = $NodeScript
        ArgumentList  = @([bool]$SkipPackages)
        ThrottleLimit = $ThrottleLimit
        ErrorAction   = 'SilentlyContinue'
        ErrorVariable = 'remoteErrors'
    }
    if ($null -ne $Credential) { $invokeParameters['Credential'] = $Credential }
    $remoteErrors = @()
    Write-Verbose ("Querying {0} nodes, {1} at a time" -f $clusterNodes.Count, $ThrottleLimit)
    # Each node answers with one JSON string; anything else it printed is ignored.
    # PSComputerName (added by remoting) is the name the node was asked by;
    # computerName inside the answer is the fallback (NetBIOS names are cut at 15 characters).
    $collected = @(Invoke-Command @invokeParameters |
            Where-Object { $_ -is [string] -and $_ -like '{*' } |
            ForEach-Object { [ordered]@{ target = [string]$_.PSComputerName; answer = (ConvertFrom-Json -InputObject $_) } })

    $nodes = @(foreach ($clusterNode in $clusterNodes) {
            $match = @($collected | Where-Object { $_.target -eq $clusterNode.name }) | Select-Object -First 1
            if ($null -eq $match) {
                $match = @($collected | Where-Object { $_.answer.computerName -eq $clusterNode.name }) | Select-Object -First 1
            }
            if ($null -ne $match) {
                Get-CollectedNode -Node $clusterNode -Collected $match.answer
                continue
            }
            # Down or unreachable: attribute the remoting error to the node when it names it.
            $failure = @($remoteErrors | Where-Object {
                    ($null -ne $_.OriginInfo -and $_.OriginInfo.PSComputerName -eq $clusterNode.name) -or ([string]$_.TargetObject -eq $clusterNode.name)
                }) | Select-Object -First 1
            $message = "No answer from $($clusterNode.name) through Invoke-Command (node state: $($clusterNode.state))."
            $status = 'error'
            if ($null -ne $failure) {
                $message = [string]$failure.Exception.Message
                $status = Get-LocalSectionStatus -ErrorRecord $failure
            }
            Get-UnreachableNode -Node $clusterNode -Status $status -Message $message
        })
    $clusterEntry['nodes'] = $nodes
}
else {
    $local = @(& $NodeScript ([bool]$SkipPackages) | Where-Object { $_ -is [string] -and $_ -like '{*' }) |
        Select-Object -First 1 |
        ForEach-Object { ConvertFrom-Json -InputObject $_ }
    $localNode = [ordered]@{ name = $env:COMPUTERNAME; state = $null; nodeWeight = $null; dynamicWeight = $null; drainStatus = $null }
    $clusterEntry = [ordered]@{
        name                            = $env:COMPUTERNAME
        domain                          = $null
        quorum                          = Get-ErrorSection -Status 'notAvailable' -Message 'Not a cluster node: no cluster to read.'
        sharedVolumeCompatibleFilters   = $null
        sharedVolumeIncompatibleFilters = $null
        groups                          = Get-ErrorSection -Status 'notAvailable' -Message 'Not a cluster node: no cluster to read.'
        sharedVolumes                   = Get-ErrorSection -Status 'notAvailable' -Message 'Not a cluster node: no cluster to read.'
        nodes                           = @()
    }
    if ($null -ne $local) {
        $clusterEntry['nodes'] = @(Get-CollectedNode -Node $localNode -Collected $local)
    }
    else {
        $clusterEntry['nodes'] = @(Get-UnreachableNode -Node $localNode -Status 'error' -Message 'The node script returned no result.')
    }
}

$snapshot = [ordered]@{
    schema      = 'lockstep-snapshot/1'
    collectedAt = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
    collector   = [ordered]@{
        version           = $CollectorVersion
        host              = $env:COMPUTERNAME
        user              = [string]$identity.Name
        elevated          = [bool]$elevated
        powershellVersion = [string]$PSVersionTable.PSVersion
    }
    clusters    = @($clusterEntry)
}

$json = ConvertTo-Json -InputObject $snapshot -Depth 10

if ($OutFile -eq '-') {
    $json
}
else {
    if (-not $OutFile) {
        $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ', [System.Globalization.CultureInfo]::InvariantCulture)
        $OutFile = "lockstep-snapshot-$($clusterEntry['name'])-$stamp.json"
    }
    # Resolve against PowerShell's location, not the process directory .NET uses.
    $fullPath = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
    # The only write: UTF-8 without BOM (Out-File in 5.1 would write UTF-16 or a BOM).
    [System.IO.File]::WriteAllText($fullPath, $json, (New-Object System.Text.UTF8Encoding -ArgumentList $false))
    Write-Host "Snapshot written to $fullPath"
}
