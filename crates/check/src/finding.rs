//! Findings: the unit every check emits and every report renders.

use lockstep_model::SourceRef;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Ordered: `Info < Warning < Error`, so `--fail-on warning` means `>= Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "warning" | "warn" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(format!("expected info, warning or error, found {s:?}")),
        }
    }
}

/// One fact behind a finding, with where it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub source: SourceRef,
    /// What this source says, e.g. "KB2616676 installed 9/20/2011".
    pub note: String,
}

/// What to do about a finding: prose, and commands an admin can paste.
/// Commands built from input data are quoted by the check that builds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case code, e.g. `update-missing`, `csv-redirected-by-filter`.
    pub code: String,
    pub severity: Severity,
    pub cluster: Option<String>,
    /// The nodes this finding is about (empty for cluster-wide findings).
    pub nodes: Vec<String>,
    /// One line, in the admin's words.
    pub title: String,
    /// The explanation: why this matters, with the chain or rule behind it.
    pub detail: String,
    pub evidence: Vec<Evidence>,
    pub fix: Option<Fix>,
    /// Known-issue ids that this finding rests on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub known_issues: Vec<String>,
}
