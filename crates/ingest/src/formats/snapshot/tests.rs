//! Tests of the snapshot reader.

use super::locator::Cursor;
use super::locator::trim_start;
use super::node::{civil_date, trim};
use super::protection::exclusions;
use super::*;
use jiff::civil::Date;
use lockstep_model::inventory::SharedStr;
use lockstep_model::protection::{ExclusionList, SectionStatus};
use lockstep_model::snapshot::ListOrText;
use lockstep_model::{Cluster, KbId, Node};

const HVCLU22: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/snapshot/hvclu22.json"
));

fn minimal(node_extra: &str) -> String {
    format!(
        r#"{{
  "schema": "lockstep-snapshot/1",
  "collectedAt": "2023-12-14T09:30:00Z",
  "collector": {{"version": "1.0.0", "host": "HV01", "elevated": true}},
  "clusters": [{{"name": "C", "nodes": [{{
    "name": "HV01",
    "os": {{"status": "ok", "data": {{"caption": "Microsoft Windows Server 2019 Datacenter", "version": "10.0.17763", "build": 17763, "ubr": 5206, "architecture": "AMD64"}}}},
    "hotfixes": {{"status": "ok", "data": [{{"hotFixId": "KB5033371", "description": "Security Update", "installedOn": "2023-12-13"}}, {{"hotFixId": "File 1"}}]}}{node_extra}
  }}]}}]
}}"#
    )
}

fn clusters(s: &str) -> Vec<Cluster> {
    match parse(&Text::new("s.json", s)) {
        Ok(FileContent::Clusters(c)) => c,
        Ok(_) => panic!("not clusters"),
        Err(e) => panic!("{e}"),
    }
}

fn node(s: &str) -> Node {
    clusters(s).remove(0).nodes.remove(0)
}

#[test]
fn detects_snapshots_only() {
    assert!(detect(HVCLU22));
    assert!(detect(&minimal("")));
    assert!(detect("\u{FEFF}{\"schema\": \"lockstep-snapshot/2\"}"));
    assert!(!detect("[{\"HotFixID\": \"KB5033118\"}]"));
    assert!(!detect("{\"schema\": \"other/1\"}"));
    assert!(!detect("Host Name: HV01\n\"schema\" lockstep-snapshot/1"));
    let sorted = format!(
        "{{\"clusters\": [{}], \"schema\": \"lockstep-snapshot/1\"}}",
        " ".repeat(2000)
    );
    assert!(detect(&sorted));
    assert!(!detect(&sorted.replace("lockstep-snapshot/1", "x")));
    assert_eq!(tail("aé", 1), "");
    assert_eq!(tail("aé", 2), "é");
}

#[test]
fn minimal_snapshot_converts() {
    let n = node(&minimal(""));
    assert_eq!(n.name, "HV01");
    assert_eq!(n.cluster.as_deref(), Some("C"));
    assert_eq!(
        n.os.version
            .as_ref()
            .map(|v| v.value.to_string())
            .as_deref(),
        Some("10.0.17763.5206")
    );
    assert_eq!(
        n.os.architecture.as_ref().map(|a| a.value.as_str()),
        Some("x64")
    );
    assert_eq!(n.updates.len(), 1);
    assert_eq!(n.updates[0].kb, KbId(5033371));
    assert_eq!(
        n.updates[0].installed_on,
        Some(jiff::civil::date(2023, 12, 13))
    );
    assert_eq!(n.updates[0].source.line, 8);
    assert_eq!(n.other_entries.len(), 1);
    assert_eq!(n.other_entries[0].text, "File 1");
    assert!(n.unread.is_empty());
    assert!(n.state.is_none() && n.vms.is_none() && n.protection.defender_preferences.is_none());
}

#[test]
fn invalid_json_names_line_column_and_format() {
    let broken = "{\n  \"schema\": \"lockstep-snapshot/1\",\n  \"clusters\": [\n    {,\n  ]\n}";
    let e = parse(&Text::new("b.json", broken)).unwrap_err();
    assert_eq!(e.path, "b.json");
    assert_eq!(e.line, 4);
    assert!(
        e.expected.starts_with(
            "a lockstep snapshot (schema lockstep-snapshot/1): valid JSON at column 6"
        ),
        "{}",
        e.expected
    );
}

#[test]
fn wrong_version_is_a_clear_error() {
    let doc = minimal("").replace("lockstep-snapshot/1", "lockstep-snapshot/2");
    let e = parse(&Text::new("v2.json", doc)).unwrap_err();
    assert_eq!(e.line, 2);
    assert_eq!(e.found.as_deref(), Some("lockstep-snapshot/2"));
    assert!(
        e.expected
            .starts_with("schema lockstep-snapshot/1 (this lockstep reads snapshot version 1")
    );
}

#[test]
fn missing_required_field_is_an_error_with_line() {
    let doc = minimal("").replace(
        "\"caption\": \"Microsoft Windows Server 2019 Datacenter\", ",
        "",
    );
    let e = parse(&Text::new("m.json", doc)).unwrap_err();
    assert_eq!(e.line, 7);
    assert!(
        e.found
            .as_deref()
            .unwrap_or("")
            .contains("missing field `caption`"),
        "{e:?}"
    );
}

/// A Get-HotFix value of the wrong type: the error names the line, the
/// column and serde's words, exactly as the reader before the one model
/// (`c2c19a3`, which read its own copy of the types) worded them.
#[test]
fn hotfix_field_errors_are_worded_exactly() {
    for (from, to, found) in [
        (
            r#""installedOn": "2023-12-13""#,
            r#""installedBy": 3"#,
            "invalid type: integer `3`, expected a string at line 8 column 118",
        ),
        (
            r#""hotFixId": "File 1""#,
            r#""hotFixId": ["File 1"]"#,
            "invalid type: sequence, expected a string at line 8 column 145",
        ),
    ] {
        let doc = minimal("").replace(from, to);
        let e = parse(&Text::new("h.json", doc)).unwrap_err();
        let column = found.rsplit(' ').next().unwrap();
        assert_eq!(
            (e.line, e.expected.as_str(), e.found.as_deref()),
            (
                8,
                format!("a lockstep snapshot (schema lockstep-snapshot/1): fields as schema/snapshot-v1.schema.json defines them at column {column}").as_str(),
                Some(found)
            )
        );
    }
}

/// Description and installer come from the file's interner: one string for
/// every entry that has the value, escaped in the JSON or not; blank is none.
#[test]
fn hotfix_descriptions_and_installers_are_shared() {
    let n = node(&minimal(
        r#", "updateHistory": {"status": "ok", "data": []}"#,
    )
    .replace(
        r#"{"hotFixId": "File 1"}"#,
        r#"{"hotFixId": "KB5032336", "description": "Security Update", "installedBy": "NT AUTHORITY\\SYSTEM"},
           {"hotFixId": "KB5012170", "description": " ", "installedBy": "NT AUTHORITY\\SYSTEM"},
           {"hotFixId": "KB890830", "description": "Security\u0020Update", "installedBy": ""}"#,
    ));
    let got: Vec<(String, Option<&str>, Option<&str>)> = n
        .updates
        .iter()
        .map(|u| {
            (
                u.kb.to_string(),
                u.description.as_deref(),
                u.installed_by.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("KB5033371".into(), Some("Security Update"), None),
            (
                "KB5032336".into(),
                Some("Security Update"),
                Some("NT AUTHORITY\\SYSTEM")
            ),
            ("KB5012170".into(), None, Some("NT AUTHORITY\\SYSTEM")),
            ("KB890830".into(), Some("Security Update"), None),
        ]
    );
    let u = &n.updates;
    let same = |a: &Option<SharedStr>, b: &Option<SharedStr>| {
        SharedStr::ptr_eq(a.as_ref().unwrap(), b.as_ref().unwrap())
    };
    assert!(same(&u[0].description, &u[1].description));
    assert!(same(&u[0].description, &u[3].description));
    assert!(same(&u[1].installed_by, &u[2].installed_by));
}

#[test]
fn bad_os_version_is_an_error() {
    let doc = minimal("").replace("\"10.0.17763\"", "\"ten\"");
    let e = parse(&Text::new("o.json", doc)).unwrap_err();
    assert_eq!((e.line, e.found.as_deref()), (7, Some("ten")));
}

#[test]
fn unread_sections_are_recorded_not_treated_as_empty() {
    let doc = minimal(
            r#",
    "vms": {"status": "notAvailable", "message": "The Hyper-V module is not available on this computer."},
    "memory": {"status": "ok"},
    "packages": {"status": "accessDenied", "message": "The requested operation requires elevation."}"#,
        )
        .replace(
            r#""hotfixes": {"status": "ok", "data": [{"hotFixId": "KB5033371", "description": "Security Update", "installedOn": "2023-12-13"}, {"hotFixId": "File 1"}]}"#,
            r#""hotfixes": {"status": "error", "message": "RPC server unavailable"}"#,
        );
    let n = node(&doc);
    assert!(n.updates.is_empty() && n.vms.is_none() && n.memory.is_none() && n.packages.is_none());
    let got: Vec<(&str, SectionStatus, Option<&str>)> = n
        .unread
        .iter()
        .map(|u| (u.section.as_str(), u.status, u.message.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "hotfixes",
                SectionStatus::Error,
                Some("RPC server unavailable")
            ),
            (
                "packages",
                SectionStatus::AccessDenied,
                Some("The requested operation requires elevation.")
            ),
            (
                "memory",
                SectionStatus::Error,
                Some("the section is marked ok but carries no data")
            ),
            (
                "vms",
                SectionStatus::NotAvailable,
                Some("The Hyper-V module is not available on this computer.")
            ),
        ]
    );
    assert_eq!(n.unread("hotfixes").map(|u| u.source.line), Some(8));
}

#[test]
fn history_replay_adds_net_installed_kbs_only() {
    let doc = minimal(
        r#",
    "updateHistory": {"status": "ok", "data": [
      {"title": "Update (KB4000002)", "date": "2023-12-02T00:00:00Z", "operation": "Uninstallation", "resultCode": "Succeeded"},
      {"title": "Update (KB4000003)", "date": "2023-12-01T00:00:00Z", "operation": "Installation", "resultCode": "Failed"},
      {"title": "Update (KB4000002)", "date": "2023-11-02T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"},
      {"title": "2023-12 Cumulative Update (KB5033371)", "date": "2023-12-13T02:00:00Z", "operation": "Installation", "resultCode": "Succeeded"},
      {"title": "Update (KB4000001)", "date": "2023-10-02T00:00:00.1234567Z", "operation": "Installation", "resultCode": "SucceededWithErrors"},
      {"title": "Definition update without a KB", "date": "2023-10-01T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"}
    ]}"#,
    );
    let n = node(&doc);
    let kbs: Vec<String> = n.updates.iter().map(|u| u.kb.to_string()).collect();
    assert_eq!(kbs, ["KB5033371", "KB4000001"]);
    // The hotfix entry wins over the history entry for the same KB.
    assert_eq!(n.updates[0].description.as_deref(), Some("Security Update"));
    assert_eq!(
        n.updates[1].description.as_deref(),
        Some("Update (KB4000001)")
    );
    assert_eq!(
        n.updates[1].installed_on,
        Some(jiff::civil::date(2023, 10, 2))
    );
    assert_eq!(n.updates[1].source.line, 14);
    // KB4000003's install failed and nothing installed it later.
    let failed: Vec<(String, &str, u32)> = n
        .failed_installs
        .iter()
        .map(|f| (f.kb.to_string(), f.result.as_str(), f.source.line))
        .collect();
    assert_eq!(failed, [("KB4000003".to_string(), "Failed", 11)]);
    assert_eq!(
        n.failed_installs[0].date,
        Some(jiff::civil::date(2023, 12, 1))
    );
}

#[test]
fn a_failed_install_followed_by_a_successful_one_is_not_kept() {
    let doc = minimal(
        r#",
    "updateHistory": {"status": "ok", "data": [
      {"title": "Update (KB4000003)", "date": "2023-12-02T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"},
      {"title": "Update (KB4000003)", "date": "2023-12-01T00:00:00Z", "operation": "Installation", "resultCode": "Failed"},
      {"title": "Update (KB4000004)", "date": "2023-12-03T00:00:00Z", "operation": "Installation", "resultCode": "Aborted"},
      {"title": "Update (KB4000004)", "date": "2023-12-01T00:00:00Z", "operation": "Installation", "resultCode": "Succeeded"}
    ]}"#,
    );
    let n = node(&doc);
    let failed: Vec<String> = n.failed_installs.iter().map(|f| f.kb.to_string()).collect();
    assert_eq!(failed, ["KB4000004"]);
}

#[test]
fn exclusion_lists_redacted_null_and_single_text() {
    assert_eq!(exclusions(&None), ExclusionList::Items(vec![]));
    let hidden = "{N/A: Must be and administrator to view exclusions}".to_string();
    assert_eq!(
        exclusions(&Some(ListOrText::Text(hidden.clone()))),
        ExclusionList::Redacted(hidden.clone())
    );
    assert_eq!(
        exclusions(&Some(ListOrText::List(vec![
            "N/A: Must be and administrator to view exclusions".into()
        ]))),
        ExclusionList::Redacted(hidden)
    );
    assert_eq!(
        exclusions(&Some(ListOrText::Text("C:\\ClusterStorage".into()))),
        ExclusionList::Items(vec!["C:\\ClusterStorage".into()])
    );
    assert_eq!(
        exclusions(&Some(ListOrText::List(vec![
            ".vhdx".into(),
            ".avhdx".into()
        ]))),
        ExclusionList::Items(vec![".vhdx".into(), ".avhdx".into()])
    );
}

#[test]
fn compressed_json_puts_every_fact_on_line_one() {
    let value: serde_json::Value = serde_json::from_str(HVCLU22).unwrap();
    let compact = serde_json::to_string(&value).unwrap();
    let c = clusters(&compact);
    assert_eq!(c[0].nodes.len(), 3);
    assert!(
        c[0].nodes
            .iter()
            .all(|n| n.updates.iter().all(|u| u.source.line == 1))
    );
}

/// On one-line text the cursor answers without searching, and gives
/// what the search gives (found or not, with or without a final newline).
#[test]
fn one_line_cursor_matches_the_search() {
    let value: serde_json::Value = serde_json::from_str(HVCLU22).unwrap();
    let compact = serde_json::to_string(&value).unwrap();
    for text in [compact.clone(), format!("{compact}\n")] {
        let fast = Locator::new(&text);
        assert!(fast.one_line);
        let mut slow = Locator::new(&text);
        slow.one_line = false;
        for (key, values) in [
            (
                "hotFixId",
                vec!["KB5032198", "KB5033118", "nope", "KB5032198"],
            ),
            ("name", vec!["HV22-02", "HV22-01", "missing"]),
        ] {
            for section in [0, 10, text.len()] {
                let mut a = Cursor::new(&fast, key, section, section, text.len());
                let mut b = Cursor::new(&slow, key, section, section, text.len());
                for v in &values {
                    assert_eq!(a.line_of(v), b.line_of(v), "{key} {v} {section}");
                }
            }
        }
    }
    assert!(!Locator::new(HVCLU22).one_line);
    assert!(!Locator::new("{\n}").one_line);
}

#[test]
fn locator_lines() {
    let text = "{\n  \"a\": \"x\",\n  \"b\" : \"x\",\n  \"a\":\"y\"\n}";
    let loc = Locator::new(text);
    assert_eq!(
        loc.find_pair(0, text.len(), &Key::new("a"), "y")
            .map(|o| loc.line(o)),
        Some(4)
    );
    assert_eq!(
        loc.find_pair(0, text.len(), &Key::new("b"), "x")
            .map(|o| loc.line(o)),
        Some(3)
    );
    assert_eq!(loc.find_pair(0, text.len(), &Key::new("c"), "x"), None);
    assert_eq!(loc.line_of_key(0, text.len(), &Key::new("b")), 3);
    assert_eq!(
        loc.find_pair(0, 10_000, &Key::new("a"), "x")
            .map(|o| loc.line(o)),
        Some(2)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    /// The shortcuts trim exactly as `str` does.
    #[test]
    fn trims_match_str(s in "[ \t\n\u{a0}\u{3000}a-z:\"\u{e9}]{0,6}") {
        proptest::prop_assert_eq!(trim(&s), s.trim());
        proptest::prop_assert_eq!(trim_start(&s), s.trim_start());
    }

    /// The digit fast path gives what jiff's parser gives.
    #[test]
    fn civil_date_matches_jiff(y in 0u32..10_000, m in 0u32..14, d in 0u32..33, rest in "(|T00:00:00Z| |x)") {
        let s = format!("{y:04}-{m:02}-{d:02}{rest}");
        let jiff: Option<Date> = s.trim().get(..10).and_then(|p| p.parse().ok());
        proptest::prop_assert_eq!(civil_date(&s), jiff);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Truncated or corrupted snapshots give an error or clusters, never a panic.
    #[test]
    fn damaged_snapshot_never_panics(cut in 0usize..70_000, at in 0usize..70_000, junk in "[\\x00-\\x7f\u{e9}\u{4e2d}]{0,8}") {
        let mut s: String = HVCLU22.chars().take(cut).collect();
        let at = s.char_indices().map(|(i, _)| i).nth(at % (s.chars().count() + 1)).unwrap_or(s.len());
        s.insert_str(at, &junk);
        let _ = parse(&Text::new("p.json", s.as_str()));
        let _ = detect(&s);
    }
}

#[test]
fn garbage_never_panics() {
    for s in [
        "",
        "{",
        "{\"schema\": \"lockstep-snapshot/1\"}",
        "{\"schema\": 1}",
        "{\"schema\": \"lockstep-snapshot/1\", \"collectedAt\": \"x\", \"collector\": {\"version\": \"1\", \"host\": \"h\", \"elevated\": true}, \"clusters\": [{\"name\": \"c\", \"nodes\": [{\"name\": \"n\", \"os\": {\"status\": \"ok\"}, \"hotfixes\": {\"status\": \"weird\"}}]}]}",
    ] {
        let _ = parse(&Text::new("g.json", s));
    }
}
