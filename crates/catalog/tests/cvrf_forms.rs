//! The prefixed XML form and the JSON form of CVRF read to the same facts as
//! the default-namespace XML (fixtures in tests/fixtures/catalog/, derived
//! from the real December 2023 document).

use lockstep_catalog::batch::ImportBatch;
use lockstep_catalog::import::parse_file;
use lockstep_catalog::{CatalogError, SourceFormat};
use lockstep_model::{KbId, WinVersion};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/catalog"
    ))
    .join(name)
}

/// (kb, raw product, subtype, fixed build) facts, and (newer, older, raw product) edges.
#[allow(clippy::type_complexity)]
fn facts(
    b: &ImportBatch,
) -> (
    BTreeSet<(u32, String, String, String)>,
    BTreeSet<(u32, u32, String)>,
) {
    let fixes = b
        .fixes
        .iter()
        .map(|((kb, p), f)| {
            (
                kb.0,
                b.products.get(*p).to_string(),
                f.subtype.clone().unwrap_or_default(),
                f.fixed_build.map(|v| v.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    let edges = b
        .edges
        .keys()
        .map(|(n, o, p)| (n.0, o.0, b.products.get(*p).to_string()))
        .collect();
    (fixes, edges)
}

fn expected_fixes() -> BTreeSet<(u32, String, String, String)> {
    let f = |kb: u32, p: &str, s: &str, b: &str| (kb, p.to_string(), s.to_string(), b.to_string());
    [
        f(
            5033371,
            "Windows Server 2019",
            "Security Update",
            "10.0.17763.5206",
        ),
        f(
            5033371,
            "Windows Server 2019 (Server Core installation)",
            "Security Update",
            "10.0.17763.5206",
        ),
        f(
            5033118,
            "Windows Server 2022",
            "Security Update",
            "10.0.20348.2159",
        ),
        f(
            5033118,
            "Windows Server 2022 (Server Core installation)",
            "Security Update",
            "10.0.20348.2159",
        ),
        f(
            5033464,
            "Windows Server 2022",
            "Security Hotpatch Update",
            "10.0.20348.2144",
        ),
        f(
            5033464,
            "Windows Server 2022 (Server Core installation)",
            "Security Hotpatch Update",
            "10.0.20348.2144",
        ),
        f(
            5033383,
            "Windows Server 2022, 23H2 Edition (Server Core installation)",
            "Security Update",
            "10.0.25398.584",
        ),
    ]
    .into_iter()
    .collect()
}

fn expected_edges() -> BTreeSet<(u32, u32, String)> {
    [
        (5033371, 5031361, "Windows Server 2019"),
        (
            5033371,
            5031361,
            "Windows Server 2019 (Server Core installation)",
        ),
        (5033118, 5032198, "Windows Server 2022"),
        (
            5033118,
            5032198,
            "Windows Server 2022 (Server Core installation)",
        ),
        (
            5033383,
            5032202,
            "Windows Server 2022, 23H2 Edition (Server Core installation)",
        ),
    ]
    .into_iter()
    .map(|(n, o, p)| (n, o, p.to_string()))
    .collect()
}

#[test]
fn prefixed_xml_slice() {
    let b = parse_file(&fixture("cvrf-2023-Dec-slice-prefixed.xml"))
        .unwrap()
        .remove(0);
    assert_eq!(b.format, SourceFormat::CvrfXml);
    assert_eq!(b.name, "2023-Dec");
    assert_eq!(b.initial_release, Some(jiff::civil::date(2023, 12, 12)));
    assert_eq!(b.counts.records, 1);
    assert_eq!(b.counts.tree_products, 5);
    assert_eq!(b.counts.vendor_fixes, 4);
    let (fixes, edges) = facts(&b);
    assert_eq!(fixes, expected_fixes());
    assert_eq!(edges, expected_edges());
    assert_eq!(b.cves.len(), 7);
    assert!(
        b.cves
            .values()
            .all(|c| c.severity == lockstep_catalog::Severity::Important
                && c.impact.as_deref() == Some("Elevation of Privilege"))
    );
}

#[test]
fn json_slice_reads_the_same() {
    let x = parse_file(&fixture("cvrf-2023-Dec-slice-prefixed.xml"))
        .unwrap()
        .remove(0);
    let j = parse_file(&fixture("cvrf-2023-Dec-slice.json"))
        .unwrap()
        .remove(0);
    assert_eq!(j.format, SourceFormat::CvrfJson);
    assert_eq!(j.name, "2023-Dec");
    assert_eq!(j.title.as_deref(), Some("December 2023 Security Updates"));
    assert_eq!(j.current_release.as_deref(), Some("2023-12-21T18:16:53"));
    assert_eq!(j.counts, x.counts);
    assert_eq!(facts(&j), facts(&x));
    assert_eq!(j.cves.len(), 7);
    let hp = j
        .fixes
        .iter()
        .find(|((kb, _), _)| *kb == KbId(5033464))
        .map(|(_, f)| f.clone())
        .unwrap();
    assert_eq!(
        hp.fixed_build,
        Some("10.0.20348.2144".parse::<WinVersion>().unwrap())
    );
    assert_eq!(hp.restart_required.as_deref(), Some("Yes"));
}

#[test]
fn the_real_default_namespace_document_agrees_with_the_slice() {
    let real = parse_file(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/real/catalog/cvrf/cvrfDocument-2023-Dec.xml"
    )))
    .unwrap()
    .remove(0);
    let (fixes, edges) = facts(&real);
    for f in expected_fixes() {
        assert!(fixes.contains(&f), "{f:?}");
    }
    for e in expected_edges() {
        assert!(edges.contains(&e), "{e:?}");
    }
    assert_eq!(real.counts.records, 51);
    assert_eq!(real.counts.tree_products, 58);
    assert_eq!(real.counts.vendor_fixes, 332);
    // "Release Notes" (Edge) vendor fixes carry no KB.
    assert_eq!(real.counts.skipped_not_kb, 29);
}

fn parse_err(name: &str, content: &[u8]) -> (String, u64, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    match parse_file(&p) {
        Err(CatalogError::Parse {
            file,
            line,
            message,
        }) => (file.rsplit('/').next().unwrap().to_string(), line, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn truncated_and_malformed_documents_name_file_and_line() {
    let xml = std::fs::read(fixture("cvrf-2023-Dec-slice-prefixed.xml")).unwrap();
    let (file, line, msg) = parse_err("cut.xml", &xml[..xml.len() / 2]);
    assert_eq!(file, "cut.xml");
    assert!(line > 50, "{line}");
    assert!(msg.contains("truncated"), "{msg}");

    let (_, line, msg) = parse_err(
        "bad.xml",
        b"<?xml version=\"1.0\"?>\n<cvrfdoc>\n  <a></b>\n</cvrfdoc>\n",
    );
    assert_eq!(line, 3);
    assert!(msg.contains("malformed XML"), "{msg}");

    let (_, line, msg) = parse_err("other.xml", b"<html><body/></html>");
    assert_eq!(line, 1);
    assert!(msg.contains("root element cvrfdoc"), "{msg}");

    let json = std::fs::read(fixture("cvrf-2023-Dec-slice.json")).unwrap();
    let (_, line, msg) = parse_err("cut.json", &json[..json.len() - 40]);
    assert_eq!(line, 1);
    assert!(msg.contains("truncated"), "{msg}");

    let (_, line, msg) = parse_err("bad.csv", b"\"DatePosted\",\"CVE\",\"BulletinKB\",\"Title\",\"AffectedProduct\",\"AffectedComponent\",\"Severity\",\"Impact\",\"Supersedes\",\"Exploits\"\n\"20231212\",\"CVE-1\",\"5033118\"\n");
    assert_eq!(line, 2);
    assert!(msg.contains("expected 10 columns"), "{msg}");

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.txt");
    std::fs::write(&p, "hello").unwrap();
    assert!(matches!(
        parse_file(&p),
        Err(CatalogError::Unsupported { .. })
    ));
}
