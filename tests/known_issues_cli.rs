//! `lockstep known-issues list|show|lint`, end to end through the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/known-issues")
}

fn lockstep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .expect("run lockstep")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn list_shows_every_builtin_issue() {
    let out = lockstep(&["known-issues", "list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ids: Vec<String> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        ids,
        [
            "LOCKSTEP-2011-0001",
            "LOCKSTEP-2011-0002",
            "LOCKSTEP-2014-0001",
            "LOCKSTEP-2016-0001",
            "LOCKSTEP-2016-0002",
            "LOCKSTEP-2016-0003",
            "LOCKSTEP-2022-0001",
            "LOCKSTEP-2024-0001",
            "LOCKSTEP-2026-0001",
        ]
    );
    assert!(stdout(&out).starts_with("ID                  KIND          SEVERITY  TITLE\n"));
}

#[test]
fn list_json_filtered_by_kind() {
    let out = lockstep(&["known-issues", "list", "--kind", "antivirus", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "LOCKSTEP-2011-0002",
            "LOCKSTEP-2022-0001",
            "LOCKSTEP-2024-0001",
            "LOCKSTEP-2026-0001"
        ]
    );
}

#[test]
fn show_prints_the_verdicts_and_fix() {
    let out = lockstep(&["known-issues", "show", "LOCKSTEP-2011-0001"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("edge       KB2616676 supersedes KB2607712\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "verdict    intended on Windows Vista; Windows 7; Windows Server 2008; Windows Server 2008 R2\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "verdict    incomplete on Windows XP; Windows Server 2003; Windows Server 2003 R2\n  until    2011-09-19\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\n# KB2616676 supersedes KB2607712\n"),
        "{text}"
    );
}

#[test]
fn show_json_by_alias() {
    let out = lockstep(&["known-issues", "show", "KB5042421", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["id"], "LOCKSTEP-2024-0001");
    assert_eq!(v["details"]["filters"], serde_json::json!(["csagent"]));
    assert_eq!(v["details"]["window"]["start"], "2024-07-19T04:09:00Z");
    assert_eq!(v["details"]["window"]["end"], "2024-07-19T05:27:00Z");
}

#[test]
fn show_unknown_id_exits_2() {
    let out = lockstep(&["known-issues", "show", "LOCKSTEP-1999-0001"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "lockstep: error: no known issue with id or alias \"LOCKSTEP-1999-0001\" (`lockstep known-issues list` shows them)\n"
    );
}

#[test]
fn lint_repository_folder_and_builtins_clean() {
    let out = lockstep(&["known-issues", "lint", "known-issues/"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "9 known-issue files checked, no errors\n");
    let out = lockstep(&["known-issues", "lint"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "9 known-issue files checked, no errors\n");
}

#[test]
fn lint_broken_folder_exits_2_naming_file_and_line() {
    let dir = fixtures().join("broken/unknown-kind");
    let out = lockstep(&["known-issues", "lint", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "1 known-issue file checked, 1 error\n");
    assert_eq!(
        stderr(&out),
        format!(
            "{}/LOCKSTEP-2099-0006.md:3: kind: expected supersedence, bad-update or antivirus, found \"driver\"\n",
            dir.display()
        )
    );
}

#[test]
fn lint_without_dir_includes_known_issues_folders() {
    let user = fixtures().join("user");
    let out = lockstep(&[
        "--known-issues",
        user.to_str().unwrap(),
        "known-issues",
        "lint",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "12 known-issue files checked, no errors\n");
}

#[test]
fn user_folder_extends_list_and_a_broken_one_is_skipped_with_exit_2() {
    let user = fixtures().join("user");
    let out = lockstep(&[
        "known-issues",
        "--known-issues",
        user.to_str().unwrap(),
        "list",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1 + 11);
    assert!(
        text.contains("\nACME-2024-0001      bad-update    error     "),
        "{text}"
    );
    assert!(
        text.contains("\nLOCKSTEP-2011-0001  supersedence  error     Site override"),
        "{text}"
    );

    let broken = fixtures().join("broken/bad-kb");
    let out = lockstep(&[
        "known-issues",
        "--known-issues",
        broken.to_str().unwrap(),
        "list",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out).lines().count(), 1 + 9);
    assert!(
        stderr(&out).ends_with(&format!(
            "lockstep: error: known-issues folder {} skipped (3 errors)\n",
            broken.display()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn format_json_and_the_older_json_flag_print_the_same() {
    for args in [
        &["known-issues", "list", "--kind", "antivirus"][..],
        &["known-issues", "show", "KB5042421"],
    ] {
        let with = |extra: &[&str]| {
            let mut a = args.to_vec();
            a.extend_from_slice(extra);
            let out = lockstep(&a);
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            stdout(&out)
        };
        let format = with(&["--format", "json"]);
        assert!(
            serde_json::from_str::<serde_json::Value>(&format).is_ok(),
            "{format}"
        );
        assert_eq!(format, with(&["--json"]), "{args:?}");
        assert_ne!(format, with(&["--format", "text"]), "{args:?}");
    }
}
