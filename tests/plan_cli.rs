//! `lockstep plan` as the real binary: targets, emitters, exit codes,
//! atomic `-o`, usage errors.

use serde_json::Value;
use std::process::{Command, Output};

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
    let o = run(&[
        "tests/fixtures/snapshot/two-node-no-witness.json",
        "--target",
        "converge",
        "--emit",
        "powershell",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).is_empty());
    assert!(
        err(&o).contains("the plan for HVCLU2N was refused"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("quorum would be lost"));
    let o = run(&[
        "tests/fixtures/snapshot/two-node-no-witness.json",
        "--target",
        "converge",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        out(&o).contains("Refused:\n  - quorum: 2 node votes and no witness"),
        "{}",
        out(&o)
    );
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
