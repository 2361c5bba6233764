//! The bundled example `examples/av-csv-redirected/`: three Windows Server
//! 2016 Hyper-V nodes as per-node capture files, audited end to end
//! (ingest → host-protection audit).

use lockstep_catalog::known_issues::KnownIssues;
use lockstep_check::protection::{Rules, audit_cluster};
use lockstep_check::{Finding, FindingCode, Severity};
use std::path::PathBuf;

fn findings() -> Vec<Finding> {
    // Relative to the package root (cargo's working directory for tests), so
    // the evidence paths in the snapshot do not depend on the checkout.
    let out = lockstep_ingest::load_paths(&[PathBuf::from("examples/av-csv-redirected")]);
    assert_eq!(out.errors, Vec::new(), "every example file parses");
    // Each file is read as the format it is.
    let mut formats: Vec<(String, &str)> = out
        .files
        .iter()
        .map(|(p, f)| (p.rsplit(['/', '\\']).next().unwrap_or(p).to_string(), *f))
        .collect();
    formats.sort();
    let expected: Vec<(String, &str)> = [
        ("HV01.fltmc-filters.txt", "fltmc"),
        ("HV01.fltmc-instances.txt", "fltmc"),
        ("HV01.mppreference.txt", "get-mppreference"),
        ("HV01.mpstatus.txt", "get-mpcomputerstatus"),
        ("HV01.products.csv", "installed-products"),
        ("HV01.systeminfo.txt", "systeminfo"),
        ("HV02.fltmc-filters.txt", "fltmc"),
        ("HV02.fltmc-instances.txt", "fltmc"),
        ("HV02.mppreference.json", "get-mppreference"),
        ("HV02.mpstatus.txt", "get-mpcomputerstatus"),
        ("HV02.products.csv", "installed-products"),
        ("HV02.systeminfo.txt", "systeminfo"),
        ("HV03.fltmc-filters.txt", "fltmc"),
        ("HV03.fltmc-instances.txt", "fltmc"),
        ("HV03.mppreference.txt", "get-mppreference"),
        ("HV03.mpstatus.txt", "get-mpcomputerstatus"),
        ("HV03.products.csv", "installed-products"),
        ("HV03.systeminfo.txt", "systeminfo"),
        ("csv-state.txt", "get-clustersharedvolumestate"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b))
    .collect();
    assert_eq!(formats, expected);
    assert_eq!(out.inventory.clusters.len(), 1);
    let cluster = &out.inventory.clusters[0];
    let names: Vec<&str> = cluster.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["HV01", "HV02", "HV03"]);
    audit_cluster(cluster, &Rules::builtin(), &KnownIssues::builtin())
}

#[test]
fn example_findings_name_filter_vendor_known_issue_and_commands() {
    let f = findings();
    let got: Vec<(&str, Severity, Vec<&str>)> = f
        .iter()
        .map(|x| {
            (
                x.code.as_str(),
                x.severity,
                x.nodes.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                FindingCode::AvPassiveMode.as_str(),
                Severity::Info,
                vec!["HV01"]
            ),
            (
                FindingCode::AvKnownIssue.as_str(),
                Severity::Error,
                vec!["HV01"]
            ),
            (
                FindingCode::AvExclusionMissingExtension.as_str(),
                Severity::Error,
                vec!["HV02"]
            ),
            (
                FindingCode::AvExclusionMissingProcess.as_str(),
                Severity::Error,
                vec!["HV02"]
            ),
            (
                FindingCode::AvVmFoldersUnchecked.as_str(),
                Severity::Info,
                vec!["HV01", "HV02", "HV03"]
            ),
            (
                FindingCode::CsvRedirectedByFilter.as_str(),
                Severity::Error,
                vec!["HV01"]
            ),
        ]
    );
    // HV01: the product in charge.
    assert_eq!(
        f[0].title,
        "HV01: Defender is in Passive Mode; McAfee VirusScan Enterprise 8.8.0.849 is in charge of real-time scanning"
    );
    // HV01: the known issue, from the installed product and its filter.
    assert_eq!(f[1].known_issues, vec!["LOCKSTEP-2011-0002".to_string()]);
    assert!(f[1].title.starts_with(
        "HV01: McAfee VirusScan Enterprise 8.8.0.849 — known issue LOCKSTEP-2011-0002"
    ));
    assert!(f[1].evidence.iter().any(|e| e.note == "fltmc: filter mfehidk at altitude 321300, McAfee McAfee link driver (VirusScan Enterprise, Host IPS, Endpoint Security)"));
    // HV02: the exact commands.
    let cmd = |x: &Finding| {
        x.fix
            .as_ref()
            .map(|f| f.commands.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        cmd(&f[2]),
        vec!["Add-MpPreference -ExclusionExtension '.vhdx'".to_string()]
    );
    assert_eq!(
        cmd(&f[3]),
        vec![r"Add-MpPreference -ExclusionProcess '%SystemRoot%\System32\Vmwp.exe'".to_string()]
    );
    assert!(f[2].detail.contains("DisableAutoExclusions = True"));
    // The CSV: filter, altitude, vendor, known issue.
    let csv = &f[5];
    assert_eq!(
        csv.title,
        "Cluster Disk 1 (Volume1) is redirected on HV01 by filter mfehidk (McAfee 321300)"
    );
    assert!(
        csv.detail
            .contains("mfehidk (altitude 321300, McAfee — McAfee link driver"),
        "{}",
        csv.detail
    );
    assert!(csv.detail.contains("McAfee VirusScan Enterprise 8.8.0.849 is installed on HV01 (McAfee): known issue LOCKSTEP-2011-0002"), "{}", csv.detail);
    assert_eq!(csv.known_issues, vec!["LOCKSTEP-2011-0002".to_string()]);
    assert_eq!(
        cmd(csv),
        vec![
            "Get-ClusterSharedVolumeState -Name 'Cluster Disk 1' -Node 'HV01'".to_string(),
            r"fltmc instances -v 'C:\ClusterStorage\Volume1'".to_string(),
        ]
    );
    // HV03 (automatic exclusions plus its own lists) has nothing.
    assert!(f.iter().all(|x| x.nodes != vec!["HV03".to_string()]));
}

#[test]
fn example_findings_snapshot() {
    insta::assert_json_snapshot!("av_csv_redirected", findings());
}
