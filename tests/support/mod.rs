//! Helpers the history tests share (not a test target itself).

#![allow(dead_code)]

pub mod postgres;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

pub fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The binary with a clean environment (no colour, no user catalog or history).
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("LOCKSTEP_CATALOG")
        .env_remove("LOCKSTEP_HISTORY")
        .env_remove("LOCKSTEP_TIMINGS")
        .env("XDG_DATA_HOME", "/nonexistent-lockstep-test-data");
    c
}

/// [`command`], run.
pub fn lockstep(args: &[&str]) -> Output {
    command(args).output().expect("run lockstep")
}

pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A catalog imported from Microsoft's real December 2023 CVRF document.
pub fn december_catalog(dir: &Path) -> String {
    let cat = dir.join("catalog.sqlite3").display().to_string();
    ok(&lockstep(&[
        "--catalog",
        &cat,
        "catalog",
        "import",
        repo("tests/fixtures/real/catalog/cvrf/cvrfDocument-2023-Dec.xml")
            .to_str()
            .unwrap(),
    ]));
    cat
}

/// What a node of the ws2022-behind example carries: November's
/// cumulative update (as HVS03 does) or December's (as HVS01 does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    November,
    December,
}

/// `root/day-DD/ws2022-behind`: the example's three nodes, each captured
/// with `systeminfo` and `Get-HotFix | Export-Csv` at the given level (the
/// example's HVS03 or HVS01 captures with the host name replaced), every
/// file last modified on 2023-12-DD 08:00 UTC: captures that do not say
/// when they were taken, as an admin copies them off the nodes.
pub fn ws2022_day(root: &Path, day: u32, levels: [Level; 3]) -> PathBuf {
    let dir = root.join(format!("day-{day:02}")).join("ws2022-behind");
    std::fs::create_dir_all(&dir).unwrap();
    let at = day_time(day);
    for (node, level) in ["HVS01", "HVS02", "HVS03"].into_iter().zip(levels) {
        let template = match level {
            Level::November => "HVS03",
            Level::December => "HVS01",
        };
        for suffix in ["systeminfo.txt", "get-hotfix.csv"] {
            let text = std::fs::read_to_string(repo(&format!(
                "examples/ws2022-behind/{template}.{suffix}"
            )))
            .unwrap()
            .replace(template, node);
            let path = dir.join(format!("{node}.{suffix}"));
            std::fs::write(&path, text).unwrap();
            set_mtime(&path, at);
        }
    }
    dir
}

/// 2023-12-DD 08:00:00 UTC.
pub fn day_time(day: u32) -> std::time::SystemTime {
    std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(1_701_417_600 + u64::from(day - 1) * 86_400)
}

pub fn set_mtime(path: &Path, at: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(at))
        .unwrap();
}
