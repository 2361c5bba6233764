//! The hostile corpus (`tests/hostile/`, see its README) through every
//! command and every output format, in one test: no panic, nothing that
//! drives a terminal in text, tables, HTML, JSON or on stderr, no markup
//! injected into HTML, no command substitution outside a quoted literal in
//! an emitted script, and nothing run (no `PWNED` file appears).
//!
//! File and folder names cannot carry every hostile character in git, so
//! the test also copies the corpus under hostile names at run time.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    /// Text for a terminal (also tables).
    Text,
    Json,
    Html,
    /// A script or playbook to run (PowerShell, Ansible YAML, WSUS, CAU).
    Script,
}

struct Corpus {
    _dir: tempfile::TempDir,
    work: PathBuf,
    inputs: Vec<PathBuf>,
    catalog: PathBuf,
}

fn hostile(rel: &str) -> PathBuf {
    repo(&format!("tests/hostile/{rel}"))
}

fn corpus() -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // A cluster folder whose name carries shell syntax, a newline, an OSC
    // title sequence and a bidi override; a capture named to clear the
    // screen; a file with Ansible's reserved name.
    let named = dir
        .path()
        .join("HV$(touch PWNED)`touch PWNED`'\";\n\u{1b}]0;owned\u{7}\u{202e}all");
    // Its nodes have valid names, so plans for it are emitted: the
    // cluster's name and the --source path must end up quoted.
    example_cluster(&named);
    std::fs::write(
        named.join("\u{1b}[2J\u{1b}[H$(touch PWNED).systeminfo.txt"),
        "\u{1b}]0;owned\u{7} not an inventory\n",
    )
    .unwrap();
    // The manifest with its captures, at a place where `..` stays outside.
    let fleet = dir.path().join("fleet");
    std::fs::create_dir_all(fleet.join("captures")).unwrap();
    for f in std::fs::read_dir(hostile("captures")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, fleet.join("captures").join(f.file_name().unwrap())).unwrap();
    }
    std::fs::copy(hostile("fleet.toml"), fleet.join("fleet.toml")).unwrap();
    let catalog = dir.path().join("catalog.sqlite3");
    let mut c = lockstep();
    c.arg("--catalog")
        .arg(&catalog)
        .args(["catalog", "import"])
        .arg(hostile("cvrf-hostile.xml"));
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    Corpus {
        inputs: vec![
            hostile("snapshot.json"),
            hostile("captures"),
            fleet.join("fleet.toml"),
            named,
        ],
        work,
        catalog,
        _dir: dir,
    }
}

fn run(corpus: &Corpus, args: &[&str], extra: &[&Path]) -> Output {
    let mut c = lockstep();
    c.current_dir(&corpus.work)
        .arg("--catalog")
        .arg(&corpus.catalog)
        .arg("--known-issues")
        .arg(hostile("known-issues"))
        .args(args)
        .args(extra);
    run_within(c, 120)
}

/// Whether every `PWNED` in a script line sits inside a quoted literal (or
/// a comment), where no shell and no PowerShell runs it.
fn inert(line: &str) -> bool {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with("<!--") {
        return true;
    }
    line.match_indices("PWNED").all(|(at, _)| {
        let before = &line[..at];
        before.matches('\'').count() % 2 == 1 || before.matches('"').count() % 2 == 1
    })
}

fn assert_safe(o: &Output, kind: Kind, what: &str) {
    assert_no_panic(o, what);
    assert_terminal_safe(&o.stderr, &format!("{what} (stderr)"));
    let out = text(&o.stdout);
    assert_terminal_safe(&o.stdout, what);
    match kind {
        Kind::Text => {
            // A forged summary would be a line of its own.
            assert!(
                !out.lines().any(|l| l.starts_with("Findings (0)")),
                "{what}: {out}"
            );
        }
        Kind::Json => {
            if !out.is_empty() {
                serde_json::from_str::<serde_json::Value>(&out)
                    .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {out}"));
            }
        }
        Kind::Html => {
            assert!(!out.contains("<script>alert"), "{what}: markup injected");
        }
        Kind::Script => {
            for line in out.lines() {
                assert!(inert(line), "{what}: {line}");
            }
        }
    }
}

#[test]
fn the_hostile_corpus_through_every_command_and_format() {
    let corpus = corpus();
    let all: Vec<&Path> = corpus.inputs.iter().map(PathBuf::as_path).collect();
    let mut runs = 0;
    let mut scripts = 0;
    let mut check = |o: Output, kind: Kind, what: String| {
        assert_safe(&o, kind, &what);
        runs += 1;
        if kind == Kind::Script && text(&o.stdout).contains("PWNED") {
            scripts += 1;
        }
    };

    for (format, kind) in [("table", Kind::Text), ("json", Kind::Json)] {
        let o = run(&corpus, &["inventory", "--format", format], &all);
        check(o, kind, format!("inventory --format {format}"));
    }
    for (format, kind) in [
        ("text", Kind::Text),
        ("json", Kind::Json),
        ("html", Kind::Html),
    ] {
        let o = run(&corpus, &["check", "--format", format], &all);
        check(o, kind, format!("check --format {format}"));
    }
    for input in &corpus.inputs {
        for target in ["secure", "converge"] {
            for (emit, kind) in [
                ("text", Kind::Text),
                ("json", Kind::Json),
                ("powershell", Kind::Script),
                ("ansible", Kind::Script),
                ("wsus", Kind::Script),
                ("cau", Kind::Script),
            ] {
                let o = run(
                    &corpus,
                    &[
                        "plan",
                        "--target",
                        target,
                        "--emit",
                        emit,
                        "--source",
                        "\\\\fs\\msu$(touch PWNED)'",
                    ],
                    &[input],
                );
                check(
                    o,
                    kind,
                    format!("plan --target {target} --emit {emit} {}", input.display()),
                );
            }
        }
    }
    let o = run(
        &corpus,
        &["snapshot", "validate"],
        &[&hostile("snapshot.json")],
    );
    check(o, Kind::Text, "snapshot validate".into());
    for (args, kind) in [
        (&["known-issues", "list"][..], Kind::Text),
        (&["known-issues", "list", "--json"], Kind::Json),
        (&["known-issues", "show", "HOSTILE-1"], Kind::Text),
        (&["known-issues", "show", "HOSTILE-1", "--json"], Kind::Json),
        (&["known-issues", "lint"], Kind::Text),
        (&["catalog", "stats"], Kind::Text),
        (&["catalog", "stats", "--json"], Kind::Json),
        (&["catalog", "show", "KB4010250"], Kind::Text),
        (&["catalog", "show", "KB4010250", "--json"], Kind::Json),
        (&["catalog", "anomalies"], Kind::Text),
        (&["catalog", "anomalies", "--json"], Kind::Json),
    ] {
        let o = run(&corpus, args, &[]);
        check(o, kind, args.join(" "));
    }
    let o = run(
        &corpus,
        &["known-issues", "lint"],
        &[&hostile("known-issues-bad")],
    );
    check(o, Kind::Text, "known-issues lint (bad)".into());
    // A known-issues folder whose name drives the terminal, named in the
    // messages about it.
    let bad = corpus
        .work
        .parent()
        .unwrap()
        .join("\u{1b}]0;owned\u{7}issues\u{202e}");
    std::fs::create_dir(&bad).unwrap();
    std::fs::copy(
        hostile("known-issues-bad/LOCKSTEP-2099-0002.md"),
        bad.join("LOCKSTEP-2099-0002.md"),
    )
    .unwrap();
    for args in [&["list"][..], &["lint"]] {
        let mut c = lockstep();
        c.current_dir(&corpus.work)
            .arg("--known-issues")
            .arg(&bad)
            .arg("known-issues")
            .args(args);
        let o = run_within(c, 60);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).contains("issues\u{FFFD}"),
            "{}",
            text(&o.stderr)
        );
        check(
            o,
            Kind::Text,
            format!("known-issues {args:?} (hostile folder)"),
        );
    }
    for (format, kind) in [
        ("text", Kind::Text),
        ("json", Kind::Json),
        ("html", Kind::Html),
    ] {
        for hosts in ["coverage/hosts.csv", "coverage/hosts-control.csv"] {
            let o = run(
                &corpus,
                &[
                    "coverage", "run", "--runs", "20", "--format", format, "--hosts",
                ],
                &[
                    &hostile(hosts),
                    Path::new("--edges"),
                    &hostile("coverage/edges.csv"),
                ],
            );
            check(o, kind, format!("coverage run {hosts} --format {format}"));
        }
    }
    // The hostile names are in the reports, made safe (the corpus was read).
    let o = run(&corpus, &["check", "--format", "json"], &all);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let clusters: Vec<String> = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        clusters
            .iter()
            .any(|c| c.starts_with("HV$(touch PWNED)`touch PWNED`'\";\u{FFFD}")),
        "{clusters:?}"
    );
    assert!(runs >= 70, "{runs} runs");
    // Scripts were emitted with the hostile cluster name and path in them
    // (the other inputs' plans are refused for their invalid node names).
    assert!(scripts >= 4, "{scripts} scripts carried the hostile text");
    // Nothing was run: no command substitution happened anywhere.
    assert_eq!(std::fs::read_dir(&corpus.work).unwrap().count(), 0);
}
