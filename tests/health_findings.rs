//! Facts the snapshot holds become findings of `check`: a failed install in
//! the Windows Update history, a pending reboot, an offline cluster group.

use serde_json::Value;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn findings(path: &str) -> Vec<Value> {
    let o = Command::new(BIN)
        .args([
            "--no-catalog",
            "check",
            path,
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("LOCKSTEP_CATALOG")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["code"].as_str(),
                Some("update-install-failed" | "reboot-pending" | "cluster-group-offline")
            )
        })
        .cloned()
        .collect()
}

#[test]
fn hvclu22_failed_install_pending_reboot_and_offline_group() {
    let f = findings("tests/fixtures/snapshot/hvclu22.json");
    let got: Vec<(&str, &str, Vec<&str>, &str)> = f
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
                f["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect(),
                f["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "cluster-group-offline",
                "warning",
                vec![],
                "1 cluster group not online: TEST01"
            ),
            (
                "reboot-pending",
                "warning",
                vec!["HV22-03"],
                "Reboot pending on HV22-03"
            ),
            (
                "update-install-failed",
                "warning",
                vec!["HV22-03"],
                "HV22-03: the install of KB5033118 failed and it is not installed"
            ),
        ]
    );
    // Evidence points into the snapshot: the failed history entry's line.
    let failed = &f[2];
    assert_eq!(
        failed["evidence"][0]["source"]["file"],
        "tests/fixtures/snapshot/hvclu22.json"
    );
    assert_eq!(failed["evidence"][0]["source"]["line"], 706);
    assert_eq!(
        f[1]["fix"]["commands"],
        serde_json::json!([
            "Suspend-ClusterNode -Name 'HV22-03' -Drain -Wait",
            "Restart-Computer -ComputerName 'HV22-03' -Force -Wait -For PowerShell",
            "Resume-ClusterNode -Name 'HV22-03' -Failback Immediate"
        ])
    );
    assert_eq!(
        f[0]["fix"]["commands"],
        serde_json::json!(["Start-ClusterGroup -Name 'TEST01'"])
    );
}

#[test]
fn healthy_inputs_have_none() {
    assert!(findings("tests/fixtures/snapshot/two-node-no-witness.json").is_empty());
    assert!(findings("examples/kb2616676").is_empty());
}
