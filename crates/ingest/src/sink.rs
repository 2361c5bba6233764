//! Where the loader puts what it reads: [`Loader`] holds one load's state
//! (errors, files, loose nodes) and [`ClusterSink`] merges each cluster
//! into the one of the same name or hands it on; [`Hold`] says which are
//! kept until every input is read. A cluster handed on is finished: names
//! on one line, collection time filled in.

use crate::consistency::MergeLog;
use crate::merge::{NameIndex, merge_cluster_into};
use crate::outcome::{LoadOptions, LoadOutcome};
use lockstep_model::{Cluster, CollectedAt, Node};
use std::collections::{BTreeMap, BTreeSet};

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

/// The state of one load: what was read so far and where clusters go.
pub(crate) struct Loader<'e> {
    /// Errors, files, the merge log and the loose nodes (its inventory's
    /// clusters stay empty: clusters go to `clusters`).
    pub(crate) out: LoadOutcome,
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

impl<'e> ClusterSink<'e> {
    pub(crate) fn new(hold: Hold, emit: &'e mut dyn FnMut(usize, Cluster)) -> Self {
        ClusterSink {
            names: Vec::new(),
            index: NameIndex::default(),
            hold,
            held: BTreeMap::new(),
            merged_late: BTreeSet::new(),
            emit,
        }
    }

    /// How many clusters were added (held, handed on or merged).
    pub(crate) fn count(&self) -> usize {
        self.names.len()
    }

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
    pub(crate) fn finish(self) -> BTreeSet<usize> {
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
        fill_collected_at(n);
    }
    c
}

/// Cluster and node names are identifiers every report, plan and message
/// shows: one line each, no terminal or bidi control (no Windows name has
/// one; a folder name can).
pub(crate) fn one_line_name(name: &mut String) {
    if let std::borrow::Cow::Owned(clean) = lockstep_model::term::one_line(name) {
        *name = clean;
    }
}

/// A node as the inventory holds it: names on one line; parsers and merges
/// grow update lists by pushing, and a fleet holds millions of updates, so
/// the unused capacity is given back (in place).
pub(crate) fn one_line_node(n: &mut Node) {
    one_line_name(&mut n.name);
    if let Some(c) = &mut n.cluster {
        one_line_name(c);
    }
    n.updates.shrink_to_fit();
}

/// A node whose inputs do not say when they were collected (every format
/// but the snapshot) gets the newest modification time of its files.
pub(crate) fn fill_collected_at(n: &mut Node) {
    if n.collected_at.is_some() {
        return;
    }
    n.collected_at = n
        .sources
        .iter()
        .filter_map(|s| std::fs::metadata(s).and_then(|m| m.modified()).ok())
        .filter_map(|t| jiff::Timestamp::try_from(t).ok())
        .max()
        .map(|at| CollectedAt {
            at,
            basis: lockstep_model::CollectedBasis::FileModified,
        });
}
