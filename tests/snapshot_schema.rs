//! The snapshot model (`lockstep_model::snapshot`) and its published schema
//! (`schema/snapshot-v1.schema.json`) checked against each other, so that
//! neither gains a field the other lacks:
//! * [`full`] is a snapshot with every optional field filled (a struct
//!   literal: a field added to the model does not compile until it is given
//!   a value here), each section once read and once failed;
//! * written out, it validates against the schema and reads back equal;
//! * walked beside the schema, every object definition's `properties` are
//!   exactly the keys the model writes in that place;
//! * every snapshot kept in the repository validates and reads into the
//!   model (`tests/snapshot_fixtures.rs`).

use lockstep_model::snapshot::{
    Collector, CsvState, Group, HistoryEntry, Hotfix, ListOrText, Memory, MpComputerStatus,
    MpPreference, Os, Package, PendingReboot, Product, Quorum, SCHEMA_ID, Section, SharedVolume,
    Snapshot, SnapshotCluster, SnapshotNode, Status, Vm, WitnessInfo,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const SCHEMA: &str = include_str!("../schema/snapshot-v1.schema.json");

fn ok<T>(data: T) -> Section<T> {
    Section {
        status: Status::Ok,
        message: None,
        data: Some(data),
    }
}

fn failed<T>(status: Status, message: &str) -> Section<T> {
    Section {
        status,
        message: Some(message.into()),
        data: None,
    }
}

fn s(text: &str) -> Option<String> {
    Some(text.into())
}

const DENIED: &str = "Access is denied.";
const WINRM: &str = "Connecting to remote server HV22-02 failed with the following error message : WinRM cannot complete the operation.";

/// HV22-01: every section read, every optional field filled.
fn node_read() -> SnapshotNode<'static> {
    SnapshotNode {
        name: "HV22-01".into(),
        state: s("Up"),
        node_weight: Some(1),
        dynamic_weight: Some(1),
        drain_status: s("NotInitiated"),
        os: ok(Os {
            caption: "Microsoft Windows Server 2022 Datacenter".into(),
            version: "10.0.20348".into(),
            build: 20348,
            ubr: Some(2159),
            display_version: s("21H2"),
            installation_type: s("Server"),
            architecture: s("AMD64"),
            domain: s("contoso.local"),
            last_boot_time: s("2023-12-13T02:14:37.4955210Z"),
        }),
        hotfixes: ok(vec![Hotfix {
            hot_fix_id: "KB5033118".into(),
            description: Some("Security Update".into()),
            installed_on: Some("2023-12-13".into()),
            installed_by: Some("NT AUTHORITY\\SYSTEM".into()),
        }]),
        packages: Some(ok(vec![Package {
            package_name: "Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2159.1.7".into(),
            package_state: "Installed".into(),
            release_type: s("Update"),
            install_time: s("2023-12-13T02:21:07.0000000Z"),
        }])),
        update_history: Some(ok(vec![HistoryEntry {
            title: "2023-12 Cumulative Update for Microsoft server operating system version 21H2 for x64-based Systems (KB5033118)".into(),
            date: s("2023-12-13T02:05:11.0000000Z"),
            operation: "Installation".into(),
            result_code: "Succeeded".into(),
            update_id: s("0fd1b8a6-0d8f-4c6b-9b4e-5c2d1a7e3f10"),
        }])),
        pending_reboot: Some(ok(PendingReboot {
            cbs_reboot_pending: false,
            windows_update_reboot_required: true,
            pending_file_rename_operations: false,
        })),
        defender_preferences: Some(ok(MpPreference {
            exclusion_path: Some(ListOrText::List(vec![
                "C:\\ClusterStorage".into(),
                "C:\\Windows\\Cluster".into(),
            ])),
            exclusion_extension: Some(ListOrText::List(vec![".vhdx".into(), ".avhdx".into()])),
            // What Defender prints instead of a list to an unelevated session.
            exclusion_process: Some(ListOrText::Text(
                "{N/A: Must be and administrator to view exclusions}".into(),
            )),
            disable_auto_exclusions: Some(false),
            disable_realtime_monitoring: Some(false),
        })),
        defender_status: Some(ok(MpComputerStatus {
            am_product_version: s("4.18.23110.3"),
            am_engine_version: s("1.1.23110.2"),
            am_running_mode: s("Normal"),
            antivirus_signature_version: s("1.403.1020.0"),
            real_time_protection_enabled: Some(true),
            is_tamper_protected: Some(false),
            antivirus_enabled: Some(true),
            am_service_enabled: Some(true),
        })),
        fltmc_filters: Some(ok("\r\nFilter Name                     Num Instances    Altitude    Frame\r\n------------------------------  -------------  ------------  -----\r\nWdFilter                               5        328010         0\r\n".into())),
        fltmc_instances: Some(ok("\r\nFilter                Volume Name                              Altitude        Instance Name       Frame   SprtFtrs  VlStatus\r\n--------------------  -------------------------------------  ------------  ----------------------  -----   --------  --------\r\nWdFilter              C:                                        328010     WdFilter Instance         0     0000000f\r\n".into())),
        installed_products: Some(ok(vec![Product {
            name: "Dell OpenManage Server Administrator".into(),
            vendor: s("Dell Inc."),
            version: s("11.0.0.0"),
        }])),
        vms: Some(ok(vec![Vm {
            name: "SQL01".into(),
            state: "Running".into(),
            memory_assigned_bytes: 34_359_738_368,
            memory_startup_bytes: Some(34_359_738_368),
            configuration_location: s("C:\\ClusterStorage\\Volume1\\SQL01"),
            snapshot_file_location: s("C:\\ClusterStorage\\Volume1\\SQL01"),
            smart_paging_file_path: s("C:\\ClusterStorage\\Volume1\\SQL01"),
            hard_drives: vec![
                "C:\\ClusterStorage\\Volume1\\SQL01\\Virtual Hard Disks\\SQL01-OS.vhdx".into(),
            ],
        }])),
        memory: Some(ok(Memory {
            total_physical_bytes: 274_376_994_816,
            free_physical_bytes: Some(193_846_800_384),
        })),
    }
}

/// HV22-02: every section failed, so each carries its `message`.
fn node_failed() -> SnapshotNode<'static> {
    SnapshotNode {
        os: failed(Status::Error, WINRM),
        hotfixes: failed(Status::Error, WINRM),
        packages: Some(failed(Status::Error, WINRM)),
        update_history: Some(failed(Status::Error, WINRM)),
        pending_reboot: Some(failed(Status::Error, WINRM)),
        defender_preferences: Some(failed(Status::AccessDenied, DENIED)),
        defender_status: Some(failed(Status::AccessDenied, DENIED)),
        fltmc_filters: Some(failed(Status::AccessDenied, DENIED)),
        fltmc_instances: Some(failed(Status::AccessDenied, DENIED)),
        installed_products: Some(failed(Status::Error, WINRM)),
        vms: Some(failed(
            Status::NotAvailable,
            "The term 'Get-VM' is not recognized as the name of a cmdlet, function, script file, or operable program.",
        )),
        memory: Some(failed(Status::Error, WINRM)),
        name: "HV22-02".into(),
        state: s("Down"),
        node_weight: Some(1),
        dynamic_weight: Some(0),
        drain_status: s("NotInitiated"),
    }
}

/// A snapshot with every optional field of the model filled and every
/// section both read and failed: two clusters, the second one's cluster
/// sections failed.
fn full() -> Snapshot<'static> {
    let volume = |n: u32, state| SharedVolume {
        name: format!("Cluster Disk {n}"),
        path: Some(format!("C:\\ClusterStorage\\Volume{n}")),
        owner_node: s("HV22-01"),
        volume_id: s("\\\\?\\Volume{a04c7e19-3b6d-4e52-8f0a-6c1d9b2e7f34}\\"),
        file_system: s("CSVFS_ReFS"),
        state: Some(state),
    };
    let read = SnapshotCluster {
        name: "HVCLU22".into(),
        domain: s("contoso.local"),
        quorum: Some(ok(Quorum {
            quorum_type: "NodeAndFileShareMajority".into(),
            witness: Some(WitnessInfo {
                kind: "FileShareWitness".into(),
                resource: s("File Share Witness"),
                path: s("\\\\FS01.contoso.local\\Witness$\\HVCLU22"),
            }),
        })),
        shared_volume_compatible_filters: Some(vec!["CsvFlt".into()]),
        shared_volume_incompatible_filters: Some(vec!["SomeVendorFlt".into()]),
        groups: Some(ok(vec![Group {
            name: "SQL01".into(),
            state: "Online".into(),
            owner_node: s("HV22-01"),
            group_type: s("VirtualMachine"),
        }])),
        shared_volumes: Some(ok(vec![
            volume(
                1,
                ok(vec![CsvState {
                    node: "HV22-01".into(),
                    state_info: "FileSystemRedirected".into(),
                    file_system_redirected_io_reason: "FileSystemReFs".into(),
                    block_redirected_io_reason: "NotBlockRedirected".into(),
                }]),
            ),
            volume(2, failed(Status::Error, WINRM)),
        ])),
        nodes: vec![node_read(), node_failed()],
    };
    let unread = SnapshotCluster {
        name: "HVCLU19".into(),
        quorum: Some(failed(Status::AccessDenied, DENIED)),
        groups: Some(failed(Status::AccessDenied, DENIED)),
        shared_volumes: Some(failed(Status::AccessDenied, DENIED)),
        nodes: vec![node_read()],
        ..read.clone()
    };
    Snapshot {
        schema: SCHEMA_ID.into(),
        collected_at: "2023-12-14T09:30:00.0000000Z".into(),
        collector: Collector {
            version: "1.0.0".into(),
            host: "HV22-01".into(),
            user: s("CONTOSO\\adm-jdoe"),
            elevated: true,
            powershell_version: s("5.1.20348.2031"),
        },
        clusters: vec![read, unread],
    }
}

/// JSON pointers of the `null`s in `v`.
fn nulls(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Null => out.push(at.to_string()),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| nulls(x, &format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| nulls(x, &format!("{at}/{i}"), out)),
        _ => {}
    }
}

#[test]
fn full_snapshot_fills_every_field_validates_and_reads_back() {
    let full = full();
    let value = serde_json::to_value(&full).expect("serializes");
    let mut empty = Vec::new();
    nulls(&value, "", &mut empty);
    assert_eq!(empty, Vec::<String>::new(), "fields left unfilled");
    assert_eq!(lockstep_collect::validate(&value), vec![]);
    let text = serde_json::to_string_pretty(&value).expect("JSON");
    let back: Snapshot = serde_json::from_str(&text).expect("reads into the model");
    assert_eq!(back, full);
}

/// The least the model can hold: every optional field `None`, every list
/// empty. What the model writes for it must be a valid snapshot too (the
/// collector leaves an absent section out; `null` is not a section).
fn sparse() -> Snapshot<'static> {
    Snapshot {
        schema: SCHEMA_ID.into(),
        collected_at: "2023-12-14T09:30:00Z".into(),
        collector: Collector {
            version: "1.0.0".into(),
            host: "HV01".into(),
            user: None,
            elevated: false,
            powershell_version: None,
        },
        clusters: vec![SnapshotCluster {
            name: "C".into(),
            domain: None,
            quorum: None,
            shared_volume_compatible_filters: None,
            shared_volume_incompatible_filters: None,
            groups: None,
            shared_volumes: Some(ok(vec![SharedVolume {
                name: "Cluster Disk 1".into(),
                path: None,
                owner_node: None,
                volume_id: None,
                file_system: None,
                state: None,
            }])),
            nodes: vec![SnapshotNode {
                name: "HV01".into(),
                state: None,
                node_weight: None,
                dynamic_weight: None,
                drain_status: None,
                os: ok(Os {
                    caption: "Microsoft Windows Server 2012 R2 Datacenter".into(),
                    version: "6.3.9600".into(),
                    build: 9600,
                    ubr: None,
                    display_version: None,
                    installation_type: None,
                    architecture: None,
                    domain: None,
                    last_boot_time: None,
                }),
                hotfixes: ok(vec![Hotfix {
                    hot_fix_id: "KB2919355".into(),
                    description: None,
                    installed_on: None,
                    installed_by: None,
                }]),
                packages: None,
                update_history: None,
                pending_reboot: None,
                defender_preferences: Some(ok(MpPreference {
                    exclusion_path: None,
                    exclusion_extension: None,
                    exclusion_process: None,
                    disable_auto_exclusions: None,
                    disable_realtime_monitoring: None,
                })),
                defender_status: Some(ok(MpComputerStatus {
                    am_product_version: None,
                    am_engine_version: None,
                    am_running_mode: None,
                    antivirus_signature_version: None,
                    real_time_protection_enabled: None,
                    is_tamper_protected: None,
                    antivirus_enabled: None,
                    am_service_enabled: None,
                })),
                fltmc_filters: None,
                fltmc_instances: None,
                installed_products: Some(ok(vec![Product {
                    name: "Dell OpenManage Server Administrator".into(),
                    vendor: None,
                    version: None,
                }])),
                vms: Some(ok(vec![Vm {
                    name: "SQL01".into(),
                    state: "Off".into(),
                    memory_assigned_bytes: 0,
                    memory_startup_bytes: None,
                    configuration_location: None,
                    snapshot_file_location: None,
                    smart_paging_file_path: None,
                    hard_drives: vec![],
                }])),
                memory: Some(ok(Memory {
                    total_physical_bytes: 274_376_994_816,
                    free_physical_bytes: None,
                })),
            }],
        }],
    }
}

#[test]
fn sparse_snapshot_validates_and_reads_back() {
    let sparse = sparse();
    let value = serde_json::to_value(&sparse).expect("serializes");
    assert_eq!(lockstep_collect::validate(&value), vec![]);
    let text = serde_json::to_string(&value).expect("JSON");
    let back: Snapshot = serde_json::from_str(&text).expect("reads into the model");
    assert_eq!(back, sparse);
}

/// For each object definition of the schema (by its JSON pointer): the
/// property names it defines and the keys the instance has where it applies.
#[derive(Default)]
struct Walk {
    places: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl Walk {
    fn visit(&mut self, root: &Value, schema: &Value, at: &str, instance: &Value) {
        let Some(obj) = schema.as_object() else {
            return; // `true`: anything, nothing to compare
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let target = r.strip_prefix('#').expect("a local $ref");
            let resolved = root.pointer(target).expect("$ref resolves");
            self.visit(root, resolved, target, instance);
        }
        for (i, sub) in obj
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            self.visit(root, sub, &format!("{at}/allOf/{i}"), instance);
        }
        for key in ["oneOf", "anyOf"] {
            let branches = obj.get(key).and_then(Value::as_array).into_iter().flatten();
            for (i, sub) in branches.enumerate() {
                if type_admits(sub, instance) {
                    self.visit(root, sub, &format!("{at}/{key}/{i}"), instance);
                }
            }
        }
        if let (Some(Value::Object(props)), Some(fields)) =
            (obj.get("properties"), instance.as_object())
        {
            let place = self.places.entry(at.to_string()).or_default();
            place.0.extend(props.keys().cloned());
            place.1.extend(fields.keys().cloned());
            for (k, v) in fields {
                if let Some(sub) = props.get(k) {
                    self.visit(root, sub, &format!("{at}/properties/{k}"), v);
                }
            }
        }
        if let (Some(items), Some(values)) = (obj.get("items"), instance.as_array()) {
            for v in values {
                self.visit(root, items, &format!("{at}/items"), v);
            }
        }
    }
}

/// Whether a `oneOf`/`anyOf` branch's `type` (if any) admits `v`.
fn type_admits(branch: &Value, v: &Value) -> bool {
    let name = match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match branch.get("type") {
        None => true,
        Some(Value::String(t)) => t == name || (t == "number" && name == "integer"),
        Some(Value::Array(ts)) => ts
            .iter()
            .any(|t| t == name || (t == "number" && name == "integer")),
        Some(_) => false,
    }
}

/// JSON pointers of every schema object that defines `properties`, except
/// the conditions of `if`/`then`/`else`/`not` (which name properties that
/// an instance must or must not have, rather than define them).
fn schema_objects(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if m.get("properties").is_some_and(Value::is_object) {
                out.insert(at.to_string());
            }
            for (k, x) in m {
                if !["if", "then", "else", "not"].contains(&k.as_str()) {
                    schema_objects(x, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| schema_objects(x, &format!("{at}/{i}"), out)),
        _ => {}
    }
}

/// The schema-side half of the comparison, as text for the assertion:
/// every object definition visited, and in each the same names.
fn disagreements(schema: &Value, instance: &Value) -> Vec<String> {
    let mut walk = Walk::default();
    walk.visit(schema, schema, "", instance);
    let mut out = Vec::new();
    let mut defined = BTreeSet::new();
    schema_objects(schema, "", &mut defined);
    for at in &defined {
        if !walk.places.contains_key(at) {
            out.push(format!(
                "{at}: the model writes nothing this schema object describes"
            ));
        }
    }
    for (at, (props, keys)) in &walk.places {
        let only_schema: Vec<&String> = props.difference(keys).collect();
        if !only_schema.is_empty() {
            out.push(format!(
                "{at}: in the schema, not in the model: {only_schema:?}"
            ));
        }
        let only_model: Vec<&String> = keys.difference(props).collect();
        if !only_model.is_empty() {
            out.push(format!(
                "{at}: in the model, not in the schema: {only_model:?}"
            ));
        }
    }
    out
}

#[test]
fn schema_and_model_define_the_same_fields() {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let full = serde_json::to_value(full()).expect("serializes");
    assert_eq!(disagreements(&schema, &full), Vec::<String>::new());
}

/// The comparison sees a field on either side alone (so the test above can
/// fail), in a nested definition reached through `$ref`, `allOf` and `items`.
#[test]
fn a_field_on_one_side_only_is_a_disagreement() {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schema is JSON");
    let full = serde_json::to_value(full()).expect("serializes");

    let mut model_only = full.clone();
    model_only["clusters"][0]["nodes"][0]["hotfixes"]["data"][0]["installedFrom"] =
        Value::String("WSUS".into());
    assert_eq!(
        disagreements(&schema, &model_only),
        [r#"/$defs/hotfix: in the model, not in the schema: ["installedFrom"]"#]
    );

    let mut schema_only = schema.clone();
    schema_only["$defs"]["memory"]["properties"]["availableBytes"] =
        serde_json::json!({"type": "integer"});
    assert_eq!(
        disagreements(&schema_only, &full),
        [r#"/$defs/memory: in the schema, not in the model: ["availableBytes"]"#]
    );

    let mut unused = schema.clone();
    unused["$defs"]["cpu"] = serde_json::json!({"type": "object", "properties": {"cores": {}}});
    assert_eq!(
        disagreements(&unused, &full),
        ["/$defs/cpu: the model writes nothing this schema object describes"]
    );
}
