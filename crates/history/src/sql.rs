//! Queries both stores run, written once in PostgreSQL's `$N` style
//! (SQLite reads them with `?N`, see [`for_sqlite`]).

pub const CLUSTER_BY_KEY: &str = "SELECT id, name FROM clusters WHERE key = $1";
pub const NODES_OF: &str = "SELECT id, name FROM nodes WHERE cluster_id = $1";
pub const RUNS_OF: &str =
    "SELECT collected_at, in_step, members, finding_set, catalog_id, recorded_at
    FROM runs WHERE cluster_id = $1 AND collected_at <= $2 ORDER BY collected_at";
pub const OBSERVATIONS_OF: &str =
    "SELECT o.node_id, o.collected_at, o.basis, o.update_set, o.os_build, o.recorded_at
    FROM observations o JOIN nodes n ON n.id = o.node_id
    WHERE n.cluster_id = $1 AND o.collected_at <= $2";
pub const SETS_OF: &str = "SELECT id, kbs FROM update_sets WHERE id IN (
    SELECT DISTINCT o.update_set FROM observations o JOIN nodes n ON n.id = o.node_id
    WHERE n.cluster_id = $1 AND o.collected_at <= $2)";
pub const FINDING_SETS_OF: &str = "SELECT id, findings FROM finding_sets WHERE id IN (
    SELECT finding_set FROM runs WHERE cluster_id = $1 AND collected_at <= $2)";
pub const CATALOGS_OF: &str = "SELECT id, description FROM catalogs WHERE id IN (
    SELECT catalog_id FROM runs WHERE cluster_id = $1 AND collected_at <= $2)";
pub const CUMULATIVE: &str = "SELECT kb, released FROM cumulative_updates";
/// The first run before $2 after the last in-step run before $2.
pub const STREAK_START: &str = "SELECT MIN(r.collected_at) FROM runs r JOIN clusters c ON c.id = r.cluster_id
    WHERE c.key = $1 AND r.collected_at < $2
      AND r.collected_at > COALESCE((SELECT MAX(r2.collected_at) FROM runs r2
          WHERE r2.cluster_id = c.id AND r2.in_step = 1 AND r2.collected_at < $2), -9223372036854775807)";
pub const CLUSTER_LIST: &str = "SELECT c.name,
        (SELECT COUNT(*) FROM nodes n WHERE n.cluster_id = c.id),
        COUNT(*), MIN(r.collected_at), MAX(r.collected_at),
        (SELECT r3.in_step FROM runs r3 WHERE r3.cluster_id = c.id ORDER BY r3.collected_at DESC LIMIT 1)
    FROM clusters c JOIN runs r ON r.cluster_id = c.id
    GROUP BY c.id, c.name, c.key ORDER BY c.key";
pub const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM clusters), (SELECT COUNT(*) FROM nodes),
    (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM observations),
    (SELECT COUNT(*) FROM update_sets), (SELECT COUNT(*) FROM finding_sets)";

/// `$1` → `?1`: SQLite's numbered parameters. The queries hold no other `$`.
pub fn for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}
