//! The embedded SQLite history: keyed by collected-at time (out-of-order
//! arrival, the same snapshot twice), foreign and newer files refused
//! without a byte changed, concurrent recorders, and a PostgreSQL that is
//! down (the check report is still written).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::{lockstep, ok, repo, stderr};

/// The hvclu22 snapshot collected at `at`; `behind`: HV22-01 still on
/// November's cumulative update (as HV22-03 is).
fn snapshot(dir: &Path, name: &str, at: &str, behind: bool) -> PathBuf {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("tests/fixtures/snapshot/hvclu22.json")).unwrap(),
    )
    .unwrap();
    doc["collectedAt"] = Value::String(at.into());
    for node in doc["clusters"][0]["nodes"].as_array_mut().unwrap() {
        node.as_object_mut().unwrap().remove("updateHistory");
    }
    if !behind {
        doc["clusters"][0]["nodes"][2]["hotfixes"]["data"][2]["hotFixId"] =
            Value::String("KB5033118".into());
    } else {
        doc["clusters"][0]["nodes"][0]["hotfixes"]["data"][2]["hotFixId"] =
            Value::String("KB5032198".into());
    }
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

fn history_json(store: &str, cluster: &str) -> Value {
    serde_json::from_str(&ok(&lockstep(&[
        "--history",
        store,
        "history",
        cluster,
        "--format",
        "json",
    ])))
    .unwrap()
}

#[test]
fn observations_are_keyed_by_collection_time_and_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.sqlite3").display().to_string();
    // In step on the 1st and the 20th; HV22-01 and HV22-03 behind on the 10th.
    let d1 = snapshot(dir.path(), "d1.json", "2024-03-01T06:00:00Z", false);
    let d10 = snapshot(dir.path(), "d10.json", "2024-03-10T06:00:00.5Z", true);
    let d20 = snapshot(dir.path(), "d20.json", "2024-03-20T06:00:00Z", false);
    let record = |f: &Path| {
        ok(&lockstep(&[
            "--no-catalog",
            "--history",
            &store,
            "record",
            f.to_str().unwrap(),
        ]))
    };
    // The 20th arrives first, the 10th last: collected-at, not arrival, orders them.
    assert!(record(&d20).starts_with("recorded 1 run(s) of 1 cluster(s) (0 already recorded), 3 node observation(s) (0 already recorded), 1 new update set(s)"));
    assert!(record(&d1).starts_with("recorded 1 run(s) of 1 cluster(s) (0 already recorded), 3 node observation(s) (0 already recorded), 0 new update set(s)"));
    assert!(record(&d10).starts_with("recorded 1 run(s) of 1 cluster(s) (0 already recorded), 3 node observation(s) (0 already recorded), 1 new update set(s)"));
    // The same snapshot again, and a copy under another name: stored once.
    assert!(record(&d10).starts_with("recorded 0 run(s) of 1 cluster(s) (1 already recorded), 0 node observation(s) (3 already recorded), 0 new update set(s)"));
    let copy = dir.path().join("copy-of-d10.json");
    std::fs::copy(&d10, &copy).unwrap();
    assert!(record(&copy).starts_with("recorded 0 run(s)"));

    let h = history_json(&store, "hvclu22");
    assert_eq!(h["runs"], 3);
    assert_eq!(h["in_step"], true);
    assert_eq!(h["periods"][0]["start"], "2024-03-10T06:00:00Z");
    assert_eq!(h["periods"][0]["end"], "2024-03-20T06:00:00Z");
    assert_eq!(h["periods"][0]["days"], 10);
    assert_eq!(h["drift"][0]["kb"], "KB5032198");
    assert_eq!(h["drift"][0]["absent_on"], serde_json::json!(["HV22-02"]));
    assert_eq!(h["drift"][1]["kb"], "KB5033118");
    assert_eq!(h["drift"][1]["present_on"], serde_json::json!(["HV22-02"]));
    assert_eq!(h["drift"][1]["resolution"], "installed-everywhere");
    assert_eq!(h["nodes"][0]["collected_at_basis"], "input");
    // Recorded without a catalog: which updates are cumulative is unknown.
    assert_eq!(h["cumulative_known"], false);
    let text = ok(&lockstep(&["--history", &store, "history", "HVCLU22"]));
    assert!(text.contains("Behind the cluster's newest cumulative update\n  unknown: no run was recorded with a catalog that knows the cumulative updates\n"), "{text}");
    let o = lockstep(&["--history", &store, "history", "HVCLU23"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!(
            "the history SQLite {store} has no cluster \"HVCLU23\" (it has HVCLU22)"
        )),
        "{}",
        stderr(&o)
    );
    let list = ok(&lockstep(&["--history", &store, "history"]));
    assert_eq!(
        list,
        "HVCLU22: 3 node(s), 3 run(s) from 2024-03-01 to 2024-03-20, in step at the last run\n"
    );
}

#[test]
fn concurrent_recorders_share_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.sqlite3").display().to_string();
    let files: Vec<PathBuf> = (1..=8)
        .map(|d| {
            snapshot(
                dir.path(),
                &format!("d{d}.json"),
                &format!("2024-04-{d:02}T06:00:00Z"),
                d % 3 == 0,
            )
        })
        .collect();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for f in &files {
                    ok(&lockstep(&[
                        "--no-catalog",
                        "--history",
                        &store,
                        "record",
                        f.to_str().unwrap(),
                    ]));
                }
            });
        }
    });
    let h = history_json(&store, "hvclu22");
    assert_eq!(h["runs"], 8);
    assert_eq!(h["nodes"][1]["observations"], 8);
    let c = rusqlite_count(&store);
    assert_eq!(c, (8, 24, 2));
}

/// (runs, observations, update sets) read straight from the file.
fn rusqlite_count(path: &str) -> (i64, i64, i64) {
    let c = rusqlite::Connection::open(path).unwrap();
    let q = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    (
        q("SELECT COUNT(*) FROM runs"),
        q("SELECT COUNT(*) FROM observations"),
        q("SELECT COUNT(*) FROM update_sets"),
    )
}

#[test]
fn foreign_files_and_newer_schemas_are_refused_and_never_modified() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path(), "s.json", "2024-03-01T06:00:00Z", false);
    let snap = snap.to_str().unwrap();
    // Another SQLite database (lockstep's own catalog), a text file.
    let cat = support::december_catalog(dir.path());
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, 16 bytes or more of it\n").unwrap();
    for (path, why) in [
        (cat.clone(), "lockstep's update catalog, not a history"),
        (text.display().to_string(), "not an SQLite database"),
    ] {
        let before = std::fs::read(&path).unwrap();
        for args in [
            vec!["--no-catalog", "--history", &path, "record", snap],
            vec!["--history", &path, "history"],
        ] {
            let o = lockstep(&args);
            assert_eq!(o.status.code(), Some(2));
            assert!(
                stderr(&o).contains(&format!(
                    "SQLite {path} is not a lockstep history ({why}); it was not modified"
                )),
                "{}",
                stderr(&o)
            );
        }
        // The report is still written when only the history fails.
        let o = lockstep(&[
            "--no-catalog",
            "--history",
            &path,
            "check",
            "--record",
            snap,
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&o.stdout)
                .starts_with("lockstep check: 1 cluster(s), 3 node(s)")
        );
        assert_eq!(std::fs::read(&path).unwrap(), before, "{path} was modified");
        assert!(!Path::new(&format!("{path}-wal")).exists());
    }

    // A history written by a newer lockstep.
    let newer = dir.path().join("newer.sqlite3").display().to_string();
    ok(&lockstep(&[
        "--no-catalog",
        "--history",
        &newer,
        "record",
        snap,
    ]));
    {
        let c = rusqlite::Connection::open(&newer).unwrap();
        c.execute_batch("UPDATE lockstep_meta SET schema_version = 3; PRAGMA user_version = 3;")
            .unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
            .unwrap();
    }
    let before = std::fs::read(&newer).unwrap();
    let o = lockstep(&["--no-catalog", "--history", &newer, "record", snap]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("SQLite {newer} has history schema version 3, newer than this lockstep knows (1); it was not modified. Upgrade lockstep")),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    // No history yet: a reader says so and creates nothing.
    let none = dir.path().join("none.sqlite3");
    let o = lockstep(&["--history", none.to_str().unwrap(), "history"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no history at"), "{}", stderr(&o));
    assert!(!none.exists());
    // A check without --record does not create one either, and says nothing of it.
    let o = lockstep(&[
        "--no-catalog",
        "--history",
        none.to_str().unwrap(),
        "check",
        snap,
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!none.exists());
}

#[test]
fn a_postgresql_that_is_down_is_a_clear_error_and_the_report_is_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://lockstep:secret@127.0.0.1:{port}/history");
    let report = dir.path().join("report.json");
    let metrics = dir.path().join("lockstep.prom");
    let o = lockstep(&[
        "--no-catalog",
        "--history",
        &url,
        "check",
        "examples/kb2616676",
        "--record",
        "--format",
        "json",
        "-o",
        report.to_str().unwrap(),
        "--metrics",
        metrics.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("lockstep: error: the PostgreSQL history PostgreSQL lockstep@127.0.0.1:{port}/history: cannot connect: ")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(!err.contains("secret"), "the password was shown: {err}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written["clusters"][0]["name"], "kb2616676");
    assert!(
        std::fs::read_to_string(&metrics)
            .unwrap()
            .contains("lockstep_cluster_validation_will_warn{cluster=\"kb2616676\"} 1\n")
    );
}
