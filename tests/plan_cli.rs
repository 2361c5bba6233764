//! `lockstep plan` as the real binary: targets, emitters, exit codes,
//! atomic `-o`, usage errors.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--no-catalog")
        .arg("plan")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("LOCKSTEP_CATALOG")
        .output()
        .expect("run lockstep")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn converge_json_for_the_example() {
    let o = run(&[
        "examples/kb2616676",
        "--target",
        "converge",
        "--emit",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["schema"], "lockstep-plan/1");
    assert_eq!(plan["target"], "converge");
    assert_eq!(plan["status"], "ready");
    let nodes: Vec<&str> = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["HV03", "HV04"]);
    for n in plan["nodes"].as_array().unwrap() {
        let steps: Vec<String> = n["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["action"].as_str().unwrap(),
                    s["kb"].as_str().unwrap_or("")
                )
                .trim()
                .to_string()
            })
            .collect();
        assert_eq!(
            steps,
            [
                "drain",
                "uninstall KB2616676",
                "install KB2607712",
                "install KB2616676",
                "reboot",
                "verify",
                "resume"
            ]
        );
    }
    assert_eq!(plan["untouched"], serde_json::json!(["HV01", "HV02"]));
}

#[test]
fn secure_is_empty_and_exits_zero() {
    let o = run(&["examples/kb2616676", "--target", "secure"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("Nothing to do under --target secure: the drift is covered"),
        "{text}"
    );
    assert!(text.contains(
        "KB2607712 on HV03, HV04: covered by KB2616676, supersedence intended (known issue LOCKSTEP-2011-0001) — left alone under --target secure"
    ));
}

#[test]
fn powershell_to_a_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.ps1");
    let o = run(&[
        "examples/kb2616676",
        "--target",
        "converge",
        "--emit",
        "powershell",
        "--soak",
        "2h",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert!(out(&o).is_empty());
    let script = std::fs::read_to_string(&path).unwrap();
    assert!(script.starts_with("#Requires -Version 5.1\n"));
    assert!(script.contains("[pscustomobject]@{ Nodes = @('HV03'); SoakSeconds = 7200 }"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn cau_refuses_a_plan_with_uninstalls() {
    let o = run(&[
        "examples/kb2616676",
        "--target",
        "converge",
        "--emit",
        "cau",
    ]);
    // A plan CAU cannot run is refused: exit code 1, as README says.
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).is_empty());
    assert!(err(&o).contains("CAU's hotfix plug-in only installs; this plan needs uninstalls (HV03 must first remove KB2616676; HV04 must first remove KB2616676)"), "{}", err(&o));
}

#[test]
fn refused_plan_exits_one_and_emits_no_script() {
    // Two nodes from plain captures: no cluster state, so no witness is
    // assumed and draining either node would lose quorum.
    let dir = tempfile::tempdir().unwrap();
    let c = two_node_cluster(dir.path());
    let o = run(&[&c, "--target", "converge", "--emit", "powershell"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).is_empty());
    assert!(
        err(&o).contains("the plan for HVCLU2 was refused"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("quorum would be lost"));
    assert!(err(&o).contains("say so with --witness disk|file-share|cloud"));
    let o = run(&[&c, "--target", "converge"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("Refused:\n  - quorum: 2 node votes and no witness"),
        "{}",
        out(&o)
    );
}

/// The MSRC CVRF document of December 2023, imported once per test binary.
fn catalog() -> &'static Path {
    static CATALOG: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = CATALOG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dec.sqlite3");
        let o = Command::new(BIN)
            .arg("--catalog")
            .arg(&path)
            .args([
                "catalog",
                "import",
                "tests/fixtures/real/catalog/cvrf/cvrfDocument-2023-Dec.xml",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", err(&o));
        (dir, path)
    });
    path
}

fn run_cat(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--catalog")
        .arg(catalog())
        .arg("plan")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("LOCKSTEP_CATALOG")
        .output()
        .expect("run lockstep")
}

/// HVS01 and HVS03 of the ws2022-behind example as cluster HVCLU2 (plain
/// systeminfo / Get-HotFix captures: no cluster state).
fn two_node_cluster(dir: &Path) -> String {
    let c = dir.join("HVCLU2");
    std::fs::create_dir(&c).unwrap();
    for f in [
        "HVS01.systeminfo.txt",
        "HVS01.get-hotfix.csv",
        "HVS03.systeminfo.txt",
        "HVS03.get-hotfix.csv",
    ] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples/ws2022-behind")
                .join(f),
            c.join(f),
        )
        .unwrap();
    }
    c.to_str().unwrap().to_string()
}

fn node_names(plan: &Value) -> Vec<&str> {
    plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect()
}

#[test]
fn ws2022_behind_converge_raises_hvs03_only() {
    let o = run_cat(&[
        "examples/ws2022-behind",
        "--target",
        "converge",
        "--emit",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(node_names(&plan), ["HVS03"]);
    assert_eq!(plan["untouched"], serde_json::json!(["HVS01", "HVS02"]));
    assert_eq!(plan["removals"], serde_json::json!([]));
    insta::assert_snapshot!("plan_ws2022_behind_converge_json", out(&o));
}

#[test]
fn ws2022_behind_secure_installs_what_check_reports() {
    let o = run_cat(&[
        "examples/ws2022-behind",
        "--target",
        "secure",
        "--emit",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(node_names(&plan), ["HVS03"]);
    assert_eq!(
        plan["nodes"][0]["installs"],
        serde_json::json!(["KB5033118"])
    );
    insta::assert_snapshot!("plan_ws2022_behind_secure_json", out(&o));
}

#[test]
fn kb2616676_secure_with_the_catalog_installs_what_check_reports() {
    // check reports KB5033433 missing on every node: the December 2023
    // monthly rollup, which contains that month's security-only update
    // KB5033424 and that day's IE cumulative update KB5033376 (servicing
    // model windows-monthly-rollup). The secure plan installs exactly it.
    let o = run_cat(&["examples/kb2616676", "--target", "secure", "--emit", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(node_names(&plan), ["HV01", "HV02", "HV03", "HV04"]);
    for n in plan["nodes"].as_array().unwrap() {
        let steps: Vec<String> = n["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["action"].as_str().unwrap(),
                    s["kb"].as_str().unwrap_or("")
                )
                .trim()
                .to_string()
            })
            .collect();
        assert_eq!(
            steps,
            ["drain", "install KB5033433", "reboot", "verify", "resume"]
        );
    }
}

#[test]
fn two_nodes_from_plain_captures_with_and_without_the_witness_stated() {
    let dir = tempfile::tempdir().unwrap();
    let c = two_node_cluster(dir.path());
    let o = run_cat(&[&c, "--target", "secure", "--emit", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["status"], "refused");
    assert!(
        plan["refusals"][0]
            .as_str()
            .unwrap()
            .contains("if the cluster has one, say so with --witness disk|file-share|cloud"),
        "{}",
        plan["refusals"]
    );
    insta::assert_snapshot!("plan_two_node_refused_json", out(&o));
    let o = run_cat(&[
        &c,
        "--target",
        "secure",
        "--witness",
        "disk",
        "--emit",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["status"], "ready");
    assert_eq!(plan["settings"]["witness"], "DiskWitness");
    assert_eq!(node_names(&plan), ["HVS03"]);
    insta::assert_snapshot!("plan_two_node_disk_witness_json", out(&o));
}

#[test]
fn two_node_snapshot_without_witness_is_planned_by_dynamic_quorum() {
    let o = run_cat(&[
        "tests/fixtures/snapshot/two-node-no-witness.json",
        "--target",
        "secure",
        "--emit",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["quorum"]["dynamic"], true);
    assert_eq!(node_names(&plan), ["HV2N-02"]);
    insta::assert_snapshot!("plan_two_node_dynamic_quorum_json", out(&o));
}

#[test]
fn admin_options_are_checked() {
    for (args, want) in [
        (
            vec!["--node-votes", "HV01=2"],
            "expected 0 or 1 votes (NodeWeight) for HV01",
        ),
        (
            vec!["--node-votes", "HV09=0"],
            "--node-votes names \"HV09\", which is not a node of cluster kb2616676",
        ),
        (
            vec!["--memory-reserve", "lots"],
            "expected a memory size such as 8GiB",
        ),
        (
            vec!["--witness", "quorum"],
            "expected a witness kind: disk, file-share, cloud or none",
        ),
    ] {
        let mut all = vec!["examples/kb2616676", "--target", "converge"];
        all.extend(args.iter().copied());
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(err(&o).contains(want), "{args:?}: {}", err(&o));
    }
    // Stated votes and reserve show in the plan's settings.
    let o = run(&[
        "examples/kb2616676",
        "--target",
        "converge",
        "--node-votes",
        "HV01=1,HV02=1,HV03=1,HV04=0",
        "--witness",
        "file-share",
        "--memory-reserve",
        "8GiB",
        "--allow-offline-group",
        "Test VMs",
        "--reboot-between",
        "--emit",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(
        plan["settings"]["node_votes"],
        serde_json::json!({"HV01": 1, "HV02": 1, "HV03": 1, "HV04": 0})
    );
    assert_eq!(plan["settings"]["memory_reserve_bytes"], 8u64 << 30);
    assert_eq!(
        plan["settings"]["allow_offline_groups"],
        serde_json::json!(["Test VMs"])
    );
    assert_eq!(plan["quorum"]["verified"], true);
    assert_eq!(plan["quorum"]["total_votes"], 4);
    // --reboot-between: a restart after the removal on each node.
    let steps: Vec<&str> = plan["nodes"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "drain",
            "uninstall",
            "reboot",
            "install",
            "install",
            "reboot",
            "verify",
            "resume"
        ]
    );
    assert_eq!(plan["nodes"][0]["steps"][1]["reboot"], "planned");
}

#[test]
fn usage_errors_exit_two() {
    // Unknown node in --order.
    let o = run(&[
        "examples/kb2616676",
        "--target",
        "converge",
        "--order",
        "HV09",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("--order names \"HV09\", which is not a node of cluster kb2616676"),
        "{}",
        err(&o)
    );
    // Bad duration, bad target: clap usage errors.
    assert_eq!(
        run(&[
            "examples/kb2616676",
            "--target",
            "converge",
            "--soak",
            "soon"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        run(&["examples/kb2616676", "--target", "fast"])
            .status
            .code(),
        Some(2)
    );
    // A missing input still exits 2 after the others were planned.
    let o = run(&["examples/kb2616676", "no/such/dir", "--target", "converge"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).contains("Plan for cluster kb2616676"));
    assert!(err(&o).contains("no/such/dir"), "{}", err(&o));
}

#[test]
fn max_parallel_that_cannot_apply_says_why() {
    // Two nodes change: the canary goes alone, and so does the other.
    let o = run(&[
        "examples/kb2616676",
        "--target",
        "converge",
        "--max-parallel",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    let waves: Vec<usize> = plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["nodes"].as_array().unwrap().len())
        .collect();
    assert_eq!(waves, [1, 1]);
    assert_eq!(
        plan["warnings"],
        serde_json::json!([
            "--max-parallel 2: only 2 nodes change and the first is the canary, which always goes alone; every node goes alone"
        ])
    );
    // Asked for one at a time: nothing to explain.
    let o = run(&[
        "examples/kb2616676",
        "--target",
        "converge",
        "--emit",
        "json",
    ]);
    let plan: Value = serde_json::from_str(&out(&o)).unwrap();
    assert_eq!(plan["warnings"], serde_json::json!([]));
}
