//! A private PostgreSQL server for one test: `initdb` into a temporary
//! folder, a loopback port, stopped (and the folder removed) when dropped.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the server
//! runs as Debian's `postgres` user (`runuser -u postgres --`), which owns
//! the temporary folder. The binaries are Debian's
//! (`/usr/lib/postgresql/<version>/bin`, installed by
//! `scripts/setup.d/30-postgresql.sh`). A server that cannot start fails
//! the test with the reason: these tests are never skipped.

#![allow(dead_code)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct PgServer {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    // Dropped last: the server is stopped before its folder is removed.
    _dir: tempfile::TempDir,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb): run scripts/setup.d/30-postgresql.sh"
        ),
    }
}

fn id_of(user: &str, flag: &str) -> u32 {
    let out = Command::new("id")
        .args([flag, user])
        .output()
        .unwrap_or_else(|e| panic!("running id {flag} {user}: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| {
            panic!(
                "the user {user} does not exist; PostgreSQL cannot run as root (scripts/setup.d/30-postgresql.sh creates it)"
            )
        })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl PgServer {
    fn command(&self, program: &str) -> Command {
        command(&self.bin, self.run_as.as_deref(), program, self._dir.path())
    }

    pub fn start() -> PgServer {
        let bin = bin_dir();
        let root = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        let run_as = root.then(|| "postgres".to_string());
        let dir = tempfile::Builder::new()
            .prefix("lockstep-pg-")
            .tempdir()
            .expect("a temporary folder");
        if let Some(user) = &run_as {
            std::os::unix::fs::chown(dir.path(), Some(id_of(user, "-u")), Some(id_of(user, "-g")))
                .expect("giving the temporary folder to the postgres user");
        }
        let data = dir.path().join("data");
        let mut server = PgServer {
            port: 0,
            bin,
            data,
            run_as,
            _dir: dir,
        };
        let out = server
            .command("initdb")
            .arg("-D")
            .arg(&server.data)
            .args(["-A", "trust", "-U", "lockstep", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("running initdb");
        check(&out, "initdb");
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port();
            let opts = format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=100",
                server.port,
                server._dir.path().display()
            );
            let log = server._dir.path().join("server.log");
            let out = server
                .command("pg_ctl")
                .arg("-D")
                .arg(&server.data)
                .arg("-l")
                .arg(&log)
                .args(["-o", &opts, "-w", "-t", "60", "start"])
                .output()
                .expect("running pg_ctl start");
            if out.status.success() {
                return server;
            }
            last = format!(
                "{}{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("the PostgreSQL test server did not start:\n{last}");
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://lockstep@127.0.0.1:{}/{db}", self.port)
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connecting to the test server: {e}"))
    }

    /// A new, empty database; its URL.
    pub fn create_db(&self, name: &str) -> String {
        self.client("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        self.url(name)
    }
}

fn command(bin: &Path, run_as: Option<&str>, program: &str, cwd: &Path) -> Command {
    let mut c = match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(bin.join(program));
            c
        }
        None => Command::new(bin.join(program)),
    };
    // The test's own folder may not be readable by the postgres user.
    c.current_dir(cwd);
    c
}

fn check(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}
