//! Walking the inputs of one load: the arguments in order (a folder is one
//! cluster, a file its nodes or clusters, a fleet manifest its entries),
//! each merged into the [`Loader`]. The rules are [`crate::load`]'s.

use crate::IngestError;
use crate::consistency::StemHosts;
use crate::formats::FileContent;
use crate::merge::{LooseNodes, NameIndex, absorb, attach_csv, merge_into_indexed, stem_name};
use crate::outcome::record;
use crate::read::{Prefetch, read_file};
use crate::sink::Loader;
use lockstep_model::input_file::Origin;
use lockstep_model::{Cluster, SourceRef};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Reads files and directories into `loader`, in argument order. A file
/// is what its content says: inventory output, a snapshot or a fleet
/// manifest, whatever its name.
pub(crate) fn load_into(paths: &[PathBuf], loader: &mut Loader<'_>) {
    let opts = loader.opts;
    // Files named one by one (`fleet/*.json`) are read and parsed in
    // parallel ahead of the loop, a batch at a time; what they yield is
    // merged below, in argument order.
    let named: Vec<Option<&Path>> = paths
        .par_iter()
        .map(|p| match std::fs::metadata(p) {
            Ok(m) if !m.is_dir() => Some(p.as_path()),
            _ => None,
        })
        .collect();
    let mut prefetch = Prefetch::new(named.clone(), Origin::Named, &opts);
    let hosts = stem_hosts(&named, &mut prefetch);
    // Loose nodes are only added below.
    let mut loose_index = NameIndex::default();
    for (i, p) in paths.iter().enumerate() {
        let shown = p.display().to_string();
        match std::fs::metadata(p) {
            Err(e) => loader.out.errors.push(IngestError::new(
                shown,
                0,
                format!("a readable file or directory, found an error: {e}"),
            )),
            Ok(m) if m.is_dir() => load_dir(p, loader),
            Ok(_) => {
                let read = match prefetch.take(i) {
                    Some(read) => read,
                    // It was not a plain file a moment ago.
                    None => read_file(p, &opts, Origin::Named),
                };
                match read {
                    Ok((FileContent::Manifest(text), _)) => {
                        crate::manifest::load_manifest(p, &text, loader)
                    }
                    Ok((content, format)) => {
                        loader.out.files.push((shown.clone(), format));
                        let owner = hosts.host_of(p);
                        load_named(p, content, format, owner, &mut loose_index, loader);
                    }
                    Err(e) => loader.out.errors.push(e),
                }
            }
        }
    }
}

/// Adds what a file named as an argument holds: its clusters; its nodes to
/// the loose nodes; its CSV states as a cluster named after the file.
fn load_named(
    p: &Path,
    content: FileContent,
    format: &'static str,
    owner: Option<&str>,
    loose_index: &mut NameIndex,
    loader: &mut Loader<'_>,
) {
    let shown = p.display().to_string();
    if let FileContent::Clusters(cs) = content {
        for c in cs {
            loader.clusters.add(c, &mut loader.out.log);
        }
        return;
    }
    let mut loose = LooseNodes {
        list: std::mem::take(&mut loader.out.inventory.loose_nodes),
        index: loose_index,
        later: Vec::new(),
    };
    let mut csv = Vec::new();
    let clusters = &mut loader.clusters;
    csv.extend(absorb(
        content,
        &shown,
        format,
        owner,
        &mut loose,
        &mut loader.out,
        &mut |c, log| clusters.add(c, log),
    ));
    let LooseNodes {
        mut list,
        index,
        later,
    } = loose;
    for n in later {
        merge_into_indexed(&mut list, index, n, &mut loader.out.log);
    }
    loader.out.inventory.loose_nodes = list;
    if !csv.is_empty() {
        let mut c = Cluster {
            name: stem_name(p),
            source: Some(SourceRef::new(shown.as_str(), 0)),
            ..Cluster::default()
        };
        attach_csv(&mut c, csv, &shown);
        loader.clusters.add(c, &mut loader.out.log);
    }
}

/// Which host a file's stem names ([`StemHosts`]), learnt from the files
/// that share their folder and stem with another (only those can name a
/// host for another file); they are read now.
fn stem_hosts(paths: &[Option<&Path>], prefetch: &mut Prefetch<'_>) -> StemHosts {
    let mut count: HashMap<(String, String), usize> = HashMap::new();
    for p in paths.iter().flatten() {
        *count.entry(crate::consistency::stem_key(p)).or_default() += 1;
    }
    let shared: Vec<usize> = paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let key = crate::consistency::stem_key((*p)?);
            (count.get(&key).copied().unwrap_or(0) > 1).then_some(i)
        })
        .collect();
    if shared.is_empty() {
        return StemHosts::default();
    }
    prefetch.read_now(&shared);
    StemHosts::learn(
        shared
            .iter()
            .filter_map(|&i| Some((paths[i]?, prefetch.peek(i)?)))
            .collect::<Vec<_>>()
            .into_iter(),
    )
}

/// Reads a directory as one cluster. The files are read and parsed in
/// parallel, a batch at a time (each on its own: nothing is shared but the
/// result), then merged one after the other in sorted file order, so the
/// inventory and the order of errors do not depend on the number of
/// threads or on timing. Snapshots in it bring their own clusters, handed
/// on as each file is merged.
fn load_dir(dir: &Path, loader: &mut Loader<'_>) {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    let shown = dir.display().to_string();
    let mut cluster = Cluster {
        name,
        source: Some(SourceRef::new(shown.as_str(), 0)),
        ..Cluster::default()
    };
    let files = crate::walk::Walk::files_of(dir, &mut loader.out);
    let paths: Vec<Option<&Path>> = files.iter().map(|(p, _)| Some(p.as_path())).collect();
    let mut prefetch = Prefetch::new(paths.clone(), Origin::Found, &loader.opts);
    let hosts = stem_hosts(&paths, &mut prefetch);
    let mut nodes = Vec::new();
    let mut csv = Vec::new();
    for (i, (path, node_dir)) in files.iter().enumerate() {
        let shown = path.display().to_string();
        let Some((content, format)) = prefetch
            .take(i)
            .and_then(|read| record(path, read, &mut loader.out))
        else {
            continue;
        };
        match content {
            // A directory of snapshots is a fleet: thousands of clusters,
            // each handed on as its file is merged.
            FileContent::Clusters(cs) => {
                for c in cs {
                    loader.clusters.add(c, &mut loader.out.log);
                }
            }
            other => {
                let owner = node_dir.as_deref().or_else(|| hosts.host_of(path));
                let clusters = &mut loader.clusters;
                csv.extend(absorb(
                    other,
                    &shown,
                    format,
                    owner,
                    &mut nodes,
                    &mut loader.out,
                    &mut |c, log| clusters.add(c, log),
                ));
            }
        }
    }
    let mut node_index = NameIndex::default();
    for n in nodes {
        merge_into_indexed(&mut cluster.nodes, &mut node_index, n, &mut loader.out.log);
    }
    if !csv.is_empty() {
        attach_csv(&mut cluster, csv, &shown);
    }
    for n in &mut cluster.nodes {
        if n.cluster.is_none() {
            n.cluster = Some(cluster.name.clone());
        }
    }
    if !cluster.nodes.is_empty() || cluster.protection.csv_states.is_some() {
        loader.clusters.add(cluster, &mut loader.out.log);
    }
}
