//! The one registry of finding codes: every code a check can emit, its
//! stable kebab-case spelling and the severities it can have. README's
//! finding-code table documents the same list; a test holds the two equal
//! and makes every code appear from some input.

use crate::Severity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal, [$($sev:ident),+];)+) => {
        /// A finding's stable code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FindingCode {
            $($(#[$doc])* $variant,)+
        }

        impl FindingCode {
            /// Every code, in README's order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $text,)+
                }
            }

            /// The severities a finding of this code can have.
            pub fn severities(self) -> &'static [Severity] {
                match self {
                    $(FindingCode::$variant => &[$(Severity::$sev),+],)+
                }
            }
        }
    };
}

codes! {
    /// An update some nodes have is a real gap on others.
    UpdateDriftMissing = "update-drift-missing", [Error];
    /// Covered only through an edge a known issue marks incomplete, or the sources disagree on.
    UpdateDriftSuspect = "update-drift-suspect", [Warning];
    /// No catalog data to judge an absence.
    UpdateDriftUnknown = "update-drift-unknown", [Warning];
    /// Absent, but an installed update supersedes it.
    UpdateDriftCovered = "update-drift-covered", [Info];
    /// Not published for that node's product.
    UpdateDriftNotApplicable = "update-drift-not-applicable", [Info];
    /// Test-Cluster "Validate Software Update Levels" will warn.
    ClusterValidationWillWarn = "cluster-validation-will-warn", [Warning];
    /// Nodes run different OS products.
    ClusterMixedOs = "cluster-mixed-os", [Warning];
    /// Chain heads missing against the catalog for the nodes' OS.
    SecurityUpdateMissing = "security-update-missing", [Error, Warning];
    /// The same for separately installed products the nodes show.
    CompanionUpdateMissing = "companion-update-missing", [Error, Warning];
    /// No catalog: what cannot be judged and how to get one.
    CatalogUnavailable = "catalog-unavailable", [Info];
    /// A file type the host-protection rules require is not excluded.
    AvExclusionMissingExtension = "av-exclusion-missing-extension", [Error, Info];
    /// A folder the rules require is not excluded.
    AvExclusionMissingPath = "av-exclusion-missing-path", [Error, Info];
    /// A process the rules require is not excluded.
    AvExclusionMissingProcess = "av-exclusion-missing-process", [Error, Info];
    /// The exclusions could not be read: never reported as compliant.
    AvExclusionsUnknown = "av-exclusions-unknown", [Warning];
    /// Custom VM folders could not be checked (no VM list in the inputs).
    AvVmFoldersUnchecked = "av-vm-folders-unchecked", [Info];
    /// Defender is passive: another product does the real-time scanning.
    AvPassiveMode = "av-passive-mode", [Info];
    /// An installed product, filter or Defender version has a known issue.
    AvKnownIssue = "av-known-issue", [Error, Warning, Info];
    /// A CSV is file-system redirected by an incompatible filter.
    CsvRedirectedByFilter = "csv-redirected-by-filter", [Error];
    /// A CSV is file-system redirected for another reason.
    CsvRedirected = "csv-redirected", [Warning, Info];
    /// A CSV is in block redirected access (a storage problem).
    CsvBlockRedirected = "csv-block-redirected", [Error, Warning, Info];
    /// The CSV state could not be read.
    CsvStateUnknown = "csv-state-unknown", [Info];
    /// Windows Update history shows an install failing; still not installed.
    UpdateInstallFailed = "update-install-failed", [Warning];
    /// A node has a restart pending.
    RebootPending = "reboot-pending", [Warning];
    /// A cluster group other than Available Storage is not Online.
    ClusterGroupOffline = "cluster-group-offline", [Warning];
}

impl FindingCode {
    pub fn parse(s: &str) -> Option<FindingCode> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Findings sort by the code as it is spelled (reports have always been
/// ordered so).
impl Ord for FindingCode {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for FindingCode {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<str> for FindingCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for FindingCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FindingCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FindingCode::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown finding code {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &c in FindingCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{s}"
            );
            assert_eq!(FindingCode::parse(s), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<FindingCode>(&json).unwrap(), c);
        }
        assert!(serde_json::from_str::<FindingCode>("\"no-such-code\"").is_err());
        assert_eq!(FindingCode::ALL.len(), 24);
    }
}
