//! Real data end to end: a real Server 2022 `systeminfo` capture (WES-NG's
//! validation set) judged against the real WES-NG definitions, as of the day
//! it was captured.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// (product, applicable, [(chain head, folded KBs)])
type ProductHeads = (String, bool, Vec<(String, Vec<String>)>);

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn shared(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real")
        .join(p)
}

/// The full WES-NG import (608,740 rows) is done once per test binary.
fn wesng_catalog() -> &'static Path {
    static CATALOG: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = CATALOG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wesng.sqlite3");
        let out = Command::new(BIN)
            .arg("--catalog")
            .arg(&path)
            .args(["catalog", "import"])
            .arg(shared("catalog/wesng/definitions.zip"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, path)
    });
    path
}

#[test]
fn server_2022_as_of_capture_day_lacks_exactly_the_october_2021_cumulative_update() {
    let out = Command::new(BIN)
        .arg("--catalog")
        .arg(wesng_catalog())
        .arg("check")
        .arg(shared("inventory/wesng__srv_2022_systeminfo.txt"))
        .args(["--as-of", "2021-10-22", "--format", "json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    // A missing security update is an error: exit 1 under the default --fail-on error.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let node = &report["loose_nodes"][0];
    assert_eq!(node["node"], "WIN-RIBN7SM07BK");
    assert_eq!(node["product"], "Windows Server 2022");
    assert_eq!(node["hotpatch"], false);
    let products: Vec<ProductHeads> = node["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["product"].as_str().unwrap().to_string(),
                p["applicable"].as_bool().unwrap(),
                p["missing"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        (
                            h["kb"].as_str().unwrap().to_string(),
                            h["folds"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|k| k.as_str().unwrap().to_string())
                                .collect(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        products,
        vec![
            // The OS chain. Installed: KB5004330, KB5005039 and KB5005552, none
            // of which the catalog knows (they predate the MSRC data for
            // Server 2022), so they cover nothing. Published for Server 2022
            // by 2021-10-22: KB5005575 (the September 2021 cumulative update,
            // WES-NG date estimate 2021-09-23) and KB5006699 (October 2021,
            // 2021-10-12), which supersedes KB5005575. So the one chain head
            // is KB5006699 with KB5005575 folded under it.
            (
                s("Windows Server 2022"),
                true,
                vec![(s("KB5006699"), vec![s("KB5005575")])]
            ),
        ]
    );
    // Separately installed products on Server 2022 that the capture does not
    // show (no installed update of theirs) are not judged per node; their
    // chains are listed once, and none had an update in the catalog by
    // 2021-10-22 (the first .NET 3.5/4.8 one is dated 2022-01-11, Defender
    // for Endpoint's 2022-03-08), so their lists are empty.
    assert_eq!(
        node["companions_not_shown"],
        serde_json::json!([
            "Microsoft .NET Framework 3.5 AND 4.8 on Windows Server 2022",
            "Microsoft .NET Framework 3.5 AND 4.8.1 on Windows Server 2022",
            "Microsoft .NET Framework 4.8 on Windows Server 2022",
            "Microsoft .NET Framework 4.8.1 on Windows Server 2022",
            "Microsoft Defender for Endpoint for Windows on Windows Server 2022"
        ])
    );
    for chain in report["companion_chains"].as_array().unwrap() {
        assert_eq!(chain["applicable"], false);
        assert_eq!(chain["missing"], serde_json::json!([]), "{chain}");
    }
    assert_eq!(report["companion_chains"].as_array().unwrap().len(), 5);
    let codes: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["severity"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .filter(|(_, c)| !c.starts_with("av-"))
        .collect();
    assert_eq!(codes, [("error", "security-update-missing")]);
}

#[test]
fn two_months_later_the_december_update_heads_the_chain() {
    let out = Command::new(BIN)
        .arg("--catalog")
        .arg(wesng_catalog())
        .arg("check")
        .arg(shared("inventory/wesng__srv_2022_systeminfo.txt"))
        .args(["--as-of", "2021-12-31", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let os = &report["loose_nodes"][0]["products"][0];
    assert_eq!(os["missing"].as_array().unwrap().len(), 1);
    assert_eq!(os["missing"][0]["kb"], "KB5008223");
    assert_eq!(
        os["missing"][0]["folds"],
        serde_json::json!(["KB5007205", "KB5006699", "KB5005575"])
    );
}

/// The real capture, renamed, and (for `extra`) with more hotfixes listed
/// the way systeminfo lists them.
fn capture_as(host: &str, extra: &[&str]) -> String {
    let text = std::fs::read_to_string(shared("inventory/wesng__srv_2022_systeminfo.txt")).unwrap();
    let mut text = text.replace("WIN-RIBN7SM07BK", host);
    if !extra.is_empty() {
        let mut list = String::new();
        for (i, kb) in extra.iter().enumerate() {
            list.push_str(&format!(
                "                           [{:02}]: {kb}\r\n",
                4 + i
            ));
        }
        text = text
            .replace(
                "3 Hotfix(s) Installed.",
                &format!("{} Hotfix(s) Installed.", 3 + extra.len()),
            )
            .replace("[03]: KB5005552\r\n", &format!("[03]: KB5005552\r\n{list}"));
    }
    text
}

#[test]
fn nodes_of_a_cluster_with_identical_gaps_share_one_finding() {
    // HV01 and HV02 are the capture as it is; HV03 also has the October
    // 2021 update. As of 2021-12-31 the Server 2022 chain head is KB5008223
    // (December) on all three, folding the missing KB5007205 (November),
    // KB5006699 (October) and KB5005575 (September) on HV01/HV02 but only
    // KB5007205 on HV03 (its KB5006699 covers KB5005575). So two findings:
    // one for HV01 and HV02 together, one for HV03.
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("HVC22");
    std::fs::create_dir(&cluster).unwrap();
    for (host, extra) in [("HV01", &[][..]), ("HV02", &[]), ("HV03", &["KB5006699"])] {
        std::fs::write(
            cluster.join(format!("{host}.systeminfo.txt")),
            capture_as(host, extra),
        )
        .unwrap();
    }
    let out = Command::new(BIN)
        .arg("--catalog")
        .arg(wesng_catalog())
        .arg("check")
        .arg(&cluster)
        .args(["--as-of", "2021-12-31", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(Value, Value, Value)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "security-update-missing")
        .map(|f| (f["nodes"].clone(), f["title"].clone(), f["detail"].clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                serde_json::json!(["HV01", "HV02"]),
                serde_json::json!("KB5008223 missing on HV01, HV02 (Windows Server 2022)"),
                serde_json::json!(
                    "1 missing (1 critical).\nKB5008223 released 2021-12-14; supersedes KB5007205, KB5006699, KB5005575\nEach is the newest missing update of its chain and installing it closes 3 older missing one(s) it supersedes; the security posture of cluster HVC22 lists each with its title, classification, severity, CVEs and links."
                ),
            ),
            (
                serde_json::json!(["HV03"]),
                serde_json::json!("KB5008223 missing on HV03 (Windows Server 2022)"),
                serde_json::json!(
                    "1 missing (1 critical).\nKB5008223 released 2021-12-14; supersedes KB5007205\nEach is the newest missing update of its chain and installing it closes 1 older missing one(s) it supersedes; the security posture of cluster HVC22 lists each with its title, classification, severity, CVEs and links."
                ),
            ),
        ]
    );
}

#[test]
fn kb2616676_with_the_wesng_catalog_fits_on_a_page() {
    // The 2008 R2 example lacks hundreds of updates against WES-NG: each is
    // listed once for the four nodes that lack the same ones, the ESU-only
    // ones apart, after one line per node; the finding counts them.
    let out = Command::new(BIN)
        .arg("--catalog")
        .arg(wesng_catalog())
        .args(["check", "examples/kb2616676"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout)
        .replace(wesng_catalog().to_str().unwrap(), "[WES-NG catalog]");
    // The catalog's age depends on today's date; the rest is fixed.
    let text: String = text
        .lines()
        .map(
            |l| match l.strip_prefix("  the catalog's newest data is of 2026-06-28, ") {
                Some(rest) if rest.contains(" days old: ") => format!(
                    "  the catalog's newest data is of 2026-06-28, [N] days old: {}\n",
                    rest.split_once(" days old: ").unwrap().1
                ),
                _ => format!("{l}\n"),
            },
        )
        .collect();
    let lines = text.lines().count();
    assert!(lines <= 150, "{lines} lines:\n{text}");
    let node_lines: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "Security posture:")
        .skip(1)
        .take(4)
        .collect();
    assert!(
        node_lines
            .iter()
            .zip(["HV01", "HV02", "HV03", "HV04"])
            .all(|(l, n)| l.starts_with(&format!("  {n}: "))),
        "{node_lines:?}"
    );
    // The newest (ESU-only) update and the newest every customer can
    // install are each named once.
    assert_eq!(text.matches("KB5073699").count(), 1);
    assert_eq!(text.matches("KB4534314").count(), 1);
    insta::assert_snapshot!("kb2616676_wesng_text", text);
}
