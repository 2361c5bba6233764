//! Fleet manifests are recognised by their content, like every other input:
//! a manifest named `.txt` loads as one, a capture named `.toml` loads as
//! the capture it is, a `.toml` that is neither is an error naming its file
//! and line (and the other inputs are still read), and a manifest found
//! where inventory output is expected (in a folder) is an error naming the
//! line of its `[[cluster]]`.

use lockstep_ingest::{LoadOutcome, load_paths};
use std::path::{Path, PathBuf};

const MANIFEST: &str = "# lockstep fleet manifest\n[[cluster]]\nname = \"HVCLU01\"\n\n[[cluster.node]]\nname = \"HV01\"\nfiles = [\"HV01.systeminfo.txt\"]\n\n[[cluster.node]]\nname = \"HV03\"\nfiles = [\"HV03.systeminfo.txt\"]\n";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/kb2616676")
        .join(name)
}

fn copy_captures(dir: &Path) {
    for n in ["HV01", "HV03"] {
        let file = format!("{n}.systeminfo.txt");
        std::fs::copy(example(&file), dir.join(&file)).unwrap();
    }
}

/// A node's name and KBs, in order.
type NodeKbs = (String, Vec<String>);

/// Cluster name, then each node's name and KBs, in order.
fn clusters(out: &LoadOutcome) -> Vec<(String, Vec<NodeKbs>)> {
    out.inventory
        .clusters
        .iter()
        .map(|c| {
            let nodes = c
                .nodes
                .iter()
                .map(|n| {
                    let kbs = n.updates.iter().map(|u| u.kb.to_string()).collect();
                    (n.name.clone(), kbs)
                })
                .collect();
            (c.name.clone(), nodes)
        })
        .collect()
}

/// The names of the nodes loaded outside a cluster, in order.
fn loose_names(out: &LoadOutcome) -> Vec<&str> {
    out.inventory
        .loose_nodes
        .iter()
        .map(|n| n.name.as_str())
        .collect()
}

fn errors(out: &LoadOutcome) -> Vec<String> {
    out.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn a_manifest_named_txt_loads_like_the_toml() {
    let tmp = tempfile::tempdir().unwrap();
    copy_captures(tmp.path());
    let toml = tmp.path().join("fleet.toml");
    let txt = tmp.path().join("fleet-manifest.txt");
    std::fs::write(&toml, MANIFEST).unwrap();
    std::fs::write(&txt, MANIFEST).unwrap();

    let by_toml = load_paths(std::slice::from_ref(&toml));
    let by_txt = load_paths(std::slice::from_ref(&txt));
    assert_eq!(errors(&by_toml), Vec::<String>::new());
    assert_eq!(errors(&by_txt), Vec::<String>::new());
    let got = clusters(&by_txt);
    assert_eq!(got, clusters(&by_toml));
    let names: Vec<&str> = got[0].1.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        (got.len(), got[0].0.as_str(), names),
        (1, "HVCLU01", vec!["HV01", "HV03"])
    );
    // Each node has exactly the KBs of its capture read on its own.
    let alone: Vec<NodeKbs> = ["HV01", "HV03"]
        .iter()
        .map(|n| {
            let out = load_paths(&[tmp.path().join(format!("{n}.systeminfo.txt"))]);
            let node = &out.inventory.loose_nodes[0];
            let kbs = node.updates.iter().map(|u| u.kb.to_string()).collect();
            (node.name.clone(), kbs)
        })
        .collect();
    assert!(!alone[0].1.is_empty(), "HV01's capture lists KBs");
    assert_eq!(got[0].1, alone);
    // The manifest's files are listed with their formats, the manifest not.
    let files = |dir: &Path| -> Vec<(String, &'static str)> {
        ["HV01", "HV03"]
            .iter()
            .map(|n| {
                let p = dir.join(format!("{n}.systeminfo.txt"));
                (p.display().to_string(), "systeminfo")
            })
            .collect()
    };
    assert_eq!(by_txt.files, files(tmp.path()));
    assert_eq!(by_toml.files, files(tmp.path()));
}

#[test]
fn a_capture_named_toml_loads_as_the_capture() {
    let tmp = tempfile::tempdir().unwrap();
    let capture = tmp.path().join("HV01.toml");
    std::fs::copy(example("HV01.systeminfo.txt"), &capture).unwrap();
    let out = load_paths(std::slice::from_ref(&capture));
    assert_eq!(errors(&out), Vec::<String>::new());
    assert_eq!(out.files, [(capture.display().to_string(), "systeminfo")]);
    assert_eq!(loose_names(&out), ["HV01"]);
}

#[test]
fn a_toml_without_cluster_tables_is_an_error_with_its_line_and_the_rest_loads() {
    let tmp = tempfile::tempdir().unwrap();
    copy_captures(tmp.path());
    let settings = tmp.path().join("settings.toml");
    std::fs::write(&settings, "\n# site settings\n[general]\nname = \"x\"\n").unwrap();
    let capture = tmp.path().join("HV01.systeminfo.txt");
    let out = load_paths(&[settings.clone(), capture]);
    assert_eq!(
        errors(&out),
        [format!(
            "{}:2: expected a fleet manifest (TOML with [[cluster]] tables), found \"TOML without a [[cluster]] table\"",
            settings.display()
        )]
    );
    assert_eq!(loose_names(&out), ["HV01"]);
}

#[test]
fn a_toml_that_does_not_parse_is_an_error_at_toml_s_line() {
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("fleet.toml");
    let text = "# fleet\nname = \"x\"\n[cluster\nfiles = []\n";
    std::fs::write(&broken, text).unwrap();
    let out = load_paths(std::slice::from_ref(&broken));
    let message = toml::from_str::<toml::Table>(text)
        .unwrap_err()
        .message()
        .to_string();
    assert_eq!(
        errors(&out),
        [format!(
            "{}:3: expected a fleet manifest (TOML with [[cluster]] tables), found {message:?}",
            broken.display()
        )]
    );
    assert!(out.inventory.clusters.is_empty() && out.inventory.loose_nodes.is_empty());
}

#[test]
fn a_manifest_in_a_folder_is_an_error_naming_its_cluster_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("HVCLU01");
    std::fs::create_dir(&dir).unwrap();
    copy_captures(&dir);
    let manifest = dir.join("fleet.txt");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let out = load_paths(std::slice::from_ref(&dir));
    assert_eq!(
        errors(&out),
        [format!(
            "{}:2: expected inventory output, found a fleet manifest (a manifest is read when named as an argument, not from a folder or another manifest)",
            manifest.display()
        )]
    );
    // The folder's captures are still its cluster.
    let got = clusters(&out);
    let names: Vec<&str> = got[0].1.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        (got.len(), got[0].0.as_str(), names),
        (1, "HVCLU01", vec!["HV01", "HV03"])
    );
}
