//! Issue 18: a fleet streams through `lockstep check` cluster by cluster.
//!
//! * The memory bound: the peak heap of checking a 20,000-node fleet is
//!   within 20 % of checking a 2,000-node fleet with the same largest
//!   cluster. The binary counts the bytes it holds (`src/heap.rs`, its
//!   allocator) and says the peak with `LOCKSTEP_TIMINGS`.
//! * The bytes: the streamed text and JSON reports equal, byte for byte,
//!   what a check of the whole inventory writes (`check()` over the loaded
//!   inventory and the whole-report renderers, as `check` ran before it
//!   streamed), on generated fleets in every layout and on the examples.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use support::{command, ok, repo};

/// The real WES-NG definitions, imported into a catalog in `dir`.
fn wesng_catalog(dir: &Path) -> PathBuf {
    let catalog = dir.join("catalog.sqlite3");
    let zip = repo("tests/fixtures/real/catalog/wesng/definitions.zip");
    ok(&command(&[
        "--catalog",
        catalog.to_str().unwrap(),
        "catalog",
        "import",
        zip.to_str().unwrap(),
    ])
    .output()
    .unwrap());
    catalog
}

/// `lockstep generate-fleet`; returns what it says it wrote.
fn generate(catalog: &Path, out: &Path, nodes: usize, seed: u64, layout: &str) -> String {
    let o = command(&[
        "--catalog",
        catalog.to_str().unwrap(),
        "generate-fleet",
        "--out",
        out.to_str().unwrap(),
        "--nodes",
        &nodes.to_string(),
        "--seed",
        &seed.to_string(),
        "--layout",
        layout,
    ])
    .output()
    .unwrap();
    ok(&o);
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The peak heap (kB) the binary says for a check of `fleet`, and the
/// report it wrote.
fn peak_heap(catalog: &Path, fleet: &Path, format: &str, report: &Path) -> u64 {
    let o = command(&[
        "--catalog",
        catalog.to_str().unwrap(),
        "check",
        fleet.to_str().unwrap(),
        "--fail-on",
        "never",
        "--format",
        format,
        "-o",
        report.to_str().unwrap(),
    ])
    .env("LOCKSTEP_TIMINGS", "1")
    .output()
    .unwrap();
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    err.lines()
        .find_map(|l| l.strip_prefix("lockstep: peak heap "))
        .and_then(|v| v.strip_suffix(" kB"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no peak heap in:\n{err}"))
}

/// `copies` copies of a fleet of snapshots (`CLU00…` clusters and nodes):
/// copy k names them `CLUk0…`, so every cluster is new and each copy's
/// clusters are the same as the first's.
fn replicate(from: &Path, to: &Path, copies: usize) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert!(
            name.starts_with("CLU00") && name.ends_with(".json"),
            "{name}"
        );
        let body = std::fs::read_to_string(&path).unwrap();
        for k in 0..copies {
            let prefix = format!("CLU{k}0");
            std::fs::write(
                to.join(name.replacen("CLU00", &prefix, 1)),
                body.replace("CLU00", &prefix),
            )
            .unwrap();
        }
    }
}

#[test]
fn a_streamed_check_holds_the_clusters_in_flight_not_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = wesng_catalog(dir.path());
    let small = dir.path().join("fleet-2000");
    let wrote = generate(&catalog, &small, 2000, 1, "snapshots");
    assert!(
        wrote.contains(" 2000 node(s) (largest cluster 64)"),
        "{wrote}"
    );
    // Ten times the fleet, the same clusters: what grows with the fleet
    // (and only that) makes the larger check's peak higher. Before issue
    // 18 the whole inventory was held (about 55 KB a node): 18,000 more
    // nodes would have been hundreds of MB more than the 2,000-node
    // fleet's whole peak.
    let large = dir.path().join("fleet-20000");
    replicate(&small, &large, 10);
    let report = dir.path().join("report");
    for format in ["text", "json"] {
        let small_peak = peak_heap(&catalog, &small, format, &report);
        let small_size = std::fs::metadata(&report).unwrap().len();
        let large_peak = peak_heap(&catalog, &large, format, &report);
        let large_size = std::fs::metadata(&report).unwrap().len();
        // Every node was checked and reported.
        assert!(large_size > small_size * 9, "{large_size} {small_size}");
        if format == "text" {
            let body = std::fs::read_to_string(&report).unwrap();
            let head = body.lines().next().unwrap();
            assert!(
                head.starts_with("lockstep check: 2130 cluster(s), 20000 node(s); catalog: "),
                "{head}"
            );
        }
        eprintln!("{format}: peak heap {small_peak} kB (2,000 nodes), {large_peak} kB (20,000)");
        assert!(
            large_peak * 10 <= small_peak * 12,
            "{format}: the 20,000-node fleet's peak heap ({large_peak} kB) is more than 20 % above the 2,000-node fleet's ({small_peak} kB)"
        );
    }
}

/// The report a check of the whole inventory writes: the inputs loaded
/// whole, `check()`, and the whole-report renderers (as `lockstep check`
/// wrote text and JSON before it streamed).
fn whole_report(catalog: &Path, paths: &[PathBuf], format: &str) -> Vec<u8> {
    use lockstep_check::run::{CheckOptions, ReportHead, check};
    use lockstep_report::{TextOptions, json, text};
    let loaded = lockstep_ingest::load_paths_with(paths, &lockstep_ingest::LoadOptions::default());
    let store = lockstep_catalog::Store::open(catalog).unwrap();
    let sources = lockstep_check::sources::Sources::from_store(
        &store,
        lockstep_check::sources::CatalogOrigin::File,
        lockstep_catalog::known_issues::KnownIssues::builtin(),
    )
    .unwrap();
    let today = jiff::ZonedDateTime::now().date();
    let knowledge = sources.knowledge().judged_on(today);
    let info = sources.catalog_info_on(today);
    let options = CheckOptions { as_of: None };
    let errors: Vec<String> = loaded.errors.iter().map(ToString::to_string).collect();
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let mut head = ReportHead::new(&loaded.inventory, info.clone(), &options, errors.clone());
    head.input_warnings = warnings.clone();
    let mut report = check(
        &loaded.inventory,
        &knowledge,
        Some(sources.protection()),
        info,
        &options,
    );
    report.input_errors = errors;
    report.input_warnings = warnings;
    let mut out = Vec::new();
    if format == "text" {
        let o = TextOptions { color: false };
        text::write_head(&mut out, &head, o).unwrap();
        for c in &report.clusters {
            let mut s = String::new();
            text::cluster_text(&mut s, c, o);
            out.extend_from_slice(text::terminal_safe(s, o).as_bytes());
        }
        text::write_tail(&mut out, &report, o).unwrap();
    } else {
        let mut w = lockstep_model::term::JsonSafeWriter::new(&mut out);
        json::write_head(&mut w, &head).unwrap();
        for (i, c) in report.clusters.iter().enumerate() {
            json::write_cluster(&mut w, &json::cluster_json(c).unwrap(), i == 0).unwrap();
        }
        json::write_tail(&mut w, &report).unwrap();
        std::io::Write::flush(&mut w).unwrap();
    }
    out
}

/// The streamed check (the binary) of `paths`: its report and its run.
fn streamed_report(
    catalog: &Path,
    paths: &[PathBuf],
    format: &str,
    out: &Path,
) -> (Vec<u8>, Output) {
    let mut args = vec![
        "--catalog".to_string(),
        catalog.display().to_string(),
        "check".into(),
    ];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    args.extend(["--fail-on", "never", "--format", format, "-o"].map(String::from));
    args.push(out.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = command(&args).output().unwrap();
    (std::fs::read(out).unwrap_or_default(), o)
}

/// Where two reports first differ, with some bytes around it.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let around = |s: &[u8]| {
        String::from_utf8_lossy(&s[at.saturating_sub(200)..(at + 200).min(s.len())]).into_owned()
    };
    format!(
        "lengths {} and {}; first difference at byte {at}:\nstreamed: …{}…\nwhole:    …{}…",
        a.len(),
        b.len(),
        around(a),
        around(b)
    )
}

#[test]
fn streamed_reports_equal_a_whole_inventory_check_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = wesng_catalog(dir.path());
    let fleet = |name: &str, nodes: usize, seed: u64, layout: &str| -> PathBuf {
        let out = dir.path().join(name);
        generate(&catalog, &out, nodes, seed, layout);
        out
    };
    // Several chunks of clusters judged at once and several sorted runs of
    // findings merged (more than a megabyte of sort keys).
    let snapshots = fleet("snapshots", 2000, 2, "snapshots");
    let folders = fleet("folders", 300, 3, "folders");
    let manifest = fleet("manifest", 300, 4, "manifest");
    let snapshot = fleet("snapshot", 300, 5, "snapshot");
    let systeminfo = fleet("systeminfo", 100, 6, "systeminfo-file");
    let hotfixes = fleet("hotfixes", 100, 7, "get-hotfix-json-file");
    // A folder per cluster: `DIR/*`.
    let mut folder_paths: Vec<PathBuf> = std::fs::read_dir(&folders)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folder_paths.sort();
    // A snapshot of the folders' first cluster after its folder: that
    // cluster is merged from two inputs, which a second pass holds.
    let first = folder_paths[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let merged = dir.path().join("merged.json");
    let snap = std::fs::read_to_string(snapshots.join("CLU00000.json"))
        .unwrap()
        .replace("CLU00000", &first);
    std::fs::write(&merged, snap).unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(
        &broken,
        "{\"schema\": \"lockstep-snapshot/1\", \"clusters\": [",
    )
    .unwrap();
    let examples =
        ["kb2616676", "ws2022-behind", "av-csv-redirected"].map(|e| repo(&format!("examples/{e}")));
    let cases: Vec<(&str, Vec<PathBuf>)> = vec![
        ("snapshots", vec![snapshots.clone()]),
        ("folders", folder_paths.clone()),
        ("manifest", vec![manifest.join("fleet.toml")]),
        ("snapshot", vec![snapshot.join("fleet.json")]),
        (
            "capture files (nodes outside a cluster)",
            vec![
                systeminfo.join("systeminfo.txt"),
                hotfixes.join("get-hotfix.json"),
            ],
        ),
        (
            "a cluster from two inputs, a broken input",
            [
                vec![broken.clone()],
                folder_paths[..5].to_vec(),
                vec![merged.clone()],
            ]
            .concat(),
        ),
        ("examples", examples.to_vec()),
    ];
    let out = dir.path().join("report");
    for (name, paths) in &cases {
        for format in ["text", "json"] {
            let (streamed, run) = streamed_report(&catalog, paths, format, &out);
            assert!(
                matches!(run.status.code(), Some(0 | 2)),
                "{name} {format}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
            let whole = whole_report(&catalog, paths, format);
            assert!(
                whole.len() > 1000,
                "{name} {format}: {}",
                String::from_utf8_lossy(&whole)
            );
            assert!(
                streamed == whole,
                "{name}, {format}: {}",
                first_difference(&streamed, &whole)
            );
        }
    }
}
