//! `catalog update` end to end against a loopback HTTP server started by the
//! test: the real CVRF documents are served as recorded; failures (HTTP 500, a
//! timeout, a truncated body, nobody listening) must leave the catalog file
//! byte-identical.

use lockstep_catalog::download::{UpdateOptions, update_catalog};
use lockstep_catalog::{Catalog, CatalogError};
use lockstep_model::KbId;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
enum Reply {
    Ok(Vec<u8>, &'static str),
    Status(u16),
    /// Read the request, then say nothing for this long.
    Hang(Duration),
    /// Announce the full length, send the first half, close.
    Truncated(Vec<u8>),
}

struct Server {
    base: String,
    hits: Arc<Mutex<Vec<(String, String)>>>,
}

fn serve(routes: HashMap<String, Reply>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let log = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let routes = routes.clone();
            let log = log.clone();
            std::thread::spawn(move || handle(stream, &routes, &log));
        }
    });
    Server { base, hits }
}

fn handle(
    mut stream: TcpStream,
    routes: &HashMap<String, Reply>,
    log: &Mutex<Vec<(String, String)>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut accept = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("accept:") {
            accept = v.trim().to_string();
        }
    }
    log.lock().unwrap().push((path.clone(), accept));
    let reply = routes.get(&path).cloned().unwrap_or(Reply::Status(404));
    let _ = match reply {
        Reply::Ok(body, ctype) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body))
        }
        Reply::Status(code) => stream.write_all(
            format!("HTTP/1.1 {code} Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops\n").as_bytes(),
        ),
        Reply::Hang(d) => {
            std::thread::sleep(d);
            Ok(())
        }
        Reply::Truncated(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body[..body.len() / 2]))
        }
    };
    let _ = stream.flush();
}

fn real(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/real/catalog/cvrf"
        ))
        .join(name),
    )
    .unwrap()
}

fn index() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/catalog/msrc-updates-index.json"
    ))
    .unwrap()
}

fn routes(dec: Reply) -> HashMap<String, Reply> {
    HashMap::from([
        (
            "/cvrf/v3.0/updates".to_string(),
            Reply::Ok(index(), "application/json"),
        ),
        (
            "/cvrf/v3.0/cvrf/2017-Feb".to_string(),
            Reply::Ok(real("cvrfDocument-2017-Feb.xml"), "application/xml"),
        ),
        ("/cvrf/v3.0/cvrf/2023-Dec".to_string(), dec),
    ])
}

fn opts(base: &str) -> UpdateOptions<'static> {
    UpdateOptions {
        base_url: base.to_string(),
        since: None,
        timeout: Duration::from_secs(2),
        retries: 1,
        progress: &lockstep_model::progress::Silent,
    }
}

fn doc_paths(s: &Server) -> Vec<String> {
    s.hits
        .lock()
        .unwrap()
        .iter()
        .map(|(p, _)| p.clone())
        .collect()
}

/// A catalog that already holds February 2017 (so "unchanged" is meaningful).
fn seeded(dir: &Path) -> (PathBuf, Vec<u8>) {
    let db = dir.join("catalog.sqlite3");
    let b =
        lockstep_catalog::import::parse_bytes(&real("cvrfDocument-2017-Feb.xml"), "seed", "seed")
            .unwrap();
    lockstep_catalog::Store::import_batches(&db, &[b]).unwrap();
    let bytes = std::fs::read(&db).unwrap();
    (db, bytes)
}

#[test]
fn success_then_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    let s = serve(routes(Reply::Ok(
        real("cvrfDocument-2023-Dec.xml"),
        "application/xml",
    )));
    let report = update_catalog(&db, &opts(&s.base)).unwrap();
    assert_eq!(report.listed, 2);
    assert_eq!(
        report.imported,
        vec!["2017-Feb".to_string(), "2023-Dec".to_string()]
    );
    assert!(report.skipped.is_empty());
    let hits = s.hits.lock().unwrap().clone();
    assert_eq!(
        hits,
        vec![
            (
                "/cvrf/v3.0/updates".to_string(),
                "application/json".to_string()
            ),
            (
                "/cvrf/v3.0/cvrf/2017-Feb".to_string(),
                "application/xml".to_string()
            ),
            (
                "/cvrf/v3.0/cvrf/2023-Dec".to_string(),
                "application/xml".to_string()
            ),
        ]
    );
    let c = Catalog::open(&db).unwrap();
    let s2022 = c.product_by_name("Windows Server 2022").unwrap();
    assert_eq!(c.supersedes(s2022, KbId(5033118))[0].older, KbId(5032198));
    assert_eq!(
        c.release_date(KbId(4010250)),
        Some(jiff::civil::date(2017, 2, 21))
    );

    // Second run: both documents are current, nothing is downloaded or written.
    let before = std::fs::read(&db).unwrap();
    s.hits.lock().unwrap().clear();
    let again = update_catalog(&db, &opts(&s.base)).unwrap();
    assert_eq!(
        again.skipped,
        vec!["2017-Feb".to_string(), "2023-Dec".to_string()]
    );
    assert!(again.imported.is_empty() && again.replaced.is_empty());
    assert_eq!(doc_paths(&s), vec!["/cvrf/v3.0/updates".to_string()]);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn since_limits_the_months() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    let s = serve(routes(Reply::Ok(
        real("cvrfDocument-2023-Dec.xml"),
        "application/xml",
    )));
    let mut o = opts(&s.base);
    o.since = Some((2023, 12));
    let report = update_catalog(&db, &o).unwrap();
    assert_eq!(report.in_range, 1);
    assert_eq!(report.imported, vec!["2023-Dec".to_string()]);
    assert_eq!(
        doc_paths(&s),
        vec![
            "/cvrf/v3.0/updates".to_string(),
            "/cvrf/v3.0/cvrf/2023-Dec".to_string()
        ]
    );
    assert!(Catalog::open(&db).unwrap().update(KbId(4010250)).is_none());
}

fn assert_failed_unchanged(reply: Reply, expect: &str, retries: u32) -> (String, usize) {
    let dir = tempfile::tempdir().unwrap();
    let (db, before) = seeded(dir.path());
    let s = serve(routes(reply));
    let mut o = opts(&s.base);
    o.retries = retries;
    o.timeout = Duration::from_secs(1);
    let err = update_catalog(&db, &o).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(expect), "{msg}");
    assert!(msg.contains("/cvrf/v3.0/cvrf/2023-Dec"), "{msg}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the catalog is unchanged"
    );
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    let dec_hits = doc_paths(&s)
        .iter()
        .filter(|p| p.ends_with("2023-Dec"))
        .count();
    (msg, dec_hits)
}

#[test]
fn http_500_is_retried_then_reported() {
    let (msg, hits) = assert_failed_unchanged(Reply::Status(500), "HTTP 500", 2);
    assert_eq!(hits, 3, "one attempt and two retries");
    assert!(
        msg.contains("after 3 attempts") && msg.contains("catalog was not changed"),
        "{msg}"
    );
}

#[test]
fn timeout_is_reported() {
    let (msg, hits) = assert_failed_unchanged(
        Reply::Hang(Duration::from_secs(5)),
        "no complete response within 1 s",
        0,
    );
    assert_eq!(hits, 1);
    assert!(msg.contains("catalog was not changed"), "{msg}");
}

#[test]
fn truncated_body_is_reported() {
    let (msg, _) = assert_failed_unchanged(
        Reply::Truncated(real("cvrfDocument-2023-Dec.xml")),
        "truncated",
        0,
    );
    assert!(msg.contains("catalog was not changed"), "{msg}");
}

#[test]
fn offline_is_explained() {
    // A port nobody listens on: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    let mut o = opts(&format!("http://127.0.0.1:{port}"));
    o.retries = 0;
    let err = update_catalog(&db, &o).unwrap_err();
    assert!(matches!(err, CatalogError::Download(_)));
    let msg = err.to_string();
    assert!(msg.contains("Are you offline?"), "{msg}");
    assert!(msg.contains("/cvrf/v3.0/updates"), "{msg}");
    assert!(!db.exists(), "no catalog is created");
}
