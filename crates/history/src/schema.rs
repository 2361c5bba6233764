//! The history schema, versioned, for both stores.
//!
//! Version N is reached by applying migrations 1..=N in order, each in the
//! transaction that records its number. A store whose version is newer than
//! [`SCHEMA_VERSION`] is refused, unmodified; so is a file or database that
//! holds anything else than a lockstep history.
//!
//! Tables (the same in both; SQLite's `WITHOUT ROWID` where the key is the
//! row):
//! * `lockstep_meta` — one row: application name and schema version.
//! * `clusters`, `nodes` — names, keyed case-insensitively (`key` is the
//!   upper-case name; Windows names are case-insensitive).
//! * `update_sets` — each distinct installed-update set once, by content
//!   hash: a node whose updates did not change since yesterday adds no set.
//! * `findings` — each distinct finding (code, severity, nodes, title) once
//!   (JSON); `finding_sets` — each distinct list of a cluster's findings
//!   once, as finding ids: a finding reported every day for a year is one
//!   row, and a day whose findings did not change adds none.
//! * `catalogs` — the catalogs checks used, by fingerprint.
//! * `cumulative_updates` — which recorded KBs are cumulative updates or
//!   monthly rollups, with their release dates.
//! * `observations` — node × collected-at: the update set (NULL when
//!   unknown), the OS build, what the time rests on, when it was recorded.
//! * `runs` — cluster × collected-at: whether the nodes were in step, the
//!   members (node ids and their observation times, [`crate::codec`]), the
//!   findings, the catalog, when it was recorded.

pub const APPLICATION: &str = "lockstep-history";
pub const SCHEMA_VERSION: i64 = 1;
/// SQLite's `PRAGMA application_id` of a history file ("LKSH"), so that
/// `file(1)` and lockstep itself tell it from other SQLite files.
pub const SQLITE_APPLICATION_ID: i32 = 0x4C4B_5348;
/// The PostgreSQL advisory lock that serialises migrations.
pub const PG_MIGRATION_LOCK: i64 = 0x4C4B_5348_0001;

pub struct Migration {
    pub version: i64,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: r#"
        CREATE TABLE lockstep_meta (
            application TEXT NOT NULL,
            schema_version INTEGER NOT NULL
        );
        INSERT INTO lockstep_meta (application, schema_version) VALUES ('lockstep-history', 0);
        CREATE TABLE clusters (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL
        );
        CREATE TABLE nodes (
            id INTEGER PRIMARY KEY,
            cluster_id INTEGER NOT NULL REFERENCES clusters (id),
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            UNIQUE (cluster_id, key)
        );
        CREATE TABLE update_sets (
            id INTEGER PRIMARY KEY,
            hash BLOB NOT NULL UNIQUE,
            kb_count INTEGER NOT NULL,
            kbs BLOB NOT NULL
        );
        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            hash BLOB NOT NULL UNIQUE,
            finding TEXT NOT NULL
        );
        CREATE TABLE finding_sets (
            id INTEGER PRIMARY KEY,
            hash BLOB NOT NULL UNIQUE,
            findings BLOB NOT NULL
        );
        CREATE TABLE catalogs (
            id INTEGER PRIMARY KEY,
            fingerprint TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL,
            newest_release TEXT
        );
        CREATE TABLE cumulative_updates (
            kb INTEGER PRIMARY KEY,
            released TEXT
        );
        CREATE TABLE observations (
            node_id INTEGER NOT NULL REFERENCES nodes (id),
            collected_at INTEGER NOT NULL,
            basis INTEGER NOT NULL,
            update_set INTEGER REFERENCES update_sets (id),
            os_build TEXT,
            recorded_at INTEGER NOT NULL,
            PRIMARY KEY (node_id, collected_at)
        ) WITHOUT ROWID;
        CREATE TABLE runs (
            cluster_id INTEGER NOT NULL REFERENCES clusters (id),
            collected_at INTEGER NOT NULL,
            in_step INTEGER NOT NULL,
            members BLOB NOT NULL,
            finding_set INTEGER NOT NULL REFERENCES finding_sets (id),
            catalog_id INTEGER REFERENCES catalogs (id),
            recorded_at INTEGER NOT NULL,
            PRIMARY KEY (cluster_id, collected_at)
        ) WITHOUT ROWID;
    "#,
    postgres: r#"
        CREATE TABLE lockstep_meta (
            application TEXT NOT NULL,
            schema_version BIGINT NOT NULL
        );
        INSERT INTO lockstep_meta (application, schema_version) VALUES ('lockstep-history', 0);
        CREATE TABLE clusters (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL
        );
        CREATE TABLE nodes (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            cluster_id BIGINT NOT NULL REFERENCES clusters (id),
            key TEXT NOT NULL,
            name TEXT NOT NULL,
            UNIQUE (cluster_id, key)
        );
        CREATE TABLE update_sets (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            hash BYTEA NOT NULL UNIQUE,
            kb_count INTEGER NOT NULL,
            kbs BYTEA NOT NULL
        );
        CREATE TABLE findings (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            hash BYTEA NOT NULL UNIQUE,
            finding TEXT NOT NULL
        );
        CREATE TABLE finding_sets (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            hash BYTEA NOT NULL UNIQUE,
            findings BYTEA NOT NULL
        );
        CREATE TABLE catalogs (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            fingerprint TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL,
            newest_release TEXT
        );
        CREATE TABLE cumulative_updates (
            kb BIGINT PRIMARY KEY,
            released TEXT
        );
        CREATE TABLE observations (
            node_id BIGINT NOT NULL REFERENCES nodes (id),
            collected_at BIGINT NOT NULL,
            basis SMALLINT NOT NULL,
            update_set BIGINT REFERENCES update_sets (id),
            os_build TEXT,
            recorded_at BIGINT NOT NULL,
            PRIMARY KEY (node_id, collected_at)
        );
        CREATE TABLE runs (
            cluster_id BIGINT NOT NULL REFERENCES clusters (id),
            collected_at BIGINT NOT NULL,
            in_step SMALLINT NOT NULL,
            members BYTEA NOT NULL,
            finding_set BIGINT NOT NULL REFERENCES finding_sets (id),
            catalog_id BIGINT REFERENCES catalogs (id),
            recorded_at BIGINT NOT NULL,
            PRIMARY KEY (cluster_id, collected_at)
        );
    "#,
}];

/// Numbers a stored basis as the schema does.
pub fn basis_code(b: lockstep_model::CollectedBasis) -> i16 {
    match b {
        lockstep_model::CollectedBasis::Input => 0,
        lockstep_model::CollectedBasis::FileModified => 1,
    }
}

pub fn basis_of(code: i64) -> Option<lockstep_model::CollectedBasis> {
    match code {
        0 => Some(lockstep_model::CollectedBasis::Input),
        1 => Some(lockstep_model::CollectedBasis::FileModified),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }
}
