//! Shared test helpers: the bundled example and hand-built clusters.
#![allow(dead_code)]

use lockstep_catalog::known_issues::KnownIssues;
use lockstep_check::missing::judge_cluster;
use lockstep_check::posture::PostureEngine;
use lockstep_check::sources::{NoCatalog, WithKnownIssues};
use lockstep_model::{Cluster, Inventory};
use lockstep_plan::{Plan, PlanOptions, plan_cluster};
use std::path::PathBuf;

pub fn example_inventory() -> Inventory {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/kb2616676"
    ));
    let out = lockstep_ingest::load_paths(&[dir]);
    assert!(
        out.errors.is_empty(),
        "{:?}",
        out.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    out.inventory
}

pub fn example_cluster() -> Cluster {
    let inv = example_inventory();
    assert_eq!(inv.clusters.len(), 1);
    inv.clusters.into_iter().next().unwrap()
}

pub fn known() -> KnownIssues {
    KnownIssues::builtin()
}

pub fn plan_with(cluster: &Cluster, opts: &PlanOptions) -> Plan {
    let known = known();
    let k = WithKnownIssues::new(NoCatalog, &known);
    let report = judge_cluster(cluster, &PostureEngine::default(), None, &k);
    plan_cluster(cluster, &report, &k, opts).expect("plan")
}

use lockstep_check::knowledge::{EdgeInfo, Knowledge, UpdateKind};
use lockstep_model::{KbId, OsInfo, WinVersion};
use std::collections::{HashMap, HashSet};

/// A catalog in a few lines: one product, explicit edges (newer, older) and kinds.
#[derive(Debug, Clone, Default)]
pub struct TestKnowledge {
    pub product: String,
    pub edges: Vec<(KbId, KbId)>,
    pub kinds: HashMap<KbId, UpdateKind>,
    pub known: HashSet<KbId>,
    /// Edges a (pretend) known issue marks incomplete: drift through them is suspect.
    pub incomplete: Vec<(KbId, KbId)>,
    /// Updates whose install or removal needs a restart (MSRC RestartRequired).
    pub restart: HashSet<KbId>,
}

impl TestKnowledge {
    pub fn new(product: &str, edges: &[(u32, u32)]) -> Self {
        let mut known = HashSet::new();
        let edges: Vec<(KbId, KbId)> = edges
            .iter()
            .map(|&(n, o)| {
                known.insert(KbId(n));
                known.insert(KbId(o));
                (KbId(n), KbId(o))
            })
            .collect();
        Self {
            product: product.to_string(),
            edges,
            kinds: HashMap::new(),
            known,
            incomplete: Vec::new(),
            restart: HashSet::new(),
        }
    }
    fn edge(&self, newer: KbId, older: KbId) -> EdgeInfo {
        EdgeInfo {
            newer,
            older,
            sources: vec!["test".into()],
            verdict: self.incomplete.contains(&(newer, older)).then(|| {
                lockstep_check::knowledge::EdgeVerdict {
                    known_issue: "TEST-0001".into(),
                    kind: lockstep_check::knowledge::VerdictKind::Incomplete,
                    note: "the newer package lacks part of the older one".into(),
                }
            }),
            disputed: None,
        }
    }
}

impl Knowledge for TestKnowledge {
    fn has_catalog(&self) -> bool {
        true
    }
    fn product_of(&self, _os: &OsInfo) -> Option<String> {
        Some(self.product.clone())
    }
    fn kb_known(&self, kb: KbId) -> bool {
        self.known.contains(&kb)
    }
    fn published_for(&self, kb: KbId, _product: &str) -> bool {
        self.known.contains(&kb)
    }
    fn superseded_by(&self, kb: KbId, _product: &str) -> Vec<EdgeInfo> {
        self.edges
            .iter()
            .filter(|e| e.1 == kb)
            .map(|e| self.edge(e.0, e.1))
            .collect()
    }
    fn supersedes(&self, kb: KbId, _product: &str) -> Vec<EdgeInfo> {
        self.edges
            .iter()
            .filter(|e| e.0 == kb)
            .map(|e| self.edge(e.0, e.1))
            .collect()
    }
    fn covered_when_installed_by(&self, _kb: KbId, _product: &str) -> Vec<EdgeInfo> {
        Vec::new()
    }
    fn fixed_build(&self, _kb: KbId, _product: &str) -> Option<WinVersion> {
        None
    }
    fn release_date(&self, _kb: KbId) -> Option<jiff::civil::Date> {
        None
    }
    fn kind(&self, kb: KbId, _product: &str) -> Option<UpdateKind> {
        self.kinds.get(&kb).copied()
    }
    fn title(&self, _kb: KbId) -> Option<String> {
        None
    }
    fn max_severity(&self, _kb: KbId, _product: &str) -> Option<String> {
        None
    }
    fn updates_for(&self, _product: &str) -> Vec<KbId> {
        let mut v: Vec<KbId> = self.known.iter().copied().collect();
        v.sort();
        v
    }
    fn companion_products(&self, _product: &str) -> Vec<String> {
        Vec::new()
    }
    fn restart_required(&self, kb: KbId, _product: &str) -> Option<bool> {
        Some(self.restart.contains(&kb))
    }
}

pub fn snapshot_cluster(name: &str) -> Cluster {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/snapshot"
    ))
    .join(name);
    let out = lockstep_ingest::load_paths(&[path]);
    assert!(
        out.errors.is_empty(),
        "{:?}",
        out.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    out.inventory
        .clusters
        .into_iter()
        .next()
        .expect("one cluster")
}

/// Server 2022 knowledge for the snapshot fixtures: KB5033118 (December
/// 2023 LCU) supersedes KB5032198 (November 2023 LCU), as MSRC says.
pub fn server2022() -> TestKnowledge {
    let mut k = TestKnowledge::new("Windows Server 2022", &[(5033118, 5032198)]);
    k.kinds.insert(KbId(5033118), UpdateKind::Cumulative);
    k.kinds.insert(KbId(5032198), UpdateKind::Cumulative);
    k.known.insert(KbId(5032336));
    k.known.insert(KbId(5012170));
    k
}

pub fn plan_k(cluster: &Cluster, k: &dyn Knowledge, opts: &PlanOptions) -> Plan {
    let report = judge_cluster(cluster, &PostureEngine::default(), None, k);
    plan_cluster(cluster, &report, k, opts).expect("plan")
}

/// Check's own judgement of a cluster, as `lockstep plan` makes it.
pub fn report_k(cluster: &Cluster, k: &dyn Knowledge) -> lockstep_check::run::ClusterReport {
    judge_cluster(cluster, &PostureEngine::default(), None, k)
}
