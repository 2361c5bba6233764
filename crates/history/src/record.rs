//! What one recording stores: per cluster a run (the cluster as one check
//! saw it), per node an observation, and the facts about cumulative
//! updates that the history needs later without a catalog.
//!
//! Built from the check's inputs and findings; no I/O except reading the
//! catalog's document list for [`CatalogStamp`].

use crate::codec;
use jiff::Timestamp;
use lockstep_check::Finding;
use lockstep_check::knowledge::{Knowledge, UpdateKind};
use lockstep_model::{Cluster, CollectedBasis, Inventory, KbSet, Node};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Everything one `--record` writes, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Wall-clock time of the recording (kept, never used as a key).
    pub recorded_at: i64,
    pub catalog: Option<CatalogStamp>,
    pub runs: Vec<RunRecord>,
    /// Cumulative updates (and monthly rollups) among the recorded update
    /// sets, with their release dates, as the catalog says.
    pub cumulative: Vec<CumulativeFact>,
    /// Nodes that could not be recorded, `node: why` (an error: the exit
    /// code says so).
    pub errors: Vec<String>,
    /// What was left out on purpose (nodes outside a cluster).
    pub notes: Vec<String>,
}

/// One cluster as one check saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub cluster: String,
    /// The newest collection time of its nodes: the run's key with the cluster.
    pub collected_at: i64,
    pub members: Vec<NodeRecord>,
    /// The check's findings about this cluster, sorted.
    pub findings: Vec<FindingRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub name: String,
    pub collected_at: i64,
    pub basis: CollectedBasis,
    /// Sorted KB numbers; `None` when the updates could not be read (a
    /// snapshot's `hotfixes` section in error): unknown, not empty.
    pub kbs: Option<Vec<u32>>,
    pub os_build: Option<String>,
}

/// A finding as the history keeps it: enough to say when it was seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingRecord {
    pub code: String,
    pub severity: String,
    pub nodes: Vec<String>,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CumulativeFact {
    pub kb: u32,
    /// `YYYY-MM-DD`.
    pub released: Option<String>,
}

/// Which catalog a check used: a fingerprint of its documents' contents
/// and a line an admin can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogStamp {
    pub fingerprint: String,
    pub description: String,
    /// The newest release date among its documents, `YYYY-MM-DD`.
    pub newest_release: Option<String>,
    /// When a document was last imported.
    pub imported_at: Option<Timestamp>,
}

impl RunRecord {
    /// Whether every member whose updates are known carries the same set.
    pub fn in_step(&self) -> bool {
        let mut known = self.members.iter().filter_map(|m| m.kbs.as_ref());
        match known.next() {
            None => true,
            Some(first) => known.all(|k| k == first),
        }
    }
}

impl CatalogStamp {
    /// Reads the catalog's document list (the catalog the check used).
    pub fn of_catalog(path: &Path) -> Result<CatalogStamp, String> {
        let store = lockstep_catalog::Store::open(path)
            .map_err(|e| format!("reading the catalog {}: {e}", path.display()))?;
        Self::of_store(&store, path)
    }

    /// The stamp of the catalog compiled into lockstep.
    pub fn of_bundled() -> Result<CatalogStamp, String> {
        let store = lockstep_catalog::bundled::open_bundled()
            .map_err(|e| format!("reading the bundled catalog: {e}"))?;
        Self::of_store(&store, Path::new(lockstep_catalog::bundled::BUNDLED_NAME))
    }

    fn of_store(store: &lockstep_catalog::Store, path: &Path) -> Result<CatalogStamp, String> {
        let mut docs = store
            .documents()
            .map_err(|e| format!("reading the catalog {}: {e}", path.display()))?;
        docs.sort_by(|a, b| (a.kind.as_str(), &a.name).cmp(&(b.kind.as_str(), &b.name)));
        let mut listing = String::new();
        for d in &docs {
            listing.push_str(&format!(
                "{}:{}:{}\n",
                d.kind.as_str(),
                d.name,
                d.content_hash
            ));
        }
        let fingerprint: String = codec::text_hash("lockstep-catalog", &listing)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let release = |d: &lockstep_catalog::store::StoredDocument| {
            d.current_release
                .as_deref()
                .or(d.initial_release.as_deref())
                .and_then(|s| s.get(..10))
                .filter(|s| s.parse::<jiff::civil::Date>().is_ok())
                .map(str::to_string)
        };
        let newest = docs
            .iter()
            .filter_map(|d| release(d).map(|r| (r, d)))
            .max_by(|a, b| a.0.cmp(&b.0));
        let description = match &newest {
            Some((r, d)) => format!(
                "{} document(s), newest {}:{} released {r}",
                docs.len(),
                d.kind.as_str(),
                d.name
            ),
            None => format!("{} document(s)", docs.len()),
        };
        Ok(CatalogStamp {
            fingerprint,
            description,
            newest_release: newest.map(|(r, _)| r),
            imported_at: docs
                .iter()
                .filter_map(|d| d.imported_at.parse::<Timestamp>().ok())
                .max(),
        })
    }
}

/// Each cluster of the inventory as a run, with the check's findings
/// about it (`findings` may be empty: "out of step since" needs only the
/// update sets). Nodes that cannot be recorded are `errors`.
pub fn runs_of(inventory: &Inventory, findings: &[Finding]) -> (Vec<RunRecord>, Vec<String>) {
    let mut by_cluster: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if let Some(c) = &f.cluster {
            by_cluster.entry(c).or_default().push(f);
        }
    }
    let mut errors = Vec::new();
    let mut runs = Vec::with_capacity(inventory.clusters.len());
    for c in &inventory.clusters {
        let mine = by_cluster.remove(c.name.as_str()).unwrap_or_default();
        let (run, errs) = run_of(c, mine);
        errors.extend(errs);
        runs.extend(run);
    }
    (runs, errors)
}

/// One cluster as a run, with the check's findings about it; `None` when
/// none of its nodes can be recorded (the errors say why).
pub fn run_of<'f>(
    c: &Cluster,
    findings: impl IntoIterator<Item = &'f Finding>,
) -> (Option<RunRecord>, Vec<String>) {
    let mut errors = Vec::new();
    let mut members = Vec::with_capacity(c.nodes.len());
    for n in &c.nodes {
        match node_record(n) {
            Ok(m) => members.push(m),
            Err(e) => errors.push(format!("{} (cluster {}): {e}", n.name, c.name)),
        }
    }
    let Some(collected_at) = members.iter().map(|m| m.collected_at).max() else {
        return (None, errors);
    };
    let mut findings: Vec<FindingRecord> = findings
        .into_iter()
        .map(|f| FindingRecord {
            code: f.code.to_string(),
            severity: f.severity.to_string(),
            nodes: f.nodes.clone(),
            title: f.title.clone(),
        })
        .collect();
    findings.sort();
    let run = RunRecord {
        cluster: c.name.clone(),
        collected_at,
        members,
        findings,
    };
    (Some(run), errors)
}

/// The recording of a check: `findings` are the check's (every cluster's),
/// `k` the knowledge it used (for which updates are cumulative).
pub fn recording(
    inventory: &Inventory,
    findings: &[Finding],
    k: &dyn Knowledge,
    catalog: Option<CatalogStamp>,
    recorded_at: Timestamp,
) -> Recording {
    RecordingBuilder::of(inventory, findings, k).finish(
        &inventory.loose_nodes,
        catalog,
        recorded_at,
    )
}

/// A recording built cluster by cluster, as a streamed check hands them
/// on (in any order: each comes with its position in the inventory).
#[derive(Debug, Default)]
pub struct RecordingBuilder {
    runs: Vec<(usize, RunRecord)>,
    errors: Vec<(usize, String)>,
    cumulative: BTreeMap<u32, Option<String>>,
    /// The KBs the catalog was asked about, per product.
    asked: HashMap<String, KbSet>,
}

impl RecordingBuilder {
    /// The builder of a whole check: every cluster of the inventory with
    /// the check's findings (every cluster's).
    pub fn of(inventory: &Inventory, findings: &[Finding], k: &dyn Knowledge) -> RecordingBuilder {
        let (runs, errors) = runs_of(inventory, findings);
        let mut builder = RecordingBuilder::default();
        for c in &inventory.clusters {
            builder.add_cumulative(c, k);
        }
        builder.runs = runs.into_iter().enumerate().collect();
        builder.errors = errors.into_iter().map(|e| (0, e)).collect();
        builder
    }

    /// Adds the cluster at `position` with the check's findings about it.
    pub fn add_cluster(
        &mut self,
        position: usize,
        c: &Cluster,
        findings: &[Finding],
        k: &dyn Knowledge,
    ) {
        let (run, errors) = run_of(c, findings);
        self.runs.extend(run.map(|r| (position, r)));
        self.errors
            .extend(errors.into_iter().map(|e| (position, e)));
        self.add_cumulative(c, k);
    }

    /// Notes the cumulative updates (and monthly rollups) among the
    /// cluster's nodes' updates, asking the catalog once per product and KB.
    fn add_cumulative(&mut self, c: &Cluster, k: &dyn Knowledge) {
        for n in &c.nodes {
            let Some(p) = k.product_of(&n.os) else {
                continue;
            };
            let asked = self.asked.entry(p.clone()).or_default();
            for u in &n.updates {
                if !asked.insert(u.kb) {
                    continue;
                }
                if matches!(
                    k.kind(u.kb, &p),
                    Some(UpdateKind::Cumulative | UpdateKind::MonthlyRollup)
                ) {
                    let released = k.release_date(u.kb).map(|d| d.to_string());
                    let slot = self.cumulative.entry(u.kb.number()).or_insert(None);
                    if slot.is_none() {
                        *slot = released;
                    }
                }
            }
        }
    }

    /// The recording: runs and errors in the inventory's order, a note for
    /// the nodes outside a cluster (not recorded).
    pub fn finish(
        mut self,
        loose_nodes: &[Node],
        catalog: Option<CatalogStamp>,
        recorded_at: Timestamp,
    ) -> Recording {
        let mut notes = Vec::new();
        if !loose_nodes.is_empty() {
            notes.push(format!(
                "{} node(s) outside a cluster not recorded ({}): the history is kept per cluster; give the cluster's folder, a snapshot or a fleet manifest",
                loose_nodes.len(),
                loose_nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // Stable: a cluster's errors keep their order.
        self.runs.sort_by_key(|(at, _)| *at);
        self.errors.sort_by_key(|(at, _)| *at);
        Recording {
            recorded_at: recorded_at.as_second(),
            catalog,
            runs: self.runs.into_iter().map(|(_, r)| r).collect(),
            cumulative: self
                .cumulative
                .into_iter()
                .map(|(kb, released)| CumulativeFact { kb, released })
                .collect(),
            errors: self.errors.into_iter().map(|(_, e)| e).collect(),
            notes,
        }
    }
}

fn node_record(n: &Node) -> Result<NodeRecord, String> {
    let Some(at) = n.collected_at else {
        return Err("no collection time: the inputs do not say when they were collected and their files' modification times cannot be read".into());
    };
    let kbs = if n.unread("hotfixes").is_some() {
        None
    } else {
        let mut kbs: Vec<u32> = n.updates.iter().map(|u| u.kb.number()).collect();
        kbs.sort_unstable();
        kbs.dedup();
        Some(kbs)
    };
    Ok(NodeRecord {
        name: n.name.clone(),
        collected_at: at.at.as_second(),
        basis: at.basis,
        kbs,
        os_build: n.os.version.as_ref().map(|v| v.value.to_string()),
    })
}
