//! The host-protection audit on a lockstep snapshot
//! (`tests/fixtures/snapshot/hvclu22.json`, written by the snapshot work):
//! VM paths, CSV volume ids and the cluster's groups come from the snapshot,
//! which plain files cannot give.

use lockstep_catalog::known_issues::KnownIssues;
use lockstep_check::protection::{Rules, audit_cluster};
use lockstep_check::{Finding, FindingCode, Severity};
use std::path::PathBuf;

fn findings() -> Vec<Finding> {
    let out = lockstep_ingest::load_paths(&[PathBuf::from("tests/fixtures/snapshot/hvclu22.json")]);
    assert_eq!(out.errors, Vec::new());
    audit_cluster(
        &out.inventory.clusters[0],
        &Rules::builtin(),
        &KnownIssues::builtin(),
    )
}

#[test]
fn hvclu22_findings() {
    let f = findings();
    let got: Vec<(&str, Severity, &str)> = f
        .iter()
        .map(|x| (x.code.as_str(), x.severity, x.nodes[0].as_str()))
        .collect();
    // HV22-01 and HV22-03 exclude everything (their VMs live under the
    // excluded C:\ClusterStorage); their Defender platform predates the fix
    // for CVE-2026-45498. HV22-02 was collected without elevation.
    assert_eq!(
        got,
        vec![
            (
                FindingCode::AvKnownIssue.as_str(),
                Severity::Warning,
                "HV22-01"
            ),
            (
                FindingCode::AvExclusionsUnknown.as_str(),
                Severity::Warning,
                "HV22-02"
            ),
            (
                FindingCode::AvKnownIssue.as_str(),
                Severity::Warning,
                "HV22-02"
            ),
            (
                FindingCode::AvKnownIssue.as_str(),
                Severity::Warning,
                "HV22-03"
            ),
        ]
    );
    let unknown = &f[1];
    let items: Vec<&str> = unknown
        .detail
        .lines()
        .filter(|l| l.starts_with("- "))
        .collect();
    assert_eq!(items.len(), 26);
    assert_eq!(
        items[24..].to_vec(),
        vec![
            r"- path C:\ClusterStorage\Volume1\FS02 — rule hyper-v-vm-folders",
            r"- path C:\ClusterStorage\Volume1\APP01 — rule hyper-v-vm-folders",
        ]
    );
    assert!(unknown.detail.contains("access was denied (not elevated)"));
    assert!(unknown.detail.contains(
        "Judged as a Hyper-V host because the inputs list its virtual machines (2 VMs, Get-VM)."
    ));
    // Snapshot VM lists: no "VM folders unchecked" finding.
    assert!(
        f.iter()
            .all(|x| x.code != FindingCode::AvVmFoldersUnchecked.as_str())
    );
}

#[test]
fn hvclu22_snapshot() {
    insta::assert_json_snapshot!("hvclu22_protection", findings());
}
