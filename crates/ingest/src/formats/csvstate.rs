//! `Get-ClusterSharedVolumeState` (FailoverClusters module, Windows Server
//! 2012 R2 and later): the list text PowerShell prints and `ConvertTo-Json`.
//!
//! ```text
//! Name                         : Cluster Disk 1
//! VolumeName                   : \\?\Volume{3ba0b8b4-6b6a-4a2b-9d6c-93a2a1d3e4f1}\
//! Node                         : HV01
//! StateInfo                    : FileSystemRedirected
//! VolumeFriendlyName           : Volume1
//! FileSystemRedirectedIOReason : IncompatibleFileSystemFilter
//! BlockRedirectedIOReason      : NotBlockRedirected
//! ```
//!
//! One record per (volume, node); every record names its node, so the file
//! belongs to the cluster ([`FileContent::CsvStates`]). JSON carries the
//! enums as numbers (`StateInfo` 0–4, reasons as flag sums such as `34`) or,
//! with `-EnumsAsStrings`/`Select-Object @{..ToString()}`, as text
//! (`IncompatibleFileSystemFilter, FileSystemReFs`). Windows Server 2012 R2's
//! first release names the fields `State` and `RedirectedIOReason`; both
//! spellings are read.
//!
//! `volume_path` keeps `VolumeFriendlyName` as printed (`Volume1`, the folder
//! under `C:\ClusterStorage`); the audit matches it against the last
//! component of fltmc's volume names.

use super::mppreference::list::{
    holds_objects, jget, json_objects, jstr, looks_like_json, records,
};
use super::{FileContent, Format, Text};
use crate::IngestError;
use lockstep_model::protection::{
    BlockRedirectReason, CsvNodeState, CsvStateInfo, FsRedirectReason,
};
use serde_json::{Map, Value};

pub static FORMAT: Format = Format {
    name: "get-clustersharedvolumestate",
    detect,
    parse,
};

const STATE_KEYS: [&str; 2] = ["StateInfo", "State"];
const FS_KEYS: [&str; 2] = ["FileSystemRedirectedIOReason", "RedirectedIOReason"];
const BLOCK_KEY: &str = "BlockRedirectedIOReason";

fn is_state_keys(has: &dyn Fn(&str) -> bool) -> bool {
    has("Node")
        && STATE_KEYS.iter().any(|k| has(k))
        && (FS_KEYS.iter().any(|k| has(k)) || has(BLOCK_KEY))
}

fn detect(text: &str) -> bool {
    text.contains("RedirectedIOReason") && holds_objects(text, is_state_keys)
}

/// `Node` is a string, or a ClusterNode object whose `Name` is the node.
fn json_node(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => jget(o, "Name").and_then(jstr),
        other => jstr(other),
    }
}

struct Raw {
    line: u32,
    name: Option<String>,
    friendly: Option<String>,
    node: Option<String>,
    state: Option<String>,
    fs: Option<String>,
    block: Option<String>,
}

fn build(text: &Text, r: Raw) -> Result<CsvNodeState, IngestError> {
    let err = |what: &str, found: Option<&str>| {
        let e = IngestError::new(&*text.path, r.line, what.to_string());
        match found {
            Some(f) => e.found(f),
            None => e,
        }
    };
    let node = r.node.clone().ok_or_else(|| err("a Node value", None))?;
    let volume = r
        .name
        .clone()
        .or_else(|| r.friendly.clone())
        .ok_or_else(|| err("a Name or VolumeFriendlyName value", None))?;
    let state_text = r.state.as_deref().unwrap_or_default();
    let state = CsvStateInfo::parse(state_text).ok_or_else(|| {
        err(
            "StateInfo Unavailable, Paused, Direct, FileSystemRedirected or BlockRedirected (or 0-4)",
            Some(state_text),
        )
    })?;
    let fs_reason = match r.fs.as_deref() {
        None => FsRedirectReason::default(),
        Some(s) => FsRedirectReason::parse(s).ok_or_else(|| {
            err(
                "FileSystemRedirectedIOReason flags such as 34 or IncompatibleFileSystemFilter",
                Some(s),
            )
        })?,
    };
    let block_reason = match r.block.as_deref() {
        None => BlockRedirectReason::default(),
        Some(s) => BlockRedirectReason::parse(s).ok_or_else(|| {
            err(
                "BlockRedirectedIOReason flags such as NoDiskConnectivity",
                Some(s),
            )
        })?,
    };
    Ok(CsvNodeState {
        volume,
        volume_path: r.friendly,
        node,
        state,
        fs_reason,
        block_reason,
        source: text.at(r.line),
    })
}

fn first_json(o: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| jget(o, k).and_then(jstr))
}

/// Records from `Get-ClusterSharedVolumeState` text or JSON.
pub fn parse_states(text: &Text) -> Result<Vec<CsvNodeState>, IngestError> {
    let mut out = Vec::new();
    if looks_like_json(&text.text) {
        let objs = json_objects(&text.text).ok_or_else(|| {
            IngestError::new(
                &*text.path,
                0,
                "a Get-ClusterSharedVolumeState ConvertTo-Json object or array",
            )
        })?;
        for o in objs {
            out.push(build(
                text,
                Raw {
                    line: 0,
                    name: first_json(&o, &["Name"]),
                    friendly: first_json(&o, &["VolumeFriendlyName"]),
                    node: jget(&o, "Node").and_then(json_node),
                    state: first_json(&o, &STATE_KEYS),
                    fs: first_json(&o, &FS_KEYS),
                    block: first_json(&o, &[BLOCK_KEY]),
                },
            )?);
        }
    } else {
        for r in records(&text.text).iter().filter(|r| r.is(is_state_keys)) {
            let first = |keys: &[&str]| keys.iter().find_map(|k| r.value(k)).map(String::from);
            out.push(build(
                text,
                Raw {
                    line: r.line(),
                    name: first(&["Name"]),
                    friendly: first(&["VolumeFriendlyName"]),
                    node: first(&["Node"]),
                    state: first(&STATE_KEYS),
                    fs: first(&FS_KEYS),
                    block: first(&[BLOCK_KEY]),
                },
            )?);
        }
    }
    if out.is_empty() {
        return Err(IngestError::new(
            &*text.path,
            0,
            "Get-ClusterSharedVolumeState records (Name, Node, StateInfo, FileSystemRedirectedIOReason)",
        ));
    }
    Ok(out)
}

fn parse(text: &Text) -> Result<FileContent, IngestError> {
    parse_states(text).map(FileContent::CsvStates)
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::util::never_panics_on_damage!(LIST);

    const LIST: &str = "\r\nName                         : Cluster Disk 1\r\nVolumeName                   : \\\\?\\Volume{3ba0b8b4-6b6a-4a2b-9d6c-93a2a1d3e4f1}\\\r\nNode                         : HV01\r\nStateInfo                    : FileSystemRedirected\r\nVolumeFriendlyName           : Volume1\r\nFileSystemRedirectedIOReason : IncompatibleFileSystemFilter, FileSystemReFs\r\nBlockRedirectedIOReason      : NotBlockRedirected\r\n\r\nName                         : Cluster Disk 1\r\nVolumeName                   : \\\\?\\Volume{3ba0b8b4-6b6a-4a2b-9d6c-93a2a1d3e4f1}\\\r\nNode                         : HV02\r\nStateInfo                    : Direct\r\nVolumeFriendlyName           : Volume1\r\nFileSystemRedirectedIOReason : NotFileSystemRedirected\r\nBlockRedirectedIOReason      : NotBlockRedirected\r\n";

    #[test]
    fn list_text() {
        assert!(detect(LIST));
        let s = parse_states(&Text::new("csv.txt", LIST)).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (
                s[0].volume.as_str(),
                s[0].volume_path.as_deref(),
                s[0].node.as_str(),
                s[0].state
            ),
            (
                "Cluster Disk 1",
                Some("Volume1"),
                "HV01",
                CsvStateInfo::FileSystemRedirected
            )
        );
        assert_eq!(s[0].fs_reason, FsRedirectReason(34));
        assert_eq!(s[0].source.line, 2);
        assert_eq!(
            (s[1].node.as_str(), s[1].state, s[1].fs_reason),
            ("HV02", CsvStateInfo::Direct, FsRedirectReason(0))
        );
    }

    #[test]
    fn json_numbers_old_names_and_node_objects() {
        let t = r#"[{"Name":"Cluster Disk 2","Node":{"Name":"HV03","State":0},"StateInfo":4,"VolumeFriendlyName":"Volume2","FileSystemRedirectedIOReason":0,"BlockRedirectedIOReason":1},
{"Name":"Cluster Disk 3","Node":"HV01","State":"FileSystemRedirected","RedirectedIOReason":"UserRequest"}]"#;
        assert!(detect(t));
        let s = parse_states(&Text::new("csv.json", t)).unwrap();
        assert_eq!(
            (s[0].node.as_str(), s[0].state, s[0].block_reason),
            (
                "HV03",
                CsvStateInfo::BlockRedirected,
                BlockRedirectReason(1)
            )
        );
        assert_eq!(
            (s[1].state, s[1].fs_reason),
            (CsvStateInfo::FileSystemRedirected, FsRedirectReason(1))
        );
    }

    #[test]
    fn bad_state_names_the_record() {
        let t = "Name : Cluster Disk 1\nNode : HV01\nStateInfo : Sideways\nFileSystemRedirectedIOReason : 0\n";
        let e = parse_states(&Text::new("c.txt", t)).unwrap_err();
        assert_eq!(e.line, 1);
        assert_eq!(e.found.as_deref(), Some("Sideways"));
    }
}
