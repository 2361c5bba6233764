use crate::Global;
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;

/// `lockstep generate-fleet` (hidden): benchmark and test fleets from the catalog.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to write one snapshot file per cluster into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1000)]
    pub clusters: usize,
    #[arg(long, default_value_t = 8)]
    pub nodes: usize,
    /// About how many updates each node carries.
    #[arg(long, default_value_t = 300)]
    pub updates: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let path = global
        .catalog
        .clone()
        .unwrap_or_else(lockstep_catalog::Catalog::default_path);
    let catalog = lockstep_catalog::Catalog::open(&path)
        .with_context(|| format!("opening the catalog {}", path.display()))?;
    let fleet = lockstep_fleet::generate(
        &catalog,
        &lockstep_fleet::FleetSpec {
            clusters: args.clusters,
            nodes_per_cluster: args.nodes,
            updates_per_node: args.updates,
            seed: args.seed,
        },
    )
    .map_err(anyhow::Error::msg)?;
    let paths = lockstep_fleet::write(&args.out, &fleet)
        .with_context(|| format!("writing the fleet into {}", args.out.display()))?;
    crate::say!(
        "wrote {} cluster snapshot(s), {} node(s) each, into {}",
        paths.len(),
        args.nodes,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
