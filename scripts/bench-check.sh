#!/usr/bin/env bash
# Benchmark of `lockstep check` on generated fleets against the full WES-NG
# catalog (not a test). Prints wall time and peak RSS per fleet size.
# Usage: scripts/bench-check.sh [CLUSTERS...]   (default: 100 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
BIN="$PWD/target/release/lockstep"
WORK="${BENCH_DIR:-/tmp/lockstep-bench-check}"
mkdir -p "$WORK"
CAT="$WORK/wesng.sqlite3"
if ! [ -f "$CAT" ]; then
    "$BIN" --catalog "$CAT" catalog import ../shared/fixtures/catalog/wesng/definitions.zip >/dev/null
fi
for n in "${@:-100 1000}"; do
    for c in $n; do
        rm -rf "$WORK/fleet-$c"
        "$BIN" --catalog "$CAT" generate-fleet --out "$WORK/fleet-$c" --clusters "$c" --nodes 8 --updates 300 --seed 1 2>/dev/null
        size=$(du -sm "$WORK/fleet-$c" | cut -f1)
        for fmt in text json; do
            /usr/bin/time -f "%e %M" -o "$WORK/time.txt" \
                "$BIN" --catalog "$CAT" check "$WORK/fleet-$c" --fail-on never --format "$fmt" -o "$WORK/report.$fmt" >/dev/null
            read -r secs kb < "$WORK/time.txt"
            out=$(du -sm "$WORK/report.$fmt" | cut -f1)
            echo "clusters=$c nodes=$((c * 8)) input=${size}MB format=$fmt wall=${secs}s peak_rss=$((kb / 1024))MB report=${out}MB"
        done
    done
done
