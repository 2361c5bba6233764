#!/usr/bin/env bash
# Benchmark of `lockstep check` on generated fleets against the full catalog
# (the MSRC CVRF archive 2016-2026 and the WES-NG definitions imported into
# one catalog), and of `lockstep inventory` on one large systeminfo file
# (not a test). Whole process as a user runs the release binary, measured
# with `/usr/bin/time -v` (wall clock, CPU, maximum resident set size).
#
# Records for every case: the commit, the command, the load average before
# each run, every run's wall time, the median and the fastest, and the peak
# RSS. Lines go to standard output and to $BENCH_DIR/results.txt.
#
# Usage: scripts/bench-check.sh [NODES...]   (default: 8000 100000)
# env: RUNS (default 3), BENCH_DIR (default /tmp/lockstep-bench-check),
#      SYSTEMINFO_NODES (nodes in the systeminfo file; default 70000, about
#      500 MB; 0 skips the inventory case), KEEP=1 keeps reports,
#      PREPARE=1 only writes the catalog and the inputs,
#      FLEET_ARGS more generate-fleet options (e.g. "--cluster-size 8").
# Fleets and the catalog are written once and reused; delete BENCH_DIR when
# done (several GB for 100,000 nodes).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet --bin lockstep
BIN="$PWD/target/release/lockstep"
WORK="${BENCH_DIR:-/tmp/lockstep-bench-check}"
RUNS="${RUNS:-3}"
SYSTEMINFO_NODES="${SYSTEMINFO_NODES:-70000}"
COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo "+changes")
mkdir -p "$WORK"
RESULTS="$WORK/results.txt"
CAT="$WORK/full.sqlite3"
if ! [ -f "$CAT" ]; then
    "$BIN" --catalog "$CAT.part" catalog import \
        tests/fixtures/real/catalog/cvrf-archive/msrc-cvrf-2016-2026.tar.zst \
        tests/fixtures/real/catalog/wesng/definitions.zip >/dev/null
    mv "$CAT.part" "$CAT"
fi

say() { echo "$*" | tee -a "$RESULTS"; }
say "# $(date -u +%FT%TZ) commit $COMMIT, $(nproc) cores, runs $RUNS"

# Runs "$@" RUNS times (each after `sync`, so the previous run's output is
# not written back during this one) and records the figures as one line.
# $1: the case's name; the rest: the command.
measure() {
    local name="$1"
    shift
    [ -z "${PREPARE:-}" ] || return 0
    local walls="" loads="" rss_max=0 cpus=""
    for _ in $(seq "$RUNS"); do
        sync
        loads="$loads $(cut -d' ' -f1 /proc/loadavg)"
        /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
            echo "failed: $*" >&2
            cat "$WORK/stderr.txt" >&2
            exit 1
        }
        local wall user sys rss
        wall=$(sed -n 's/^\tElapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt" |
            awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
        user=$(sed -n 's/^\tUser time (seconds): //p' "$WORK/time.txt")
        sys=$(sed -n 's/^\tSystem time (seconds): //p' "$WORK/time.txt")
        rss=$(sed -n 's/^\tMaximum resident set size (kbytes): //p' "$WORK/time.txt")
        walls="$walls $wall"
        cpus="$cpus $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
        [ "$rss" -gt "$rss_max" ] && rss_max=$rss
    done
    local median min
    median=$(echo "$walls" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    min=$(echo "$walls" | tr ' ' '\n' | sed '/^$/d' | sort -n | head -1)
    say "$name | command: ${*#"$BIN"} | load before each run:$loads | wall:$walls s | median ${median} s | min ${min} s | cpu:$cpus s | peak RSS $((rss_max / 1024)) MB"
}

# NODES "none": only the inventory case.
for n in ${@:-8000 100000}; do
    [ "$n" != none ] || continue
    fleet="$WORK/fleet-$n$(echo "${FLEET_ARGS:-}" | tr -d ' ')"
    if ! [ -f "$fleet/.complete" ]; then
        rm -rf "$fleet"
        "$BIN" --catalog "$CAT" generate-fleet --out "$fleet" --nodes "$n" --seed 1 ${FLEET_ARGS:-} \
            2>"$fleet.generated.txt"
        touch "$fleet/.complete"
    fi
    say "fleet $n ${FLEET_ARGS:-}: $(cat "$fleet.generated.txt"); $(du -sm --exclude=.complete "$fleet" | cut -f1) MB"
    for fmt in text json; do
        measure "check $n nodes $fmt" "$BIN" --catalog "$CAT" check "$fleet" --fail-on never \
            --format "$fmt" -o "$WORK/report.$fmt"
        [ -z "${PREPARE:-}" ] || continue
        say "  report $(du -m "$WORK/report.$fmt" | cut -f1) MB"
        [ -n "${KEEP:-}" ] || rm -f "$WORK/report.$fmt"
    done
done

if [ "$SYSTEMINFO_NODES" -gt 0 ]; then
    si="$WORK/systeminfo-$SYSTEMINFO_NODES"
    if ! [ -f "$si/.complete" ]; then
        rm -rf "$si"
        "$BIN" --catalog "$CAT" generate-fleet --out "$si" --nodes "$SYSTEMINFO_NODES" --seed 1 \
            --layout systeminfo-file 2>/dev/null
        touch "$si/.complete"
    fi
    bytes=$(stat -c %s "$si/systeminfo.txt")
    say "systeminfo file: $((bytes / 1000000)) MB, $SYSTEMINFO_NODES nodes"
    # Read once first, so every run reads it from the page cache.
    cat "$si/systeminfo.txt" >/dev/null
    measure "inventory systeminfo file" "$BIN" --max-input-size 1G inventory "$si/systeminfo.txt"
    measure "inventory systeminfo file, 1 thread" env RAYON_NUM_THREADS=1 "$BIN" --max-input-size 1G inventory "$si/systeminfo.txt"
fi
