//! The reference snapshots under tests/fixtures/snapshot/: they validate
//! against the published schema, round-trip through the Rust types without
//! losing a field, exercise every field the schema defines, and ingest into
//! the model with exactly the facts they carry.
//! Every other snapshot kept in the repository (under tests/fixtures and
//! tests/hostile) validates and reads into the model too.

use lockstep_ingest::formats::snapshot::FORMAT;
use lockstep_ingest::{FileContent, Text};
use lockstep_model::protection::{CsvStateInfo, ExclusionList, FsRedirectReason, SectionStatus};
use lockstep_model::snapshot::Snapshot;
use lockstep_model::{Cluster, Node};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const HVCLU22_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/snapshot/hvclu22.json"
);
const HVCLU22: &str = include_str!("fixtures/snapshot/hvclu22.json");
const TWO_NODE: &str = include_str!("fixtures/snapshot/two-node-no-witness.json");
const SCHEMA: &str = include_str!("../schema/snapshot-v1.schema.json");

fn ingest(path: &str, text: &str) -> Vec<Cluster> {
    assert!((FORMAT.detect)(text), "{path} not detected as a snapshot");
    match lockstep_ingest::formats::detect(text).map(|f| f.name) {
        Some("lockstep-snapshot") => {}
        other => panic!("{path}: format detection picked {other:?}"),
    }
    match (FORMAT.parse)(&Text::new(path, text)) {
        Ok(FileContent::Clusters(c)) => c,
        Ok(_) => panic!("{path}: not clusters"),
        Err(e) => panic!("{e}"),
    }
}

fn node<'c>(c: &'c Cluster, name: &str) -> &'c Node {
    c.nodes
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

fn kbs(n: &Node) -> Vec<String> {
    n.updates.iter().map(|u| u.kb.to_string()).collect()
}

/// 1-based line of the first occurrence of `needle` at or after line `after`.
fn line_of(text: &str, needle: &str, after: u32) -> u32 {
    text.lines()
        .enumerate()
        .skip(after.saturating_sub(1) as usize)
        .find(|(_, l)| l.contains(needle))
        .map(|(i, _)| i as u32 + 1)
        .unwrap_or_else(|| panic!("{needle} not in text"))
}

#[test]
fn reference_snapshots_validate_against_the_schema() {
    for (name, text) in [("hvclu22", HVCLU22), ("two-node-no-witness", TWO_NODE)] {
        let value: Value = serde_json::from_str(text).expect("fixture is JSON");
        let problems = lockstep_collect::validate(&value);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
}

#[test]
fn shipped_schema_is_the_embedded_one() {
    assert_eq!(SCHEMA, lockstep_collect::SCHEMA_JSON);
}

/// `null` and absent are the same for the comparison (serde skips `None`
/// messages/data; the collector writes `null` for unknown optional values).
fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), strip_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn rust_types_carry_every_field_of_the_reference_snapshots() {
    for (name, text) in [("hvclu22", HVCLU22), ("two-node-no-witness", TWO_NODE)] {
        let original: Value = serde_json::from_str(text).expect("JSON");
        let typed: Snapshot =
            serde_json::from_str(text).expect("deserializes into model::snapshot");
        let back = serde_json::to_value(&typed).expect("serializes");
        assert_eq!(
            strip_nulls(&back),
            strip_nulls(&original),
            "{name}: a field was lost or renamed"
        );
        // What the types write is itself a valid snapshot.
        assert_eq!(lockstep_collect::validate(&back), vec![], "{name}");
    }
}

/// `.json` files under `dir` (recursively), sorted.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

#[test]
fn every_snapshot_in_the_repository_validates_and_reads_into_the_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    json_files(&root.join("tests/fixtures"), &mut files);
    json_files(&root.join("tests/hostile"), &mut files);
    let mut snapshots = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).expect("read");
        let name = path
            .strip_prefix(root)
            .expect("under the root")
            .display()
            .to_string();
        let text = lockstep_ingest::decode::decode(&bytes, &name).expect("decodes");
        if !(FORMAT.detect)(&text) {
            continue;
        }
        let value: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(lockstep_collect::validate(&value), vec![], "{name}");
        let typed: Snapshot = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} does not read into the model: {e}"));
        let back = serde_json::to_value(&typed).expect("serializes");
        assert_eq!(
            strip_nulls(&back),
            strip_nulls(&value),
            "{name}: a field was lost"
        );
        snapshots.push(name);
    }
    assert_eq!(
        snapshots,
        [
            "tests/fixtures/snapshot/hvclu22.json",
            "tests/fixtures/snapshot/two-node-no-witness.json",
            "tests/hostile/snapshot.json",
        ]
    );
}

fn schema_property_names(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Object(props)) = m.get("properties") {
                out.extend(props.keys().cloned());
            }
            m.values().for_each(|x| schema_property_names(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| schema_property_names(x, out)),
        _ => {}
    }
}

fn document_keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if !x.is_null() {
                    out.insert(k.clone());
                }
                document_keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| document_keys(x, out)),
        _ => {}
    }
}

#[test]
fn reference_snapshot_exercises_every_schema_field() {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let mut defined = BTreeSet::new();
    schema_property_names(&schema, &mut defined);
    let doc: Value = serde_json::from_str(HVCLU22).expect("JSON");
    let mut used = BTreeSet::new();
    document_keys(&doc, &mut used);
    let unused: Vec<&String> = defined.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "schema fields the reference snapshot never fills: {unused:?}"
    );
    let undefined: Vec<&String> = used.difference(&defined).collect();
    assert!(
        undefined.is_empty(),
        "fixture fields the schema does not define: {undefined:?}"
    );
}

#[test]
fn hvclu22_ingests_with_exact_facts() {
    let clusters = ingest(HVCLU22_PATH, HVCLU22);
    assert_eq!(clusters.len(), 1);
    let c = &clusters[0];
    assert_eq!(c.name, "HVCLU22");
    assert_eq!(
        c.source.as_ref().map(|s| s.line),
        Some(line_of(HVCLU22, "\"name\":  \"HVCLU22\"", 1))
    );
    let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV22-01", "HV22-02", "HV22-03"]);

    let versions: Vec<String> = c
        .nodes
        .iter()
        .map(|n| {
            n.os.version
                .as_ref()
                .map(|v| v.value.to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        versions,
        ["10.0.20348.2159", "10.0.20348.2159", "10.0.20348.2113"]
    );
    let ubrs: Vec<Option<u32>> = c.nodes.iter().map(|n| n.os.ubr()).collect();
    assert_eq!(ubrs, [Some(2159), Some(2159), Some(2113)]);

    // Get-HotFix first, then what the update history shows as installed
    // (replayed oldest → newest; HV22-03's failed KB5033118 does not count).
    let current = [
        "KB5032336",
        "KB5012170",
        "KB5033118",
        "KB5032198",
        "KB890830",
        "KB2267602",
    ];
    assert_eq!(kbs(node(c, "HV22-01")), current);
    assert_eq!(kbs(node(c, "HV22-02")), current);
    assert_eq!(
        kbs(node(c, "HV22-03")),
        [
            "KB5032336",
            "KB5012170",
            "KB5032198",
            "KB890830",
            "KB2267602"
        ]
    );
    let n1 = node(c, "HV22-01");
    let cu = n1
        .updates
        .iter()
        .find(|u| u.kb.to_string() == "KB5033118")
        .expect("KB5033118");
    assert_eq!(cu.description.as_deref(), Some("Security Update"));
    assert_eq!(cu.installed_on, Some(jiff::civil::date(2023, 12, 13)));
    assert_eq!(cu.installed_by.as_deref(), Some("NT AUTHORITY\\SYSTEM"));
    let n1_line = line_of(HVCLU22, "\"name\":  \"HV22-01\"", 1);
    assert_eq!(n1.name_source.as_ref().map(|s| s.line), Some(n1_line));
    assert_eq!(
        cu.source.line,
        line_of(HVCLU22, "\"hotFixId\":  \"KB5033118\"", n1_line)
    );
    assert_eq!(&*cu.source.file, HVCLU22_PATH);
    let from_history = n1
        .updates
        .iter()
        .find(|u| u.kb.to_string() == "KB5032198")
        .expect("KB5032198");
    assert_eq!(
        from_history.description.as_deref(),
        Some(
            "2023-11 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5032198)"
        )
    );
    assert_eq!(
        from_history.installed_on,
        Some(jiff::civil::date(2023, 11, 15))
    );
    assert!(
        c.nodes
            .iter()
            .all(|n| n.other_entries.is_empty() && n.unread.is_empty())
    );

    for n in &c.nodes {
        assert_eq!(n.cluster.as_deref(), Some("HVCLU22"));
        assert_eq!(
            n.os.caption.as_ref().map(|s| s.value.as_str()),
            Some("Microsoft Windows Server 2022 Datacenter")
        );
        assert_eq!(
            n.os.architecture.as_ref().map(|s| s.value.as_str()),
            Some("x64")
        );
        assert_eq!(n.os.service_pack.as_deref(), Some("21H2"));
        assert_eq!(
            n.domain.as_ref().map(|s| s.value.as_str()),
            Some("contoso.local")
        );
        let st = n.state.as_ref().expect("node state");
        assert_eq!(
            (
                st.state.as_str(),
                st.node_weight,
                st.dynamic_weight,
                st.drain_status.as_deref()
            ),
            ("Up", Some(1), Some(1), Some("NotInitiated"))
        );
        assert_eq!(n.memory.map(|m| m.total_bytes), Some(267_946_284 * 1024));
    }
    assert_eq!(
        n1.boot_time.as_ref().map(|b| b.value.as_str()),
        Some("2023-12-13T02:14:37.4955210Z")
    );
    assert_eq!(
        node(c, "HV22-03").pending_reboot.map(|p| p.any()),
        Some(true)
    );
    assert_eq!(n1.pending_reboot.map(|p| p.any()), Some(false));

    let vms = |n: &str| -> Vec<(String, String, u64)> {
        node(c, n)
            .vms
            .as_ref()
            .expect("vms")
            .iter()
            .map(|v| (v.name.clone(), v.state.clone(), v.memory_assigned_bytes))
            .collect()
    };
    const GB: u64 = 1 << 30;
    assert_eq!(
        vms("HV22-01"),
        [
            ("SQL01".into(), "Running".into(), 32 * GB),
            ("DC03".into(), "Running".into(), 4 * GB)
        ]
    );
    assert_eq!(
        vms("HV22-03"),
        [
            ("WEB01".into(), "Running".into(), 8 * GB),
            ("WEB02".into(), "Running".into(), 8 * GB),
            ("TEST01".into(), "Off".into(), 0)
        ]
    );
    let sql = &node(c, "HV22-01").vms.as_ref().expect("vms")[0];
    assert_eq!(
        sql.hard_drives,
        [
            "C:\\ClusterStorage\\Volume1\\SQL01\\Virtual Hard Disks\\SQL01-OS.vhdx",
            "C:\\ClusterStorage\\Volume1\\SQL01\\Virtual Hard Disks\\SQL01-Data.vhdx",
            "C:\\ClusterStorage\\Volume1\\SQL01\\Virtual Hard Disks\\SQL01-Log.vhdx"
        ]
    );
    let pkgs = node(c, "HV22-03").packages.as_ref().expect("packages");
    assert!(pkgs.iter().any(|p| p.name
        == "Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2113.1.7"
        && p.state == "Installed"));
}

#[test]
fn hvclu22_cluster_state_and_csvs() {
    let c = &ingest(HVCLU22_PATH, HVCLU22)[0];
    let st = c.state.as_ref().expect("cluster state");
    assert_eq!(st.quorum_type.as_deref(), Some("NodeAndFileShareMajority"));
    let w = st.witness.as_ref().expect("witness");
    assert_eq!(
        (w.kind.as_str(), w.resource.as_deref(), w.path.as_deref()),
        (
            "FileShareWitness",
            Some("File Share Witness"),
            Some("\\\\FS01.contoso.local\\Witness$\\HVCLU22")
        )
    );
    let groups = st.groups.as_ref().expect("groups");
    assert_eq!(groups.len(), 9);
    let test01 = groups.iter().find(|g| g.name == "TEST01").expect("TEST01");
    assert_eq!(
        (test01.state.as_str(), test01.owner_node.as_deref()),
        ("Offline", Some("HV22-03"))
    );
    let csvs: Vec<(String, Option<String>, Option<String>)> = st
        .csvs
        .as_ref()
        .expect("csvs")
        .iter()
        .map(|v| (v.name.clone(), v.path.clone(), v.file_system.clone()))
        .collect();
    assert_eq!(
        csvs,
        [
            (
                "Cluster Disk 1".into(),
                Some("C:\\ClusterStorage\\Volume1".into()),
                Some("CSVFS_NTFS".into())
            ),
            (
                "Cluster Disk 2".into(),
                Some("C:\\ClusterStorage\\Volume2".into()),
                Some("CSVFS_ReFS".into())
            ),
        ]
    );
    assert_eq!(c.protection.compatible_filters, Some(vec![]));
    assert_eq!(c.protection.incompatible_filters, Some(vec![]));
    let states = c.protection.csv_states.as_ref().expect("csv states");
    assert_eq!(states.status, SectionStatus::Ok);
    let records = states.data().expect("records");
    let got: Vec<(&str, &str, CsvStateInfo, FsRedirectReason)> = records
        .iter()
        .map(|r| (r.volume.as_str(), r.node.as_str(), r.state, r.fs_reason))
        .collect();
    let refs = FsRedirectReason(FsRedirectReason::FileSystemReFs);
    let none = FsRedirectReason(0);
    assert_eq!(
        got,
        [
            ("Cluster Disk 1", "HV22-01", CsvStateInfo::Direct, none),
            ("Cluster Disk 1", "HV22-02", CsvStateInfo::Direct, none),
            ("Cluster Disk 1", "HV22-03", CsvStateInfo::Direct, none),
            (
                "Cluster Disk 2",
                "HV22-01",
                CsvStateInfo::FileSystemRedirected,
                refs
            ),
            (
                "Cluster Disk 2",
                "HV22-02",
                CsvStateInfo::FileSystemRedirected,
                refs
            ),
            (
                "Cluster Disk 2",
                "HV22-03",
                CsvStateInfo::FileSystemRedirected,
                refs
            ),
        ]
    );
    assert!(records.iter().all(|r| r.block_reason.0 == 0));
    assert_eq!(
        records[3].volume_path.as_deref(),
        Some("C:\\ClusterStorage\\Volume2")
    );
}

#[test]
fn hvclu22_protection_sections() {
    let c = &ingest(HVCLU22_PATH, HVCLU22)[0];
    let prefs = |n: &str| {
        node(c, n)
            .protection
            .defender_preferences
            .clone()
            .expect("prefs section")
    };

    let denied = prefs("HV22-02");
    assert_eq!(denied.status, SectionStatus::AccessDenied);
    assert_eq!(denied.message.as_deref(), Some("Access denied"));
    assert!(denied.data.is_none());

    for n in ["HV22-01", "HV22-03"] {
        let p = prefs(n);
        assert_eq!(p.status, SectionStatus::Ok, "{n}");
        let d = p.data.expect("data");
        assert_eq!(
            d.exclusion_path,
            ExclusionList::Items(
                [
                    "C:\\ClusterStorage",
                    "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V",
                    "C:\\ProgramData\\Microsoft\\Windows\\Hyper-V\\Snapshots",
                    "C:\\Users\\Public\\Documents\\Hyper-V\\Virtual Hard Disks",
                    "C:\\Windows\\Cluster",
                ]
                .map(String::from)
                .to_vec()
            )
        );
        assert_eq!(d.exclusion_extension.items().map(<[String]>::len), Some(15));
        assert_eq!(
            d.exclusion_process,
            ExclusionList::Items(
                [
                    "C:\\Windows\\Cluster\\clussvc.exe",
                    "C:\\Windows\\Cluster\\rhs.exe",
                    "C:\\Windows\\System32\\Vmcompute.exe",
                    "C:\\Windows\\System32\\Vmms.exe",
                    "C:\\Windows\\System32\\Vmsp.exe",
                    "C:\\Windows\\System32\\Vmwp.exe",
                ]
                .map(String::from)
                .to_vec()
            )
        );
        assert_eq!(
            (d.disable_auto_exclusions, d.disable_realtime_monitoring),
            (Some(false), Some(false))
        );
    }

    let status = node(c, "HV22-03")
        .protection
        .defender_status
        .clone()
        .expect("status");
    let s = status.data.expect("data");
    assert_eq!(
        s.am_product_version.map(|v| v.to_string()).as_deref(),
        Some("4.18.23100.2009")
    );
    assert_eq!(
        s.am_engine_version.map(|v| v.to_string()).as_deref(),
        Some("1.1.23110.2")
    );
    assert_eq!(
        s.antivirus_signature_version
            .map(|v| v.to_string())
            .as_deref(),
        Some("1.403.1020.0")
    );
    assert!(!s.is_passive());

    let filters = node(c, "HV22-01")
        .protection
        .filters
        .clone()
        .expect("filters");
    assert_eq!(filters.status, SectionStatus::Ok);
    let f: Vec<(String, Option<u32>, Option<String>)> = filters
        .data
        .expect("data")
        .into_iter()
        .map(|f| (f.name, f.instances, f.altitude))
        .collect();
    assert_eq!(f.len(), 12);
    assert!(
        f.contains(&("WdFilter".into(), Some(5), Some("328010".into()))),
        "{f:?}"
    );
    assert!(
        f.contains(&("CsvFlt".into(), Some(2), Some("404800".into()))),
        "{f:?}"
    );
    let instances = node(c, "HV22-01")
        .protection
        .filter_instances
        .clone()
        .expect("instances");
    let wd: Vec<Option<String>> = instances
        .data
        .expect("data")
        .into_iter()
        .filter(|i| i.filter == "WdFilter")
        .map(|i| i.volume)
        .collect();
    assert_eq!(
        wd,
        [
            Some("C:".into()),
            Some("\\Device\\Mup".into()),
            Some("\\Device\\HarddiskVolume1".into()),
            Some("C:\\ClusterStorage\\Volume1".into()),
            Some("C:\\ClusterStorage\\Volume2".into())
        ]
    );
    let products = node(c, "HV22-02")
        .protection
        .products
        .clone()
        .expect("products");
    let names: Vec<String> = products
        .data
        .expect("data")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"Dell OpenManage Server Administrator".to_string()));
}

#[test]
fn two_node_cluster_has_no_witness() {
    let c = &ingest("two-node-no-witness.json", TWO_NODE)[0];
    assert_eq!(c.name, "HVCLU2N");
    let st = c.state.as_ref().expect("state");
    assert_eq!(st.quorum_type.as_deref(), Some("NodeMajority"));
    assert_eq!(st.witness, None);
    let weights: Vec<(String, Option<u32>)> = c
        .nodes
        .iter()
        .map(|n| {
            (
                n.name.clone(),
                n.state.as_ref().and_then(|s| s.dynamic_weight),
            )
        })
        .collect();
    assert_eq!(
        weights,
        [("HV2N-01".into(), Some(1)), ("HV2N-02".into(), Some(0))]
    );
    assert_eq!(
        kbs(node(c, "HV2N-02")),
        [
            "KB5032336",
            "KB5012170",
            "KB5032198",
            "KB890830",
            "KB2267602"
        ]
    );
    assert_eq!(node(c, "HV2N-02").os.ubr(), Some(2113));
}

#[test]
fn utf16_snapshot_from_powershell_redirection_ingests_the_same() {
    // Windows PowerShell 5.1's `>` writes UTF-16LE with a BOM.
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(HVCLU22.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let text = lockstep_ingest::decode::decode(&bytes, "hv16.json").expect("decodes");
    let c = &ingest("hv16.json", &text)[0];
    assert_eq!(
        kbs(node(c, "HV22-03")),
        [
            "KB5032336",
            "KB5012170",
            "KB5032198",
            "KB890830",
            "KB2267602"
        ]
    );
}

#[test]
fn unelevated_defender_lists_become_redacted() {
    let hidden = "{N/A: Must be and administrator to view exclusions}";
    let mut doc: Value = serde_json::from_str(HVCLU22).expect("JSON");
    let data = &mut doc["clusters"][0]["nodes"][0]["defenderPreferences"]["data"];
    data["ExclusionPath"] = Value::String(hidden.into());
    data["ExclusionExtension"] = Value::Null;
    let text = serde_json::to_string_pretty(&doc).expect("JSON");
    assert_eq!(lockstep_collect::validate(&doc), vec![]);
    let c = &ingest("unelevated.json", &text)[0];
    let d = node(c, "HV22-01")
        .protection
        .defender_preferences
        .clone()
        .and_then(|s| s.data)
        .expect("data");
    assert_eq!(d.exclusion_path, ExclusionList::Redacted(hidden.into()));
    assert_eq!(d.exclusion_extension, ExclusionList::Items(vec![]));
}

#[test]
fn unreachable_node_is_unknown_not_empty() {
    let mut doc: Value = serde_json::from_str(HVCLU22).expect("JSON");
    let n = &mut doc["clusters"][0]["nodes"][2];
    let failure = serde_json::json!({
        "status": "error",
        "message": "Connecting to remote server HV22-03 failed with the following error message : WinRM cannot complete the operation."
    });
    for key in [
        "os",
        "hotfixes",
        "updateHistory",
        "pendingReboot",
        "defenderPreferences",
        "defenderStatus",
        "fltmcFilters",
        "fltmcInstances",
        "installedProducts",
        "vms",
        "memory",
        "packages",
    ] {
        n[key] = failure.clone();
    }
    assert_eq!(lockstep_collect::validate(&doc), vec![]);
    let text = serde_json::to_string_pretty(&doc).expect("JSON");
    let c = &ingest("down.json", &text)[0];
    let n = node(c, "HV22-03");
    assert!(n.updates.is_empty() && n.os.version.is_none());
    let unread: Vec<&str> = n.unread.iter().map(|u| u.section.as_str()).collect();
    assert_eq!(
        unread,
        [
            "os",
            "hotfixes",
            "updateHistory",
            "packages",
            "pendingReboot",
            "memory",
            "vms"
        ]
    );
    assert!(n.unread.iter().all(|u| u.status == SectionStatus::Error));
    assert_eq!(
        n.protection.defender_preferences.as_ref().map(|s| s.status),
        Some(SectionStatus::Error)
    );
}
