//! Acceptance tests on the real WES-NG definitions in tests/fixtures/real/.
//!
//! The 135 MB CSV is imported once per test binary (together with the real
//! December 2023 CVRF document) into a temporary catalog; every test reads it.

use lockstep_catalog::import::parse_file;
use lockstep_catalog::{
    Architecture, Catalog, ImportStatus, ReleaseDateSource, SourceKind, Store, UpdateKind,
};
use lockstep_model::KbId;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/real/catalog"
);

struct Imported {
    _dir: tempfile::TempDir,
    wesng_only: PathBuf,
    combined: PathBuf,
    zip_counts: Vec<(String, u64, u64)>,
}

fn imported() -> &'static Imported {
    static ONCE: OnceLock<Imported> = OnceLock::new();
    ONCE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let wesng = parse_file(&Path::new(FIXTURES).join("wesng/definitions.zip")).unwrap();
        let zip_counts = wesng
            .iter()
            .map(|b| (b.name.clone(), b.counts.records, b.counts.skipped_not_kb))
            .collect();
        let wesng_only = dir.path().join("wesng.sqlite3");
        assert_eq!(
            Store::import_batches(&wesng_only, &wesng).unwrap(),
            vec![ImportStatus::Imported, ImportStatus::Imported]
        );
        // The combined catalog: a copy of the WES-NG one plus the CVRF document.
        let combined = dir.path().join("combined.sqlite3");
        std::fs::copy(&wesng_only, &combined).unwrap();
        let cvrf = parse_file(&Path::new(FIXTURES).join("cvrf/cvrfDocument-2023-Dec.xml")).unwrap();
        Store::import_batches(&combined, &cvrf).unwrap();
        Imported {
            _dir: dir,
            wesng_only,
            combined,
            zip_counts,
        }
    })
}

#[test]
fn zip_members_and_row_counts() {
    assert_eq!(
        imported().zip_counts,
        vec![
            // 170,575 rows name a package (CBL-Mariner, Release Notes, ...) instead of a KB.
            ("CVEs_20260628.csv".to_string(), 608_740, 170_575),
            // 9 rows name service packs by code (SP81X86, ...).
            ("Custom_20190321.csv".to_string(), 160, 9),
        ]
    );
}

#[test]
fn wesng_edge_kb5033118_supersedes_kb5032198_on_server_2022() {
    let c = Catalog::open(&imported().wesng_only).unwrap();
    let s2022 = c.product_by_name("Windows Server 2022").unwrap();
    let edges = c.supersedes(s2022, KbId(5033118));
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0].older, KbId(5032198));
    // WES-NG says so, and the cumulative-update model derives the same edge.
    let sources: Vec<String> = edges[0].sources.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        sources,
        ["wesng:CVEs_20260628.csv", "model:windows-cumulative"]
    );
    // WES-NG lists the hotpatch without supersedence and without a SubType:
    // the hotpatch model recognises it beside KB5033118 and chains it to
    // November's hotpatch only, never to the normal cumulative updates.
    let hp = c.update(KbId(5033464)).unwrap();
    assert_eq!(hp.kind, UpdateKind::Hotpatch);
    assert_eq!(
        hp.kind_note.as_deref(),
        Some(
            "hotpatch by servicing model `hotpatch`: released for Windows Server 2022 in 2023-12 beside KB5033118 with no supersedence edge and 18 of its 18 CVEs in common (the source gives no SubType)"
        )
    );
    let down: Vec<(KbId, Vec<String>)> = c
        .supersedes(s2022, KbId(5033464))
        .iter()
        .map(|e| (e.older, e.sources.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(down, [(KbId(5032304), vec!["model:hotpatch".to_string()])]);
    let up: Vec<KbId> = c
        .superseded_by(s2022, KbId(5033464))
        .iter()
        .map(|e| e.newer)
        .collect();
    assert_eq!(up, [KbId(5042880)]);
}

#[test]
fn combined_sources_agree_on_the_edge() {
    let c = Catalog::open(&imported().combined).unwrap();
    let s2022 = c.product_by_name("Windows Server 2022").unwrap();
    let edges = c.supersedes(s2022, KbId(5033118));
    assert_eq!(edges.len(), 1);
    let kinds: Vec<SourceKind> = edges[0].sources.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        vec![SourceKind::Cvrf, SourceKind::Wesng, SourceKind::Model]
    );
    let u = c.update(KbId(5033118)).unwrap();
    // The CVRF document date is authoritative.
    assert_eq!(u.release_date, Some(jiff::civil::date(2023, 12, 12)));
    assert_eq!(u.release_date_source, Some(ReleaseDateSource::Cvrf));
    let hp = c.update(KbId(5033464)).unwrap();
    assert_eq!(hp.kind, UpdateKind::Hotpatch);
    assert!(
        c.supersedence_path(s2022, KbId(5033118), KbId(5033464))
            .is_none()
    );
    // The chain continues below KB5032198 with WES-NG's data, 27 months down
    // to KB5005575 (September 2021), where WES-NG's data stops.
    let chain = c.supersedes_chain(s2022, KbId(5033118));
    assert_eq!(chain.len(), 27);
    assert_eq!(chain.last().map(|e| e.older), Some(KbId(5005575)));
    assert!(c.supersedes(s2022, KbId(5005575)).is_empty());
    let path = c
        .supersedence_path(s2022, KbId(5033118), KbId(5031364))
        .unwrap();
    let hops: Vec<(KbId, KbId)> = path.iter().map(|e| (e.newer, e.older)).collect();
    assert_eq!(
        hops,
        vec![
            (KbId(5033118), KbId(5032198)),
            (KbId(5032198), KbId(5031364))
        ]
    );
}

#[test]
fn release_date_estimates_from_wesng() {
    let c = Catalog::open(&imported().wesng_only).unwrap();
    // Rows dated 2021-02-09 and 2021-12-14..16: the mode is the December release.
    let u = c.update(KbId(5008218)).unwrap();
    assert_eq!(u.release_date, Some(jiff::civil::date(2021, 12, 14)));
    assert_eq!(
        u.release_date_source,
        Some(ReleaseDateSource::WesngEstimate)
    );
    // Rows from 2022-04-05 to 2022-08-31: the mode is Patch Tuesday 2022-04-12.
    assert_eq!(
        c.release_date(KbId(5012647)),
        Some(jiff::civil::date(2022, 4, 12))
    );
}

#[test]
fn server_2008_r2_sp1_is_one_servicing_product() {
    let c = Catalog::open(&imported().wesng_only).unwrap();
    let p = c
        .product_by_name("Windows Server 2008 R2 Service Pack 1")
        .unwrap();
    assert!(
        c.product_by_name("Windows Server 2008 R2 for x64-based Systems Service Pack 1")
            .is_none()
    );
    // The March 2017 security-only update (MS17-010) for 2008 R2 SP1.
    let u = c.update(KbId(4012212)).unwrap();
    let pp = u.product(p).unwrap();
    assert_eq!(
        pp.architectures,
        vec![Architecture::X64, Architecture::Itanium]
    );
    assert!(c.is_published_for(KbId(4012212), p));
}
