//! Host-protection rules as data: `rules/host-protection/*.toml`, one rule
//! per file, compiled in (see `build.rs`) and extendable with a user folder.
//!
//! Two types of file:
//!
//! ```toml
//! # A requirement: what must be excluded on which hosts.
//! id = "hyper-v-processes"            # = the file name without .toml
//! type = "requirement"
//! title = "Hyper-V processes"
//! applies_to = "hyper-v"              # hyper-v | cluster | csv
//! kind = "process"                    # path | extension | process
//! severity = "warning"                # info | warning | error (default warning)
//! why = "..."                         # shown in the finding
//! references = ["https://..."]        # at least one
//! csv_volume_ids = false              # path rules: \\?\Volume{GUID}\ of a CSV counts
//! from = "vm-folders"                 # instead of items: vm-folders | witness-disk
//! [[item]]
//! value = '%SystemRoot%\System32\Vmsp.exe'
//! min_build = 14393                   # optional: OS build from which it applies
//! since = "Windows Server 2016"       # optional: how to say min_build
//!
//! # Defender's automatic server-role exclusions (modelled, never listed by
//! # Get-MpPreference).
//! id = "defender-auto-hyper-v"
//! type = "defender-auto-exclusions"
//! title = "..."
//! applies_to = "hyper-v"
//! min_build = 14393
//! references = ["https://..."]
//! extensions = ["vhd", ...]
//! paths = ['%ProgramData%\Microsoft\Windows\Hyper-V', ...]
//! processes = ['%SystemRoot%\System32\Vmms.exe', ...]
//! ```
//!
//! The linter ([`lint_file`]) rejects unknown keys, a missing or unknown
//! `type`, an id that is not kebab-case or differs from the file name, empty
//! item lists, duplicate items, references that are not `https://` URLs, and
//! values with control characters.

use crate::Severity;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/protection_rules_embedded.rs"));
}

/// `(file name, text)` of every built-in rule file, sorted by name.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    embedded::EMBEDDED
}

/// Which hosts a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    /// Hosts running Hyper-V (KB3105657).
    HyperV,
    /// Failover cluster nodes (KB250355).
    Cluster,
    /// Nodes of a cluster that uses Cluster Shared Volumes.
    Csv,
}

impl AppliesTo {
    pub fn as_str(self) -> &'static str {
        match self {
            AppliesTo::HyperV => "hyper-v",
            AppliesTo::Cluster => "cluster",
            AppliesTo::Csv => "csv",
        }
    }
}

/// The three Defender exclusion lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExclusionKind {
    Path,
    Extension,
    Process,
}

impl ExclusionKind {
    /// The `Get-MpPreference` / `Add-MpPreference` parameter name.
    pub fn parameter(self) -> &'static str {
        match self {
            ExclusionKind::Path => "ExclusionPath",
            ExclusionKind::Extension => "ExclusionExtension",
            ExclusionKind::Process => "ExclusionProcess",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionKind::Path => "path",
            ExclusionKind::Extension => "extension",
            ExclusionKind::Process => "process",
        }
    }
}

/// Values a rule takes from the inputs rather than from its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Derived {
    /// Every folder holding a VM's configuration, disks, checkpoints or smart paging file.
    VmFolders,
    /// `<witness disk>\Cluster` when the quorum witness is a disk with a known path.
    WitnessDisk,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub value: String,
    pub min_build: Option<u32>,
    pub since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub id: String,
    pub title: String,
    pub applies_to: AppliesTo,
    pub kind: ExclusionKind,
    pub severity: Severity,
    pub why: String,
    pub references: Vec<String>,
    pub items: Vec<Item>,
    pub from: Option<Derived>,
    pub csv_volume_ids: bool,
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoExclusions {
    pub id: String,
    pub title: String,
    pub applies_to: AppliesTo,
    pub min_build: u32,
    pub references: Vec<String>,
    pub extensions: Vec<String>,
    pub paths: Vec<String>,
    pub processes: Vec<String>,
    pub origin: String,
}

impl AutoExclusions {
    pub fn list(&self, kind: ExclusionKind) -> &[String] {
        match kind {
            ExclusionKind::Path => &self.paths,
            ExclusionKind::Extension => &self.extensions,
            ExclusionKind::Process => &self.processes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Requirement(Requirement),
    AutoExclusions(AutoExclusions),
}

impl Rule {
    pub fn id(&self) -> &str {
        match self {
            Rule::Requirement(r) => &r.id,
            Rule::AutoExclusions(a) => &a.id,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementFile {
    id: String,
    #[serde(rename = "type")]
    _type: String,
    title: String,
    applies_to: AppliesTo,
    kind: ExclusionKind,
    #[serde(default = "default_severity")]
    severity: Severity,
    why: String,
    references: Vec<String>,
    #[serde(default)]
    item: Vec<Item>,
    from: Option<Derived>,
    #[serde(default)]
    csv_volume_ids: bool,
}

fn default_severity() -> Severity {
    Severity::Warning
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AutoFile {
    id: String,
    #[serde(rename = "type")]
    _type: String,
    title: String,
    applies_to: AppliesTo,
    min_build: u32,
    references: Vec<String>,
    #[serde(default)]
    extensions: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    processes: Vec<String>,
}

/// A rule file that does not lint clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A user's file names and values: one line, no terminal controls.
        use lockstep_model::term::one_line;
        write!(f, "{}: {}", one_line(&self.file), one_line(&self.message))
    }
}

impl std::error::Error for RuleError {}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Parses and lints one rule file. `name` is the file name (`x.toml`).
pub fn lint_file(name: &str, text: &str) -> Result<Rule, RuleError> {
    let err = |message: String| RuleError {
        file: name.to_string(),
        message,
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| err(e.to_string()))?;
    let ty = table
        .get("type")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            err("expected `type = \"requirement\"` or `type = \"defender-auto-exclusions\"`".into())
        })?
        .to_string();
    let stem = name.strip_suffix(".toml").unwrap_or(name);
    let check_common = |id: &str, refs: &[String], values: &[&String]| -> Result<(), RuleError> {
        if !is_kebab(id) {
            return Err(err(format!("expected a kebab-case id, found {id:?}")));
        }
        if id != stem {
            return Err(err(format!(
                "id {id:?} must equal the file name without .toml ({stem:?})"
            )));
        }
        if refs.is_empty() {
            return Err(err("expected at least one reference URL".into()));
        }
        if let Some(r) = refs.iter().find(|r| !r.starts_with("https://")) {
            return Err(err(format!("expected an https:// reference, found {r:?}")));
        }
        for v in values {
            if v.trim().is_empty() || v.chars().any(char::is_control) {
                return Err(err(format!(
                    "expected a non-empty value without control characters, found {v:?}"
                )));
            }
        }
        let mut seen: Vec<String> = Vec::new();
        for v in values {
            let key = v.to_ascii_lowercase();
            if seen.contains(&key) {
                return Err(err(format!("duplicate value {v:?}")));
            }
            seen.push(key);
        }
        Ok(())
    };
    match ty.as_str() {
        "requirement" => {
            let f: RequirementFile = toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| err(e.to_string()))?;
            let values: Vec<&String> = f.item.iter().map(|i| &i.value).collect();
            check_common(&f.id, &f.references, &values)?;
            match (&f.from, f.item.is_empty()) {
                (Some(_), false) => {
                    return Err(err("a rule takes `from` or `[[item]]`s, not both".into()));
                }
                (None, true) => {
                    return Err(err("expected at least one [[item]] (or `from`)".into()));
                }
                _ => {}
            }
            if f.from.is_some() && f.kind != ExclusionKind::Path {
                return Err(err("`from` gives folders: it needs kind = \"path\"".into()));
            }
            if f.csv_volume_ids && f.kind != ExclusionKind::Path {
                return Err(err("csv_volume_ids needs kind = \"path\"".into()));
            }
            if f.why.trim().is_empty() || f.title.trim().is_empty() {
                return Err(err("expected a non-empty title and why".into()));
            }
            Ok(Rule::Requirement(Requirement {
                id: f.id,
                title: f.title,
                applies_to: f.applies_to,
                kind: f.kind,
                severity: f.severity,
                why: f.why,
                references: f.references,
                items: f.item,
                from: f.from,
                csv_volume_ids: f.csv_volume_ids,
                origin: name.to_string(),
            }))
        }
        "defender-auto-exclusions" => {
            let f: AutoFile = toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| err(e.to_string()))?;
            let values: Vec<&String> = f
                .extensions
                .iter()
                .chain(&f.paths)
                .chain(&f.processes)
                .collect();
            check_common(&f.id, &f.references, &values)?;
            if values.is_empty() {
                return Err(err(
                    "expected at least one of extensions, paths, processes".into()
                ));
            }
            Ok(Rule::AutoExclusions(AutoExclusions {
                id: f.id,
                title: f.title,
                applies_to: f.applies_to,
                min_build: f.min_build,
                references: f.references,
                extensions: f.extensions,
                paths: f.paths,
                processes: f.processes,
                origin: name.to_string(),
            }))
        }
        other => Err(err(format!(
            "expected `type = \"requirement\"` or `type = \"defender-auto-exclusions\"`, found {other:?}"
        ))),
    }
}

/// The rule set the audit runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub requirements: Vec<Requirement>,
    pub auto: Vec<AutoExclusions>,
}

impl Rules {
    /// The rules compiled into the binary. A built-in file that does not lint
    /// is left out; the generated per-file tests make sure none ships so.
    pub fn builtin() -> Rules {
        let mut rules = Rules::default();
        for (name, text) in builtin_sources() {
            if let Ok(rule) = lint_file(name, text) {
                rules.insert(rule);
            }
        }
        rules
    }

    /// The built-in rules plus every `*.toml` in `dir` (not recursive). A user
    /// rule with the id of a built-in one replaces it. All files are linted;
    /// on any error nothing is loaded and every error is returned.
    pub fn load_dir(dir: &Path) -> Result<Rules, Vec<RuleError>> {
        let mut rules = Rules::builtin();
        let user = lint_dir(dir)?;
        for rule in user {
            rules.insert(rule);
        }
        Ok(rules)
    }

    /// Adds `rule`; one with the same id (a built-in one) is replaced.
    pub fn insert(&mut self, rule: Rule) {
        self.requirements.retain(|r| r.id != rule.id());
        self.auto.retain(|a| a.id != rule.id());
        match rule {
            Rule::Requirement(r) => self.requirements.push(r),
            Rule::AutoExclusions(a) => self.auto.push(a),
        }
        self.requirements.sort_by(|a, b| a.id.cmp(&b.id));
        self.auto.sort_by(|a, b| a.id.cmp(&b.id));
    }

    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        self.requirements.iter().find(|r| r.id == id)
    }
}

/// Lints every `*.toml` in `dir`; returns the rules or every error.
pub fn lint_dir(dir: &Path) -> Result<Vec<Rule>, Vec<RuleError>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        vec![RuleError {
            file: dir.display().to_string(),
            message: format!("cannot read the rules folder: {e}"),
        }]
    })?;
    // Any `*.toml` that is not a folder must be a regular file (see
    // `lockstep_model::input_file`).
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| !p.is_dir() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shown = p.display().to_string();
        use lockstep_model::input_file::{DEFAULT_MAX_INPUT_SIZE, Origin, read};
        let text = read(&p, DEFAULT_MAX_INPUT_SIZE, Origin::Found)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| "expected UTF-8 text".to_string()));
        match text {
            Err(message) => errors.push(RuleError {
                file: shown,
                message,
            }),
            Ok(text) => match lint_file(&name, &text) {
                Err(mut e) => {
                    e.file = shown;
                    errors.push(e);
                }
                Ok(rule) => {
                    if ids.iter().any(|i| i == rule.id()) {
                        errors.push(RuleError {
                            file: shown,
                            message: format!("duplicate id {:?}", rule.id()),
                        });
                    } else {
                        ids.push(rule.id().to_string());
                        rules.push(rule);
                    }
                }
            },
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}
