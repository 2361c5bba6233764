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

use crate::consistency::MergeLog;
use crate::formats::FileContent;
use crate::load::{LoadOptions, NameIndex, merge_cluster_into, one_line_name, one_line_node};
use crate::{IngestError, IngestWarning};
use lockstep_model::input_file::Origin;
use lockstep_model::{Cluster, Node};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Which clusters a stream keeps until every input is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// Every cluster: they are handed on at the end, in order.
    All,
    /// The clusters at these positions (in order of first appearance).
    Positions(BTreeSet<usize>),
}

impl Hold {
    /// Holds nothing: every cluster is handed on as soon as it is read.
    pub fn none() -> Hold {
        Hold::Positions(BTreeSet::new())
    }

    fn holds(&self, position: usize) -> bool {
        match self {
            Hold::All => true,
            Hold::Positions(p) => p.contains(&position),
        }
    }
}

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
        clusters: ClusterSink {
            names: Vec::new(),
            index: NameIndex::default(),
            hold,
            held: BTreeMap::new(),
            merged_late: BTreeSet::new(),
            emit,
        },
        opts: *opts,
    };
    crate::load::load_into(paths, &mut loader);
    let Loader {
        mut out,
        clusters,
        opts: _,
    } = loader;
    let count = clusters.names.len();
    let merged_late = clusters.finish();
    for n in &mut out.inventory.loose_nodes {
        one_line_node(n);
        crate::load::fill_collected_at(n);
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

/// The state of one load: what was read so far and where clusters go.
pub(crate) struct Loader<'e> {
    /// Errors, files, the merge log and the loose nodes (its inventory's
    /// clusters stay empty: clusters go to `clusters`).
    pub(crate) out: crate::LoadOutcome,
    pub(crate) clusters: ClusterSink<'e>,
    pub(crate) opts: LoadOptions,
}

/// Where the loader puts clusters: merged by name into the ones held, or
/// handed on.
pub(crate) struct ClusterSink<'e> {
    /// Every cluster's name, in order of first appearance (its position).
    names: Vec<String>,
    index: NameIndex,
    hold: Hold,
    held: BTreeMap<usize, Cluster>,
    merged_late: BTreeSet<usize>,
    emit: &'e mut dyn FnMut(usize, Cluster),
}

impl ClusterSink<'_> {
    /// Adds a cluster: merged into the one of the same name when there is
    /// one (see [`crate::load`]), else a new one.
    pub(crate) fn add(&mut self, c: Cluster, log: &mut MergeLog) {
        match self.index.find(&self.names, String::as_str, &c.name) {
            Some(at) => match self.held.get_mut(&at) {
                Some(existing) => merge_cluster_into(existing, c, log),
                None => {
                    self.merged_late.insert(at);
                }
            },
            None => {
                let at = self.names.len();
                self.names.push(c.name.clone());
                if self.hold.holds(at) {
                    self.held.insert(at, c);
                } else if self.merged_late.is_empty() {
                    (self.emit)(at, finished(c));
                }
            }
        }
    }

    /// Hands on the held clusters, in order; returns the positions merged late.
    fn finish(self) -> BTreeSet<usize> {
        if self.merged_late.is_empty() {
            for (at, c) in self.held {
                (self.emit)(at, finished(c));
            }
        }
        self.merged_late
    }
}

/// A cluster as the inventory holds it: names on one line, each node's
/// collection time known where its files say it.
fn finished(mut c: Cluster) -> Cluster {
    one_line_name(&mut c.name);
    for n in &mut c.nodes {
        one_line_node(n);
        crate::load::fill_collected_at(n);
    }
    c
}

/// How many bytes of files a batch reads before they are parsed (at least
/// one file per thread). A parsed batch waits beside the clusters being
/// judged, so it is part of a check's peak: at 16 MB the peak heap of a
/// fleet depended on how its files fell into batches (tests/scale.rs);
/// 4 MB is as fast on two threads.
const BATCH_BYTES: u64 = 4 << 20;

type Parsed = Result<(FileContent, &'static str), IngestError>;

/// Files read and parsed in parallel ahead of the loader, a batch at a
/// time, and taken in order.
pub(crate) struct Prefetch<'p> {
    /// The files, by the loader's index; `None` is not read here.
    paths: Vec<Option<&'p Path>>,
    origin: Origin,
    opts: LoadOptions,
    ready: HashMap<usize, Parsed>,
}

impl<'p> Prefetch<'p> {
    pub(crate) fn new(paths: Vec<Option<&'p Path>>, origin: Origin, opts: &LoadOptions) -> Self {
        Prefetch {
            paths,
            origin,
            opts: *opts,
            ready: HashMap::new(),
        }
    }

    /// Reads these files now (in parallel), whatever their order.
    pub(crate) fn read_now(&mut self, indices: &[usize]) {
        let todo: Vec<(usize, &Path)> = indices
            .iter()
            .filter(|i| !self.ready.contains_key(i))
            .filter_map(|&i| Some((i, (*self.paths.get(i)?)?)))
            .collect();
        self.read_batch(todo);
    }

    /// What file `i` gave when it is read already.
    pub(crate) fn peek(&self, i: usize) -> Option<&Parsed> {
        self.ready.get(&i)
    }

    /// What file `i` gave, read with the files after it (a batch) when it
    /// is not read yet; `None` for a file this prefetch does not read.
    /// Taken in increasing order, each once.
    pub(crate) fn take(&mut self, i: usize) -> Option<Parsed> {
        if let Some(r) = self.ready.remove(&i) {
            return Some(r);
        }
        self.paths.get(i).copied().flatten()?;
        let threads = rayon::current_num_threads().max(1);
        let mut batch = Vec::new();
        let mut bytes = 0u64;
        for (j, slot) in self.paths.iter().enumerate().skip(i) {
            let Some(p) = slot else { continue };
            if self.ready.contains_key(&j) {
                continue;
            }
            if batch.len() >= threads && bytes >= BATCH_BYTES {
                break;
            }
            bytes += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            batch.push((j, *p));
        }
        self.read_batch(batch);
        self.ready.remove(&i)
    }

    fn read_batch(&mut self, batch: Vec<(usize, &Path)>) {
        let origin = self.origin;
        let opts = self.opts;
        // One file is read on this thread, which takes what it gives.
        let parsed: Vec<(usize, Parsed)> = if batch.len() == 1 {
            batch
                .into_iter()
                .map(|(i, p)| (i, crate::load::read_file(p, &opts, origin)))
                .collect()
        } else {
            batch
                .into_par_iter()
                .map(|(i, p)| (i, crate::load::read_file(p, &opts, origin)))
                .collect()
        };
        self.ready.extend(parsed);
    }
}
