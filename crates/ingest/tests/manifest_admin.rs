//! What the admin states in a fleet manifest (witness, node votes, memory
//! reserve, groups that may stay offline) reaches the cluster; a bad value
//! is an error naming the manifest's line, and the rest is still read.

use lockstep_ingest::load_paths;
use std::path::Path;

fn copy_example(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kb2616676");
    for n in ["HV01", "HV03"] {
        std::fs::copy(
            src.join(format!("{n}.systeminfo.txt")),
            dir.join(format!("{n}.systeminfo.txt")),
        )
        .unwrap();
    }
}

#[test]
fn admin_facts_from_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    copy_example(tmp.path());
    let manifest = tmp.path().join("fleet.toml");
    std::fs::write(
        &manifest,
        "[[cluster]]\nname = \"HVCLU01\"\nwitness = \"file-share\"\nnode_votes = { HV03 = 0 }\nmemory_reserve = \"8GiB\"\nallow_offline_groups = [\"TEST01\"]\n\n[[cluster.node]]\nname = \"HV01\"\nfiles = [\"HV01.systeminfo.txt\"]\n\n[[cluster.node]]\nname = \"HV03\"\nfiles = [\"HV03.systeminfo.txt\"]\n",
    )
    .unwrap();
    let out = load_paths(&[manifest]);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let a = &out.inventory.clusters[0].admin;
    assert_eq!(a.witness, Some(Some("FileShareWitness".to_string())));
    assert_eq!(a.node_votes.get("HV03"), Some(&0));
    assert_eq!(a.memory_reserve_bytes, Some(8 << 30));
    assert_eq!(a.allow_offline_groups, ["TEST01"]);
}

#[test]
fn bad_admin_values_name_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    copy_example(tmp.path());
    let manifest = tmp.path().join("fleet.toml");
    std::fs::write(
        &manifest,
        "[[cluster]]\nname = \"HVCLU01\"\nwitness = \"quorum disk\"\nnode_votes = { HV03 = 2 }\nmemory_reserve = \"lots\"\n\n[[cluster.node]]\nname = \"HV01\"\nfiles = [\"HV01.systeminfo.txt\"]\n",
    )
    .unwrap();
    let out = load_paths(std::slice::from_ref(&manifest));
    let errors: Vec<String> = out.errors.iter().map(|e| e.to_string()).collect();
    let m = manifest.display().to_string();
    assert_eq!(
        errors,
        [
            format!(
                "{m}:3: expected a witness of cluster HVCLU01: disk, file-share, cloud or none, found \"quorum disk\""
            ),
            format!(
                "{m}:5: expected a memory_reserve of cluster HVCLU01 such as 8GiB, 512MiB or 1.5TiB, found \"lots\""
            ),
            format!(
                "{m}:4: expected node_votes of cluster HVCLU01: 0 or 1 for HV03 (NodeWeight), found \"2\""
            ),
        ]
    );
    // The rest of the manifest is read.
    assert_eq!(out.inventory.clusters[0].nodes.len(), 1);
    assert_eq!(out.inventory.clusters[0].admin.witness, None);
}
