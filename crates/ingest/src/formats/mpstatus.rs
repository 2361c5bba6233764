//! `Get-MpComputerStatus` (Microsoft Defender status): list text and
//! `ConvertTo-Json`.
//!
//! ```text
//! AMEngineVersion                  : 1.1.24090.11
//! AMProductVersion                 : 4.18.24090.11
//! AMRunningMode                    : Normal
//! AMServiceEnabled                 : True
//! AntivirusEnabled                 : True
//! AntivirusSignatureVersion        : 1.419.264.0
//! IsTamperProtected                : True
//! RealTimeProtectionEnabled        : True
//! PSComputerName                   :
//! ```
//!
//! `AMRunningMode` is `Normal`, `Passive Mode`, `SxS Passive Mode` or
//! `EDR Block Mode` (learn.microsoft.com, "Microsoft Defender Antivirus
//! compatibility with other security products"). `ComputerID` is a GUID, not a
//! host name: the node is named by `PSComputerName` when present, else by the
//! file name.

use super::mppreference::computer_name;
use super::mppreference::list::{
    holds_objects, jbool, jget, json_objects, jstr, looks_like_json, object_is, parse_bool, records,
};
use super::{FileContent, Format, NodeFacts, Text};
use crate::IngestError;
use lockstep_model::protection::{DefenderStatus, NodeProtection, Section};
use lockstep_model::{SourceRef, WinVersion};
use serde_json::{Map, Value};

pub static FORMAT: Format = Format {
    name: "get-mpcomputerstatus",
    detect,
    parse,
};

const VERSION_KEYS: [&str; 3] = [
    "AMProductVersion",
    "AMEngineVersion",
    "AntivirusSignatureVersion",
];

fn is_status_keys(has: &dyn Fn(&str) -> bool) -> bool {
    has("AMProductVersion") && (has("AMEngineVersion") || has("AMRunningMode"))
}

fn detect(text: &str) -> bool {
    text.contains("AMProductVersion") && holds_objects(text, is_status_keys)
}

fn version(
    text: &Text,
    line: u32,
    key: &str,
    v: Option<&str>,
) -> Result<Option<WinVersion>, IngestError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            IngestError::new(
                &*text.path,
                line,
                format!("a four-part version for {key} such as 4.18.24090.11"),
            )
            .found(s)
        }),
    }
}

/// Status from one `Get-MpComputerStatus` JSON object. (The snapshot's
/// `defenderStatus` section is typed in the snapshot model and read in
/// `formats/snapshot/protection.rs`.)
fn status_from_json(
    text: &Text,
    o: &Map<String, Value>,
    source: SourceRef,
) -> Result<DefenderStatus, IngestError> {
    let s = |k: &str| jget(o, k).and_then(jstr);
    let b = |k: &str| jget(o, k).and_then(jbool);
    let [p, e, sig] = VERSION_KEYS;
    Ok(DefenderStatus {
        am_product_version: version(text, 0, p, s(p).as_deref())?,
        am_engine_version: version(text, 0, e, s(e).as_deref())?,
        am_running_mode: s("AMRunningMode"),
        antivirus_signature_version: version(text, 0, sig, s(sig).as_deref())?,
        real_time_protection_enabled: b("RealTimeProtectionEnabled"),
        is_tamper_protected: b("IsTamperProtected"),
        antivirus_enabled: b("AntivirusEnabled"),
        am_service_enabled: b("AMServiceEnabled"),
        source,
    })
}

fn facts(name: Option<lockstep_model::Sourced<String>>, status: DefenderStatus) -> NodeFacts {
    let src = status.source.clone();
    NodeFacts::protection(
        name,
        NodeProtection {
            defender_status: Some(Section::ok(status, src)),
            ..Default::default()
        },
    )
}

fn parse(text: &Text) -> Result<FileContent, IngestError> {
    let mut nodes = Vec::new();
    if looks_like_json(&text.text) {
        let objs = json_objects(&text.text).ok_or_else(|| {
            IngestError::new(
                &*text.path,
                0,
                "a Get-MpComputerStatus ConvertTo-Json object or array",
            )
        })?;
        for o in objs.iter().filter(|o| object_is(o, is_status_keys)) {
            let name = computer_name(
                jget(o, "PSComputerName").and_then(jstr).as_deref(),
                text.at(0),
            );
            nodes.push(facts(name, status_from_json(text, o, text.at(0))?));
        }
    } else {
        for r in records(&text.text).iter().filter(|r| r.is(is_status_keys)) {
            let line_of = |k: &str| r.get(k).map_or(r.line(), |f| f.line);
            let b = |k: &str| -> Result<Option<bool>, IngestError> {
                match r.value(k) {
                    None => Ok(None),
                    Some(v) => parse_bool(v).map(Some).ok_or_else(|| {
                        IngestError::new(&*text.path, line_of(k), format!("True or False for {k}"))
                            .found(v)
                    }),
                }
            };
            let [p, e, sig] = VERSION_KEYS;
            let status = DefenderStatus {
                am_product_version: version(text, line_of(p), p, r.value(p))?,
                am_engine_version: version(text, line_of(e), e, r.value(e))?,
                am_running_mode: r.value("AMRunningMode").map(String::from),
                antivirus_signature_version: version(text, line_of(sig), sig, r.value(sig))?,
                real_time_protection_enabled: b("RealTimeProtectionEnabled")?,
                is_tamper_protected: b("IsTamperProtected")?,
                antivirus_enabled: b("AntivirusEnabled")?,
                am_service_enabled: b("AMServiceEnabled")?,
                source: text.at(line_of(p)),
            };
            let name = r
                .get("PSComputerName")
                .and_then(|f| computer_name(Some(&f.value), text.at(f.line)));
            nodes.push(facts(name, status));
        }
    }
    if nodes.is_empty() {
        return Err(IngestError::new(
            &*text.path,
            0,
            "Get-MpComputerStatus output with AMProductVersion and AMEngineVersion",
        ));
    }
    Ok(FileContent::Nodes(nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::util::never_panics_on_damage!(LIST);

    const LIST: &str = "\r\n\r\nAMEngineVersion                  : 1.1.24090.11\r\nAMProductVersion                 : 4.18.24090.11\r\nAMRunningMode                    : SxS Passive Mode\r\nAMServiceEnabled                 : True\r\nAntivirusEnabled                 : True\r\nAntivirusSignatureVersion        : 1.419.264.0\r\nComputerID                       : 5F4F7B3E-8A1C-4C7E-9C5B-2E3A1F0D9B11\r\nIsTamperProtected                : False\r\nRealTimeProtectionEnabled        : False\r\nPSComputerName                   :\r\n";

    fn statuses(c: FileContent) -> Vec<(Option<String>, DefenderStatus)> {
        let FileContent::Nodes(n) = c else {
            panic!("nodes")
        };
        n.into_iter()
            .map(|f| {
                (
                    f.name.map(|s| s.value),
                    f.node.protection.defender_status.unwrap().data.unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn list_text() {
        assert!(detect(LIST));
        let got = statuses(parse(&Text::new("s.txt", LIST)).unwrap());
        let (name, s) = &got[0];
        assert_eq!(name, &None);
        assert_eq!(s.am_product_version.unwrap().to_string(), "4.18.24090.11");
        assert_eq!(s.am_engine_version.unwrap().to_string(), "1.1.24090.11");
        assert_eq!(
            s.antivirus_signature_version.unwrap().to_string(),
            "1.419.264.0"
        );
        assert_eq!(s.am_running_mode.as_deref(), Some("SxS Passive Mode"));
        assert!(s.is_passive());
        assert_eq!(
            (
                s.real_time_protection_enabled,
                s.is_tamper_protected,
                s.antivirus_enabled,
                s.am_service_enabled
            ),
            (Some(false), Some(false), Some(true), Some(true))
        );
        assert_eq!(s.source.line, 4);
    }

    #[test]
    fn json() {
        let t = r#"{"AMEngineVersion":"1.1.18800.4","AMProductVersion":"4.18.2111.5","AMRunningMode":"Normal","RealTimeProtectionEnabled":true,"IsTamperProtected":false,"PSComputerName":"HV02"}"#;
        assert!(detect(t));
        let got = statuses(parse(&Text::new("s.json", t)).unwrap());
        assert_eq!(got[0].0.as_deref(), Some("HV02"));
        assert_eq!(
            got[0].1.am_product_version,
            Some(WinVersion::new(4, 18, 2111, 5))
        );
        assert_eq!(got[0].1.real_time_protection_enabled, Some(true));
        assert!(!got[0].1.is_passive());
    }

    #[test]
    fn platform_folder_spelling() {
        // The platform folder spells 4.18.2111.5 as 4.18.2111-5.0.
        let t = "AMEngineVersion  : 1.1.18800.4\nAMProductVersion : 4.18.2111-5.0\nAMRunningMode    : EDR Block Mode\n";
        let got = statuses(parse(&Text::new("s.txt", t)).unwrap());
        assert_eq!(
            got[0].1.am_product_version,
            Some(WinVersion::new(4, 18, 2111, 5))
        );
        assert!(!got[0].1.is_passive());
    }

    #[test]
    fn bad_version_names_the_line() {
        let t = "AMEngineVersion  : 1.1.1.1\nAMProductVersion : four\n";
        let e = parse(&Text::new("s.txt", t)).unwrap_err();
        assert_eq!(e.line, 2);
    }
}
