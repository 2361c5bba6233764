//! `lockstep check` on the bundled examples, run as the real binary.
//!
//! The kb2616676 example runs with `--no-catalog`: its verdict must come
//! from the built-in known issue alone (the 2011 edge predates every catalog
//! lockstep imports). The ws2022-behind example runs against a catalog
//! imported from Microsoft's real December 2023 CVRF document.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn shared(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(p)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("LOCKSTEP_CATALOG")
        .output()
        .expect("run lockstep")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn findings(report: &Value) -> Vec<(String, String, Vec<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
                f["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

/// A cluster directory `name` under `dir` with HV01 and HV03 of the
/// kb2616676 example.
fn two_node_cluster(dir: &Path, name: &str) -> PathBuf {
    let cluster = dir.join(name);
    std::fs::create_dir(&cluster).unwrap();
    for n in ["HV01", "HV03"] {
        std::fs::copy(
            repo(&format!("examples/kb2616676/{n}.systeminfo.txt")),
            cluster.join(format!("{n}.systeminfo.txt")),
        )
        .unwrap();
    }
    cluster
}

fn validate_report(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("schema/report-v1.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match its schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn kb2616676_without_catalog_explains_the_drift_as_covered() {
    let out = run(&[
        "--no-catalog",
        "check",
        "examples/kb2616676",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    validate_report(&report);
    let cluster = &report["clusters"][0];
    assert_eq!(cluster["name"], "kb2616676");
    let drift = &cluster["drift"];
    assert_eq!(drift["common_updates"], 51);
    assert_eq!(drift["rows"].as_array().unwrap().len(), 1);
    assert_eq!(drift["rows"][0]["kb"], "KB2607712");
    let classes: Vec<&str> = drift["rows"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap_or(c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(classes, ["present", "present", "covered", "covered"]);
    let group = &drift["groups"][0];
    assert_eq!(group["class"], "covered");
    assert_eq!(group["absent_on"], serde_json::json!(["HV03", "HV04"]));
    assert_eq!(group["product"], "Windows Server 2008 R2 Service Pack 1");
    assert_eq!(group["chain"][0]["newer"], "KB2616676");
    assert_eq!(group["chain"][0]["older"], "KB2607712");
    assert_eq!(
        group["chain"][0]["sources"],
        serde_json::json!(["known-issue:LOCKSTEP-2011-0001"])
    );
    assert_eq!(group["chain"][0]["verdict"]["kind"], "intended");
    insta::assert_json_snapshot!("kb2616676_json", report);
    let validation = &drift["validation"];
    assert_eq!(validation["will_warn"], true);
    assert_eq!(validation["kbs"], serde_json::json!(["KB2607712"]));
    assert_eq!(validation["gap_kbs"], serde_json::json!([]));
    assert!(
        validation["remedy"]
            .as_str()
            .unwrap()
            .contains("lockstep plan examples/kb2616676 --target converge")
    );
    let got = findings(&report);
    let drift_findings: Vec<_> = got
        .iter()
        .filter(|(_, code, _)| !code.starts_with("av-") && !code.starts_with("csv-"))
        .cloned()
        .collect();
    assert_eq!(
        drift_findings,
        vec![
            (
                "warning".into(),
                "cluster-validation-will-warn".into(),
                vec![]
            ),
            ("info".into(), "catalog-unavailable".into(), vec![]),
            (
                "info".into(),
                "update-drift-covered".into(),
                vec!["HV03".to_string(), "HV04".to_string()]
            ),
        ]
    );
}

#[test]
fn kb2616676_text_report_says_it_in_the_admins_words() {
    let out = run(&["--no-catalog", "check", "examples/kb2616676"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains(
        "Cluster validation (Test-Cluster, \"Validate Software Update Levels\") will warn about kb2616676: 1 update is not installed on every node (KB2607712). It is not a security gap: it is covered on the nodes that lack it."
    ), "{text}");
    assert!(text.contains(
        "KB2607712 absent on HV03, HV04; covered by KB2616676 (KB2616676 installed on all 4 nodes), chain KB2607712 ← KB2616676 (known-issue:LOCKSTEP-2011-0001) — supersedence intended on Windows Server 2008 R2 Service Pack 1"
    ), "{text}");
    insta::assert_snapshot!("kb2616676_text", text);
}

#[test]
fn fail_on_info_turns_the_covered_drift_into_exit_1() {
    let out = run(&[
        "--no-catalog",
        "check",
        "examples/kb2616676",
        "--fail-on",
        "info",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&[
        "--no-catalog",
        "check",
        "examples/kb2616676",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_explicit_catalog_that_does_not_exist_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sqlite3");
    let out = run(&[
        "--catalog",
        missing.to_str().unwrap(),
        "check",
        "examples/kb2616676",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn a_bad_input_is_reported_and_the_rest_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = two_node_cluster(dir.path(), "clu");
    std::fs::write(cluster.join("HV09.hotfix.json"), "[{\"HotFixID\": \"KB1\",").unwrap();
    let out = run(&[
        "--no-catalog",
        "check",
        cluster.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let errors = report["input_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].as_str().unwrap().contains("HV09.hotfix.json"),
        "{errors:?}"
    );
    assert_eq!(report["clusters"][0]["drift"]["rows"][0]["kb"], "KB2607712");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("HV09.hotfix.json:1"), "{err}");
}

#[test]
fn ws2022_behind_reports_the_missing_cumulative_update_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.sqlite3");
    let cat = catalog.to_str().unwrap();
    let cvrf = shared("catalog/cvrf/cvrfDocument-2023-Dec.xml");
    let out = run(&[
        "--catalog",
        cat,
        "catalog",
        "import",
        cvrf.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "--catalog",
        cat,
        "check",
        "examples/ws2022-behind",
        "--as-of",
        "2023-12-31",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    validate_report(&report);
    report["catalog"]["path"] = Value::String("[temporary catalog]".into());
    insta::assert_json_snapshot!("ws2022_behind_json", report);
    let text = stdout(&run(&[
        "--catalog",
        cat,
        "check",
        "examples/ws2022-behind",
        "--as-of",
        "2023-12-31",
    ]))
    .replace(cat, "[temporary catalog]");
    insta::assert_snapshot!("ws2022_behind_text", text);
    let drift = &report["clusters"][0]["drift"];
    let groups = drift["groups"].as_array().unwrap();
    let kb5033118 = groups.iter().find(|g| g["kb"] == "KB5033118").unwrap();
    assert_eq!(kb5033118["class"], "missing");
    assert_eq!(kb5033118["absent_on"], serde_json::json!(["HVS03"]));
    assert_eq!(
        drift["validation"]["gap_kbs"],
        serde_json::json!(["KB5033118"])
    );
    let errors: Vec<_> = findings(&report)
        .into_iter()
        .filter(|(sev, _, _)| sev == "error")
        .collect();
    assert!(
        errors.contains(&(
            "error".to_string(),
            "update-drift-missing".to_string(),
            vec!["HVS03".to_string()]
        )),
        "{errors:?}"
    );
    // HVS03 also lacks it against the catalog itself: the December chain head.
    let posture = &report["clusters"][0]["posture"];
    let hvs03 = posture
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["node"] == "HVS03")
        .unwrap();
    let heads: Vec<&str> = hvs03["products"][0]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kb"].as_str().unwrap())
        .collect();
    assert_eq!(heads, ["KB5033118"]);
    let hvs01 = posture
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["node"] == "HVS01")
        .unwrap();
    assert_eq!(hvs01["products"][0]["missing"], serde_json::json!([]));
}

#[test]
fn several_clusters_stream_in_input_order_as_each_would_alone() {
    // The report is written cluster by cluster as they are judged; the
    // result must be what each cluster gives on its own, in input order.
    let json = |paths: &[&str]| -> Value {
        let mut args = vec!["--no-catalog", "check"];
        args.extend_from_slice(paths);
        args.extend_from_slice(&["--format", "json", "--fail-on", "never"]);
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let both = json(&["examples/kb2616676", "examples/ws2022-behind"]);
    validate_report(&both);
    let a = json(&["examples/kb2616676"]);
    let b = json(&["examples/ws2022-behind"]);
    assert_eq!(
        both["clusters"],
        Value::Array(vec![a["clusters"][0].clone(), b["clusters"][0].clone()])
    );
    let mut separate = findings(&a);
    // The "no catalog" finding is said once per report.
    separate.extend(
        findings(&b)
            .into_iter()
            .filter(|(_, code, _)| code != "catalog-unavailable"),
    );
    let mut together = findings(&both);
    separate.sort();
    together.sort();
    assert_eq!(together, separate);
    let text = stdout(&run(&[
        "--no-catalog",
        "check",
        "examples/kb2616676",
        "examples/ws2022-behind",
        "--fail-on",
        "never",
    ]));
    assert!(
        text.starts_with("lockstep check: 2 cluster(s), 7 node(s); catalog: none\n"),
        "{text}"
    );
    let at = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} not in:\n{text}"))
    };
    assert!(at("Cluster kb2616676") < at("Cluster ws2022-behind"));
    assert!(at("Cluster ws2022-behind") < at("\nFindings ("));
}

#[test]
fn terminal_escapes_in_input_names_do_not_reach_the_terminal() {
    // A cluster (directory) name that would retitle and clear the admin's
    // terminal; the name is printed in the report's headings and findings.
    let dir = tempfile::tempdir().unwrap();
    let cluster = two_node_cluster(dir.path(), "clu\u{1b}]0;owned\u{7}\u{1b}[2J");
    let out = run(&[
        "--no-catalog",
        "check",
        cluster.to_str().unwrap(),
        "--fail-on",
        "never",
    ]);
    let text = stdout(&out);
    assert!(
        text.contains("Cluster clu\u{FFFD}]0;owned\u{FFFD}\u{FFFD}[2J — 2 node(s)"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text}"
    );
}

#[test]
fn nodes_without_defender_data_share_one_finding_whatever_their_names() {
    // Node names that are words of the finding's own sentence: the grouped
    // wording must name the nodes, not patch the sentence.
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("clu");
    std::fs::create_dir(&cluster).unwrap();
    for (from, to) in [("HV01", "Defender"), ("HV03", "on")] {
        let text =
            std::fs::read_to_string(repo(&format!("examples/kb2616676/{from}.systeminfo.txt")))
                .unwrap()
                .replace(from, to);
        std::fs::write(cluster.join(format!("{to}.systeminfo.txt")), text).unwrap();
    }
    let out = run(&[
        "--no-catalog",
        "check",
        cluster.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let unknown: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "av-exclusions-unknown")
        .collect();
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0]["nodes"], serde_json::json!(["Defender", "on"]));
    // Windows Server 2008 R2 has no Defender: the advice says so instead
    // of asking for Get-MpPreference.
    assert_eq!(
        unknown[0]["title"],
        "Defender, on: Windows Server 2008 R2 has no Microsoft Defender; cannot tell whether the anti-virus in use excludes what this host needs"
    );
    assert_eq!(
        unknown[0]["fix"]["text"],
        "Windows Server 2008 R2 has no Microsoft Defender and no Get-MpPreference (Defender and its module come with Windows Server 2016 and later). Configure and check the exclusions listed above in the anti-virus product that runs on Defender, on, following its vendor's guidance for Hyper-V hosts and clusters; lockstep cannot read them."
    );
    assert!(unknown[0]["fix"].get("commands").is_none());
}

#[test]
fn input_warnings_reach_the_report_and_stderr_without_changing_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = two_node_cluster(dir.path(), "clu");
    // A wmic qfe capture of HV01 (no host name in it: its file name prefix
    // is that of HV01's systeminfo) listing one update systeminfo does not.
    std::fs::write(
        cluster.join("HV01.qfe.txt"),
        "HotFixID   InstalledOn  \r\nKB976902   11/21/2010   \r\nKB5005039  8/10/2021    \r\n\r\n",
    )
    .unwrap();
    let out = run(&[
        "--no-catalog",
        "check",
        cluster.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    validate_report(&report);
    let warnings = report["input_warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0].as_str().unwrap();
    assert!(
        w.contains("HV01.systeminfo.txt: HV01: installed updates differ from")
            && w.contains("HV01.qfe.txt: 51 only here")
            && w.contains("1 only there (KB5005039); the union (53 updates) is used"),
        "{w}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("lockstep: warning: {w}")), "{err}");
    let out = run(&["--no-catalog", "check", cluster.to_str().unwrap()]);
    assert!(stdout(&out).contains("input warning: "), "{}", stdout(&out));
}
