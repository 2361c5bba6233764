//! Fleet manifests: a TOML file naming clusters, their nodes and each node's
//! inventory files, for fleets whose captures are not laid out one folder
//! per cluster.
//!
//! ```toml
//! [[cluster]]
//! name = "HVCLU01"
//! files = ["captures/csv-state.txt"]          # cluster-wide captures (optional)
//!
//! [[cluster.node]]
//! name = "HV01"
//! files = ["captures/hv01-systeminfo.txt", "captures/hv01-hotfix.csv"]
//! ```
//!
//! Paths are relative to the manifest and stay inside its folder: an
//! absolute path, a `..` or a symlink leading out of the folder is an error
//! (a manifest from someone else must not make lockstep read
//! `/etc/shadow`), unless `--allow-paths-outside-manifest`
//! ([`LoadOptions::manifest_outside`]) says so. Listed files must be regular
//! files. The manifest is the authority on
//! which node a file describes: a file whose content names another host is
//! an error (a capture filed under the wrong node is exactly the mistake
//! that makes drift reports lie). Unknown keys are rejected.

use crate::IngestError;
use crate::load::{
    LoadOptions, LoadOutcome, absorb, attach_csv, merge_cluster, merge_into, read_file, record,
};
use lockstep_model::input_file::Origin;
use lockstep_model::{Cluster, SourceRef};
use rayon::prelude::*;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    cluster: Vec<ClusterEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterEntry {
    name: String,
    #[serde(default)]
    files: Vec<PathBuf>,
    #[serde(default)]
    node: Vec<NodeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    name: String,
    files: Vec<PathBuf>,
}

/// Whether `text` looks like a fleet manifest (a TOML file with `[[cluster]]`).
pub fn is_manifest(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        && text.lines().any(|l| l.trim() == "[[cluster]]")
}

/// Reads the manifest's clusters into `out`; every problem is an error in
/// `out.errors` and the other entries are still read.
pub fn load_manifest(path: &Path, text: &str, opts: &LoadOptions, out: &mut LoadOutcome) {
    let shown = path.display().to_string();
    let manifest: Manifest = match toml::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            let line = e
                .span()
                .map(|s| {
                    text.as_bytes()[..s.start.min(text.len())]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count() as u32
                        + 1
                })
                .unwrap_or(0);
            out.errors.push(IngestError::new(
                shown,
                line,
                format!("a fleet manifest ([[cluster]] with name, files, [[cluster.node]] name and files): {}", e.message()),
            ));
            return;
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    // Every file is read and parsed in parallel first, then taken in the
    // order the loop below visits them (cluster files, then each node's), so
    // files, errors and merges come out as if read one after the other.
    let all: Vec<Result<PathBuf, IngestError>> = manifest
        .cluster
        .iter()
        .flat_map(|e| {
            e.files
                .iter()
                .chain(e.node.iter().flat_map(|n| n.files.iter()))
        })
        .map(|f| inside(base, f, opts))
        .collect();
    let mut parsed = all
        .par_iter()
        .map(|p| match p {
            Ok(p) => read_file(p, opts, Origin::Found),
            Err(e) => Err(e.clone()),
        })
        .collect::<Vec<_>>()
        .into_iter();
    for entry in manifest.cluster {
        let mut cluster = Cluster {
            name: entry.name.clone(),
            source: Some(SourceRef::new(shown.as_str(), 0)),
            ..Cluster::default()
        };
        let mut csv = Vec::new();
        let mut loose = Vec::new();
        for f in &entry.files {
            let p = base.join(f);
            if let Some(content) = parsed.next().and_then(|r| record(&p, r, out)) {
                absorb(
                    content,
                    &p.display().to_string(),
                    None,
                    &mut loose,
                    &mut csv,
                    &mut out.inventory.clusters,
                );
            }
        }
        for n in loose {
            merge_into(&mut cluster.nodes, n);
        }
        for node in &entry.node {
            for f in &node.files {
                let p = base.join(f);
                let file = p.display().to_string();
                let Some(content) = parsed.next().and_then(|r| record(&p, r, out)) else {
                    continue;
                };
                let mut nodes = Vec::new();
                absorb(
                    content,
                    &file,
                    Some(&node.name),
                    &mut nodes,
                    &mut csv,
                    &mut out.inventory.clusters,
                );
                for n in nodes {
                    if !n.name.eq_ignore_ascii_case(&node.name) {
                        out.errors.push(IngestError::new(
                            file.clone(),
                            n.name_source.as_ref().map(|s| s.line).unwrap_or(0),
                            format!(
                                "a capture of {} (the manifest {} files it under that node), found one of {}",
                                node.name, shown, n.name
                            ),
                        ));
                        continue;
                    }
                    merge_into(&mut cluster.nodes, n);
                }
            }
        }
        if !csv.is_empty() {
            attach_csv(&mut cluster, csv, &shown);
        }
        for n in &mut cluster.nodes {
            n.cluster = Some(cluster.name.clone());
        }
        merge_cluster(&mut out.inventory.clusters, cluster);
    }
}

/// `file` joined to the manifest's folder `base`, or an error when it leads
/// outside that folder (see the module documentation).
fn inside(base: &Path, file: &Path, opts: &LoadOptions) -> Result<PathBuf, IngestError> {
    use std::path::Component;
    let joined = base.join(file);
    if opts.manifest_outside {
        return Ok(joined);
    }
    let refused = |how: &str| {
        IngestError::new(
            joined.display().to_string(),
            0,
            format!(
                "a file inside the manifest's folder (a relative path without `..`; --allow-paths-outside-manifest reads others), found {how}; it was not read"
            ),
        )
    };
    if file
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(refused("a path that leaves it"));
    }
    // A symlink inside the folder may still lead out of it.
    if let (Ok(real), Ok(real_base)) = (joined.canonicalize(), base_dir(base).canonicalize())
        && !real.starts_with(&real_base)
    {
        return Err(refused("a symbolic link that leads out of it"));
    }
    Ok(joined)
}

fn base_dir(base: &Path) -> &Path {
    if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base
    }
}
