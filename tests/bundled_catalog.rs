//! README's first command on a fresh machine: no local catalog, so the
//! catalog compiled into lockstep is used, announced with its date, and
//! the example shows a covered drift beside real gaps.

use serde_json::Value;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn run(data_home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env("XDG_DATA_HOME", data_home)
        .env_remove("LOCKSTEP_CATALOG")
        .env_remove("LOCKSTEP_HISTORY")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn readme_first_command_uses_the_bundled_catalog_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["check", "examples/kb2616676"]);
    // Real gaps: errors, exit 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("lockstep check: 1 cluster(s), 4 node(s); catalog: bundled catalog")
    );
    let notice = lines.next().unwrap();
    // Today's date decides the age; the rest is fixed.
    assert!(
        notice.starts_with("  bundled catalog of 2026-06-28 (")
            && notice.ends_with(
                " days old: updates released since are not judged); `lockstep catalog update` for current data"
            ),
        "{notice}"
    );
    assert!(text.contains("│ KB2607712 ┆ installed ┆ installed ┆ covered ┆ covered │"));
    assert!(text.contains("error [security-update-missing] kb2616676: "));
    // Nothing was written where a local catalog would be.
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[test]
fn bundled_catalog_in_json_with_its_date_and_no_age_warning_as_of_its_date() {
    let home = tempfile::tempdir().unwrap();
    let out = run(
        home.path(),
        &[
            "check",
            "examples/kb2616676",
            "--format",
            "json",
            "--as-of",
            "2026-07-01",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["catalog"],
        serde_json::json!({
            "available": true,
            "path": "bundled catalog",
            "limits": null,
            "bundled": true,
            "data_date": "2026-06-28",
            "notice": "bundled catalog of 2026-06-28; `lockstep catalog update` for current data"
        })
    );
    // The drift is covered and every node misses the same chain heads.
    let heads: Vec<Vec<&str>> = v["clusters"][0]["posture"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["products"][0]["missing"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["kb"].as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(heads.len(), 4);
    assert!(
        heads.iter().all(|h| h == &heads[0] && !h.is_empty()),
        "{heads:?}"
    );
    // --no-catalog still means no catalog.
    let out = run(
        home.path(),
        &[
            "--no-catalog",
            "check",
            "examples/kb2616676",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["catalog"]["available"], false);
    assert_eq!(v["catalog"]["bundled"], false);
}

/// The bundle is what `scripts/bundle-catalog.sh` makes of the repository's
/// fixtures: every CVRF document of the archive and the WES-NG definitions,
/// byte for byte (by content hash). A changed fixture without a new bundle
/// fails here.
#[test]
fn the_bundle_holds_exactly_the_repository_fixtures() {
    use sha2::{Digest, Sha256};
    use std::collections::BTreeMap;
    use std::io::Read;
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let real = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real/catalog");
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    let archive =
        std::fs::File::open(real.join("cvrf-archive/msrc-cvrf-2016-2026.tar.zst")).unwrap();
    let mut tar = tar::Archive::new(zstd::stream::read::Decoder::new(archive).unwrap());
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        // Keyed by content: a document's id is the CVRF ID inside it
        // (cvrfDocument-2018-Feb.xml says 2018-FEB).
        want.insert(
            format!("cvrf:{}", hex(&Sha256::digest(&bytes))),
            String::new(),
        );
    }
    let zip = std::fs::File::open(real.join("wesng/definitions.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(zip).unwrap();
    for name in ["CVEs_20260628.csv", "Custom_20190321.csv"] {
        let mut bytes = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut bytes).unwrap();
        want.insert(format!("wesng:{name}"), hex(&Sha256::digest(&bytes)));
    }
    let store = lockstep_catalog::bundled::open_bundled().unwrap();
    let have: BTreeMap<String, String> = store
        .documents()
        .unwrap()
        .into_iter()
        .map(|d| match d.kind {
            lockstep_catalog::SourceKind::Cvrf => {
                (format!("cvrf:{}", d.content_hash), String::new())
            }
            _ => (format!("{}:{}", d.kind, d.name), d.content_hash),
        })
        .collect();
    assert_eq!(have.len(), 109);
    assert_eq!(have, want, "run scripts/bundle-catalog.sh");
}

/// `catalog show` and `catalog stats` read the bundled catalog when there is
/// no local one, as `check` does, and say which catalog they read.
#[test]
fn catalog_show_and_stats_read_the_bundled_catalog_without_a_local_one() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["catalog", "show", "KB4493464"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().next(),
        Some(
            "KB4493464  kind: security-update  released: 2019-04-09 (MSRC CVRF 2019-Apr)  CVEs: 54 (max Critical)"
        )
    );
    let out = run(home.path(), &["catalog", "stats"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        format!(
            "catalog: bundled catalog (data of 2026-06-28); no local catalog at {}",
            home.path().join("lockstep/catalog.sqlite3").display()
        )
    );
    assert!(text.contains("\nupdates: 7610\n"), "{text}");
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
    // An explicit --catalog that does not exist is still an error.
    let missing = home.path().join("nope.sqlite3");
    let out = run(
        home.path(),
        &["--catalog", missing.to_str().unwrap(), "catalog", "stats"],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// The HTML page says which catalog it judged with, dated, like the text
/// report: the bundled catalog's newest document and its notice.
#[test]
fn the_html_page_dates_the_bundled_catalog() {
    let home = tempfile::tempdir().unwrap();
    let page = home.path().join("report.html");
    let out = run(
        home.path(),
        &[
            "check",
            "examples/kb2616676",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let at = html.find("<dt>Catalog</dt><dd>").unwrap();
    let dd = &html[at..at + html[at..].find("</dd>").unwrap()];
    // When the bundle was imported depends on when it was made.
    assert!(
        dd.starts_with(
            "<dt>Catalog</dt><dd>bundled catalog — newest document released 2026-03-31; imported "
        ) && dd.ends_with(" UTC"),
        "{dd}"
    );
    assert_eq!(
        html.matches("<div class=\"verdict warn\">bundled catalog of 2026-06-28 (")
            .count(),
        1
    );
}
