//! `lockstep check --metrics FILE`: the Prometheus text format for
//! node_exporter's textfile collector, validated by `promtool check
//! metrics` (Debian's prometheus package, installed by
//! scripts/setup.d/30-postgresql.sh), with the exact values.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use support::Level::{December as Dec, November as Nov};
use support::{december_catalog, lockstep, ws2022_day};

fn promtool(metrics: &Path) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("promtool cannot run ({e}): scripts/setup.d/30-postgresql.sh installs Debian's prometheus package")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(metrics).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn metrics_pass_promtool_and_say_exactly_what_the_check_found() {
    let dir = tempfile::tempdir().unwrap();
    let cat = december_catalog(dir.path());
    // HVS03 a day behind on December's update; a second cluster whose name
    // needs escaping in a label value.
    let cluster = ws2022_day(dir.path(), 12, [Dec, Dec, Nov]);
    let hostile = ws2022_day(&dir.path().join("x"), 12, [Dec, Dec, Dec]);
    let renamed = hostile.parent().unwrap().join("HV\"CLU\\02");
    std::fs::rename(&hostile, &renamed).unwrap();
    let out = dir.path().join("textfile");
    std::fs::create_dir(&out).unwrap();
    let metrics = out.join("lockstep.prom");
    let history = dir.path().join("h.sqlite3").display().to_string();
    let run = |cluster: &Path, record: bool| {
        let mut args = vec![
            "--catalog",
            &cat,
            "--history",
            &history,
            "check",
            cluster.to_str().unwrap(),
            renamed.to_str().unwrap(),
            "--as-of",
            "2023-12-31",
            "--fail-on",
            "never",
            "--metrics",
            metrics.to_str().unwrap(),
        ];
        if record {
            args.push("--record");
        }
        let o = lockstep(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&cluster, true);
    promtool(&metrics);
    let text = std::fs::read_to_string(&metrics).unwrap();
    for line in [
        "# TYPE lockstep_cluster_drift_updates gauge",
        "lockstep_catalog_available 1",
        "lockstep_catalog_newest_release_timestamp_seconds 1703116800",
        "lockstep_cluster_nodes{cluster=\"ws2022-behind\"} 3",
        "lockstep_cluster_drift_updates{cluster=\"ws2022-behind\",class=\"missing\"} 1",
        "lockstep_cluster_drift_updates{cluster=\"ws2022-behind\",class=\"covered\"} 1",
        "lockstep_cluster_drift_updates{cluster=\"ws2022-behind\",class=\"suspect\"} 0",
        "lockstep_cluster_drift_updates{cluster=\"HV\\\"CLU\\\\02\",class=\"missing\"} 0",
        "lockstep_cluster_validation_will_warn{cluster=\"ws2022-behind\"} 1",
        "lockstep_cluster_validation_will_warn{cluster=\"HV\\\"CLU\\\\02\"} 0",
        "lockstep_node_missing_security_updates{cluster=\"ws2022-behind\",node=\"HVS03\",severity=\"critical\"} 1",
        "lockstep_node_missing_security_updates{cluster=\"ws2022-behind\",node=\"HVS01\",severity=\"critical\"} 0",
        // 2023-12-12 08:00 UTC, the captures' modification time.
        "lockstep_node_collected_timestamp_seconds{cluster=\"ws2022-behind\",node=\"HVS02\"} 1702368000",
        "lockstep_findings{code=\"update-drift-missing\",severity=\"error\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in\n{text}"
        );
    }
    // Nothing recorded before: out of step since this capture.
    assert!(text.lines().any(|l| l == "lockstep_cluster_out_of_step_since_timestamp_seconds{cluster=\"ws2022-behind\"} 1702368000"), "{text}");
    // A day later, not recorded: still since the recorded capture.
    let cluster = ws2022_day(dir.path(), 13, [Dec, Dec, Nov]);
    run(&cluster, false);
    promtool(&metrics);
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(text.lines().any(|l| l == "lockstep_cluster_out_of_step_since_timestamp_seconds{cluster=\"ws2022-behind\"} 1702368000"), "{text}");
    assert!(!text.contains("out_of_step_since_timestamp_seconds{cluster=\"HV"));
    // Written atomically: nothing but the file is left in the folder.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["lockstep.prom"]);
}
