//! Whose file a catalog is, and one import at a time (see the `store`
//! module documentation): the application id, recognising lockstep's
//! catalogs (and refusing everyone else's), the OS lock of an import, and
//! cleaning up after imports that were killed.

use super::schema::SCHEMA_VERSION;
use crate::error::CatalogError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// `PRAGMA application_id` of a lockstep catalog ("LKST").
pub const APPLICATION_ID: i32 = 0x4C4B_5354;

/// The tables of schema 1 (how a catalog from before the application id is
/// recognised).
const SCHEMA_1_TABLES: [&str; 8] = [
    "documents",
    "products",
    "raw_products",
    "update_products",
    "supersedence",
    "cves",
    "update_documents",
    "updates",
];

/// What an SQLite file is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    /// A lockstep catalog of this schema version.
    Catalog(i64),
    /// No tables, no ids: a 0-byte file or a fresh database.
    Empty,
    /// Someone else's database, and why lockstep thinks so.
    Foreign(String),
}

pub(crate) fn identify(conn: &Connection, path: &Path) -> Result<Identity, CatalogError> {
    let not_sqlite = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => CatalogError::NotACatalog {
            path: path.to_path_buf(),
            why: "not an SQLite database".into(),
        },
        _ => CatalogError::sqlite(path)(e),
    };
    let pragma = |name: &str| -> Result<i64, CatalogError> {
        conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(not_sqlite)
    };
    let app = pragma("application_id")?;
    let version = pragma("user_version")?;
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .map_err(not_sqlite)?;
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(not_sqlite)?;
    let ours = SCHEMA_1_TABLES
        .iter()
        .all(|t| tables.iter().any(|x| x == t));
    Ok(match app {
        a if a == i64::from(APPLICATION_ID) => Identity::Catalog(version),
        0 if tables.is_empty() && version == 0 => Identity::Empty,
        0 if ours && version >= 1 => Identity::Catalog(version),
        0 => Identity::Foreign(format!(
            "an SQLite database with {} other table(s), user_version {version}",
            tables.len()
        )),
        other => Identity::Foreign(format!(
            "an SQLite database of another application, application_id {other:#010x}"
        )),
    })
}

pub(crate) fn too_new(path: &Path, version: i64) -> CatalogError {
    CatalogError::SchemaTooNew {
        path: path.to_path_buf(),
        found: version,
        supported: SCHEMA_VERSION,
    }
}

/// Opens `path` read-only and says whether it is a catalog lockstep may
/// read (the current schema, lockstep's id).
pub(crate) fn open_read_only(path: &Path) -> Result<(Connection, Identity), CatalogError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(CatalogError::sqlite(path))?;
    let identity = identify(&conn, path)?;
    Ok((conn, identity))
}

pub(crate) fn io_error(file: &Path) -> impl FnOnce(std::io::Error) -> CatalogError + '_ {
    move |source| CatalogError::Io {
        file: file.display().to_string(),
        source,
    }
}

/// The catalog's lock: an OS lock (`flock`) on `.NAME.lock`, which the
/// kernel drops when the process ends however it ends. The file is removed
/// when the import ends normally; one left by a killed import is simply
/// locked again by the next.
pub(crate) struct ImportLock {
    file: std::fs::File,
    path: PathBuf,
}

impl Drop for ImportLock {
    fn drop(&mut self) {
        // Removed while still held: whoever opens the path next gets a new
        // file, and `acquire_lock` checks that it locked the one the path
        // names.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Takes the catalog's lock (two imports at once would each copy the
/// catalog and the last rename would drop the other's documents).
pub(crate) fn acquire_lock(lock: &Path) -> Result<ImportLock, CatalogError> {
    use lockstep_model::input_file::file_key;
    for _ in 0..8 {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock)
            .map_err(io_error(lock))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(CatalogError::Busy(lock.to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(lock)(e)),
        }
        // The holder before us may have removed the file between our open
        // and our lock: then we hold a lock on a file nobody else can see.
        let held = file.metadata().map_err(io_error(lock))?;
        let named = std::fs::metadata(lock);
        if named.is_ok_and(|m| file_key(lock, &m) == file_key(lock, &held)) {
            return Ok(ImportLock {
                file,
                path: lock.to_path_buf(),
            });
        }
    }
    Err(CatalogError::Busy(lock.to_path_buf()))
}

/// Removes the temporary copies imports that died left beside the catalog
/// (the caller holds the lock, so none of them is in use).
pub(crate) fn remove_stale_temporaries(target: &Path, file_name: &str) {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let prefix = format!(".{file_name}.import-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        // `.NAME.import-PID` and SQLite's `-journal` beside it.
        let stale = e.file_name().to_str().is_some_and(|n| {
            n.strip_prefix(&prefix).is_some_and(|rest| {
                let pid = rest.strip_suffix("-journal").unwrap_or(rest);
                !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
            })
        });
        if stale && e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The file an import writes: `path`, or the file a symlink there names.
/// Only a missing path, an empty file or a lockstep catalog may be written.
pub(crate) fn import_target(path: &Path) -> Result<(PathBuf, bool), CatalogError> {
    let refuse = |why: String| CatalogError::NotACatalog {
        path: path.to_path_buf(),
        why,
    };
    let target = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((path.to_path_buf(), false));
        }
        Err(e) => return Err(io_error(path)(e)),
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).map_err(|e| {
            refuse(format!(
                "a symbolic link whose target cannot be reached: {e}"
            ))
        })?,
        Ok(_) => path.to_path_buf(),
    };
    let meta = std::fs::metadata(&target).map_err(io_error(&target))?;
    if !meta.is_file() {
        return Err(refuse(format!(
            "{}, not a regular file",
            lockstep_model::input_file::kind_of(&meta.file_type())
        )));
    }
    if meta.len() == 0 {
        return Ok((target, false));
    }
    let (_, identity) = open_read_only(&target)?;
    match identity {
        Identity::Catalog(v) if v > SCHEMA_VERSION => Err(too_new(&target, v)),
        Identity::Catalog(_) => Ok((target, true)),
        Identity::Empty => Ok((target, false)),
        Identity::Foreign(why) => Err(refuse(why)),
    }
}
