//! `lockstep snapshot validate`, `lockstep snapshot schema` and
//! `lockstep collector`, run as the admin runs them.

use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/snapshot")
        .join(name)
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("lockstep runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_accepts_the_reference_snapshots() {
    let a = fixture("hvclu22.json");
    let b = fixture("two-node-no-witness.json");
    let o = run(&[
        "snapshot".as_ref(),
        "validate".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        stdout(&o),
        format!(
            "{}: valid (lockstep-snapshot/1, 1 cluster(s), 3 node(s))\n{}: valid (lockstep-snapshot/1, 1 cluster(s), 2 node(s))\n",
            a.display(),
            b.display()
        )
    );
}

#[test]
fn validate_reports_every_problem_with_its_path_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(fixture("hvclu22.json")).expect("fixture");
    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    doc["clusters"][0]["nodes"][1]["os"]["data"]["build"] = "x".into();
    doc["clusters"][0]["nodes"][2]["state"] = 2.into();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_string_pretty(&doc).expect("JSON")).expect("write");
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\n  \"schema\": \"lockstep-snapshot/1\",\n  \"clusters\": [\n",
    )
    .expect("write");
    let good = fixture("hvclu22.json");

    let o = run(&[
        "snapshot".as_ref(),
        "validate".as_ref(),
        bad.as_os_str(),
        broken.as_os_str(),
        good.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    let bad_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(&*bad.to_string_lossy()))
        .collect();
    let b = bad.display();
    assert_eq!(
        bad_lines,
        [
            format!("{b}: /clusters/0/nodes/1/os/data/build: \"x\" is not of type \"integer\""),
            format!("{b}: /clusters/0/nodes/2/state: 2 is not of types \"null\", \"string\""),
        ]
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>(),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{}: line 4 column 0: expected a lockstep snapshot (schema lockstep-snapshot/1): invalid JSON: EOF while parsing a list",
            broken.display()
        )),
        "{out}"
    );
    assert!(out.contains(&format!("{}: valid", good.display())), "{out}");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "lockstep: 2 of 3 snapshot file(s) invalid\n"
    );
}

#[test]
fn validate_reads_utf16_written_by_windows_powershell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(fixture("two-node-no-witness.json")).expect("fixture");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let path = dir.path().join("utf16.json");
    std::fs::write(&path, bytes).expect("write");
    let o = run(&["snapshot".as_ref(), "validate".as_ref(), path.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn validate_without_files_is_a_usage_error() {
    let o = run(&["snapshot".as_ref(), "validate".as_ref()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn schema_prints_the_published_schema() {
    let o = run(&["snapshot".as_ref(), "schema".as_ref()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        include_str!("../schema/snapshot-v1.schema.json")
    );
}

#[test]
fn collector_prints_and_writes_the_script() {
    let script = include_str!("../crates/collect/Collect-LockstepSnapshot.ps1");
    let o = run(&["collector".as_ref()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), script);

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Collect-LockstepSnapshot.ps1");
    let o = run(&["collector".as_ref(), "-o".as_ref(), path.as_os_str()]);
    assert_eq!(o.status.code(), Some(0));
    let written = std::fs::read_to_string(&path).expect("written");
    assert_eq!(written, script.replace('\n', "\r\n"));
    assert!(!written.starts_with('\u{FEFF}'));
}
