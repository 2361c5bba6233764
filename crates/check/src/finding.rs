//! Findings: the unit every check emits and every report renders.

use crate::codes::FindingCode;
use lockstep_model::{KbId, SourceRef};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

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
    pub source: EvidenceSource,
    /// What this source says, e.g. "KB2616676 installed 9/20/2011".
    pub note: String,
}

/// Where a fact behind a finding was read: the capture, and the line when
/// the fact has one. A fact of the whole capture (an update absent from a
/// node's list, a capture without a Defender section) has no line: the
/// report leaves it out rather than claim one (schema `evidenceSource`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceSource {
    pub file: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<NonZeroU32>,
}

impl EvidenceSource {
    /// A fact of the whole capture `file`.
    pub fn whole(file: impl Into<Arc<str>>) -> Self {
        Self {
            file: file.into(),
            line: None,
        }
    }
}

/// The model's sources use line 0 for a fact without a single line (a whole
/// JSON document): here that is no line.
impl From<&SourceRef> for EvidenceSource {
    fn from(s: &SourceRef) -> Self {
        Self {
            file: s.file.clone(),
            line: NonZeroU32::new(s.line),
        }
    }
}

impl From<SourceRef> for EvidenceSource {
    fn from(s: SourceRef) -> Self {
        Self::from(&s)
    }
}

/// The same place: the same file, and the same line or (line 0 in the
/// model) none.
impl PartialEq<SourceRef> for EvidenceSource {
    fn eq(&self, other: &SourceRef) -> bool {
        *self.file == *other.file && self.line == NonZeroU32::new(other.line)
    }
}

/// `file:line`, or the file alone when the fact has no line.
impl fmt::Display for EvidenceSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => write!(f, "{}", self.file),
        }
    }
}

/// What to do about a finding: prose, and commands an admin can paste.
/// Commands built from input data are quoted by the check that builds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
}

/// What an [`Item`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// An update (`value` and `kb` name it).
    Update,
    /// A file type Defender should exclude (`-ExclusionExtension`).
    Extension,
    /// A folder Defender should exclude (`-ExclusionPath`).
    Path,
    /// A process Defender should exclude (`-ExclusionProcess`).
    Process,
    /// A file-system minifilter driver.
    Filter,
    /// An installed product (anti-virus, an OS product).
    Product,
    /// A Cluster Shared Volume.
    Volume,
    /// A cluster group.
    Group,
    /// What says a restart is pending (`CBS RebootPending`, ...).
    PendingReboot,
}

/// One thing a finding is about, for programs that act on it: the
/// update, exclusion, filter or volume its prose names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    /// As an admin writes it: `KB5033118`, `%SystemRoot%\Cluster`, `vhdx`.
    pub value: String,
    /// The host-protection rule that requires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The update it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kb: Option<KbId>,
    /// The servicing product (an update) or the OS product (a node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The node it is about; absent when it holds for every node of the finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// An update released after its product's extended support ended: only
    /// Extended Security Updates customers can install it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub esu_only: bool,
}

impl Item {
    pub fn new(kind: ItemKind, value: impl Into<String>) -> Item {
        Item {
            kind,
            value: value.into(),
            rule: None,
            kb: None,
            product: None,
            node: None,
            esu_only: false,
        }
    }

    /// An update item.
    pub fn update(kb: KbId) -> Item {
        Item {
            kb: Some(kb),
            ..Item::new(ItemKind::Update, kb.to_string())
        }
    }

    pub fn on(mut self, node: impl Into<String>) -> Item {
        self.node = Some(node.into());
        self
    }

    pub fn for_product(mut self, product: impl Into<String>) -> Item {
        self.product = Some(product.into());
        self
    }

    pub fn by_rule(mut self, rule: impl Into<String>) -> Item {
        self.rule = Some(rule.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable kebab-case code ([`FindingCode`]).
    pub code: FindingCode,
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
    /// What the prose names, one entry each (which KB, which exclusion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evidence claims a line only when it has one, and reads back as it was.
    #[test]
    fn evidence_without_a_line_leaves_it_out() {
        let absent = Evidence {
            source: EvidenceSource::whole("HV03.systeminfo.txt"),
            note: "KB2607712 not listed on HV03".into(),
        };
        let read = Evidence {
            source: SourceRef::new("HV01.systeminfo.txt", 42).into(),
            note: "KB2607712 installed on HV01".into(),
        };
        let json = serde_json::to_string(&[&absent, &read]).unwrap();
        assert_eq!(
            json,
            r#"[{"source":{"file":"HV03.systeminfo.txt"},"note":"KB2607712 not listed on HV03"},{"source":{"file":"HV01.systeminfo.txt","line":42},"note":"KB2607712 installed on HV01"}]"#
        );
        let back: Vec<Evidence> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [absent, read]);
        let unknown = r#"{"source":{"file":"a","line":1,"column":2},"note":"n"}"#;
        assert!(serde_json::from_str::<Evidence>(unknown).is_err());
    }

    /// The model's line 0 (a whole document) is no line here; a report
    /// claiming line 0 does not read (schema: `minimum` 1).
    #[test]
    fn a_whole_document_has_no_line() {
        let whole: EvidenceSource = SourceRef::new("hvclu22.json", 0).into();
        assert_eq!(whole, EvidenceSource::whole("hvclu22.json"));
        assert_eq!(whole.to_string(), "hvclu22.json");
        assert_eq!(whole, SourceRef::new("hvclu22.json", 0));
        assert_ne!(whole, SourceRef::new("hvclu22.json", 1));
        let at: EvidenceSource = SourceRef::new("HV01.systeminfo.txt", 42).into();
        assert_eq!(at.line, NonZeroU32::new(42));
        assert_eq!(at.to_string(), "HV01.systeminfo.txt:42");
        assert_ne!(at, SourceRef::new("HV01.systeminfo.txt", 0));
        let zero = r#"{"source":{"file":"a","line":0},"note":"n"}"#;
        assert!(serde_json::from_str::<Evidence>(zero).is_err());
    }
}
