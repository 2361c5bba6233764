//! History: every check can be recorded, so lockstep can say since when a
//! cluster's nodes are out of step, how long drift took to close, and which
//! node quietly fell behind.
//!
//! The stage after check: a [`Recording`] is built from the check's inputs
//! and findings ([`record::recording`]) and written into a [`Store`]: the
//! embedded SQLite file (default `$XDG_DATA_HOME/lockstep/history.sqlite3`)
//! or a shared PostgreSQL that collectors at many sites write into.
//! [`timeline::history`] turns one cluster's stored runs into a typed
//! [`HistoryReport`], which the report crate renders.
//!
//! Observations are keyed by node and *collected-at* time (what the input
//! says, else its files' modification time), never by the time of
//! recording: recording a snapshot twice stores it once, and a snapshot
//! collected yesterday and recorded today lands on yesterday. Update sets
//! are stored once per distinct content ([`codec`]), so a year of daily
//! runs of a large fleet stays small.

pub mod codec;
pub mod error;
pub mod postgres;
pub mod record;
pub mod schema;
mod sql;
pub mod sqlite;
pub mod store;
pub mod timeline;

pub use error::HistoryError;
pub use record::{CatalogStamp, Recording, RecordingBuilder, RunRecord, recording, run_of};
pub use store::{ClusterListing, Counts, RecordOutcome, Store};
pub use timeline::{HistoryReport, Time, Window, days_between, history};

use std::path::PathBuf;

/// Where the history lives, as `--history` or `LOCKSTEP_HISTORY` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Target {
    /// A `postgres://` or `postgresql://` URL, else a file path.
    pub fn parse(s: &str) -> Target {
        let lower = s.get(..13).unwrap_or(s).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Target::Postgres(s.to_string())
        } else {
            Target::Sqlite(PathBuf::from(s))
        }
    }

    /// `$XDG_DATA_HOME/lockstep/history.sqlite3` (see
    /// [`lockstep_catalog::data_dir`]).
    pub fn default_sqlite() -> Target {
        Target::Sqlite(lockstep_catalog::data_dir().join("history.sqlite3"))
    }

    /// Whether there is something to read (a PostgreSQL URL always may be).
    pub fn exists(&self) -> bool {
        match self {
            Target::Sqlite(p) => p.exists(),
            Target::Postgres(_) => true,
        }
    }

    /// Opens the store; with `create`, a missing file or empty database
    /// becomes a new history (a recorder), else it is an error (a reader).
    pub fn open(&self, create: bool) -> Result<Box<dyn Store>, HistoryError> {
        Ok(match self {
            Target::Sqlite(p) => Box::new(sqlite::SqliteStore::open(p, create)?),
            Target::Postgres(url) => Box::new(postgres::PgStore::connect(url, create)?),
        })
    }
}

/// "Out of step since …" for a cluster as a check sees it now: `run` is
/// the check's own observation (recorded or not), the store says how long
/// the runs before it were out of step. `None` when the nodes are in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfStep {
    pub since: i64,
    pub days: i64,
    pub as_of: i64,
}

pub fn out_of_step(
    store: &mut dyn Store,
    run: &RunRecord,
) -> Result<Option<OutOfStep>, HistoryError> {
    if run.in_step() {
        return Ok(None);
    }
    let since = store
        .streak_start(&run.cluster, run.collected_at)?
        .unwrap_or(run.collected_at)
        .min(run.collected_at);
    Ok(Some(OutOfStep {
        since,
        days: days_between(since, run.collected_at),
        as_of: run.collected_at,
    }))
}
