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

pub(crate) mod guard;
mod load;
mod schema;
mod session;
mod write;

use crate::batch::SourceKind;
use crate::error::CatalogError;
use guard::{Identity, open_read_only, too_new};
use rusqlite::Connection;
use std::path::{Path, PathBuf};

pub use guard::APPLICATION_ID;
pub(crate) use load::{LoadedFix, LoadedUpdate};
pub use schema::SCHEMA_VERSION;
pub use session::ImportSession;

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

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn documents(&self) -> Result<Vec<StoredDocument>, CatalogError> {
        self.rows(
            "SELECT id, source_kind, format, name, content_hash, initial_release, current_release, imported_at
             FROM documents ORDER BY source_kind, name",
            [],
            |r| {
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
            },
        )
    }

    /// Every row `sql` returns for `params`, each read by `row`.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, CatalogError> {
        let e = || CatalogError::sqlite(&self.path);
        let mut stmt = self.conn.prepare(sql).map_err(e())?;
        let it = stmt.query_map(params, row).map_err(e())?;
        it.collect::<Result<Vec<_>, _>>().map_err(e())
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
}
