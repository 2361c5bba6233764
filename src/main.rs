//! `lockstep`: the command line. It only wires the pipeline stages
//! (ingest → catalog → check → plan → report), each of which lives in its own
//! crate under `crates/`. Every subcommand is in `src/cmd/<name>.rs`.
//!
//! Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 usage or input
//! error (an input that could not be read; the others were still processed).

mod cmd;
mod heap;
mod options;
mod output;
mod progress;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: heap::Allocator = heap::Allocator;

/// `mi_option_purge_delay` in the mimalloc.h of libmimalloc-sys 0.1.49
/// (v2 and v3 alike; the crate is pinned in Cargo.toml).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[derive(Parser, Debug)]
#[command(name = "lockstep", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

pub use options::Global;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read inventories (systeminfo, Get-HotFix, wmic qfe, update history, osquery, snapshots) and print the normalized nodes.
    Inventory(cmd::inventory::Args),
    /// Explain every update difference between the nodes of each cluster, judge each node's security posture, and report.
    Check(cmd::check::Args),
    /// The fix in the order that works: ordered, rolling, cluster-safe steps (text, JSON, PowerShell, Ansible, WSUS, CAU).
    Plan(cmd::plan::Args),
    /// Record the check of these inputs into the history (nodes' update sets, OS builds, findings).
    Record(cmd::record::Args),
    /// Since when a cluster's nodes are out of step, drift opened and closed, nodes that fell behind (text, JSON, HTML).
    History(cmd::history::Args),
    /// Manage the local update catalog (import, update, show, stats, anomalies).
    Catalog(cmd::catalog::Args),
    /// The known-issues database (list, show, lint).
    KnownIssues(cmd::known_issues::Args),
    /// Work with lockstep snapshot files (validate).
    Snapshot(cmd::snapshot::Args),
    /// Print the collector script Collect-LockstepSnapshot.ps1.
    Collector(cmd::collector::Args),
    /// Simulate outbreaks on a reachability graph and compare anti-virus coverage policies.
    Coverage(cmd::coverage::Args),
    /// Write a generated fleet (benchmarks and tests).
    #[command(hide = true)]
    GenerateFleet(cmd::generate_fleet::Args),
    /// Print a shell completion script.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    // lockstep runs once and exits: memory it frees is soon needed again
    // (the next chunk of clusters), so handing it back to the OS only to
    // fault it in again (zeroing huge pages) cost a fleet check about a
    // second of system time. Never purge.
    // SAFETY: sets a process-wide allocator option before any thread is
    // started; mimalloc documents the call as safe at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    if std::env::var_os("LOCKSTEP_TIMINGS").is_some() {
        heap::start_counting();
    }
    let parsed = options::augment(Cli::command())
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (m, cli)));
    let (matches, cli) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // `--help | head` must not panic either.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let global = match options::resolve(&matches) {
        Ok(g) => g,
        Err(e) => {
            say!("lockstep: error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Inventory(args) => cmd::inventory::run(&global, args),
        Command::Check(args) => cmd::check::run(&global, args),
        Command::Plan(args) => cmd::plan::run(&global, args),
        Command::Record(args) => cmd::record::run(&global, args),
        Command::History(args) => cmd::history::run(&global, args),
        Command::Catalog(args) => cmd::catalog::run(&global, args),
        Command::KnownIssues(args) => cmd::known_issues::run(&global, args),
        Command::Snapshot(args) => cmd::snapshot::run(&global, args),
        Command::Collector(args) => cmd::collector::run(&global, args),
        Command::Coverage(args) => cmd::coverage::run(&global, args),
        Command::GenerateFleet(args) => cmd::generate_fleet::run(&global, args),
        Command::Completions { shell } => {
            let mut command = options::augment(Cli::command());
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "lockstep", &mut script);
            output::print(&String::from_utf8_lossy(&script)).map(|_| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        // Standard output closed early (`| head`): nothing more to say.
        Err(e) if is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            say!("lockstep: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    /// `MI_OPTION_PURGE_DELAY` is set by its number; this proves the number
    /// names `purge_delay` in the linked mimalloc: a child process started
    /// with `MIMALLOC_PURGE_DELAY` (mimalloc reads its options from the
    /// environment) must read that value back at index 15.
    #[test]
    fn option_15_is_mimallocs_purge_delay() {
        if std::env::var_os("LOCKSTEP_MIMALLOC_PROBE").is_some() {
            // SAFETY: reading an allocator option is safe at any time.
            let got = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
            assert_eq!(got, 12345);
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["tests::option_15_is_mimallocs_purge_delay", "--exact"])
            .env("LOCKSTEP_MIMALLOC_PROBE", "1")
            .env("MIMALLOC_PURGE_DELAY", "12345")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A filter that matches nothing also succeeds: the child must have
        // run this very test.
        assert!(stdout.contains("test result: ok. 1 passed;"), "{stdout}");
    }
}
