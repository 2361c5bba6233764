//! The scripted scenario, recorded into SQLite and into PostgreSQL: day 1
//! all nodes equal; day 3 one node gets December's cumulative update; day 9
//! the others follow; day 12 a node falls back (the update uninstalled).
//! `lockstep history` must report exactly those events and durations, and
//! the same bytes from both stores.

mod support;

use support::Level::{December as Dec, November as Nov};
use support::postgres::PgServer;
use support::{december_catalog, lockstep, ok, ws2022_day};

const EXPECTED_TEXT: &str = "\
History of cluster ws2022-behind: 4 run(s) from 2023-12-01 to 2023-12-12
Out of step since 2023-12-12 (0 days)
Catalog of the last run: 1 document(s), newest cvrf:2023-Dec released 2023-12-21

Nodes
  HVS01: observed 2023-12-01 to 2023-12-12 (4 observation(s)), OS build 10.0.20348, time from file-modified
  HVS02: observed 2023-12-01 to 2023-12-12 (4 observation(s)), OS build 10.0.20348, time from file-modified
  HVS03: observed 2023-12-01 to 2023-12-12 (4 observation(s)), OS build 10.0.20348, time from file-modified

Out of step (time to converge)
  2023-12-03 → 2023-12-09: 6 days
  2023-12-12 → (still): 0 days, not converged yet

Drift
  KB5032198: 2023-12-03 → 2023-12-09 (6 days); present on HVS02, HVS03, absent on HVS01; removed everywhere
  KB5033118: 2023-12-03 → 2023-12-09 (6 days); present on HVS01, absent on HVS02, HVS03; installed everywhere
  KB5032198: 2023-12-12 → (still) (0 days); present on HVS02, absent on HVS01, HVS03; still open
  KB5033118: 2023-12-12 → (still) (0 days); present on HVS01, HVS03, absent on HVS02; still open

Updates that differed: first and last seen installed
  KB5032198
    HVS01: 2023-12-01 to 2023-12-01, not installed now
    HVS02: 2023-12-01 to 2023-12-12, installed
    HVS03: 2023-12-01 to 2023-12-03, not installed now
  KB5033118
    HVS01: 2023-12-03 to 2023-12-12, installed
    HVS02: 2023-12-09 to 2023-12-09, not installed now
    HVS03: 2023-12-09 to 2023-12-12, installed

Behind the cluster's newest cumulative update
  HVS02 lacked KB5033118: 2023-12-03 → 2023-12-09 (6 days)
  HVS03 lacked KB5033118: 2023-12-03 → 2023-12-09 (6 days)
  HVS02 lacked KB5033118: 2023-12-12 → (still) (0 days)
";

const EXPECTED_EVENTS: &str = "
Events
  2023-12-03  nodes out of step
  2023-12-03  KB5032198 differs: absent on HVS01
  2023-12-03  KB5033118 differs: absent on HVS02, HVS03
  2023-12-03  HVS02 fell behind the cluster's newest cumulative update KB5033118
  2023-12-03  HVS03 fell behind the cluster's newest cumulative update KB5033118
  2023-12-09  nodes in step again after 6 days
  2023-12-09  KB5032198 removed from every node after 6 days
  2023-12-09  KB5033118 on every node after 6 days
  2023-12-09  HVS02 no longer lacks KB5033118, after 6 days
  2023-12-09  HVS03 no longer lacks KB5033118, after 6 days
  2023-12-12  nodes out of step
  2023-12-12  KB5032198 differs: absent on HVS01, HVS03
  2023-12-12  KB5033118 differs: absent on HVS02
  2023-12-12  HVS02 fell behind the cluster's newest cumulative update KB5033118
";

#[test]
fn sqlite_and_postgresql_tell_the_same_history_byte_for_byte() {
    let pg = PgServer::start();
    let url = pg.create_db("scenario");
    let dir = tempfile::tempdir().unwrap();
    let cat = december_catalog(dir.path());
    let sqlite = dir.path().join("history.sqlite3").display().to_string();
    let stores = [sqlite.as_str(), url.as_str()];
    let days = [
        (1, [Nov, Nov, Nov]),
        (3, [Dec, Nov, Nov]),
        (9, [Dec, Dec, Dec]),
        (12, [Dec, Nov, Dec]),
    ];
    for (day, levels) in days {
        let cluster = ws2022_day(dir.path(), day, levels);
        for store in stores {
            let out = ok(&lockstep(&[
                "--catalog",
                &cat,
                "--history",
                store,
                "record",
                cluster.to_str().unwrap(),
            ]));
            assert!(
                out.starts_with("recorded 1 run(s) of 1 cluster(s) (0 already recorded), 3 node observation(s) (0 already recorded), "),
                "{out}"
            );
        }
    }
    let history = |store: &str, extra: &[&str]| -> Vec<u8> {
        let mut args = vec!["--history", store, "history", "ws2022-behind"];
        args.extend_from_slice(extra);
        let o = lockstep(&args);
        ok(&o);
        o.stdout
    };
    for format in ["text", "json", "html"] {
        let a = history(&sqlite, &["--format", format]);
        let b = history(&url, &["--format", format]);
        assert!(a == b, "{format} differs between SQLite and PostgreSQL");
    }
    let text = String::from_utf8(history(&sqlite, &[])).unwrap();
    assert!(text.starts_with(EXPECTED_TEXT), "{text}");
    assert!(text.ends_with(EXPECTED_EVENTS), "{text}");
    // The check's findings were recorded: the first run had none about drift.
    assert!(text.contains(
        "  error [update-drift-missing] KB5033118 absent on HVS02, HVS03 (missing): first 2023-12-03, last 2023-12-03\n"
    ), "{text}");
    assert!(text.contains(
        "  error [update-drift-missing] KB5033118 absent on HVS02 (missing): first 2023-12-12, last 2023-12-12, still reported\n"
    ), "{text}");

    let json: serde_json::Value =
        serde_json::from_slice(&history(&url, &["--format", "json"])).unwrap();
    assert_eq!(json["schema"], "lockstep-history/1");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(support::repo("schema/history-v1.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(json["out_of_step_since"]["at"], "2023-12-12T08:00:00Z");
    let periods: Vec<(String, String, i64)> = json["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["start"].as_str().unwrap().to_string(),
                p["end"].as_str().unwrap_or("open").to_string(),
                p["seconds"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        periods,
        [
            (
                "2023-12-03T08:00:00Z".into(),
                "2023-12-09T08:00:00Z".into(),
                6 * 86_400
            ),
            ("2023-12-12T08:00:00Z".into(), "open".into(), 0),
        ]
    );
    assert_eq!(json["timeline"].as_array().unwrap().len(), 4);
    assert_eq!(json["timeline"][1]["nodes"][1]["state"], "behind");

    let html = String::from_utf8(history(&sqlite, &["--format", "html"])).unwrap();
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\""));
    assert!(html.contains("Out of step since 2023-12-12 (0 days)"));
    assert!(
        html.contains("<title>HVS02: behind from 2023-12-03 to 2023-12-09</title>"),
        "{html}"
    );
    // Nothing to fetch: the only URL is the SVG namespace.
    assert_eq!(html.matches("http").count(), 1);
    assert!(!html.contains("<script"));

    // The window: up to day 9 the nodes had converged.
    let until = String::from_utf8(history(&url, &["--until", "2023-12-09"])).unwrap();
    assert!(until.starts_with("History of cluster ws2022-behind: 3 run(s) from 2023-12-01 to 2023-12-09 (window the start to 2023-12-09)\nIn step since 2023-12-09\n"), "{until}");
    let since = String::from_utf8(history(&sqlite, &["--since", "2023-12-10"])).unwrap();
    assert!(since.contains("\nDrift\n  KB5032198: 2023-12-12 → (still) (0 days); present on HVS02, absent on HVS01, HVS03; still open\n  KB5033118: 2023-12-12 → (still) (0 days); present on HVS01, HVS03, absent on HVS02; still open\n\n"), "{since}");
    assert!(since.ends_with("Events\n  2023-12-12  nodes out of step\n  2023-12-12  KB5032198 differs: absent on HVS01, HVS03\n  2023-12-12  KB5033118 differs: absent on HVS02\n  2023-12-12  HVS02 fell behind the cluster's newest cumulative update KB5033118\n"), "{since}");

    // Two days later, not recorded: `check` says since when, from either store.
    let day14 = ws2022_day(dir.path(), 14, [Dec, Nov, Dec]);
    for store in stores {
        let report = lockstep(&[
            "--catalog",
            &cat,
            "--history",
            store,
            "check",
            day14.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&report.stdout);
        assert!(
            text.contains("\nCluster ws2022-behind — 3 node(s), 1 update(s) on every node, 2 differ\nOut of step since 2023-12-12 (2 days), per the history\n"),
            "{text}"
        );
    }
}
