//! Imports: a temporary copy of the catalog under the OS lock, renamed over
//! the catalog on commit (see the `store` module documentation).

use super::guard::{
    Identity, ImportLock, acquire_lock, identify, import_target, io_error,
    remove_stale_temporaries, too_new,
};
use super::schema::{MIGRATIONS, SCHEMA_VERSION};
use super::{APPLICATION_ID, ImportStatus, Store, StoredDocument};
use crate::batch::{ImportBatch, SourceKind};
use crate::error::CatalogError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Brings the import copy to the current schema and marks it as lockstep's.
fn migrate(conn: &Connection, path: &Path) -> Result<(), CatalogError> {
    let version = match identify(conn, path)? {
        Identity::Catalog(v) if v > SCHEMA_VERSION => return Err(too_new(path, v)),
        Identity::Catalog(v) => v,
        Identity::Empty => 0,
        Identity::Foreign(why) => {
            return Err(CatalogError::NotACatalog {
                path: path.to_path_buf(),
                why,
            });
        }
    };
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))
        .map_err(CatalogError::sqlite(path))?;
    }
    conn.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
        .map_err(CatalogError::sqlite(path))?;
    Ok(())
}

impl Store {
    /// Opens or creates a catalog at `path` (used for the temporary import copy).
    fn create(path: &Path) -> Result<Store, CatalogError> {
        let conn = Connection::open(path).map_err(CatalogError::sqlite(path))?;
        migrate(&conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Imports already-parsed batches into the catalog at `target` atomically.
    pub fn import_batches(
        target: &Path,
        batches: &[ImportBatch],
    ) -> Result<Vec<ImportStatus>, CatalogError> {
        let mut session = ImportSession::begin(target)?;
        let mut out = Vec::new();
        for b in batches {
            out.push(session.import(b)?);
        }
        session.commit()?;
        Ok(out)
    }
}

/// An import in progress on a temporary copy of the catalog (see the module
/// documentation). Dropping it without [`ImportSession::commit`] discards
/// everything.
pub struct ImportSession {
    store: Option<Store>,
    /// The file the catalog is renamed to (a symlink's target).
    target: PathBuf,
    temp: PathBuf,
    /// Holds the OS lock until the session ends (or the process dies).
    _lock: ImportLock,
    changed: bool,
}

impl ImportSession {
    pub fn begin(path: &Path) -> Result<ImportSession, CatalogError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        // Lock, temporary copy and rename all live beside the real file (a
        // symlink's target may be on another file system).
        let (target, copy) = import_target(path)?;
        let file_name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "catalog.sqlite3".into());
        let lock = target.with_file_name(format!(".{file_name}.lock"));
        let lock_file = acquire_lock(&lock)?;
        remove_stale_temporaries(&target, &file_name);
        let temp = target.with_file_name(format!(".{file_name}.import-{}", std::process::id()));
        // From here on, Drop removes the temporary copy.
        let mut session = ImportSession {
            store: None,
            target,
            temp: temp.clone(),
            _lock: lock_file,
            changed: false,
        };
        let _ = std::fs::remove_file(&temp);
        if copy {
            std::fs::copy(&session.target, &temp).map_err(io_error(&session.target))?;
        }
        let store = Store::create(&temp)?;
        store
            .conn
            .execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536; BEGIN;")
            .map_err(CatalogError::sqlite(&temp))?;
        session.store = Some(store);
        Ok(session)
    }

    fn store(&mut self) -> &mut Store {
        self.store.as_mut().expect("store is present until commit")
    }

    /// What the catalog holds for a document (to skip unchanged downloads).
    pub fn document(
        &mut self,
        kind: SourceKind,
        name: &str,
    ) -> Result<Option<StoredDocument>, CatalogError> {
        self.store().document(kind, name)
    }

    pub fn import(&mut self, batch: &ImportBatch) -> Result<ImportStatus, CatalogError> {
        let status = self.store().write_batch(batch)?;
        if status != ImportStatus::Unchanged {
            self.changed = true;
        }
        Ok(status)
    }

    /// Derives, commits and atomically replaces the catalog. When nothing
    /// changed the catalog file is left untouched (or not created).
    pub fn commit(mut self) -> Result<(), CatalogError> {
        let store = self.store.take().expect("store is present until commit");
        let temp = self.temp.clone();
        // Nothing imported: no catalog is created (a failed import must not
        // leave an empty one behind) and an existing one is left untouched.
        if !self.changed {
            drop(store);
            let _ = std::fs::remove_file(&temp);
            return Ok(());
        }
        crate::derive::derive(&store.conn, &store.path)?;
        store
            .conn
            .execute_batch("COMMIT;")
            .map_err(CatalogError::sqlite(&temp))?;
        store.conn.close().map_err(|(_, e)| CatalogError::Sqlite {
            path: temp.clone(),
            source: e,
        })?;
        if let Ok(f) = std::fs::File::open(&temp) {
            let _ = f.sync_all();
        }
        std::fs::rename(&temp, &self.target).map_err(|source| CatalogError::Io {
            file: self.target.display().to_string(),
            source,
        })?;
        // The rename is durable once the folder is.
        if let Some(dir) = self.target.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = std::fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for ImportSession {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            drop(store);
        }
        // After a commit the temporary file has been renamed; removing it is
        // a no-op. The lock is released when `_lock` is closed.
        let _ = std::fs::remove_file(&self.temp);
        let mut journal = self.temp.clone().into_os_string();
        journal.push("-journal");
        let _ = std::fs::remove_file(journal);
    }
}
