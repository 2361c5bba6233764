//! Loading as a stream of clusters: each cluster is handed on as soon as
//! the input that brings it has been read, so that a fleet is judged and
//! dropped cluster by cluster instead of being held whole.
//!
//! The stream gives exactly the inventory [`crate::load_paths_with`] gives
//! (the same clusters, merged the same way, at the same positions, with the
//! same errors and warnings in the same order), one cluster at a time:
//!
//! * Files are read and parsed in parallel a batch at a time (a few
//!   megabytes, and at least one file per thread), then taken one after
//!   the other in the order the loader visits them.
//! * A cluster is handed on when the input that brings it is merged: a
//!   snapshot file's clusters after that file, a folder's own cluster after
//!   the folder, a manifest entry's after the entry.
//! * Two inputs may bring the same cluster (a folder and a snapshot of it):
//!   they are merged. A cluster that a later input adds to after it was
//!   handed on makes the stream void ([`Streamed::merged_late`] says which
//!   clusters); loading again with [`Hold::Positions`] holding those keeps
//!   them until every input is read and hands them on last, each with its
//!   position, so the caller can put it in its place.
//! * [`Hold::All`] holds every cluster: the whole inventory, as
//!   [`crate::load_paths_with`] returns it.

use crate::inputs::load_into;
use crate::outcome::LoadOptions;
use crate::sink::{ClusterSink, Loader, fill_collected_at, one_line_node};
use crate::{IngestError, IngestWarning};
use lockstep_model::{Cluster, Node};
use std::collections::BTreeSet;
use std::path::PathBuf;

pub use crate::sink::Hold;

/// What a stream of clusters leaves besides its clusters.
#[derive(Debug, Default)]
pub struct Streamed {
    /// Nodes given on their own, not as part of a cluster.
    pub loose_nodes: Vec<Node>,
    pub errors: Vec<IngestError>,
    pub warnings: Vec<IngestWarning>,
    /// (path, format name) of every file that parsed.
    pub files: Vec<(String, &'static str)>,
    /// How many clusters the inputs hold.
    pub clusters: usize,
    /// Positions of clusters that a later input added to after they were
    /// handed on. When there are any, the stream is void (the clusters
    /// handed on were not whole, and nothing more was handed on after the
    /// first): load again holding these.
    pub merged_late: BTreeSet<usize>,
}

/// Reads files, directories and fleet manifests as a stream of clusters:
/// `emit` gets each cluster with its position in the inventory
/// ([`crate::load_paths_with`]'s `clusters`), the held ones last.
pub fn stream_paths_with(
    paths: &[PathBuf],
    opts: &LoadOptions,
    hold: Hold,
    emit: &mut dyn FnMut(usize, Cluster),
) -> Streamed {
    let mut loader = Loader {
        out: Default::default(),
        clusters: ClusterSink::new(hold, emit),
        opts: *opts,
    };
    load_into(paths, &mut loader);
    let Loader {
        mut out,
        clusters,
        opts: _,
    } = loader;
    let count = clusters.count();
    let merged_late = clusters.finish();
    for n in &mut out.inventory.loose_nodes {
        one_line_node(n);
        fill_collected_at(n);
    }
    Streamed {
        loose_nodes: out.inventory.loose_nodes,
        errors: out.errors,
        warnings: std::mem::take(&mut out.log.warnings),
        files: out.files,
        clusters: count,
        merged_late,
    }
}
