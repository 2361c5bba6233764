use crate::Global;
use crate::cmd::load_inputs;
use crate::cmd::sources::open_knowledge;
use lockstep_check::run::{CheckOptions, check_each};
use std::path::PathBuf;
use std::process::ExitCode;

/// `lockstep record PATH...`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Snapshot JSON files, directories (one cluster each) or fleet manifests (TOML).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Judge security posture as of this date (YYYY-MM-DD), as `check --as-of` does.
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<jiff::civil::Date>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let loaded = load_inputs(global, &args.paths);
    for e in &loaded.errors {
        crate::say!("lockstep: {e}");
    }
    let sources = open_knowledge(global)?;
    let knowledge = sources.knowledge();
    let options = CheckOptions { as_of: args.as_of };
    // The findings are recorded; the clusters' reports are not needed.
    let report = match check_each(
        &loaded.inventory,
        &knowledge,
        Some(sources.protection()),
        sources.catalog_info(),
        &options,
        |_| (),
        |()| Ok::<(), std::convert::Infallible>(()),
    ) {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let stamp = match super::sources::catalog_stamp(&sources.catalog_info()) {
        Some(r) => Some(r.map_err(anyhow::Error::msg)?),
        None => None,
    };
    let (target, _) = super::history::target(global);
    let mut store = target.open(true)?;
    let failed = super::check::record(
        store.as_mut(),
        &loaded.inventory,
        &report.findings,
        &knowledge,
        stamp,
        true,
    )?;
    Ok(if failed || !loaded.errors.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
