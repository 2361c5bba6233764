//! `lockstep inventory` end to end: the real binary on temporary directories.

use std::path::{Path, PathBuf};
use std::process::Command;

fn lockstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/inventory/"
    ))
    .join(name)
}

fn systeminfo(host: &str, kbs: &[&str]) -> String {
    let mut s = format!(
        "\r\nHost Name:                 {host}\r\nOS Name:                   Microsoft Windows Server 2022 Datacenter\r\nOS Version:                10.0.20348 N/A Build 20348\r\nOS Manufacturer:           Microsoft Corporation\r\nOS Configuration:          Member Server\r\nOS Build Type:             Multiprocessor Free\r\nRegistered Owner:          Windows User\r\nRegistered Organization:   \r\nProduct ID:                00454-60000-00001-AA763\r\nOriginal Install Date:     1/10/2024, 9:12:44 AM\r\nSystem Boot Time:          3/2/2024, 6:01:12 AM\r\nSystem Manufacturer:       Dell Inc.\r\nSystem Model:              PowerEdge R750\r\nSystem Type:               x64-based PC\r\nProcessor(s):              1 Processor(s) Installed.\r\n                           [01]: Intel64 Family 6 Model 106 Stepping 6 GenuineIntel ~2000 Mhz\r\nDomain:                    corp.example.com\r\nLogon Server:              \\\\DC01\r\nHotfix(s):                 {} Hotfix(s) Installed.\r\n",
        kbs.len()
    );
    for (i, kb) in kbs.iter().enumerate() {
        s.push_str(&format!(
            "                           [{:02}]: {kb}\r\n",
            i + 1
        ));
    }
    s
}

fn run(args: &[&Path], json: bool) -> (i32, serde_json::Value, String, String) {
    let mut c = lockstep();
    c.arg("inventory");
    if json {
        c.args(["--format", "json"]);
    }
    c.args(args);
    let out = c.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let v = if json {
        serde_json::from_str(&stdout).unwrap()
    } else {
        serde_json::Value::Null
    };
    (out.status.code().unwrap(), v, stdout, stderr)
}

fn kbs(node: &serde_json::Value) -> Vec<String> {
    node["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["kb"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn directory_is_one_cluster_with_node_subdirectories() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("HVCLU01");
    std::fs::create_dir_all(dir.join("HV02")).unwrap();
    std::fs::write(
        dir.join("HV01.systeminfo.txt"),
        systeminfo("HV01", &["KB5034129", "KB5034439"]),
    )
    .unwrap();
    // An update history capture names no node: the subdirectory does.
    std::fs::copy(
        fixture("WS01.wua-history-ja.txt"),
        dir.join("HV02").join("wu-history.txt"),
    )
    .unwrap();
    let (code, v, _, stderr) = run(&[&dir], true);
    assert_eq!(code, 0, "{stderr}");
    let clusters = v["inventory"]["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0]["name"], "HVCLU01");
    let nodes = clusters[0]["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["HV01", "HV02"]);
    assert_eq!(kbs(&nodes[0]), ["KB5034129", "KB5034439"]);
    assert_eq!(kbs(&nodes[1]), ["KB5023794", "KB5023696"]);
    assert_eq!(nodes[0]["os"]["version"]["value"], "10.0.20348");
    assert_eq!(nodes[0]["cluster"], "HVCLU01");
    assert_eq!(v["inventory"]["loose_nodes"].as_array().unwrap().len(), 0);
    let formats: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["systeminfo", "wu-history"]);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn mixed_formats_merge_into_one_node_case_insensitively() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("CLU");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), systeminfo("hv01", &["KB5031589"])).unwrap();
    // Get-HotFix CSV for HV01 (upper case) adds dates and more KBs.
    std::fs::copy(fixture("HV01.get-hotfix.csv"), dir.join("b.csv")).unwrap();
    std::fs::copy(fixture("HV10.osquery-patches.json"), dir.join("c.json")).unwrap();
    let (code, v, _, _) = run(&[&dir], true);
    assert_eq!(code, 0);
    let nodes = v["inventory"]["clusters"][0]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0]["name"], "hv01");
    assert_eq!(
        kbs(&nodes[0]),
        ["KB5031589", "KB5032306", "KB5033118", "KB5012170"]
    );
    // The date came from the CSV although systeminfo named the KB first.
    assert_eq!(nodes[0]["updates"][0]["installed_on"], "2023-11-15");
    assert_eq!(nodes[0]["sources"].as_array().unwrap().len(), 2);
    assert_eq!(nodes[1]["name"], "HV10");
}

#[test]
fn bad_files_among_good_ones_exit_2_and_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("CLU");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("HV01.txt"), systeminfo("HV01", &["KB5034129"])).unwrap();
    std::fs::write(
        dir.join("HV02.json"),
        "[\n  {\"HotFixID\": \"KB5034129\",\n   \"InstalledOn\": }\n]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("HV03.bin"),
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00",
    )
    .unwrap();
    std::fs::write(dir.join("HV04.txt"), systeminfo("HV04", &["KB5034439"])).unwrap();
    let (code, _, stdout, stderr) = run(&[&dir], false);
    assert_eq!(code, 2);
    let json_path = dir.join("HV02.json").display().to_string();
    assert!(
        stderr.contains(&format!(
            "lockstep: {json_path}:3: expected Get-HotFix ConvertTo-Json output"
        )),
        "{stderr}"
    );
    let bin_path = dir.join("HV03.bin").display().to_string();
    assert!(
        stderr.contains(&format!(
            "lockstep: {bin_path}:1: expected text, found binary data"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    assert!(
        stdout.contains("HV01") && stdout.contains("HV04"),
        "{stdout}"
    );
    assert!(!stdout.contains("HV02") && !stdout.contains("HV03"));
}

#[test]
fn loose_files_and_missing_path() {
    let missing = PathBuf::from("/nonexistent/lockstep/inventory");
    let (code, v, _, stderr) = run(
        &[&fixture("HV03.get-hotfix-table.utf16le.txt"), &missing],
        true,
    );
    assert_eq!(code, 2);
    assert!(stderr.starts_with(
        "lockstep: /nonexistent/lockstep/inventory: expected a readable file or directory"
    ));
    let loose = v["inventory"]["loose_nodes"].as_array().unwrap();
    assert_eq!(loose[0]["name"], "HV03");
    assert_eq!(
        kbs(&loose[0]),
        ["KB5031589", "KB5032306", "KB5033118", "KB5033371"]
    );
    assert_eq!(v["errors"][0]["path"], "/nonexistent/lockstep/inventory");
}

#[test]
fn table_output_columns() {
    let (code, _, stdout, _) = run(&[&fixture("HV-CN01.systeminfo.gbk.txt")], false);
    assert_eq!(code, 0);
    for word in [
        "Cluster",
        "Node",
        "OS",
        "Build",
        "KBs",
        "Sources",
        "HV-CN01",
        "10.0.17763",
        "HV-CN01.systeminfo.gbk.txt",
    ] {
        assert!(stdout.contains(word), "{word} missing in\n{stdout}");
    }
}

fn real(sub: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real/")).join(sub)
}

/// A Windows 7 host whose systeminfo (cut short at 245 of 273 hotfixes) and
/// wmic qfe (276) disagree: both are read into one node, the union is
/// used, and both warnings reach stderr and the JSON; the exit code stays 0.
#[test]
fn warnings_about_captures_go_to_stderr_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("TRUTH");
    std::fs::create_dir(&dir).unwrap();
    for (from, to) in [
        (
            "wesng__7_sp1_x64_enterprise_en-us_20190305_systeminfo.txt",
            "HOST.systeminfo.txt",
        ),
        (
            "wesng__7_sp1_x64_enterprise_en-us_20190305_qfe.txt",
            "HOST.qfe.txt",
        ),
    ] {
        std::fs::copy(real("truth").join(from), dir.join(to)).unwrap();
    }
    let si = dir.join("HOST.systeminfo.txt").display().to_string();
    let qfe = dir.join("HOST.qfe.txt").display().to_string();
    let (code, v, _, stderr) = run(&[&dir], true);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert_eq!(
        lines[0],
        format!(
            "lockstep: warning: {si}:33: systeminfo says 273 hotfixes are installed but lists 245: the other 28 are unknown from this file (systeminfo on Windows 7 and Server 2008 R2 stops listing long lists; a wmic qfe or Get-HotFix capture of the host lists them all)"
        )
    );
    assert!(
        lines[1].starts_with(&format!(
            "lockstep: warning: {si}: WIN7SP1X64: installed updates differ from {qfe}: 0 only here, 31 only there (KB3109560, "
        )),
        "{stderr}"
    );
    let node = &v["inventory"]["clusters"][0]["nodes"][0];
    assert_eq!(node["name"], "WIN7SP1X64");
    assert_eq!(node["updates"].as_array().unwrap().len(), 276);
    let w = v["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 2);
    assert_eq!(
        (w[0]["path"].as_str(), w[0]["line"].as_u64()),
        (Some(si.as_str()), Some(33))
    );
    assert_eq!(
        w[1]["message"]
            .as_str()
            .map(|m| format!("lockstep: warning: {m}")),
        Some(lines[1].to_string())
    );
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
    // The table view prints the same warnings on stderr.
    let (code, _, stdout, table_err) = run(&[&dir], false);
    assert_eq!((code, table_err.as_str()), (0, stderr.as_str()));
    assert!(
        stdout.contains("WIN7SP1X64") && stdout.contains("276"),
        "{stdout}"
    );
}

/// The id of a KB with a suffix is kept as written beside the KB.
#[test]
fn suffixed_ids_show_as_written() {
    let (code, v, _, stderr) = run(
        &[&real("inventory").join("wesng__xp_sp3_x86_professional_en-us_systeminfo.txt")],
        true,
    );
    assert_eq!(code, 0, "{stderr}");
    let u = &v["inventory"]["loose_nodes"][0]["updates"][0];
    assert_eq!(
        (u["kb"].as_str(), u["id_text"].as_str()),
        (Some("KB2378111"), Some("KB2378111_WM9"))
    );
    // A plain id has no id_text at all.
    let plain = &v["inventory"]["loose_nodes"][0]["updates"][10];
    assert_eq!(plain["kb"], "KB898461");
    assert!(plain.get("id_text").is_none(), "{plain}");
}
