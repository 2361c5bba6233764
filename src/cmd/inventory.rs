use crate::Global;
use std::path::PathBuf;
use std::process::ExitCode;

/// `lockstep inventory PATH...`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Inventory files or directories (a directory is one cluster).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

pub fn run(_global: &Global, _args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("inventory: the ingest stage has not landed yet")
}
