//! Fleet manifests (TOML) as `check` input: clusters and nodes named by the
//! manifest, a capture filed under the wrong node rejected.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

/// Copies the example capture of `node` into `dir/captures/` and returns
/// its path relative to `dir` (manifest paths stay inside its folder).
fn example(dir: &Path, node: &str) -> String {
    let name = format!("{node}.systeminfo.txt");
    std::fs::create_dir_all(dir.join("captures")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/kb2616676/{name}")),
        dir.join("captures").join(&name),
    )
    .unwrap();
    format!("captures/{name}")
}

#[test]
fn a_manifest_names_the_cluster_and_its_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("fleet.toml");
    let mut toml = String::from("# lockstep fleet manifest\n[[cluster]]\nname = \"HVCLU-2008\"\n");
    for n in ["HV01", "HV02", "HV03", "HV04"] {
        toml.push_str(&format!(
            "\n[[cluster.node]]\nname = \"{n}\"\nfiles = [{:?}]\n",
            example(dir.path(), n)
        ));
    }
    std::fs::write(&manifest, toml).unwrap();
    let out = Command::new(BIN)
        .args(["--no-catalog", "check", "--format", "json"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cluster = &report["clusters"][0];
    assert_eq!(cluster["name"], "HVCLU-2008");
    let nodes: Vec<&str> = cluster["drift"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["HV01", "HV02", "HV03", "HV04"]);
    assert_eq!(
        cluster["drift"]["groups"][0]["absent_on"],
        serde_json::json!(["HV03", "HV04"])
    );
    assert_eq!(cluster["drift"]["groups"][0]["class"], "covered");
}

#[test]
fn a_capture_filed_under_the_wrong_node_is_an_error_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("fleet.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[cluster]]\nname = \"C1\"\n\n[[cluster.node]]\nname = \"HV01\"\nfiles = [{:?}]\n\n[[cluster.node]]\nname = \"HV02\"\nfiles = [{:?}]\n",
            example(dir.path(), "HV01"),
            example(dir.path(), "HV03")
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--no-catalog", "check", "--format", "json"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HV03.systeminfo.txt:2: expected a capture of HV02 (the manifest")
            && err.contains("found one of HV03"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["clusters"][0]["drift"]["nodes"][0]["name"], "HV01");
    assert_eq!(
        report["clusters"][0]["drift"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn unknown_manifest_keys_are_rejected_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("fleet.toml");
    std::fs::write(&manifest, "[[cluster]]\nname = \"C1\"\nnodes = []\n").unwrap();
    let out = Command::new(BIN)
        .args(["inventory"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fleet.toml:3: expected a fleet manifest"),
        "{err}"
    );
    assert!(err.contains("unknown field `nodes`"), "{err}");
}
