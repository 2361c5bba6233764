//! Issue 13, "Reading inputs": manifests that reach out of their folder,
//! FIFOs, devices, huge and sparse files and symlink loops in capture
//! folders, decompression bombs and a hostile MSRC server. Each test
//! performs the attack and asserts the safe outcome.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

const SECRET: &str = "root:$6$SECRETHASHSECRETHASH$xyz:19000:0:99999:7:::";

/// Item 5: a manifest naming `/etc/shadow`-like files, by absolute path, by
/// `..`, or through a symlink, reads none of them, and no error message
/// quotes their content.
#[test]
fn item5_manifest_paths_stay_inside_the_manifest_folder() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("shadow");
    std::fs::write(&secret, format!("{SECRET}\nbin:*:19000:0:99999:7:::\n")).unwrap();
    let fleet = dir.path().join("fleet");
    example_cluster(&fleet.join("captures"));
    std::os::unix::fs::symlink(&secret, fleet.join("captures/linked.txt")).unwrap();
    let manifest = fleet.join("fleet.toml");
    std::fs::write(
        &manifest,
        format!(
            "[[cluster]]\nname = \"C1\"\nfiles = [{:?}, \"../shadow\", \"captures/linked.txt\"]\n\n[[cluster.node]]\nname = \"HV01\"\nfiles = [\"captures/HV01.systeminfo.txt\"]\n",
            secret.display().to_string()
        ),
    )
    .unwrap();
    for format in ["text", "json", "html"] {
        let mut c = lockstep();
        c.args(["--no-catalog", "check", "--format", format])
            .arg(&manifest);
        let o = run_within(c, 60);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert!(!all.contains("SECRETHASH"), "{format}: {all}");
        assert!(!all.contains("bin:*"), "{format}: {all}");
        let err = text(&o.stderr);
        assert_eq!(
            err.matches("expected a file inside the manifest's folder")
                .count(),
            3,
            "{err}"
        );
        assert!(err.contains("found a path that leaves it"), "{err}");
        assert!(
            err.contains("found a symbolic link that leads out of it"),
            "{err}"
        );
        // The node inside the folder is still read.
        assert!(all.contains("HV01"), "{format}");
    }
    // Allowed by the option, the file is read, and as it is no inventory
    // the error names it without quoting a byte of it.
    let mut c = lockstep();
    c.args([
        "--no-catalog",
        "--allow-paths-outside-manifest",
        "check",
        "--format",
        "html",
    ])
    .arg(&manifest);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(2));
    let all = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(!all.contains("SECRETHASH"), "{all}");
    assert!(
        text(&o.stderr).contains("shadow:1: expected inventory output in a known format"),
        "{}",
        text(&o.stderr)
    );
}

/// Item 6: a FIFO, a link to /dev/zero, a sparse 2 GB file, an oversized
/// file and `sN -> .` loops in a capture folder.
#[test]
fn item6_capture_folders_hold_only_regular_files_of_bounded_size() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("HVCLU");
    example_cluster(&cluster);
    mkfifo(&cluster.join("HV05.systeminfo.txt"));
    std::os::unix::fs::symlink("/dev/zero", cluster.join("HV06.systeminfo.txt")).unwrap();
    let sparse = std::fs::File::create(cluster.join("HV07.systeminfo.txt")).unwrap();
    sparse.set_len(2 << 30).unwrap();
    for n in ["s1", "s2", "s3"] {
        std::os::unix::fs::symlink(".", cluster.join(n)).unwrap();
    }
    let mut c = lockstep();
    c.args(["inventory", "--format", "json"]).arg(&cluster);
    // Before: the FIFO blocked forever; /dev/zero grew to 14.9 GB.
    let o = run_within(c, 60);
    assert_no_panic(&o, "inventory");
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    let tail = |e: &String| e.rsplit('/').next().unwrap().to_string();
    let mut got: Vec<String> = errors.iter().map(tail).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "HV05.systeminfo.txt: expected a regular file, found a FIFO (named pipe); it was not read",
            "HV06.systeminfo.txt: expected a regular file, found a character device; it was not read",
            "HV07.systeminfo.txt: expected a file of at most 268435456 bytes (--max-input-size), found 2147483648 bytes; it was not read",
            "s1: expected a file or a folder, found a link back to a folder that contains it (a loop); not followed",
            "s2: expected a file or a folder, found a link back to a folder that contains it (a loop); not followed",
            "s3: expected a file or a folder, found a link back to a folder that contains it (a loop); not followed",
        ]
    );
    // Each capture read exactly once (before: 9,841 times).
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 4, "{files:?}");
    let nodes = &v["inventory"]["clusters"][0]["nodes"];
    assert_eq!(nodes.as_array().unwrap().len(), 4);

    // A file reached twice through a link beside it is read once, silently.
    let twice = dir.path().join("TWICE");
    example_cluster(&twice);
    std::os::unix::fs::symlink(
        "HV01.systeminfo.txt",
        twice.join("HV01-again.systeminfo.txt"),
    )
    .unwrap();
    let mut c = lockstep();
    c.args(["inventory", "--format", "json"]).arg(&twice);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 4);

    // --max-input-size: a real capture over the limit is an error naming it.
    let mut c = lockstep();
    c.args(["--max-input-size", "1K", "inventory"]).arg(&twice);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(
            "HV02.systeminfo.txt: expected a file of at most 1024 bytes (--max-input-size), found "
        ),
        "{}",
        text(&o.stderr)
    );
    // /dev/zero named on the command line stops at the limit.
    let mut c = lockstep();
    c.args(["--max-input-size", "1M", "inventory", "/dev/zero"]);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr)
            .contains("/dev/zero: expected at most 1048576 bytes (--max-input-size), found more"),
        "{}",
        text(&o.stderr)
    );
}

fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

fn import(db: &Path, file: &Path) -> std::process::Output {
    let mut c = lockstep();
    c.arg("--catalog")
        .arg(db)
        .args(["catalog", "import"])
        .arg(file);
    run_within(c, 120)
}

/// Item 7, zip: a CSV row that never ends and entry names with folders or
/// `..` are refused; the catalog is not created.
#[test]
fn item7_zip_bombs_and_entry_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    // 64 MiB of one quoted field: about 64 KiB compressed.
    let mut endless = b"\"DatePosted\",\"CVE\",\"BulletinKB\",\"Title\",\"AffectedProduct\",\"AffectedComponent\",\"Severity\",\"Impact\",\"Supersedes\",\"Exploits\"\n\"20231212\",\"".to_vec();
    endless.extend(std::iter::repeat_n(b'A', 64 << 20));
    let bomb = dir.path().join("definitions.zip");
    std::fs::write(&bomb, zip_with(&[("CVEs_20231212.csv", &endless)])).unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let o = import(&db, &bomb);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("a CSV record longer than 1048576 bytes"),
        "{}",
        text(&o.stderr)
    );
    assert!(!db.exists());

    for name in [
        "../CVEs_20231212.csv",
        "defs/CVEs_20231212.csv",
        "..\\x.csv",
    ] {
        let z = dir.path().join("names.zip");
        std::fs::write(&z, zip_with(&[(name, b"\"DatePosted\"\n")])).unwrap();
        let o = import(&db, &z);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr)
                .contains("expected a WES-NG definitions.zip with plain entry names, found"),
            "{name}: {}",
            text(&o.stderr)
        );
        assert!(!db.exists());
    }
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);
type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A hostile MSRC server: what it answers, by request path; every request
/// path is recorded.
fn serve(answer: impl Fn(&str) -> Answer + Send + 'static) -> (String, Seen) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
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
            log.lock().unwrap().push(path.clone());
            let (status, headers, body) = answer(&path);
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body));
        }
    });
    (base, seen)
}

fn update(db: &Path, base: &str) -> std::process::Output {
    let mut c = lockstep();
    c.args(["catalog", "update", "--retries", "0", "--timeout", "20"])
        .env("LOCKSTEP_CATALOG", db)
        .env("LOCKSTEP_MSRC_URL", base);
    run_within(c, 120)
}

/// Item 7, HTTP: an oversized index, ids that climb out of the URL path, and
/// redirects to another host.
#[test]
fn item7_hostile_msrc_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");

    // An index body far larger than any real one: reading stops at 16 MiB.
    let (base, _) = serve(|_| (200, vec![], vec![b' '; 17 << 20]));
    let o = update(&db, &base);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("the response is larger than 16 MiB (decompressed)"),
        "{}",
        text(&o.stderr)
    );
    assert!(!db.exists());
    // The same, gzip-encoded: 64 MiB of index in about 64 KiB. The limit
    // counts what the body inflates to, as it streams.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 64 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let (base, _) = serve(move |_| {
        (
            200,
            vec![("Content-Encoding".into(), "gzip".into())],
            bomb.clone(),
        )
    });
    let o = update(&db, &base);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("the response is larger than 16 MiB (decompressed)"),
        "{}",
        text(&o.stderr)
    );
    assert!(!db.exists());

    // Ids that are not `YYYY-Mon` never reach a URL.
    let (base, seen) = serve(|path| {
        match path {
        "/cvrf/v3.0/updates" => (
            200,
            vec![],
            br#"{"value": [{"ID": "../../../../secret"}, {"ID": "2023-Dec/../../x"}, {"ID": "2017-Feb", "CurrentReleaseDate": "2017-02-14T08:00:00Z"}]}"#.to_vec(),
        ),
        "/cvrf/v3.0/cvrf/2017-Feb" => (
            200,
            vec![],
            std::fs::read(repo("tests/fixtures/real/catalog/cvrf/cvrfDocument-2017-Feb.xml")).unwrap(),
        ),
        _ => (404, vec![], b"no\n".to_vec()),
    }
    });
    let o = update(&db, &base);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        *seen.lock().unwrap(),
        ["/cvrf/v3.0/updates", "/cvrf/v3.0/cvrf/2017-Feb"]
    );
    assert!(
        text(&o.stderr)
            .contains("the MSRC index lists \"../../../../secret\", which was not fetched"),
        "{}",
        text(&o.stderr)
    );

    // A redirect to another host is not followed (127.0.0.2 is another host).
    let (other, other_seen) = serve(|_| (200, vec![], b"{\"value\": []}".to_vec()));
    let target = format!(
        "{}/cvrf/v3.0/updates",
        other.replace("127.0.0.1", "127.0.0.2")
    );
    let (base, _) = serve(move |path| match path {
        "/cvrf/v3.0/updates" => (302, vec![("Location".into(), target.clone())], Vec::new()),
        _ => (404, vec![], Vec::new()),
    });
    let o = update(&db, &base);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("which is not on the host of"),
        "{}",
        text(&o.stderr)
    );
    assert!(other_seen.lock().unwrap().is_empty());
    // A redirect on the same host is followed.
    let (base, seen) = serve(|path| match path {
        "/cvrf/v3.0/updates" => (
            301,
            vec![("Location".into(), "/moved/updates".into())],
            Vec::new(),
        ),
        "/moved/updates" => (200, vec![], b"{\"value\": []}".to_vec()),
        _ => (404, vec![], Vec::new()),
    });
    let o = update(&dir.path().join("c2.sqlite3"), &base);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        *seen.lock().unwrap(),
        ["/cvrf/v3.0/updates", "/moved/updates"]
    );
}
