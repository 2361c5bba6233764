//! The lockstep snapshot, schema v1: one JSON document per collection run,
//! written by `Collect-LockstepSnapshot.ps1` (Windows PowerShell 5.1) on a
//! cluster node. `schema/snapshot-v1.schema.json` is the published form of
//! these types and documents every field; keep the two in step.
//!
//! Conventions (the collector guarantees them, the reader tolerates lapses):
//! * field names are camelCase; enums are strings (`"Up"`, `"Direct"`), never
//!   the numbers `ConvertTo-Json` writes by default;
//! * times are ISO 8601 in UTC (`2024-01-10T08:00:00Z`);
//! * every part that can fail to be read is a [`Section`]: `status` is `ok`,
//!   `accessDenied`, `notAvailable` (module or feature absent) or `error`, with
//!   a `message`; `data` is present only with `ok`;
//! * lists are always arrays, even with one element (the collector uses `@()`).
//!
//! Optional sections may be absent altogether: older collectors, or a cluster
//! without Hyper-V. Absent means unknown, never "empty".

use serde::{Deserialize, Serialize};

pub const SCHEMA_ID: &str = "lockstep-snapshot/1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Ok,
    AccessDenied,
    NotAvailable,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: Deserialize<'de>"))]
pub struct Section<T> {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Always `lockstep-snapshot/1`.
    pub schema: String,
    /// When the collector finished, ISO 8601 UTC.
    pub collected_at: String,
    pub collector: Collector,
    pub clusters: Vec<SnapshotCluster>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collector {
    /// Version of Collect-LockstepSnapshot.ps1.
    pub version: String,
    /// The computer the script ran on.
    pub host: String,
    /// `DOMAIN\user` that ran it.
    #[serde(default)]
    pub user: Option<String>,
    /// Whether the session was elevated (Administrator).
    pub elevated: bool,
    /// `$PSVersionTable.PSVersion`, e.g. `5.1.20348.2031`.
    #[serde(default)]
    pub powershell_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotCluster {
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub quorum: Option<Section<Quorum>>,
    #[serde(default)]
    pub shared_volume_compatible_filters: Option<Vec<String>>,
    #[serde(default)]
    pub shared_volume_incompatible_filters: Option<Vec<String>>,
    #[serde(default)]
    pub groups: Option<Section<Vec<Group>>>,
    #[serde(default)]
    pub shared_volumes: Option<Section<Vec<SharedVolume>>>,
    pub nodes: Vec<SnapshotNode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quorum {
    /// `NodeMajority`, `NodeAndDiskMajority`, `NodeAndFileShareMajority`,
    /// `NodeAndCloudMajority`, `DiskOnly`, `Majority` (2012 R2+ dynamic).
    pub quorum_type: String,
    #[serde(default)]
    pub witness: Option<WitnessInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WitnessInfo {
    /// `FileShareWitness`, `DiskWitness`, `CloudWitness`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Cluster resource name, e.g. `File Share Witness`.
    #[serde(default)]
    pub resource: Option<String>,
    /// Share path for a file-share witness, disk name for a disk witness.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub name: String,
    /// `Online`, `Offline`, `PartialOnline`, `Failed`, `Pending`.
    pub state: String,
    #[serde(default)]
    pub owner_node: Option<String>,
    /// `VirtualMachine`, `Cluster`, `AvailableStorage`, ...
    #[serde(default)]
    pub group_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedVolume {
    pub name: String,
    /// `C:\ClusterStorage\Volume1`.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub owner_node: Option<String>,
    /// `\\?\Volume{GUID}\`.
    #[serde(default)]
    pub volume_id: Option<String>,
    /// `CSVFS_NTFS`, `CSVFS_ReFS`.
    #[serde(default)]
    pub file_system: Option<String>,
    /// `Get-ClusterSharedVolumeState`, one entry per node.
    #[serde(default)]
    pub state: Option<Section<Vec<CsvState>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CsvState {
    pub node: String,
    /// `Unavailable`, `Paused`, `Direct`, `FileSystemRedirected`, `BlockRedirected`.
    pub state_info: String,
    /// Comma-separated flag names, e.g. `IncompatibleFileSystemFilter, FileSystemReFs`.
    /// Named as Windows names the property (`IO`, not camelCase `Io`).
    #[serde(rename = "fileSystemRedirectedIOReason")]
    pub file_system_redirected_io_reason: String,
    /// `NotBlockRedirected`, `NoDiskConnectivity`, `StorageSpaceNotAttached`, `VolumeReplicationEnabled`.
    #[serde(rename = "blockRedirectedIOReason")]
    pub block_redirected_io_reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotNode {
    pub name: String,
    /// `Up`, `Down`, `Paused`, `Joining`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub node_weight: Option<u32>,
    #[serde(default)]
    pub dynamic_weight: Option<u32>,
    /// `NotInitiated`, `InProgress`, `Completed`, `Failed`.
    #[serde(default)]
    pub drain_status: Option<String>,
    pub os: Section<Os>,
    pub hotfixes: Section<Vec<Hotfix>>,
    #[serde(default)]
    pub packages: Option<Section<Vec<Package>>>,
    #[serde(default)]
    pub update_history: Option<Section<Vec<HistoryEntry>>>,
    #[serde(default)]
    pub pending_reboot: Option<Section<PendingReboot>>,
    #[serde(default)]
    pub defender_preferences: Option<Section<MpPreference>>,
    #[serde(default)]
    pub defender_status: Option<Section<MpComputerStatus>>,
    /// Raw text of `fltmc filters`.
    #[serde(default)]
    pub fltmc_filters: Option<Section<String>>,
    /// Raw text of `fltmc instances`.
    #[serde(default)]
    pub fltmc_instances: Option<Section<String>>,
    #[serde(default)]
    pub installed_products: Option<Section<Vec<Product>>>,
    #[serde(default)]
    pub vms: Option<Section<Vec<Vm>>>,
    #[serde(default)]
    pub memory: Option<Section<Memory>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Os {
    /// `Microsoft Windows Server 2022 Datacenter`.
    pub caption: String,
    /// `10.0.20348` (CurrentMajorVersionNumber.CurrentMinorVersionNumber.CurrentBuild).
    pub version: String,
    pub build: u32,
    /// UpdateBuildRevision from the registry; absent before Windows 10 / Server 2016.
    #[serde(default)]
    pub ubr: Option<u32>,
    /// DisplayVersion or ReleaseId (`21H2`, `1809`), or the service pack (`Service Pack 1`).
    #[serde(default)]
    pub display_version: Option<String>,
    /// `Server`, `Server Core`.
    #[serde(default)]
    pub installation_type: Option<String>,
    /// `AMD64`, `x86`, `ARM64`.
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub last_boot_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hotfix {
    /// `KB5033118`, or a non-KB id such as `File 1`.
    pub hot_fix_id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Calendar date `yyyy-MM-dd`, not converted to UTC: Windows records a
    /// date without a time (local midnight), and converting it would move it to
    /// the previous day east of Greenwich. Absent when Windows did not record
    /// it. Readers also accept a full ISO 8601 date-time and take its date.
    #[serde(default)]
    pub installed_on: Option<String>,
    #[serde(default)]
    pub installed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    pub package_name: String,
    /// `Installed`, `Staged`, `InstallPending`, `UninstallPending`, `Superseded`.
    pub package_state: String,
    #[serde(default)]
    pub release_type: Option<String>,
    #[serde(default)]
    pub install_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub title: String,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub date: Option<String>,
    /// `Installation`, `Uninstallation`, `Other`.
    pub operation: String,
    /// `NotStarted`, `InProgress`, `Succeeded`, `SucceededWithErrors`, `Failed`, `Aborted`.
    pub result_code: String,
    #[serde(default)]
    pub update_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingReboot {
    pub cbs_reboot_pending: bool,
    pub windows_update_reboot_required: bool,
    pub pending_file_rename_operations: bool,
}

/// The parts of `Get-MpPreference` the audit needs. A list that Defender hid
/// from an unelevated session is written as the string Defender printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MpPreference {
    #[serde(default)]
    pub exclusion_path: Option<ListOrText>,
    #[serde(default)]
    pub exclusion_extension: Option<ListOrText>,
    #[serde(default)]
    pub exclusion_process: Option<ListOrText>,
    #[serde(default)]
    pub disable_auto_exclusions: Option<bool>,
    #[serde(default)]
    pub disable_realtime_monitoring: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ListOrText {
    List(Vec<String>),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MpComputerStatus {
    #[serde(default, rename = "AMProductVersion")]
    pub am_product_version: Option<String>,
    #[serde(default, rename = "AMEngineVersion")]
    pub am_engine_version: Option<String>,
    #[serde(default, rename = "AMRunningMode")]
    pub am_running_mode: Option<String>,
    #[serde(default)]
    pub antivirus_signature_version: Option<String>,
    #[serde(default)]
    pub real_time_protection_enabled: Option<bool>,
    #[serde(default)]
    pub is_tamper_protected: Option<bool>,
    #[serde(default)]
    pub antivirus_enabled: Option<bool>,
    #[serde(default, rename = "AMServiceEnabled")]
    pub am_service_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub name: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vm {
    pub name: String,
    pub state: String,
    pub memory_assigned_bytes: u64,
    #[serde(default)]
    pub memory_startup_bytes: Option<u64>,
    #[serde(default)]
    pub configuration_location: Option<String>,
    #[serde(default)]
    pub snapshot_file_location: Option<String>,
    #[serde(default)]
    pub smart_paging_file_path: Option<String>,
    #[serde(default)]
    pub hard_drives: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    pub total_physical_bytes: u64,
    #[serde(default)]
    pub free_physical_bytes: Option<u64>,
}
