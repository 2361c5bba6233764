//! Fleet manifests: a TOML file naming clusters, their nodes and each node's
//! inventory files, for fleets whose captures are not laid out one folder
//! per cluster. A manifest is recognised by its content, like every input
//! (a `[[cluster]]` table; `*.toml` is the convention, not the rule).
//!
//! ```toml
//! [[cluster]]
//! name = "HVCLU01"
//! files = ["captures/csv-state.txt"]          # cluster-wide captures (optional)
//! # What the admin knows and captures do not hold (all optional; the plan's
//! # options --witness, --node-votes, --memory-reserve, --allow-offline-group
//! # override them):
//! witness = "file-share"                      # disk, file-share, cloud or none
//! node_votes = { HV04 = 0 }                   # NodeWeight per node
//! memory_reserve = "8GiB"                     # kept free on every host
//! allow_offline_groups = ["TEST01"]           # groups that may stay offline
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
use crate::merge::{absorb, attach_csv, merge_into};
use crate::outcome::{LoadOptions, LoadOutcome, record};
use crate::read::Prefetch;
use crate::sink::Loader;
use lockstep_model::input_file::Origin;
use lockstep_model::inventory::AdminFacts;
use lockstep_model::units::{parse_bytes, parse_witness};
use lockstep_model::{Cluster, SourceRef};
use serde::Deserialize;
use std::collections::BTreeMap;
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
    /// What the admin knows and no capture holds (see [`AdminFacts`]).
    #[serde(default)]
    witness: Option<toml::Spanned<String>>,
    #[serde(default)]
    node_votes: BTreeMap<String, toml::Spanned<u32>>,
    #[serde(default)]
    memory_reserve: Option<toml::Spanned<String>>,
    #[serde(default)]
    allow_offline_groups: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    name: String,
    files: Vec<PathBuf>,
}

/// Reads the manifest's clusters into `loader`, each handed on after its
/// entry; every problem is an error in the loader's outcome and the other
/// entries are still read.
pub(crate) fn load_manifest(path: &Path, text: &str, loader: &mut Loader<'_>) {
    let shown = path.display().to_string();
    let opts = loader.opts;
    let manifest: Manifest = match toml::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            let line = e.span().map_or(0, |s| crate::util::line_at(text, s.start));
            loader.out.errors.push(IngestError::new(
                shown,
                line,
                format!("a fleet manifest ([[cluster]] with name, files, [[cluster.node]] name and files): {}", e.message()),
            ));
            return;
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    // Files are read and parsed in parallel ahead of the loop, a batch at
    // a time, and taken in the order the loop below visits them (cluster
    // files, then each node's), so files, errors and merges come out as if
    // read one after the other.
    let all: Vec<Result<PathBuf, IngestError>> = manifest
        .cluster
        .iter()
        .flat_map(|e| {
            e.files
                .iter()
                .chain(e.node.iter().flat_map(|n| n.files.iter()))
        })
        .map(|f| inside(base, f, &opts))
        .collect();
    let mut prefetch = Prefetch::new(
        all.iter()
            .map(|p| p.as_ref().ok().map(PathBuf::as_path))
            .collect(),
        Origin::Found,
        &opts,
    );
    let mut next = 0;
    let mut parsed = || {
        let i = next;
        next += 1;
        match all.get(i)? {
            Ok(_) => prefetch.take(i),
            Err(e) => Some(Err(e.clone())),
        }
    };
    for entry in manifest.cluster {
        let mut cluster = Cluster {
            name: entry.name.clone(),
            source: Some(SourceRef::new(shown.as_str(), 0)),
            admin: admin_facts(&entry, text, &shown, &mut loader.out),
            ..Cluster::default()
        };
        let mut csv = Vec::new();
        let mut loose = Vec::new();
        for f in &entry.files {
            let p = base.join(f);
            if let Some((content, format)) = parsed().and_then(|r| record(&p, r, &mut loader.out)) {
                let file = p.display().to_string();
                let clusters = &mut loader.clusters;
                csv.extend(absorb(
                    content,
                    &file,
                    format,
                    None,
                    &mut loose,
                    &mut loader.out,
                    &mut |c, log| clusters.add(c, log),
                ));
            }
        }
        for n in loose {
            merge_into(&mut cluster.nodes, n, &mut loader.out.log);
        }
        for node in &entry.node {
            for f in &node.files {
                let p = base.join(f);
                let file = p.display().to_string();
                let Some((content, format)) = parsed().and_then(|r| record(&p, r, &mut loader.out))
                else {
                    continue;
                };
                let mut nodes = Vec::new();
                let owner = Some(node.name.as_str());
                let clusters = &mut loader.clusters;
                csv.extend(absorb(
                    content,
                    &file,
                    format,
                    owner,
                    &mut nodes,
                    &mut loader.out,
                    &mut |c, log| clusters.add(c, log),
                ));
                for n in nodes {
                    if !n.name.eq_ignore_ascii_case(&node.name) {
                        loader.out.errors.push(IngestError::new(
                            file.clone(),
                            n.name_source.as_ref().map(|s| s.line).unwrap_or(0),
                            format!(
                                "a capture of {} (the manifest {} files it under that node), found one of {}",
                                node.name, shown, n.name
                            ),
                        ));
                        continue;
                    }
                    merge_into(&mut cluster.nodes, n, &mut loader.out.log);
                }
            }
        }
        if !csv.is_empty() {
            attach_csv(&mut cluster, csv, &shown);
        }
        for n in &mut cluster.nodes {
            n.cluster = Some(cluster.name.clone());
        }
        loader.clusters.add(cluster, &mut loader.out.log);
    }
}

/// The admin's statements of one `[[cluster]]`; a bad value is an error
/// naming its line, and the rest is kept.
fn admin_facts(entry: &ClusterEntry, text: &str, shown: &str, out: &mut LoadOutcome) -> AdminFacts {
    let mut facts = AdminFacts {
        allow_offline_groups: entry.allow_offline_groups.clone(),
        ..AdminFacts::default()
    };
    if let Some(w) = &entry.witness {
        match parse_witness(w.get_ref()) {
            Ok(kind) => facts.witness = Some(kind),
            Err(_) => out.errors.push(
                IngestError::new(
                    shown,
                    crate::util::line_at(text, w.span().start),
                    format!(
                        "a witness of cluster {}: disk, file-share, cloud or none",
                        entry.name
                    ),
                )
                .found(w.get_ref()),
            ),
        }
    }
    if let Some(m) = &entry.memory_reserve {
        match parse_bytes(m.get_ref()) {
            Ok(b) => facts.memory_reserve_bytes = Some(b),
            Err(_) => out.errors.push(
                IngestError::new(
                    shown,
                    crate::util::line_at(text, m.span().start),
                    format!(
                        "a memory_reserve of cluster {} such as 8GiB, 512MiB or 1.5TiB",
                        entry.name
                    ),
                )
                .found(m.get_ref()),
            ),
        }
    }
    for (node, votes) in &entry.node_votes {
        if *votes.get_ref() > 1 {
            out.errors.push(
                IngestError::new(
                    shown,
                    crate::util::line_at(text, votes.span().start),
                    format!(
                        "node_votes of cluster {}: 0 or 1 for {node} (NodeWeight)",
                        entry.name
                    ),
                )
                .found(votes.get_ref().to_string()),
            );
            continue;
        }
        facts.node_votes.insert(node.clone(), *votes.get_ref());
    }
    facts
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
