//! `lockstep coverage`: simulate outbreaks on a reachability network and
//! compare anti-virus coverage policies (`run`), or generate test networks
//! (`generate`). The work is in `crates/coverage`; this file only wires it.

use crate::Global;
use crate::output::Output;
use crate::say;
use lockstep_coverage::experiment::{Config, RunRecord, Start, run_experiment_with};
use lockstep_coverage::generate::{DataCentre, Topology, generate, to_csv, to_json};
use lockstep_coverage::input::{
    InputErrors, load_edges, load_hosts, load_policy_file, load_snapshot_edges,
};
use lockstep_coverage::policy::{Policy, PolicySpec};
use lockstep_coverage::{Model, render};
use std::path::PathBuf;
use std::process::ExitCode;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_bounded_by_memory() {
        let per = std::mem::size_of::<RunRecord>() as u64;
        assert!(check_runs(1000, 3, Some(1 << 30)).is_ok());
        let e = check_runs(u32::MAX, 3, Some(20 << 30)).unwrap_err();
        assert_eq!(
            e,
            format!(
                "--runs 4294967295 with 3 policies needs {} MiB for the run results; this machine has 20480 MiB available: at most {} runs",
                (u64::from(u32::MAX) * per * 3) >> 20,
                (10u64 << 30) / (per * 3)
            )
        );
    }

    #[test]
    fn threads_are_bounded_by_cores() {
        assert!(check_threads(None).is_ok());
        assert!(check_threads(Some(1)).is_ok());
        assert!(check_threads(Some(0)).is_err());
        let e = check_threads(Some(100_000)).unwrap_err();
        assert!(e.starts_with("--threads must be between 1 and "), "{e}");
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand, Debug)]
enum Sub {
    /// Simulate outbreaks and compare coverage policies side by side.
    Run(RunArgs),
    /// Write a test network (hosts and edges files).
    Generate(GenerateArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum ModelKind {
    /// Continuous-time stochastic SIR (rates --tau, --gamma).
    Sir,
    /// Bond percolation (per-edge --transmissibility).
    Percolation,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Format {
    Text,
    Json,
    Html,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum StartKind {
    /// Any host.
    Random,
    /// Hosts with an exposure (internet-facing, dmz, ...).
    Exposed,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Hosts: CSV (`id,role,exposure,protected`) or a JSON array.
    #[arg(long, value_name = "FILE")]
    hosts: PathBuf,
    /// Directed reachability edges: CSV (`from,to,weight`) or a JSON array.
    #[arg(long, value_name = "FILE")]
    edges: Option<PathBuf>,
    /// A lockstep snapshot: adds hypervisor→VM edges from each node's VM list (repeatable).
    #[arg(long, value_name = "FILE")]
    snapshot: Vec<PathBuf>,
    /// Treat every edge as reachable both ways.
    #[arg(long)]
    undirected: bool,
    #[arg(long, value_enum, default_value = "sir")]
    model: ModelKind,
    /// Transmission rate per edge, default 0.3 (SIR; percolation uses T = τ/(τ+γ)).
    #[arg(long, conflicts_with = "transmissibility")]
    tau: Option<f64>,
    /// Recovery rate per host (1 / mean time to clean-up), default 1.
    #[arg(long, conflicts_with = "transmissibility")]
    gamma: Option<f64>,
    /// Per-edge transmissibility T in [0, 1] (SIR: τ = γ·T/(1−T) with γ = 1).
    #[arg(long, value_name = "T")]
    transmissibility: Option<f64>,
    /// How much protection lowers transmission into a protected host (1.0 = immune).
    #[arg(long, default_value_t = 1.0)]
    efficacy: f64,
    /// Runs per policy.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Seed of the random number generator: the same seed gives the same report.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: all cores; at most 4 per core). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Policies to compare (repeatable): as-is, none, full, except-hypervisors,
    /// random:PCT, top-degree:PCT, except-top-degree:PCT, acquaintance:PCT, file:PATH.
    /// Default: as-is, full, except-hypervisors.
    #[arg(long = "policy", value_name = "POLICY")]
    policies: Vec<String>,
    /// Where outbreaks start.
    #[arg(long, value_enum, default_value = "random")]
    start: StartKind,
    /// Start hosts per run.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    start_count: u32,
    /// Hosts from which an outbreak counts as major (default: max(2, ⌈√N⌉)).
    #[arg(long, value_name = "HOSTS")]
    major_threshold: Option<u32>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the report to FILE instead of standard output (a regular file is replaced atomically; `-` is standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum TopologyKind {
    /// Erdős–Rényi G(n, p).
    Er,
    /// Random k-regular.
    Regular,
    /// Barabási–Albert preferential attachment.
    Ba,
    /// Clusters of hypervisors hosting VMs, VM subnets, management network, DCs.
    Datacenter,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum FileFormat {
    Csv,
    Json,
}

#[derive(clap::Args, Debug)]
struct GenerateArgs {
    #[arg(long, value_enum)]
    model: TopologyKind,
    /// Hosts (er, regular, ba).
    #[arg(long, default_value_t = 1000)]
    nodes: u32,
    /// Mean degree (er).
    #[arg(long, default_value_t = 4.0)]
    mean_degree: f64,
    /// Degree of every host (regular).
    #[arg(long, default_value_t = 3)]
    degree: u32,
    /// Links per new host (ba).
    #[arg(long, default_value_t = 3)]
    m: u32,
    /// Failover clusters (datacenter).
    #[arg(long, default_value_t = 4)]
    clusters: u32,
    /// Hypervisors per cluster (datacenter).
    #[arg(long, default_value_t = 4)]
    hypervisors_per_cluster: u32,
    /// VMs per hypervisor (datacenter).
    #[arg(long, default_value_t = 12)]
    vms_per_hypervisor: u32,
    /// VM subnets (datacenter).
    #[arg(long, default_value_t = 8)]
    subnets: u32,
    /// Mean number of VMs each VM reaches in its subnet (datacenter).
    #[arg(long, default_value_t = 3.0)]
    subnet_degree: f64,
    /// Admin workstations on the management network (datacenter).
    #[arg(long, default_value_t = 4)]
    workstations: u32,
    /// Domain controllers (datacenter).
    #[arg(long, default_value_t = 2)]
    domain_controllers: u32,
    /// Weight of the edges between domain controllers and members (datacenter).
    #[arg(long, default_value_t = 0.2)]
    dc_weight: f64,
    /// Share of VMs that are internet-facing, in percent (datacenter).
    #[arg(long, default_value_t = 5.0)]
    exposed_percent: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value = "csv")]
    format: FileFormat,
    /// Where to write the hosts file.
    #[arg(long, value_name = "FILE")]
    hosts_out: PathBuf,
    /// Where to write the edges file.
    #[arg(long, value_name = "FILE")]
    edges_out: PathBuf,
}

pub fn run(_global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Run(a) => run_sim(a),
        Sub::Generate(a) => run_generate(a),
    }
}

fn report_errors(errors: &InputErrors) {
    for e in &errors.0 {
        say!("lockstep: error: {e}");
    }
}

fn model(a: &RunArgs) -> anyhow::Result<Model> {
    Ok(match (a.model, a.transmissibility) {
        (ModelKind::Percolation, Some(t)) => Model::Percolation {
            transmissibility: t,
        },
        (ModelKind::Percolation, None) => {
            let (tau, gamma) = (a.tau.unwrap_or(0.3), a.gamma.unwrap_or(1.0));
            anyhow::ensure!(
                tau >= 0.0 && gamma > 0.0,
                "--tau must be >= 0 and --gamma > 0"
            );
            Model::Percolation {
                transmissibility: tau / (tau + gamma),
            }
        }
        (ModelKind::Sir, Some(t)) => {
            anyhow::ensure!(
                (0.0..1.0).contains(&t),
                "--transmissibility with --model sir must be in [0, 1): T = 1 needs an infinite rate; use --model percolation"
            );
            Model::Sir {
                tau: t / (1.0 - t),
                gamma: 1.0,
            }
        }
        (ModelKind::Sir, None) => Model::Sir {
            tau: a.tau.unwrap_or(0.3),
            gamma: a.gamma.unwrap_or(1.0),
        },
    })
}

fn run_sim(a: RunArgs) -> anyhow::Result<ExitCode> {
    let model = model(&a)?;
    let output = Output::resolve(a.output.as_deref())?;
    let mut inputs: Vec<&std::path::Path> = vec![a.hosts.as_path()];
    inputs.extend(a.edges.as_deref());
    inputs.extend(a.snapshot.iter().map(PathBuf::as_path));
    output.refuse_inputs(inputs)?;
    if let Err(e) = check_threads(a.threads) {
        say!("lockstep: error: {e}");
        return Ok(ExitCode::from(2));
    }
    let mut net = match load_hosts(&a.hosts) {
        Ok(n) => n,
        Err(e) => {
            report_errors(&e);
            return Ok(ExitCode::from(2));
        }
    };
    // Every remaining input is read even after one fails, so that a single
    // run names every problem.
    let mut failed = false;
    if let Some(edges) = &a.edges
        && let Err(e) = load_edges(edges, &mut net)
    {
        report_errors(&e);
        failed = true;
    }
    for snap in &a.snapshot {
        match load_snapshot_edges(snap, &mut net) {
            Ok(added) => {
                for w in &added.warnings {
                    say!("lockstep: warning: {}: {w}", snap.display());
                }
                if !added.hosts_added.is_empty() {
                    say!(
                        "lockstep: warning: {}: added {} host(s) missing from the hosts file as unprotected and not exposed: {}",
                        snap.display(),
                        added.hosts_added.len(),
                        added.hosts_added.join(", ")
                    );
                }
            }
            Err(e) => {
                report_errors(&e);
                failed = true;
            }
        }
    }
    if a.edges.is_none() && a.snapshot.is_empty() {
        say!(
            "lockstep: error: give --edges FILE and/or --snapshot FILE: without edges nothing can spread"
        );
        return Ok(ExitCode::from(2));
    }
    if a.undirected {
        net.symmetrize();
    }
    let specs: Vec<String> = if a.policies.is_empty() {
        vec!["as-is".into(), "full".into(), "except-hypervisors".into()]
    } else {
        a.policies.clone()
    };
    let csr = net.csr();
    let mut policies = Vec::new();
    for text in &specs {
        let spec = match PolicySpec::parse(text) {
            Ok(s) => s,
            Err(m) => {
                say!("lockstep: error: {m}");
                failed = true;
                continue;
            }
        };
        let listed = match &spec {
            PolicySpec::File { path } => match load_policy_file(path, &net) {
                Ok(l) => l,
                Err(e) => {
                    report_errors(&e);
                    failed = true;
                    continue;
                }
            },
            _ => Vec::new(),
        };
        policies.push(Policy::new(&spec, &net, &csr, &listed));
    }
    if failed {
        return Ok(ExitCode::from(2));
    }
    if let Err(e) = check_runs(a.runs, policies.len(), available_memory()) {
        say!("lockstep: error: {e}");
        return Ok(ExitCode::from(2));
    }
    let config = Config {
        model,
        efficacy: a.efficacy,
        runs: a.runs,
        seed: a.seed,
        start: match a.start {
            StartKind::Random => Start::Random,
            StartKind::Exposed => Start::Exposed,
        },
        start_count: a.start_count,
        major_threshold: a.major_threshold,
        threads: a.threads,
    };
    let bar = crate::progress::Bar::new(true, "{msg:20} [{bar:40}] {pos}/{len} runs ({eta} left)");
    let report = match run_experiment_with(&net, &policies, &config, &bar) {
        Ok(r) => r,
        Err(e) => {
            say!("lockstep: error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let text = match a.format {
        // Host names come from the inputs: nothing raw on a terminal.
        Format::Text => lockstep_model::term::terminal_safe(
            &render::text(&report),
            lockstep_model::term::Lines::Keep,
        )
        .into_owned(),
        Format::Json => lockstep_model::term::json_safe(render::json(&report)),
        Format::Html => match render::html(&report, Some(&net)) {
            Ok(page) => page,
            Err(e) => {
                say!("lockstep: error: {e}");
                return Ok(ExitCode::from(2));
            }
        },
    };
    output.write(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// Most worker threads per core: the simulation is CPU-bound, so more only
/// cost memory and start-up time (100,000 threads took minutes to start).
const THREADS_PER_CORE: usize = 4;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn check_threads(threads: Option<usize>) -> Result<(), String> {
    let Some(t) = threads else {
        return Ok(());
    };
    let most = cores() * THREADS_PER_CORE;
    if t == 0 || t > most {
        return Err(format!(
            "--threads must be between 1 and {most} ({THREADS_PER_CORE} per core; this machine has {} core(s)); found {t}",
            cores()
        ));
    }
    Ok(())
}

/// The memory the run results take: every run of every policy is kept
/// until it is summarised.
fn check_runs(runs: u32, policies: usize, available: Option<u64>) -> Result<(), String> {
    let per_run = std::mem::size_of::<RunRecord>() as u64 * policies.max(1) as u64;
    let need = u64::from(runs) * per_run;
    // Without a figure from the system, assume a small machine (4 GiB).
    let available = available.unwrap_or(4 << 30);
    // Half of what is free: the network, the workers and the report need the rest.
    let budget = available / 2;
    if need > budget {
        return Err(format!(
            "--runs {runs} with {policies} polic{} needs {} MiB for the run results; this machine has {} MiB available: at most {} runs",
            if policies == 1 { "y" } else { "ies" },
            need >> 20,
            available >> 20,
            budget / per_run
        ));
    }
    Ok(())
}

/// Free memory as the kernel counts it (`MemAvailable`), where it says.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn run_generate(a: GenerateArgs) -> anyhow::Result<ExitCode> {
    let topology = match a.model {
        TopologyKind::Er => Topology::ErdosRenyi {
            nodes: a.nodes,
            mean_degree: a.mean_degree,
        },
        TopologyKind::Regular => Topology::Regular {
            nodes: a.nodes,
            degree: a.degree,
        },
        TopologyKind::Ba => Topology::BarabasiAlbert {
            nodes: a.nodes,
            m: a.m,
        },
        TopologyKind::Datacenter => Topology::DataCentre(DataCentre {
            clusters: a.clusters,
            hypervisors_per_cluster: a.hypervisors_per_cluster,
            vms_per_hypervisor: a.vms_per_hypervisor,
            subnets: a.subnets,
            subnet_degree: a.subnet_degree,
            workstations: a.workstations,
            domain_controllers: a.domain_controllers,
            dc_weight: a.dc_weight,
            exposed_percent: a.exposed_percent,
        }),
    };
    let net = match generate(&topology, a.seed) {
        Ok(n) => n,
        Err(e) => {
            say!("lockstep: error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let (hosts, edges) = match a.format {
        FileFormat::Csv => to_csv(&net),
        FileFormat::Json => to_json(&net),
    };
    Output::resolve(Some(&a.hosts_out))?.write(hosts.as_bytes())?;
    Output::resolve(Some(&a.edges_out))?.write(edges.as_bytes())?;
    say!(
        "wrote {} hosts to {} and {} edges to {}",
        net.len(),
        crate::cmd::shown(&a.hosts_out),
        net.edges().len(),
        crate::cmd::shown(&a.edges_out)
    );
    Ok(ExitCode::SUCCESS)
}
