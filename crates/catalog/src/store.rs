//! The SQLite store.
//!
//! ## Schema (version 1, `PRAGMA user_version`)
//!
//! * `documents` — one row per imported source document: source kind
//!   (`cvrf`/`wesng`), format (`cvrf-xml`/`cvrf-json`/`wesng`), name (CVRF ID
//!   or CSV file name), content hash (SHA-256), CVRF initial/current release
//!   dates, import time.
//! * `products` (servicing products) and `raw_products` (names as the sources
//!   spell them, with the servicing product, architecture and Server Core flag).
//! * `update_products` — KB × raw product × document: SubType, FixedBuild,
//!   RestartRequired.
//! * `supersedence` — newer KB, older KB, raw product, document.
//! * `cves` — KB × servicing product × CVE × document: severity (0 unknown
//!   … 4 critical, the worst over the product's raw names), impact, WES-NG
//!   DatePosted (the earliest). Kept per servicing product: the raw names of
//!   one product (x64/x86, Server Core) always share a CVE's rating, and this
//!   halves the largest table.
//! * `update_documents` — KB × document: title, WES-NG release estimate (the
//!   most common DatePosted of the KB's rows), and for CVRF how the document
//!   lists the KB (`native`, `clean` counts and dates, see
//!   [`crate::batch::Listing`]; schema 2).
//! * Derived after every import ([`crate::derive`]): `updates` (KB, kind and
//!   why it was inferred, title, release date, the rule and document it came
//!   from, worst severity, and its CVEs as `CVE-…:rank` words — one row per KB
//!   so that the catalog loads in milliseconds).
//!
//! Every fact carries its document, which is its provenance. Re-importing a
//! document with the same content hash changes nothing; a changed document
//! replaces that document's rows.
//!
//! ## Whose file it is
//!
//! A catalog carries `PRAGMA application_id` [`APPLICATION_ID`]. Reading
//! commands open it read-only ([`Store::open`]) and refuse any other SQLite
//! file (and an empty one) with [`CatalogError::NotACatalog`]: `--catalog
//! other-app.db catalog stats` must not add tables to someone else's
//! database. Only an import ([`ImportSession`]) creates or migrates a
//! catalog, and only at a path that does not exist, an empty file, or a
//! lockstep catalog. Catalogs written before the application id (schema 1,
//! id 0, lockstep's tables) are recognised by their tables and get the id on
//! their next import.
//!
//! ## Atomic imports
//!
//! Imports run in an [`ImportSession`]: the catalog is copied to a temporary
//! file next to it (or a fresh one is created), written there with
//! `journal_mode=OFF, synchronous=OFF` in one transaction, and renamed over the
//! catalog on commit. A failure at any point (a bad file, a dropped download)
//! leaves the catalog exactly as it was. One import at a time holds an OS
//! lock (`flock`) on `.NAME.lock` beside the catalog, which dies with the
//! process: after a `kill -9` the next import takes the lock and removes the
//! temporary files (`.NAME.import-PID`) the dead one left.

use crate::batch::{ImportBatch, SourceKind};
use crate::error::CatalogError;
pub use crate::guard::APPLICATION_ID;
use crate::guard::{
    Identity, ImportLock, acquire_lock, identify, import_target, io_error, open_read_only,
    remove_stale_temporaries, too_new,
};
use crate::product::normalize_product;
use lockstep_model::KbId;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const SCHEMA_VERSION: i64 = 2;

const MIGRATIONS: &[&str] = &[
    // 0 → 1
    r#"
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        source_kind TEXT NOT NULL,
        format TEXT NOT NULL,
        name TEXT NOT NULL,
        title TEXT,
        content_hash TEXT NOT NULL,
        initial_release TEXT,
        current_release TEXT,
        imported_at TEXT NOT NULL,
        UNIQUE (source_kind, name)
    );
    CREATE TABLE products (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE raw_products (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        product_id INTEGER NOT NULL REFERENCES products(id),
        architecture TEXT,
        server_core INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE update_products (
        kb INTEGER NOT NULL,
        raw_product_id INTEGER NOT NULL,
        document_id INTEGER NOT NULL,
        subtype TEXT,
        fixed_build TEXT,
        restart_required TEXT,
        PRIMARY KEY (kb, raw_product_id, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE supersedence (
        newer INTEGER NOT NULL,
        older INTEGER NOT NULL,
        raw_product_id INTEGER NOT NULL,
        document_id INTEGER NOT NULL,
        PRIMARY KEY (newer, older, raw_product_id, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE cves (
        kb INTEGER NOT NULL,
        product_id INTEGER NOT NULL,
        cve TEXT NOT NULL,
        document_id INTEGER NOT NULL,
        severity INTEGER NOT NULL,
        impact TEXT,
        date_posted TEXT,
        PRIMARY KEY (kb, product_id, cve, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE update_documents (
        kb INTEGER NOT NULL,
        document_id INTEGER NOT NULL,
        title TEXT,
        date_estimate TEXT,
        PRIMARY KEY (kb, document_id)
    ) WITHOUT ROWID;
    CREATE TABLE updates (
        kb INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT,
        release_date TEXT,
        release_date_source TEXT,
        max_severity INTEGER NOT NULL DEFAULT 0,
        cves TEXT
    );
    "#,
    // 1 → 2: how each CVRF document lists a KB (release dates, see
    // `derive::dates`), the document a date comes from, why a kind was
    // inferred. CVRF documents imported before lack the listing facts: their
    // content hashes are cleared so that the next import or update reads
    // them again.
    r#"
    ALTER TABLE update_documents ADD COLUMN native INTEGER;
    ALTER TABLE update_documents ADD COLUMN clean INTEGER;
    ALTER TABLE update_documents ADD COLUMN native_date TEXT;
    ALTER TABLE update_documents ADD COLUMN clean_date TEXT;
    ALTER TABLE updates ADD COLUMN release_document TEXT;
    ALTER TABLE updates ADD COLUMN kind_note TEXT;
    UPDATE documents SET content_hash = '' WHERE source_kind = 'cvrf';
    "#,
];

/// What happened to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ImportStatus {
    /// New document.
    Imported,
    /// Known document with a different content hash: its rows were replaced.
    Replaced,
    /// Same content hash as before: nothing changed.
    Unchanged,
}

/// A document already in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub id: i64,
    pub kind: SourceKind,
    pub format: String,
    pub name: String,
    pub content_hash: String,
    pub initial_release: Option<String>,
    pub current_release: Option<String>,
    pub imported_at: String,
}

/// An open catalog database.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

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
    /// Opens an existing catalog read-only. Never changes the file: a file
    /// that is not a lockstep catalog of this schema is an error.
    pub fn open(path: &Path) -> Result<Store, CatalogError> {
        if !path.exists() {
            return Err(CatalogError::NotFound(path.to_path_buf()));
        }
        let not_catalog = |why: String| CatalogError::NotACatalog {
            path: path.to_path_buf(),
            why,
        };
        if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            return Err(not_catalog("not a regular file".into()));
        }
        let (conn, identity) = open_read_only(path)?;
        match identity {
            Identity::Catalog(v) if v > SCHEMA_VERSION => Err(too_new(path, v)),
            Identity::Catalog(v) if v < SCHEMA_VERSION => Err(not_catalog(format!(
                "schema version {v}: run `lockstep catalog import` or `catalog update` to bring it up to date"
            ))),
            Identity::Catalog(_) => Ok(Store {
                conn,
                path: path.to_path_buf(),
            }),
            Identity::Empty => Err(not_catalog("an empty file".into())),
            Identity::Foreign(why) => Err(not_catalog(why)),
        }
    }

    /// A store over an already opened and identified connection (the
    /// bundled catalog, deserialised in memory).
    pub(crate) fn from_connection(conn: Connection, path: PathBuf) -> Store {
        Store { conn, path }
    }

    /// The date of the newest data the catalog holds: the newest CVRF
    /// document's CurrentReleaseDate, or the date in a WES-NG file name
    /// (`CVEs_20260628.csv`), whichever is later.
    pub fn data_date(&self) -> Result<Option<jiff::civil::Date>, CatalogError> {
        Ok(self
            .documents()?
            .iter()
            .filter_map(|d| match d.kind {
                SourceKind::Cvrf => d
                    .current_release
                    .as_deref()
                    .and_then(crate::batch::parse_iso_date_prefix),
                SourceKind::Wesng => d
                    .name
                    .strip_prefix("CVEs_")
                    .and_then(|n| n.strip_suffix(".csv"))
                    .and_then(|n| jiff::civil::Date::strptime("%Y%m%d", n).ok()),
                SourceKind::Model => None,
            })
            .max())
    }

    /// Opens or creates a catalog at `path` (used for the temporary import copy).
    fn create(path: &Path) -> Result<Store, CatalogError> {
        let conn = Connection::open(path).map_err(CatalogError::sqlite(path))?;
        migrate(&conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn documents(&self) -> Result<Vec<StoredDocument>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, source_kind, format, name, content_hash, initial_release, current_release, imported_at
                 FROM documents ORDER BY source_kind, name",
            )
            .map_err(CatalogError::sqlite(&self.path))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredDocument {
                    id: r.get(0)?,
                    kind: SourceKind::parse(&r.get::<_, String>(1)?).unwrap_or(SourceKind::Cvrf),
                    format: r.get(2)?,
                    name: r.get(3)?,
                    content_hash: r.get(4)?,
                    initial_release: r.get(5)?,
                    current_release: r.get(6)?,
                    imported_at: r.get(7)?,
                })
            })
            .map_err(CatalogError::sqlite(&self.path))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(CatalogError::sqlite(&self.path))
    }

    pub fn document(
        &self,
        kind: SourceKind,
        name: &str,
    ) -> Result<Option<StoredDocument>, CatalogError> {
        Ok(self
            .documents()?
            .into_iter()
            .find(|d| d.kind == kind && d.name == name))
    }

    /// Writes one document's facts (the caller holds the transaction).
    fn write_batch(&mut self, batch: &ImportBatch) -> Result<ImportStatus, CatalogError> {
        let path = self.path.clone();
        let kind = batch.format.kind();
        let existing: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, content_hash FROM documents WHERE source_kind = ?1 AND name = ?2",
                params![kind.as_str(), batch.name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(CatalogError::sqlite(&path))?;
        let status = match &existing {
            Some((_, hash)) if *hash == batch.content_hash => return Ok(ImportStatus::Unchanged),
            Some(_) => ImportStatus::Replaced,
            None => ImportStatus::Imported,
        };
        let c = &self.conn;
        let now = jiff::Timestamp::now().to_string();
        let initial = batch.initial_release.map(|d| d.to_string());
        let doc_id: i64 = match existing {
            Some((id, _)) => {
                for table in [
                    "update_products",
                    "supersedence",
                    "cves",
                    "update_documents",
                ] {
                    c.execute(&format!("DELETE FROM {table} WHERE document_id = ?1"), [id])
                        .map_err(CatalogError::sqlite(&path))?;
                }
                c.execute(
                    "UPDATE documents SET format = ?2, title = ?3, content_hash = ?4, initial_release = ?5,
                     current_release = ?6, imported_at = ?7 WHERE id = ?1",
                    params![
                        id,
                        batch.format.as_str(),
                        batch.title,
                        batch.content_hash,
                        initial,
                        batch.current_release,
                        now
                    ],
                )
                .map_err(CatalogError::sqlite(&path))?;
                id
            }
            None => {
                c.execute(
                    "INSERT INTO documents (source_kind, format, name, title, content_hash, initial_release, current_release, imported_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        kind.as_str(),
                        batch.format.as_str(),
                        batch.name,
                        batch.title,
                        batch.content_hash,
                        initial,
                        batch.current_release,
                        now
                    ],
                )
                .map_err(CatalogError::sqlite(&path))?;
                c.last_insert_rowid()
            }
        };

        // Raw products → ids (creating servicing products as needed).
        let mut raw_ids: Vec<i64> = Vec::with_capacity(batch.products.len());
        let mut servicing_ids: Vec<i64> = Vec::with_capacity(batch.products.len());
        {
            let mut find_raw = c
                .prepare_cached("SELECT id, product_id FROM raw_products WHERE name = ?1")
                .map_err(CatalogError::sqlite(&path))?;
            let mut find_product = c
                .prepare_cached("SELECT id FROM products WHERE name = ?1")
                .map_err(CatalogError::sqlite(&path))?;
            let mut insert_product = c
                .prepare_cached("INSERT INTO products (name) VALUES (?1)")
                .map_err(CatalogError::sqlite(&path))?;
            let mut insert_raw = c
                .prepare_cached(
                    "INSERT INTO raw_products (name, product_id, architecture, server_core) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(CatalogError::sqlite(&path))?;
            for raw in &batch.products.names {
                let id: Option<(i64, i64)> = find_raw
                    .query_row([raw], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .map_err(CatalogError::sqlite(&path))?;
                let (id, pid) = match id {
                    Some(ids) => ids,
                    None => {
                        let n = normalize_product(raw);
                        let pid: Option<i64> = find_product
                            .query_row([&n.servicing_name], |r| r.get(0))
                            .optional()
                            .map_err(CatalogError::sqlite(&path))?;
                        let pid = match pid {
                            Some(p) => p,
                            None => {
                                insert_product
                                    .execute([&n.servicing_name])
                                    .map_err(CatalogError::sqlite(&path))?;
                                c.last_insert_rowid()
                            }
                        };
                        insert_raw
                            .execute(params![
                                raw,
                                pid,
                                n.architecture.map(|a| a.as_str()),
                                n.server_core
                            ])
                            .map_err(CatalogError::sqlite(&path))?;
                        (c.last_insert_rowid(), pid)
                    }
                };
                raw_ids.push(id);
                servicing_ids.push(pid);
            }
        }
        let raw = |i: u32| raw_ids.get(i as usize).copied().unwrap_or(0);

        // Sorted in primary-key order so the B-trees are appended to, not split.
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO update_products (kb, raw_product_id, document_id, subtype, fixed_build, restart_required)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(CatalogError::sqlite(&path))?;
            let mut rows: Vec<_> = batch
                .fixes
                .iter()
                .map(|((kb, p), f)| (kb.0, raw(*p), f))
                .collect();
            rows.sort_unstable_by_key(|(kb, p, _)| (*kb, *p));
            for (kb, p, f) in rows {
                stmt.execute(params![
                    kb,
                    p,
                    doc_id,
                    f.subtype,
                    f.fixed_build.map(|v| v.to_string()),
                    f.restart_required
                ])
                .map_err(CatalogError::sqlite(&path))?;
            }
        }
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO supersedence (newer, older, raw_product_id, document_id) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(CatalogError::sqlite(&path))?;
            let mut rows: Vec<_> = batch
                .edges
                .keys()
                .map(|(n, o, p)| (n.0, o.0, raw(*p)))
                .collect();
            rows.sort_unstable();
            for (n, o, p) in rows {
                stmt.execute(params![n, o, p, doc_id])
                    .map_err(CatalogError::sqlite(&path))?;
            }
        }
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO cves (kb, product_id, cve, document_id, severity, impact, date_posted)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(CatalogError::sqlite(&path))?;
            let servicing = |i: u32| servicing_ids.get(i as usize).copied().unwrap_or(0);
            let mut merged: crate::batch::HashMap<(u32, i64, u32), crate::batch::CveFacts> =
                crate::batch::HashMap::default();
            for ((kb, p, cve), f) in &batch.cves {
                let e = merged
                    .entry((kb.0, servicing(*p), *cve))
                    .or_insert_with(|| f.clone());
                e.severity = e.severity.max(f.severity);
                if e.impact.is_none() {
                    e.impact = f.impact.clone();
                }
                e.date_posted = match (e.date_posted, f.date_posted) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            let mut rows: Vec<_> = merged
                .iter()
                .map(|((kb, p, cve), f)| (*kb, *p, batch.cve_ids.get(*cve), f))
                .collect();
            rows.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
            let mut date_text: HashMap<jiff::civil::Date, String> = HashMap::new();
            for (kb, p, cve, f) in rows {
                let date = f
                    .date_posted
                    .map(|d| date_text.entry(d).or_insert_with(|| d.to_string()).as_str());
                stmt.execute(params![
                    kb,
                    p,
                    cve,
                    doc_id,
                    f.severity as i64,
                    f.impact,
                    date
                ])
                .map_err(CatalogError::sqlite(&path))?;
            }
        }
        {
            let mut stmt = c
                .prepare_cached(
                    "INSERT INTO update_documents (kb, document_id, title, date_estimate, native, clean, native_date, clean_date)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(CatalogError::sqlite(&path))?;
            let mut rows: Vec<_> = batch.kbs.iter().collect();
            rows.sort_unstable_by_key(|(kb, _)| **kb);
            for (kb, f) in rows {
                let listing = match (kind, batch.initial_release) {
                    (SourceKind::Cvrf, Some(released)) => Some(f.listing(released)),
                    _ => None,
                };
                stmt.execute(params![
                    kb.0,
                    doc_id,
                    f.title,
                    f.date_mode().map(|d| d.to_string()),
                    listing.map(|l| l.native),
                    listing.map(|l| l.clean),
                    listing.and_then(|l| l.native_date).map(|d| d.to_string()),
                    listing.and_then(|l| l.clean_date).map(|d| d.to_string()),
                ])
                .map_err(CatalogError::sqlite(&path))?;
            }
        }
        Ok(status)
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

/// Rows of the store, as the in-memory catalog loads them (tuples in column order).
#[allow(clippy::type_complexity)]
pub(crate) struct Loaded {
    pub products: Vec<(i64, String)>,
    pub raw_products: Vec<(i64, i64, Option<String>)>,
    pub documents: Vec<(i64, String, String)>,
    pub updates: Vec<LoadedUpdate>,
    pub update_products: Vec<LoadedFix>,
    /// Distinct SubType / RestartRequired words, indexed by `LoadedFix`.
    pub words: Vec<String>,
    pub edges: Vec<(u32, u32, i64, i64)>,
}

/// One `update_products` row; `subtype`/`restart` index `Loaded::words`.
pub(crate) struct LoadedFix {
    pub kb: u32,
    pub raw_product: i64,
    pub document: i64,
    pub subtype: Option<u32>,
    pub fixed_build: Option<lockstep_model::WinVersion>,
    pub restart: Option<u32>,
}

pub(crate) struct LoadedUpdate {
    pub kb: u32,
    pub kind: String,
    pub kind_note: Option<String>,
    pub title: Option<String>,
    pub release_date: Option<String>,
    pub release_date_source: Option<String>,
    pub release_document: Option<String>,
    pub max_severity: i64,
    pub cves: Option<String>,
}

impl Store {
    pub(crate) fn load(&self) -> Result<Loaded, CatalogError> {
        let c = &self.conn;
        let e = || CatalogError::sqlite(&self.path);
        macro_rules! rows {
            ($sql:expr, $map:expr) => {{
                let mut stmt = c.prepare($sql).map_err(e())?;
                let it = stmt.query_map([], $map).map_err(e())?;
                it.collect::<Result<Vec<_>, _>>().map_err(e())?
            }};
        }
        // update_products is the largest table: read it without allocating a
        // string per row (SubType and RestartRequired take a handful of values).
        let mut words = crate::batch::Interner::default();
        let mut update_products = Vec::new();
        {
            let mut stmt = c
                .prepare(
                    "SELECT kb, raw_product_id, document_id, subtype, fixed_build, restart_required FROM update_products",
                )
                .map_err(e())?;
            let mut rows = stmt.query([]).map_err(e())?;
            while let Some(r) = rows.next().map_err(e())? {
                let text = |i: usize| -> Result<Option<&str>, CatalogError> {
                    let v = r.get_ref(i).map_err(e())?;
                    Ok(v.as_str_or_null().ok().flatten())
                };
                let subtype = text(3)?.map(|w| words.intern(w));
                let fixed_build = text(4)?.and_then(|b| b.parse().ok());
                let restart = text(5)?.map(|w| words.intern(w));
                update_products.push(LoadedFix {
                    kb: r.get(0).map_err(e())?,
                    raw_product: r.get(1).map_err(e())?,
                    document: r.get(2).map_err(e())?,
                    subtype,
                    fixed_build,
                    restart,
                });
            }
        }
        Ok(Loaded {
            products: rows!("SELECT id, name FROM products ORDER BY id", |r| Ok((
                r.get(0)?,
                r.get(1)?
            ))),
            raw_products: rows!(
                "SELECT id, product_id, architecture FROM raw_products",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            ),
            documents: rows!("SELECT id, source_kind, name FROM documents", |r| Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?
            ))),
            updates: rows!(
                "SELECT kb, kind, title, release_date, release_date_source, max_severity, cves, release_document, kind_note FROM updates",
                |r| Ok(LoadedUpdate {
                    kb: r.get(0)?,
                    kind: r.get(1)?,
                    title: r.get(2)?,
                    release_date: r.get(3)?,
                    release_date_source: r.get(4)?,
                    max_severity: r.get(5)?,
                    cves: r.get(6)?,
                    release_document: r.get(7)?,
                    kind_note: r.get(8)?,
                })
            ),
            update_products,
            words: words.names,
            edges: rows!(
                "SELECT newer, older, raw_product_id, document_id FROM supersedence",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            ),
        })
    }

    /// Per-product CVE rows of one KB (for `catalog show`).
    #[allow(clippy::type_complexity)]
    pub fn cves_of(
        &self,
        kb: KbId,
    ) -> Result<Vec<(String, String, i64, Option<String>, String)>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.cve, p.name, c.severity, c.impact, d.source_kind || ':' || d.name
                 FROM cves c JOIN products p ON p.id = c.product_id JOIN documents d ON d.id = c.document_id
                 WHERE c.kb = ?1 ORDER BY c.cve, p.name",
            )
            .map_err(CatalogError::sqlite(&self.path))?;
        let rows = stmt
            .query_map([kb.0], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(CatalogError::sqlite(&self.path))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(CatalogError::sqlite(&self.path))
    }

    /// Row counts per table (for `catalog stats` and tests).
    pub fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, CatalogError> {
        let mut out = Vec::new();
        for t in [
            "documents",
            "products",
            "raw_products",
            "updates",
            "update_products",
            "supersedence",
            "cves",
            "update_documents",
        ] {
            let n: i64 = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .map_err(CatalogError::sqlite(&self.path))?;
            out.push((t, n));
        }
        Ok(out)
    }
}
