#!/usr/bin/env bash
# Coverage benchmark: lockstep's SIR engine against EoN 2.0 fast_SIR on the
# same Barabasi-Albert graph (100,000 nodes, m = 3), tau = 0.3, gamma = 1,
# one random start node per run. Not part of the test suite (it takes
# minutes); numbers go to BENCHMARKS.md "## Coverage".
#
# Environment: EON_RUNS (default 200: EoN needs ~0.6-1.5 s per run),
# LOCKSTEP_RUNS (default 1000), SEED (default 1), WORK (default
# /tmp/lockstep-coverage-bench), VENV (default /tmp/lockstep-coverage-bench-venv).
set -euo pipefail
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

# Wall-clock seconds of a command, to the millisecond.
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

run_lockstep() {
    "$LOCKSTEP" coverage run --hosts "$WORK/hosts.csv" --edges "$WORK/edges.csv" \
        --undirected --model sir --tau 0.3 --gamma 1 --policy none \
        --seed "$SEED" --threads 1 --format json "$@"
}

echo "== lockstep: $LOCKSTEP_RUNS runs on one thread"
# Loading 300,000 edges is timed separately (a 1-run invocation) and taken out
# of the per-run figure, as EoN's graph loading is.
t_one=$(seconds run_lockstep --runs 1)
t_all=$(seconds run_lockstep --runs "$LOCKSTEP_RUNS" -o "$WORK/lockstep.json")
per_run=$(echo "($t_all - $t_one) / ($LOCKSTEP_RUNS - 1)" | bc -l)
echo "lockstep: load + 1 run ${t_one} s; ${LOCKSTEP_RUNS} runs ${t_all} s; per run ${per_run} s"
t_two=$(seconds run_lockstep --runs "$LOCKSTEP_RUNS" --threads 2)
echo "lockstep: ${LOCKSTEP_RUNS} runs on 2 threads ${t_two} s"

echo "== EoN fast_SIR: $EON_RUNS runs"
"$PY" "$HELPER" eon --edges "$WORK/edges.csv" --runs "$EON_RUNS" --tau 0.3 --gamma 1 \
    --seed "$SEED" --out "$WORK/eon.json"

echo "== comparison"
"$PY" "$HELPER" compare --eon "$WORK/eon.json" --lockstep "$WORK/lockstep.json" \
    --lockstep-seconds-per-run "$per_run" | tee "$WORK/compare.json"
