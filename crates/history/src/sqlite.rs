//! The embedded store: one SQLite file (WAL, so a report can read while a
//! recorder writes; concurrent recorders wait for each other).

use crate::error::HistoryError;
use crate::record::Recording;
use crate::schema::{APPLICATION, MIGRATIONS, SCHEMA_VERSION, SQLITE_APPLICATION_ID};
use crate::sql;
use crate::store::{
    ClusterData, ClusterListing, Counts, Found, Prepared, RawCluster, RecordOutcome, Store,
    name_key,
};
use rusqlite::types::FromSql;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;
use std::path::Path;

pub struct SqliteStore {
    conn: Connection,
    target: String,
}

impl SqliteStore {
    /// Opens the history at `path`; creates it (and its folder) when
    /// `create` is set, else a missing file is [`HistoryError::NotFound`].
    pub fn open(path: &Path, create: bool) -> Result<SqliteStore, HistoryError> {
        let target = format!("SQLite {}", path.display());
        let exists = path.exists();
        if !exists && !create {
            return Err(HistoryError::NotFound(path.display().to_string()));
        }
        if !exists && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| HistoryError::Sqlite {
                target: target.clone(),
                message: format!("creating {}: {e}", dir.display()),
            })?;
        }
        let flags = if exists {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let conn =
            Connection::open_with_flags(path, flags).map_err(HistoryError::sqlite(&target))?;
        // Another recorder may hold the write lock for a while (a fleet).
        conn.busy_timeout(std::time::Duration::from_secs(120))
            .map_err(HistoryError::sqlite(&target))?;
        // In a read transaction: both looks at the file see one state of it,
        // even while another recorder creates it.
        let found = {
            let tx = conn
                .unchecked_transaction()
                .map_err(HistoryError::sqlite(&target))?;
            inspect(&tx, &target)?
        };
        found.version(&target)?;
        match found {
            // WAL is a property of the file, set once when it is created.
            // The switch takes an exclusive lock and SQLite answers "busy"
            // at once, without its busy handler, while another process
            // opens the file: retried for as long as the busy timeout.
            Found::Fresh => {
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
                loop {
                    match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                    {
                        Ok(_) => break,
                        Err(rusqlite::Error::SqliteFailure(f, _))
                            if f.code == rusqlite::ErrorCode::DatabaseBusy
                                && std::time::Instant::now() < deadline =>
                        {
                            std::thread::sleep(std::time::Duration::from_millis(20));
                        }
                        Err(e) => return Err(HistoryError::sqlite(&target)(e)),
                    }
                }
            }
            Found::Ours(_) => {}
        }
        // Only now, on a file known to be ours or empty, is anything set.
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(HistoryError::sqlite(&target))?;
        let mut store = SqliteStore { conn, target };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), HistoryError> {
        let target = self.target.clone();
        let err = HistoryError::sqlite(&target);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        // Checked again under the write lock: another process may have
        // created or migrated the file since it was opened.
        let version = inspect(&tx, &target)?.version(&target)?;
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > version) {
            tx.execute_batch(m.sqlite).map_err(&err)?;
            tx.execute(
                "UPDATE lockstep_meta SET schema_version = ?1",
                params![m.version],
            )
            .map_err(&err)?;
        }
        tx.execute_batch(&format!(
            "PRAGMA application_id = {SQLITE_APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
        ))
        .map_err(&err)?;
        tx.commit().map_err(&err)
    }
}

/// Reads what the file is without writing to it.
fn inspect(conn: &Connection, target: &str) -> Result<Found, HistoryError> {
    let foreign = |detail: String| HistoryError::Foreign {
        target: target.to_string(),
        detail,
    };
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
                foreign("not an SQLite database".into())
            }
            other => HistoryError::Sqlite {
                target: target.to_string(),
                message: other.to_string(),
            },
        })?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(HistoryError::sqlite(target))?;
    if app == SQLITE_APPLICATION_ID {
        let meta: Option<(String, i64)> = conn
            .query_row(
                "SELECT application, schema_version FROM lockstep_meta",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| foreign(format!("its lockstep_meta table cannot be read: {e}")))?;
        return match meta {
            Some((a, v)) if a == APPLICATION => Ok(Found::Ours(v)),
            Some((a, _)) => Err(foreign(format!("it belongs to {a:?}"))),
            None => Err(foreign("its lockstep_meta table is empty".into())),
        };
    }
    // lockstep's own update catalog.
    if app == lockstep_catalog::store::APPLICATION_ID {
        return Err(foreign("lockstep's update catalog, not a history".into()));
    }
    if app != 0 {
        return Err(foreign(format!(
            "an SQLite database of another application, application id {app:#010x}"
        )));
    }
    if !tables.is_empty() {
        return Err(foreign(format!(
            "an SQLite database with the tables {}",
            tables.join(", ")
        )));
    }
    Ok(Found::Fresh)
}

impl Store for SqliteStore {
    fn target(&self) -> &str {
        &self.target
    }

    fn record(&mut self, r: &Recording) -> Result<RecordOutcome, HistoryError> {
        let target = self.target.clone();
        let err = HistoryError::sqlite(&target);
        let p = Prepared::of(r);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let out = write(&tx, r, &p).map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(out)
    }

    fn clusters(&mut self) -> Result<Vec<ClusterListing>, HistoryError> {
        let err = HistoryError::sqlite(&self.target);
        let mut stmt = self
            .conn
            .prepare(&sql::for_sqlite(sql::CLUSTER_LIST))
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ClusterListing {
                    name: r.get(0)?,
                    nodes: r.get(1)?,
                    runs: r.get(2)?,
                    first: r.get(3)?,
                    last: r.get(4)?,
                    last_in_step: r.get::<_, i64>(5)? != 0,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(&err)
    }

    fn cluster(
        &mut self,
        name: &str,
        until: Option<i64>,
    ) -> Result<Option<ClusterData>, HistoryError> {
        let target = self.target.clone();
        let err = HistoryError::sqlite(&target);
        let c = &self.conn;
        let found: Option<(i64, String)> = c
            .query_row(
                &sql::for_sqlite(sql::CLUSTER_BY_KEY),
                [name_key(name)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(&err)?;
        let Some((id, name)) = found else {
            return Ok(None);
        };
        let until = until.unwrap_or(i64::MAX);
        let q = |s: &str| sql::for_sqlite(s);
        let mut raw = RawCluster {
            name,
            ..RawCluster::default()
        };
        let both = params![id, until];
        raw.nodes = rows_of(c, &q(sql::NODES_OF), [id], pair, &err)?;
        raw.runs = rows_of(
            c,
            &q(sql::RUNS_OF),
            both,
            |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? != 0,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
            &err,
        )?;
        raw.observations = rows_of(
            c,
            &q(sql::OBSERVATIONS_OF),
            both,
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
            &err,
        )?;
        raw.sets = rows_of(c, &q(sql::SETS_OF), both, pair, &err)?;
        raw.finding_sets = rows_of(c, &q(sql::FINDING_SETS_OF), both, pair, &err)?;
        raw.findings = {
            let mut s = c
                .prepare_cached("SELECT finding FROM findings WHERE id = ?1")
                .map_err(&err)?;
            raw.finding_ids()
                .into_iter()
                .map(|f| s.query_row([f], |r| r.get(0)).map(|json| (f, json)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(&err)?
        };
        raw.catalogs = rows_of(c, &q(sql::CATALOGS_OF), both, pair, &err)?;
        raw.cumulative = rows_of(c, sql::CUMULATIVE, [], pair, &err)?;
        raw.resolve(&target).map(Some)
    }

    fn streak_start(&mut self, cluster: &str, before: i64) -> Result<Option<i64>, HistoryError> {
        self.conn
            .query_row(
                &sql::for_sqlite(sql::STREAK_START),
                params![name_key(cluster), before],
                |r| r.get(0),
            )
            .map_err(HistoryError::sqlite(&self.target))
    }

    fn counts(&mut self) -> Result<Counts, HistoryError> {
        self.conn
            .query_row(sql::COUNTS, [], |r| {
                Ok(Counts {
                    clusters: r.get(0)?,
                    nodes: r.get(1)?,
                    runs: r.get(2)?,
                    observations: r.get(3)?,
                    update_sets: r.get(4)?,
                    finding_sets: r.get(5)?,
                })
            })
            .map_err(HistoryError::sqlite(&self.target))
    }
}

/// Every row `sql_text` returns for `params`, each read by `row`.
fn rows_of<T>(
    c: &Connection,
    sql_text: &str,
    params: impl rusqlite::Params,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    err: impl Fn(rusqlite::Error) -> HistoryError,
) -> Result<Vec<T>, HistoryError> {
    let mut s = c.prepare(sql_text).map_err(&err)?;
    let rows = s.query_map(params, row).map_err(&err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(&err)
}

/// The first two columns of a row.
fn pair<A: FromSql, B: FromSql>(r: &rusqlite::Row<'_>) -> rusqlite::Result<(A, B)> {
    Ok((r.get(0)?, r.get(1)?))
}

/// Looks a row up by its unique key, inserting it first when missing;
/// returns its id and whether it was inserted.
fn get_or_insert(
    tx: &Connection,
    select: &str,
    insert: &str,
    key: &dyn rusqlite::ToSql,
    values: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<(i64, bool)> {
    if let Some(id) = tx
        .prepare_cached(select)?
        .query_row([key], |r| r.get::<_, i64>(0))
        .optional()?
    {
        return Ok((id, false));
    }
    tx.prepare_cached(insert)?.execute(values)?;
    Ok((tx.last_insert_rowid(), true))
}

/// The rows of one recording, inside the caller's write transaction.
fn write(tx: &Connection, r: &Recording, p: &Prepared) -> rusqlite::Result<RecordOutcome> {
    let mut out = RecordOutcome::default();
    let mut cluster_ids: HashMap<&str, i64> = HashMap::new();
    for (key, name) in &p.clusters {
        let (id, _) = get_or_insert(
            tx,
            "SELECT id FROM clusters WHERE key = ?1",
            "INSERT INTO clusters (key, name) VALUES (?1, ?2)",
            key,
            &[key, name],
        )?;
        cluster_ids.insert(key, id);
    }
    let mut node_ids: HashMap<(&str, &str), i64> = HashMap::new();
    for (ck, nk, name) in &p.nodes {
        let cid = cluster_ids[ck.as_str()];
        tx.prepare_cached("INSERT INTO nodes (cluster_id, key, name) VALUES (?1, ?2, ?3) ON CONFLICT (cluster_id, key) DO NOTHING")?
            .execute(params![cid, nk, name])?;
        let id: i64 = tx
            .prepare_cached("SELECT id FROM nodes WHERE cluster_id = ?1 AND key = ?2")?
            .query_row(params![cid, nk], |r| r.get(0))?;
        node_ids.insert((ck, nk), id);
    }
    let mut set_ids: HashMap<&[u8], i64> = HashMap::new();
    for (hash, (count, kbs)) in &p.sets {
        let (id, new) = get_or_insert(
            tx,
            "SELECT id FROM update_sets WHERE hash = ?1",
            "INSERT INTO update_sets (hash, kb_count, kbs) VALUES (?1, ?2, ?3)",
            hash,
            &[hash, count, kbs],
        )?;
        out.update_sets_new += u64::from(new);
        set_ids.insert(hash, id);
    }
    let mut finding_ids: HashMap<&[u8], i64> = HashMap::new();
    for (hash, json) in &p.findings {
        let (id, _) = get_or_insert(
            tx,
            "SELECT id FROM findings WHERE hash = ?1",
            "INSERT INTO findings (hash, finding) VALUES (?1, ?2)",
            hash,
            &[hash, json],
        )?;
        finding_ids.insert(hash, id);
    }
    let mut fs_ids: HashMap<&[u8], i64> = HashMap::new();
    for (hash, members) in &p.finding_sets {
        let ids: Vec<i64> = members.iter().map(|h| finding_ids[h.as_slice()]).collect();
        let (id, _) = get_or_insert(
            tx,
            "SELECT id FROM finding_sets WHERE hash = ?1",
            "INSERT INTO finding_sets (hash, findings) VALUES (?1, ?2)",
            hash,
            &[hash, &crate::codec::encode_ids(&ids)],
        )?;
        fs_ids.insert(hash, id);
    }
    let catalog_id = match &r.catalog {
        None => None,
        Some(c) => Some(
            get_or_insert(
                tx,
                "SELECT id FROM catalogs WHERE fingerprint = ?1",
                "INSERT INTO catalogs (fingerprint, description, newest_release) VALUES (?1, ?2, ?3)",
                &c.fingerprint,
                &[&c.fingerprint, &c.description, &c.newest_release],
            )?
            .0,
        ),
    };
    let mut ins_cu = tx.prepare_cached(
        "INSERT INTO cumulative_updates (kb, released) VALUES (?1, ?2)
         ON CONFLICT (kb) DO UPDATE SET released = excluded.released
         WHERE cumulative_updates.released IS NULL AND excluded.released IS NOT NULL",
    )?;
    for f in &r.cumulative {
        ins_cu.execute(params![f.kb, f.released])?;
    }
    let mut ins_obs = tx.prepare_cached(
        "INSERT INTO observations (node_id, collected_at, basis, update_set, os_build, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (node_id, collected_at) DO NOTHING",
    )?;
    for o in &p.observations {
        let nid = node_ids[&(o.cluster_key.as_str(), o.node_key.as_str())];
        let set = o.set_hash.as_deref().map(|h| set_ids[h]);
        let n = ins_obs.execute(params![
            nid,
            o.collected_at,
            o.basis,
            set,
            o.os_build,
            r.recorded_at
        ])?;
        out.observations_new += n as u64;
        out.observations_known += 1 - n as u64;
    }
    let mut ins_run = tx.prepare_cached(
        "INSERT INTO runs (cluster_id, collected_at, in_step, members, finding_set, catalog_id, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (cluster_id, collected_at) DO NOTHING",
    )?;
    for run in &p.runs {
        let members: Vec<(i64, i64)> = run
            .members
            .iter()
            .map(|(nk, off)| (node_ids[&(run.cluster_key.as_str(), nk.as_str())], *off))
            .collect();
        let n = ins_run.execute(params![
            cluster_ids[run.cluster_key.as_str()],
            run.collected_at,
            i64::from(run.in_step),
            crate::codec::encode_members(&members),
            fs_ids[run.findings_hash.as_slice()],
            catalog_id,
            r.recorded_at
        ])?;
        out.runs_new += n as u64;
        out.runs_known += 1 - n as u64;
    }
    Ok(out)
}
