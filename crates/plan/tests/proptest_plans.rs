//! Property tests: random clusters and supersedence graphs, planned and
//! replayed by the simulator. Fixed seed and case count come from
//! PROPTEST_RNG_SEED / PROPTEST_CASES (scripts/test.sh sets both).
mod common;
use common::TestKnowledge;
use lockstep_check::knowledge::UpdateKind;
use lockstep_check::missing::{judge_cluster, missing_updates};
use lockstep_check::posture::PostureEngine;
use lockstep_model::inventory::Witness;
use lockstep_model::{
    Cluster, ClusterState, HostMemory, InstalledUpdate, KbId, Node, NodeState, OsInfo, SourceRef,
    Sourced, VirtualMachine, WinVersion,
};
use lockstep_plan::simulate::simulate;
use lockstep_plan::*;
use proptest::prelude::*;

const GIB: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone)]
struct Case {
    nodes: Vec<(Vec<bool>, u32, Vec<u64>, u64)>, // installed mask, weight, VM GiB, free GiB
    edges: Vec<(usize, usize)>,                  // (newer, older) indexes, newer > older
    cumulative: Vec<bool>,
    witness: bool,
    capacity_known: bool,
    target: Target,
    max_parallel: u32,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..=5, 2usize..=6).prop_flat_map(|(n, m)| {
        let node = (
            prop::collection::vec(any::<bool>(), m),
            prop_oneof![4 => Just(1u32), 1 => Just(0u32)],
            prop::collection::vec(1u64..=24, 0..=3),
            0u64..=96,
        );
        (
            prop::collection::vec(node, n),
            prop::collection::vec((0..m, 0..m), 0..=m * 2),
            prop::collection::vec(any::<bool>(), m),
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(Target::Secure), Just(Target::Converge)],
            1u32..=3,
        )
            .prop_map(
                |(nodes, raw_edges, cumulative, witness, capacity_known, target, max_parallel)| {
                    let mut edges: Vec<(usize, usize)> = raw_edges
                        .into_iter()
                        .filter(|(a, b)| a != b)
                        .map(|(a, b)| (a.max(b), a.min(b)))
                        .collect();
                    edges.sort();
                    edges.dedup();
                    Case {
                        nodes,
                        edges,
                        cumulative,
                        witness,
                        capacity_known,
                        target,
                        max_parallel,
                    }
                },
            )
    })
}

fn kb(i: usize) -> KbId {
    KbId(5_000_000 + i as u32)
}

fn build(c: &Case) -> (Cluster, TestKnowledge) {
    let m = c.cumulative.len();
    let edges: Vec<(u32, u32)> = c.edges.iter().map(|&(a, b)| (kb(a).0, kb(b).0)).collect();
    let mut k = TestKnowledge::new("Windows Server 2022", &edges);
    for i in 0..m {
        k.known.insert(kb(i));
        if c.cumulative[i] {
            k.kinds.insert(kb(i), UpdateKind::Cumulative);
        }
    }
    let src = SourceRef::new("generated", 1);
    let nodes = c
        .nodes
        .iter()
        .enumerate()
        .map(|(i, (mask, weight, vms, free))| Node {
            name: format!("N{i}"),
            os: OsInfo {
                caption: Some(Sourced::new(
                    "Microsoft Windows Server 2022 Datacenter".into(),
                    src.clone(),
                )),
                version: Some(Sourced::new(
                    WinVersion::new(10, 0, 20348, 2159),
                    src.clone(),
                )),
                ..Default::default()
            },
            updates: mask
                .iter()
                .enumerate()
                .filter(|(_, on)| **on)
                .map(|(j, _)| InstalledUpdate {
                    kb: kb(j),
                    id_text: None,
                    description: None,
                    installed_on: None,
                    installed_by: None,
                    source: src.clone(),
                })
                .collect(),
            state: Some(NodeState {
                state: "Up".into(),
                node_weight: Some(*weight),
                dynamic_weight: Some(*weight),
                drain_status: None,
            }),
            memory: c.capacity_known.then_some(HostMemory {
                total_bytes: 256 * GIB,
                free_bytes: Some(free * GIB),
            }),
            vms: c.capacity_known.then(|| {
                vms.iter()
                    .enumerate()
                    .map(|(v, g)| VirtualMachine {
                        name: format!("VM{i}-{v}"),
                        state: "Running".into(),
                        memory_assigned_bytes: g * GIB,
                        memory_startup_bytes: None,
                        configuration_location: None,
                        snapshot_file_location: None,
                        smart_paging_file_path: None,
                        hard_drives: Vec::new(),
                    })
                    .collect()
            }),
            ..Default::default()
        })
        .collect();
    let cluster = Cluster {
        name: "PROP".into(),
        nodes,
        state: Some(ClusterState {
            quorum_type: None,
            witness: c.witness.then(|| Witness {
                kind: "FileShareWitness".into(),
                resource: None,
                path: None,
            }),
            groups: Some(Vec::new()),
            csvs: None,
        }),
        ..Default::default()
    };
    (cluster, k)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn plans_meet_the_target_and_keep_the_cluster_up(c in case()) {
        let (cluster, k) = build(&c);
        let report = judge_cluster(&cluster, &PostureEngine::default(), None, &k);
        let drift = &report.drift;
        let opts = PlanOptions { target: c.target, max_parallel: c.max_parallel, ..Default::default() };
        let plan = plan_cluster(&cluster, &report, &k, &opts).expect("valid names");
        // The nodes with work: under secure what check reports missing,
        // under converge the drift the plan does not leave alone.
        let left: Vec<(KbId, &String)> = plan
            .left_alone
            .iter()
            .flat_map(|l| l.nodes.iter().map(move |n| (l.kb, n)))
            .collect();
        let work: Vec<String> = match c.target {
            Target::Secure => missing_updates(&report).into_iter().map(|n| n.node).collect(),
            Target::Converge => drift
                .groups
                .iter()
                .filter(|g| c.target.closes(g.class))
                .flat_map(|g| g.absent_on.iter().filter(|n| !left.contains(&(g.kb, *n))).cloned())
                .collect(),
        };
        match plan.status {
            PlanStatus::Refused => {
                prop_assert!(plan.nodes.is_empty() && plan.waves.is_empty());
                // Every quorum refusal is real: some node with work cannot
                // go down alone without losing the majority.
                let total: u32 = c.nodes.iter().map(|n| n.1).sum::<u32>() + u32::from(c.witness);
                let majority = total / 2 + 1;
                prop_assert!(!work.is_empty());
                for r in &plan.refusals {
                    if r.starts_with("quorum:") {
                        let lost = work.iter().any(|n| {
                            let w = cluster.nodes.iter().find(|x| &x.name == n).and_then(|x| x.state.as_ref()).and_then(|s| s.node_weight).unwrap_or(1);
                            total - w < majority
                        });
                        prop_assert!(lost, "unjustified quorum refusal: {}", r);
                    } else {
                        prop_assert!(r.starts_with("capacity:"), "unexpected refusal {}", r);
                        prop_assert!(c.capacity_known);
                    }
                }
            }
            PlanStatus::Empty => {
                prop_assert!(plan.nodes.is_empty());
                prop_assert!(work.is_empty(), "{:?}", work);
            }
            PlanStatus::Ready => {
                let r = simulate(&plan, &cluster, &k);
                prop_assert!(r.violations.is_empty(), "{:#?}\n{}", r.violations, render_text(&plan));
                prop_assert!(r.max_down as u32 <= c.max_parallel.max(1));
                let total: u32 = c.nodes.iter().map(|n| n.1).sum::<u32>() + u32::from(c.witness);
                prop_assert!(r.min_votes_up > total / 2);
                // Supersedence order: within each node, an update is never
                // installed after one that supersedes it.
                for np in &plan.nodes {
                    let installs: Vec<KbId> = np.steps.iter().filter_map(|s| match s { Step::Install { kb, .. } => Some(*kb), _ => None }).collect();
                    for (i, a) in installs.iter().enumerate() {
                        for b in &installs[i + 1..] {
                            // b after a: a must not (transitively) supersede b.
                            let a_supersedes_b = {
                                let mut stack = vec![*b];
                                let mut found = false;
                                let mut seen = std::collections::BTreeSet::new();
                                while let Some(x) = stack.pop() {
                                    for e in &k.edges {
                                        if e.1 == x && seen.insert(e.0) {
                                            if e.0 == *a { found = true; }
                                            stack.push(e.0);
                                        }
                                    }
                                }
                                found
                            };
                            prop_assert!(!a_supersedes_b, "{}: {} installed before {}, which it supersedes", np.name, a, b);
                        }
                    }
                    // A cumulative removal is followed by a reboot before any install.
                    let first_install = np.steps.iter().position(|s| matches!(s, Step::Install { .. }));
                    let last_uninstall = np.steps.iter().rposition(|s| matches!(s, Step::Uninstall { .. }));
                    if let (Some(fi), Some(lu)) = (first_install, last_uninstall) {
                        let removed_cumulative = np.steps.iter().any(|s| matches!(s, Step::Uninstall { kb, .. } if k.kinds.get(kb) == Some(&UpdateKind::Cumulative)));
                        let reboot_between = np.steps[lu..fi].iter().any(|s| matches!(s, Step::Reboot { .. }));
                        prop_assert_eq!(removed_cumulative, reboot_between);
                    }
                }
                // Emitters accept every ready plan; WSUS refuses removals.
                for e in [Emit::Powershell, Emit::Ansible, Emit::Json, Emit::Text] {
                    prop_assert!(emit(&plan, e, &EmitOptions::default()).is_ok());
                }
                prop_assert_eq!(
                    emit(&plan, Emit::Wsus, &EmitOptions::default()).is_ok(),
                    !plan.needs_uninstall()
                );
            }
        }
    }
}
