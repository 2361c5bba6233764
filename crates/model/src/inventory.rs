//! Nodes, clusters and what is installed on them.

use crate::protection::{ClusterProtection, CsvVolume};
use crate::protection::{NodeProtection, SectionStatus};
use crate::{KbId, SourceRef, WinVersion};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A value and the place it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: SourceRef,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: SourceRef) -> Self {
        Self { value, source }
    }
}

/// Everything read from the inputs: clusters (a directory, a snapshot, a
/// manifest entry) and nodes that belong to no cluster (single files).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Inventory {
    pub clusters: Vec<Cluster>,
    pub loose_nodes: Vec<Node>,
}

impl Inventory {
    pub fn all_nodes(&self) -> impl Iterator<Item = &Node> {
        self.clusters
            .iter()
            .flat_map(|c| c.nodes.iter())
            .chain(self.loose_nodes.iter())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cluster {
    pub name: String,
    /// Where the cluster came from: a directory, a snapshot file, a manifest.
    pub source: Option<SourceRef>,
    pub nodes: Vec<Node>,
    /// Cluster-level state from a snapshot; `None` when the inputs carry none
    /// (plain `systeminfo` captures, for instance).
    pub state: Option<ClusterState>,
    pub protection: ClusterProtection,
    /// What the admin states about the cluster in a fleet manifest; the
    /// plan's command-line options override it.
    #[serde(default)]
    pub admin: AdminFacts,
}

/// Facts no capture holds but the admin knows: the witness, node votes,
/// memory each host keeps for itself, groups that may stay offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminFacts {
    /// `Some(None)`: the admin says there is no witness; `Some(Some(kind))`:
    /// a witness of that kind (`DiskWitness`, `FileShareWitness`, `CloudWitness`).
    pub witness: Option<Option<String>>,
    /// Votes per node name (NodeWeight 0 or 1).
    pub node_votes: std::collections::BTreeMap<String, u32>,
    pub memory_reserve_bytes: Option<u64>,
    pub allow_offline_groups: Vec<String>,
}

/// Cluster configuration that the plan stage needs to keep the cluster up.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClusterState {
    /// `Get-ClusterQuorum` QuorumType, e.g. `NodeAndFileShareMajority`, `NodeMajority`.
    pub quorum_type: Option<String>,
    /// Witness resource kind: `FileShareWitness`, `DiskWitness`, `CloudWitness`; `None` when there is none.
    pub witness: Option<Witness>,
    /// `None` when the groups could not be read.
    pub groups: Option<Vec<ClusterGroup>>,
    pub csvs: Option<Vec<CsvVolume>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    pub kind: String,
    pub resource: Option<String>,
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterGroup {
    pub name: String,
    /// `Online`, `Offline`, `PartialOnline`, `Failed`, `Pending`.
    pub state: String,
    pub owner_node: Option<String>,
    /// `VirtualMachine`, `Cluster`, `AvailableStorage`, `FileServer`, ...
    pub group_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    /// Where the name came from (content, or the file name when the content has none).
    pub name_source: Option<SourceRef>,
    pub os: OsInfo,
    pub domain: Option<Sourced<String>>,
    /// Last boot time, as the tool printed it (locale-formatted in `systeminfo`).
    pub boot_time: Option<Sourced<String>>,
    /// Cluster membership as the inputs state it.
    pub cluster: Option<String>,
    /// Installed updates with a KB number, one per KB (the first source that
    /// named it wins; later sources only fill fields it lacked).
    pub updates: Vec<InstalledUpdate>,
    /// Hotfix entries that are not KBs (`[02]: File 1`, `Q147222`), kept as such.
    pub other_entries: Vec<OtherEntry>,
    /// Every file that contributed to this node.
    pub sources: Vec<String>,
    pub state: Option<NodeState>,
    pub memory: Option<HostMemory>,
    pub vms: Option<Vec<VirtualMachine>>,
    pub pending_reboot: Option<PendingReboot>,
    /// `Get-WindowsPackage -Online`, needed for DISM removal.
    pub packages: Option<Vec<WindowsPackage>>,
    /// Installs the Windows Update history shows failing, with no later
    /// successful install of the same KB.
    #[serde(default)]
    pub failed_installs: Vec<FailedInstall>,
    pub protection: NodeProtection,
    /// Inputs that named this node but could not be read (snapshot sections
    /// whose status is not `ok`): the facts they carry are unknown, not absent.
    /// A node with `hotfixes` here has no known update list, so a drift check
    /// must not report its updates as missing.
    #[serde(default)]
    pub unread: Vec<UnreadSection>,
    /// When this node's facts were collected, and what says so. The
    /// history keys observations by it (not by the time of recording), so
    /// a capture recorded a day late still lands on the day it describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_at: Option<CollectedAt>,
}

/// A collection time and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectedAt {
    pub at: jiff::Timestamp,
    pub basis: CollectedBasis,
}

/// What a [`CollectedAt`] rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectedBasis {
    /// The input says when it was collected (a snapshot's `collectedAt`).
    Input,
    /// The input does not say (systeminfo, Get-HotFix, ...): the newest
    /// modification time of the node's files stands in for it.
    FileModified,
}

impl CollectedBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            CollectedBasis::Input => "input",
            CollectedBasis::FileModified => "file-modified",
        }
    }
}

impl CollectedAt {
    /// The better of two statements about one node: what an input says
    /// beats a file time; between equals, the later one (the node's facts
    /// are as recent as its newest capture).
    pub fn better(a: Option<CollectedAt>, b: Option<CollectedAt>) -> Option<CollectedAt> {
        match (a, b) {
            (Some(a), Some(b)) => Some(
                if (a.basis == CollectedBasis::Input) != (b.basis == CollectedBasis::Input) {
                    if a.basis == CollectedBasis::Input {
                        a
                    } else {
                        b
                    }
                } else if b.at > a.at {
                    b
                } else {
                    a
                },
            ),
            (a, None) => a,
            (None, b) => b,
        }
    }
}

/// A part of a node's inventory that the collector could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadSection {
    /// The snapshot section: `os`, `hotfixes`, `updateHistory`, `packages`,
    /// `pendingReboot`, `memory`, `vms`. (Protection sections keep their
    /// status in [`NodeProtection`] instead.)
    pub section: String,
    pub status: SectionStatus,
    pub message: Option<String>,
    pub source: SourceRef,
}

impl Node {
    pub fn has_kb(&self, kb: KbId) -> bool {
        self.updates.iter().any(|u| u.kb == kb)
    }

    /// The unread-section record for `section` (e.g. `hotfixes`), if any.
    pub fn unread(&self, section: &str) -> Option<&UnreadSection> {
        self.unread.iter().find(|u| u.section == section)
    }

    pub fn update(&self, kb: KbId) -> Option<&InstalledUpdate> {
        self.updates.iter().find(|u| u.kb == kb)
    }

    /// Adds an update unless the KB is already known; fills missing fields of the
    /// known one from the new one. Searches the list: callers that add many
    /// updates to one node keep a KB → index map and call
    /// [`InstalledUpdate::fill_missing_from`] themselves (the ingest parsers do).
    pub fn add_update(&mut self, u: InstalledUpdate) {
        if let Some(existing) = self.updates.iter_mut().find(|e| e.kb == u.kb) {
            existing.fill_missing_from(u);
        } else {
            self.updates.push(u);
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `Microsoft Windows Server 2022 Standard`.
    pub caption: Option<Sourced<String>>,
    /// Four-part when the revision (UBR) is known, e.g. `10.0.20348.2159`;
    /// three-part (`10.0.20348`) from `systeminfo`, which does not print the UBR.
    pub version: Option<Sourced<WinVersion>>,
    /// Service pack or display version text (`Service Pack 1`, `21H2`).
    pub service_pack: Option<String>,
    /// `x64-based PC`, `AMD64`, `X86-based PC` ... normalised to `x64`, `x86`, `arm64`.
    pub architecture: Option<Sourced<String>>,
    /// `Server`, `Server Core`, `Client`, when known.
    pub installation_type: Option<String>,
}

impl OsInfo {
    pub fn build(&self) -> Option<u32> {
        self.version.as_ref().map(|v| v.value.build())
    }
    /// The revision (UBR) only when the version carried four parts.
    pub fn ubr(&self) -> Option<u32> {
        self.version
            .as_ref()
            .filter(|v| v.value.len() == 4)
            .map(|v| v.value.revision())
    }
}

/// One installed update of a node. A fleet holds millions of these, so the
/// few distinct descriptions and installers ("Security Update",
/// "NT AUTHORITY\\SYSTEM") are [`SharedStr`]s, one pointer wide (the parsers
/// intern them per file); they serialise as plain strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledUpdate {
    pub kb: KbId,
    /// The hotfix id as the capture wrote it, when it says more than the KB
    /// number (`KB2536276-v2`, `KB893803v2`, `KB2510531-IE8`); `None` for a
    /// plain `KB5033118`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_text: Option<SharedStr>,
    /// `Security Update`, `Update`, `Hotfix`, or a title from update history.
    pub description: Option<SharedStr>,
    pub installed_on: Option<jiff::civil::Date>,
    pub installed_by: Option<SharedStr>,
    pub source: SourceRef,
}

/// An immutable string shared by reference count, one pointer wide
/// (`Arc<str>` is two: an `InstalledUpdate` with two of them would be 16
/// bytes larger, 40 MB over a fleet of 2.5 million updates). Reads as a
/// `str` (`Option<SharedStr>::as_deref()` is an `Option<&str>`), prints and
/// serialises as one.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedStr(Arc<String>);

impl SharedStr {
    /// Whether both are the same shared string (not merely equal text).
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl std::ops::Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self
    }
}

/// Hashes and compares as the text, so a set of them can be searched by `&str`.
impl std::borrow::Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        Self(Arc::new(s.to_string()))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        Self(Arc::new(s))
    }
}

impl std::fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl std::fmt::Display for SharedStr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl Serialize for SharedStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}

impl InstalledUpdate {
    /// What a later source adds about the same KB: only the fields this one
    /// lacks are taken (the first source that named the KB wins).
    pub fn fill_missing_from(&mut self, later: InstalledUpdate) {
        self.id_text = self.id_text.take().or(later.id_text);
        self.description = self.description.take().or(later.description);
        self.installed_on = self.installed_on.take().or(later.installed_on);
        self.installed_by = self.installed_by.take().or(later.installed_by);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherEntry {
    pub text: String,
    pub source: SourceRef,
}

/// Cluster node state from `Get-ClusterNode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeState {
    /// `Up`, `Down`, `Paused`, `Joining`.
    pub state: String,
    /// Configured vote (NodeWeight 0 or 1).
    pub node_weight: Option<u32>,
    /// Vote currently counted by dynamic quorum.
    pub dynamic_weight: Option<u32>,
    /// `NotInitiated`, `InProgress`, `Completed`, `Failed`.
    pub drain_status: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMemory {
    pub total_bytes: u64,
    pub free_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualMachine {
    pub name: String,
    /// `Running`, `Off`, `Saved`, `Paused`.
    pub state: String,
    /// Memory assigned now (0 when off).
    pub memory_assigned_bytes: u64,
    pub memory_startup_bytes: Option<u64>,
    pub configuration_location: Option<String>,
    pub snapshot_file_location: Option<String>,
    pub smart_paging_file_path: Option<String>,
    pub hard_drives: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PendingReboot {
    pub cbs_reboot_pending: bool,
    pub windows_update_reboot_required: bool,
    pub pending_file_rename_operations: bool,
}

impl PendingReboot {
    pub fn any(&self) -> bool {
        self.cbs_reboot_pending
            || self.windows_update_reboot_required
            || self.pending_file_rename_operations
    }
}

/// One failed install from the Windows Update history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedInstall {
    pub kb: KbId,
    /// The history entry's title (`2023-12 Cumulative Update for ...`).
    pub title: Option<String>,
    pub date: Option<jiff::civil::Date>,
    /// The result as the history gave it (`Failed`, `Aborted`, `4`, `5`).
    pub result: String,
    pub source: SourceRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowsPackage {
    /// `Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2159.1.7`.
    pub name: String,
    /// `Installed`, `Staged`, `InstallPending`, `UninstallPending`, `Superseded`.
    pub state: String,
    pub release_type: Option<String>,
}

#[cfg(test)]
mod shared_str_tests {
    use super::*;

    #[test]
    fn one_pointer_wide_and_a_plain_string_in_json() {
        assert_eq!(std::mem::size_of::<Option<SharedStr>>(), 8);
        let s = SharedStr::from("NT AUTHORITY\\SYSTEM");
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#""NT AUTHORITY\\SYSTEM""#
        );
        let back: SharedStr = serde_json::from_str(r#""NT AUTHORITY\\SYSTEM""#).unwrap();
        assert_eq!(back, s);
        assert!(!SharedStr::ptr_eq(&back, &s));
        assert!(SharedStr::ptr_eq(&s.clone(), &s));
        assert_eq!(
            format!("{s:?} {s}"),
            r#""NT AUTHORITY\\SYSTEM" NT AUTHORITY\SYSTEM"#
        );
        let o = Some(s);
        assert_eq!(o.as_deref(), Some("NT AUTHORITY\\SYSTEM"));
    }
}
