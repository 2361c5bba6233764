use crate::Global;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// `lockstep generate-fleet` (hidden): realistic fleets from the catalog,
/// for benchmarks and scale tests (see crates/fleet).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to write the fleet into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Nodes in the whole fleet.
    #[arg(long, default_value_t = 8000)]
    pub nodes: usize,
    /// Every cluster this many nodes (default: 2 to --max-cluster-size,
    /// mostly small; the first cluster is the largest).
    #[arg(long, value_name = "N")]
    pub cluster_size: Option<usize>,
    /// The largest cluster.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_cluster_size: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// snapshots (a snapshot per cluster), folders (a folder per cluster, a
    /// systeminfo capture per node), manifest (the folders and fleet.toml),
    /// snapshot (one snapshot of every cluster), systeminfo-file or
    /// get-hotfix-json-file (every node in one capture file).
    #[arg(long, default_value = "snapshots", value_parser = clap::builder::PossibleValuesParser::new(lockstep_fleet::Layout::NAMES))]
    pub layout: String,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let path = global
        .catalog
        .clone()
        .unwrap_or_else(lockstep_catalog::Catalog::default_path);
    let catalog = lockstep_catalog::Catalog::open(&path)
        .with_context(|| format!("opening the catalog {}", path.display()))?;
    let spec = lockstep_fleet::FleetSpec {
        nodes: args.nodes,
        cluster_nodes: args.cluster_size,
        max_cluster_nodes: args.max_cluster_size,
        seed: args.seed,
    };
    let fleet = lockstep_fleet::fleet(&catalog, &spec).map_err(anyhow::Error::msg)?;
    let layout = lockstep_fleet::Layout::parse(&args.layout)
        .with_context(|| format!("a layout: {}", lockstep_fleet::Layout::NAMES.join(", ")))?;
    let w = lockstep_fleet::write(&args.out, fleet, layout)
        .with_context(|| format!("writing the fleet into {}", args.out.display()))?;
    crate::say!(
        "wrote {} cluster(s), {} node(s) (largest cluster {}), {} installed update(s), in {} file(s) into {}",
        w.clusters,
        w.nodes,
        w.largest_cluster,
        w.hotfixes,
        w.files,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
