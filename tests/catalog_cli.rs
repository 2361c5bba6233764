//! `lockstep catalog ...` end to end through the binary, on the real CVRF
//! documents and the fixtures in tests/fixtures/catalog/.

use std::path::Path;
use std::process::{Command, Output};

const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/real/catalog/cvrf"
);
const OURS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/catalog");

fn lockstep(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .arg("--catalog")
        .arg(db)
        .args(args)
        .env_remove("LOCKSTEP_CATALOG")
        .env_remove("LOCKSTEP_MSRC_URL")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn import_show_stats_anomalies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    let dec = format!("{REAL}/cvrfDocument-2023-Dec.xml");
    let feb = format!("{REAL}/cvrfDocument-2017-Feb.xml");
    let bogus = dir.path().join("notes.txt");
    std::fs::write(&bogus, "not a catalog\n").unwrap();

    // One bad input: reported, the others imported, exit 2.
    let o = lockstep(
        &db,
        &["catalog", "import", &dec, bogus.to_str().unwrap(), &feb],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        format!(
            "imported cvrf:2023-Dec from {dec} (51 vulnerabilities, 58 products, 332 vendor fixes; 20 KBs, 41 supersedence edges)\n\
             imported cvrf:2017-Feb from {feb} (1 vulnerabilities, 12 products, 12 vendor fixes; 1 KBs, 12 supersedence edges)\n"
        )
    );
    assert!(
        stderr(&o).contains("notes.txt: expected a CVRF document (XML or JSON)"),
        "{}",
        stderr(&o)
    );

    // Importing again changes nothing.
    let before = std::fs::read(&db).unwrap();
    let o = lockstep(&db, &["catalog", "import", &dec, &feb]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("unchanged cvrf:2023-Dec"),
        "{}",
        stdout(&o)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before);

    let o = lockstep(
        &db,
        &[
            "catalog",
            "show",
            "KB5033118",
            "kb5033464",
            "--product",
            "Windows Server 2022",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "KB5033118  kind: security-update  released: 2023-12-12 (MSRC CVRF 2023-Dec)  CVEs: 18 (max Critical)\n\
         \x20 Windows Server 2022  fixed build 10.0.20348.2159  Security Update\n\
         \x20   sources: cvrf:2023-Dec\n\
         \x20   supersedes:\n\
         \x20     KB5033118 -> KB5032198  [cvrf:2023-Dec]\n\
         KB5033464  kind: hotpatch  released: 2023-12-12 (MSRC CVRF 2023-Dec)  CVEs: 18 (max Critical)\n\
         \x20 Windows Server 2022  fixed build 10.0.20348.2144  Security Hotpatch Update\n\
         \x20   sources: cvrf:2023-Dec\n"
    );

    let o = lockstep(&db, &["catalog", "show", "KB5032198", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["known"], false);
    let products: Vec<&str> = v[0]["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["product"].as_str().unwrap())
        .collect();
    assert_eq!(products, vec!["Windows Server 2022"]);
    assert_eq!(
        v[0]["products"][0]["superseded_by"][0]["newer"],
        "KB5033118"
    );

    let o = lockstep(&db, &["catalog", "stats", "--json"]);
    // `--format json`, as every other command spells it, prints the same.
    for cmd in [
        &["catalog", "stats"][..],
        &["catalog", "show", "KB5032198"],
        &["catalog", "anomalies"],
    ] {
        let json = |flag: &[&str]| lockstep(&db, &[cmd, flag].concat()).stdout;
        assert_eq!(json(&["--format", "json"]), json(&["--json"]), "{cmd:?}");
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["updates"], 21);
    assert_eq!(v["updates_by_kind"]["hotpatch"], 1);
    assert_eq!(v["documents"].as_array().unwrap().len(), 2);

    let o = lockstep(
        &db,
        &[
            "catalog",
            "anomalies",
            "--product",
            "Windows Server 2022",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Only December 2023 is known: the edge to November's KB5032198 points outside the data.
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["type"], "missing-kb");
    assert_eq!(v[0]["edge"]["older"], "KB5032198");

    let o = lockstep(&db, &["catalog", "show", "KB1234567"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("KB1234567 is not in the catalog"));
}

#[test]
fn missing_catalog_and_bad_since_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.sqlite3");
    let o = lockstep(&db, &["catalog", "stats"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no catalog at"), "{}", stderr(&o));
    let o = lockstep(&db, &["catalog", "update", "--since", "2023-6"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--since expects YYYY-MM"),
        "{}",
        stderr(&o)
    );
    assert!(!db.exists());
}

#[test]
fn prefixed_and_json_slices_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    let xml = format!("{OURS}/cvrf-2023-Dec-slice-prefixed.xml");
    let o = lockstep(&db, &["catalog", "import", &xml]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = lockstep(&db, &["catalog", "show", "KB5033383"]);
    assert_eq!(
        stdout(&o),
        "KB5033383  kind: security-update  released: 2023-12-12 (MSRC CVRF 2023-Dec)  CVEs: 1 (max Important)\n\
         \x20 Windows Server 2022, 23H2 Edition  fixed build 10.0.25398.584  Security Update\n\
         \x20   sources: cvrf:2023-Dec\n\
         \x20   supersedes:\n\
         \x20     KB5033383 -> KB5032202  [cvrf:2023-Dec]\n"
    );
}
