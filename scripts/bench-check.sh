#!/usr/bin/env bash
# Benchmark of `lockstep check` on generated fleets against the full WES-NG
# catalog (not a test). Prints, per fleet size and report format, the best
# of RUNS runs: wall time, CPU time, peak RSS and the phase times that
# LOCKSTEP_TIMINGS prints, and the median wall time. Needs an otherwise idle
# machine; each run starts after `sync`.
# Usage: scripts/bench-check.sh [CLUSTERS...]   (default: 100 1000; env RUNS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
BIN="$PWD/target/release/lockstep"
WORK="${BENCH_DIR:-/tmp/lockstep-bench-check}"
RUNS="${RUNS:-3}"
mkdir -p "$WORK"
CAT="$WORK/wesng.sqlite3"
if ! [ -f "$CAT" ]; then
    "$BIN" --catalog "$CAT" catalog import tests/fixtures/real/catalog/wesng/definitions.zip >/dev/null
fi
for c in ${@:-100 1000}; do
    if ! [ -f "$WORK/fleet-$c/.complete" ]; then
        rm -rf "$WORK/fleet-$c"
        "$BIN" --catalog "$CAT" generate-fleet --out "$WORK/fleet-$c" --nodes "$((c * 8))" --cluster-size 8 --seed 1 2>/dev/null
        touch "$WORK/fleet-$c/.complete"
    fi
    size=$(du -sm --exclude=.complete "$WORK/fleet-$c" | cut -f1)
    for fmt in text json; do
        best=""
        best_secs=""
        walls=""
        for _ in $(seq "$RUNS"); do
            # The last run's report is still being written back to disk:
            # let it finish, so that each run is timed on an idle machine.
            sync
            LOCKSTEP_TIMINGS=1 /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" \
                "$BIN" --catalog "$CAT" check "$WORK/fleet-$c" --fail-on never --format "$fmt" \
                -o "$WORK/report.$fmt" 2>"$WORK/phases.txt" >/dev/null
            read -r secs user sys kb < "$WORK/time.txt"
            phases=$(sed -n 's/^lockstep: \(.*\) \([0-9.]*\) s$/\1=\2s/p' "$WORK/phases.txt" | tr ' \n' '_ ')
            walls="$walls $secs"
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
            if [ -z "$best" ] || awk -v a="$secs" -v b="$best_secs" 'BEGIN { exit !(a < b) }'; then
                best="wall=${secs}s cpu=${cpu}s peak_rss=$((kb / 1024))MB ${phases}"
                best_secs="$secs"
            fi
        done
        out=$(du -sm "$WORK/report.$fmt" | cut -f1)
        median=$(echo "$walls" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
        echo "clusters=$c nodes=$((c * 8)) input=${size}MB format=$fmt report=${out}MB runs:$walls median=${median}s; best: $best"
    done
done
