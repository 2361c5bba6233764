//! "Missing" means what Windows Update itself says is missing.
//!
//! The hosts of `tests/fixtures/real/truth/` were captured together with the
//! list of updates Windows Update still offered them (WES-NG's validation
//! set). Each is judged by the real binary against a catalog built from the
//! repository's MSRC CVRF archive (2016–2026, with its real holes) and the
//! WES-NG definitions, as of the capture date, and the reported updates must
//! be exactly the security updates in catalog scope that Windows Update
//! offered. `scripts/truth.sh` prints the same comparison with counts.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn real(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(p)
}

fn import(name: &str, sources: &[PathBuf]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let out = Command::new(BIN)
        .arg("--catalog")
        .arg(&path)
        .args(["catalog", "import"])
        .args(sources)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, path)
}

/// The archive and WES-NG, imported once per test binary.
fn full_catalog() -> &'static Path {
    static CATALOG: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &CATALOG
        .get_or_init(|| {
            import(
                "full.sqlite3",
                &[
                    real("catalog/cvrf-archive/msrc-cvrf-2016-2026.tar.zst"),
                    real("catalog/wesng/definitions.zip"),
                ],
            )
        })
        .1
}

/// A truth host as a user gives it: one folder, its systeminfo and wmic qfe
/// captures named after the host.
fn host_folder(stem: &str, host: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("truth");
    std::fs::create_dir(&cluster).unwrap();
    for part in ["systeminfo", "qfe"] {
        std::fs::copy(
            real(&format!("truth/{stem}_{part}.txt")),
            cluster.join(format!("{host}.{part}.txt")),
        )
        .unwrap();
    }
    dir
}

fn check_json(catalog: &Path, input: &Path, as_of: &str) -> Value {
    let out = Command::new(BIN)
        .arg("--catalog")
        .arg(catalog)
        .args([
            "check",
            "--format",
            "json",
            "--fail-on",
            "never",
            "--as-of",
            as_of,
        ])
        .arg(input)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every chain head reported missing for `node`, over all its products.
fn reported(report: &Value, node: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let postures = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["posture"].as_array().unwrap())
        .chain(report["loose_nodes"].as_array().unwrap());
    for p in postures.filter(|p| p["node"] == node) {
        for product in p["products"].as_array().unwrap() {
            for head in product["missing"].as_array().unwrap() {
                out.insert(head["kb"].as_str().unwrap().to_string());
            }
        }
    }
    out
}

fn set(kbs: &[&str]) -> BTreeSet<String> {
    kbs.iter().map(|s| s.to_string()).collect()
}

#[test]
fn windows_10_1803_with_the_february_2019_cumulative_update_misses_nothing() {
    // Windows Update offered only KB4100347 (a microcode update, not a
    // security update) and a Defender definition.
    let dir = host_folder(
        "wesng__10_1803_x64_proforworkstations_en-us_A_20190305",
        "DESKTOP-OOF6NB5",
    );
    let report = check_json(full_catalog(), &dir.path().join("truth"), "2019-03-05");
    assert_eq!(reported(&report, "DESKTOP-OOF6NB5"), set(&[]));
}

#[test]
fn windows_7_sp1_with_the_november_2018_rollup_misses_what_windows_update_offered() {
    // Windows Update offered KB4486563 (2019-02 Security Monthly Quality
    // Rollup), KB4483187 (the out-of-band IE 11 cumulative update of
    // 2018-12-19), KB4487078 (2019-02 .NET rollup) and KB3109560; the rest
    // of its list is Office, Silverlight, language packs, previews, MSRT and
    // non-security updates, outside the catalog's scope.
    let dir = host_folder("wesng__7_sp1_x64_enterprise_en-us_20190305", "WIN7SP1X64");
    let report = check_json(full_catalog(), &dir.path().join("truth"), "2019-03-05");
    assert_eq!(
        reported(&report, "WIN7SP1X64"),
        set(&["KB3109560", "KB4483187", "KB4486563", "KB4487078"])
    );
    let posture = &report["clusters"][0]["posture"][0];
    // The wmic qfe capture was taken a day after the scan: what the host
    // installed then (KB3109560 among them) does not count as of the scan.
    assert_eq!(
        posture["installed_after"],
        serde_json::json!(["KB3109560", "KB3138378", "KB3150513"])
    );
    // IE 11 is taken as installed because its package is; .NET 3.5.1 because
    // an update only it receives is.
    let shown: Vec<(String, String)> = posture["products"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|p| {
            (
                p["product"].as_str().unwrap().to_string(),
                p["shown_by"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(shown.len(), 2);
    assert_eq!(
        shown[0].0,
        "Internet Explorer 11 on Windows 7 Service Pack 1"
    );
    assert_eq!(
        shown[0].1,
        "the Internet Explorer 11 package (KB2841134) is installed (data/inbox-components.toml)"
    );
    assert_eq!(
        shown[1].0,
        "Microsoft .NET Framework 3.5.1 on Windows 7 Service Pack 1"
    );
    assert!(shown[1].1.ends_with(
        "an update of Microsoft .NET Framework 3.5.1 on Windows 7 Service Pack 1 that Windows 7 Service Pack 1 itself does not receive"
    ));
}

#[test]
fn ws2022_behind_is_exactly_one_gap_with_every_catalog_and_never_a_hotpatch() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ws2022-behind");
    let cvrf = import(
        "cvrf.sqlite3",
        &[real("catalog/cvrf/cvrfDocument-2023-Dec.xml")],
    );
    let wesng = import("wesng.sqlite3", &[real("catalog/wesng/definitions.zip")]);
    for catalog in [cvrf.1.as_path(), wesng.1.as_path(), full_catalog()] {
        let report = check_json(catalog, &examples, "2023-12-31");
        for node in ["HVS01", "HVS02"] {
            assert_eq!(reported(&report, node), set(&[]), "{node}, {catalog:?}");
        }
        assert_eq!(
            reported(&report, "HVS03"),
            set(&["KB5033118"]),
            "{catalog:?}"
        );
        let kinds: BTreeSet<&str> = report["clusters"][0]["posture"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["products"].as_array().unwrap())
            .flat_map(|p| p["missing"].as_array().unwrap())
            .map(|h| h["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, BTreeSet::from(["cumulative"]), "{catalog:?}");
    }
}

/// Edges whose dates run backwards in Microsoft's own data, each checked by
/// hand: (product, newer, older, why).
const BACKWARD_IN_THE_DATA: &[(&str, u32, u32, &str)] = &[
    (
        "Internet Explorer 11 on Windows 7 Service Pack 1",
        4096040,
        4092946,
        "the 2018-Apr document lists KB4096040 (an IE update whose CVEs are March 2018's, \
         revised 2018-03-23) with <Supercedence>4092946</Supercedence>, April's IE \
         cumulative update: the reverse of their order",
    ),
    (
        "Internet Explorer 11 on Windows Server 2008 R2 Service Pack 1",
        4096040,
        4092946,
        "the same remediation, for Server 2008 R2",
    ),
];

#[test]
fn every_msrc_date_is_in_its_document_month_and_no_edge_runs_backwards() {
    use lockstep_catalog::{Catalog, ReleaseDateSource};
    let c = Catalog::open(full_catalog()).unwrap();
    let mut outside = Vec::new();
    for u in c.updates() {
        let (Some(d), Some(rule), Some(doc)) = (
            u.release_date,
            u.release_date_source,
            u.release_document.as_deref(),
        ) else {
            continue;
        };
        if !matches!(
            rule,
            ReleaseDateSource::Cvrf | ReleaseDateSource::CvrfRevised
        ) {
            continue;
        }
        // `2019-Apr`: the date is in the document's own month.
        let month =
            jiff::fmt::strtime::parse("%Y-%b-%d", format!("{doc}-01")).and_then(|t| t.to_date());
        if let Ok(m) = month
            && (d.year(), d.month()) != (m.year(), m.month())
        {
            outside.push((u.kb, d, doc.to_string()));
        }
    }
    assert_eq!(outside, Vec::new());
    let mut backward = Vec::new();
    for (pid, name) in c.products() {
        for kb in c.kbs_with_edges(pid) {
            for e in c.supersedes(pid, kb) {
                let date = |k| {
                    c.update(k).and_then(|u| {
                        u.release_date.filter(|_| {
                            u.release_date_source != Some(ReleaseDateSource::WesngEstimate)
                        })
                    })
                };
                if let (Some(n), Some(o)) = (date(e.newer), date(e.older))
                    && n < o
                    && !BACKWARD_IN_THE_DATA
                        .iter()
                        .any(|b| (b.0, b.1, b.2) == (name, e.newer.0, e.older.0))
                {
                    backward.push((name.to_string(), e.newer, n, e.older, o));
                }
            }
        }
    }
    assert_eq!(backward, Vec::new());
}

#[test]
fn no_reported_update_is_covered_by_another_reported_or_installed_one() {
    use lockstep_catalog::Catalog;
    use lockstep_model::KbId;
    let c = Catalog::open(full_catalog()).unwrap();
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(real("inventory"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    let truth = [
        host_folder(
            "wesng__10_1803_x64_proforworkstations_en-us_A_20190305",
            "A",
        ),
        host_folder("wesng__7_sp1_x64_enterprise_en-us_20190305", "W7"),
    ];
    inputs.extend(truth.iter().map(|d| d.path().join("truth")));
    let out = Command::new(BIN)
        .arg("--catalog")
        .arg(full_catalog())
        .args(["check", "--format", "json", "--fail-on", "never"])
        .args(&inputs)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inventory = Command::new(BIN)
        .args(["inventory", "--format", "json"])
        .args(&inputs)
        .output()
        .unwrap();
    let inventory: Value = serde_json::from_slice(&inventory.stdout).unwrap();
    let installed_of = |node: &str| -> Vec<KbId> {
        let inv = &inventory["inventory"];
        inv["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["nodes"].as_array().unwrap())
            .chain(inv["loose_nodes"].as_array().unwrap())
            .filter(|n| n["name"] == node)
            .flat_map(|n| n["updates"].as_array().unwrap())
            .map(|u| u["kb"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let mut judged = 0;
    let mut covered = Vec::new();
    let postures = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["posture"].as_array().unwrap())
        .chain(report["loose_nodes"].as_array().unwrap().iter());
    for p in postures {
        let node = p["node"].as_str().unwrap_or_default();
        let installed = installed_of(node);
        for product in p["products"].as_array().into_iter().flatten() {
            let Some(pid) = c.product_by_name(product["product"].as_str().unwrap()) else {
                continue;
            };
            let heads: Vec<KbId> = product["missing"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["kb"].as_str().unwrap().parse().unwrap())
                .collect();
            judged += heads.len();
            for &h in &heads {
                for &x in heads.iter().chain(&installed) {
                    if x != h && c.supersedence_path(pid, x, h).is_some() {
                        covered.push((node.to_string(), h, x));
                    }
                }
            }
        }
    }
    // A floor, so that the property cannot hold vacuously (70 today).
    assert!(judged >= 60, "only {judged} reported updates were judged");
    assert_eq!(covered, Vec::new());
}

/// A node known only by its Get-HotFix list (no OS in it) takes the product
/// its cluster peers agree on; alone, the one product its updates belong to.
#[test]
fn a_node_without_an_os_takes_its_product_from_peers_or_updates_and_says_so() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ws2022-behind");
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("hvclu");
    std::fs::create_dir(&cluster).unwrap();
    for f in [
        "HVS01.systeminfo.txt",
        "HVS02.systeminfo.txt",
        "HVS03.get-hotfix.csv",
    ] {
        std::fs::copy(examples.join(f), cluster.join(f)).unwrap();
    }
    let report = check_json(full_catalog(), &cluster, "2023-12-31");
    let hvs03 = report["clusters"][0]["posture"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["node"] == "HVS03")
        .unwrap();
    assert_eq!(hvs03["product"], "Windows Server 2022");
    assert_eq!(
        hvs03["product_evidence"],
        "its captures name no OS; its cluster peers HVS01, HVS02 all run Windows Server 2022"
    );
    assert_eq!(reported(&report, "HVS03"), set(&["KB5033118"]));

    let alone = dir.path().join("HVS03.get-hotfix.csv");
    std::fs::copy(examples.join("HVS03.get-hotfix.csv"), &alone).unwrap();
    let report = check_json(full_catalog(), &alone, "2023-12-31");
    let p = &report["loose_nodes"][0];
    assert_eq!(p["product"], "Windows Server 2022");
    let evidence = p["product_evidence"].as_str().unwrap();
    assert!(
        evidence.starts_with("its captures name no OS; its installed updates KB")
            && evidence.ends_with(" are published for Windows Server 2022 only"),
        "{evidence}"
    );
    assert_eq!(reported(&report, "HVS03"), set(&["KB5033118"]));
}

/// Flash ships inside Windows 10 1803: on two 1803 nodes, the Flash update
/// one has and the other lacks is a missing update, not "a different product".
#[test]
fn a_flash_update_absent_on_a_windows_10_node_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("c");
    std::fs::create_dir(&cluster).unwrap();
    let stem = "wesng__10_1803_x64_proforworkstations_en-us_A_20190305";
    let original = std::fs::read(real(&format!("truth/{stem}_systeminfo.txt"))).unwrap();
    std::fs::write(cluster.join("N1.systeminfo.txt"), &original).unwrap();
    // The same capture as the second node would show it without the Flash
    // update: renamed, entry [03] removed, the count lowered (UTF-16LE kept).
    let units: Vec<u16> = original[2..]
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap();
    let text = text
        .replace("DESKTOP-OOF6NB5", "N2")
        .replace("4 Hotfix(s) Installed.", "3 Hotfix(s) Installed.")
        .replace("                           [03]: KB4487038\r\n", "")
        .replace("[04]: KB4487017", "[03]: KB4487017");
    assert!(!text.contains("KB4487038"));
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    std::fs::write(cluster.join("N2.systeminfo.txt"), bytes).unwrap();
    let report = check_json(full_catalog(), &cluster, "2019-03-05");
    let flash: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().unwrap_or("").starts_with("update-drift"))
        .collect();
    assert_eq!(flash.len(), 1, "{flash:?}");
    assert_eq!(flash[0]["code"], "update-drift-missing");
    assert_eq!(flash[0]["title"], "KB4487038 absent on N2 (missing)");
    assert_eq!(flash[0]["nodes"], serde_json::json!(["N2"]));
    assert!(flash[0]["detail"].as_str().unwrap().contains(
        "no installed update supersedes KB4487038 on Adobe Flash Player on Windows 10 Version 1803"
    ));
    // And N2's posture lists it for the in-box Flash Player.
    assert_eq!(reported(&report, "N2"), set(&["KB4487038"]));
}
