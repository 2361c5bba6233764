//! Not a test: a year of daily recordings of a generated fleet, written
//! into the history the way `lockstep check --record` writes it, to measure
//! what the history costs on disk and per day. Run by
//! `scripts/bench-history.sh` (which makes the fleet and the catalog):
//!
//! ```sh
//! LOCKSTEP_BENCH_FLEET=/tmp/lockstep-bench-check/fleet-1000 \
//! LOCKSTEP_BENCH_CATALOG=/tmp/lockstep-bench-check/wesng.sqlite3 \
//! LOCKSTEP_BENCH_HISTORY=/tmp/lockstep-bench-history/year.sqlite3 \
//! cargo bench -p lockstep-history --bench year
//! ```
//!
//! `LOCKSTEP_BENCH_HISTORY` is a file or a `postgres://` URL (an empty
//! database), or several separated by spaces (the same year is written
//! into each, timed apart); `LOCKSTEP_BENCH_DAYS` (default 365).
//!
//! How the year goes: from 2026-01-01, every month's patch Tuesday brings
//! three updates (a cumulative update that replaces the previous month's in
//! the node's list, a .NET rollup, a servicing stack update; numbered
//! KB5100000 + 100 × month + 1..3, as no catalog knows 2026's updates yet).
//! Each cluster starts its rollout 0–6 days after patch Tuesday and patches
//! one node a day, so every cluster drifts for a week a month, as rolling
//! updates do. Every node is observed every day. The check runs on the
//! days something changed (on the other days its findings are the same as
//! the day before's, by construction, and are reused).

use lockstep_catalog::known_issues::KnownIssues;
use lockstep_check::run::{CheckOptions, check_each};
use lockstep_check::sources::{CatalogOrigin, Sources};
use lockstep_history::Target;
use lockstep_model::{CollectedAt, CollectedBasis, InstalledUpdate, KbId, SourceRef};
use std::path::PathBuf;
use std::time::Instant;

fn env_path(k: &str, default: &str) -> PathBuf {
    std::env::var_os(k)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// Day of 2026 (0-based) of the second Tuesday of `month` (0-based).
fn patch_tuesday(month: i8) -> i64 {
    let first = jiff::civil::date(2026, month + 1, 1);
    let offset = (1 - first.weekday().to_monday_zero_offset() as i64).rem_euclid(7);
    let day = first
        .checked_add(jiff::Span::new().days(offset + 7))
        .expect("a date in 2026");
    jiff::civil::date(2026, 1, 1)
        .until(day)
        .map(|s| i64::from(s.get_days()))
        .expect("days")
}

fn month_kbs(month: i64) -> [KbId; 3] {
    let base = 5_100_000 + 100 * month as u32;
    [KbId(base + 1), KbId(base + 2), KbId(base + 3)]
}

fn main() {
    let fleet = env_path(
        "LOCKSTEP_BENCH_FLEET",
        "/tmp/lockstep-bench-check/fleet-1000",
    );
    let catalog = env_path(
        "LOCKSTEP_BENCH_CATALOG",
        "/tmp/lockstep-bench-check/wesng.sqlite3",
    );
    let targets = std::env::var("LOCKSTEP_BENCH_HISTORY")
        .unwrap_or_else(|_| "/tmp/lockstep-bench-history/year.sqlite3".into());
    let days: i64 = std::env::var("LOCKSTEP_BENCH_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(365);
    let targets: Vec<Target> = targets.split_whitespace().map(Target::parse).collect();
    let mut stores = Vec::new();
    for target in &targets {
        if let Target::Sqlite(p) = target {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
        stores.push(target.open(true).expect("opening the history"));
    }
    let loaded = lockstep_ingest::load_paths(std::slice::from_ref(&fleet));
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    let mut inventory = loaded.inventory;
    let nodes: usize = inventory.clusters.iter().map(|c| c.nodes.len()).sum();
    eprintln!(
        "fleet {}: {} clusters, {nodes} nodes",
        fleet.display(),
        inventory.clusters.len()
    );
    let store = lockstep_catalog::Store::open(&catalog).expect("opening the catalog");
    let sources = Sources::from_store(&store, CatalogOrigin::File, KnownIssues::builtin())
        .expect("loading the catalog");
    let knowledge = sources.knowledge();
    let stamp = lockstep_history::CatalogStamp::of_catalog(&catalog).ok();
    let tuesdays: Vec<i64> = (0..12).map(patch_tuesday).collect();
    let src = SourceRef::new("bench", 0);
    let start = jiff::civil::date(2026, 1, 1)
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .expect("UTC")
        .timestamp()
        .as_second()
        + 6 * 3600;
    let mut findings = Vec::new();
    let mut record_secs: Vec<Vec<f64>> = vec![Vec::new(); stores.len()];
    let mut checks = 0;
    let began = Instant::now();
    for day in 0..days {
        let mut changed = day == 0;
        for (ci, cluster) in inventory.clusters.iter_mut().enumerate() {
            for (ni, node) in cluster.nodes.iter_mut().enumerate() {
                // The newest month whose rollout has reached this node.
                let due = tuesdays
                    .iter()
                    .rposition(|&t| day >= t + (ci % 7) as i64 + ni as i64);
                if let Some(month) = due {
                    let [cu, dotnet, ssu] = month_kbs(month as i64);
                    if !node.has_kb(cu) {
                        let [previous, _, _] = month_kbs(month as i64 - 1);
                        node.updates.retain(|u| u.kb != previous);
                        for kb in [cu, dotnet, ssu] {
                            node.updates.push(InstalledUpdate {
                                kb,
                                id_text: None,
                                description: None,
                                installed_on: None,
                                installed_by: None,
                                source: src.clone(),
                            });
                        }
                        changed = true;
                    }
                }
                node.collected_at = Some(CollectedAt {
                    at: jiff::Timestamp::from_second(start + day * 86_400).expect("a time"),
                    basis: CollectedBasis::Input,
                });
            }
        }
        if changed {
            checks += 1;
            let report = check_each(
                &inventory,
                &knowledge,
                Some(sources.protection()),
                sources.catalog_info(),
                &CheckOptions::default(),
                |_| (),
                |()| Ok::<(), std::convert::Infallible>(()),
            );
            findings = match report {
                Ok(r) => r.findings,
                Err(never) => match never {},
            };
        }
        let rec = lockstep_history::recording(
            &inventory,
            &findings,
            &knowledge,
            stamp.clone(),
            jiff::Timestamp::now(),
        );
        for (store, secs) in stores.iter_mut().zip(&mut record_secs) {
            let t = Instant::now();
            let out = store.record(&rec).expect("recording");
            secs.push(t.elapsed().as_secs_f64());
            assert_eq!(out.runs_new as usize, inventory.clusters.len());
        }
        if day % 30 == 0 {
            eprintln!("day {day}: {:.1} s so far", began.elapsed().as_secs_f64());
        }
    }
    println!(
        "days={days} clusters={} nodes={nodes} checks_run={checks} whole year {:.1} s",
        inventory.clusters.len(),
        began.elapsed().as_secs_f64()
    );
    for ((mut store, target), mut secs) in stores.into_iter().zip(&targets).zip(record_secs) {
        let counts = store.counts().expect("counts");
        secs.sort_by(f64::total_cmp);
        println!(
            "{}: runs={} observations={} update_sets={} finding_sets={}; record per day: median {:.3} s, min {:.3} s, max {:.3} s",
            store.target(),
            counts.runs,
            counts.observations,
            counts.update_sets,
            counts.finding_sets,
            secs[secs.len() / 2],
            secs[0],
            secs[secs.len() - 1]
        );
        drop(store);
        if let Target::Sqlite(p) = target {
            // Fold the WAL into the file, as the last connection closing does.
            let c = rusqlite::Connection::open(p).expect("reopen");
            c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .expect("checkpoint");
            let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            println!("  size: {size} bytes ({:.1} MB)", size as f64 / 1e6);
        }
    }
}
