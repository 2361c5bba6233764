#!/usr/bin/env bash
# Benchmarks of the history (not a test), whole process as a user runs the
# binary, release build. Needs the generated fleet and the WES-NG catalog of
# scripts/bench-check.sh (made here when missing) and Debian's PostgreSQL
# (scripts/setup.d/30-postgresql.sh); starts a private server on loopback
# for the PostgreSQL numbers and stops it at the end.
#  1. `lockstep record` of the 8,000-node fleet into a new SQLite file and
#     into a new PostgreSQL database: RUNS runs each, median and fastest.
#  2. A year of daily records of the fleet (crates/history/benches/year.rs)
#     into SQLite and into PostgreSQL: size on disk, time per day.
#  3. `lockstep history CLUSTER` on that year: RUNS runs each.
# Usage: scripts/bench-history.sh   (env RUNS=5, DAYS=365, BENCH_DIR, HISTORY_BENCH_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
BIN="$PWD/target/release/lockstep"
WORK="${BENCH_DIR:-/tmp/lockstep-bench-check}"
HWORK="${HISTORY_BENCH_DIR:-/tmp/lockstep-bench-history}"
RUNS="${RUNS:-5}"
DAYS="${DAYS:-365}"
mkdir -p "$WORK" "$HWORK"
CAT="$WORK/wesng.sqlite3"
FLEET="$WORK/fleet-1000"
if ! [ -f "$CAT" ]; then
    "$BIN" --catalog "$CAT" catalog import tests/fixtures/real/catalog/wesng/definitions.zip >/dev/null
fi
if ! [ -f "$FLEET/.complete" ]; then
    rm -rf "$FLEET"
    "$BIN" --catalog "$CAT" generate-fleet --out "$FLEET" --nodes 8000 --cluster-size 8 --seed 1 2>/dev/null
    touch "$FLEET/.complete"
fi

# A private PostgreSQL, as the tests start one (as the postgres user when root).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDIR=$(mktemp -d /tmp/lockstep-bench-pg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$PGDIR"
(cd "$PGDIR" && as_pg "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U lockstep --no-sync >/dev/null)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$PGDIR" && as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -k $PGDIR" -w start >/dev/null)
stop() { (cd "$PGDIR" && as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null) || true; rm -rf "$PGDIR"; }
trap stop EXIT
sql() { "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PORT" -U lockstep -d postgres -c "$1"; }
URL="postgres://lockstep@127.0.0.1:$PORT"

# measure LABEL PREPARE COMMAND...: RUNS runs of COMMAND (PREPARE before each, untimed).
measure() {
    local label="$1" prepare="$2"; shift 2
    local walls="" best="" best_secs=""
    for _ in $(seq "$RUNS"); do
        eval "$prepare"
        sync
        /usr/bin/time -f "%e %U %S %M" -o "$HWORK/time.txt" "$@" >/dev/null 2>"$HWORK/stderr.txt"
        read -r secs user sys kb < "$HWORK/time.txt"
        walls="$walls $secs"
        if [ -z "$best" ] || awk -v a="$secs" -v b="$best_secs" 'BEGIN { exit !(a < b) }'; then
            best="wall=${secs}s cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')s peak_rss=$((kb / 1024))MB"
            best_secs="$secs"
        fi
    done
    median=$(echo "$walls" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    echo "$label: runs:$walls median=${median}s; best: $best"
}

echo "commit $(git rev-parse --short HEAD), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
H="$HWORK/record.sqlite3"
measure "record fleet-1000 (8,000 nodes) into SQLite" "rm -f $H $H-wal $H-shm" \
    "$BIN" --catalog "$CAT" --history "$H" record "$FLEET"
measure "record fleet-1000 (8,000 nodes) into PostgreSQL" \
    "sql 'DROP DATABASE IF EXISTS rec' && sql 'CREATE DATABASE rec'" \
    "$BIN" --catalog "$CAT" --history "$URL/rec" record "$FLEET"

echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== a year into SQLite and PostgreSQL"
sql 'DROP DATABASE IF EXISTS year'
sql 'CREATE DATABASE year'
LOCKSTEP_BENCH_FLEET="$FLEET" LOCKSTEP_BENCH_CATALOG="$CAT" LOCKSTEP_BENCH_DAYS="$DAYS" \
    LOCKSTEP_BENCH_HISTORY="$HWORK/year.sqlite3 $URL/year" \
    cargo bench --locked --quiet -p lockstep-history --bench year 2>"$HWORK/year.log"
echo "postgresql database year: $(sql "SELECT pg_database_size('year')") bytes ($(sql "SELECT pg_size_pretty(pg_database_size('year'))")), of which tables and indexes: $("$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PORT" -U lockstep -d year -c "SELECT sum(pg_total_relation_size(oid)) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace") bytes"

echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
RUNS=$((RUNS * 2))
measure "history CLU00001 over the year, SQLite" ":" \
    "$BIN" --history "$HWORK/year.sqlite3" history CLU00001
measure "history CLU00001 over the year, PostgreSQL" ":" \
    "$BIN" --history "$URL/year" history CLU00001
measure "history CLU00001 over the year, SQLite, HTML" ":" \
    "$BIN" --history "$HWORK/year.sqlite3" history CLU00001 --format html
