//! The catalog model on small hand-built batches: anomalies, release dates,
//! provenance merging, product lookup for a node, schema versions.

use lockstep_catalog::batch::{FixFacts, ImportBatch, SourceFormat};
use lockstep_catalog::query::{Anomaly, anomalies};
use lockstep_catalog::{Catalog, CatalogError, SourceKind, Store, UpdateKind};
use lockstep_model::{KbId, OsInfo, SourceRef, Sourced, WinVersion};

struct Fix<'a> {
    kb: u32,
    product: &'a str,
    subtype: &'a str,
}

fn batch(
    format: SourceFormat,
    name: &str,
    date: &str,
    fixes: &[Fix],
    edges: &[(u32, u32, &str)],
) -> ImportBatch {
    let mut b = ImportBatch::new(format, name);
    b.content_hash = format!("hash-of-{name}");
    let d: jiff::civil::Date = date.parse().unwrap();
    if format == SourceFormat::CvrfXml {
        b.initial_release = Some(d);
    }
    for f in fixes {
        let p = b.products.intern(f.product);
        let facts = b.kbs.entry(KbId(f.kb)).or_default();
        if format == SourceFormat::WesngCsv {
            facts.date_counts.insert(d, 1);
        }
        b.add_fix(
            KbId(f.kb),
            p,
            FixFacts {
                subtype: (!f.subtype.is_empty()).then(|| f.subtype.to_string()),
                fixed_build: None,
                restart_required: None,
            },
        );
    }
    for (n, o, p) in edges {
        let p = b.products.intern(p);
        b.edges.insert((KbId(*n), KbId(*o), p), ());
    }
    b
}

const S22: &str = "Windows Server 2022";
const S22_CORE: &str = "Windows Server 2022 (Server Core installation)";

/// The source data alone: no servicing model derives edges here (they
/// have their own tests), so the anomalies are the data's.
fn catalog(batches: &[ImportBatch]) -> (tempfile::TempDir, Catalog) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3");
    Store::import_batches(&db, batches).unwrap();
    let store = Store::open(&db).unwrap();
    let c = Catalog::from_store_with(
        &store,
        &lockstep_catalog::models::ServicingModels::default(),
    )
    .unwrap();
    (dir, c)
}

fn labels(list: &[Anomaly]) -> Vec<&'static str> {
    list.iter().map(|a| a.label()).collect()
}

#[test]
fn cycle_and_cross_kind_and_chain_break() {
    let su = "Security Update";
    let b = batch(
        SourceFormat::CvrfXml,
        "2023-Dec",
        "2023-12-12",
        &[
            Fix {
                kb: 100,
                product: S22,
                subtype: su,
            },
            Fix {
                kb: 101,
                product: S22,
                subtype: su,
            },
            Fix {
                kb: 102,
                product: S22_CORE,
                subtype: su,
            },
            Fix {
                kb: 200,
                product: S22,
                subtype: "Security Hotpatch Update",
            },
        ],
        &[(101, 102, S22), (102, 101, S22_CORE), (200, 100, S22)],
    );
    // An older security update nothing supersedes, a month earlier.
    let old = batch(
        SourceFormat::CvrfXml,
        "2023-Nov",
        "2023-11-14",
        &[Fix {
            kb: 90,
            product: S22,
            subtype: su,
        }],
        &[],
    );
    let (_d, c) = catalog(&[b, old]);
    let s22 = c.product_by_name(S22).unwrap();
    // Server Core and the full installation are one servicing product.
    assert!(c.product_by_name(S22_CORE).is_none());
    let list = anomalies(&c, Some(s22));
    assert_eq!(labels(&list), vec!["cycle", "cross-kind", "chain-break"]);
    assert_eq!(
        list[0],
        Anomaly::Cycle {
            product: S22.into(),
            kbs: vec![KbId(101), KbId(102)]
        }
    );
    match &list[1] {
        Anomaly::CrossKind {
            edge,
            newer_kind,
            older_kind,
        } => {
            assert_eq!((edge.newer, edge.older), (KbId(200), KbId(100)));
            assert_eq!(
                (*newer_kind, *older_kind),
                (UpdateKind::Hotpatch, UpdateKind::Cumulative)
            );
        }
        other => panic!("{other:?}"),
    }
    // KB90 (November) is superseded by nothing although December's updates
    // exist; the December ones share the latest date and are not breaks.
    assert_eq!(
        list[2],
        Anomaly::ChainBreak {
            product: S22.into(),
            kb: KbId(90),
            kind: UpdateKind::Cumulative,
            newer: KbId(102)
        }
    );
    // The cycle does not hang the chain walks.
    assert_eq!(c.supersedes_chain(s22, KbId(101)).len(), 2);
    assert_eq!(
        c.release_date(KbId(90)),
        Some(jiff::civil::date(2023, 11, 14))
    );
}

#[test]
fn source_conflict_cross_product_missing_kb_and_date_precedence() {
    let su = "Security Update";
    let cvrf = batch(
        SourceFormat::CvrfXml,
        "2023-Dec",
        "2023-12-12",
        &[
            Fix {
                kb: 300,
                product: S22,
                subtype: su,
            },
            Fix {
                kb: 299,
                product: S22,
                subtype: su,
            },
        ],
        &[(300, 299, S22)],
    );
    let wesng = batch(
        SourceFormat::WesngCsv,
        "CVEs_test.csv",
        "2023-12-13",
        &[
            Fix {
                kb: 300,
                product: S22_CORE,
                subtype: "",
            },
            Fix {
                kb: 299,
                product: S22_CORE,
                subtype: "",
            },
            Fix {
                kb: 500,
                product: "Windows Server 2019",
                subtype: "",
            },
        ],
        &[(300, 500, S22_CORE), (300, 777, S22_CORE)],
    );
    let (_d, c) = catalog(&[cvrf, wesng]);
    let s22 = c.product_by_name(S22).unwrap();
    let list = anomalies(&c, Some(s22));
    assert_eq!(
        labels(&list),
        vec!["source-conflict", "cross-product", "missing-kb"]
    );
    match &list[0] {
        Anomaly::SourceConflict {
            edge,
            stated_by,
            not_stated_by,
        } => {
            assert_eq!((edge.newer, edge.older), (KbId(300), KbId(299)));
            assert_eq!(
                (*stated_by, *not_stated_by),
                (SourceKind::Cvrf, SourceKind::Wesng)
            );
        }
        other => panic!("{other:?}"),
    }
    match &list[1] {
        Anomaly::CrossProduct {
            edge,
            older_products,
        } => {
            assert_eq!(edge.older, KbId(500));
            assert_eq!(older_products, &vec!["Windows Server 2019".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    // Provenance of KB300 on the product: both sources.
    let p = c.update(KbId(300)).unwrap().product(s22).unwrap().clone();
    let docs: Vec<String> = p.sources.iter().map(|s| s.to_string()).collect();
    assert_eq!(docs, vec!["cvrf:2023-Dec", "wesng:CVEs_test.csv"]);
    // The CVRF month is authoritative over WES-NG's estimate; WES-NG alone estimates.
    assert_eq!(
        c.release_date(KbId(300)),
        Some(jiff::civil::date(2023, 12, 12))
    );
    assert_eq!(
        c.release_date(KbId(500)),
        Some(jiff::civil::date(2023, 12, 13))
    );
    assert_eq!(
        c.update(KbId(500)).unwrap().release_date_source,
        Some(lockstep_catalog::ReleaseDateSource::WesngEstimate)
    );
}

#[test]
fn product_for_os_by_caption_and_build() {
    let b = batch(
        SourceFormat::CvrfXml,
        "2023-Dec",
        "2023-12-12",
        &[
            Fix {
                kb: 1,
                product: S22,
                subtype: "Security Update",
            },
            Fix {
                kb: 2,
                product: "Windows Server 2008 R2 for x64-based Systems Service Pack 1 (Server Core installation)",
                subtype: "Security Update",
            },
            Fix {
                kb: 3,
                product: "Windows 10 Version 1809 for x64-based Systems",
                subtype: "Security Update",
            },
        ],
        &[],
    );
    let (_d, c) = catalog(&[b]);
    let os = |caption: &str, version: &str| OsInfo {
        caption: Some(Sourced::new(caption.to_string(), SourceRef::new("t", 1))),
        version: Some(Sourced::new(
            version.parse::<WinVersion>().unwrap(),
            SourceRef::new("t", 2),
        )),
        ..Default::default()
    };
    let name = |o: &OsInfo| c.product_for_os(o).map(|p| c.product_name(p).to_string());
    assert_eq!(
        name(&os(
            "Microsoft Windows Server 2022 Standard",
            "10.0.20348.2159"
        ))
        .as_deref(),
        Some(S22)
    );
    assert_eq!(
        name(&os(
            "Microsoft Windows Server 2008 R2 Enterprise",
            "6.1.7601"
        ))
        .as_deref(),
        Some("Windows Server 2008 R2 Service Pack 1")
    );
    assert_eq!(
        name(&os("Microsoft Windows 10 Enterprise LTSC", "10.0.17763")).as_deref(),
        Some("Windows 10 Version 1809")
    );
    // Server 2019 shares build 17763 but has no data in this catalog.
    assert_eq!(
        name(&os(
            "Microsoft Windows Server 2019 Datacenter",
            "10.0.17763"
        )),
        None
    );
    assert_eq!(c.product_for_os(&OsInfo::default()), None);
}

#[test]
fn newer_schema_is_refused_and_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3");
    assert!(matches!(Catalog::open(&db), Err(CatalogError::NotFound(_))));
    Store::import_batches(
        &db,
        &[batch(SourceFormat::CvrfXml, "x", "2023-12-12", &[], &[])],
    )
    .unwrap();
    // The store opens catalogs read-only: a later lockstep's catalog is
    // made by hand.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    match Catalog::open(&db) {
        Err(CatalogError::SchemaTooNew {
            found, supported, ..
        }) => assert_eq!((found, supported), (99, 2)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_second_import_waits_for_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.sqlite3");
    let first = lockstep_catalog::ImportSession::begin(&db).unwrap();
    match lockstep_catalog::ImportSession::begin(&db) {
        Err(CatalogError::Busy(lock)) => assert_eq!(lock, dir.path().join(".c.sqlite3.lock")),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("two imports at once"),
    }
    drop(first);
    let mut second = lockstep_catalog::ImportSession::begin(&db).unwrap();
    second
        .import(&batch(
            SourceFormat::CvrfXml,
            "x",
            "2023-12-12",
            &[Fix {
                kb: 1,
                product: S22,
                subtype: "",
            }],
            &[],
        ))
        .unwrap();
    second.commit().unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["c.sqlite3".to_string()],
        "lock and temporary copy are gone"
    );
}
