//! Many runs per policy, in parallel, summarised into a [`Report`].
//!
//! **Reproducibility.** Run `r` of every policy uses its own ChaCha8 stream:
//! the generator is seeded from `--seed` and switched to stream `r`
//! (`set_stream`), so a run's randomness depends only on (seed, r), never on
//! which thread ran it or in which order. Results are collected in run order
//! and summed sequentially, so the report is byte-identical for any thread
//! count. The same `r` in different policies starts from the same host(s)
//! (the start hosts are the first draws), which makes the comparison between
//! policies sharper (common random numbers).
//!
//! **Major outbreaks.** Final sizes are bimodal: small outbreaks that die out
//! early (O(1) hosts) and major ones that reach a fixed fraction of the
//! network (O(N)). A run is *major* when it infects at least
//! `max(2, ⌈√N⌉)` hosts, unless `--major-threshold` says otherwise: √N grows
//! without bound, so minor outbreaks fall below it on large networks, and it
//! is a vanishing fraction of N, so major ones lie above it. Near the epidemic
//! threshold the two modes merge and no cut-off separates them; the size
//! histogram in the report shows when that is the case.

use crate::engine::{Engine, Model, ModelError, Workspace};
use crate::network::{Network, Role};
use crate::policy::{Policy, pick};
use crate::stats::{MeanCi, Z95, mean_ci, wilson};
use lockstep_model::progress::{Progress, Silent};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// Where outbreaks start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    /// Any host, uniformly.
    Random,
    /// Hosts whose exposure is set (internet-facing, dmz, ...), uniformly.
    Exposed,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub model: Model,
    pub efficacy: f64,
    pub runs: u32,
    pub seed: u64,
    pub start: Start,
    /// Distinct start hosts per run.
    pub start_count: u32,
    /// Absolute size from which an outbreak counts as major; `None` for the
    /// default `max(2, ⌈√N⌉)`.
    pub major_threshold: Option<u32>,
    /// Worker threads; `None` for rayon's default.
    pub threads: Option<usize>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ExperimentError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("the network has no hosts")]
    Empty,
    #[error("--start exposed, but no host has an exposure (internet-facing, dmz, ...)")]
    NoExposedHosts,
    #[error("{wanted} start hosts per run, but only {available} hosts qualify")]
    TooFewStartHosts { wanted: u32, available: usize },
    #[error("runs must be at least 1")]
    NoRuns,
    #[error("cannot start {0} worker threads: {1}")]
    Threads(usize, String),
}

/// One run's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunRecord {
    pub infected: u32,
    pub duration: f64,
    pub infected_by_role: [u32; 5],
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    /// `lockstep-coverage/1`.
    pub schema: &'static str,
    pub network: NetworkSummary,
    pub model: ModelSummary,
    pub runs: u32,
    pub seed: u64,
    pub start: Start,
    pub start_count: u32,
    pub major_threshold: u32,
    pub policies: Vec<PolicyResult>,
    /// The answer to "may the hypervisors go without anti-virus?": `full`
    /// against `except-hypervisors`, when both policies ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// Exempting the hypervisors from anti-virus, in numbers: the expected
/// share of hosts infected with every host protected and with all but the
/// hypervisors, and the change, whose interval comes from the paired runs
/// (run `r` of both policies starts from the same hosts).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Verdict {
    pub hypervisors: usize,
    /// Expected share infected under `full`.
    pub with_av: MeanCi,
    /// Under `except-hypervisors`.
    pub without_av: MeanCi,
    /// `without_av − with_av`, run by run.
    pub change: MeanCi,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NetworkSummary {
    pub hosts: usize,
    pub edges: usize,
    pub exposed_hosts: usize,
    pub protected_hosts: usize,
    pub hosts_by_role: Vec<RoleCount>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoleCount {
    pub role: Role,
    pub hosts: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelSummary {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gamma: Option<f64>,
    /// Of a unit-weight edge into an unprotected host.
    pub transmissibility: f64,
    pub efficacy: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PolicyResult {
    pub policy: String,
    pub description: String,
    /// Protected hosts (per run, for random policies).
    pub protected_hosts: usize,
    pub runs: u32,
    pub major: Proportion,
    /// Infected hosts in major outbreaks; `None` with fewer than two.
    pub size_given_major: Option<SizeEstimate>,
    /// Mean infected hosts over all runs.
    pub mean_size: f64,
    /// The expected share of hosts infected (infected / hosts, over all
    /// runs) with its 95% t-interval; `None` with fewer than two runs.
    pub share_infected: Option<MeanCi>,
    /// Mean `duration` over all runs (SIR: time until the last recovery in
    /// units of 1/γ's time scale; percolation: BFS generations).
    pub mean_duration: f64,
    /// Probability that a host of each role is infected (start hosts
    /// included), averaged over runs.
    pub role_infection: Vec<RoleInfection>,
    /// Runs by infected fraction of the network, in [`HISTOGRAM_BINS`] equal
    /// bins over [0, 1].
    pub size_histogram: Vec<u32>,
}

pub const HISTOGRAM_BINS: usize = 20;

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Proportion {
    pub count: u64,
    pub p: f64,
    /// 95% Wilson interval.
    pub ci_low: f64,
    pub ci_high: f64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct SizeEstimate {
    /// In hosts, with a 95% t-interval of the mean.
    pub hosts: MeanCi,
    /// The same as fractions of the network.
    pub fraction: MeanCi,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoleInfection {
    pub role: Role,
    pub hosts: usize,
    pub probability: f64,
}

/// The default major-outbreak threshold for a network of `n` hosts.
pub fn default_major_threshold(n: usize) -> u32 {
    ((n as f64).sqrt().ceil() as u32).max(2)
}

/// Runs `config.runs` outbreaks for every policy and summarises them.
pub fn run_experiment(
    net: &Network,
    policies: &[Policy],
    config: &Config,
) -> Result<Report, ExperimentError> {
    run_experiment_with(net, policies, config, &Silent)
}

/// [`run_experiment`], reporting progress: one step per policy (its name),
/// advancing by one per run.
pub fn run_experiment_with(
    net: &Network,
    policies: &[Policy],
    config: &Config,
    progress: &dyn Progress,
) -> Result<Report, ExperimentError> {
    let n = net.len();
    if n == 0 {
        return Err(ExperimentError::Empty);
    }
    if config.runs == 0 {
        return Err(ExperimentError::NoRuns);
    }
    let csr = net.csr();
    let engine = Engine::new(&csr, config.model, config.efficacy)?;
    let pool = start_pool(net, config)?;
    let roles: Vec<Role> = net.hosts().iter().map(|h| h.role).collect();
    let threshold = config
        .major_threshold
        .unwrap_or_else(|| default_major_threshold(n));

    let total = u64::from(config.runs) * policies.len() as u64;
    progress.start(total);

    let records: Vec<Vec<RunRecord>> = with_threads(config.threads, || {
        policies
            .iter()
            .map(|policy| {
                progress.step(&policy.name);
                simulate(&engine, &pool, &roles, policy, config, progress)
            })
            .collect()
    })?;
    progress.finish();

    let mut role_hosts = [0usize; 5];
    for r in &roles {
        role_hosts[r.index()] += 1;
    }
    let results: Vec<PolicyResult> = policies
        .iter()
        .zip(&records)
        .map(|(policy, runs)| summarise(policy, runs, n, threshold, &role_hosts))
        .collect();
    let verdict = verdict(policies, &records, n, role_hosts[Role::Hypervisor.index()]);

    let (tau, gamma) = match config.model {
        Model::Sir { tau, gamma } => (Some(tau), Some(gamma)),
        Model::Percolation { .. } => (None, None),
    };
    Ok(Report {
        schema: "lockstep-coverage/1",
        network: NetworkSummary {
            hosts: n,
            edges: net.edges().len(),
            exposed_hosts: net.hosts().iter().filter(|h| h.is_exposed()).count(),
            protected_hosts: net.hosts().iter().filter(|h| h.protected).count(),
            hosts_by_role: Role::ALL
                .iter()
                .filter(|r| role_hosts[r.index()] > 0)
                .map(|&role| RoleCount {
                    role,
                    hosts: role_hosts[role.index()],
                })
                .collect(),
        },
        model: ModelSummary {
            kind: config.model.name(),
            tau,
            gamma,
            transmissibility: config.model.transmissibility(),
            efficacy: config.efficacy,
        },
        runs: config.runs,
        seed: config.seed,
        start: config.start,
        start_count: config.start_count,
        major_threshold: threshold,
        policies: results,
        verdict,
    })
}

/// `full` against `except-hypervisors`, when both ran and there are
/// hypervisors and at least two runs.
fn verdict(
    policies: &[Policy],
    records: &[Vec<RunRecord>],
    n: usize,
    hypervisors: usize,
) -> Option<Verdict> {
    let runs_of = |name: &str| {
        policies
            .iter()
            .position(|p| p.name == name)
            .map(|i| &records[i])
    };
    let (full, except) = (runs_of("full")?, runs_of("except-hypervisors")?);
    if hypervisors == 0 {
        return None;
    }
    let share = |r: &RunRecord| f64::from(r.infected) / n as f64;
    Some(Verdict {
        hypervisors,
        with_av: mean_ci(full.iter().map(share))?,
        without_av: mean_ci(except.iter().map(share))?,
        change: mean_ci(full.iter().zip(except).map(|(f, e)| share(e) - share(f)))?,
    })
}

/// Draws `k` distinct hosts from `pool` into `out`.
fn choose_starts(rng: &mut ChaCha8Rng, pool: &[u32], k: usize, out: &mut Vec<u32>) {
    out.clear();
    while out.len() < k {
        let s = pool[pick(rng, pool.len())];
        if !out.contains(&s) {
            out.push(s);
        }
    }
}

fn start_pool(net: &Network, config: &Config) -> Result<Vec<u32>, ExperimentError> {
    let pool: Vec<u32> = match config.start {
        Start::Random => (0..net.len() as u32).collect(),
        Start::Exposed => net
            .hosts()
            .iter()
            .enumerate()
            .filter(|(_, h)| h.is_exposed())
            .map(|(i, _)| i as u32)
            .collect(),
    };
    if pool.is_empty() {
        return Err(match config.start {
            Start::Exposed => ExperimentError::NoExposedHosts,
            Start::Random => ExperimentError::Empty,
        });
    }
    if config.start_count as usize > pool.len() || config.start_count == 0 {
        return Err(ExperimentError::TooFewStartHosts {
            wanted: config.start_count,
            available: pool.len(),
        });
    }
    Ok(pool)
}

/// Runs `f` on a pool of `threads` workers, or on rayon's global pool.
fn with_threads<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, ExperimentError> {
    match threads {
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| ExperimentError::Threads(t, e.to_string()))
            .map(|p| p.install(f)),
        None => Ok(f()),
    }
}

/// All runs of one policy, in run order.
fn simulate(
    engine: &Engine<'_>,
    pool: &[u32],
    roles: &[Role],
    policy: &Policy,
    config: &Config,
    progress: &dyn Progress,
) -> Vec<RunRecord> {
    let n = roles.len();
    (0..config.runs)
        .into_par_iter()
        .map_init(
            || (Workspace::new(n), vec![false; n], Vec::new()),
            |(ws, scratch, starts), r| {
                let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
                rng.set_stream(u64::from(r));
                choose_starts(&mut rng, pool, config.start_count as usize, starts);
                let protected = policy.protected_for_run(&mut rng, scratch);
                let out = engine.run(ws, protected, starts, &mut rng);
                let mut infected_by_role = [0u32; 5];
                for &u in &ws.infected {
                    infected_by_role[roles[u as usize].index()] += 1;
                }
                progress.advance(1);
                RunRecord {
                    infected: out.infected,
                    duration: out.duration,
                    infected_by_role,
                }
            },
        )
        .collect()
}

/// The per-run results of one policy, without the summary: for tests and
/// benchmarks that need the raw sizes.
pub fn run_records(
    net: &Network,
    policy: &Policy,
    config: &Config,
) -> Result<Vec<RunRecord>, ExperimentError> {
    if net.is_empty() {
        return Err(ExperimentError::Empty);
    }
    let csr = net.csr();
    let engine = Engine::new(&csr, config.model, config.efficacy)?;
    let pool = start_pool(net, config)?;
    let roles: Vec<Role> = net.hosts().iter().map(|h| h.role).collect();
    with_threads(config.threads, || {
        simulate(&engine, &pool, &roles, policy, config, &Silent)
    })
}

fn summarise(
    policy: &Policy,
    runs: &[RunRecord],
    n: usize,
    threshold: u32,
    role_hosts: &[usize; 5],
) -> PolicyResult {
    let total = runs.len() as u64;
    let majors: Vec<f64> = runs
        .iter()
        .filter(|r| r.infected >= threshold)
        .map(|r| f64::from(r.infected))
        .collect();
    let k = majors.len() as u64;
    let (lo, hi) = wilson(k, total, Z95);
    let size_given_major = mean_ci(majors.iter().copied()).and_then(|hosts| {
        mean_ci(majors.iter().map(|&m| m / n as f64))
            .map(|fraction| SizeEstimate { hosts, fraction })
    });
    let mut histogram = vec![0u32; HISTOGRAM_BINS];
    for r in runs {
        let f = f64::from(r.infected) / n as f64;
        let bin = ((f * HISTOGRAM_BINS as f64) as usize).min(HISTOGRAM_BINS - 1);
        histogram[bin] += 1;
    }
    let mut role_infection = Vec::new();
    for role in Role::ALL {
        let hosts = role_hosts[role.index()];
        if hosts == 0 {
            continue;
        }
        let infected: u64 = runs
            .iter()
            .map(|r| u64::from(r.infected_by_role[role.index()]))
            .sum();
        role_infection.push(RoleInfection {
            role,
            hosts,
            probability: infected as f64 / (hosts as f64 * total.max(1) as f64),
        });
    }
    PolicyResult {
        policy: policy.name.clone(),
        description: policy.description.clone(),
        protected_hosts: policy.protected_count(n),
        runs: total as u32,
        major: Proportion {
            count: k,
            p: k as f64 / total.max(1) as f64,
            ci_low: lo,
            ci_high: hi,
        },
        size_given_major,
        mean_size: runs.iter().map(|r| f64::from(r.infected)).sum::<f64>() / total.max(1) as f64,
        share_infected: mean_ci(runs.iter().map(|r| f64::from(r.infected) / n as f64)),
        mean_duration: runs.iter().map(|r| r.duration).sum::<f64>() / total.max(1) as f64,
        role_infection,
        size_histogram: histogram,
    }
}
