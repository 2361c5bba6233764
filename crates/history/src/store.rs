//! The store interface both backends implement, the rows a recording
//! becomes (prepared once, the same for both), and the backend-neutral view
//! of one cluster's history that the timeline is computed from.

use crate::codec;
use crate::error::HistoryError;
use crate::record::{FindingRecord, Recording};
use crate::schema::SCHEMA_VERSION;
use lockstep_model::CollectedBasis;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a store holds, read before anything is written to it.
pub(crate) enum Found {
    Fresh,
    /// A lockstep history, with its schema version.
    Ours(i64),
}

impl Found {
    /// The schema version found (0 when fresh). A newer one than this
    /// lockstep knows is an error: the store is left as it is.
    pub(crate) fn version(&self, target: &str) -> Result<i64, HistoryError> {
        match *self {
            Found::Fresh => Ok(0),
            Found::Ours(v) if v > SCHEMA_VERSION => Err(HistoryError::SchemaTooNew {
                target: target.to_string(),
                found: v,
                supported: SCHEMA_VERSION,
            }),
            Found::Ours(v) => Ok(v),
        }
    }
}

/// A history store: the embedded SQLite file or a shared PostgreSQL.
pub trait Store {
    /// What to call it in messages (`SQLite /path`, `PostgreSQL host:port/db`;
    /// never a password).
    fn target(&self) -> &str;
    /// Stores a recording in one transaction: all of it or nothing.
    /// Observations and runs already stored (same node or cluster, same
    /// collected-at time) are kept as they are and counted as known.
    fn record(&mut self, r: &Recording) -> Result<RecordOutcome, HistoryError>;
    /// Every cluster in the history, by name.
    fn clusters(&mut self) -> Result<Vec<ClusterListing>, HistoryError>;
    /// One cluster's runs and observations up to `until` (all when `None`);
    /// `None` when the history has no such cluster. Names match
    /// case-insensitively.
    fn cluster(
        &mut self,
        name: &str,
        until: Option<i64>,
    ) -> Result<Option<ClusterData>, HistoryError>;
    /// The first stored run before `before` after which the cluster was
    /// never in step again before `before`; `None` when the last run before
    /// it was in step, or there is none.
    fn streak_start(&mut self, cluster: &str, before: i64) -> Result<Option<i64>, HistoryError>;
    /// Row counts (tests, benchmarks, `lockstep record`'s summary).
    fn counts(&mut self) -> Result<Counts, HistoryError>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordOutcome {
    pub runs_new: u64,
    pub runs_known: u64,
    pub observations_new: u64,
    pub observations_known: u64,
    pub update_sets_new: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub clusters: i64,
    pub nodes: i64,
    pub runs: i64,
    pub observations: i64,
    pub update_sets: i64,
    pub finding_sets: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterListing {
    pub name: String,
    pub nodes: i64,
    pub runs: i64,
    pub first: i64,
    pub last: i64,
    pub last_in_step: bool,
}

/// One cluster's history, names resolved: what the timeline reads.
#[derive(Debug, Clone, Default)]
pub struct ClusterData {
    pub name: String,
    /// Sorted by time.
    pub runs: Vec<RunView>,
    /// Sorted by node, then time.
    pub observations: Vec<ObsView>,
    /// Cumulative KBs with their release dates (`YYYY-MM-DD`).
    pub cumulative: HashMap<u32, Option<String>>,
}

#[derive(Debug, Clone)]
pub struct RunView {
    pub at: i64,
    pub in_step: bool,
    /// (node, the collected-at time of its observation in this run), by node.
    pub members: Vec<(Arc<str>, i64)>,
    pub findings: Arc<Vec<FindingRecord>>,
    pub catalog: Option<Arc<str>>,
    pub recorded_at: i64,
}

#[derive(Debug, Clone)]
pub struct ObsView {
    pub node: Arc<str>,
    pub at: i64,
    pub basis: CollectedBasis,
    pub kbs: Option<Arc<Vec<u32>>>,
    pub os_build: Option<String>,
    pub recorded_at: i64,
}

/// Case-insensitive key of a cluster or node name.
pub fn name_key(name: &str) -> String {
    name.to_uppercase()
}

/// A recording as rows, deduplicated and sorted (so concurrent writers
/// take their row locks in one order and cannot deadlock).
pub(crate) struct Prepared {
    /// (key, name), sorted by key.
    pub clusters: Vec<(String, String)>,
    /// (cluster key, node key, name), sorted.
    pub nodes: Vec<(String, String, String)>,
    /// hash → (KB count, encoded set), sorted by hash.
    pub sets: BTreeMap<Vec<u8>, (i32, Vec<u8>)>,
    /// Each distinct finding: hash → JSON, sorted by hash.
    pub findings: BTreeMap<Vec<u8>, String>,
    /// Each distinct list of findings: hash → its findings' hashes.
    pub finding_sets: BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
    pub observations: Vec<PreparedObservation>,
    pub runs: Vec<PreparedRun>,
}

pub(crate) struct PreparedObservation {
    pub cluster_key: String,
    pub node_key: String,
    pub collected_at: i64,
    pub basis: i16,
    pub set_hash: Option<Vec<u8>>,
    pub os_build: Option<String>,
}

pub(crate) struct PreparedRun {
    pub cluster_key: String,
    pub collected_at: i64,
    pub in_step: bool,
    /// (node key, offset of its observation before the run).
    pub members: Vec<(String, i64)>,
    pub findings_hash: Vec<u8>,
}

impl Prepared {
    pub fn of(r: &Recording) -> Prepared {
        let mut clusters = BTreeMap::new();
        let mut nodes = BTreeMap::new();
        let mut sets = BTreeMap::new();
        let mut findings = BTreeMap::new();
        let mut finding_sets = BTreeMap::new();
        let mut observations = Vec::new();
        let mut runs = Vec::new();
        for run in &r.runs {
            let ck = name_key(&run.cluster);
            clusters
                .entry(ck.clone())
                .or_insert_with(|| run.cluster.clone());
            let mut members: Vec<Vec<u8>> = run
                .findings
                .iter()
                .map(|f| {
                    let json = serde_json::to_string(f).unwrap_or_default();
                    let h = codec::text_hash("lockstep-finding/1", &json);
                    findings.entry(h.clone()).or_insert(json);
                    h
                })
                .collect();
            members.sort();
            members.dedup();
            let fh = codec::set_hash(&members.concat());
            finding_sets.entry(fh.clone()).or_insert(members);
            let mut members = Vec::with_capacity(run.members.len());
            for m in &run.members {
                let nk = name_key(&m.name);
                nodes
                    .entry((ck.clone(), nk.clone()))
                    .or_insert_with(|| m.name.clone());
                let set_hash = m.kbs.as_ref().map(|kbs| {
                    let encoded = codec::encode_kbs(kbs);
                    let h = codec::set_hash(&encoded);
                    sets.entry(h.clone())
                        .or_insert((i32::try_from(kbs.len()).unwrap_or(i32::MAX), encoded));
                    h
                });
                observations.push(PreparedObservation {
                    cluster_key: ck.clone(),
                    node_key: nk.clone(),
                    collected_at: m.collected_at,
                    basis: crate::schema::basis_code(m.basis),
                    set_hash,
                    os_build: m.os_build.clone(),
                });
                members.push((nk, run.collected_at - m.collected_at));
            }
            runs.push(PreparedRun {
                cluster_key: ck,
                collected_at: run.collected_at,
                in_step: run.in_step(),
                members,
                findings_hash: fh,
            });
        }
        observations.sort_by(|a, b| {
            (&a.cluster_key, &a.node_key, a.collected_at).cmp(&(
                &b.cluster_key,
                &b.node_key,
                b.collected_at,
            ))
        });
        observations.dedup_by(|a, b| {
            a.cluster_key == b.cluster_key
                && a.node_key == b.node_key
                && a.collected_at == b.collected_at
        });
        runs.sort_by(|a, b| {
            (&a.cluster_key, a.collected_at).cmp(&(&b.cluster_key, b.collected_at))
        });
        runs.dedup_by(|a, b| a.cluster_key == b.cluster_key && a.collected_at == b.collected_at);
        Prepared {
            clusters: clusters.into_iter().collect(),
            nodes: nodes
                .into_iter()
                .map(|((c, n), name)| (c, n, name))
                .collect(),
            sets,
            findings,
            finding_sets,
            observations,
            runs,
        }
    }
}

/// (at, in_step, members, finding set id, catalog id, recorded_at)
pub(crate) type RawRun = (i64, bool, Vec<u8>, i64, Option<i64>, i64);
/// (node id, at, basis, set id, os build, recorded_at)
pub(crate) type RawObservation = (i64, i64, i64, Option<i64>, Option<String>, i64);

/// Rows of one cluster as a backend read them, ids unresolved.
#[derive(Default)]
pub(crate) struct RawCluster {
    pub name: String,
    pub nodes: Vec<(i64, String)>,
    pub runs: Vec<RawRun>,
    pub observations: Vec<RawObservation>,
    pub sets: Vec<(i64, Vec<u8>)>,
    /// (id, the finding ids it lists)
    pub finding_sets: Vec<(i64, Vec<u8>)>,
    pub findings: Vec<(i64, String)>,
    pub catalogs: Vec<(i64, String)>,
    pub cumulative: Vec<(i64, Option<String>)>,
}

impl RawCluster {
    /// The finding ids the cluster's finding sets list (what to read next).
    pub fn finding_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .finding_sets
            .iter()
            .filter_map(|(_, blob)| codec::decode_ids(blob))
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    pub fn resolve(self, target: &str) -> Result<ClusterData, HistoryError> {
        let corrupt = |detail: String| HistoryError::Corrupt {
            target: target.to_string(),
            detail,
        };
        let names: HashMap<i64, Arc<str>> = self
            .nodes
            .into_iter()
            .map(|(id, n)| (id, Arc::from(n)))
            .collect();
        let name_of = |id: i64| {
            names
                .get(&id)
                .cloned()
                .ok_or_else(|| corrupt(format!("node id {id} is not a node of the cluster")))
        };
        let mut sets = HashMap::new();
        for (id, blob) in self.sets {
            let kbs = codec::decode_kbs(&blob)
                .ok_or_else(|| corrupt(format!("update set {id} does not decode")))?;
            sets.insert(id, Arc::new(kbs));
        }
        let mut findings: HashMap<i64, FindingRecord> = HashMap::new();
        for (id, json) in self.findings {
            let f: FindingRecord =
                serde_json::from_str(&json).map_err(|e| corrupt(format!("finding {id}: {e}")))?;
            findings.insert(id, f);
        }
        let mut finding_sets = HashMap::new();
        for (id, blob) in self.finding_sets {
            let ids = codec::decode_ids(&blob)
                .ok_or_else(|| corrupt(format!("finding set {id} does not decode")))?;
            let mut list = ids
                .iter()
                .map(|f| {
                    findings
                        .get(f)
                        .cloned()
                        .ok_or_else(|| corrupt(format!("finding {f} is missing")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            list.sort();
            finding_sets.insert(id, Arc::new(list));
        }
        let catalogs: HashMap<i64, Arc<str>> = self
            .catalogs
            .into_iter()
            .map(|(id, d)| (id, Arc::from(d)))
            .collect();
        let mut runs = Vec::with_capacity(self.runs.len());
        for (at, in_step, members, fs, catalog, recorded_at) in self.runs {
            let decoded = codec::decode_members(&members)
                .ok_or_else(|| corrupt(format!("the members of the run at {at} do not decode")))?;
            let mut members = Vec::with_capacity(decoded.len());
            for (id, offset) in decoded {
                members.push((name_of(id)?, at - offset));
            }
            members.sort();
            runs.push(RunView {
                at,
                in_step,
                members,
                findings: finding_sets
                    .get(&fs)
                    .cloned()
                    .ok_or_else(|| corrupt(format!("finding set {fs} is missing")))?,
                catalog: catalog.and_then(|c| catalogs.get(&c).cloned()),
                recorded_at,
            });
        }
        runs.sort_by_key(|r| r.at);
        let mut observations = Vec::with_capacity(self.observations.len());
        for (node, at, basis, set, os_build, recorded_at) in self.observations {
            observations.push(ObsView {
                node: name_of(node)?,
                at,
                basis: crate::schema::basis_of(basis)
                    .ok_or_else(|| corrupt(format!("basis {basis} is unknown")))?,
                kbs: match set {
                    None => None,
                    Some(s) => Some(
                        sets.get(&s)
                            .cloned()
                            .ok_or_else(|| corrupt(format!("update set {s} is missing")))?,
                    ),
                },
                os_build,
                recorded_at,
            });
        }
        observations.sort_by(|a, b| (&a.node, a.at).cmp(&(&b.node, b.at)));
        Ok(ClusterData {
            name: self.name,
            runs,
            observations,
            cumulative: self
                .cumulative
                .into_iter()
                .filter_map(|(kb, r)| u32::try_from(kb).ok().map(|kb| (kb, r)))
                .collect(),
        })
    }
}
