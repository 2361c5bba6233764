//! `Get-MpPreference` (Microsoft Defender preferences): the list text that
//! PowerShell prints, and `ConvertTo-Json`.
//!
//! List text (real capture in `tests/fixtures/real/host-protection/`):
//!
//! ```text
//! DisableAutoExclusions                         : False
//! ExclusionExtension                            :
//! ExclusionPath                                 : {%ProgramData%\Docker, D:\SvcFab}
//! PSComputerName                                :
//! ```
//!
//! * Lists print as `{a, b}`; an empty list prints nothing after the colon.
//! * Without elevation every exclusion list prints
//!   `{N/A: Must be and administrator to view exclusions}` (sic): that is
//!   [`ExclusionList::Redacted`], never an empty list.
//! * PowerShell shortens lists longer than `$FormatEnumerationLimit` (4 by
//!   default) to `{a, b, c, d...}`: the rest is unknown, so such a list is
//!   also `Redacted` (with the visible part in the message); collect JSON to see
//!   everything.
//! * A list missing from the capture (a `Select-Object` that dropped it) is
//!   `Redacted` too: unknown is not empty.
//!
//! JSON (`Get-MpPreference | ConvertTo-Json`): lists are arrays, a bare string
//! (one item) or `null` (empty); booleans are `true`/`false` (numbers and
//! strings are accepted); an unelevated capture has
//! `["N/A: Must be and administrator to view exclusions"]`. Several objects
//! (from `Invoke-Command` on several nodes) give several nodes, each named by
//! its `PSComputerName`.
//!
//! The Format-List reader here ([`list`]) is shared with the other PowerShell
//! list formats (`Get-MpComputerStatus`, `Get-ClusterSharedVolumeState`).

use super::{FileContent, Format, NodeFacts, Text};
use crate::IngestError;
use lockstep_model::protection::{DefenderPreferences, ExclusionList, NodeProtection, Section};
use lockstep_model::{SourceRef, Sourced};
use serde_json::Value;

pub static FORMAT: Format = Format {
    name: "get-mppreference",
    detect,
    parse,
};

/// PowerShell `Format-List` text and `ConvertTo-Json` helpers.
pub(crate) mod list {
    use serde_json::Value;

    #[derive(Debug, Clone)]
    pub(crate) struct Field {
        pub key: String,
        pub value: String,
        pub line: u32,
    }

    /// One object of `Format-List` output: `Key : Value` lines up to a blank line.
    #[derive(Debug, Clone, Default)]
    pub(crate) struct Record {
        pub fields: Vec<Field>,
    }

    impl Record {
        pub fn get(&self, key: &str) -> Option<&Field> {
            self.fields.iter().find(|f| f.key.eq_ignore_ascii_case(key))
        }
        pub fn has(&self, key: &str) -> bool {
            self.get(key).is_some()
        }
        /// Non-empty trimmed value.
        pub fn value(&self, key: &str) -> Option<&str> {
            self.get(key)
                .map(|f| f.value.trim())
                .filter(|v| !v.is_empty())
        }
        pub fn line(&self) -> u32 {
            self.fields.first().map_or(0, |f| f.line)
        }
        /// Whether the record has the keys of `shape`.
        pub fn is(&self, shape: Shape) -> bool {
            shape(&|k| self.has(k))
        }
    }

    /// The keys one object of a format has, asked through a lookup (a
    /// `Format-List` record's or a JSON object's): one rule for both forms.
    pub(crate) type Shape = fn(&dyn Fn(&str) -> bool) -> bool;

    /// Whether a `ConvertTo-Json` object has the keys of `shape`.
    pub(crate) fn object_is(o: &serde_json::Map<String, Value>, shape: Shape) -> bool {
        shape(&|k| jget(o, k).is_some())
    }

    /// `detect` for list text or `ConvertTo-Json`: every object of a JSON
    /// document, or any `Format-List` record, has the keys of `shape`.
    pub(crate) fn holds_objects(text: &str, shape: Shape) -> bool {
        if looks_like_json(text) {
            return json_objects(text)
                .is_some_and(|v| !v.is_empty() && v.iter().all(|o| object_is(o, shape)));
        }
        records(text).iter().any(|r| r.is(shape))
    }

    /// `Key<spaces>: value` — Format-List pads every key and always puts a
    /// space before the colon, which tells a field from `C:\>` prompts.
    fn split_field(line: &str) -> Option<(&str, &str)> {
        if line.starts_with(char::is_whitespace) {
            return None;
        }
        let colon = line.find(" :")?;
        let key = line.get(..colon)?.trim_end();
        if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let rest = line.get(colon + 2..)?;
        Some((key, rest.strip_prefix(' ').unwrap_or(rest)))
    }

    /// Every `Format-List` record in the text. Lines that are neither fields
    /// nor continuations (prompts, headers) end the current record.
    pub(crate) fn records(text: &str) -> Vec<Record> {
        let mut out = Vec::new();
        let mut cur = Record::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            let line_no = i as u32 + 1;
            if line.trim().is_empty() {
                if !cur.fields.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                continue;
            }
            if let Some((key, value)) = split_field(line) {
                cur.fields.push(Field {
                    key: key.to_string(),
                    value: value.trim_end().to_string(),
                    line: line_no,
                });
            } else if line.starts_with(char::is_whitespace) {
                // A long value wrapped onto the next line, indented to the
                // value column. PowerShell cuts it at the console width; a
                // cut after a list separator lost the space that followed.
                if let Some(last) = cur.fields.last_mut() {
                    if last.value.ends_with(',') {
                        last.value.push(' ');
                    }
                    last.value.push_str(line.trim());
                }
            } else if !cur.fields.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        if !cur.fields.is_empty() {
            out.push(cur);
        }
        out
    }

    /// `True`/`False` as PowerShell prints them, or 1/0.
    pub(crate) fn parse_bool(s: &str) -> Option<bool> {
        match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// The objects of a `ConvertTo-Json` document: one object, or an array of them.
    pub(crate) fn json_objects(text: &str) -> Option<Vec<serde_json::Map<String, Value>>> {
        let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}').trim()).ok()?;
        match v {
            Value::Object(o) => Some(vec![o]),
            Value::Array(a) => a
                .into_iter()
                .map(|x| match x {
                    Value::Object(o) => Some(o),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// Case-insensitive key lookup (PowerShell property names are).
    pub(crate) fn jget<'a>(o: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// A scalar as text; `None` for null, empty strings, arrays and objects.
    pub(crate) fn jstr(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(true) => Some("True".into()),
            Value::Bool(false) => Some("False".into()),
            _ => None,
        }
    }

    pub(crate) fn jbool(v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => jstr(other).and_then(|s| parse_bool(&s)),
        }
    }

    /// Quick check before a full JSON parse in `detect`.
    pub(crate) fn looks_like_json(text: &str) -> bool {
        matches!(
            text.trim_start_matches('\u{feff}')
                .trim_start()
                .chars()
                .next(),
            Some('{' | '[')
        )
    }
}

use list::{
    holds_objects, jbool, jget, json_objects, jstr, looks_like_json, object_is, parse_bool, records,
};

const REDACTED_PREFIX: &str = "N/A";

/// An exclusion list as printed by Format-List.
fn text_list(value: &str) -> ExclusionList {
    let t = value.trim();
    if t.is_empty() {
        return ExclusionList::Items(Vec::new());
    }
    let inner = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t)
        .trim();
    if inner.starts_with(REDACTED_PREFIX) {
        return ExclusionList::Redacted(inner.to_string());
    }
    if inner.ends_with("...") || inner.ends_with('…') {
        return ExclusionList::Redacted(format!(
            "list shortened by PowerShell ($FormatEnumerationLimit); shown: {inner}"
        ));
    }
    ExclusionList::Items(
        inner
            .split(", ")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    )
}

fn json_list(v: Option<&Value>, key: &str) -> ExclusionList {
    let items: Vec<String> = match v {
        None => return ExclusionList::Redacted(format!("{key} is not in the capture")),
        Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(jstr).collect(),
        Some(other) => jstr(other).into_iter().collect(),
    };
    if let Some(r) = items.iter().find(|i| i.starts_with(REDACTED_PREFIX)) {
        return ExclusionList::Redacted(r.clone());
    }
    ExclusionList::Items(items)
}

fn missing(key: &str) -> ExclusionList {
    ExclusionList::Redacted(format!("{key} is not in the capture"))
}

fn node_facts(name: Option<Sourced<String>>, prefs: DefenderPreferences) -> NodeFacts {
    let source = prefs.source.clone();
    NodeFacts::protection(
        name,
        NodeProtection {
            defender_preferences: Some(Section::ok(prefs, source)),
            ..Default::default()
        },
    )
}

/// `PSComputerName` names the node when the capture came through remoting.
pub(crate) fn computer_name(value: Option<&str>, source: SourceRef) -> Option<Sourced<String>> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| Sourced::new(v.to_string(), source))
}

/// Preferences from one `Get-MpPreference` JSON object. (The snapshot's
/// `defenderPreferences` section is typed in the snapshot model and read
/// in `formats/snapshot/protection.rs`.)
fn preferences_from_json(
    o: &serde_json::Map<String, Value>,
    source: SourceRef,
) -> DefenderPreferences {
    DefenderPreferences {
        exclusion_path: json_list(jget(o, "ExclusionPath"), "ExclusionPath"),
        exclusion_extension: json_list(jget(o, "ExclusionExtension"), "ExclusionExtension"),
        exclusion_process: json_list(jget(o, "ExclusionProcess"), "ExclusionProcess"),
        disable_auto_exclusions: jget(o, "DisableAutoExclusions").and_then(jbool),
        disable_realtime_monitoring: jget(o, "DisableRealtimeMonitoring").and_then(jbool),
        source,
    }
}

fn is_pref_keys(has: &dyn Fn(&str) -> bool) -> bool {
    has("ExclusionPath") && (has("DisableAutoExclusions") || has("ExclusionExtension"))
}

fn detect(text: &str) -> bool {
    text.contains("ExclusionPath") && holds_objects(text, is_pref_keys)
}

fn parse(text: &Text) -> Result<FileContent, IngestError> {
    if looks_like_json(&text.text) {
        let objs = json_objects(&text.text).ok_or_else(|| {
            IngestError::new(
                &*text.path,
                0,
                "a Get-MpPreference ConvertTo-Json object or array of objects",
            )
        })?;
        let nodes = objs
            .iter()
            .filter(|o| object_is(o, is_pref_keys))
            .map(|o| {
                let src = text.at(0);
                let name = computer_name(
                    jget(o, "PSComputerName").and_then(jstr).as_deref(),
                    src.clone(),
                );
                node_facts(name, preferences_from_json(o, src))
            })
            .collect::<Vec<_>>();
        if nodes.is_empty() {
            return Err(IngestError::new(
                &*text.path,
                0,
                "an object with ExclusionPath and DisableAutoExclusions",
            ));
        }
        return Ok(FileContent::Nodes(nodes));
    }
    let mut nodes = Vec::new();
    for r in records(&text.text).iter().filter(|r| r.is(is_pref_keys)) {
        let list_of = |key: &str| {
            r.get(key)
                .map_or_else(|| missing(key), |f| text_list(&f.value))
        };
        let bool_of = |key: &str| -> Result<Option<bool>, IngestError> {
            match r.get(key) {
                None => Ok(None),
                Some(f) if f.value.trim().is_empty() => Ok(None),
                Some(f) => parse_bool(&f.value).map(Some).ok_or_else(|| {
                    IngestError::new(&*text.path, f.line, format!("True or False for {key}"))
                        .found(&f.value)
                }),
            }
        };
        let line = r.get("ExclusionPath").map_or(r.line(), |f| f.line);
        let prefs = DefenderPreferences {
            exclusion_path: list_of("ExclusionPath"),
            exclusion_extension: list_of("ExclusionExtension"),
            exclusion_process: list_of("ExclusionProcess"),
            disable_auto_exclusions: bool_of("DisableAutoExclusions")?,
            disable_realtime_monitoring: bool_of("DisableRealtimeMonitoring")?,
            source: text.at(line),
        };
        let name = r
            .get("PSComputerName")
            .and_then(|f| computer_name(Some(&f.value), text.at(f.line)));
        nodes.push(node_facts(name, prefs));
    }
    if nodes.is_empty() {
        return Err(IngestError::new(
            &*text.path,
            0,
            "Get-MpPreference list output (`ExclusionPath : {...}` lines)",
        ));
    }
    Ok(FileContent::Nodes(nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::util::never_panics_on_damage!(REAL);

    const REAL: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/real/host-protection/azure-sf__get-mppreference_sf_node.txt"
    ));

    fn prefs(content: FileContent) -> Vec<(Option<String>, DefenderPreferences)> {
        let FileContent::Nodes(n) = content else {
            panic!("nodes expected")
        };
        n.into_iter()
            .map(|f| {
                let p = f
                    .node
                    .protection
                    .defender_preferences
                    .unwrap()
                    .data
                    .unwrap();
                (f.name.map(|s| s.value), p)
            })
            .collect()
    }

    fn items(v: &[&str]) -> ExclusionList {
        ExclusionList::Items(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn real_capture() {
        assert!(detect(REAL));
        let got = prefs(parse(&Text::new("sf.txt", REAL)).unwrap());
        assert_eq!(got.len(), 1);
        let (name, p) = &got[0];
        assert_eq!(name, &None);
        assert_eq!(
            p.exclusion_path,
            items(&[
                "%ProgramData%\\Docker",
                "%ProgramFiles%\\Microsoft Service Fabric\\bin",
                "D:\\SvcFab"
            ])
        );
        assert_eq!(p.exclusion_extension, items(&[]));
        assert_eq!(
            p.exclusion_process,
            items(&["%ProgramFiles%\\Microsoft Service Fabric\\bin\\Fabric\\Fabric.Code\\*"])
        );
        assert_eq!(p.disable_auto_exclusions, Some(false));
        assert_eq!(p.disable_realtime_monitoring, Some(false));
        assert_eq!(p.source.line, 34);
    }

    #[test]
    fn redacted_truncated_and_wrapped() {
        let t = "DisableAutoExclusions : True\nExclusionExtension    : {N/A: Must be and administrator to view exclusions}\nExclusionPath         : {C:\\a, C:\\b, C:\\c, C:\\d...}\nExclusionProcess      : {Vmms.exe, Vmwp.exe,\n                        Vmsp.exe}\nPSComputerName        : HV01\n";
        assert!(detect(t));
        let got = prefs(parse(&Text::new("x", t)).unwrap());
        let (name, p) = &got[0];
        assert_eq!(name.as_deref(), Some("HV01"));
        assert_eq!(
            p.exclusion_extension,
            ExclusionList::Redacted("N/A: Must be and administrator to view exclusions".into())
        );
        assert!(matches!(&p.exclusion_path, ExclusionList::Redacted(m) if m.contains("shortened")));
        assert_eq!(
            p.exclusion_process,
            items(&["Vmms.exe", "Vmwp.exe", "Vmsp.exe"])
        );
        assert_eq!(p.disable_auto_exclusions, Some(true));
    }

    #[test]
    fn json_forms() {
        let t = r#"[{"ExclusionPath":["C:\\ClusterStorage","D:\\VMs"],"ExclusionExtension":".vhdx","ExclusionProcess":null,"DisableAutoExclusions":1,"PSComputerName":"HV02"},
{"ExclusionPath":["N/A: Must be and administrator to view exclusions"],"DisableAutoExclusions":false,"PSComputerName":"HV03"}]"#;
        assert!(detect(t));
        let got = prefs(parse(&Text::new("x.json", t)).unwrap());
        assert_eq!(got[0].0.as_deref(), Some("HV02"));
        assert_eq!(
            got[0].1.exclusion_path,
            items(&["C:\\ClusterStorage", "D:\\VMs"])
        );
        assert_eq!(got[0].1.exclusion_extension, items(&[".vhdx"]));
        assert_eq!(got[0].1.exclusion_process, items(&[]));
        assert_eq!(got[0].1.disable_auto_exclusions, Some(true));
        assert_eq!(got[1].0.as_deref(), Some("HV03"));
        assert!(matches!(
            got[1].1.exclusion_path,
            ExclusionList::Redacted(_)
        ));
        // Not selected in the capture: unknown, not empty.
        assert!(
            matches!(&got[1].1.exclusion_process, ExclusionList::Redacted(m) if m.contains("not in the capture"))
        );
    }

    #[test]
    fn bad_boolean_names_the_line() {
        let t = "ExclusionPath         : \nDisableAutoExclusions : Maybe\n";
        let e = parse(&Text::new("p.txt", t)).unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn not_claimed() {
        assert!(!detect("Host Name: HV01\n"));
        assert!(!detect(
            r#"{"snapshotVersion":1,"nodes":[{"defenderPreferences":{"ExclusionPath":[]}}]}"#
        ));
    }
}
