//! `lockstep coverage run` and `lockstep coverage generate` end to end: exit
//! codes, error messages naming file and line, outputs, determinism across
//! thread counts, HTML escaping.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lockstep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .output()
        .expect("run lockstep")
}

fn repo(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(p)
        .display()
        .to_string()
}

fn example_args() -> Vec<String> {
    [
        "coverage",
        "run",
        "--hosts",
        &repo("examples/coverage/hvclu22/hosts.csv"),
        "--edges",
        &repo("examples/coverage/hvclu22/edges.csv"),
        "--snapshot",
        &repo("tests/fixtures/snapshot/hvclu22.json"),
        "--start",
        "exposed",
        "--efficacy",
        "0.8",
        "--runs",
        "500",
        "--seed",
        "7",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_example(extra: &[&str]) -> Output {
    let mut args = example_args();
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    lockstep(&refs)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn example_network_with_snapshot_edges_as_json() {
    let out = run_example(&[
        "--format", "json", "--policy", "as-is", "--policy", "full", "--policy", "none",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "lockstep-coverage/1");
    // 11 hosts; 26 listed edges + 7 hypervisor→guest edges from the snapshot.
    assert_eq!(v["network"]["hosts"], 11);
    assert_eq!(v["network"]["edges"], 33);
    assert_eq!(v["network"]["exposed_hosts"], 3);
    assert_eq!(v["model"]["kind"], "sir");
    assert_eq!(v["major_threshold"], 4);
    let names: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["as-is", "full", "none"]);
    let protected: Vec<u64> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["protected_hosts"].as_u64().unwrap())
        .collect();
    assert_eq!(protected, [7, 11, 0]);
    // Protection with efficacy 0.8 must lower P(major) below no protection.
    let p = |i: usize| v["policies"][i]["major"]["p"].as_f64().unwrap();
    assert!(p(1) < p(0) && p(0) < p(2), "{} {} {}", p(0), p(1), p(2));
    // The snapshot-only hosts were all in the hosts file: no warning.
    assert!(!stderr(&out).contains("added"), "{}", stderr(&out));
}

#[test]
fn same_report_for_one_and_two_threads() {
    let one = run_example(&[
        "--format",
        "json",
        "--threads",
        "1",
        "--policy",
        "random:40",
        "--policy",
        "acquaintance:20",
    ]);
    let two = run_example(&[
        "--format",
        "json",
        "--threads",
        "2",
        "--policy",
        "random:40",
        "--policy",
        "acquaintance:20",
    ]);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert_eq!(stdout(&one), stdout(&two));
}

#[test]
fn text_report_lists_policies_and_roles() {
    let out = run_example(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // The answer to the admin's question comes first, in one sentence.
    assert!(
        text.starts_with(
            "Exempting the 3 Hyper-V hosts from anti-virus raises the expected share of hosts infected from 10.9 % to 13.5 % (95 % interval of the change +1.9 to +3.3 points).\n500 simulated outbreaks per policy, each starting at 1 random exposed host; a large outbreak is one that infects at least 4 hosts.\n\nNetwork: 11 hosts (3 hypervisor, 6 vm, 1 workstation, 1 domain-controller), 33 links, 3 exposed, 7 with anti-virus today\n"
        ),
        "{text}"
    );
    for row in [
        "\npolicy              hosts with anti-virus  chance of a large outbreak (95 % interval)  hosts infected in a large outbreak (95 % interval)  expected share infected (95 % interval)\n",
        "\nas-is ",
        "\nfull ",
        "\nexcept-hypervisors ",
        "Chance that a host of each role is infected",
    ] {
        assert!(text.contains(row), "missing {row:?} in\n{text}");
    }
}

#[test]
fn html_report_is_written_atomically_and_escapes_names() {
    let dir = tempfile::tempdir().unwrap();
    // A policy file whose name carries markup: the policy name shows the path.
    let policy = dir.path().join("p<script>.txt");
    std::fs::write(&policy, "# hosts to protect\nHV22-01\nhv22-02\n").unwrap();
    let report = dir.path().join("report.html");
    let spec = format!("file:{}", policy.display());
    let out = run_example(&[
        "--format",
        "html",
        "--policy",
        &spec,
        "--policy",
        "full",
        "--policy",
        "except-hypervisors",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"));
    // The verdict first, the network drawn, the charts' axes named.
    let verdict = html
        .find("<p class=\"verdict\">Exempting the 3 Hyper-V hosts")
        .unwrap();
    assert!(verdict < html.find("<h2>").unwrap());
    assert!(html.contains("aria-label=\"the network: hosts by role, who can reach whom\""));
    assert!(html.contains("<title>HV22-01: hypervisor, no anti-virus</title>"));
    for axis in [
        ">expected share of hosts infected</text>",
        ">chance of a large outbreak (at least 4 hosts infected)</text>",
        ">share of hosts infected</text>",
        ">share of runs</text>",
        ">policy</text>",
    ] {
        assert!(html.contains(axis), "no axis {axis}");
    }
    assert!(html.contains("p&lt;script&gt;.txt"));
    assert!(!html.contains("p<script>"));
    assert!(
        !html.contains("src=") && !html.contains("href="),
        "external assets"
    );
    // Only the report is in the directory: no temporary left behind.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["p<script>.txt", "report.html"]);
}

#[test]
fn bad_rows_are_reported_with_file_and_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts.csv");
    let edges = dir.path().join("edges.csv");
    let policy = dir.path().join("policy.txt");
    std::fs::write(
        &hosts,
        "id,role,exposure,protected\nA,server,,no\nB,server,,no\n",
    )
    .unwrap();
    std::fs::write(&edges, "from,to,weight\nA,B,1\nB,C,1\nA,B,lots\n").unwrap();
    std::fs::write(&policy, "A\nZ\n").unwrap();
    let out = lockstep(&[
        "coverage",
        "run",
        "--hosts",
        hosts.to_str().unwrap(),
        "--edges",
        edges.to_str().unwrap(),
        "--policy",
        &format!("file:{}", policy.display()),
        "--policy",
        "random:150",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let e = edges.display();
    let p = policy.display();
    for line in [
        format!("{e}:3: edge target \"C\" is not a host in the hosts file"),
        format!("{e}:4: weight \"lots\": expected a number >= 0"),
        format!("{p}:2: \"Z\" is not a host in the hosts file (expected one host id per line)"),
        "policy \"random:150\": expected a percentage 0..100, got 150".to_string(),
    ] {
        assert!(err.contains(&line), "missing {line:?} in\n{err}");
    }
    assert!(stdout(&out).is_empty());

    std::fs::write(&hosts, "id,role\nA,router\n").unwrap();
    let out = lockstep(&[
        "coverage",
        "run",
        "--hosts",
        hosts.to_str().unwrap(),
        "--edges",
        edges.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "{}:2: role \"router\" of host \"A\": expected hypervisor, vm, server, workstation or domain-controller",
            hosts.display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn output_into_a_missing_directory_fails_without_a_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let target: PathBuf = dir.path().join("missing").join("r.json");
    let out = run_example(&["--format", "json", "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
    assert!(!target.exists());
}

#[test]
fn generate_then_run() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("h.json");
    let edges = dir.path().join("e.json");
    let out = lockstep(&[
        "coverage",
        "generate",
        "--model",
        "datacenter",
        "--clusters",
        "2",
        "--hypervisors-per-cluster",
        "2",
        "--vms-per-hypervisor",
        "5",
        "--format",
        "json",
        "--hosts-out",
        hosts.to_str().unwrap(),
        "--edges-out",
        edges.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let h: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&hosts).unwrap()).unwrap();
    // 2 DCs, 4 workstations, 4 hypervisors, 20 VMs.
    assert_eq!(h.as_array().unwrap().len(), 30);
    let out = lockstep(&[
        "coverage",
        "run",
        "--hosts",
        hosts.to_str().unwrap(),
        "--edges",
        edges.to_str().unwrap(),
        "--model",
        "percolation",
        "--transmissibility",
        "0.3",
        "--runs",
        "200",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["network"]["hosts"], 30);
    assert_eq!(v["model"]["transmissibility"], 0.3);

    let out = lockstep(&[
        "coverage",
        "generate",
        "--model",
        "regular",
        "--nodes",
        "5",
        "--degree",
        "3",
        "--hosts-out",
        hosts.to_str().unwrap(),
        "--edges-out",
        edges.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nodes × degree even"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn json_inputs_and_snapshot_hosts_missing_from_the_hosts_file() {
    let out = lockstep(&[
        "coverage",
        "run",
        "--hosts",
        &repo("tests/fixtures/coverage/partial-hosts.json"),
        "--edges",
        &repo("tests/fixtures/coverage/partial-edges.json"),
        "--snapshot",
        &repo("tests/fixtures/snapshot/hvclu22.json"),
        "--runs",
        "50",
        "--format",
        "json",
        "--policy",
        "except-hypervisors",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "added 4 host(s) missing from the hosts file as unprotected and not exposed: DC03, APP01, WEB02, TEST01"
        ),
        "{}",
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 6 + 4 hosts; 6 listed edges + 7 hypervisor→guest edges.
    assert_eq!(v["network"]["hosts"], 10);
    assert_eq!(v["network"]["edges"], 13);
    assert_eq!(v["network"]["protected_hosts"], 3);
    // The added guests are VMs: except-hypervisors protects all 7 of them.
    assert_eq!(v["policies"][0]["protected_hosts"], 7);
}
