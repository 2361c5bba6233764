//! Unit tests of the audit, and the generated one-test-per-rule-file suite.

use super::needs::display_value;
use super::*;
use crate::Severity;
use lockstep_model::inventory::Witness;
use lockstep_model::protection::CsvVolume;
use lockstep_model::protection::{DefenderPreferences, ExclusionList, Section};
use lockstep_model::{ClusterState, Sourced, VirtualMachine};
use lockstep_model::{SourceRef, WinVersion};

fn src() -> SourceRef {
    SourceRef::new("t", 1)
}

pub(super) fn prefs(
    path: ExclusionList,
    ext: ExclusionList,
    proc_: ExclusionList,
    dae: Option<bool>,
) -> Section<DefenderPreferences> {
    Section::ok(
        DefenderPreferences {
            exclusion_path: path,
            exclusion_extension: ext,
            exclusion_process: proc_,
            disable_auto_exclusions: dae,
            disable_realtime_monitoring: Some(false),
            source: src(),
        },
        src(),
    )
}

fn items(v: &[&str]) -> ExclusionList {
    ExclusionList::Items(v.iter().map(|s| s.to_string()).collect())
}

fn node(name: &str, build: Option<u32>) -> Node {
    Node {
        name: name.into(),
        os: lockstep_model::OsInfo {
            version: build.map(|b| Sourced::new(WinVersion::new(10, 0, b, 1), src())),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A cluster in which every role holds: a snapshot with one CSV, Hyper-V nodes.
fn cluster_with(nodes: Vec<Node>, witness: Option<Witness>) -> Cluster {
    Cluster {
        name: "C1".into(),
        nodes,
        state: Some(ClusterState {
            witness,
            csvs: Some(vec![CsvVolume {
                name: "Cluster Disk 1".into(),
                path: Some(r"C:\ClusterStorage\Volume1".into()),
                owner_node: None,
                volume_id: Some(r"\\?\Volume{11111111-2222-3333-4444-555555555555}\".into()),
                file_system: Some("CSVFS_NTFS".into()),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn hyperv(mut n: Node) -> Node {
    n.vms = Some(Vec::new());
    n
}

fn only(rule: Rule) -> Rules {
    let mut r = Rules::default();
    r.insert(rule);
    r
}

fn codes_of(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

/// The values a missing-exclusion finding lists, from its fix command.
fn command_values(f: &Finding) -> Vec<String> {
    f.fix
        .as_ref()
        .and_then(|x| x.commands.first())
        .map(|c| {
            let list = c
                .split_once(' ')
                .and_then(|(_, r)| r.split_once(' '))
                .map_or("", |(_, r)| r);
            list.split("', '")
                .map(|v| v.trim_matches('\'').replace("''", "'"))
                .collect()
        })
        .unwrap_or_default()
}

/// The behaviour every rule file must show; called by the generated tests.
fn assert_rule_file_behaves(name: &str) {
    let (_, text) = rules::builtin_sources()
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is not embedded"));
    let rule = rules::lint_file(name, text).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        Rules::builtin()
            .requirements
            .iter()
            .any(|r| r.id == rule.id())
            || Rules::builtin().auto.iter().any(|a| a.id == rule.id())
    );
    let known = KnownIssues::empty();
    match &rule {
        Rule::Requirement(req) => {
            let witness = Some(Witness {
                kind: "DiskWitness".into(),
                resource: Some("Cluster Disk 2".into()),
                path: Some("Q:".into()),
            });
            let mut n = hyperv(node("HV01", Some(26100)));
            n.vms = Some(vec![VirtualMachine {
                name: "Web01".into(),
                state: "Running".into(),
                memory_assigned_bytes: 0,
                memory_startup_bytes: None,
                configuration_location: Some(r"D:\VMs\Web01".into()),
                snapshot_file_location: Some(r"D:\VMs\Web01".into()),
                smart_paging_file_path: None,
                hard_drives: vec![r"E:\Disks\Web01.vhdx".into()],
            }]);
            let expected: Vec<String> = match req.from {
                None => req
                    .items
                    .iter()
                    .map(|i| display_value(req.kind, &i.value))
                    .collect(),
                Some(rules::Derived::VmFolders) => vec![r"D:\VMs\Web01".into(), r"E:\Disks".into()],
                Some(rules::Derived::WitnessDisk) => vec![r"Q:\Cluster".into()],
            };
            let rules = only(rule.clone());
            let empty = || items(&[]);
            // Nothing excluded, automatic exclusions off: every item is missing.
            n.protection.defender_preferences = Some(prefs(empty(), empty(), empty(), Some(true)));
            let c = cluster_with(vec![n.clone()], witness.clone());
            let f = audit_node(&n, Some(&c), &rules, &known);
            assert_eq!(f.len(), 1, "{name}: {f:#?}");
            assert_eq!(
                f[0].code.as_str(),
                format!("av-exclusion-missing-{}", req.kind.as_str())
            );
            assert_eq!(f[0].severity, req.severity);
            assert_eq!(command_values(&f[0]), expected, "{name}");
            // Everything excluded as written: clean.
            let written = ExclusionList::Items(expected.clone());
            let mut all = n.clone();
            all.protection.defender_preferences = Some(match req.kind {
                ExclusionKind::Path => prefs(written, empty(), empty(), Some(true)),
                ExclusionKind::Extension => prefs(empty(), written, empty(), Some(true)),
                ExclusionKind::Process => prefs(empty(), empty(), written, Some(true)),
            });
            assert_eq!(
                audit_node(&all, Some(&c), &rules, &known),
                Vec::new(),
                "{name}"
            );
            // Redacted: unknown, never compliant.
            let mut red = n.clone();
            let r = || {
                ExclusionList::Redacted("N/A: Must be and administrator to view exclusions".into())
            };
            red.protection.defender_preferences = Some(prefs(r(), r(), r(), Some(false)));
            let f = audit_node(&red, Some(&c), &rules, &known);
            assert_eq!(codes_of(&f), vec!["av-exclusions-unknown"], "{name}");
            assert_eq!(f[0].severity, Severity::Warning);
            // A host the rule does not apply to: nothing.
            let plain = node("SRV", Some(26100));
            assert_eq!(
                audit_node(&plain, None, &rules, &known),
                Vec::new(),
                "{name}"
            );
        }
        Rule::AutoExclusions(auto) => {
            for (kind, list) in [
                (ExclusionKind::Path, &auto.paths),
                (ExclusionKind::Extension, &auto.extensions),
                (ExclusionKind::Process, &auto.processes),
            ] {
                for value in list {
                    let req = Requirement {
                        id: "probe".into(),
                        title: "probe".into(),
                        applies_to: auto.applies_to,
                        kind,
                        severity: Severity::Warning,
                        why: "probe".into(),
                        references: vec!["https://example.invalid".into()],
                        items: vec![rules::Item {
                            value: value.clone(),
                            min_build: None,
                            since: None,
                        }],
                        from: None,
                        csv_volume_ids: false,
                        origin: "probe".into(),
                    };
                    let mut rules = only(Rule::Requirement(req));
                    rules.auto.push(auto.clone());
                    let run = |build: u32, dae: Option<bool>| {
                        let mut n = hyperv(node("HV01", Some(build)));
                        n.protection.defender_preferences =
                            Some(prefs(items(&[]), items(&[]), items(&[]), dae));
                        let c = cluster_with(vec![n.clone()], None);
                        codes_of(&audit_node(&n, Some(&c), &rules, &known)).len()
                    };
                    assert_eq!(
                        run(auto.min_build, Some(false)),
                        0,
                        "{name}: {value} counted from build {}",
                        auto.min_build
                    );
                    assert_eq!(
                        run(auto.min_build, None),
                        0,
                        "{name}: default DisableAutoExclusions is False"
                    );
                    assert_eq!(
                        run(9600, Some(false)),
                        1,
                        "{name}: {value} must not count on 2012 R2"
                    );
                    assert_eq!(
                        run(auto.min_build, Some(true)),
                        1,
                        "{name}: {value} must not count when disabled"
                    );
                }
            }
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/protection_rule_tests.rs"));

#[test]
fn every_rule_file_is_embedded_and_lints() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/host-protection");
    let on_disk = rules::lint_dir(std::path::Path::new(dir)).expect("rules lint clean");
    assert_eq!(on_disk.len(), rules::builtin_sources().len());
    let b = Rules::builtin();
    assert_eq!(b.requirements.len() + b.auto.len(), on_disk.len());
    assert_eq!(b.auto.len(), 2);
}

#[test]
fn lint_rejects_bad_files() {
    let ok = "id = \"x\"\ntype = \"requirement\"\ntitle = \"t\"\napplies_to = \"hyper-v\"\nkind = \"path\"\nwhy = \"w\"\nreferences = [\"https://a\"]\n[[item]]\nvalue = 'C:\\A'\n";
    assert!(rules::lint_file("x.toml", ok).is_ok());
    let cases = [
        (ok.replace("why =", "whyy ="), "unknown field"),
        (format!("{ok}colour = \"red\"\n"), "unknown field"),
        (
            ok.replace(
                "[[item]]\nvalue = 'C:\\A'\n",
                "[[item]]\nvalue = 'C:\\A'\nextra = 1\n",
            ),
            "unknown field",
        ),
        (ok.replace("requirement", "requirment"), "expected `type"),
        (ok.replace("https://a", "http://a"), "https://"),
        (
            ok.replace("[[item]]\nvalue = 'C:\\A'\n", ""),
            "at least one",
        ),
        (format!("{ok}[[item]]\nvalue = 'c:\\a'\n"), "duplicate"),
        (ok.replace("\"hyper-v\"", "\"hyperv\""), "unknown variant"),
    ];
    for (text, want) in cases {
        let e = rules::lint_file("x.toml", &text).expect_err(&text);
        assert!(e.message.contains(want), "{want:?} not in {:?}", e.message);
    }
    assert!(
        rules::lint_file("y.toml", ok)
            .unwrap_err()
            .message
            .contains("file name")
    );
}

#[test]
fn user_folder_replaces_and_extends() {
    let dir = std::env::temp_dir().join(format!("lockstep-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("hyper-v-processes.toml"),
        "id = \"hyper-v-processes\"\ntype = \"requirement\"\ntitle = \"mine\"\napplies_to = \"hyper-v\"\nkind = \"process\"\nwhy = \"w\"\nreferences = [\"https://a\"]\n[[item]]\nvalue = 'vmms.exe'\n",
    )
    .unwrap();
    let r = Rules::load_dir(&dir).unwrap();
    assert_eq!(r.requirement("hyper-v-processes").unwrap().title, "mine");
    assert_eq!(r.requirements.len(), Rules::builtin().requirements.len());
    std::fs::write(dir.join("broken.toml"), "id = 1").unwrap();
    let errs = Rules::load_dir(&dir).unwrap_err();
    assert_eq!(errs.len(), 1);
    assert!(errs[0].file.ends_with("broken.toml"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A CSV name that cannot be written as a PowerShell literal (a control
/// character) gets no command, not one naming another volume; a quotable
/// one keeps both commands.
#[test]
fn csv_commands_only_for_quotable_names() {
    use lockstep_model::protection::{
        BlockRedirectReason, CsvNodeState, CsvStateInfo, FsRedirectReason,
    };
    let state = |volume: &str| CsvNodeState {
        volume: volume.into(),
        volume_path: None,
        node: "HV1".into(),
        state: CsvStateInfo::FileSystemRedirected,
        fs_reason: FsRedirectReason(FsRedirectReason::UserRequest),
        block_reason: BlockRedirectReason(0),
        source: src(),
    };
    let mut c = cluster_with(vec![node("HV1", Some(20348))], None);
    c.protection.csv_states = Some(Section::ok(
        vec![state("Cluster Disk 1"), state("Disk\n2")],
        src(),
    ));
    let fixes: Vec<_> = csv::csv_findings(&c, &KnownIssues::builtin())
        .into_iter()
        .map(|f| f.fix.unwrap_or_default())
        .collect();
    assert_eq!(
        fixes[1].text,
        "When the maintenance is over, resume direct access and check the state. No command is suggested: the volume's or node's name holds characters a PowerShell literal cannot carry."
    );
    let commands: Vec<Vec<String>> = fixes.into_iter().map(|x| x.commands).collect();
    assert_eq!(
        commands,
        vec![
            vec![
                "Resume-ClusterResource -Name 'Cluster Disk 1'".to_string(),
                "Get-ClusterSharedVolumeState -Name 'Cluster Disk 1' -Node 'HV1'".to_string(),
            ],
            Vec::new(),
        ]
    );
}
