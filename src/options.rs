//! Options several commands share (the catalog, the known issues, input
//! limits, the history), declared once ([`Global`]) and offered only by the
//! commands that use them ([`USES`]): `lockstep completions --help` does not
//! list `--catalog`. They are accepted before the command name too
//! (`lockstep --catalog FILE check …`), where one the command does not use
//! is an error rather than silently ignored.

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};
use std::path::PathBuf;

/// Options of the commands that read the catalog, the known issues, input
/// files or the history. Each command lists the ones it uses.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// The local catalog database (default: $XDG_DATA_HOME/lockstep/catalog.sqlite3).
    #[arg(long, env = "LOCKSTEP_CATALOG", value_name = "PATH")]
    pub catalog: Option<PathBuf>,
    /// An extra folder of known-issue files, added to the built-in ones (repeatable).
    #[arg(long = "known-issues", value_name = "DIR")]
    pub known_issues: Vec<PathBuf>,
    /// An extra folder of host-protection rule files (`*.toml`, the format of rules/host-protection/), added to the built-in ones (repeatable).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Use no catalog even when one exists (only the built-in known issues); wins over --catalog and LOCKSTEP_CATALOG.
    #[arg(long)]
    pub no_catalog: bool,
    /// The largest input file read, in bytes or with a unit (K, M, G: powers of 1024); larger files are an error.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = crate::cmd::parse_size)]
    pub max_input_size: u64,
    /// Let a fleet manifest name files outside its own folder (absolute paths, `..`, links leading out).
    #[arg(long)]
    pub allow_paths_outside_manifest: bool,
    /// The history: an SQLite file, or a shared PostgreSQL as postgres://user@host:port/database
    /// (default: $XDG_DATA_HOME/lockstep/history.sqlite3).
    #[arg(long, env = "LOCKSTEP_HISTORY", value_name = "PATH|URL")]
    pub history: Option<String>,
}

const CATALOG: &str = "catalog";
const KNOWN: &str = "known_issues";
const RULES: &str = "rules";
const NO_CATALOG: &str = "no_catalog";
const MAX_INPUT: &str = "max_input_size";
const MANIFEST: &str = "allow_paths_outside_manifest";
const HISTORY: &str = "history";

/// Which command uses which shared option (by argument id); `*` stands for
/// every subcommand of the command.
pub const USES: &[(&[&str], &[&str])] = &[
    (
        &["check"],
        &[
            CATALOG, KNOWN, RULES, NO_CATALOG, MAX_INPUT, MANIFEST, HISTORY,
        ],
    ),
    (
        &["plan"],
        &[CATALOG, KNOWN, RULES, NO_CATALOG, MAX_INPUT, MANIFEST],
    ),
    (
        &["record"],
        &[
            CATALOG, KNOWN, RULES, NO_CATALOG, MAX_INPUT, MANIFEST, HISTORY,
        ],
    ),
    (&["history"], &[HISTORY]),
    (&["inventory"], &[MAX_INPUT, MANIFEST]),
    (&["catalog"], &[CATALOG]),
    (&["catalog", "*"], &[CATALOG]),
    (&["known-issues"], &[KNOWN]),
    (&["known-issues", "*"], &[KNOWN]),
    (&["snapshot", "validate"], &[MAX_INPUT]),
    (&["generate-fleet"], &[CATALOG]),
];

const ALL: [&str; 7] = [
    CATALOG, KNOWN, RULES, NO_CATALOG, MAX_INPUT, MANIFEST, HISTORY,
];

/// The shared options a command (its path of names) uses.
fn used_by(path: &[&str]) -> &'static [&'static str] {
    USES.iter()
        .find(|(p, _)| {
            p.len() == path.len() && p.iter().zip(path).all(|(a, b)| *a == "*" || a == b)
        })
        .map_or(&[], |(_, ids)| ids)
}

/// The command line's commands with the shared options added to the
/// commands that use them; the top-level copies are for use before the
/// command name.
pub fn augment(top: Command) -> Command {
    let top = top.mut_args(|a| {
        if ALL.contains(&a.get_id().as_str()) {
            a.help_heading("Shared options (before the command name, or after it)")
        } else {
            a
        }
    });
    let shared: Vec<clap::Arg> = top
        .get_arguments()
        .filter(|a| ALL.contains(&a.get_id().as_str()))
        .cloned()
        .collect();
    let names: Vec<String> = top
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names.into_iter().fold(top, |cmd, name| {
        cmd.mut_subcommand(&name, |sub| add_to(sub, &[name.as_str()], &shared))
    })
}

fn add_to(cmd: Command, path: &[&str], shared: &[clap::Arg]) -> Command {
    let children: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let ids = used_by(path);
    let mut cmd = cmd.args(
        shared
            .iter()
            .filter(|a| ids.contains(&a.get_id().as_str()))
            .cloned(),
    );
    for child in children {
        let mut p = path.to_vec();
        p.push(&child);
        cmd = cmd.mut_subcommand(&child, |c| add_to(c, &p, shared));
    }
    cmd
}

/// The commands the line names, outermost first, with their matches.
fn levels(matches: &ArgMatches) -> Vec<(Vec<String>, &ArgMatches)> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    let mut m = matches;
    while let Some((name, sub)) = m.subcommand() {
        path.push(name.to_string());
        out.push((path.clone(), sub));
        m = sub;
    }
    out
}

fn given(m: &ArgMatches, id: &str) -> bool {
    m.try_contains_id(id).unwrap_or(false) && m.value_source(id) == Some(ValueSource::CommandLine)
}

/// The shared options in effect: those given after a command name over
/// those given before it (or by environment variables and defaults). An
/// option given before a command that does not use it is an error.
pub fn resolve(matches: &ArgMatches) -> Result<Global, String> {
    use clap::FromArgMatches;
    let levels = levels(matches);
    let names: Vec<&str> = levels
        .last()
        .map(|(p, _)| p.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let uses = used_by(&names);
    for id in ALL {
        if given(matches, id) && !uses.contains(&id) {
            return Err(format!(
                "--{} does not apply to `lockstep {}`",
                id.replace('_', "-"),
                names.join(" ")
            ));
        }
    }
    let mut g = Global::from_arg_matches(matches).map_err(|e| e.to_string())?;
    for (_, m) in &levels {
        if given(m, CATALOG) {
            g.catalog = m.get_one::<PathBuf>(CATALOG).cloned();
        }
        if given(m, KNOWN) {
            g.known_issues
                .extend(m.get_many::<PathBuf>(KNOWN).into_iter().flatten().cloned());
        }
        if given(m, RULES) {
            g.rules
                .extend(m.get_many::<PathBuf>(RULES).into_iter().flatten().cloned());
        }
        g.no_catalog |= given(m, NO_CATALOG);
        if given(m, MAX_INPUT)
            && let Some(v) = m.get_one::<u64>(MAX_INPUT)
        {
            g.max_input_size = *v;
        }
        g.allow_paths_outside_manifest |= given(m, MANIFEST);
        if given(m, HISTORY) {
            g.history = m.get_one::<String>(HISTORY).cloned();
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help(path: &[&str]) -> String {
        let mut cmd = augment(<crate::Cli as clap::CommandFactory>::command());
        let mut c = &mut cmd;
        for p in path {
            c = c.find_subcommand_mut(p).unwrap();
        }
        c.render_long_help().to_string()
    }

    fn resolved(args: &[&str]) -> Result<Global, String> {
        let cmd = augment(<crate::Cli as clap::CommandFactory>::command());
        let m = cmd
            .try_get_matches_from(std::iter::once("lockstep").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        resolve(&m)
    }

    #[test]
    fn each_command_offers_the_options_it_uses() {
        for path in [&["completions"][..], &["collector"], &["coverage", "run"]] {
            let h = help(path);
            assert!(!h.contains("--catalog"), "{path:?}: {h}");
            assert!(!h.contains("--max-input-size"), "{path:?}");
        }
        let h = help(&["catalog", "import"]);
        assert!(h.contains("--catalog"));
        assert!(!h.contains("--history") && !h.contains("--known-issues"));
        let h = help(&["check"]);
        for o in [
            "--catalog",
            "--no-catalog",
            "--known-issues",
            "--history",
            "--max-input-size",
        ] {
            assert!(h.contains(o), "check lacks {o}");
        }
        assert!(help(&["inventory"]).contains("--max-input-size"));
        assert!(!help(&["inventory"]).contains("--catalog"));
    }

    #[test]
    fn options_before_or_after_the_command_and_misplaced_ones() {
        let g = resolved(&["--catalog", "a.db", "check", "x"]).unwrap();
        assert_eq!(g.catalog, Some(PathBuf::from("a.db")));
        let g = resolved(&["--catalog", "a.db", "check", "x", "--catalog", "b.db"]).unwrap();
        assert_eq!(g.catalog, Some(PathBuf::from("b.db")));
        let g = resolved(&["catalog", "show", "KB1", "--catalog", "c.db"]).unwrap();
        assert_eq!(g.catalog, Some(PathBuf::from("c.db")));
        let g = resolved(&["--known-issues", "k1", "check", "x", "--known-issues", "k2"]).unwrap();
        assert_eq!(g.known_issues, [PathBuf::from("k1"), PathBuf::from("k2")]);
        let g = resolved(&["known-issues", "--known-issues", "k", "list"]).unwrap();
        assert_eq!(g.known_issues, [PathBuf::from("k")]);
        let g = resolved(&["inventory", "x", "--max-input-size", "1K"]).unwrap();
        assert_eq!(g.max_input_size, 1024);
        assert_eq!(
            resolved(&["--catalog", "a.db", "completions", "bash"]).unwrap_err(),
            "--catalog does not apply to `lockstep completions`"
        );
        assert_eq!(
            resolved(&["--no-catalog", "inventory", "x"]).unwrap_err(),
            "--no-catalog does not apply to `lockstep inventory`"
        );
        assert!(resolved(&["completions", "bash", "--catalog", "a.db"]).is_err());
    }
}
