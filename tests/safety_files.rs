//! Issue 13, "Files and devices": each test performs the attack and asserts
//! the safe outcome. Device nodes are made with `mknod` when the tests run
//! as root (the CI does); otherwise those checks say they are skipped.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn check_to(inputs: &[&Path], out: &Path, format: &str) -> std::process::Output {
    let mut c = lockstep();
    c.args(["--no-catalog", "check", "--format", format]);
    c.args(inputs);
    c.arg("-o").arg(out);
    run_within(c, 60)
}

/// Item 1: `-o` names a character device, a FIFO, a symlink, a directory.
#[test]
fn item1_output_to_devices_fifos_and_links_never_replaces_them() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("HVCLU");
    example_cluster(&cluster);

    // A character device is written through: /dev/null stays /dev/null.
    let null = dir.path().join("null");
    if mknod_char(&null, 1, 3) {
        let o = check_to(&[&cluster], &null, "text");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(file_type(&null), "char device");
        // /dev/full: the write fails with ENOSPC, an error with exit code 2.
        let full = dir.path().join("full");
        assert!(mknod_char(&full, 1, 7));
        let o = check_to(&[&cluster], &full, "html");
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).contains("No space left on device"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(file_type(&full), "char device");
        let mut c = lockstep();
        c.args(["collector", "-o"]).arg(&full);
        let o = run_within(c, 30);
        assert_eq!(o.status.code(), Some(2));
        assert!(!text(&o.stderr).contains("wrote"), "{}", text(&o.stderr));
    }
    // The real /dev/null, for every user.
    let o = check_to(&[&cluster], Path::new("/dev/null"), "json");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(file_type(Path::new("/dev/null")), "char device");

    // A FIFO is written through to whoever reads it.
    let fifo = dir.path().join("report.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    let o = check_to(&[&cluster], &fifo, "json");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let got = reader.join().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(report["clusters"][0]["name"], "HVCLU");
    assert_eq!(file_type(&fifo), "fifo");

    // A symlink to a regular file: the target gets the report, the link
    // stays a link.
    let target = dir.path().join("reports").join("latest.txt");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, "old report\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("report.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = check_to(&[&cluster], &link, "text");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(file_type(&link), "symlink");
    let body = std::fs::read_to_string(&target).unwrap();
    assert!(
        body.starts_with("lockstep check: 1 cluster(s), 4 node(s)"),
        "{body}"
    );
    // The replaced file keeps the old one's mode.
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);

    // A dangling symlink and a directory are refused; nothing is created.
    let dangling = dir.path().join("dangling.txt");
    std::os::unix::fs::symlink(dir.path().join("nowhere/x.txt"), &dangling).unwrap();
    let o = check_to(&[&cluster], &dangling, "text");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("symbolic link whose target cannot be reached"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir.path().join("nowhere").exists());
    let o = check_to(&[&cluster], dir.path(), "text");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("it is a directory"),
        "{}",
        text(&o.stderr)
    );

    // No temporary file is left anywhere.
    for d in [dir.path(), target.parent().unwrap()] {
        let names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }
}

/// Item 2: a failed run must not replace a good report; `-o` naming an
/// input is refused; an empty folder is not a clean cluster.
#[test]
fn item2_a_failed_run_keeps_the_old_report_and_inputs_are_never_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("kb2616676");
    example_cluster(&cluster);
    let report = dir.path().join("r.html");
    let o = check_to(&[&cluster], &report, "html");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let good = std::fs::read(&report).unwrap();
    assert!(good.len() > 10_000);

    // The typo: no input can be read. Exit 2, the report is untouched.
    let typo = dir.path().join("kb261667");
    let o = check_to(&[&typo], &report, "html");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("no input could be read; ")
            && text(&o.stderr).contains("r.html was not written"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(&report).unwrap(), good);
    // The same for plan.
    let mut c = lockstep();
    c.args(["--no-catalog", "plan", "--target", "converge", "-o"])
        .arg(&report)
        .arg(&typo);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&report).unwrap(), good);

    // An empty folder: exit 2 with a message, nothing written.
    let empty = dir.path().join("EMPTY");
    std::fs::create_dir(&empty).unwrap();
    let o = check_to(&[&empty], &report, "text");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("the inputs hold no inventory file"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(&report).unwrap(), good);

    // `-o` naming an input, directly or as a file of an input folder.
    let snapshot = dir.path().join("s.json");
    std::fs::copy(repo("tests/fixtures/snapshot/hvclu22.json"), &snapshot).unwrap();
    let before = std::fs::read(&snapshot).unwrap();
    let o = check_to(&[&snapshot], &snapshot, "json");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("is the input")
            && text(&o.stderr).contains("never writes over what it reads"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(std::fs::read(&snapshot).unwrap(), before);
    let capture = cluster.join("HV01.systeminfo.txt");
    let before = std::fs::read(&capture).unwrap();
    let o = check_to(&[&cluster], &capture, "text");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&capture).unwrap(), before);
}

fn sqlite_application_id(path: &Path) -> u32 {
    let head = std::fs::read(path).unwrap();
    u32::from_be_bytes(head[68..72].try_into().unwrap())
}

/// Someone else's SQLite database: one table with a row, user_version 7.
fn foreign_db(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE invoices(id INTEGER, amount REAL); INSERT INTO invoices VALUES (1, 9.5); PRAGMA user_version = 7;",
    )
    .unwrap();
}

/// Item 3: read-only commands never change a foreign file; only imports
/// create or migrate a catalog, and only an empty file or lockstep's own.
#[test]
fn item3_foreign_databases_and_empty_files_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-app.db");
    foreign_db(&other);
    let before = std::fs::read(&other).unwrap();
    let zero = dir.path().join("zero.db");
    std::fs::write(&zero, b"").unwrap();
    let doc = repo("tests/fixtures/real/catalog/cvrf/cvrfDocument-2017-Feb.xml");
    for db in [&other, &zero] {
        for args in [
            &["catalog", "stats"][..],
            &["catalog", "show", "KB4010250"],
            &["catalog", "anomalies"],
            &["check", "examples/kb2616676"],
        ] {
            let mut c = lockstep();
            c.current_dir(repo("")).arg("--catalog").arg(db).args(args);
            let o = run_within(c, 60);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
            assert!(
                text(&o.stderr).contains("is not a lockstep catalog"),
                "{args:?}: {}",
                text(&o.stderr)
            );
        }
    }
    // An import into someone else's database is refused too.
    let mut c = lockstep();
    c.arg("--catalog")
        .arg(&other)
        .args(["catalog", "import"])
        .arg(&doc);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("an SQLite database with 1 other table(s), user_version 7"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "not one byte changed"
    );
    assert_eq!(std::fs::read(&zero).unwrap(), b"", "still empty");

    // An empty file may become a catalog, by an import; then it carries
    // lockstep's application id and read-only commands read it.
    let mut c = lockstep();
    c.arg("--catalog")
        .arg(&zero)
        .args(["catalog", "import"])
        .arg(&doc);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(sqlite_application_id(&zero), 0x4C4B_5354);
    let bytes = std::fs::read(&zero).unwrap();
    let mut c = lockstep();
    c.arg("--catalog").arg(&zero).args(["catalog", "stats"]);
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("documents: 1\n  cvrf:2017-Feb\n"));
    assert_eq!(
        std::fs::read(&zero).unwrap(),
        bytes,
        "stats changed nothing"
    );

    // A device is never a catalog.
    let null = dir.path().join("null");
    if mknod_char(&null, 1, 3) {
        let mut c = lockstep();
        c.arg("--catalog")
            .arg(&null)
            .args(["catalog", "import"])
            .arg(&doc);
        let o = run_within(c, 60);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            text(&o.stderr).contains("a character device, not a regular file"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(file_type(&null), "char device");
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Item 4: `kill -9` during an import leaves nothing that blocks the next
/// one; its temporary copy is cleaned up.
#[test]
fn item4_an_import_killed_with_sigkill_does_not_block_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    // The WES-NG definitions take seconds to import: long enough to kill
    // the import in the middle, which the temporary copy shows.
    let mut child = lockstep()
        .arg("--catalog")
        .arg(&db)
        .args(["catalog", "import"])
        .arg(repo("tests/fixtures/real/catalog/wesng/definitions.zip"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let temp = dir
        .path()
        .join(format!(".catalog.sqlite3.import-{}", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !temp.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be killed"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary copy appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // What a killed import leaves: its lock file and its temporary copy.
    assert!(temp.exists());
    assert!(dir.path().join(".catalog.sqlite3.lock").exists());
    assert!(!db.exists());

    // The next import takes the lock, removes the dead one's copy, imports.
    let mut c = lockstep();
    c.arg("--catalog")
        .arg(&db)
        .args(["catalog", "import"])
        .arg(repo(
            "tests/fixtures/real/catalog/cvrf/cvrfDocument-2017-Feb.xml",
        ));
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(names_in(dir.path()), ["catalog.sqlite3"]);
}

/// Item 4, the lock: while an import holds it, another is refused at once.
#[test]
fn item4_two_imports_at_once_are_refused_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalog.sqlite3");
    let mut first = lockstep()
        .arg("--catalog")
        .arg(&db)
        .args(["catalog", "import"])
        .arg(repo("tests/fixtures/real/catalog/wesng/definitions.zip"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let temp = dir
        .path()
        .join(format!(".catalog.sqlite3.import-{}", first.id()));
    while !temp.exists() {
        assert!(first.try_wait().unwrap().is_none());
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut c = lockstep();
    c.arg("--catalog")
        .arg(&db)
        .args(["catalog", "import"])
        .arg(repo(
            "tests/fixtures/real/catalog/cvrf/cvrfDocument-2017-Feb.xml",
        ));
    let o = run_within(c, 60);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("another lockstep import is writing this catalog"),
        "{}",
        text(&o.stderr)
    );
    first.kill().unwrap();
    first.wait().unwrap();
}
