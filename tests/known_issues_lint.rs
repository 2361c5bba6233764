//! The known-issues linter on deliberately broken files (exact messages and
//! lines), and user folders that override and extend the built-in entries.

use jiff::civil::date;
use lockstep_catalog::known_issues::{
    KnownIssues, LintError, Origin, VerdictKind, lint_file, lint_sources,
};
use lockstep_model::{KbId, WinVersion};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/known-issues"
    ))
}

/// Lint errors of one broken fixture folder, as "file:line: message" with the
/// folder part of the path removed.
fn broken(case: &str) -> Vec<String> {
    let dir = fixtures().join("broken").join(case);
    let mut db = KnownIssues::builtin();
    let before = db.len();
    let errors = db.load_dir(&dir).expect_err("fixture must not lint");
    // A folder that does not lint adds nothing.
    assert_eq!(db.len(), before);
    let prefix = format!("{}/", dir.display());
    errors
        .iter()
        .map(|e| e.to_string().replacen(&prefix, "", 1))
        .collect()
}

#[test]
fn unknown_key_is_rejected() {
    assert_eq!(
        broken("unknown-key"),
        vec![
            "LOCKSTEP-2099-0001.md:6: unknown field `severty`, expected one of `id`, `kind`, `title`, `published`, `updated`, `reported`, `severity`, `aliases`, `references`, `fix`, `supersedence`, `verdict`, `bad-update`, `antivirus`"
        ]
    );
}

#[test]
fn bad_dates_are_rejected() {
    assert_eq!(
        broken("bad-date"),
        vec![
            r#"LOCKSTEP-2099-0002.md:5: published: expected a date YYYY-MM-DD, found "2011-09-31""#,
            r#"LOCKSTEP-2099-0002.md:6: updated: expected a date YYYY-MM-DD, found "13/09/2011""#,
            r#"LOCKSTEP-2099-0002.md:17: verdict.until: expected a date YYYY-MM-DD, found "2011-19-09""#,
        ]
    );
}

#[test]
fn malformed_kb_numbers_are_rejected() {
    assert_eq!(
        broken("bad-kb"),
        vec![
            r#"LOCKSTEP-2099-0003.md:9: supersedence.newer: expected a KB number such as KB5033118, found "KB26l6676""#,
            r#"LOCKSTEP-2099-0003.md:10: supersedence.older: expected a KB number such as KB5033118, found "MS11-071""#,
            r#"LOCKSTEP-2099-0003.md:16: verdict.fixed_by: expected a KB number such as KB5033118, found "KB""#,
        ]
    );
}

#[test]
fn bad_version_ranges_are_rejected() {
    assert_eq!(
        broken("bad-range"),
        vec![
            r#"LOCKSTEP-2099-0004.md:11: antivirus.versions: expected a version range such as ">= 4.18.2111.5, < 4.18.2201.0" or "*", found "8.8.0.849": each clause starts with >=, >, <=, < or ="#,
            r#"LOCKSTEP-2099-0004.md:11: antivirus.versions: expected a version range such as ">= 4.18.2111.5, < 4.18.2201.0" or "*", found ">= 8.7.0.x": expected a Windows version of 1 to 4 numeric parts such as 10.0.20348.2159, found "8.7.0.x""#,
        ]
    );
}

#[test]
fn id_must_match_the_file_name() {
    assert_eq!(
        broken("id-mismatch"),
        vec![
            r#"LOCKSTEP-2099-0005.md:2: id "LOCKSTEP-2099-0006" does not match the file name "LOCKSTEP-2099-0005.md" (expected "LOCKSTEP-2099-0006.md")"#
        ]
    );
}

#[test]
fn unknown_kind_is_rejected() {
    assert_eq!(
        broken("unknown-kind"),
        vec![
            r#"LOCKSTEP-2099-0006.md:3: kind: expected supersedence, bad-update or antivirus, found "driver""#
        ]
    );
}

#[test]
fn tables_must_belong_to_the_kind_and_the_body_is_required() {
    assert_eq!(
        broken("wrong-table"),
        vec![
            r#"LOCKSTEP-2099-0007.md:3: kind = "antivirus" needs an [antivirus] table"#,
            r#"LOCKSTEP-2099-0007.md:6: references: expected an http(s) URL, found "ftp://example.com/a""#,
            r#"LOCKSTEP-2099-0007.md:8: [supersedence] does not belong to an issue of kind "antivirus""#,
            "LOCKSTEP-2099-0007.md:11: expected a Markdown description after the closing +++ line",
        ]
    );
}

fn lint_inline(name: &str, text: &str) -> Vec<String> {
    match lint_file(Path::new(name), text) {
        Ok(issue) => panic!("{} linted clean", issue.id),
        Err(errors) => errors.iter().map(LintError::to_string).collect(),
    }
}

const GOOD: &str = r#"+++
id = "LOCKSTEP-2099-0100"
kind = "bad-update"
title = "t"
published = 2026-11-27
references = ["https://example.com/a"]

[bad-update]
kbs = ["KB5033118"]
products = ["Windows Server 2022"]
symptoms = ["s"]
clusters = false
+++

Body.
"#;

#[test]
fn toml_dates_and_string_dates_are_both_accepted() {
    let issue = lint_file(Path::new("x/LOCKSTEP-2099-0100.md"), GOOD).expect("lints clean");
    assert_eq!(issue.published, date(2026, 11, 27));
    let crlf = GOOD
        .replace('\n', "\r\n")
        .replace("2026-11-27", "\"2026-11-27\"");
    let issue = lint_file(Path::new("LOCKSTEP-2099-0100.md"), &crlf).expect("CRLF lints clean");
    assert_eq!(issue.published, date(2026, 11, 27));
    assert_eq!(issue.description, "Body.");
}

#[test]
fn front_matter_structure_errors() {
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0100.md", "# no front matter\n"),
        vec![
            "LOCKSTEP-2099-0100.md:1: expected the file to start with a +++ line opening the TOML front matter"
        ]
    );
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0100.md", ""),
        vec![
            "LOCKSTEP-2099-0100.md:1: expected the file to start with a +++ line opening the TOML front matter"
        ]
    );
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0100.md", "+++\nid = \"x\"\n"),
        vec![
            "LOCKSTEP-2099-0100.md:2: expected a closing +++ line after the TOML front matter opened on line 1"
        ]
    );
    // A TOML syntax error names its line.
    let broken = GOOD.replace("title = \"t\"", "title = \"t");
    let errors = lint_inline("LOCKSTEP-2099-0100.md", &broken);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("LOCKSTEP-2099-0100.md:4: "),
        "{errors:?}"
    );
    // A missing required key of the kind's table.
    let broken = GOOD.replace("clusters = false\n", "");
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0100.md", &broken),
        vec!["LOCKSTEP-2099-0100.md:8: missing field `clusters`"]
    );
}

#[test]
fn semantic_errors_are_all_reported_at_once() {
    let text = GOOD
        .replace(
            "kbs = [\"KB5033118\"]",
            "kbs = [\"KB5033118\", \"KB5033118\"]",
        )
        .replace(
            "symptoms = [\"s\"]",
            "symptoms = []\nbuilds = \"10.0.20348\"",
        )
        .replace(
            "published = 2026-11-27",
            "published = 2026-11-27\nupdated = \"2026-01-01\"\nseverity = \"critical\"",
        );
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0100.md", &text),
        vec![
            "LOCKSTEP-2099-0100.md:6: updated: 2026-01-01 is before published 2026-11-27",
            r#"LOCKSTEP-2099-0100.md:7: severity: expected error, warning or info, found "critical""#,
            "LOCKSTEP-2099-0100.md:11: bad-update.kbs: KB5033118 is listed twice",
            "LOCKSTEP-2099-0100.md:13: bad-update.symptoms: expected at least one entry",
            r#"LOCKSTEP-2099-0100.md:14: bad-update.builds: expected a version range such as ">= 4.18.2111.5, < 4.18.2201.0" or "*", found "10.0.20348": each clause starts with >=, >, <=, < or ="#,
        ]
    );
}

#[test]
fn supersedence_cross_checks() {
    let text = r#"+++
id = "LOCKSTEP-2099-0101"
kind = "supersedence"
title = "t"
published = "2026-11-27"
references = ["https://example.com/a"]

[supersedence]
newer = "KB2616676"
older = ["KB2607712", "KB2616676", "KB2524375"]

[[verdict]]
products = ["Windows 7"]
older = ["KB2607712", "KB9999999"]
verdict = "fine"
note = ""
+++

Body.
"#;
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0101.md", text),
        vec![
            "LOCKSTEP-2099-0101.md:10: supersedence.older: KB2616676 is the newer update itself",
            "LOCKSTEP-2099-0101.md:14: verdict.older: KB9999999 is not in supersedence.older",
            r#"LOCKSTEP-2099-0101.md:15: verdict.verdict: expected intended, incomplete, wrong or missing, found "fine""#,
            "LOCKSTEP-2099-0101.md:16: verdict.note: must not be empty",
        ]
    );
}

#[test]
fn duplicate_ids_across_folders_are_reported() {
    let a = GOOD;
    let errors = lint_sources(&[
        (Path::new("a/LOCKSTEP-2099-0100.md"), a),
        (Path::new("b/LOCKSTEP-2099-0100.md"), a),
    ])
    .expect_err("duplicate");
    assert_eq!(
        errors.iter().map(LintError::to_string).collect::<Vec<_>>(),
        vec![
            r#"b/LOCKSTEP-2099-0100.md:2: duplicate id "LOCKSTEP-2099-0100", also defined in a/LOCKSTEP-2099-0100.md"#
        ]
    );
}

#[test]
fn missing_folder_is_an_error_naming_it() {
    let mut db = KnownIssues::builtin();
    let errors = db
        .load_dir(Path::new("/nonexistent/known-issues"))
        .expect_err("missing folder");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .to_string()
            .starts_with("/nonexistent/known-issues: cannot read the known-issues folder: "),
        "{}",
        errors[0]
    );
}

#[test]
fn user_folder_overrides_and_extends_builtins() {
    let mut db = KnownIssues::builtin();
    let builtin_count = db.len();
    db.load_dir(&fixtures().join("user"))
        .expect("user fixture lints clean");
    assert_eq!(db.len(), builtin_count + 2);

    // Override: same id, user content, user origin.
    let issue = db.get("LOCKSTEP-2011-0001").expect("present");
    assert!(matches!(&issue.origin, Origin::User(p) if p.ends_with("user/LOCKSTEP-2011-0001.md")));
    assert_eq!(issue.severity.to_string(), "error");
    let (hit, v) = db
        .supersedence_verdict(
            KbId(2616676),
            KbId(2607712),
            "Windows Server 2008 R2 Service Pack 1",
        )
        .expect("verdict");
    assert_eq!(hit.id, "LOCKSTEP-2011-0001");
    assert_eq!(v.verdict, VerdictKind::Incomplete);

    // Extension: a bad update with a build range.
    let hits = db.bad_updates_for(KbId(5033118), "Windows Server 2022");
    assert_eq!(
        hits.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
        vec!["ACME-2024-0001"]
    );
    let bad = hits[0].bad_update().expect("bad-update");
    assert!(bad.clusters);
    assert!(bad.affects_build(&"10.0.20348.2159".parse::<WinVersion>().unwrap()));
    assert!(!bad.affects_build(&"10.0.20348.2227".parse::<WinVersion>().unwrap()));
    assert!(
        db.bad_updates_for(KbId(5033118), "Windows Server 2019")
            .is_empty()
    );
    assert!(
        db.bad_updates_for(KbId(5032198), "Windows Server 2022")
            .is_empty()
    );

    // Extension: a Defender platform/engine range.
    let p = |s: &str| s.parse::<WinVersion>().unwrap();
    let ids = |v: Vec<&lockstep_catalog::known_issues::KnownIssue>| {
        v.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    };
    // The site entry needs both ranges; the built-in CVE entries (engine
    // before 1.1.19100.5, platform before 4.18.26040.7) match as well.
    assert_eq!(
        ids(db.defender_matches(Some(&p("4.18.2111-5.0")), Some(&p("1.1.19100.6")))),
        vec!["ACME-2024-0002", "LOCKSTEP-2026-0001"]
    );
    assert_eq!(
        ids(db.defender_matches(Some(&p("4.18.2201.10")), Some(&p("1.1.19100.6")))),
        vec!["LOCKSTEP-2026-0001"]
    );
    assert_eq!(
        ids(db.defender_matches(Some(&p("4.18.2112.2")), Some(&p("1.1.18700.3")))),
        vec!["LOCKSTEP-2022-0001", "LOCKSTEP-2026-0001"]
    );
    // An unknown engine version does not satisfy the engine range.
    assert_eq!(
        ids(db.defender_matches(Some(&p("4.18.2112.2")), None)),
        vec!["LOCKSTEP-2026-0001"]
    );
    assert_eq!(ids(db.filter_matches("WdFilter")), vec!["ACME-2024-0002"]);

    // The other built-ins are untouched.
    assert!(matches!(
        db.get("LOCKSTEP-2024-0001").map(|i| &i.origin),
        Some(Origin::Builtin(_))
    ));
}

#[test]
fn a_later_user_folder_wins_over_an_earlier_one_on_queries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(fixtures().join("user/LOCKSTEP-2011-0001.md")).unwrap();
    // A second site entry (different id) about the same edge, marking it intended.
    let other = text
        .replace("LOCKSTEP-2011-0001", "SITE-2026-0001")
        .replace("verdict = \"incomplete\"", "verdict = \"intended\"");
    std::fs::write(tmp.path().join("SITE-2026-0001.md"), other).unwrap();

    let mut db = KnownIssues::builtin();
    db.load_dir(&fixtures().join("user")).unwrap();
    db.load_dir(tmp.path()).unwrap();
    let (issue, v) = db
        .supersedence_verdict(KbId(2616676), KbId(2607712), "Windows 7 Service Pack 1")
        .unwrap();
    assert_eq!(
        (issue.id.as_str(), v.verdict),
        ("SITE-2026-0001", VerdictKind::Intended)
    );
}

#[test]
fn nested_unknown_keys_and_local_times_are_rejected() {
    let text = r#"+++
id = "LOCKSTEP-2099-0102"
kind = "antivirus"
title = "t"
published = "2026-11-27"
references = ["https://example.com/a"]

[antivirus]
vendor = "V"
product = "P"
versions = ["*"]
window = { start = "2024-07-19T04:09:00", end = 2024-07-19T05:27:00Z }
+++

Body.
"#;
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0102.md", text),
        vec![
            r#"LOCKSTEP-2099-0102.md:12: antivirus.window.start: expected an RFC 3339 timestamp such as 2024-07-19T04:09:00Z, found "2024-07-19T04:09:00""#
        ]
    );
    let text = text.replace(
        "versions = [\"*\"]",
        "versions = [\"*\"]\nfilter = [\"csagent\"]",
    );
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0102.md", &text),
        vec![
            "LOCKSTEP-2099-0102.md:12: unknown field `filter`, expected one of `vendor`, `product`, `versions`, `filters`, `defender_platform`, `defender_engine`, `window`"
        ]
    );
    let reversed = r#"+++
id = "LOCKSTEP-2099-0102"
kind = "antivirus"
title = "t"
published = "2026-11-27"
references = ["https://example.com/a"]

[antivirus]
vendor = "V"
product = "P"
versions = ["*"]
filters = ["csagent.sys", "C:\\bad path"]
window = { start = 2024-07-19T05:27:00Z, end = 2024-07-19T04:09:00Z }
+++

Body.
"#;
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0102.md", reversed),
        vec![
            r#"LOCKSTEP-2099-0102.md:12: antivirus.filters: expected a minifilter name such as csagent, found "C:\\bad path""#,
            "LOCKSTEP-2099-0102.md:13: antivirus.window: start 2024-07-19T05:27:00Z is not before end 2024-07-19T04:09:00Z",
        ]
    );
}

#[test]
fn missing_required_top_level_key() {
    let text = GOOD.replace("title = \"t\"\n", "");
    let errors = lint_inline("LOCKSTEP-2099-0100.md", &text);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("LOCKSTEP-2099-0100.md:")
            && errors[0].ends_with(": missing field `title`"),
        "{errors:?}"
    );
}

#[test]
fn antivirus_versions_are_required_unless_a_defender_range_is_given() {
    let text = r#"+++
id = "LOCKSTEP-2099-0103"
kind = "antivirus"
title = "t"
published = "2026-11-27"
references = ["https://example.com/a"]

[antivirus]
vendor = "Microsoft"
product = "Microsoft Defender Antivirus"
+++

Body.
"#;
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0103.md", text),
        vec![
            "LOCKSTEP-2099-0103.md:8: antivirus.versions: required unless defender_platform or defender_engine is given"
        ]
    );
    let with_engine = text.replace(
        "product = \"Microsoft Defender Antivirus\"",
        "product = \"Microsoft Defender Antivirus\"\ndefender_engine = \"< 1.1.19100.5\"",
    );
    let issue = lint_file(Path::new("LOCKSTEP-2099-0103.md"), &with_engine).expect("lints clean");
    assert!(issue.antivirus().expect("antivirus").versions.is_empty());
}

#[test]
fn a_verdict_on_a_product_no_build_maps_to_is_rejected() {
    let text = r#"+++
id = "LOCKSTEP-2099-0101"
kind = "supersedence"
title = "t"
published = 2026-12-05
references = ["https://example.com/a"]

[supersedence]
newer = "KB5033118"
older = ["KB5032198"]

[[verdict]]
products = ["Windows Server 2022", "Windows Server 2022 Datacenter"]
verdict = "intended"
note = "n"
+++

Body.
"#;
    assert_eq!(
        lint_inline("LOCKSTEP-2099-0101.md", text),
        [
            "LOCKSTEP-2099-0101.md:13: verdict.products: \"Windows Server 2022 Datacenter\" matches no product a Windows build maps to (data/windows-builds.toml), so the verdict could never apply to a node"
        ]
    );
}
