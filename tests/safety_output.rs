//! Issue 13, "Output that people read or run" and "Load": suggested command
//! lines, forged lines and terminal controls, closed pipes and full disks,
//! coverage ranges, and the smaller items. Each test performs the attack and
//! asserts the safe outcome.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

/// Item 8: a folder named `HV$(touch PWNED)`: the suggested command quotes
/// it, and running the suggestion in a shell runs nothing else.
#[test]
fn item8_suggested_commands_quote_the_path_for_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("HV$(touch PWNED)`touch PWNED2`'x");
    example_cluster(&cluster);
    let mut c = lockstep();
    c.args(["--no-catalog", "check", "--format", "json"])
        .arg(&cluster);
    let o = run_within(c, 60);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let remedy = v["clusters"][0]["drift"]["validation"]["remedy"]
        .as_str()
        .unwrap()
        .to_string();
    let command = remedy
        .split_once("converge the nodes: `")
        .and_then(|(_, r)| r.split_once("` gives the ordered steps"))
        .unwrap()
        .0
        .to_string();
    let expected_word = format!("'{}'", cluster.display().to_string().replace('\'', "'\\''"));
    assert_eq!(
        command,
        format!("lockstep plan {expected_word} --target converge")
    );
    // The same words in the fix of the finding, and in text and HTML.
    let fix_texts: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["fix"]["text"].as_str())
        .filter(|t| t.contains("lockstep plan '"))
        .collect();
    assert!(!fix_texts.is_empty());
    for t in &fix_texts {
        assert!(t.contains(&command), "{t}");
    }
    for format in ["text", "html"] {
        let mut c = lockstep();
        c.args(["--no-catalog", "check", "--format", format])
            .arg(&cluster);
        let o = run_within(c, 60);
        let mut out = text(&o.stdout);
        if format == "html" {
            // minijinja's HTML escaping, undone.
            for (entity, c) in [
                ("&#x27;", "'"),
                ("&#x60;", "`"),
                ("&#x2f;", "/"),
                ("&quot;", "\""),
                ("&lt;", "<"),
                ("&gt;", ">"),
                ("&amp;", "&"),
            ] {
                out = out.replace(entity, c);
            }
        }
        assert!(out.contains(&command), "{format}: {command}\n{out}");
    }
    // Paste it into a shell: `lockstep` gets exactly the path, nothing runs.
    let run = tempfile::tempdir().unwrap();
    let pasted = command.replacen("lockstep", "printf '%s\\n'", 1);
    let sh = Command::new("sh")
        .arg("-c")
        .arg(&pasted)
        .current_dir(run.path())
        .output()
        .unwrap();
    assert!(sh.status.success());
    assert_eq!(
        text(&sh.stdout),
        format!("plan\n{}\n--target\nconverge\n", cluster.display())
    );
    assert!(!run.path().join("PWNED").exists());
    assert!(!run.path().join("PWNED2").exists());
}

/// Item 10: a newline in a cluster name cannot print a fake summary; ESC,
/// OSC, BEL and bidi controls reach no terminal (report, inventory table,
/// plan text, stderr).
#[test]
fn item10_no_forged_lines_and_no_terminal_controls() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join(
        "HVCLU\nFindings (0)\n\n0 error(s), 0 warning(s), 0 info\n\u{1b}]0;owned\u{7}\u{202e}",
    );
    example_cluster(&cluster);
    // A file whose name clears the screen, and which is no inventory.
    std::fs::write(cluster.join("\u{1b}[2J\u{1b}[H.txt"), "not an inventory\n").unwrap();
    let mut c = lockstep();
    c.args(["--no-catalog", "check"]).arg(&cluster);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert_terminal_safe(&o.stdout, "check text");
    assert_terminal_safe(&o.stderr, "check stderr");
    let out = text(&o.stdout);
    let summaries: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.split_once(" error(s), ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect();
    assert_eq!(summaries.len(), 1, "{out}");
    assert_eq!(out.lines().last(), summaries.first().copied());
    assert!(!out.lines().any(|l| l.starts_with("Findings (0)")), "{out}");
    assert!(text(&o.stderr).contains("\u{FFFD}[2J\u{FFFD}[H.txt:1: expected inventory output"));
    // The cluster's name is one line; the suggested command writes the
    // folder's control characters as `$'\NNN'` escapes, still one line,
    // and bash gives the command exactly the folder.
    assert!(out.contains("\nCluster HVCLU\u{FFFD}Findings (0)\u{FFFD}\u{FFFD}0 error(s), 0 warning(s), 0 info\u{FFFD}\u{FFFD}]0;owned\u{FFFD}\u{FFFD} — 4 node(s)"), "{out}");
    let fix = out
        .lines()
        .find(|l| l.contains("converge the nodes: `lockstep plan "))
        .unwrap();
    let command = fix
        .split_once("converge the nodes: `")
        .and_then(|(_, r)| r.split_once("` gives the ordered steps"))
        .unwrap()
        .0;
    let printed = Command::new("bash")
        .arg("-c")
        .arg(command.replacen("lockstep", "printf '%s\\0'", 1))
        .output()
        .unwrap();
    assert_eq!(
        printed.stdout,
        format!("plan\0{}\0--target\0converge\0", cluster.display()).into_bytes()
    );

    for args in [
        &["inventory"][..],
        &["--no-catalog", "plan", "--target", "converge"],
    ] {
        let mut c = lockstep();
        c.args(args).arg(&cluster);
        let o = run_within(c, 60);
        assert_no_panic(&o, &format!("{args:?}"));
        assert_terminal_safe(&o.stdout, &format!("{args:?} stdout"));
        assert_terminal_safe(&o.stderr, &format!("{args:?} stderr"));
        assert!(
            !text(&o.stdout)
                .lines()
                .any(|l| l.starts_with("Findings (0)"))
        );
    }
}

fn small_catalog(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("catalog.sqlite3");
    let mut c = lockstep();
    c.arg("--catalog")
        .arg(&db)
        .args(["catalog", "import"])
        .arg(repo(
            "tests/fixtures/real/catalog/cvrf/cvrfDocument-2017-Feb.xml",
        ));
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    db
}

/// The commands item 11 names, with the exit code each run has.
fn printing_commands(db: &Path) -> Vec<(Vec<String>, i32)> {
    let hosts = repo("examples/coverage/hvclu22/hosts.csv");
    let edges = repo("examples/coverage/hvclu22/edges.csv");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let cat = db.display().to_string();
    vec![
        (s(&["--catalog", &cat, "catalog", "stats"]), 0),
        (s(&["--catalog", &cat, "catalog", "stats", "--json"]), 0),
        (s(&["--catalog", &cat, "catalog", "show", "KB4010250"]), 0),
        (s(&["--catalog", &cat, "catalog", "anomalies"]), 0),
        (s(&["known-issues", "list"]), 0),
        (s(&["known-issues", "show", "LOCKSTEP-2011-0001"]), 0),
        (s(&["known-issues", "lint"]), 0),
        (
            s(&[
                "coverage",
                "run",
                "--hosts",
                &hosts.display().to_string(),
                "--edges",
                &edges.display().to_string(),
                "--runs",
                "20",
            ]),
            0,
        ),
        (s(&["completions", "bash"]), 0),
        (s(&["collector"]), 0),
        (s(&["inventory", "examples/kb2616676"]), 0),
        (
            s(&["--no-catalog", "check", "examples/kb2616676", "nope"]),
            2,
        ),
        (
            s(&[
                "--no-catalog",
                "plan",
                "examples/kb2616676",
                "--target",
                "converge",
            ]),
            0,
        ),
        (s(&["snapshot", "schema"]), 0),
    ]
}

/// Item 11: a closed pipe ends quietly with the run's exit code; a full
/// disk is an error (exit 2); neither panics.
#[test]
fn item11_closed_pipes_and_full_disks_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = small_catalog(dir.path());
    for (args, code) in printing_commands(&db) {
        // A pipe whose reader is gone before the command starts: every
        // write fails with EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = lockstep()
            .current_dir(repo(""))
            .args(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_no_panic(&o, &format!("{args:?} | (closed)"));
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o.stderr));
        if code == 0 {
            assert_eq!(text(&o.stderr), "", "{args:?}");
        }
        // /dev/full: ENOSPC is an error, exit 2, with a message.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = lockstep()
            .current_dir(repo(""))
            .args(&args)
            .stdout(full)
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_no_panic(&o, &format!("{args:?} > /dev/full"));
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            text(&o.stderr).contains("No space left on device"),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    // `catalog import > /dev/full`: the import is kept, the error reported.
    let db2 = dir.path().join("second.sqlite3");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = lockstep()
        .arg("--catalog")
        .arg(&db2)
        .args(["catalog", "import"])
        .arg(repo(
            "tests/fixtures/real/catalog/cvrf/cvrfDocument-2017-Feb.xml",
        ))
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_no_panic(&o, "catalog import > /dev/full");
    assert_eq!(o.status.code(), Some(2));
    let mut c = lockstep();
    c.arg("--catalog").arg(&db2).args(["catalog", "stats"]);
    let o = run_within(c, 60);
    assert!(
        text(&o.stdout).contains("documents: 1\n  cvrf:2017-Feb\n"),
        "{}",
        text(&o.stdout)
    );
}

/// Item 13: `--runs` and `--threads` beyond what the machine can do are
/// clear errors, at once.
#[test]
fn item13_coverage_ranges_are_checked_against_the_machine() {
    let hosts = repo("examples/coverage/hvclu22/hosts.csv");
    let edges = repo("examples/coverage/hvclu22/edges.csv");
    let run = |extra: &[&str]| {
        let mut c = lockstep();
        c.args(["coverage", "run", "--hosts"])
            .arg(&hosts)
            .arg("--edges")
            .arg(&edges)
            .args(extra);
        run_within(c, 30)
    };
    // Before: a 137 GB allocation and exit 134.
    let o = run(&["--runs", "4294967295"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("lockstep: error: --runs 4294967295 with 3 policies needs ")
            && err.contains(" MiB for the run results; this machine has ")
            && err.contains(" runs\n"),
        "{err}"
    );
    // Before: ran on for minutes starting threads.
    let o = run(&["--threads", "100000"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("lockstep: error: --threads must be between 1 and ")
            && err.ends_with("; found 100000\n"),
        "{err}"
    );
    let o = run(&["--threads", "0"]);
    assert_eq!(o.status.code(), Some(2));
    // Within range, it runs.
    let o = run(&["--threads", "1", "--runs", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// "Smaller": `--no-catalog` works while LOCKSTEP_CATALOG is set.
#[test]
fn no_catalog_wins_over_the_environment() {
    let mut c = lockstep();
    c.current_dir(repo(""))
        .env("LOCKSTEP_CATALOG", "/nonexistent/catalog.sqlite3")
        .args([
            "--no-catalog",
            "check",
            "examples/kb2616676",
            "--format",
            "json",
        ]);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["catalog"]["available"], false);
    assert!(
        v["catalog"]["limits"]
            .as_str()
            .unwrap()
            .starts_with("--no-catalog:")
    );
}
