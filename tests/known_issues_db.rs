//! What every shipped known issue matches, exactly, through the public API
//! the check stage uses.

use jiff::Timestamp;
use jiff::civil::date;
use lockstep_catalog::known_issues::{Kind, KnownIssue, KnownIssues, Origin, VerdictKind};
use lockstep_model::{KbId, WinVersion};

fn kb(n: u32) -> KbId {
    KbId(n)
}

fn v(s: &str) -> WinVersion {
    s.parse().expect("test version")
}

fn ids(issues: &[&KnownIssue]) -> Vec<String> {
    issues.iter().map(|i| i.id.clone()).collect()
}

/// (issue id, verdict) for an edge on a product, or None.
fn verdict(
    db: &KnownIssues,
    newer: u32,
    older: u32,
    product: &str,
) -> Option<(String, VerdictKind)> {
    db.supersedence_verdict(kb(newer), kb(older), product)
        .map(|(issue, v)| (issue.id.clone(), v.verdict))
}

#[test]
fn builtin_ids_kinds_and_severities() {
    let db = KnownIssues::builtin();
    let rows: Vec<(String, Kind, String)> = db
        .all()
        .iter()
        .map(|i| (i.id.clone(), i.kind(), i.severity.to_string()))
        .collect();
    let expected: Vec<(String, Kind, String)> = [
        ("LOCKSTEP-2011-0001", Kind::Supersedence, "warning"),
        ("LOCKSTEP-2011-0002", Kind::Antivirus, "error"),
        ("LOCKSTEP-2014-0001", Kind::Supersedence, "info"),
        ("LOCKSTEP-2016-0001", Kind::Supersedence, "warning"),
        ("LOCKSTEP-2016-0002", Kind::Supersedence, "warning"),
        ("LOCKSTEP-2016-0003", Kind::Supersedence, "warning"),
        ("LOCKSTEP-2022-0001", Kind::Antivirus, "warning"),
        ("LOCKSTEP-2024-0001", Kind::Antivirus, "error"),
        ("LOCKSTEP-2026-0001", Kind::Antivirus, "warning"),
    ]
    .iter()
    .map(|(id, k, s)| (id.to_string(), *k, s.to_string()))
    .collect();
    assert_eq!(rows, expected);
    for issue in db.all() {
        assert!(matches!(issue.origin, Origin::Builtin(_)), "{}", issue.id);
        assert!(!issue.references.is_empty(), "{}", issue.id);
        assert!(!issue.description.is_empty(), "{}", issue.id);
        assert!(!issue.fix_steps.is_empty(), "{}", issue.id);
    }
}

#[test]
fn kb2616676_over_kb2607712_is_intended_on_vista_7_2008_and_2008_r2() {
    let db = KnownIssues::builtin();
    for product in [
        "Windows Server 2008 R2 Service Pack 1",
        "Windows Server 2008 R2",
        "Windows 7 Service Pack 1",
        "Windows 7",
        "Windows Server 2008 Service Pack 2",
        "Windows Vista Service Pack 2",
    ] {
        assert_eq!(
            verdict(&db, 2616676, 2607712, product),
            Some(("LOCKSTEP-2011-0001".into(), VerdictKind::Intended)),
            "{product}"
        );
    }
}

#[test]
fn kb2616676_over_kb2607712_is_incomplete_on_xp_and_2003_until_the_rerelease() {
    let db = KnownIssues::builtin();
    for product in [
        "Windows Server 2003 Service Pack 2",
        "Windows Server 2003 x64 Edition Service Pack 2",
        "Windows Server 2003 R2 Service Pack 2",
        "Windows XP Service Pack 3",
        "Windows XP Professional x64 Edition Service Pack 2",
    ] {
        let (issue, v) = db
            .supersedence_verdict(kb(2616676), kb(2607712), product)
            .unwrap_or_else(|| panic!("no verdict on {product}"));
        assert_eq!(issue.id, "LOCKSTEP-2011-0001");
        assert_eq!(v.verdict, VerdictKind::Incomplete, "{product}");
        assert_eq!(v.until, Some(date(2011, 9, 19)));
        assert_eq!(v.fixed_by, None);
        assert!(v.note.contains("KB2524375"), "{}", v.note);
    }
}

#[test]
fn kb2616676_has_no_verdict_elsewhere_or_in_the_other_direction() {
    let db = KnownIssues::builtin();
    assert_eq!(verdict(&db, 2616676, 2607712, "Windows Server 2022"), None);
    assert_eq!(
        verdict(&db, 2616676, 2607712, "Windows Server 2012 R2"),
        None
    );
    assert_eq!(
        verdict(
            &db,
            2607712,
            2616676,
            "Windows Server 2008 R2 Service Pack 1"
        ),
        None
    );
    assert_eq!(
        verdict(&db, 2616676, 2524375, "Windows Server 2003 Service Pack 2"),
        None
    );
}

#[test]
fn november_2016_rollups_superseding_security_only_are_wrong_per_product() {
    let db = KnownIssues::builtin();
    let cases = [
        (
            "LOCKSTEP-2016-0001",
            3197868,
            [3197867, 3192391],
            [
                "Windows 7 Service Pack 1",
                "Windows Server 2008 R2 Service Pack 1",
            ],
        ),
        (
            "LOCKSTEP-2016-0002",
            3197874,
            [3197873, 3192392],
            ["Windows 8.1", "Windows Server 2012 R2"],
        ),
        (
            "LOCKSTEP-2016-0003",
            3197877,
            [3197876, 3192393],
            ["Windows Server 2012", "Windows Server 2012"],
        ),
    ];
    for (id, newer, olders, products) in cases {
        for older in olders {
            for product in products {
                let (issue, v) = db
                    .supersedence_verdict(kb(newer), kb(older), product)
                    .unwrap_or_else(|| panic!("no verdict KB{newer}->KB{older} on {product}"));
                assert_eq!(issue.id, id);
                assert_eq!(v.verdict, VerdictKind::Wrong);
                assert_eq!(v.until, Some(date(2016, 12, 13)));
            }
        }
    }
    // Per product: the 2012 rollup says nothing about 2012 R2, nor the 8.1
    // rollup about Windows 7.
    assert_eq!(
        verdict(&db, 3197877, 3197876, "Windows Server 2012 R2"),
        None
    );
    assert_eq!(
        verdict(&db, 3197874, 3197873, "Windows 7 Service Pack 1"),
        None
    );
    assert_eq!(verdict(&db, 3197868, 3197867, "Windows 8.1"), None);
    // Rollup-to-rollup supersedence is not an issue.
    assert_eq!(
        verdict(&db, 3197868, 3185330, "Windows 7 Service Pack 1"),
        None
    );
}

#[test]
fn kb2972100_covers_kb2633873_and_kb2539635_and_misses_the_edge_to_kb2478662() {
    let db = KnownIssues::builtin();
    for product in [
        "Windows Server 2008 R2 Service Pack 1",
        "Windows 7 Service Pack 1",
    ] {
        assert_eq!(
            verdict(&db, 2972100, 2633873, product),
            Some(("LOCKSTEP-2014-0001".into(), VerdictKind::Intended))
        );
        assert_eq!(
            verdict(&db, 2972100, 2539635, product),
            Some(("LOCKSTEP-2014-0001".into(), VerdictKind::Intended))
        );
        assert_eq!(
            verdict(&db, 2972100, 2478662, product),
            Some(("LOCKSTEP-2014-0001".into(), VerdictKind::Missing))
        );
    }
    assert_eq!(
        verdict(&db, 2972100, 2478662, "Windows Server 2012 R2"),
        None
    );
}

#[test]
fn edges_the_database_asserts_exclude_wrong_ones() {
    let db = KnownIssues::builtin();
    let edges: Vec<(String, KbId, KbId)> = db
        .supersedence_edges()
        .map(|(issue, newer, older)| (issue.id.clone(), newer, older))
        .collect();
    assert_eq!(
        edges,
        vec![
            ("LOCKSTEP-2011-0001".to_string(), kb(2616676), kb(2607712)),
            ("LOCKSTEP-2014-0001".to_string(), kb(2972100), kb(2633873)),
            ("LOCKSTEP-2014-0001".to_string(), kb(2972100), kb(2539635)),
            ("LOCKSTEP-2014-0001".to_string(), kb(2972100), kb(2478662)),
        ]
    );
    // With the verdict behind each: KB2616676 -> KB2607712 is asserted for
    // both product groups (intended and incomplete).
    let asserted: Vec<(String, u32, u32, VerdictKind, usize)> = db
        .asserted_edges()
        .iter()
        .map(|e| {
            (
                e.issue.id.clone(),
                e.newer.0,
                e.older.0,
                e.verdict.verdict,
                e.verdict.products.len(),
            )
        })
        .collect();
    assert_eq!(
        asserted,
        vec![
            (
                "LOCKSTEP-2011-0001".to_string(),
                2616676,
                2607712,
                VerdictKind::Intended,
                4
            ),
            (
                "LOCKSTEP-2011-0001".to_string(),
                2616676,
                2607712,
                VerdictKind::Incomplete,
                3
            ),
            (
                "LOCKSTEP-2014-0001".to_string(),
                2972100,
                2633873,
                VerdictKind::Intended,
                2
            ),
            (
                "LOCKSTEP-2014-0001".to_string(),
                2972100,
                2539635,
                VerdictKind::Intended,
                2
            ),
            (
                "LOCKSTEP-2014-0001".to_string(),
                2972100,
                2478662,
                VerdictKind::Missing,
                2
            ),
        ]
    );
}

#[test]
fn mcafee_vse_88_patch1_and_87_match_by_product_vendor_and_version() {
    let db = KnownIssues::builtin();
    let m = |name: &str, vendor: Option<&str>, version: Option<&str>| {
        let version = version.map(v);
        ids(&db.antivirus_matches(name, vendor, version.as_ref()))
    };
    let hit = vec!["LOCKSTEP-2011-0002".to_string()];
    assert_eq!(
        m(
            "McAfee VirusScan Enterprise",
            Some("McAfee, Inc."),
            Some("8.8.0.849")
        ),
        hit
    );
    assert_eq!(
        m("McAfee  virusscan   ENTERPRISE", None, Some("8.8.0.849")),
        hit
    );
    // 8.7i: every build (Patch 5's version string is not confirmed).
    assert_eq!(
        m(
            "McAfee VirusScan Enterprise",
            Some("McAfee"),
            Some("8.7.0.570")
        ),
        hit
    );
    // Unknown version: possibly affected.
    assert_eq!(
        m("McAfee VirusScan Enterprise", Some("McAfee, Inc."), None),
        hit
    );
    // RTM, Patch 2 and Patch 4 are not this issue.
    assert!(
        m(
            "McAfee VirusScan Enterprise",
            Some("McAfee, Inc."),
            Some("8.8.0.777")
        )
        .is_empty()
    );
    assert!(
        m(
            "McAfee VirusScan Enterprise",
            Some("McAfee, Inc."),
            Some("8.8.0.975")
        )
        .is_empty()
    );
    assert!(
        m(
            "McAfee VirusScan Enterprise",
            Some("McAfee, Inc."),
            Some("8.8.0.1247")
        )
        .is_empty()
    );
    // Other products and vendors.
    assert!(
        m(
            "McAfee Endpoint Security",
            Some("McAfee, LLC"),
            Some("8.8.0.849")
        )
        .is_empty()
    );
    assert!(
        m(
            "VirusScan Enterprise",
            Some("Some Other Vendor"),
            Some("8.8.0.849")
        )
        .is_empty()
    );

    let issue = db.get("LOCKSTEP-2011-0002").expect("shipped");
    let av = issue.antivirus().expect("antivirus");
    assert_eq!(
        av.filters,
        vec!["mfehidk".to_string(), "mfeavfk".to_string()]
    );
    assert_eq!(av.window, None);
    assert!(issue.references.iter().any(|r| r.ends_with("id=KB73596")));
}

#[test]
fn crowdstrike_channel_file_291_matches_sensor_711_and_later_with_its_window() {
    let db = KnownIssues::builtin();
    let m = |version: Option<&str>| {
        let version = version.map(v);
        ids(&db.antivirus_matches(
            "CrowdStrike Windows Sensor",
            Some("CrowdStrike, Inc."),
            version.as_ref(),
        ))
    };
    let hit = vec!["LOCKSTEP-2024-0001".to_string()];
    assert_eq!(m(Some("7.11.18110.0")), hit);
    assert_eq!(m(Some("7.16.18605.0")), hit);
    assert_eq!(m(None), hit);
    assert!(m(Some("7.10.17706.0")).is_empty());
    assert!(m(Some("6.58.16303.0")).is_empty());

    let issue = db.get("LOCKSTEP-2024-0001").expect("shipped");
    let av = issue.antivirus().expect("antivirus");
    let window = av.window.expect("window");
    assert_eq!(
        window.start,
        "2024-07-19T04:09:00Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        window.end,
        "2024-07-19T05:27:00Z".parse::<Timestamp>().unwrap()
    );
    assert!(window.contains("2024-07-19T05:00:00Z".parse().unwrap()));
    assert!(!window.contains("2024-07-19T05:30:00Z".parse().unwrap()));
    assert!(!window.contains("2024-07-19T04:08:59Z".parse().unwrap()));
    assert!(
        issue
            .fix_steps
            .iter()
            .any(|s| s.contains(r"C:\Windows\System32\drivers\CrowdStrike\C-00000291*.sys"))
    );
    assert!(
        issue
            .fix_steps
            .iter()
            .any(|s| s.contains("Safe Mode") && s.contains("Recovery Environment"))
    );
}

#[test]
fn filter_names_map_to_antivirus_issues() {
    let db = KnownIssues::builtin();
    assert_eq!(
        ids(&db.filter_matches("csagent")),
        vec!["LOCKSTEP-2024-0001"]
    );
    assert_eq!(
        ids(&db.filter_matches("CSAgent.sys")),
        vec!["LOCKSTEP-2024-0001"]
    );
    assert_eq!(
        ids(&db.filter_matches("mfehidk")),
        vec!["LOCKSTEP-2011-0002"]
    );
    assert_eq!(
        ids(&db.filter_matches("MFEAVFK")),
        vec!["LOCKSTEP-2011-0002"]
    );
    assert!(db.filter_matches("WdFilter").is_empty());
    assert!(db.filter_matches("csvflt").is_empty());
    assert!(db.filter_matches("").is_empty());
}

#[test]
fn defender_engine_and_platform_cves_match_by_version_only() {
    let db = KnownIssues::builtin();
    let m = |platform: Option<&str>, engine: Option<&str>| {
        let platform = platform.map(v);
        let engine = engine.map(v);
        ids(&db.defender_matches(platform.as_ref(), engine.as_ref()))
    };
    // Engine before 1.1.19100.5 (CVE-2022-24548), platform before
    // 4.18.26040.7 (CVE-2026-45498); the platform folder form is accepted.
    assert_eq!(
        m(Some("4.18.2111-5.0"), Some("1.1.18800.4")),
        vec!["LOCKSTEP-2022-0001", "LOCKSTEP-2026-0001"]
    );
    assert_eq!(
        m(Some("4.18.24090.11"), Some("1.1.24090.11")),
        vec!["LOCKSTEP-2026-0001"]
    );
    assert_eq!(
        m(Some("4.18.26040.7"), Some("1.1.19100.4")),
        vec!["LOCKSTEP-2022-0001"]
    );
    assert!(m(Some("4.18.26040.7"), Some("1.1.19100.5")).is_empty());
    assert!(m(Some("4.18.26090.3"), Some("1.1.26090.1")).is_empty());
    // Unknown versions never match a range.
    assert!(m(None, None).is_empty());
    assert_eq!(m(None, Some("1.1.18800.4")), vec!["LOCKSTEP-2022-0001"]);
    // Defender entries are not matched by installed product name.
    assert!(
        db.antivirus_matches(
            "Microsoft Defender Antivirus",
            Some("Microsoft Corporation"),
            None
        )
        .is_empty()
    );
    let engine = db.get("CVE-2022-24548").expect("alias");
    assert_eq!(engine.id, "LOCKSTEP-2022-0001");
    let av = engine.antivirus().expect("antivirus");
    assert!(av.versions.is_empty());
    assert_eq!(av.defender_platform, None);
    assert_eq!(
        av.defender_engine
            .as_ref()
            .map(|r| r.to_string())
            .as_deref(),
        Some(">= 1.1.0.0, < 1.1.19100.5")
    );
}

#[test]
fn no_shipped_bad_update_entries() {
    let db = KnownIssues::builtin();
    assert!(db.all().iter().all(|i| i.bad_update().is_none()));
    assert!(
        db.bad_updates_for(kb(5033118), "Windows Server 2022")
            .is_empty()
    );
}

#[test]
fn lookup_by_alias() {
    let db = KnownIssues::builtin();
    assert_eq!(
        db.get("McAfee KB73596").map(|i| i.id.as_str()),
        Some("LOCKSTEP-2011-0002")
    );
    assert_eq!(
        db.get("kb5042421").map(|i| i.id.as_str()),
        Some("LOCKSTEP-2024-0001")
    );
    assert_eq!(
        db.get("MSA-2607712").map(|i| i.id.as_str()),
        Some("LOCKSTEP-2011-0001")
    );
    assert!(db.get("LOCKSTEP-1999-0001").is_none());
}

/// The verdicts apply to the names the catalog actually produces: raw MSRC /
/// WES-NG product names through `normalize_product`, and node OS captions and
/// builds through `lockstep_model::windows::product_for`.
#[test]
fn verdicts_apply_to_catalog_normalised_product_names() {
    use lockstep_catalog::normalize_product;
    let servicing_product_for =
        |caption: Option<&str>, build| lockstep_model::windows::product_for(caption, build, None);
    let db = KnownIssues::builtin();
    let raw = |name: &str| normalize_product(name).servicing_name;
    let cases = [
        (
            2616676,
            2607712,
            raw(
                "Windows Server 2008 R2 for x64-based Systems Service Pack 1 (Server Core installation)",
            ),
            Some(VerdictKind::Intended),
        ),
        (
            2616676,
            2607712,
            raw("Windows Server 2008 for Itanium-Based Systems Service Pack 2"),
            Some(VerdictKind::Intended),
        ),
        (
            2616676,
            2607712,
            raw("Windows 7 for 32-bit Systems Service Pack 1"),
            Some(VerdictKind::Intended),
        ),
        (
            2616676,
            2607712,
            raw("Windows Server 2003 x64 Edition Service Pack 2"),
            Some(VerdictKind::Incomplete),
        ),
        (
            2616676,
            2607712,
            raw("Windows XP Professional x64 Edition Service Pack 2"),
            Some(VerdictKind::Incomplete),
        ),
        (
            3197877,
            3197876,
            raw("Windows Server 2012 (Server Core installation)"),
            Some(VerdictKind::Wrong),
        ),
        (
            3197874,
            3192392,
            raw("Windows 8.1 for x64-based systems"),
            Some(VerdictKind::Wrong),
        ),
        (3197874, 3192392, raw("Windows RT 8.1"), None),
        (
            3197868,
            3197867,
            raw("Windows Server 2008 R2 for Itanium-Based Systems Service Pack 1"),
            Some(VerdictKind::Wrong),
        ),
    ];
    for (newer, older, product, expected) in cases {
        assert_eq!(
            db.supersedence_verdict(kb(newer), kb(older), &product)
                .map(|(_, v)| v.verdict),
            expected,
            "KB{newer} -> KB{older} on {product:?}"
        );
    }
    let node = servicing_product_for(Some("Microsoft Windows Server 2008 R2 Enterprise"), 7601)
        .expect("known build");
    assert_eq!(
        verdict(&db, 2616676, 2607712, &node),
        Some(("LOCKSTEP-2011-0001".into(), VerdictKind::Intended))
    );
    let node = servicing_product_for(Some("Microsoft Windows Server 2012 R2 Datacenter"), 9600)
        .expect("known build");
    assert_eq!(
        verdict(&db, 3197874, 3197873, &node),
        Some(("LOCKSTEP-2016-0002".into(), VerdictKind::Wrong))
    );
    assert_eq!(verdict(&db, 3197877, 3197876, &node), None);
}

#[test]
fn incomplete_verdict_holds_only_before_the_rerelease() {
    let db = KnownIssues::builtin();
    let (_, v) = db
        .supersedence_verdict(
            kb(2616676),
            kb(2607712),
            "Windows Server 2003 Service Pack 2",
        )
        .expect("verdict");
    assert!(v.holds_on(date(2011, 9, 13)));
    assert!(v.holds_on(date(2011, 9, 18)));
    assert!(!v.holds_on(date(2011, 9, 19)));
    assert!(!v.holds_on(date(2012, 1, 1)));
    let (_, v) = db
        .supersedence_verdict(
            kb(2616676),
            kb(2607712),
            "Windows Server 2008 R2 Service Pack 1",
        )
        .expect("verdict");
    assert!(v.holds_on(date(2030, 1, 1)));
}
