//! Validation of the outbreak engine against exact and asymptotic results.
//!
//! Every test uses a fixed seed, so it is deterministic; the tolerances are
//! still derived from the number of runs, so that the assertions would hold
//! for any seed with overwhelming probability and fail for a wrong model:
//! * a proportion p estimated from n runs: |p̂ − p| ≤ 4·√(p(1 − p)/n);
//! * a mean from k runs with sample standard deviation s: |x̄ − μ| ≤ 4·s/√k,
//!   plus, for finite graphs, a stated allowance for the difference between
//!   the graph at hand and the infinite-size limit.
//!
//! Graphs are kept small (≤ 5,000 hosts) so the suite runs in seconds in a
//! debug build.

use lockstep_coverage::experiment::{
    Config, RunRecord, Start, default_major_threshold, run_records,
};
use lockstep_coverage::generate::{Topology, generate};
use lockstep_coverage::network::{Host, Network, Role};
use lockstep_coverage::policy::{Policy, PolicySpec};
use lockstep_coverage::{Engine, Model, Workspace};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn host(i: usize, protected: bool) -> Host {
    Host {
        id: format!("h{i}"),
        role: Role::Server,
        exposure: String::new(),
        protected,
    }
}

/// `n` hosts, the given directed edges with weight 1.
fn network(n: usize, edges: &[(u32, u32)], protected: &[usize]) -> Network {
    let mut net = Network::new();
    for i in 0..n {
        net.add_host(host(i, protected.contains(&i))).unwrap();
    }
    for &(a, b) in edges {
        net.add_edge(a, b, 1.0).unwrap();
    }
    net
}

fn complete(n: u32) -> Network {
    let mut edges = Vec::new();
    for a in 0..n {
        for b in 0..n {
            if a != b {
                edges.push((a, b));
            }
        }
    }
    network(n as usize, &edges, &[])
}

fn config(model: Model, runs: u32, seed: u64) -> Config {
    Config {
        model,
        efficacy: 1.0,
        runs,
        seed,
        start: Start::Random,
        start_count: 1,
        major_threshold: None,
        threads: None,
    }
}

fn records(net: &Network, spec: PolicySpec, cfg: &Config) -> Vec<RunRecord> {
    let csr = net.csr();
    let policy = Policy::new(&spec, net, &csr, &[]);
    run_records(net, &policy, cfg).unwrap()
}

/// The root z in (0, 1] of z = 1 − e^(−R0·z) for R0 > 1 (0 otherwise):
/// the final size of a major outbreak, and P(major) for Poisson offspring.
fn final_size(r0: f64) -> f64 {
    if r0 <= 1.0 {
        return 0.0;
    }
    let mut z: f64 = 0.5;
    for _ in 0..200 {
        z = 1.0 - (-r0 * z).exp();
    }
    z
}

struct Summary {
    runs: usize,
    p_major: f64,
    majors: usize,
    size_mean: f64,
    size_sd: f64,
    mean_all: f64,
}

fn summarise(recs: &[RunRecord], n: usize) -> Summary {
    let threshold = default_major_threshold(n);
    let sizes: Vec<f64> = recs
        .iter()
        .filter(|r| r.infected >= threshold)
        .map(|r| f64::from(r.infected) / n as f64)
        .collect();
    let k = sizes.len();
    let mean = sizes.iter().sum::<f64>() / k.max(1) as f64;
    let var = sizes.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (k.max(2) - 1) as f64;
    Summary {
        runs: recs.len(),
        p_major: k as f64 / recs.len() as f64,
        majors: k,
        size_mean: mean,
        size_sd: var.sqrt(),
        mean_all: recs.iter().map(|r| f64::from(r.infected)).sum::<f64>() / recs.len() as f64,
    }
}

fn assert_proportion(what: &str, got: f64, p: f64, n: usize) {
    let tol = 4.0 * (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (got - p).abs() <= tol,
        "{what}: {got:.4} vs expected {p:.4} ± {tol:.4} (4 sd at n = {n})"
    );
}

fn assert_size(what: &str, s: &Summary, expected: f64, allowance: f64) {
    let tol = 4.0 * s.size_sd / (s.majors as f64).sqrt() + allowance;
    assert!(
        (s.size_mean - expected).abs() <= tol,
        "{what}: size given major {:.4} vs expected {expected:.4} ± {tol:.4} (4 SE over {} majors + {allowance})",
        s.size_mean,
        s.majors
    );
}

#[test]
fn single_edge_transmits_with_tau_over_tau_plus_gamma() {
    let runs = 20_000;
    // Start at host 0 (the only one with an out-edge) by making it the only
    // exposed host.
    let mut net = network(2, &[(0, 1)], &[1]);
    net.set_exposure(0, "internet-facing");
    let mut cfg = config(
        Model::Sir {
            tau: 0.5,
            gamma: 1.0,
        },
        runs,
        11,
    );
    cfg.start = Start::Exposed;
    let share = |recs: Vec<RunRecord>| {
        assert!(recs.iter().all(|r| r.infected == 1 || r.infected == 2));
        recs.iter().filter(|r| r.infected == 2).count() as f64 / runs as f64
    };
    // T = 0.5 / 1.5.
    let t = share(records(&net, PolicySpec::None, &cfg));
    assert_proportion("SIR single edge", t, 1.0 / 3.0, runs as usize);
    let t = share(records(
        &net,
        PolicySpec::None,
        &Config {
            model: Model::Percolation {
                transmissibility: 1.0 / 3.0,
            },
            ..cfg.clone()
        },
    ));
    assert_proportion("percolation single edge", t, 1.0 / 3.0, runs as usize);
    // Protection with efficacy 0.5 halves the rate: T = 0.25 / 1.25 = 0.2.
    let t = share(records(
        &net,
        PolicySpec::AsIs,
        &Config {
            efficacy: 0.5,
            ..cfg.clone()
        },
    ));
    assert_proportion("SIR into a half-protected host", t, 0.2, runs as usize);
    // A weight of 2 doubles it: T = 1 / 2.
    let mut heavy = Network::new();
    heavy.add_host(host(0, false)).unwrap();
    heavy.add_host(host(1, false)).unwrap();
    heavy.add_edge(0, 1, 2.0).unwrap();
    heavy.set_exposure(0, "dmz");
    let t = share(records(&heavy, PolicySpec::None, &cfg));
    assert_proportion("SIR along a weight-2 edge", t, 0.5, runs as usize);
}

#[test]
fn star_with_immune_centre_seeded_at_a_leaf_infects_only_the_leaf() {
    let leaves = 20u32;
    let mut edges = Vec::new();
    for l in 1..=leaves {
        edges.extend([(0, l), (l, 0)]);
    }
    let protected: Vec<bool> = (0..=leaves).map(|i| i == 0).collect();
    let net = network(leaves as usize + 1, &edges, &[0]);
    let csr = net.csr();
    let mut ws = Workspace::new(net.len());
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for model in [
        Model::Percolation {
            transmissibility: 1.0,
        },
        Model::Sir {
            tau: 1e6,
            gamma: 1.0,
        },
    ] {
        let engine = Engine::new(&csr, model, 1.0).unwrap();
        for run in 0..200 {
            let leaf = 1 + run % leaves;
            let out = engine.run(&mut ws, &protected, &[leaf], &mut rng);
            assert_eq!(out.infected, 1, "{model:?} from leaf {leaf}");
            assert_eq!(ws.infected, vec![leaf]);
        }
        // Without protection the same outbreak takes the whole star, so the
        // assertion above is about protection, not about a dead engine.
        let out = engine.run(&mut ws, &vec![false; net.len()], &[1], &mut rng);
        assert_eq!(out.infected, leaves + 1, "{model:?} unprotected");
    }
}

#[test]
fn a_directed_edge_never_carries_infection_backwards() {
    let net = network(2, &[(0, 1)], &[]);
    let csr = net.csr();
    let mut ws = Workspace::new(2);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for model in [
        Model::Percolation {
            transmissibility: 1.0,
        },
        Model::Sir {
            tau: 1e6,
            gamma: 1.0,
        },
    ] {
        let engine = Engine::new(&csr, model, 1.0).unwrap();
        for _ in 0..500 {
            assert_eq!(
                engine
                    .run(&mut ws, &[false, false], &[1], &mut rng)
                    .infected,
                1
            );
        }
        assert_eq!(
            engine
                .run(&mut ws, &[false, false], &[0], &mut rng)
                .infected,
            2
        );
    }
}

#[test]
fn complete_graph_with_r0_2_matches_the_final_size_equation() {
    let n = 200u32;
    let net = complete(n);
    let z = final_size(2.0);
    assert!((z - 0.7968).abs() < 1e-4);
    let t = 2.0 / f64::from(n - 1);
    // Percolation: offspring ~ Binomial(199, T) ≈ Poisson(2), so both
    // P(major) and the size given major are z. Allowance 0.02 on the size:
    // at N = 200 the mean major size sits about 1/√N·0.3 ≈ 0.02 below z.
    let runs = 1000;
    let s = summarise(
        &records(
            &net,
            PolicySpec::None,
            &config(
                Model::Percolation {
                    transmissibility: t,
                },
                runs,
                21,
            ),
        ),
        n as usize,
    );
    assert_proportion("complete graph percolation P(major)", s.p_major, z, s.runs);
    assert_size("complete graph percolation", &s, z, 0.02);
    // SIR with the same T: the size given major is the same z (each host's
    // chance of escaping depends on independent recovery times of different
    // neighbours), but one host's out-edges share its infectious period, so
    // offspring are geometric and P(major) = 1 − 1/R0 = 0.5.
    let tau = t / (1.0 - t);
    let s = summarise(
        &records(
            &net,
            PolicySpec::None,
            &config(Model::Sir { tau, gamma: 1.0 }, runs, 22),
        ),
        n as usize,
    );
    assert_proportion("complete graph SIR P(major)", s.p_major, 0.5, s.runs);
    assert_size("complete graph SIR", &s, z, 0.02);
}

#[test]
fn erdos_renyi_mean_degree_4_with_t_half() {
    let n = 5000;
    let net = generate(
        &Topology::ErdosRenyi {
            nodes: n,
            mean_degree: 4.0,
        },
        31,
    )
    .unwrap();
    let z = final_size(2.0);
    // Allowance 0.015 on sizes: about 2 standard deviations of the giant
    // component fraction between ER graphs of 5,000 hosts.
    let runs = 400;
    let s = summarise(
        &records(
            &net,
            PolicySpec::None,
            &config(
                Model::Percolation {
                    transmissibility: 0.5,
                },
                runs,
                32,
            ),
        ),
        n as usize,
    );
    assert_proportion("ER percolation P(major)", s.p_major, z, s.runs);
    assert_size("ER percolation", &s, z, 0.015);
    // SIR with τ = γ (T = 0.5): same size given major.
    let s = summarise(
        &records(
            &net,
            PolicySpec::None,
            &config(
                Model::Sir {
                    tau: 1.0,
                    gamma: 1.0,
                },
                runs,
                33,
            ),
        ),
        n as usize,
    );
    assert_size("ER SIR", &s, z, 0.015);
}

#[test]
fn random_3_regular_with_t_three_quarters() {
    let n = 4000;
    let net = generate(
        &Topology::Regular {
            nodes: n,
            degree: 3,
        },
        41,
    )
    .unwrap();
    // Newman (2002), "Spread of epidemic disease on networks", eqs. 19–24:
    // with w = 1 − T + T·u and u = G1(w) = w², w solves w = 1 − T + T·w²,
    // i.e. 0.75w² − w + 0.25 = 0, so w = 1/3, and the outbreak size is
    // S = 1 − G0(w) = 1 − w³ = 26/27 ≈ 0.963.
    //
    // NOTE: issue 8 states 0.875 here. That number is 1 − (1 − T + T/3)³,
    // which feeds the root w = 1/3 through 1 − T + T·x a second time. An
    // independent union-find percolation of a 4,000-host configuration
    // model (Python, not this engine) gives a giant component of 0.964.
    let s_exact = 26.0 / 27.0;
    // Allowance 0.01: the giant component of a random regular graph of 4,000
    // hosts fluctuates by well under that between graphs.
    let runs = 400;
    let s = summarise(
        &records(
            &net,
            PolicySpec::None,
            &config(
                Model::Percolation {
                    transmissibility: 0.75,
                },
                runs,
                42,
            ),
        ),
        n as usize,
    );
    assert_proportion("3-regular percolation P(major)", s.p_major, s_exact, s.runs);
    assert_size("3-regular percolation", &s, s_exact, 0.01);
    // SIR with τ = 3, γ = 1 (T = 0.75): the same size given major, but a
    // host's out-edges share its infectious period D ~ Exp(1). With
    // E[e^(−aD)] = 1/(1 + a), the extinction probability q below a child
    // solves q = E[(q + (1 − q)e^(−τD))²], and
    // P(major) = 1 − E[(q + (1 − q)e^(−τD))³] ≈ 0.856.
    let tau: f64 = 3.0;
    let mut q: f64 = 0.5;
    for _ in 0..200 {
        q = q * q + 2.0 * q * (1.0 - q) / (1.0 + tau) + (1.0 - q).powi(2) / (1.0 + 2.0 * tau);
    }
    let p_major = 1.0
        - (q.powi(3)
            + 3.0 * q * q * (1.0 - q) / (1.0 + tau)
            + 3.0 * q * (1.0 - q).powi(2) / (1.0 + 2.0 * tau)
            + (1.0 - q).powi(3) / (1.0 + 3.0 * tau));
    assert!((p_major - 0.8556).abs() < 1e-3, "{p_major}");
    let s = summarise(
        &records(
            &net,
            PolicySpec::None,
            &config(Model::Sir { tau, gamma: 1.0 }, 600, 43),
        ),
        n as usize,
    );
    assert_proportion("3-regular SIR P(major)", s.p_major, p_major, s.runs);
    assert_size("3-regular SIR", &s, s_exact, 0.01);
}

#[test]
fn random_coverage_moves_the_threshold_to_one_minus_v_times_r0() {
    // ER with mean degree 4 and T = 0.5: R0 = 2, so random coverage v has
    // R_v = (1 − v)·2 and the threshold is v = 0.5.
    let n = 5000;
    let net = generate(
        &Topology::ErdosRenyi {
            nodes: n,
            mean_degree: 4.0,
        },
        51,
    )
    .unwrap();
    let model = Model::Percolation {
        transmissibility: 0.5,
    };
    let runs = 600;
    // v = 0.3: R_v = 1.4 > 1. The start host is infected whatever its
    // protection, and its offspring are Poisson(R_v) like everybody's, so
    // P(major) = z(1.4); a major outbreak takes z(1.4) of the unprotected
    // 70% of the hosts.
    let s = summarise(
        &records(
            &net,
            PolicySpec::Random { percent: 30.0 },
            &config(model, runs, 52),
        ),
        n as usize,
    );
    let z = final_size(1.4);
    assert!((z - 0.5117).abs() < 1e-3, "{z}");
    assert_proportion("random 30% P(major)", s.p_major, z, s.runs);
    assert_size("random 30%", &s, 0.7 * z, 0.015);
    // v = 0.7: R_v = 0.6 < 1: no major outbreaks (a subcritical outbreak
    // reaching ⌈√5000⌉ = 71 hosts has probability far below 1/runs) and the
    // mean size of a subcritical branching process, 1/(1 − R_v) = 2.5.
    let s = summarise(
        &records(
            &net,
            PolicySpec::Random { percent: 70.0 },
            &config(model, runs, 53),
        ),
        n as usize,
    );
    assert_eq!(s.majors, 0);
    // Mean of the total progeny: sd of a single run is about 3 here, so
    // 4 SE = 4 · 3 / √600 ≈ 0.5.
    assert!((s.mean_all - 2.5).abs() <= 0.5, "mean size {}", s.mean_all);
    // And with no coverage at all the same network does have major ones.
    let s = summarise(
        &records(&net, PolicySpec::None, &config(model, 200, 54)),
        n as usize,
    );
    assert_proportion("no coverage P(major)", s.p_major, final_size(2.0), s.runs);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let net = generate(
        &Topology::DataCentre(lockstep_coverage::generate::DataCentre::default()),
        61,
    )
    .unwrap();
    let csr = net.csr();
    let policies: Vec<Policy> = [
        PolicySpec::AsIs,
        PolicySpec::Random { percent: 40.0 },
        PolicySpec::Acquaintance { percent: 20.0 },
        PolicySpec::TopDegree { percent: 10.0 },
    ]
    .iter()
    .map(|s| Policy::new(s, &net, &csr, &[]))
    .collect();
    let run = |threads: usize, model: Model| {
        let cfg = Config {
            threads: Some(threads),
            efficacy: 0.8,
            ..config(model, 300, 62)
        };
        lockstep_coverage::run_experiment(&net, &policies, &cfg).unwrap()
    };
    for model in [
        Model::Sir {
            tau: 0.5,
            gamma: 1.0,
        },
        Model::Percolation {
            transmissibility: 0.4,
        },
    ] {
        let one = run(1, model);
        let two = run(2, model);
        assert_eq!(one, two);
        // The runs did spread somewhere, so the equality is not trivial.
        assert!(one.policies.iter().any(|p| p.mean_size > 2.0));
        assert_eq!(
            lockstep_coverage::render::json(&one),
            lockstep_coverage::render::json(&two)
        );
    }
}

#[test]
fn leaving_the_hubs_bare_is_not_like_leaving_random_hosts_bare() {
    // The point: on a scale-free graph, 10% unprotected hosts chosen
    // at random cannot sustain an outbreak, while the 10% best-connected
    // hosts, left unprotected, infect each other. Both policies protect
    // exactly 4,500 of 5,000 hosts.
    let n = 5000;
    let net = generate(&Topology::BarabasiAlbert { nodes: n, m: 3 }, 3).unwrap();
    let model = Model::Percolation {
        transmissibility: 0.5,
    };
    let runs = 300;
    // Random 10% unprotected: roughly site percolation at 0.1 times bond
    // percolation at 0.5 on a graph with ⟨k²⟩/⟨k⟩ ≈ 15, R ≈ 0.75 < 1, so a
    // run reaching ⌈√5000⌉ = 71 hosts is vanishingly unlikely.
    let s = summarise(
        &records(
            &net,
            PolicySpec::Random { percent: 90.0 },
            &config(model, runs, 71),
        ),
        n as usize,
    );
    assert_eq!(s.majors, 0);
    assert!(s.mean_all < 3.0, "mean size {}", s.mean_all);
    // Hubs bare: 1,000 runs gave P(major) 0.58 with majors of ≈ 444 hosts
    // (8.9%); the bound 0.3 is more than 4 standard errors (4 × 0.028 at 300
    // runs) below that.
    let s = summarise(
        &records(
            &net,
            PolicySpec::ExceptTopDegree { percent: 10.0 },
            &config(model, runs, 72),
        ),
        n as usize,
    );
    assert!(s.p_major >= 0.3, "P(major) {}", s.p_major);
    assert!(
        s.size_mean > 0.05 && s.size_mean < 0.1,
        "size given major {}",
        s.size_mean
    );
}

#[test]
fn the_verdict_on_a_hypervisor_hub_is_exactly_one_host_more() {
    // A hypervisor hub with 20 leaves, certain transmission, immune
    // protection, outbreaks starting at an exposed leaf. With every host
    // protected only the start leaf is infected (1 of 21); without
    // anti-virus on the hypervisor the hub falls too, and stops there (the
    // other leaves are protected): 2 of 21, in every run.
    let leaves = 20u32;
    let mut net = Network::new();
    net.add_host(Host {
        id: "HV01".into(),
        role: Role::Hypervisor,
        exposure: String::new(),
        protected: false,
    })
    .unwrap();
    for l in 1..=leaves {
        net.add_host(Host {
            id: format!("VM{l:02}"),
            role: Role::Vm,
            exposure: "internet-facing".into(),
            protected: false,
        })
        .unwrap();
        net.add_edge(0, l, 1.0).unwrap();
        net.add_edge(l, 0, 1.0).unwrap();
    }
    let csr = net.csr();
    let policies: Vec<Policy> = [PolicySpec::Full, PolicySpec::ExceptHypervisors]
        .iter()
        .map(|s| Policy::new(s, &net, &csr, &[]))
        .collect();
    let mut cfg = config(
        Model::Percolation {
            transmissibility: 1.0,
        },
        300,
        11,
    );
    cfg.start = Start::Exposed;
    let report = lockstep_coverage::run_experiment(&net, &policies, &cfg).unwrap();
    let v = report.verdict.expect("full and except-hypervisors ran");
    let n = f64::from(leaves + 1);
    assert_eq!(v.hypervisors, 1);
    let close = |got: f64, want: f64| assert!((got - want).abs() < 1e-12, "{got} != {want}");
    close(v.with_av.mean, 1.0 / n);
    close(v.with_av.sd, 0.0);
    close(v.without_av.mean, 2.0 / n);
    close(v.without_av.sd, 0.0);
    for x in [v.change.mean, v.change.ci_low, v.change.ci_high] {
        close(x, 1.0 / n);
    }
    assert_eq!(
        lockstep_coverage::render::verdict_sentence(&report),
        "Exempting the 1 Hyper-V host from anti-virus raises the expected share of hosts infected from 4.8 % to 9.5 % (95 % interval of the change +4.8 to +4.8 points)."
    );
    // Without both policies there is no verdict, and the report says why.
    let only_full = lockstep_coverage::run_experiment(&net, &policies[..1], &cfg).unwrap();
    assert!(only_full.verdict.is_none());
    assert!(lockstep_coverage::render::verdict_sentence(&only_full).starts_with("No verdict"));
}
