//! The loader with every kind of content: host-protection captures fill the
//! node's protection sections, cluster-wide CSV state attaches to the
//! directory's cluster, a snapshot file contributes whole clusters.

use lockstep_ingest::load_paths;
use std::path::PathBuf;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../")).join(p)
}

#[test]
fn protection_captures_and_csv_state_merge_into_the_directory_cluster() {
    let out = load_paths(&[repo("examples/av-csv-redirected")]);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.inventory.clusters.len(), 1);
    let c = &out.inventory.clusters[0];
    assert_eq!(c.name, "av-csv-redirected");
    let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV01", "HV02", "HV03"]);
    for n in &c.nodes {
        assert_eq!(n.sources.len(), 6, "{}", n.name);
        assert_eq!(n.os.build(), Some(14393));
        let p = &n.protection;
        assert!(
            p.filters.is_some() && p.filter_instances.is_some(),
            "{}",
            n.name
        );
        assert!(
            p.defender_preferences.is_some() && p.defender_status.is_some(),
            "{}",
            n.name
        );
        assert!(p.products.is_some(), "{}", n.name);
    }
    let states = c
        .protection
        .csv_states
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .unwrap();
    assert_eq!(states.len(), 3);
    let mut nodes: Vec<&str> = states.iter().map(|s| s.node.as_str()).collect();
    nodes.sort();
    assert_eq!(nodes, ["HV01", "HV02", "HV03"]);
    assert_eq!(out.files.len(), 19);
}

#[test]
fn snapshot_file_gives_clusters_and_a_directory_beside_it_merges_by_name() {
    let snap = repo("tests/fixtures/snapshot/hvclu22.json");
    let out = load_paths(std::slice::from_ref(&snap));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.files[0].1, "lockstep-snapshot");
    assert!(out.inventory.loose_nodes.is_empty());
    let c = &out.inventory.clusters[0];
    assert_eq!(c.name, "HVCLU22");
    let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["HV22-01", "HV22-02", "HV22-03"]);

    // A directory named like the snapshot's cluster, holding the snapshot and
    // a Get-HotFix capture of one node (in lower case): one cluster, the
    // node's updates merged.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("HVCLU22");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&snap, dir.join("snapshot.json")).unwrap();
    std::fs::write(
        dir.join("hv22-02.hotfix.csv"),
        "\"PSComputerName\",\"HotFixID\",\"InstalledOn\"\r\n\"hv22-02\",\"KB9999991\",\"1/9/2024 12:00:00 AM\"\r\n",
    )
    .unwrap();
    let merged = load_paths(&[dir]);
    assert!(merged.errors.is_empty(), "{:?}", merged.errors);
    assert_eq!(merged.inventory.clusters.len(), 1);
    let c = &merged.inventory.clusters[0];
    assert_eq!(c.nodes.len(), 3);
    let n = c.nodes.iter().find(|n| n.name == "HV22-02").unwrap();
    assert!(n.has_kb(lockstep_model::KbId(9999991)));
    assert_eq!(n.sources.len(), 2);
}
