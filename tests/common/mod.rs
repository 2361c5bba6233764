//! Helpers the safety tests share: running the binary with a deadline (an
//! attack that blocks must fail the test, not hang it), device nodes, and
//! the checks that output holds nothing that drives a terminal.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

pub fn lockstep() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("LOCKSTEP_CATALOG")
        .env_remove("LOCKSTEP_MSRC_URL")
        .env("NO_COLOR", "1");
    c
}

/// Runs `cmd` (stdin closed) and fails the test when it takes longer than
/// `secs`: a blocked run is killed and reported.
pub fn run_within(mut cmd: Command, secs: u64) -> Output {
    cmd.stdin(Stdio::null());
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {secs} s (blocked?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// No panic: exit code 101 and a "panicked" message are Rust's panic.
pub fn assert_no_panic(o: &Output, what: &str) {
    assert_ne!(
        o.status.code(),
        Some(101),
        "{what} panicked: {}",
        text(&o.stderr)
    );
    assert!(
        o.status.code().is_some(),
        "{what} was killed by a signal: {:?}",
        o.status
    );
    assert!(
        !text(&o.stderr).contains("panicked"),
        "{what}: {}",
        text(&o.stderr)
    );
}

/// Characters that must never reach a terminal raw: C0 controls other than
/// newline, tab and CR, DEL, C1 controls, bidi controls, line separators.
pub fn terminal_hazards(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| {
            (c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}' | '\u{2029}')
        })
        .collect()
}

pub fn assert_terminal_safe(bytes: &[u8], what: &str) {
    let s = text(bytes);
    let bad = terminal_hazards(&s);
    assert!(bad.is_empty(), "{what} holds {bad:?}:\n{s}");
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| text(&o.stdout).trim() == "0")
}

/// Makes a character device node (`mknod PATH c MAJOR MINOR`); `false` (and
/// a message saying the check is skipped) when not running as root.
pub fn mknod_char(path: &Path, major: u32, minor: u32) -> bool {
    if !is_root() {
        eprintln!(
            "skipped: making {} needs root (mknod); the CI runs as root",
            path.display()
        );
        return false;
    }
    let ok = Command::new("mknod")
        .arg(path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "mknod {}", path.display());
    true
}

pub fn mkfifo(path: &Path) {
    assert!(
        Command::new("mkfifo").arg(path).status().unwrap().success(),
        "mkfifo {}",
        path.display()
    );
}

pub fn file_type(path: &Path) -> String {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::symlink_metadata(path).unwrap().file_type();
    if t.is_symlink() {
        "symlink"
    } else if t.is_char_device() {
        "char device"
    } else if t.is_fifo() {
        "fifo"
    } else if t.is_dir() {
        "dir"
    } else if t.is_file() {
        "file"
    } else {
        "other"
    }
    .into()
}

/// A copy of `examples/kb2616676` (four 2008 R2 nodes) at `dir`.
pub fn example_cluster(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for n in ["HV01", "HV02", "HV03", "HV04"] {
        std::fs::copy(
            repo(&format!("examples/kb2616676/{n}.systeminfo.txt")),
            dir.join(format!("{n}.systeminfo.txt")),
        )
        .unwrap();
    }
}
