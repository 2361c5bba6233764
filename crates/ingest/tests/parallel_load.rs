//! A directory's files are parsed in parallel and merged in sorted file
//! order: the inventory, the list of files and the errors (with their order)
//! must not depend on the number of threads. The directory mixes snapshots
//! (two of them name the same cluster in different case, so they merge),
//! per-node captures in several formats, a subdirectory per node and two
//! unreadable files between the good ones.
//!
//! The inputs are the repository's own fixtures (each documented in its
//! folder's README), copied into a temporary directory.

use lockstep_ingest::{LoadOutcome, load_paths};
use std::path::{Path, PathBuf};

fn repo(p: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../")).join(p)
}

fn copy(from: &str, dir: &Path, to: &str) {
    std::fs::copy(repo(from), dir.join(to)).unwrap();
}

/// The directory `FLEET` with its files (sorted by byte value: `HV77/`
/// comes first).
fn fleet_dir(root: &Path) -> PathBuf {
    let dir = root.join("FLEET");
    std::fs::create_dir_all(dir.join("HV77")).unwrap();
    let snapshot = std::fs::read_to_string(repo("tests/fixtures/snapshot/hvclu22.json")).unwrap();
    std::fs::write(dir.join("a-hvclu22.json"), &snapshot).unwrap();
    copy(
        "tests/fixtures/inventory/HV01.get-hotfix.csv",
        &dir,
        "b-HV01.get-hotfix.csv",
    );
    // Cut short inside the clusters array, just before the first `"nodes"`
    // (line 156): not JSON any more, and serde_json stops on that line.
    let cut = snapshot.find("\"nodes\"").unwrap();
    std::fs::write(dir.join("c-broken.json"), &snapshot[..cut]).unwrap();
    copy(
        "tests/fixtures/inventory/HV06.wmic-qfe-list-full.txt",
        &dir,
        "d-HV06.wmic-qfe-list-full.txt",
    );
    std::fs::write(dir.join("e-binary.bin"), [0u8, 1, 2, 3, 0, 0, 0xFF, 0x10]).unwrap();
    // The same cluster in lower case, and a second cluster.
    std::fs::write(
        dir.join("f-lower.json"),
        snapshot.replace("\"HVCLU22\"", "\"hvclu22\""),
    )
    .unwrap();
    std::fs::write(
        dir.join("g-hvclu23.json"),
        snapshot
            .replace("\"HVCLU22\"", "\"HVCLU23\"")
            .replace("HV22-0", "HV23-0"),
    )
    .unwrap();
    copy(
        "tests/fixtures/inventory/HV-FR01.systeminfo.utf8.txt",
        &dir,
        "h-HV-FR01.systeminfo.utf8.txt",
    );
    // A node folder whose capture does not name the node.
    copy(
        "tests/fixtures/host-protection/unelevated.fltmc-instances.txt",
        &dir.join("HV77"),
        "fltmc-instances.txt",
    );
    dir
}

fn load_with_threads(dir: &Path, threads: usize) -> LoadOutcome {
    load_args_with_threads(&[dir.to_path_buf()], threads)
}

fn load_args_with_threads(paths: &[PathBuf], threads: usize) -> LoadOutcome {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| load_paths(paths))
}

/// Everything a caller sees, as one comparable value.
fn as_json(o: &LoadOutcome) -> serde_json::Value {
    serde_json::json!({
        "inventory": o.inventory,
        "files": o.files.iter().map(|(p, f)| format!("{p} {f}")).collect::<Vec<_>>(),
        "errors": o.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    })
}

#[test]
fn result_and_errors_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fleet_dir(tmp.path());
    let one = load_with_threads(&dir, 1);

    // What the sequential load gives, exactly.
    let shown = |name: &str| dir.join(name).display().to_string();
    let files: Vec<(String, &str)> = one.files.iter().map(|(p, f)| (p.clone(), *f)).collect();
    assert_eq!(
        files,
        vec![
            (shown("HV77/fltmc-instances.txt"), "fltmc"),
            (shown("a-hvclu22.json"), "lockstep-snapshot"),
            (shown("b-HV01.get-hotfix.csv"), "get-hotfix"),
            (shown("d-HV06.wmic-qfe-list-full.txt"), "wmic-qfe"),
            (shown("f-lower.json"), "lockstep-snapshot"),
            (shown("g-hvclu23.json"), "lockstep-snapshot"),
            (shown("h-HV-FR01.systeminfo.utf8.txt"), "systeminfo"),
        ]
    );
    let errors: Vec<(String, u32, &str)> = one
        .errors
        .iter()
        .map(|e| (e.path.clone(), e.line, e.expected.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, shown("c-broken.json"));
    assert_eq!(errors[0].1, 156);
    assert!(
        errors[0]
            .2
            .starts_with("a lockstep snapshot (schema lockstep-snapshot/1): valid JSON at column"),
        "{errors:?}"
    );
    assert_eq!(
        (errors[1].0.as_str(), errors[1].1),
        (&*shown("e-binary.bin"), 1)
    );

    let clusters = cluster_nodes(&one.inventory);
    assert_eq!(
        clusters,
        vec![
            ("HVCLU22", vec!["HV22-01", "HV22-02", "HV22-03"]),
            ("HVCLU23", vec!["HV23-01", "HV23-02", "HV23-03"]),
            ("FLEET", vec!["HV77", "HV01", "HV06", "HV-FR01"]),
        ]
    );
    // The lower-case copy merged into HVCLU22: each node lists both files.
    let hv22 = &one.inventory.clusters[0].nodes[0];
    assert_eq!(
        hv22.sources,
        vec![shown("a-hvclu22.json"), shown("f-lower.json")]
    );

    let reference = as_json(&one);
    for threads in [2, 4] {
        for _ in 0..3 {
            let many = load_with_threads(&dir, threads);
            assert!(
                as_json(&many) == reference,
                "{threads} threads gave another result"
            );
        }
    }
}

/// The same files named one by one (as a shell glob passes them), with a
/// missing file among them: parsed in parallel, recorded in argument order.
#[test]
fn files_given_one_by_one_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fleet_dir(tmp.path());
    let mut args: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    args.sort();
    args.insert(3, dir.join("missing.json"));
    let one = load_args_with_threads(&args, 1);
    let errors: Vec<(String, u32)> = one
        .errors
        .iter()
        .map(|e| (e.path.clone(), e.line))
        .collect();
    let shown = |name: &str| dir.join(name).display().to_string();
    assert_eq!(
        errors,
        vec![
            (shown("c-broken.json"), 156),
            (shown("missing.json"), 0),
            (shown("e-binary.bin"), 1),
        ]
    );
    let clusters: Vec<&str> = one
        .inventory
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(clusters, ["HVCLU22", "HVCLU23"]);
    let loose: Vec<&str> = one
        .inventory
        .loose_nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(loose, ["HV01", "HV06", "HV-FR01"]);
    let reference = as_json(&one);
    for _ in 0..3 {
        assert!(as_json(&load_args_with_threads(&args, 4)) == reference);
    }
}

/// A fleet manifest's files are parsed in parallel too and taken in the
/// manifest's order: read errors and "filed under the wrong node" errors
/// keep their order.
#[test]
fn manifest_does_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    fleet_dir(tmp.path());
    let manifest = tmp.path().join("fleet.toml");
    std::fs::write(
        &manifest,
        r#"[[cluster]]
name = "A"

[[cluster.node]]
name = "HV01"
files = ["FLEET/b-HV01.get-hotfix.csv", "FLEET/e-binary.bin"]

[[cluster.node]]
name = "HV02"
files = ["FLEET/h-HV-FR01.systeminfo.utf8.txt"]

[[cluster.node]]
name = "HV06"
files = ["FLEET/missing.txt", "FLEET/d-HV06.wmic-qfe-list-full.txt"]

[[cluster]]
name = "B"
files = ["FLEET/c-broken.json"]

[[cluster.node]]
name = "HV-FR01"
files = ["FLEET/h-HV-FR01.systeminfo.utf8.txt"]
"#,
    )
    .unwrap();
    let args = [manifest];
    let one = load_args_with_threads(&args, 1);
    let shown = |name: &str| tmp.path().join(name).display().to_string();
    let errors: Vec<(String, u32)> = one
        .errors
        .iter()
        .map(|e| (e.path.clone(), e.line))
        .collect();
    assert_eq!(
        errors,
        vec![
            (shown("FLEET/e-binary.bin"), 1),
            (shown("FLEET/h-HV-FR01.systeminfo.utf8.txt"), 2),
            (shown("FLEET/missing.txt"), 0),
            (shown("FLEET/c-broken.json"), 156),
        ]
    );
    assert!(
        one.errors[1].expected.starts_with("a capture of HV02"),
        "{}",
        one.errors[1]
    );
    let clusters = cluster_nodes(&one.inventory);
    assert_eq!(
        clusters,
        vec![("A", vec!["HV01", "HV06"]), ("B", vec!["HV-FR01"])]
    );
    let reference = as_json(&one);
    for _ in 0..3 {
        assert!(as_json(&load_args_with_threads(&args, 4)) == reference);
    }
}

/// (cluster, its nodes) in inventory order.
fn cluster_nodes(inventory: &lockstep_model::Inventory) -> Vec<(&str, Vec<&str>)> {
    inventory
        .clusters
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.nodes.iter().map(|n| n.name.as_str()).collect(),
            )
        })
        .collect()
}
