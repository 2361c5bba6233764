//! The lockstep snapshot, schema v1: one JSON document per collection run,
//! written by `Collect-LockstepSnapshot.ps1` (Windows PowerShell 5.1) on a
//! cluster node. `schema/snapshot-v1.schema.json` is the published form of
//! these types and documents every field; `tests/snapshot_schema.rs` fails
//! when a field is in one and not the other.
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
//!
//! A fleet holds millions of Get-HotFix entries, so a [`Hotfix`] borrows its
//! strings from the text it is read from (`'a`) wherever the JSON has no
//! escape: reading one allocates nothing. A snapshot built in code, or kept
//! beyond its text, is a `Snapshot<'static>` with [`Cow::Owned`] strings.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;

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
pub struct Snapshot<'a> {
    /// Always `lockstep-snapshot/1`.
    pub schema: String,
    /// When the collector finished, ISO 8601 UTC.
    pub collected_at: String,
    pub collector: Collector,
    #[serde(borrow)]
    pub clusters: Vec<SnapshotCluster<'a>>,
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
pub struct SnapshotCluster<'a> {
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<Section<Quorum>>,
    #[serde(default)]
    pub shared_volume_compatible_filters: Option<Vec<String>>,
    #[serde(default)]
    pub shared_volume_incompatible_filters: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Section<Vec<Group>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_volumes: Option<Section<Vec<SharedVolume>>>,
    #[serde(borrow)]
    pub nodes: Vec<SnapshotNode<'a>>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
pub struct SnapshotNode<'a> {
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
    #[serde(borrow)]
    pub hotfixes: Section<Vec<Hotfix<'a>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<Section<Vec<Package>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_history: Option<Section<Vec<HistoryEntry>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_reboot: Option<Section<PendingReboot>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defender_preferences: Option<Section<MpPreference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defender_status: Option<Section<MpComputerStatus>>,
    /// Raw text of `fltmc filters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fltmc_filters: Option<Section<String>>,
    /// Raw text of `fltmc instances`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fltmc_instances: Option<Section<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_products: Option<Section<Vec<Product>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vms: Option<Section<Vec<Vm>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// One Get-HotFix entry; its strings borrow the text unless the JSON
/// escapes a character in them (`NT AUTHORITY\\SYSTEM` does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hotfix<'a> {
    /// `KB5033118`, or a non-KB id such as `File 1`.
    #[serde(borrow)]
    pub hot_fix_id: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub description: Option<Cow<'a, str>>,
    /// Calendar date `yyyy-MM-dd`, not converted to UTC: Windows records a
    /// date without a time (local midnight), and converting it would move it to
    /// the previous day east of Greenwich. Absent when Windows did not record
    /// it. Readers also accept a full ISO 8601 date-time and take its date.
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub installed_on: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "borrowed")]
    pub installed_by: Option<Cow<'a, str>>,
}

/// An optional string that borrows the text where it can: serde borrows a
/// `Cow<str>` field, but not one inside an `Option`.
fn borrowed<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    struct Optional;
    impl<'de> Visitor<'de> for Optional {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Text).map(Some)
        }
    }
    d.deserialize_option(Optional)
}

/// Escaped values that nearly every Get-HotFix entry carries: Windows
/// Update installs as `NT AUTHORITY\SYSTEM`, whose backslash JSON escapes.
/// Such a value borrows this table instead of allocating (millions of
/// entries in a fleet; measured in BENCHMARKS.md, "One snapshot model").
const WELL_KNOWN: &[&str] = &[
    "NT AUTHORITY\\SYSTEM",
    "NT AUTHORITY\\LOCAL SERVICE",
    "NT AUTHORITY\\NETWORK SERVICE",
];

/// A string borrowed from the text, from [`WELL_KNOWN`] or (escaped) owned;
/// a wrong type is worded as for `String` ("expected a string").
struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(match WELL_KNOWN.iter().find(|k| **k == s) {
            Some(k) => Cow::Borrowed(k),
            None => Cow::Owned(s.to_owned()),
        })
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain strings borrow the text, through the `Section` and the `Vec`
    /// around the entries too; escaped ones are unescaped into owned ones.
    #[test]
    fn hotfix_strings_borrow_the_text_unless_escaped() {
        let text = r#"{"status": "ok", "data": [
            {"hotFixId": "KB5033118", "description": "Security Update", "installedOn": "2023-12-13", "installedBy": "NT AUTHORITY\\SYSTEM"},
            {"hotFixId": "File\t1", "description": null, "installedOn": "2023-12-13T00:00:00Z", "installedBy": "CONTOSO\\adm-jdoe"},
            {"hotFixId": "KB1"}]}"#;
        let section: Section<Vec<Hotfix>> = serde_json::from_str(text).unwrap();
        let h = section.data.unwrap();
        assert!(matches!(h[0].hot_fix_id, Cow::Borrowed("KB5033118")));
        assert!(matches!(
            h[0].description,
            Some(Cow::Borrowed("Security Update"))
        ));
        assert!(matches!(
            h[0].installed_on,
            Some(Cow::Borrowed("2023-12-13"))
        ));
        // Escaped, but well known: borrowed from the table.
        assert!(matches!(
            h[0].installed_by,
            Some(Cow::Borrowed("NT AUTHORITY\\SYSTEM"))
        ));
        assert!(matches!(&h[1].hot_fix_id, Cow::Owned(s) if s == "File\t1"));
        assert_eq!(h[1].description, None);
        assert!(matches!(
            h[1].installed_on,
            Some(Cow::Borrowed("2023-12-13T00:00:00Z"))
        ));
        assert!(matches!(&h[1].installed_by, Some(Cow::Owned(s)) if s == "CONTOSO\\adm-jdoe"));
        assert_eq!(
            (&h[2].description, &h[2].installed_on, &h[2].installed_by),
            (&None, &None, &None)
        );

        let node = r#"{"name": "HV01", "os": {"status": "error", "message": "x"},
            "hotfixes": {"status": "ok", "data": [{"hotFixId": "KB5033118", "installedOn": "2023-12-13"}]}}"#;
        let node: SnapshotNode = serde_json::from_str(node).unwrap();
        let h = &node.hotfixes.data.unwrap()[0];
        assert!(matches!(h.hot_fix_id, Cow::Borrowed(_)));
        assert!(matches!(h.installed_on, Some(Cow::Borrowed(_))));
    }

    /// Borrowing changes nothing in what is accepted or how a wrong value is
    /// worded: the words of `String`.
    #[test]
    fn hotfix_errors_are_worded_as_for_owned_strings() {
        for (bad, error) in [
            (
                r#"[{"description": "x"}]"#,
                "missing field `hotFixId` at line 1 column 21",
            ),
            (
                r#"[{"hotFixId": 5}]"#,
                "invalid type: integer `5`, expected a string at line 1 column 15",
            ),
            (
                r#"[{"hotFixId": "KB1", "installedBy": 3}]"#,
                "invalid type: integer `3`, expected a string at line 1 column 37",
            ),
            (
                r#"[{"hotFixId": "KB1", "installedOn": ["2023-12-13"]}]"#,
                "invalid type: sequence, expected a string at line 1 column 36",
            ),
        ] {
            let e = serde_json::from_str::<Vec<Hotfix>>(bad).unwrap_err();
            assert_eq!(e.to_string(), error, "{bad}");
        }
    }
}
