//! The reference snapshot end to end, as the admin uses it after running the
//! collector: `snapshot validate`, `check` in every report format, `plan`.
//! Runs without a catalog (`--no-catalog`) so the result does not depend on
//! what is installed on the machine; the assertions are the facts the
//! snapshot carries (HV22-03 lacks KB5033118, HV22-02's Defender preferences
//! are unreadable, the others follow the guidance).

use std::collections::BTreeSet;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");
const HVCLU22: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/snapshot/hvclu22.json"
);

fn lockstep(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("LOCKSTEP_CATALOG")
        .output()
        .expect("lockstep runs")
}

fn ok_stdout(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_then_check_json() {
    ok_stdout(&lockstep(&["snapshot", "validate", HVCLU22]));
    let out = ok_stdout(&lockstep(&[
        "check",
        "--no-catalog",
        "--format",
        "json",
        HVCLU22,
    ]));
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let findings = report["findings"].as_array().expect("findings");
    let codes: BTreeSet<(&str, String)> = findings
        .iter()
        .map(|f| {
            let nodes: Vec<&str> = f["nodes"]
                .as_array()
                .map(|a| a.iter().filter_map(|n| n.as_str()).collect())
                .unwrap_or_default();
            (f["code"].as_str().unwrap_or(""), nodes.join(","))
        })
        .collect();
    // The one drift: KB5033118 on HV22-03, which validation will warn about.
    assert!(
        codes
            .iter()
            .any(|(c, _)| *c == "cluster-validation-will-warn"),
        "{codes:?}"
    );
    let drift: Vec<&(&str, String)> = codes
        .iter()
        .filter(|(c, _)| c.starts_with("update-drift"))
        .collect();
    assert_eq!(drift.len(), 1, "{codes:?}");
    // Unreadable exclusions are unknown for HV22-02, never compliant; the
    // other nodes follow the Hyper-V and cluster guidance.
    assert!(
        codes.contains(&("av-exclusions-unknown", "HV22-02".to_string())),
        "{codes:?}"
    );
    assert!(
        !codes
            .iter()
            .any(|(c, _)| c.starts_with("av-exclusion-missing")),
        "{codes:?}"
    );
    // CSV Volume2 is ReFS: redirected with FileSystemReFs alone is normal.
    assert!(
        !codes.iter().any(|(c, _)| c.contains("redirect")),
        "{codes:?}"
    );
    assert_eq!(report["input_errors"].as_array().map(Vec::len), Some(0));
}

#[test]
fn check_text_and_html() {
    let text = ok_stdout(&lockstep(&["check", "--no-catalog", HVCLU22]));
    assert!(text.contains("Cluster HVCLU22 — 3 node(s)"), "{text}");
    assert!(text.contains("KB5033118 absent on HV22-03"), "{text}");
    let html = ok_stdout(&lockstep(&[
        "check",
        "--no-catalog",
        "--format",
        "html",
        HVCLU22,
    ]));
    assert!(html.starts_with("<!DOCTYPE html>"));
    for node in ["HV22-01", "HV22-02", "HV22-03", "KB5033118"] {
        assert!(html.contains(node), "{node} missing from the HTML report");
    }
}

#[test]
fn plan_converges_the_node_that_is_behind() {
    let text = ok_stdout(&lockstep(&[
        "plan",
        "--no-catalog",
        "--target",
        "converge",
        HVCLU22,
    ]));
    assert!(text.contains("Plan for cluster HVCLU22"), "{text}");
    assert!(text.contains("install KB5033118"), "{text}");
    assert!(text.contains("Untouched: HV22-01, HV22-02"), "{text}");
}
