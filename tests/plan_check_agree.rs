//! `check` and `plan --target secure` agree on every example and fixture,
//! with no catalog, with the MSRC CVRF document of December 2023 and with
//! the full WES-NG definitions: the secure plan installs on each node
//! exactly what check reports missing there. Both go through check's own
//! result (`run::check`'s per-cluster reports) and the one function that
//! reads the missing updates from it (`missing::missing_updates`); the
//! findings an admin reads name the same updates on the same nodes (their
//! items), and the
//! per-cluster judgement `lockstep plan` makes (`missing::judge_cluster`)
//! is check's.

use lockstep_catalog::Store;
use lockstep_catalog::known_issues::KnownIssues;
use lockstep_check::ItemKind;
use lockstep_check::missing::{judge_cluster, missing_updates};
use lockstep_check::posture::PostureEngine;
use lockstep_check::run::{CheckOptions, check};
use lockstep_check::sources::{CatalogOrigin, Sources};
use lockstep_model::KbId;
use lockstep_plan::{PlanOptions, PlanStatus, Target, plan_cluster};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

const INPUTS: &[&str] = &[
    "examples/kb2616676",
    "examples/ws2022-behind",
    "examples/av-csv-redirected",
    "tests/fixtures/snapshot/hvclu22.json",
    "tests/fixtures/snapshot/two-node-no-witness.json",
    "tests/fixtures/inventory",
    "tests/fixtures/real/inventory",
    "tests/fixtures/real/truth",
];

/// A catalog imported from `source` with the binary, into `dir`.
fn import(dir: &Path, source: &str) -> PathBuf {
    let path = dir.join("catalog.sqlite3");
    let o = Command::new(BIN)
        .arg("--catalog")
        .arg(&path)
        .args(["catalog", "import"])
        .arg(repo(source))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    path
}

/// The knowledge `lockstep --catalog <path>` uses, with no folders of the user's.
fn open(catalog: &Path) -> Sources {
    let store = Store::open(catalog).unwrap();
    Sources::from_store(&store, CatalogOrigin::File, KnownIssues::builtin()).unwrap()
}

/// The (node, update) pairs a finding names as items: an item without a
/// node holds for every node of the finding.
fn named_pairs(f: &lockstep_check::Finding) -> BTreeSet<(String, KbId)> {
    let mut out = BTreeSet::new();
    for item in &f.items {
        let Some(kb) = item.kb.filter(|_| item.kind == ItemKind::Update) else {
            continue;
        };
        match &item.node {
            Some(n) => {
                out.insert((n.clone(), kb));
            }
            None => out.extend(f.nodes.iter().map(|n| (n.clone(), kb))),
        }
    }
    out
}

const MISSING_CODES: &[&str] = &[
    "update-drift-missing",
    "update-drift-suspect",
    "security-update-missing",
    "companion-update-missing",
];

/// Returns how many node × update pairs were compared.
fn agree(sources: &Sources, what: &str) -> usize {
    let k = sources.knowledge();
    let mut compared = 0;
    for input in INPUTS {
        let loaded = lockstep_ingest::load_paths(&[repo(input)]);
        let mut inv = loaded.inventory;
        // Captures named after their files (`wesng__srv_2022_systeminfo`)
        // are no computer names a plan accepts; what is missing does not
        // depend on the name.
        for c in &mut inv.clusters {
            for (i, n) in c.nodes.iter_mut().enumerate() {
                if lockstep_plan::quote::validate_node_name(&n.name).is_err() {
                    n.name = format!("NODE{i}");
                }
            }
        }
        let report = check(
            &inv,
            &k,
            Some(sources.protection()),
            sources.catalog_info(),
            &CheckOptions::default(),
        );
        assert_eq!(report.clusters.len(), inv.clusters.len());
        let engine = PostureEngine::default();
        for (cluster, cr) in inv.clusters.iter().zip(&report.clusters) {
            let at = format!("{what}: {input} (cluster {})", cluster.name);
            // `lockstep plan` judges the cluster as check does.
            assert_eq!(&judge_cluster(cluster, &engine, None, &k), cr, "{at}");
            let missing: BTreeMap<String, BTreeSet<KbId>> = missing_updates(cr)
                .into_iter()
                .map(|n| (n.node, n.updates.iter().map(|u| u.kb).collect()))
                .collect();
            // A witness and a vote per node are stated so that no plan is
            // refused for quorum (two nodes, one of them holding the only
            // vote): what is installed does not depend on them.
            let plan = plan_cluster(
                cluster,
                cr,
                &k,
                &PlanOptions {
                    target: Target::Secure,
                    witness: Some(Some("DiskWitness".into())),
                    node_votes: cluster.nodes.iter().map(|n| (n.name.clone(), 1)).collect(),
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_ne!(
                plan.status,
                PlanStatus::Refused,
                "{at}: {:?}",
                plan.refusals
            );
            let planned: BTreeMap<String, BTreeSet<KbId>> = plan
                .nodes
                .iter()
                .map(|n| (n.name.clone(), n.installs.iter().copied().collect()))
                .collect();
            assert_eq!(planned, missing, "{at}");
            compared += missing.values().map(BTreeSet::len).sum::<usize>();
            // The findings that tell the admin to install something name
            // exactly these updates, on these nodes.
            let findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| {
                    f.cluster.as_deref() == Some(cluster.name.as_str())
                        && MISSING_CODES.contains(&f.code.as_str())
                })
                .collect();
            // Exactly the pairs the plan installs, no more, no fewer.
            let named: BTreeSet<(String, KbId)> =
                findings.iter().flat_map(|f| named_pairs(f)).collect();
            let installed: BTreeSet<(String, KbId)> = planned
                .iter()
                .flat_map(|(n, kbs)| kbs.iter().map(move |kb| (n.clone(), *kb)))
                .collect();
            assert_eq!(named, installed, "{at}");
        }
    }
    compared
}

#[test]
fn check_and_plan_secure_agree_on_every_example_and_fixture() {
    let none = Sources::without_catalog(KnownIssues::builtin(), "no catalog");
    assert_eq!(agree(&none, "no catalog"), 0);

    let dir = tempfile::tempdir().unwrap();
    let dec = import(
        dir.path(),
        "tests/fixtures/real/catalog/cvrf/cvrfDocument-2023-Dec.xml",
    );
    let cvrf = open(&dec);
    // KB5033118 on HVS03, HV22-03, HV2N-02; three on each of the four
    // 2008 R2 nodes; KB5033373 on the three 2016 nodes; and the real
    // captures' gaps.
    assert!(agree(&cvrf, "CVRF 2023-Dec") >= 18);

    let dir = tempfile::tempdir().unwrap();
    let wesng = import(
        dir.path(),
        "tests/fixtures/real/catalog/wesng/definitions.zip",
    );
    let wesng = open(&wesng);
    assert!(agree(&wesng, "WES-NG") > 0);
}
