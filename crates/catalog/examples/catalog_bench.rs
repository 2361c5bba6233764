//! Benchmark driver for BENCHMARKS.md "## Catalog" (not a test).
//!
//! ```text
//! cargo build --release -p lockstep-catalog --example catalog_bench
//! /usr/bin/time -v target/release/examples/catalog_bench import /tmp/bench.sqlite3 definitions.zip
//! target/release/examples/catalog_bench chains /tmp/bench.sqlite3 "Windows Server 2022"
//! ```
//!
//! `import` parses and imports files exactly as `lockstep catalog import` does
//! and prints the wall time; `chains` opens the catalog and resolves the
//! superseded-by chain of every KB of one product, printing both timings.

use lockstep_catalog::import::parse_file;
use lockstep_catalog::{Catalog, ImportSession};
use std::path::Path;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("import") if args.len() >= 4 => {
            let db = Path::new(&args[2]);
            let start = Instant::now();
            let mut session = match ImportSession::begin(db) {
                Ok(s) => s,
                Err(e) => return eprintln!("{e}"),
            };
            for f in &args[3..] {
                let t = Instant::now();
                let parsed = parse_file(Path::new(f));
                println!("parse {f}: {:.3} s", t.elapsed().as_secs_f64());
                match parsed {
                    Ok(batches) => {
                        for b in batches {
                            let t = Instant::now();
                            match session.import(&b) {
                                Ok(s) => println!(
                                    "{:?} {} ({} rows): write {:.3} s",
                                    s,
                                    b.name,
                                    b.counts.records,
                                    t.elapsed().as_secs_f64()
                                ),
                                Err(e) => return eprintln!("{e}"),
                            }
                        }
                    }
                    Err(e) => return eprintln!("{e}"),
                }
            }
            let t = Instant::now();
            if let Err(e) = session.commit() {
                return eprintln!("{e}");
            }
            println!("derive + commit: {:.3} s", t.elapsed().as_secs_f64());
            println!("import: {:.3} s", start.elapsed().as_secs_f64());
        }
        Some("bundled") => {
            // Where a one-node check's start-up goes with the bundled catalog.
            let runs: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5);
            for _ in 0..runs {
                let t = Instant::now();
                let store = match lockstep_catalog::bundled::open_bundled() {
                    Ok(s) => s,
                    Err(e) => return eprintln!("{e}"),
                };
                let opened = t.elapsed();
                let t = Instant::now();
                let models = lockstep_catalog::models::ServicingModels::default();
                let plain = Catalog::from_store_with(&store, &models).map(|c| c.updates().count());
                let loaded = t.elapsed();
                let t = Instant::now();
                let with = Catalog::from_store(&store).map(|c| c.updates().count());
                let derived = t.elapsed();
                println!(
                    "decompress+open {:.1} ms, load without models {:.1} ms, load with models {:.1} ms ({plain:?} {with:?})",
                    opened.as_secs_f64() * 1e3,
                    loaded.as_secs_f64() * 1e3,
                    derived.as_secs_f64() * 1e3
                );
            }
        }
        Some("chains") if args.len() == 4 => {
            let start = Instant::now();
            let store = match lockstep_catalog::Store::open(Path::new(&args[2])) {
                Ok(s) => s,
                Err(e) => return eprintln!("{e}"),
            };
            let store_opened = start.elapsed();
            let catalog = match Catalog::from_store(&store) {
                Ok(c) => c,
                Err(e) => return eprintln!("{e}"),
            };
            let opened = start.elapsed();
            println!(
                "store open: {:.1} ms, load: {:.1} ms",
                store_opened.as_secs_f64() * 1000.0,
                (opened - store_opened).as_secs_f64() * 1000.0
            );
            let Some(product) = catalog.product_by_name(&args[3]) else {
                return eprintln!("no product {:?}", args[3]);
            };
            let mut kbs = 0;
            let mut edges = 0;
            for kb in catalog
                .kbs_with_edges(product)
                .into_iter()
                .chain(catalog.updates_for(product))
            {
                kbs += 1;
                edges += catalog.superseded_by_chain(product, kb).len();
                edges += catalog.supersedes_chain(product, kb).len();
            }
            let total = start.elapsed();
            println!(
                "open: {:.1} ms; open + every chain of {} ({kbs} KBs, {edges} chain edges): {:.1} ms",
                opened.as_secs_f64() * 1000.0,
                args[3],
                total.as_secs_f64() * 1000.0
            );
        }
        _ => eprintln!("usage: catalog_bench import DB FILE... | catalog_bench chains DB PRODUCT"),
    }
}
