//! Findings: the unit every check emits and every report renders.

use crate::codes::FindingCode;
use lockstep_model::{KbId, SourceRef};
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
    /// The capture, and the line when the fact has one. A line of 0 means
    /// the whole capture (an update absent from a node's list, a capture
    /// without a Defender section): the report leaves the line out rather
    /// than claim one.
    #[serde(with = "evidence_source")]
    pub source: SourceRef,
    /// What this source says, e.g. "KB2616676 installed 9/20/2011".
    pub note: String,
}

/// [`Evidence::source`] as `{"file", "line"}` with `line` only when the
/// fact has one (schema `evidenceSource`).
mod evidence_source {
    use lockstep_model::SourceRef;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct Out<'a> {
        file: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct In {
        file: String,
        #[serde(default)]
        line: u32,
    }

    pub fn serialize<S: Serializer>(source: &SourceRef, s: S) -> Result<S::Ok, S::Error> {
        Out {
            file: &source.file,
            line: (source.line > 0).then_some(source.line),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SourceRef, D::Error> {
        let In { file, line } = In::deserialize(d)?;
        Ok(SourceRef::new(file, line))
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
            source: SourceRef::new("HV03.systeminfo.txt", 0),
            note: "KB2607712 not listed on HV03".into(),
        };
        let read = Evidence {
            source: SourceRef::new("HV01.systeminfo.txt", 42),
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
}
