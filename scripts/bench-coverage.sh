#!/usr/bin/env bash
# Coverage benchmark: lockstep's SIR engine against EoN 2.0 fast_SIR on the
# same Barabasi-Albert graph (100,000 nodes, m = 3), tau = 0.3, gamma = 1,
# one random start node per run. Not part of the test suite (it takes
# minutes); numbers go to BENCHMARKS.md "## Coverage".
#
# Environment: EON_RUNS (default 200: EoN needs ~0.6-1.5 s per run),
# LOCKSTEP_RUNS (default 1000), SEED (default 1), WORK (default
# /tmp/lockstep-coverage-bench), VENV (default /tmp/lockstep-coverage-bench-venv),
# REUSE_EON=1 to keep an earlier $WORK/eon.json (same graph and seed).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

EON_RUNS="${EON_RUNS:-200}"
LOCKSTEP_RUNS="${LOCKSTEP_RUNS:-1000}"
SEED="${SEED:-1}"
WORK="${WORK:-/tmp/lockstep-coverage-bench}"
VENV="${VENV:-/tmp/lockstep-coverage-bench-venv}"
HELPER=scripts/bench/coverage_eon.py
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import EoN, networkx, scipy' 2>/dev/null ||
    "$VENV/bin/pip" install --quiet EoN networkx scipy
PY="$VENV/bin/python"
echo "== versions: $("$PY" -c 'import EoN, networkx, sys; print("EoN", EoN.__version__, "networkx", networkx.__version__, "python", sys.version.split()[0])')"

cargo build --release --locked -p lockstep
LOCKSTEP=target/release/lockstep

echo "== graph"
"$PY" "$HELPER" graph --nodes 100000 --m 3 --seed "$SEED" \
    --hosts "$WORK/hosts.csv" --edges "$WORK/edges.csv"

# "wall cpu" seconds of a command (cpu = user + sys). The machine is shared,
# so CPU time is the steadier figure; both are reported.
measure() {
    local TIMEFORMAT='%R %U %S' r u s
    read -r r u s < <({ time "$@" >/dev/null 2>&1; } 2>&1)
    echo "$r $(echo "$u + $s" | bc -l)"
}

run_lockstep() {
    "$LOCKSTEP" coverage run --hosts "$WORK/hosts.csv" --edges "$WORK/edges.csv" \
        --undirected --model sir --tau 0.3 --gamma 1 --policy none \
        --seed "$SEED" --format json "$@"
}

echo "== lockstep: $LOCKSTEP_RUNS runs on one thread"
# Loading 300,000 edges is timed separately (a 1-run invocation) and taken out
# of the per-run figure, as EoN's graph loading is.
read -r w_one c_one < <(measure run_lockstep --threads 1 --runs 1)
read -r w_all c_all < <(measure run_lockstep --threads 1 --runs "$LOCKSTEP_RUNS" -o "$WORK/lockstep.json")
per_run=$(echo "($w_all - $w_one) / ($LOCKSTEP_RUNS - 1)" | bc -l)
cpu_per_run=$(echo "($c_all - $c_one) / ($LOCKSTEP_RUNS - 1)" | bc -l)
echo "lockstep: load + 1 run ${w_one} s wall; ${LOCKSTEP_RUNS} runs ${w_all} s wall, ${c_all} s CPU"
echo "lockstep: per run ${per_run} s wall, ${cpu_per_run} s CPU"
read -r w_two c_two < <(measure run_lockstep --threads 2 --runs "$LOCKSTEP_RUNS" -o "$WORK/lockstep-2threads.json")
echo "lockstep: ${LOCKSTEP_RUNS} runs on 2 threads ${w_two} s wall"
cmp "$WORK/lockstep.json" "$WORK/lockstep-2threads.json"
echo "lockstep: identical report on 1 and 2 threads"

if [ "${REUSE_EON:-0}" = 1 ] && [ -s "$WORK/eon.json" ]; then
    echo "== EoN fast_SIR: reusing $WORK/eon.json (REUSE_EON=1)"
else
    echo "== EoN fast_SIR: $EON_RUNS runs"
    "$PY" "$HELPER" eon --edges "$WORK/edges.csv" --runs "$EON_RUNS" --tau 0.3 --gamma 1 \
        --seed "$SEED" --out "$WORK/eon.json"
fi

echo "== comparison"
"$PY" "$HELPER" compare --eon "$WORK/eon.json" --lockstep "$WORK/lockstep.json" \
    --lockstep-seconds-per-run "$per_run" --lockstep-cpu-seconds-per-run "$cpu_per_run" |
    tee "$WORK/compare.json"
