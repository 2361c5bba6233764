//! `--rules DIR`: a site's own host-protection rules beside the built-in ones.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

const SITE_RULE: &str = r#"# A site rule: the backup agent's staging folder on every cluster node.
id = "site-backup-staging"
type = "requirement"
title = "Backup agent staging folder"
applies_to = "cluster"
kind = "path"
severity = "warning"
why = "The backup agent stages VM checkpoints here; scanning them during a backup window stalls the checkpoint merge."
references = ["https://example.com/backup-agent/antivirus-exclusions"]

[[item]]
value = 'D:\BackupStaging'
"#;

fn check(rules: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--no-catalog", "--rules"])
        .arg(rules)
        .args(["check", "examples/kb2616676", "--fail-on", "never"])
        .output()
        .unwrap()
}

#[test]
fn a_site_rule_joins_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site-backup-staging.toml"), SITE_RULE).unwrap();
    let out = check(dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Cannot tell whether these 4 exclusions are in place"),
        "{text}"
    );
    assert!(
        text.contains("- path D:\\BackupStaging — rule site-backup-staging"),
        "{text}"
    );
    // Without the folder: the three built-in ones.
    let plain = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--no-catalog",
            "check",
            "examples/kb2616676",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(plain.contains("Cannot tell whether these 3 exclusions are in place"));
    assert!(!plain.contains("site-backup-staging"));
}

#[test]
fn a_rule_folder_that_does_not_lint_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site-backup-staging.toml"),
        SITE_RULE.replace("kind = \"path\"", "kind = \"path\"\ncolour = \"red\""),
    )
    .unwrap();
    let out = check(dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("does not lint"), "{err}");
    assert!(err.contains("site-backup-staging.toml"), "{err}");
    assert!(err.contains("colour"), "{err}");
}
