//! `lockstep catalog update` through the binary against a loopback MSRC
//! server started here (LOCKSTEP_MSRC_URL), serving the recorded documents.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

const REAL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/real/catalog/cvrf"
);
const OURS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/catalog");

/// Serves the index and the two documents; December answers `dec_status`.
fn serve(dec_status: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, body) = match path.as_str() {
                "/cvrf/v3.0/updates" => (
                    200,
                    std::fs::read(format!("{OURS}/msrc-updates-index.json")).unwrap(),
                ),
                "/cvrf/v3.0/cvrf/2017-Feb" => (
                    200,
                    std::fs::read(format!("{REAL}/cvrfDocument-2017-Feb.xml")).unwrap(),
                ),
                "/cvrf/v3.0/cvrf/2023-Dec" if dec_status == 200 => (
                    200,
                    std::fs::read(format!("{REAL}/cvrfDocument-2023-Dec.xml")).unwrap(),
                ),
                "/cvrf/v3.0/cvrf/2023-Dec" => (dec_status, b"error\n".to_vec()),
                _ => (404, b"not found\n".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body));
        }
    });
    base
}

fn update(db: &std::path::Path, base: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["catalog", "update", "--retries", "0", "--timeout", "5"])
        .env("LOCKSTEP_CATALOG", db)
        .env("LOCKSTEP_MSRC_URL", base)
        .output()
        .unwrap()
}

#[test]
fn update_then_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sub").join("catalog.sqlite3");
    let base = serve(200);
    let o = update(&db, &base);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "2 documents listed, 2 in range: 2 imported, 0 replaced, 0 unchanged, 0 skipped (already current)\n\
         imported cvrf:2017-Feb\nimported cvrf:2023-Dec\n"
    );
    // Not a terminal: no progress bar drawn.
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    let o = update(&db, &base);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "2 documents listed, 2 in range: 0 imported, 0 replaced, 0 unchanged, 2 skipped (already current)\n"
    );
}

#[test]
fn server_error_leaves_no_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    let o = update(&db, &serve(503));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("/cvrf/v3.0/cvrf/2023-Dec: the server answered HTTP 503 (after 1 attempt). The catalog was not changed."),
        "{err}"
    );
    assert!(!db.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left"
    );
}
