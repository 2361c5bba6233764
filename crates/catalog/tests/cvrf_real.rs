//! Acceptance tests on the real MSRC CVRF documents in tests/fixtures/real/.

use lockstep_catalog::import::parse_file;
use lockstep_catalog::query;
use lockstep_catalog::{Catalog, ImportStatus, Severity, SourceKind, Store, UpdateKind};
use lockstep_model::{KbId, WinVersion};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/real/catalog/cvrf"
    ))
    .join(name)
}

fn import(db: &Path, files: &[PathBuf]) -> Vec<ImportStatus> {
    let mut batches = Vec::new();
    for f in files {
        batches.extend(parse_file(f).unwrap());
    }
    Store::import_batches(db, &batches).unwrap()
}

fn v(s: &str) -> WinVersion {
    s.parse().unwrap()
}

#[test]
fn feb_2017_counts() {
    let batches = parse_file(&fixture("cvrfDocument-2017-Feb.xml")).unwrap();
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(b.name, "2017-Feb");
    assert_eq!(b.title.as_deref(), Some("February 2017 Security Updates"));
    assert_eq!(b.initial_release, Some(jiff::civil::date(2017, 2, 21)));
    assert_eq!(b.current_release.as_deref(), Some("2017-04-12T07:00:00Z"));
    assert_eq!(b.counts.records, 1, "vulnerabilities");
    assert_eq!(b.counts.tree_products, 12, "products in the ProductTree");
    assert_eq!(b.counts.vendor_fixes, 12, "vendor-fix remediations");
    assert_eq!(b.counts.skipped_not_kb, 0);
    assert_eq!(b.counts.unknown_product_ids, 0);
    assert_eq!(
        b.kbs.keys().copied().collect::<Vec<_>>(),
        vec![KbId(4010250)]
    );
    assert_eq!(b.fixes.len(), 12);
    assert_eq!(b.edges.len(), 12);
    assert!(
        b.edges
            .keys()
            .all(|(n, o, _)| *n == KbId(4010250) && *o == KbId(3214628))
    );
    // ADV170002 is the "CVE" of the Flash advisory.
    assert_eq!(b.cves.len(), 12);
    assert_eq!(b.cve_ids.names, vec!["ADV170002".to_string()]);
}

#[test]
fn feb_2017_products_normalised() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3");
    import(&db, &[fixture("cvrfDocument-2017-Feb.xml")]);
    let c = Catalog::open(&db).unwrap();
    let mut names: Vec<&str> = c.products().map(|(_, n)| n).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "Adobe Flash Player on Windows 10",
            "Adobe Flash Player on Windows 10 Version 1511",
            "Adobe Flash Player on Windows 10 Version 1607",
            "Adobe Flash Player on Windows 8.1",
            "Adobe Flash Player on Windows RT 8.1",
            "Adobe Flash Player on Windows Server 2012",
            "Adobe Flash Player on Windows Server 2012 R2",
            "Adobe Flash Player on Windows Server 2016",
        ]
    );
    let u = c.update(KbId(4010250)).unwrap();
    assert_eq!(u.kind, UpdateKind::Browser);
    assert_eq!(u.release_date, Some(jiff::civil::date(2017, 2, 21)));
    let w10 = c
        .product_by_name("Adobe Flash Player on Windows 10")
        .unwrap();
    let p = u.product(w10).unwrap();
    assert_eq!(
        p.architectures,
        vec![
            lockstep_catalog::Architecture::X86,
            lockstep_catalog::Architecture::X64
        ]
    );
    assert_eq!(u.max_severity, Severity::Critical);
    // The older KB has no data of its own: a missing-kb anomaly per product.
    let missing = query::anomalies(&c, None)
        .into_iter()
        .filter(|a| a.label() == "missing-kb")
        .count();
    assert_eq!(missing, 8);
}

#[test]
fn dec_2023_acceptance() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3");
    let status = import(&db, &[fixture("cvrfDocument-2023-Dec.xml")]);
    assert_eq!(status, vec![ImportStatus::Imported]);
    let c = Catalog::open(&db).unwrap();
    let s2022 = c.product_by_name("Windows Server 2022").unwrap();
    assert!(
        c.product_by_name("Windows Server 2022 (Server Core installation)")
            .is_none()
    );
    let edition = c
        .product_by_name("Windows Server 2022, 23H2 Edition")
        .unwrap();
    assert_ne!(edition, s2022);

    let cu = c.update(KbId(5033118)).unwrap();
    assert_eq!(cu.kind, UpdateKind::Cumulative);
    assert_eq!(cu.release_date, Some(jiff::civil::date(2023, 12, 12)));
    let p = cu.product(s2022).unwrap();
    assert_eq!(p.fixed_build, Some(v("10.0.20348.2159")));
    assert_eq!(p.subtype.as_deref(), Some("Security Update"));
    assert_eq!(p.restart_required.as_deref(), Some("Yes"));
    assert_eq!(p.sources.len(), 1);
    assert_eq!(p.sources[0].kind, SourceKind::Cvrf);
    assert_eq!(p.sources[0].document, "2023-Dec");

    let edges = c.supersedes(s2022, KbId(5033118));
    assert_eq!(edges.len(), 1);
    assert_eq!(
        (edges[0].newer, edges[0].older),
        (KbId(5033118), KbId(5032198))
    );
    assert_eq!(edges[0].sources[0].document, "2023-Dec");
    assert_eq!(c.superseded_by(s2022, KbId(5032198)), edges);

    let hp = c.update(KbId(5033464)).unwrap();
    assert_eq!(hp.kind, UpdateKind::Hotpatch);
    let hpp = hp.product(s2022).unwrap();
    assert_eq!(hpp.fixed_build, Some(v("10.0.20348.2144")));
    assert_eq!(hpp.subtype.as_deref(), Some("Security Hotpatch Update"));
    assert!(c.supersedes(s2022, KbId(5033464)).is_empty());
    assert!(c.superseded_by(s2022, KbId(5033464)).is_empty());
    assert!(c.superseded_by(s2022, KbId(5033118)).is_empty());
    assert!(
        c.supersedence_path(s2022, KbId(5033118), KbId(5033464))
            .is_none()
    );
    assert!(
        c.supersedence_path(s2022, KbId(5033464), KbId(5033118))
            .is_none()
    );
    assert!(c.is_published_for(KbId(5033464), s2022));
    assert!(!c.is_published_for(KbId(5033464), edition));

    let mut for_2022: Vec<KbId> = c.updates_for(s2022).collect();
    for_2022.sort();
    assert_eq!(for_2022, vec![KbId(5033118), KbId(5033464)]);
}

#[test]
fn reimport_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3");
    let files = [
        fixture("cvrfDocument-2023-Dec.xml"),
        fixture("cvrfDocument-2017-Feb.xml"),
    ];
    assert_eq!(
        import(&db, &files),
        vec![ImportStatus::Imported, ImportStatus::Imported]
    );
    let before = std::fs::read(&db).unwrap();
    let counts_before = Store::open(&db).unwrap().table_counts().unwrap();
    assert_eq!(
        import(&db, &files),
        vec![ImportStatus::Unchanged, ImportStatus::Unchanged]
    );
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the file is byte-identical"
    );
    assert_eq!(
        Store::open(&db).unwrap().table_counts().unwrap(),
        counts_before
    );
}
