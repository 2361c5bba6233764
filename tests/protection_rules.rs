//! Host-protection audit, rule by rule and OS by OS, on parsed captures:
//! the real `Get-MpPreference` fixture, written fixtures, and nodes built in
//! the test. Every assertion names exact codes, nodes and values.

use lockstep_catalog::known_issues::KnownIssues;
use lockstep_check::protection::{Rules, audit_cluster, audit_node};
use lockstep_check::{Finding, FindingCode, Severity};
use lockstep_ingest::formats::{FileContent, Text, csvstate, fltmc, mppreference};
use lockstep_model::inventory::ClusterState;
use lockstep_model::protection::{
    CsvVolume, DefenderPreferences, DefenderStatus, ExclusionList, Section,
};
use lockstep_model::{Cluster, Node, OsInfo, SourceRef, Sourced, VirtualMachine, WinVersion};

const REAL_MPPREFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/real/host-protection/azure-sf__get-mppreference_sf_node.txt"
);
const WS2012R2: u32 = 9600;
const WS2016: u32 = 14393;
const WS2019: u32 = 17763;
const WS2022: u32 = 20348;

fn parse_prefs(path: &str, text: &str) -> Section<DefenderPreferences> {
    let FileContent::Nodes(mut n) = (mppreference::FORMAT.parse)(&Text::new(path, text)).unwrap()
    else {
        panic!("nodes expected")
    };
    n.remove(0).node.protection.defender_preferences.unwrap()
}

fn real_prefs() -> Section<DefenderPreferences> {
    parse_prefs(
        "azure-sf__get-mppreference_sf_node.txt",
        &std::fs::read_to_string(REAL_MPPREFERENCE).unwrap(),
    )
}

fn host(name: &str, build: u32, prefs: Option<Section<DefenderPreferences>>, hyperv: bool) -> Node {
    let mut n = Node {
        name: name.into(),
        os: OsInfo {
            version: Some(Sourced::new(
                WinVersion::new(10, 0, build, 0),
                SourceRef::new(format!("{name}.systeminfo.txt"), 4),
            )),
            ..Default::default()
        },
        ..Default::default()
    };
    n.vms = hyperv.then(Vec::new);
    n.protection.defender_preferences = prefs;
    n
}

fn list(v: &[&str]) -> ExclusionList {
    ExclusionList::Items(v.iter().map(|s| s.to_string()).collect())
}

fn prefs(
    path: &[&str],
    ext: &[&str],
    proc_: &[&str],
    disable_auto: bool,
) -> Section<DefenderPreferences> {
    let src = SourceRef::new("p.json", 0);
    Section::ok(
        DefenderPreferences {
            exclusion_path: list(path),
            exclusion_extension: list(ext),
            exclusion_process: list(proc_),
            disable_auto_exclusions: Some(disable_auto),
            disable_realtime_monitoring: Some(false),
            source: src.clone(),
        },
        src,
    )
}

fn vm(name: &str, folder: &str) -> VirtualMachine {
    VirtualMachine {
        name: name.into(),
        state: "Running".into(),
        memory_assigned_bytes: 4 << 30,
        memory_startup_bytes: Some(4 << 30),
        configuration_location: Some(folder.into()),
        snapshot_file_location: Some(folder.into()),
        smart_paging_file_path: Some(folder.into()),
        hard_drives: vec![format!("{folder}\\Virtual Hard Disks\\{name}.vhdx")],
    }
}

/// (code, node, command) of each finding, for exact comparisons.
fn summary(f: &[Finding]) -> Vec<(String, Vec<String>, Option<String>)> {
    f.iter()
        .map(|x| {
            (
                x.code.to_string(),
                x.nodes.clone(),
                x.fix.as_ref().and_then(|f| f.commands.first().cloned()),
            )
        })
        .collect()
}

fn s(code: &str, node: &str, cmd: Option<&str>) -> (String, Vec<String>, Option<String>) {
    (
        code.to_string(),
        vec![node.to_string()],
        cmd.map(String::from),
    )
}

fn audit(n: &Node) -> Vec<Finding> {
    audit_node(n, None, &Rules::builtin(), &KnownIssues::empty())
}

const ALL_EXT: &str = "Add-MpPreference -ExclusionExtension '.vhd', '.vhdx', '.avhd', '.avhdx', '.vhds', '.vhdpmem', '.iso', '.rct', '.mrt', '.vsv', '.vmcx', '.vmrs', '.vmgs'";
const DEFAULT_FOLDERS: &str = r"Add-MpPreference -ExclusionPath '%ProgramData%\Microsoft\Windows\Hyper-V', '%Public%\Documents\Hyper-V\Virtual Hard Disks', '%SystemDrive%\ProgramData\Microsoft\Windows\Hyper-V\Snapshots'";

#[test]
fn real_fixture_on_a_host_that_is_not_hyper_v() {
    let n = host("SF01", WS2016, Some(real_prefs()), false);
    assert_eq!(audit(&n), Vec::new());
}

#[test]
fn real_fixture_on_a_2016_hyper_v_host() {
    // Auto-exclusions on (DisableAutoExclusions False in the capture): they
    // cover the nine Hyper-V types, the default folders, Vmms.exe and
    // Vmwp.exe. KB3105657 still asks for four types and Vmsp.exe (2016+).
    let n = host("HV01", WS2016, Some(real_prefs()), true);
    let f = audit(&n);
    assert_eq!(
        summary(&f),
        vec![
            s(
                FindingCode::AvExclusionMissingExtension.as_str(),
                "HV01",
                Some("Add-MpPreference -ExclusionExtension '.vhds', '.vhdpmem', '.mrt', '.vmgs'")
            ),
            s(
                FindingCode::AvExclusionMissingProcess.as_str(),
                "HV01",
                Some(r"Add-MpPreference -ExclusionProcess '%SystemRoot%\System32\Vmsp.exe'")
            ),
        ]
    );
    assert_eq!(f[0].severity, Severity::Error);
    assert_eq!(
        f[0].title,
        "HV01: Defender does not exclude 4 required file types: .vhds, .vhdpmem, .mrt, .vmgs"
    );
    // Evidence points at the real capture's lines.
    assert_eq!(
        f[0].evidence[0].source,
        SourceRef::new("azure-sf__get-mppreference_sf_node.txt", 34)
    );
    assert_eq!(
        f[0].evidence[0].note,
        "Get-MpPreference ExclusionExtension empty"
    );
    assert!(
        f[0].detail.contains("Defender automatic exclusion"),
        "{}",
        f[0].detail
    );
}

#[test]
fn real_fixture_on_2019_and_2022_adds_vmcompute() {
    for build in [WS2019, WS2022] {
        let f = audit(&host("HV01", build, Some(real_prefs()), true));
        assert_eq!(
            summary(&f)[1],
            s(
                FindingCode::AvExclusionMissingProcess.as_str(),
                "HV01",
                Some(
                    r"Add-MpPreference -ExclusionProcess '%SystemRoot%\System32\Vmsp.exe', '%SystemRoot%\System32\Vmcompute.exe'"
                )
            ),
            "build {build}"
        );
    }
}

#[test]
fn real_fixture_on_2012_r2_counts_no_automatic_exclusions() {
    let f = audit(&host("HV01", WS2012R2, Some(real_prefs()), true));
    assert_eq!(
        summary(&f),
        vec![
            s(
                FindingCode::AvExclusionMissingExtension.as_str(),
                "HV01",
                Some(ALL_EXT)
            ),
            s(
                FindingCode::AvExclusionMissingPath.as_str(),
                "HV01",
                Some(DEFAULT_FOLDERS)
            ),
            // No Vmsp.exe (2016+) and no Vmcompute.exe (2019+) on 2012 R2.
            s(
                FindingCode::AvExclusionMissingProcess.as_str(),
                "HV01",
                Some(
                    r"Add-MpPreference -ExclusionProcess '%SystemRoot%\System32\Vmms.exe', '%SystemRoot%\System32\Vmwp.exe'"
                )
            ),
        ]
    );
    assert!(
        f[0].detail
            .contains("Windows Server 2012 R2 has no automatic Defender exclusions"),
        "{}",
        f[0].detail
    );
}

#[test]
fn disable_auto_exclusions_makes_everything_explicit() {
    let text = std::fs::read_to_string(REAL_MPPREFERENCE).unwrap().replace(
        "DisableAutoExclusions                         : False",
        "DisableAutoExclusions                         : True",
    );
    let p = parse_prefs("sf.txt", &text);
    assert_eq!(p.data.as_ref().unwrap().disable_auto_exclusions, Some(true));
    let f = audit(&host("HV01", WS2019, Some(p), true));
    assert_eq!(
        summary(&f),
        vec![
            s(
                FindingCode::AvExclusionMissingExtension.as_str(),
                "HV01",
                Some(ALL_EXT)
            ),
            s(
                FindingCode::AvExclusionMissingPath.as_str(),
                "HV01",
                Some(DEFAULT_FOLDERS)
            ),
            s(
                FindingCode::AvExclusionMissingProcess.as_str(),
                "HV01",
                Some(
                    r"Add-MpPreference -ExclusionProcess '%SystemRoot%\System32\Vmms.exe', '%SystemRoot%\System32\Vmwp.exe', '%SystemRoot%\System32\Vmsp.exe', '%SystemRoot%\System32\Vmcompute.exe'"
                )
            ),
        ]
    );
    assert!(f[0].detail.contains("DisableAutoExclusions = True"));
}

#[test]
fn redacted_lists_are_unknown_not_compliant() {
    let json = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/host-protection/unelevated.mppreference.json"
    ))
    .unwrap();
    let p = parse_prefs("unelevated.mppreference.json", &json);
    let f = audit(&host("HV07", WS2019, Some(p), true));
    assert_eq!(
        summary(&f),
        vec![s(
            FindingCode::AvExclusionsUnknown.as_str(),
            "HV07",
            Some(
                "Get-MpPreference | ConvertTo-Json -Depth 3 | Out-File -Encoding utf8 \"$env:COMPUTERNAME.mppreference.json\""
            )
        )]
    );
    assert_eq!(f[0].severity, Severity::Warning);
    // What the automatic exclusions provably cover is not asked; the rest is unknown.
    let undetermined: Vec<&str> = f[0]
        .detail
        .lines()
        .filter(|l| l.starts_with("- "))
        .collect();
    assert_eq!(
        undetermined,
        vec![
            "- extension .vhds — rule hyper-v-file-types",
            "- extension .vhdpmem — rule hyper-v-file-types",
            "- extension .mrt — rule hyper-v-file-types",
            "- extension .vmgs — rule hyper-v-file-types",
            r"- process %SystemRoot%\System32\Vmsp.exe — rule hyper-v-processes",
            r"- process %SystemRoot%\System32\Vmcompute.exe — rule hyper-v-processes",
        ]
    );
    assert!(
        f[0].detail
            .contains("N/A: Must be and administrator to view exclusions")
    );
}

#[test]
fn missing_or_shortened_capture_is_unknown_too() {
    // No Get-MpPreference at all: nothing counts, not even automatic exclusions.
    let f = audit(&host("HV08", WS2019, None, true));
    assert_eq!(summary(&f).len(), 1);
    assert_eq!(f[0].code, FindingCode::AvExclusionsUnknown.as_str());
    assert_eq!(
        f[0].detail.lines().filter(|l| l.starts_with("- ")).count(),
        13 + 3 + 4
    );
    assert!(
        f[0].detail
            .contains("Get-MpPreference is not in the inputs")
    );
    // A list shortened by $FormatEnumerationLimit.
    let text = "ExclusionExtension    : {.vhd, .vhdx, .avhd, .avhdx...}\nExclusionPath         : \nExclusionProcess      : \nDisableAutoExclusions : True\n";
    let f = audit(&host(
        "HV09",
        WS2012R2,
        Some(parse_prefs("short.txt", text)),
        true,
    ));
    assert_eq!(
        f.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(),
        vec![
            FindingCode::AvExclusionMissingPath.as_str(),
            FindingCode::AvExclusionMissingProcess.as_str(),
            FindingCode::AvExclusionsUnknown.as_str()
        ]
    );
    assert!(f[2].detail.contains("shortened"));
}

fn cluster(nodes: Vec<Node>, csvs: Vec<(&str, &str, &str)>) -> Cluster {
    Cluster {
        name: "CL1".into(),
        nodes,
        state: Some(ClusterState {
            csvs: Some(
                csvs.into_iter()
                    .map(|(name, path, id)| CsvVolume {
                        name: name.into(),
                        path: Some(path.into()),
                        owner_node: None,
                        volume_id: Some(id.into()),
                        file_system: Some("CSVFS_NTFS".into()),
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

const V1: &str = r"\\?\Volume{0A1B2C3D-1111-4222-8333-444455556666}\";
const V2: &str = r"\\?\Volume{9F8E7D6C-7777-4888-9999-AAAABBBBCCCC}\";
const EVERYTHING_BUT_CSV: [&str; 2] = [
    r"%ProgramData%\Microsoft\Windows\Hyper-V",
    r"%Public%\Documents\Hyper-V\Virtual Hard Disks",
];
const ALL_EXTS: [&str; 13] = [
    "vhd", "vhdx", "avhd", "avhdx", "vhds", "vhdpmem", "iso", "rct", "mrt", "vsv", "vmcx", "vmrs",
    "vmgs",
];
const ALL_PROCS: [&str; 4] = ["vmms.exe", "vmwp.exe", "clussvc.exe", "rhs.exe"];

#[test]
fn csv_volume_ids_cover_their_csv() {
    let csvs = vec![
        ("Cluster Disk 1", r"C:\ClusterStorage\Volume1", V1),
        ("Cluster Disk 2", r"C:\ClusterStorage\Volume2", V2),
    ];
    let mk = |paths: Vec<&str>| {
        let mut n = host(
            "HV01",
            WS2012R2,
            Some(prefs(&paths, &ALL_EXTS, &ALL_PROCS, false)),
            true,
        );
        n.vms = Some(vec![vm("Web01", r"C:\ClusterStorage\Volume1\VMs\Web01")]);
        cluster(vec![n], csvs.clone())
    };
    let base: Vec<&str> = EVERYTHING_BUT_CSV
        .iter()
        .copied()
        .chain([r"%SystemRoot%\Cluster"])
        .collect();
    // Both CSVs excluded by volume id (SCVMM style, lower case and without the trailing backslash too).
    let v2_lower = V2.to_lowercase();
    let both: Vec<&str> = base
        .iter()
        .copied()
        .chain([V1, v2_lower.trim_end_matches('\\')])
        .collect();
    let c = mk(both);
    assert_eq!(
        audit_cluster(&c, &Rules::builtin(), &KnownIssues::empty()),
        Vec::new()
    );
    // Only Volume1 by id: the VM on Volume1 is covered, the CSV root is not.
    let one: Vec<&str> = base.iter().copied().chain([V1]).collect();
    let c = mk(one);
    let f = audit_cluster(&c, &Rules::builtin(), &KnownIssues::empty());
    assert_eq!(
        summary(&f),
        vec![s(
            FindingCode::AvExclusionMissingPath.as_str(),
            "HV01",
            Some(r"Add-MpPreference -ExclusionPath '%SystemDrive%\ClusterStorage'")
        )]
    );
    assert!(
        f[0].detail
            .contains(r"C:\ClusterStorage\Volume1\VMs\Web01 (by volume id of Cluster Disk 1"),
        "{}",
        f[0].detail
    );
    let fix = &f[0].fix.as_ref().unwrap().text;
    assert!(
        fix.ends_with(r"each CSV may be excluded by its volume id as System Center VMM does (KB3119208): \\?\volume{0a1b2c3d-1111-4222-8333-444455556666}\ (C:\ClusterStorage\Volume1), \\?\volume{9f8e7d6c-7777-4888-9999-aaaabbbbcccc}\ (C:\ClusterStorage\Volume2)."),
        "{fix}"
    );
}

#[test]
fn wildcards_and_environment_variables_match_like_defender() {
    let paths = [
        r"%PROGRAMDATA%\microsoft\windows\hyper-v\",
        r"c:\users\public\documents\hyper-v\virtual hard disks",
        r"C:\ClusterStorage\*",
        r"%windir%\Cluster",
    ];
    let exts = [
        "*.VHD", "*.vhdx", ".avhd", "avhdx", "*.vhds", "vhdpmem", ".ISO", "rct", "mrt", "vsv",
        "vmcx", "vmrs", "vmgs",
    ];
    let procs = [r"%windir%\system32\vm*.exe", r"%SystemRoot%\Cluster\*.exe"];
    let mut n = host(
        "HV02",
        WS2019,
        Some(prefs(&paths, &exts, &procs, true)),
        true,
    );
    n.vms = Some(vec![
        vm("Db01", r"C:\ClusterStorage\Volume2\Db01"),
        vm("App01", r"D:\Hyper-V\App01"),
    ]);
    let c = cluster(
        vec![n],
        vec![("Cluster Disk 2", r"C:\ClusterStorage\Volume2", V2)],
    );
    let f = audit_cluster(&c, &Rules::builtin(), &KnownIssues::empty());
    // D:\Hyper-V\App01 is a custom folder nobody excluded.
    assert_eq!(
        summary(&f),
        vec![s(
            FindingCode::AvExclusionMissingPath.as_str(),
            "HV02",
            Some(r"Add-MpPreference -ExclusionPath 'D:\Hyper-V\App01'")
        )]
    );
    let d = &f[0].detail;
    assert!(
        d.contains(r"C:\ClusterStorage\Volume2\Db01 (by ExclusionPath C:\ClusterStorage\*)"),
        "{d}"
    );
    // `C:\ClusterStorage\*` is one level below the root; the root counts as
    // covered only because every CSV of the cluster is.
    assert!(d.contains(r"%SystemDrive%\ClusterStorage (by every CSV is excluded by path or volume id (Cluster Disk 2))"), "{d}");
    assert!(d.contains(r"%SystemDrive%\ProgramData\Microsoft\Windows\Hyper-V\Snapshots (by ExclusionPath %PROGRAMDATA%\microsoft\windows\hyper-v\)"), "{d}");
}

#[test]
fn hostile_folder_names_are_quoted_or_refused() {
    let mut n = host(
        "HV03",
        WS2019,
        Some(prefs(
            &EVERYTHING_BUT_CSV,
            &ALL_EXTS,
            &["vmms.exe", "vmwp.exe", "vmsp.exe", "vmcompute.exe"],
            true,
        )),
        true,
    );
    n.vms = Some(vec![
        vm("a", r"D:\VMs\O'Brien $(Stop-Computer)"),
        vm("b", "D:\\VMs\\x\r\nStop-Computer"),
    ]);
    let f = audit(&n);
    assert_eq!(
        summary(&f),
        vec![s(
            FindingCode::AvExclusionMissingPath.as_str(),
            "HV03",
            Some(r"Add-MpPreference -ExclusionPath 'D:\VMs\O''Brien $(Stop-Computer)'")
        )]
    );
    assert!(f[0].fix.as_ref().unwrap().text.contains("Not emitted"));
}

#[test]
fn passive_defender_downgrades_and_names_the_product() {
    let mut n = host("HV04", WS2019, Some(prefs(&[], &[], &[], true)), true);
    n.protection.defender_status = Some(Section::ok(
        DefenderStatus {
            am_product_version: Some(WinVersion::new(4, 18, 24090, 11)),
            am_engine_version: Some(WinVersion::new(1, 1, 24090, 11)),
            am_running_mode: Some("SxS Passive Mode".into()),
            antivirus_signature_version: None,
            real_time_protection_enabled: Some(false),
            is_tamper_protected: Some(false),
            antivirus_enabled: Some(true),
            am_service_enabled: Some(true),
            source: SourceRef::new("HV04.mpstatus.txt", 5),
        },
        SourceRef::new("HV04.mpstatus.txt", 5),
    ));
    let fl = "\nFilter Name                     Num Instances    Altitude    Frame\n------------------------------  -------------  ------------  -----\nCSAgent                                 5       321410         0\nWdFilter                                5       328010         0\n";
    n.protection.filters = Some(Section::ok(
        fltmc::parse_filters(&Text::new("HV04.fltmc-filters.txt", fl)).unwrap(),
        SourceRef::new("HV04.fltmc-filters.txt", 2),
    ));
    let f = audit_node(&n, None, &Rules::builtin(), &KnownIssues::builtin());
    let codes: Vec<&str> = f.iter().map(|x| x.code.as_str()).collect();
    assert_eq!(
        codes,
        vec![
            FindingCode::AvExclusionMissingExtension.as_str(),
            FindingCode::AvExclusionMissingPath.as_str(),
            FindingCode::AvExclusionMissingProcess.as_str(),
            FindingCode::AvPassiveMode.as_str(),
            FindingCode::AvKnownIssue.as_str(),
            FindingCode::AvKnownIssue.as_str()
        ]
    );
    assert!(f[..3].iter().all(|x| x.severity == Severity::Info));
    assert_eq!(
        f[3].title,
        "HV04: Defender is in SxS Passive Mode; CrowdStrike Falcon sensor (csagent) is in charge of real-time scanning"
    );
    // No product list: the filter alone only says "may belong".
    assert_eq!(f[4].known_issues, vec!["LOCKSTEP-2024-0001".to_string()]);
    assert_eq!(f[4].severity, Severity::Warning);
    assert!(f[4].title.starts_with("HV04: filter CSAgent (CrowdStrike) may belong to a product with known issue LOCKSTEP-2024-0001"), "{}", f[4].title);
    // The Defender platform 4.18.24090.11 is older than the fix for CVE-2026-45498.
    assert_eq!(f[5].known_issues, vec!["LOCKSTEP-2026-0001".to_string()]);
    assert!(f[5].title.starts_with("HV04: Microsoft Defender platform 4.18.24090.11 / engine 1.1.24090.11 — known issue LOCKSTEP-2026-0001"), "{}", f[5].title);
}

#[test]
fn csv_states_from_json_redirect_reasons() {
    let json = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/host-protection/csvstate.json"
    ))
    .unwrap();
    let states = csvstate::parse_states(&Text::new("csvstate.json", json)).unwrap();
    let inst = "Filter                Volume Name                              Altitude        Instance Name       Frame   SprtFtrs  VlStatus\n--------------------  -------------------------------------  ------------  ----------------------  -----   --------  --------\nSentinelMonitor       C:\\ClusterStorage\\Volume2                    389040  SentinelMonitor           0   00000003\nWdFilter              C:\\ClusterStorage\\Volume2                    328010  WdFilter Instance         0   00000003\nXyzFlt                C:\\ClusterStorage\\Volume2                    385100.5  XyzFlt Instance         0   00000003\n";
    let mut hv05 = host(
        "HV05",
        WS2022,
        Some(prefs(&[r"C:\ClusterStorage"], &[], &[], false)),
        false,
    );
    hv05.protection.filter_instances = Some(Section::ok(
        fltmc::parse_instances(&Text::new("HV05.fltmc-instances.txt", inst)).unwrap(),
        SourceRef::new("HV05.fltmc-instances.txt", 1),
    ));
    let denied = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/host-protection/unelevated.fltmc-instances.txt"
    ))
    .unwrap();
    let FileContent::Nodes(mut d) =
        (fltmc::FORMAT.parse)(&Text::new("HV06.fltmc-instances.txt", denied)).unwrap()
    else {
        panic!()
    };
    let mut hv06 = host(
        "HV06",
        WS2022,
        Some(prefs(&[r"C:\ClusterStorage"], &[], &[], false)),
        false,
    );
    hv06.protection.filter_instances = d.remove(0).node.protection.filter_instances;
    let mut c = Cluster {
        name: "CL2".into(),
        nodes: vec![hv05, hv06],
        ..Default::default()
    };
    c.protection.csv_states = Some(Section::ok(states, SourceRef::new("csvstate.json", 0)));
    let f: Vec<Finding> = audit_cluster(&c, &Rules::builtin(), &KnownIssues::builtin())
        .into_iter()
        .filter(|x| x.code.as_str().starts_with("csv-"))
        .collect();
    // HV06's Cluster Disk 2 is ReFS only (32): normal, no finding.
    assert_eq!(
        f.iter()
            .map(|x| (x.code.as_str(), x.nodes[0].as_str(), x.severity))
            .collect::<Vec<_>>(),
        vec![
            (
                FindingCode::CsvRedirectedByFilter.as_str(),
                "HV05",
                Severity::Error
            ),
            (
                FindingCode::CsvBlockRedirected.as_str(),
                "HV06",
                Severity::Error
            )
        ]
    );
    assert_eq!(
        f[0].title,
        "Cluster Disk 2 (Volume2) is redirected on HV05 by filter SentinelMonitor (SentinelOne 389040), XyzFlt (385100.5)"
    );
    assert!(
        f[0].detail.contains(
            "XyzFlt (altitude 385100.5, FSFilter Activity Monitor, vendor not in lockstep's table)"
        ),
        "{}",
        f[0].detail
    );
    assert!(f[0].detail.contains("The volume is ReFS"));
    // A filter the cluster declares CSV-compatible is not a suspect.
    c.protection.compatible_filters = Some(vec!["xyzflt".into()]);
    let again = audit_cluster(&c, &Rules::builtin(), &KnownIssues::builtin());
    let csv = again
        .iter()
        .find(|x| x.code == FindingCode::CsvRedirectedByFilter.as_str())
        .unwrap();
    assert_eq!(
        csv.title,
        "Cluster Disk 2 (Volume2) is redirected on HV05 by filter SentinelMonitor (SentinelOne 389040)"
    );
    assert!(f[1].detail.contains("not anti-virus"));
    assert_eq!(
        f[1].fix.as_ref().unwrap().commands,
        vec!["Get-ClusterSharedVolumeState -Name 'Cluster Disk 3' -Node 'HV06'".to_string()]
    );
    // HV06 redirected by a filter too, but its fltmc capture was not elevated:
    // the finding says it cannot name the filter and why.
    if let Some(states) = c
        .protection
        .csv_states
        .as_mut()
        .and_then(|s| s.data.as_mut())
    {
        states[1].fs_reason = lockstep_model::protection::FsRedirectReason(2);
    }
    let third = audit_cluster(&c, &Rules::builtin(), &KnownIssues::builtin());
    let hv06 = third
        .iter()
        .find(|x| {
            x.code == FindingCode::CsvRedirectedByFilter.as_str()
                && x.nodes == vec!["HV06".to_string()]
        })
        .unwrap();
    assert_eq!(
        hv06.title,
        "Cluster Disk 2 (Volume2) is redirected on HV06 by an incompatible filter (IncompatibleFileSystemFilter)"
    );
    assert!(
        hv06.detail.contains(
            "Cannot name the filter: fltmc instances for HV06: access was denied (not elevated)"
        ),
        "{}",
        hv06.detail
    );
    // A volume filter (not a minifilter) is named as such.
    if let Some(states) = c
        .protection
        .csv_states
        .as_mut()
        .and_then(|s| s.data.as_mut())
    {
        states[0].fs_reason = lockstep_model::protection::FsRedirectReason(4);
    }
    let fourth = audit_cluster(&c, &Rules::builtin(), &KnownIssues::builtin());
    let hv05 = fourth
        .iter()
        .find(|x| {
            x.code == FindingCode::CsvRedirectedByFilter.as_str()
                && x.nodes == vec!["HV05".to_string()]
        })
        .unwrap();
    assert!(
        hv05.detail.contains("because of IncompatibleVolumeFilter"),
        "{}",
        hv05.detail
    );
    assert!(
        hv05.detail.contains(r"check the volume class UpperFilters on HV05 (HKLM\SYSTEM\CurrentControlSet\Control\Class\{71a27cdd-812a-11d0-bec7-08002be2092f})"),
        "{}",
        hv05.detail
    );
}

#[test]
fn installed_product_known_issue_with_a_time_window() {
    use lockstep_model::protection::InstalledProduct;
    let mut n = host("HV10", WS2022, Some(prefs(&[], &[], &[], false)), false);
    n.protection.products = Some(Section::ok(
        vec![
            InstalledProduct {
                name: "CrowdStrike Windows Sensor".into(),
                vendor: Some("CrowdStrike, Inc.".into()),
                version: Some("7.11.18110.0".into()),
                source: SourceRef::new("HV10.products.csv", 3),
            },
            InstalledProduct {
                name: "McAfee VirusScan Enterprise".into(),
                vendor: Some("McAfee, Inc.".into()),
                // Patch 3, not an affected build.
                version: Some("8.8.0.1128".into()),
                source: SourceRef::new("HV10.products.csv", 4),
            },
        ],
        SourceRef::new("HV10.products.csv", 0),
    ));
    let f = audit_node(&n, None, &Rules::builtin(), &KnownIssues::builtin());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].code, FindingCode::AvKnownIssue.as_str());
    assert_eq!(f[0].known_issues, vec!["LOCKSTEP-2024-0001".to_string()]);
    // A one-time event: a warning to check, not an error.
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].detail.starts_with("Affected only hosts that were online between 2024-07-19T04:09:00Z and 2024-07-19T05:27:00Z"), "{}", f[0].detail);
    assert_eq!(
        f[0].evidence[0].source,
        SourceRef::new("HV10.products.csv", 3)
    );
}

#[test]
fn defender_not_available_is_unknown_with_advice() {
    use lockstep_model::protection::SectionStatus;
    let section = Section::unavailable(
        SectionStatus::NotAvailable,
        Some("Get-MpPreference: the term is not recognized".into()),
        SourceRef::new("snap.json", 40),
    );
    let f = audit(&host("HV11", WS2012R2, Some(section), true));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].code, FindingCode::AvExclusionsUnknown.as_str());
    assert_eq!(
        f[0].title,
        "HV11: Defender is not available; cannot tell whether the anti-virus in use excludes what this host needs"
    );
    assert_eq!(f[0].fix.as_ref().unwrap().commands, Vec::<String>::new());
    assert!(
        f[0].detail.contains(
            "Get-MpPreference: it was not available (Get-MpPreference: the term is not recognized)"
        ),
        "{}",
        f[0].detail
    );
    assert_eq!(f[0].evidence[0].source, SourceRef::new("snap.json", 40));
}
