//! Bad input never panics: every prefix and many byte mutations of valid
//! inputs go through the parsers, which must return either a network or
//! errors that name the file (and, for row errors, a line inside the text).
//! The engine is driven through its edge cases (T = 0 and 1, τ = 0,
//! efficacy 0 and 1, zero-weight edges, hosts without edges).

use lockstep_coverage::experiment::{Config, Start, run_experiment};
use lockstep_coverage::input::{parse_edges, parse_hosts, parse_policy, parse_snapshot_edges};
use lockstep_coverage::network::{Host, Network, Role};
use lockstep_coverage::policy::{Policy, PolicySpec};
use lockstep_coverage::{Engine, Model, Workspace};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const HOSTS_CSV: &str =
    "# c\nid,role,exposure,protected\nA,hypervisor,,no\nB,vm,internet-facing,yes\nC,dc,,1\n";
const EDGES_CSV: &str = "from,to,weight\nA,B,\nB,C,0.5\nc,a,2\n";
const HOSTS_JSON: &str =
    "[\n{\"id\":\"A\",\"role\":\"vm\"},\n{\"id\":\"B\",\"role\":\"server\",\"protected\":true}\n]";
const EDGES_JSON: &str = "[\n{\"from\":\"A\",\"to\":\"B\",\"weight\":1.5}\n]";
const SNAPSHOT: &str = include_str!("../../../tests/fixtures/snapshot/hvclu22.json");

/// Prefixes at every char boundary, plus replacements of single characters
/// with ones that break CSV and JSON structure.
fn variants(text: &str, rng: &mut ChaCha8Rng, mutations: usize) -> Vec<String> {
    let mut out: Vec<String> = text
        .char_indices()
        .map(|(i, _)| text[..i].to_string())
        .collect();
    let hostile = [
        '"', ',', '\n', '[', '{', '}', ']', ':', '\0', 'é', '-', '9', ' ',
    ];
    let chars: Vec<char> = text.chars().collect();
    for _ in 0..mutations {
        let mut c = chars.clone();
        let i = rng.random_range(0..c.len());
        c[i] = hostile[rng.random_range(0..hostile.len())];
        out.push(c.into_iter().collect());
    }
    out
}

fn check_errors(file: &str, text: &str, errs: &lockstep_coverage::input::InputErrors) {
    assert!(!errs.0.is_empty());
    let lines = text.lines().count().max(1) as u64 + 1;
    for e in &errs.0 {
        assert_eq!(e.file, file);
        if let Some(l) = e.line {
            assert!(
                l >= 1 && l <= lines,
                "line {l} outside {file} ({lines} lines): {e}"
            );
        }
    }
}

#[test]
fn host_and_edge_parsers_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for (hosts, edges) in [(HOSTS_CSV, EDGES_CSV), (HOSTS_JSON, EDGES_JSON)] {
        for v in variants(hosts, &mut rng, 400) {
            if let Err(e) = parse_hosts("h", &v) {
                check_errors("h", &v, &e);
            }
        }
        let net = parse_hosts("h", hosts).unwrap();
        for v in variants(edges, &mut rng, 400) {
            let mut n = net.clone();
            if let Err(e) = parse_edges("e", &v, &mut n) {
                check_errors("e", &v, &e);
            }
            let _ = parse_policy("p", &v, &n);
        }
    }
}

#[test]
fn snapshot_reader_never_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Every 97th prefix keeps the test fast; mutations cover the rest.
    let prefixes: Vec<String> = SNAPSHOT
        .char_indices()
        .step_by(97)
        .map(|(i, _)| SNAPSHOT[..i].to_string())
        .collect();
    for v in prefixes {
        let mut net = Network::new();
        assert!(parse_snapshot_edges("s", &v, &mut net).is_err());
    }
    let chars: Vec<char> = SNAPSHOT.chars().collect();
    for _ in 0..200 {
        let mut c = chars.clone();
        let i = rng.random_range(0..c.len());
        c[i] = ['"', '}', '1', 'x'][rng.random_range(0..4)];
        let text: String = c.into_iter().collect();
        let mut net = Network::new();
        let _ = parse_snapshot_edges("s", &text, &mut net);
    }
    let mut net = Network::new();
    let added = parse_snapshot_edges("s", SNAPSHOT, &mut net).unwrap();
    assert_eq!(added.edges_added, 7);
    assert_eq!(
        added.hosts_added,
        [
            "HV22-01", "SQL01", "DC03", "HV22-02", "FS02", "APP01", "HV22-03", "WEB01", "WEB02",
            "TEST01"
        ]
    );
}

#[test]
fn engine_edge_cases() {
    let mut net = Network::new();
    for i in 0..6 {
        net.add_host(Host {
            id: format!("h{i}"),
            role: Role::ALL[i % 5],
            exposure: if i == 5 { "dmz".into() } else { String::new() },
            protected: i % 2 == 0,
        })
        .unwrap();
    }
    net.add_edge(0, 1, 0.0).unwrap();
    net.add_edge(1, 2, 1.0).unwrap();
    net.add_edge(2, 3, 3.0).unwrap();
    net.add_edge(5, 0, 1.0).unwrap();
    // Host 4 has no edges at all.
    let csr = net.csr();
    let mut ws = Workspace::new(net.len());
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let all_protected = vec![true; net.len()];
    for model in [
        Model::Percolation {
            transmissibility: 0.0,
        },
        Model::Percolation {
            transmissibility: 1.0,
        },
        Model::Sir {
            tau: 0.0,
            gamma: 1.0,
        },
        Model::Sir {
            tau: 1e9,
            gamma: 1e-9,
        },
    ] {
        for efficacy in [0.0, 0.5, 1.0] {
            let e = Engine::new(&csr, model, efficacy).unwrap();
            for start in 0..6u32 {
                let out = e.run(&mut ws, &all_protected, &[start], &mut rng);
                assert!(out.infected >= 1 && out.infected <= 6);
                if efficacy == 1.0 {
                    assert_eq!(out.infected, 1, "{model:?}: protected hosts are immune");
                }
            }
            // The zero-weight edge 0→1 never transmits, whatever T.
            let out = e.run(&mut ws, &[false; 6], &[0], &mut rng);
            assert_eq!(out.infected, 1, "{model:?}");
        }
    }
    // Start hosts out of range are ignored rather than indexing past the end.
    let e = Engine::new(
        &csr,
        Model::Percolation {
            transmissibility: 1.0,
        },
        1.0,
    )
    .unwrap();
    assert_eq!(e.run(&mut ws, &[false; 6], &[99, 2], &mut rng).infected, 2);

    // The experiment refuses impossible requests instead of looping.
    let policies = [Policy::new(
        &PolicySpec::Acquaintance { percent: 100.0 },
        &net,
        &csr,
        &[],
    )];
    let cfg = |start, start_count| Config {
        model: Model::Percolation {
            transmissibility: 0.5,
        },
        efficacy: 1.0,
        runs: 20,
        seed: 1,
        start,
        start_count,
        major_threshold: None,
        threads: Some(1),
    };
    // Acquaintance immunization cannot reach the isolated host 4; the cap on
    // attempts ends the draw.
    let r = run_experiment(&net, &policies, &cfg(Start::Random, 6)).unwrap();
    assert_eq!(r.policies[0].runs, 20);
    assert!(run_experiment(&net, &policies, &cfg(Start::Exposed, 2)).is_err());
    assert!(run_experiment(&net, &policies, &cfg(Start::Random, 7)).is_err());
    assert!(run_experiment(&Network::new(), &policies, &cfg(Start::Random, 1)).is_err());
}
