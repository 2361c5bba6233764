//! The shared store: a PostgreSQL database that many collectors write into.
//!
//! Each recording is one transaction. Every insert goes through a unique
//! key with `ON CONFLICT DO NOTHING`, so two collectors recording the same
//! snapshot store it once, and rows are inserted in key order, so two
//! transactions that touch the same keys wait for each other rather than
//! deadlock (a deadlock or serialization failure is retried all the same).
//! Migrations run under an advisory lock. A database that holds tables of
//! another application is refused: point `--history` at a database (or a
//! schema, with `?options=-csearch_path%3Dlockstep`) of its own.

use crate::error::{HistoryError, postgres_message};
use crate::record::Recording;
use crate::schema::{APPLICATION, MIGRATIONS, PG_MIGRATION_LOCK, SCHEMA_VERSION};
use crate::sql;
use crate::store::{
    ClusterData, ClusterListing, Counts, Found, Prepared, RawCluster, RecordOutcome, Store,
    name_key,
};
use postgres::error::SqlState;
use postgres::types::{FromSqlOwned, ToSql};
use postgres::{Client, GenericClient, NoTls};
use std::collections::HashMap;
use std::time::Duration;

pub struct PgStore {
    client: Client,
    target: String,
}

/// `PostgreSQL user@host:port/db` (the password is never shown).
fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, port)| match h {
            postgres::config::Host::Tcp(h) => format!("{h}:{port}"),
            #[cfg(unix)]
            postgres::config::Host::Unix(p) => format!("{}:{port}", p.display()),
        })
        .collect();
    format!(
        "PostgreSQL {}{}/{}",
        config
            .get_user()
            .map(|u| format!("{u}@"))
            .unwrap_or_default(),
        if hosts.is_empty() {
            "localhost".to_string()
        } else {
            hosts.join(",")
        },
        config.get_dbname().unwrap_or("")
    )
}

/// Every row `sql_text` returns for `params`, each read by `row`.
fn rows_of<T>(
    c: &mut Client,
    sql_text: &str,
    params: &[&(dyn ToSql + Sync)],
    row: impl FnMut(&postgres::Row) -> T,
    err: impl Fn(postgres::Error) -> HistoryError,
) -> Result<Vec<T>, HistoryError> {
    Ok(c.query(sql_text, params)
        .map_err(err)?
        .iter()
        .map(row)
        .collect())
}

/// The first two columns of a row.
fn pair<A: FromSqlOwned, B: FromSqlOwned>(r: &postgres::Row) -> (A, B) {
    (r.get(0), r.get(1))
}

fn inspect(c: &mut impl GenericClient, target: &str) -> Result<Found, HistoryError> {
    let err = HistoryError::postgres(target);
    let foreign = |detail: String| HistoryError::Foreign {
        target: target.to_string(),
        detail,
    };
    // One statement, one snapshot: another collector may be creating the
    // schema right now, and its tables must not be seen without its
    // lockstep_meta (the tables of "another application").
    let row = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
                 WHERE schemaname = current_schema() AND tablename = 'lockstep_meta'),
             ARRAY(SELECT tablename::text FROM pg_catalog.pg_tables
                 WHERE schemaname = current_schema() ORDER BY 1 LIMIT 11)",
            &[],
        )
        .map_err(&err)?;
    let has_meta: bool = row.get(0);
    let tables: Vec<String> = row.get(1);
    if has_meta {
        let rows = c
            .query("SELECT application, schema_version FROM lockstep_meta", &[])
            .map_err(|e| {
                foreign(format!(
                    "its lockstep_meta table cannot be read: {}",
                    postgres_message(&e)
                ))
            })?;
        return match rows.first() {
            Some(r) => {
                let app: String = r.try_get(0).map_err(&err)?;
                let version: i64 = r.try_get(1).map_err(&err)?;
                if app == APPLICATION {
                    Ok(Found::Ours(version))
                } else {
                    Err(foreign(format!("it belongs to {app:?}")))
                }
            }
            None => Err(foreign("its lockstep_meta table is empty".into())),
        };
    }
    if !tables.is_empty() {
        let more = if tables.len() > 10 { ", ..." } else { "" };
        return Err(foreign(format!(
            "the database holds the tables {}{more} of another application",
            tables[..tables.len().min(10)].join(", ")
        )));
    }
    Ok(Found::Fresh)
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?...`);
    /// creates the schema in an empty database when `create` is set.
    pub fn connect(url: &str, create: bool) -> Result<PgStore, HistoryError> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            HistoryError::Input(format!(
                "--history: not a PostgreSQL connection URL (postgres://user@host:port/database): {e}"
            ))
        })?;
        config.application_name("lockstep");
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let target = describe(&config);
        let mut client = config.connect(NoTls).map_err(|e| HistoryError::Postgres {
            target: target.clone(),
            message: format!("cannot connect: {}", postgres_message(&e)),
        })?;
        let found = inspect(&mut client, &target)?;
        found.version(&target)?;
        match found {
            Found::Ours(v) if v == SCHEMA_VERSION => return Ok(PgStore { client, target }),
            Found::Fresh if !create => return Err(HistoryError::NotFound(target)),
            _ => {}
        }
        let mut store = PgStore { client, target };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), HistoryError> {
        let target = self.target.clone();
        let err = HistoryError::postgres(&target);
        let mut tx = self.client.transaction().map_err(&err)?;
        tx.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock({PG_MIGRATION_LOCK})"
        ))
        .map_err(&err)?;
        // Checked again under the lock: another collector may have migrated.
        let version = inspect(&mut tx, &target)?.version(&target)?;
        for m in MIGRATIONS.iter().filter(|m| m.version > version) {
            tx.batch_execute(m.postgres).map_err(&err)?;
            tx.execute(
                "UPDATE lockstep_meta SET schema_version = $1",
                &[&m.version],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    fn record_once(
        &mut self,
        r: &Recording,
        p: &Prepared,
    ) -> Result<RecordOutcome, postgres::Error> {
        let mut tx = self.client.transaction()?;
        let mut out = RecordOutcome::default();
        let (cluster_ids, node_ids) = name_ids(&mut tx, p)?;
        let node_id = |ck: &str, nk: &str| node_ids[&(cluster_ids[ck], nk.to_string())];
        let set_ids = update_set_ids(&mut tx, p, &mut out)?;
        let fs_ids = finding_set_ids(&mut tx, p)?;
        let catalog_id = catalog_id(&mut tx, r)?;
        // Observations.
        let o_node: Vec<i64> = p
            .observations
            .iter()
            .map(|o| node_id(&o.cluster_key, &o.node_key))
            .collect();
        let o_at: Vec<i64> = p.observations.iter().map(|o| o.collected_at).collect();
        let o_basis: Vec<i16> = p.observations.iter().map(|o| o.basis).collect();
        let o_set: Vec<Option<i64>> = p
            .observations
            .iter()
            .map(|o| o.set_hash.as_ref().map(|h| set_ids[h]))
            .collect();
        let o_build: Vec<Option<&str>> = p
            .observations
            .iter()
            .map(|o| o.os_build.as_deref())
            .collect();
        out.observations_new = tx.execute(
            "INSERT INTO observations (node_id, collected_at, basis, update_set, os_build, recorded_at)
             SELECT n, t, b, s, o, $6 FROM unnest($1::int8[], $2::int8[], $3::int2[], $4::int8[], $5::text[]) AS x(n, t, b, s, o)
             ORDER BY n, t ON CONFLICT (node_id, collected_at) DO NOTHING",
            &[&o_node, &o_at, &o_basis, &o_set, &o_build, &r.recorded_at],
        )?;
        out.observations_known = p.observations.len() as u64 - out.observations_new;
        // Runs.
        let r_cluster: Vec<i64> = p.runs.iter().map(|x| cluster_ids[&x.cluster_key]).collect();
        let r_at: Vec<i64> = p.runs.iter().map(|x| x.collected_at).collect();
        let r_in: Vec<i16> = p.runs.iter().map(|x| i16::from(x.in_step)).collect();
        let r_members: Vec<Vec<u8>> = p
            .runs
            .iter()
            .map(|x| {
                let m: Vec<(i64, i64)> = x
                    .members
                    .iter()
                    .map(|(nk, off)| (node_id(&x.cluster_key, nk), *off))
                    .collect();
                crate::codec::encode_members(&m)
            })
            .collect();
        let r_fs: Vec<i64> = p.runs.iter().map(|x| fs_ids[&x.findings_hash]).collect();
        out.runs_new = tx.execute(
            "INSERT INTO runs (cluster_id, collected_at, in_step, members, finding_set, catalog_id, recorded_at)
             SELECT c, t, i, m, f, $6, $7 FROM unnest($1::int8[], $2::int8[], $3::int2[], $4::bytea[], $5::int8[]) AS x(c, t, i, m, f)
             ORDER BY c, t ON CONFLICT (cluster_id, collected_at) DO NOTHING",
            &[&r_cluster, &r_at, &r_in, &r_members, &r_fs, &catalog_id, &r.recorded_at],
        )?;
        out.runs_known = p.runs.len() as u64 - out.runs_new;
        tx.commit()?;
        Ok(out)
    }
}

type Tx<'a> = postgres::Transaction<'a>;

/// Cluster ids by key, node ids by (cluster id, key): inserted when missing.
#[allow(clippy::type_complexity)]
fn name_ids(
    tx: &mut Tx<'_>,
    p: &Prepared,
) -> Result<(HashMap<String, i64>, HashMap<(i64, String), i64>), postgres::Error> {
    let keys: Vec<&str> = p.clusters.iter().map(|(k, _)| k.as_str()).collect();
    let names: Vec<&str> = p.clusters.iter().map(|(_, n)| n.as_str()).collect();
    tx.execute(
        "INSERT INTO clusters (key, name) SELECT k, n FROM unnest($1::text[], $2::text[]) AS t(k, n)
         ORDER BY k ON CONFLICT (key) DO NOTHING",
        &[&keys, &names],
    )?;
    let cluster_ids: HashMap<String, i64> = tx
        .query("SELECT key, id FROM clusters WHERE key = ANY($1)", &[&keys])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let n_cluster: Vec<i64> = p.nodes.iter().map(|(c, _, _)| cluster_ids[c]).collect();
    let n_key: Vec<&str> = p.nodes.iter().map(|(_, k, _)| k.as_str()).collect();
    let n_name: Vec<&str> = p.nodes.iter().map(|(_, _, n)| n.as_str()).collect();
    tx.execute(
        "INSERT INTO nodes (cluster_id, key, name)
         SELECT c, k, n FROM unnest($1::int8[], $2::text[], $3::text[]) AS t(c, k, n)
         ORDER BY c, k ON CONFLICT (cluster_id, key) DO NOTHING",
        &[&n_cluster, &n_key, &n_name],
    )?;
    let node_ids = tx
        .query(
            "SELECT n.cluster_id, n.key, n.id FROM nodes n
             JOIN unnest($1::int8[], $2::text[]) AS t(c, k) ON n.cluster_id = t.c AND n.key = t.k",
            &[&n_cluster, &n_key],
        )?
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    Ok((cluster_ids, node_ids))
}

/// Update set ids by hash; only the sets the store lacks are sent.
fn update_set_ids(
    tx: &mut Tx<'_>,
    p: &Prepared,
    out: &mut RecordOutcome,
) -> Result<HashMap<Vec<u8>, i64>, postgres::Error> {
    let hashes: Vec<&[u8]> = p.sets.keys().map(|h| h.as_slice()).collect();
    let mut ids: HashMap<Vec<u8>, i64> = tx
        .query(
            "SELECT hash, id FROM update_sets WHERE hash = ANY($1)",
            &[&hashes],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    type Row<'r> = (&'r Vec<u8>, &'r (i32, Vec<u8>));
    let missing: Vec<Row> = p
        .sets
        .iter()
        .filter(|(h, _)| !ids.contains_key(*h))
        .collect();
    if missing.is_empty() {
        return Ok(ids);
    }
    let h: Vec<&[u8]> = missing.iter().map(|(h, _)| h.as_slice()).collect();
    let c: Vec<i32> = missing.iter().map(|(_, (c, _))| *c).collect();
    let k: Vec<&[u8]> = missing.iter().map(|(_, (_, k))| k.as_slice()).collect();
    out.update_sets_new = tx.execute(
        "INSERT INTO update_sets (hash, kb_count, kbs)
         SELECT h, c, k FROM unnest($1::bytea[], $2::int4[], $3::bytea[]) AS t(h, c, k)
         ORDER BY h ON CONFLICT (hash) DO NOTHING",
        &[&h, &c, &k],
    )?;
    for r in tx.query(
        "SELECT hash, id FROM update_sets WHERE hash = ANY($1)",
        &[&h],
    )? {
        ids.insert(r.get(0), r.get(1));
    }
    Ok(ids)
}

/// Ids of the recording's findings and finding sets (each by hash),
/// inserted when missing.
fn finding_set_ids(
    tx: &mut Tx<'_>,
    p: &Prepared,
) -> Result<HashMap<Vec<u8>, i64>, postgres::Error> {
    let fh: Vec<&[u8]> = p.findings.keys().map(|h| h.as_slice()).collect();
    let fj: Vec<&str> = p.findings.values().map(|j| j.as_str()).collect();
    tx.execute(
        "INSERT INTO findings (hash, finding)
         SELECT h, f FROM unnest($1::bytea[], $2::text[]) AS t(h, f)
         ORDER BY h ON CONFLICT (hash) DO NOTHING",
        &[&fh, &fj],
    )?;
    let finding_ids: HashMap<Vec<u8>, i64> = tx
        .query("SELECT hash, id FROM findings WHERE hash = ANY($1)", &[&fh])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let sh: Vec<&[u8]> = p.finding_sets.keys().map(|h| h.as_slice()).collect();
    let blobs: Vec<Vec<u8>> = p
        .finding_sets
        .values()
        .map(|members| {
            let ids: Vec<i64> = members.iter().map(|h| finding_ids[h]).collect();
            crate::codec::encode_ids(&ids)
        })
        .collect();
    tx.execute(
        "INSERT INTO finding_sets (hash, findings)
         SELECT h, f FROM unnest($1::bytea[], $2::bytea[]) AS t(h, f)
         ORDER BY h ON CONFLICT (hash) DO NOTHING",
        &[&sh, &blobs],
    )?;
    Ok(tx
        .query(
            "SELECT hash, id FROM finding_sets WHERE hash = ANY($1)",
            &[&sh],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The catalog's id, and the cumulative updates it knows.
fn catalog_id(tx: &mut Tx<'_>, r: &Recording) -> Result<Option<i64>, postgres::Error> {
    if !r.cumulative.is_empty() {
        let kb: Vec<i64> = r.cumulative.iter().map(|f| i64::from(f.kb)).collect();
        let rel: Vec<Option<&str>> = r.cumulative.iter().map(|f| f.released.as_deref()).collect();
        tx.execute(
            "INSERT INTO cumulative_updates (kb, released)
             SELECT k, r FROM unnest($1::int8[], $2::text[]) AS t(k, r) ORDER BY k
             ON CONFLICT (kb) DO UPDATE SET released = EXCLUDED.released
             WHERE cumulative_updates.released IS NULL AND EXCLUDED.released IS NOT NULL",
            &[&kb, &rel],
        )?;
    }
    let Some(c) = &r.catalog else {
        return Ok(None);
    };
    tx.execute(
        "INSERT INTO catalogs (fingerprint, description, newest_release) VALUES ($1, $2, $3)
         ON CONFLICT (fingerprint) DO NOTHING",
        &[&c.fingerprint, &c.description, &c.newest_release],
    )?;
    Ok(Some(
        tx.query_one(
            "SELECT id FROM catalogs WHERE fingerprint = $1",
            &[&c.fingerprint],
        )?
        .get(0),
    ))
}

impl Store for PgStore {
    fn target(&self) -> &str {
        &self.target
    }

    fn record(&mut self, r: &Recording) -> Result<RecordOutcome, HistoryError> {
        let p = Prepared::of(r);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.record_once(r, &p) {
                Ok(out) => return Ok(out),
                Err(e)
                    if attempt < 5
                        && matches!(
                            e.code(),
                            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
                                || *c == SqlState::T_R_SERIALIZATION_FAILURE
                        ) =>
                {
                    continue;
                }
                Err(e) => return Err(HistoryError::postgres(&self.target)(e)),
            }
        }
    }

    fn clusters(&mut self) -> Result<Vec<ClusterListing>, HistoryError> {
        let err = HistoryError::postgres(&self.target);
        Ok(self
            .client
            .query(sql::CLUSTER_LIST, &[])
            .map_err(&err)?
            .iter()
            .map(|r| ClusterListing {
                name: r.get(0),
                nodes: r.get(1),
                runs: r.get(2),
                first: r.get(3),
                last: r.get(4),
                last_in_step: r.get::<_, i16>(5) != 0,
            })
            .collect())
    }

    fn cluster(
        &mut self,
        name: &str,
        until: Option<i64>,
    ) -> Result<Option<ClusterData>, HistoryError> {
        let target = self.target.clone();
        let err = HistoryError::postgres(&target);
        let c = &mut self.client;
        let Some(row) = c
            .query_opt(sql::CLUSTER_BY_KEY, &[&name_key(name)])
            .map_err(&err)?
        else {
            return Ok(None);
        };
        let id: i64 = row.get(0);
        let until = until.unwrap_or(i64::MAX);
        let mut raw = RawCluster {
            name: row.get(1),
            ..RawCluster::default()
        };
        let both: &[&(dyn ToSql + Sync)] = &[&id, &until];
        raw.nodes = rows_of(c, sql::NODES_OF, &[&id], pair, &err)?;
        raw.runs = rows_of(
            c,
            sql::RUNS_OF,
            both,
            |r| {
                (
                    r.get(0),
                    r.get::<_, i16>(1) != 0,
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                )
            },
            &err,
        )?;
        raw.observations = rows_of(
            c,
            sql::OBSERVATIONS_OF,
            both,
            |r| {
                (
                    r.get(0),
                    r.get(1),
                    i64::from(r.get::<_, i16>(2)),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                )
            },
            &err,
        )?;
        raw.sets = rows_of(c, sql::SETS_OF, both, pair, &err)?;
        raw.finding_sets = rows_of(c, sql::FINDING_SETS_OF, both, pair, &err)?;
        raw.findings = rows_of(
            c,
            "SELECT id, finding FROM findings WHERE id = ANY($1)",
            &[&raw.finding_ids()],
            pair,
            &err,
        )?;
        raw.catalogs = rows_of(c, sql::CATALOGS_OF, both, pair, &err)?;
        raw.cumulative = rows_of(c, sql::CUMULATIVE, &[], pair, &err)?;
        raw.resolve(&target).map(Some)
    }

    fn streak_start(&mut self, cluster: &str, before: i64) -> Result<Option<i64>, HistoryError> {
        Ok(self
            .client
            .query_one(sql::STREAK_START, &[&name_key(cluster), &before])
            .map_err(HistoryError::postgres(&self.target))?
            .get(0))
    }

    fn counts(&mut self) -> Result<Counts, HistoryError> {
        let r = self
            .client
            .query_one(sql::COUNTS, &[])
            .map_err(HistoryError::postgres(&self.target))?;
        Ok(Counts {
            clusters: r.get(0),
            nodes: r.get(1),
            runs: r.get(2),
            observations: r.get(3),
            update_sets: r.get(4),
            finding_sets: r.get(5),
        })
    }
}
