//! What the host-protection audit reads: Defender settings and status,
//! file-system minifilters, installed products, CSV redirection state.
//!
//! Each input is wrapped in a [`Section`] because "could not read it" must stay
//! distinguishable from "read it and it is empty": an unelevated
//! `Get-MpPreference` prints `{N/A: Must be and administrator to view
//! exclusions}` instead of the lists, and lockstep reports that as unknown,
//! never as compliant.

use crate::{SourceRef, WinVersion};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SectionStatus {
    Ok,
    AccessDenied,
    NotAvailable,
    Error,
}

impl SectionStatus {
    /// For messages to the admin (never Rust's Debug text).
    pub fn words(self) -> &'static str {
        match self {
            SectionStatus::Ok => "read",
            SectionStatus::AccessDenied => "access denied",
            SectionStatus::NotAvailable => "not available",
            SectionStatus::Error => "error",
        }
    }
}

/// One input section: its status, an optional message, and the data when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section<T> {
    pub status: SectionStatus,
    pub message: Option<String>,
    pub data: Option<T>,
    pub source: Option<SourceRef>,
}

impl<T> Section<T> {
    pub fn ok(data: T, source: SourceRef) -> Self {
        Self {
            status: SectionStatus::Ok,
            message: None,
            data: Some(data),
            source: Some(source),
        }
    }
    pub fn unavailable(status: SectionStatus, message: Option<String>, source: SourceRef) -> Self {
        Self {
            status,
            message,
            data: None,
            source: Some(source),
        }
    }
    pub fn data(&self) -> Option<&T> {
        self.data.as_ref()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeProtection {
    pub defender_preferences: Option<Section<DefenderPreferences>>,
    pub defender_status: Option<Section<DefenderStatus>>,
    pub filters: Option<Section<Vec<FilterDriver>>>,
    pub filter_instances: Option<Section<Vec<FilterInstance>>>,
    pub products: Option<Section<Vec<InstalledProduct>>>,
}

/// An exclusion list as `Get-MpPreference` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "items", rename_all = "camelCase")]
pub enum ExclusionList {
    /// The list was read (possibly empty).
    Items(Vec<String>),
    /// The list was hidden, e.g. `{N/A: Must be and administrator to view exclusions}`.
    Redacted(String),
}

impl ExclusionList {
    pub fn items(&self) -> Option<&[String]> {
        match self {
            ExclusionList::Items(v) => Some(v),
            ExclusionList::Redacted(_) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefenderPreferences {
    pub exclusion_path: ExclusionList,
    pub exclusion_extension: ExclusionList,
    pub exclusion_process: ExclusionList,
    pub disable_auto_exclusions: Option<bool>,
    pub disable_realtime_monitoring: Option<bool>,
    /// Line of each field, for evidence.
    pub source: SourceRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefenderStatus {
    pub am_product_version: Option<WinVersion>,
    pub am_engine_version: Option<WinVersion>,
    /// `Normal`, `Passive Mode`, `SxS Passive Mode`, `EDR Block Mode`.
    pub am_running_mode: Option<String>,
    pub antivirus_signature_version: Option<WinVersion>,
    pub real_time_protection_enabled: Option<bool>,
    pub is_tamper_protected: Option<bool>,
    pub antivirus_enabled: Option<bool>,
    pub am_service_enabled: Option<bool>,
    pub source: SourceRef,
}

impl DefenderStatus {
    /// Passive and side-by-side passive modes mean another product is in charge.
    pub fn is_passive(&self) -> bool {
        self.am_running_mode
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("passive"))
    }
}

/// One line of `fltmc filters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterDriver {
    pub name: String,
    pub instances: Option<u32>,
    /// Altitude as printed; may be fractional (`385100.5`) or `<Legacy>`.
    pub altitude: Option<String>,
    pub frame: Option<u32>,
    pub legacy: bool,
    pub source: SourceRef,
}

/// One line of `fltmc instances`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterInstance {
    pub filter: String,
    /// `C:`, `\Device\Mup`, `C:\ClusterStorage\Volume1`; `None` when blank.
    pub volume: Option<String>,
    pub altitude: Option<String>,
    pub instance: Option<String>,
    pub frame: Option<u32>,
    pub source: SourceRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledProduct {
    pub name: String,
    pub vendor: Option<String>,
    pub version: Option<String>,
    pub source: SourceRef,
}

/// A Cluster Shared Volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvVolume {
    pub name: String,
    /// Mount path, e.g. `C:\ClusterStorage\Volume1`.
    pub path: Option<String>,
    pub owner_node: Option<String>,
    /// `\\?\Volume{GUID}\`.
    pub volume_id: Option<String>,
    /// `CSVFS_NTFS`, `CSVFS_ReFS`.
    pub file_system: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterProtection {
    pub compatible_filters: Option<Vec<String>>,
    pub incompatible_filters: Option<Vec<String>>,
    /// `Get-ClusterSharedVolumeState`: one record per (volume, node).
    pub csv_states: Option<Section<Vec<CsvNodeState>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CsvStateInfo {
    Unavailable,
    Paused,
    Direct,
    FileSystemRedirected,
    BlockRedirected,
}

impl CsvStateInfo {
    /// From the enum name or its number (Unavailable=0 … BlockRedirected=4).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "0" | "Unavailable" => Self::Unavailable,
            "1" | "Paused" => Self::Paused,
            "2" | "Direct" => Self::Direct,
            "3" | "FileSystemRedirected" => Self::FileSystemRedirected,
            "4" | "BlockRedirected" => Self::BlockRedirected,
            _ => return None,
        })
    }
}

/// A flags value with the names Windows gives its bits.
macro_rules! flags {
    ($name:ident { $($flag:ident = $bit:expr),* $(,)? } zero = $zero:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
        pub struct $name(pub u32);
        impl $name {
            $(pub const $flag: u32 = $bit;)*
            const NAMES: &'static [(&'static str, u32)] = &[$((stringify!($flag), $bit)),*];
            pub fn contains(self, bit: u32) -> bool { self.0 & bit == bit && bit != 0 }
            /// From a number (`34`) or names joined by commas
            /// (`IncompatibleFileSystemFilter, FileSystemReFs`).
            pub fn parse(s: &str) -> Option<Self> {
                let t = s.trim();
                if let Ok(n) = t.parse::<u32>() { return Some(Self(n)); }
                let mut v = 0;
                for part in t.split(',') {
                    let p = part.trim();
                    if p.eq_ignore_ascii_case(stringify!($zero)) || p.is_empty() { continue; }
                    v |= Self::NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(p))?.1;
                }
                Some(Self(v))
            }
            pub fn names(self) -> Vec<&'static str> {
                if self.0 == 0 { return vec![stringify!($zero)]; }
                let mut out: Vec<&'static str> = Self::NAMES.iter().filter(|(_, b)| self.0 & b != 0).map(|(n, _)| *n).collect();
                let known: u32 = Self::NAMES.iter().map(|(_, b)| b).sum();
                if self.0 & !known != 0 { out.push("Unknown"); }
                out
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.names().join(", "))
            }
        }
    };
}

#[allow(non_upper_case_globals)]
mod flag_types {
    use super::*;
    flags!(FsRedirectReason {
        UserRequest = 1,
        IncompatibleFileSystemFilter = 2,
        IncompatibleVolumeFilter = 4,
        FileSystemTiering = 8,
        BitLockerInitializing = 16,
        FileSystemReFs = 32,
    } zero = NotFileSystemRedirected);
    flags!(BlockRedirectReason {
        NoDiskConnectivity = 1,
        StorageSpaceNotAttached = 2,
        VolumeReplicationEnabled = 4,
    } zero = NotBlockRedirected);
}
pub use flag_types::{BlockRedirectReason, FsRedirectReason};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvNodeState {
    /// Volume name as the cluster shows it (`Cluster Disk 1`) or its path.
    pub volume: String,
    pub volume_path: Option<String>,
    pub node: String,
    pub state: CsvStateInfo,
    pub fs_reason: FsRedirectReason,
    pub block_reason: BlockRedirectReason,
    pub source: SourceRef,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_reason_flags() {
        let r = FsRedirectReason::parse("34").unwrap();
        assert!(r.contains(FsRedirectReason::IncompatibleFileSystemFilter));
        assert!(r.contains(FsRedirectReason::FileSystemReFs));
        assert_eq!(
            FsRedirectReason::parse("IncompatibleFileSystemFilter, FileSystemReFs"),
            Some(r)
        );
        assert_eq!(
            FsRedirectReason::parse("NotFileSystemRedirected"),
            Some(FsRedirectReason(0))
        );
        assert_eq!(
            r.to_string(),
            "IncompatibleFileSystemFilter, FileSystemReFs"
        );
        assert_eq!(FsRedirectReason::parse("Bogus"), None);
        assert_eq!(
            BlockRedirectReason::parse("NoDiskConnectivity"),
            Some(BlockRedirectReason(1))
        );
        assert_eq!(
            CsvStateInfo::parse("3"),
            Some(CsvStateInfo::FileSystemRedirected)
        );
    }
}
