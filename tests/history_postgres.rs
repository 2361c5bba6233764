//! The shared PostgreSQL history under load and under failure, against a
//! private server: 16 recorders write the same 400 snapshots twice over,
//! concurrently and in opposite orders; a recorder killed with SIGKILL in
//! the middle of its transaction leaves nothing behind; a database of
//! another application, or of a newer lockstep, is refused and untouched.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::postgres::PgServer;
use support::{BIN, lockstep, ok, repo, stderr};

const CLUSTERS: usize = 8;
const SNAPSHOTS: usize = 50;
const RECORDERS: usize = 16;

/// The hvclu22 snapshot as cluster `LOADk` on day `j` (2024-01-01 + j):
/// every ten days each node drops one of its three updates (which one
/// depends on the node), so update sets repeat across days and clusters.
/// The update history is left out, so a node's updates are its hotfix
/// list. Returns the file and the update sets it carries.
fn load_snapshot(dir: &Path, k: usize, j: usize) -> (PathBuf, Vec<Vec<String>>) {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("tests/fixtures/snapshot/hvclu22.json")).unwrap(),
    )
    .unwrap();
    let day = jiff::civil::date(2024, 1, 1)
        .checked_add(jiff::Span::new().days(j as i64))
        .unwrap();
    doc["collectedAt"] = Value::String(format!("{day}T06:30:00Z"));
    let cluster = &mut doc["clusters"][0];
    cluster["name"] = Value::String(format!("LOAD{k}"));
    let mut sets = Vec::new();
    for (i, node) in cluster["nodes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        node.as_object_mut().unwrap().remove("updateHistory");
        let fixes = node["hotfixes"]["data"].as_array_mut().unwrap();
        if (j / 10) % 2 == 1 {
            fixes.remove((j / 10 + i) % 3);
        }
        let mut set: Vec<String> = fixes
            .iter()
            .map(|h| h["hotFixId"].as_str().unwrap().to_string())
            .collect();
        set.sort();
        sets.push(set);
    }
    let path = dir.join(format!("load{k}-{j:02}.json"));
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    (path, sets)
}

fn count(c: &mut postgres::Client, table: &str) -> i64 {
    c.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

/// "recorded 1 run(s) of 1 cluster(s) (0 already recorded), ..." → (new, known).
fn runs_recorded(stdout: &str) -> (u64, u64) {
    let rest = stdout
        .strip_prefix("recorded ")
        .unwrap_or_else(|| panic!("{stdout}"));
    let new: u64 = rest.split(' ').next().unwrap().parse().unwrap();
    let known: u64 = rest
        .split_once("cluster(s) (")
        .and_then(|(_, r)| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    (new, known)
}

#[test]
fn sixteen_concurrent_recorders_lose_and_duplicate_nothing() {
    let pg = PgServer::start();
    let url = pg.create_db("load");
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![Vec::new(); CLUSTERS];
    let mut sets = BTreeSet::new();
    for (k, per_cluster) in files.iter_mut().enumerate() {
        for j in 0..SNAPSHOTS {
            let (path, s) = load_snapshot(dir.path(), k, j);
            per_cluster.push(path);
            sets.extend(s);
        }
    }
    // Recorders r and r + 8 record the same cluster's 50 snapshots, one
    // oldest first, the other newest first: every snapshot arrives twice,
    // half of them out of order.
    let totals: Vec<(u64, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..RECORDERS)
            .map(|r| {
                let mut mine = files[r % CLUSTERS].clone();
                if r >= CLUSTERS {
                    mine.reverse();
                }
                let url = url.clone();
                s.spawn(move || {
                    let mut total = (0, 0);
                    for f in mine {
                        let out = ok(&lockstep(&[
                            "--no-catalog",
                            "--history",
                            &url,
                            "record",
                            f.to_str().unwrap(),
                        ]));
                        let (new, known) = runs_recorded(&out);
                        total.0 += new;
                        total.1 += known;
                    }
                    total
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let new: u64 = totals.iter().map(|t| t.0).sum();
    let known: u64 = totals.iter().map(|t| t.1).sum();
    assert_eq!((new, known), (400, 400));
    let mut c = pg.client("load");
    assert_eq!(count(&mut c, "clusters"), CLUSTERS as i64);
    assert_eq!(count(&mut c, "nodes"), 3 * CLUSTERS as i64);
    assert_eq!(count(&mut c, "runs"), (CLUSTERS * SNAPSHOTS) as i64);
    assert_eq!(
        count(&mut c, "observations"),
        (3 * CLUSTERS * SNAPSHOTS) as i64
    );
    assert_eq!(count(&mut c, "update_sets"), sets.len() as i64);
    assert_eq!(sets.len(), 6, "{sets:?}");
    // Every run's members and sets read back.
    let json: Value = serde_json::from_str(&ok(&lockstep(&[
        "--history",
        &url,
        "history",
        "load3",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(json["runs"], 50);
    assert_eq!(json["first_run"], "2024-01-01T06:30:00Z");
    assert_eq!(json["as_of"], "2024-02-19T06:30:00Z");
    assert_eq!(json["nodes"][0]["observations"], 50);
    assert_eq!(json["nodes"][0]["collected_at_basis"], "input");
}

#[test]
fn a_recorder_killed_mid_transaction_leaves_the_history_consistent() {
    let pg = PgServer::start();
    let url = pg.create_db("kill");
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = load_snapshot(dir.path(), 0, 0);
    let (second, _) = load_snapshot(dir.path(), 0, 15);
    ok(&lockstep(&[
        "--no-catalog",
        "--history",
        &url,
        "record",
        first.to_str().unwrap(),
    ]));
    let mut c = pg.client("kill");
    let before: Vec<i64> = [
        "runs",
        "observations",
        "update_sets",
        "finding_sets",
        "nodes",
    ]
    .iter()
    .map(|t| count(&mut c, t))
    .collect();
    assert_eq!(before[..3], [1, 3, 2]);

    // Hold a lock the recorder needs last: it inserts its nodes, sets and
    // observations, then waits inside its transaction.
    let mut holder = pg.client("kill");
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")
        .unwrap();
    let mut child = Command::new(BIN)
        .args([
            "--no-catalog",
            "--history",
            &url,
            "record",
            second.to_str().unwrap(),
        ])
        .env_remove("LOCKSTEP_HISTORY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let waiting = "SELECT COUNT(*) FROM pg_stat_activity
        WHERE application_name = 'lockstep' AND wait_event_type = 'Lock' AND xact_start IS NOT NULL";
    let start = Instant::now();
    loop {
        let n: i64 = c.query_one(waiting, &[]).unwrap().get(0);
        if n == 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the recorder never reached the locked table: {:?}",
            child.try_wait()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Its uncommitted rows exist only in its transaction.
    let uncommitted: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE a.application_name = 'lockstep' AND l.locktype = 'relation'
               AND l.relation = 'observations'::regclass AND l.mode = 'RowExclusiveLock'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        uncommitted, 1,
        "the recorder had not written its observations yet"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    tx.rollback().unwrap();
    // The server notices the dead client once the lock is free, and rolls
    // its transaction back.
    let start = Instant::now();
    loop {
        let n: i64 = c
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'lockstep'",
                &[],
            )
            .unwrap()
            .get(0);
        if n == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the killed recorder's session stayed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let after: Vec<i64> = [
        "runs",
        "observations",
        "update_sets",
        "finding_sets",
        "nodes",
    ]
    .iter()
    .map(|t| count(&mut c, t))
    .collect();
    assert_eq!(after, before);
    // Every stored run and observation is whole and readable.
    let orphans: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM observations o LEFT JOIN update_sets s ON s.id = o.update_set
             WHERE o.update_set IS NOT NULL AND s.id IS NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(orphans, 0);
    // Recording again completes.
    let out = ok(&lockstep(&[
        "--no-catalog",
        "--history",
        &url,
        "record",
        second.to_str().unwrap(),
    ]));
    assert_eq!(runs_recorded(&out), (1, 0));
    assert_eq!(count(&mut c, "runs"), 2);
    assert_eq!(count(&mut c, "observations"), 6);
    let json: Value = serde_json::from_str(&ok(&lockstep(&[
        "--history",
        &url,
        "history",
        "LOAD0",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(json["runs"], 2);
}

fn tables(c: &mut postgres::Client) -> Vec<String> {
    c.query(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[test]
fn foreign_and_newer_databases_are_refused_and_left_as_they_were() {
    let pg = PgServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (snap, _) = load_snapshot(dir.path(), 1, 0);
    let snap = snap.to_str().unwrap();

    let foreign = pg.create_db("grafana");
    let mut c = pg.client("grafana");
    c.batch_execute("CREATE TABLE dashboard (id INT PRIMARY KEY, title TEXT); INSERT INTO dashboard VALUES (1, 'Hyper-V')")
        .unwrap();
    for args in [
        vec!["--no-catalog", "--history", &foreign, "record", snap],
        vec![
            "--no-catalog",
            "--history",
            &foreign,
            "check",
            "--record",
            snap,
        ],
        vec!["--history", &foreign, "history"],
    ] {
        let o = lockstep(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains(&format!(
                "PostgreSQL lockstep@127.0.0.1:{}/grafana is not a lockstep history (the database holds the tables dashboard of another application); it was not modified",
                pg.port
            )),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(tables(&mut c), ["dashboard"]);
    let title: String = c
        .query_one("SELECT title FROM dashboard", &[])
        .unwrap()
        .get(0);
    assert_eq!(title, "Hyper-V");

    // A reader does not create a history in an empty database.
    let empty = pg.create_db("empty");
    let o = lockstep(&["--history", &empty, "history"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no history at PostgreSQL lockstep@127.0.0.1"),
        "{}",
        stderr(&o)
    );
    assert!(tables(&mut pg.client("empty")).is_empty());

    let newer = pg.create_db("newer");
    ok(&lockstep(&[
        "--no-catalog",
        "--history",
        &newer,
        "record",
        snap,
    ]));
    let mut c = pg.client("newer");
    c.batch_execute("UPDATE lockstep_meta SET schema_version = 7")
        .unwrap();
    let (later, _) = load_snapshot(dir.path(), 1, 1);
    let o = lockstep(&[
        "--no-catalog",
        "--history",
        &newer,
        "record",
        later.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "has history schema version 7, newer than this lockstep knows (1); it was not modified"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(count(&mut c, "runs"), 1);
    let v: i64 = c
        .query_one("SELECT schema_version FROM lockstep_meta", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, 7);
}
