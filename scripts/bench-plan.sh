#!/usr/bin/env bash
# Benchmark of `lockstep plan` (and `check --format html`, which embeds both
# plans) against the number of differing updates (not a test). A three-node
# cluster from the ws2022-behind captures: HVS01 carries N extra updates
# (Get-HotFix Export-Csv rows, as Windows PowerShell 5.1 writes them), HVS02
# and HVS03 none of them, so --target converge installs N updates on each of
# two nodes (no catalog: every one of them is "unknown"). Prints, per N, the
# median and the best of RUNS whole-process runs as a user runs the binary,
# and the load average before the first run. Needs an otherwise idle machine.
# Usage: scripts/bench-plan.sh [N...]   (default: 2000 8000 16000 100000; env RUNS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
BIN="$PWD/target/release/lockstep"
WORK="${BENCH_DIR:-/tmp/lockstep-bench-plan}"
RUNS="${RUNS:-5}"
mkdir -p "$WORK"

make_cluster() {
    local n=$1 dir=$2
    rm -rf "$dir"
    mkdir -p "$dir"
    cp examples/ws2022-behind/HVS0{1,2,3}.systeminfo.txt "$dir/"
    cp examples/ws2022-behind/HVS0{2,3}.get-hotfix.csv "$dir/"
    {
        head -n 2 examples/ws2022-behind/HVS01.get-hotfix.csv
        tail -n +3 examples/ws2022-behind/HVS01.get-hotfix.csv
        # KB numbers no catalog knows, one row per update, CRLF as Export-Csv writes.
        awk -v n="$n" 'BEGIN {
            for (i = 0; i < n; i++) {
                kb = 6000000 + i
                printf "\"HVS01\",\"1/10/2023 12:00:00 AM\",\"2\",\"Win32_QuickFixEngineering\",\"CIM_LogicalElement\",\"CIM_ManagedSystemElement\",\"Win32_QuickFixEngineering.HotFixID=\"\"KB%d\"\",ServicePackInEffect=\"\"\"\"\",\"11\",\"System.String[]\",\"HVS01\",\"root\\cimv2\",\"\",\"https://support.microsoft.com/help/%d\",\"HVS01\",\"Update\",\"\",\"KB%d\",\"\",\"NT AUTHORITY\\SYSTEM\",\"\",\"\",\"\",\"System.Management.ManagementScope\",\"\",\"System.Management.ObjectGetOptions\",\"\",\"System.Management.PropertyDataCollection\",\"System.Management.PropertyDataCollection\",\"System.Management.QualifierDataCollection\",\"\",\"\"\r\n", kb, kb, kb
            }
        }'
    } > "$dir/HVS01.get-hotfix.csv"
}

time_runs() {
    local label=$1
    shift
    local walls="" best=""
    for _ in $(seq "$RUNS"); do
        sync
        /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || {
            echo "$label: exit $? — $(tail -n 3 "$WORK/stderr.txt")" >&2
            return 1
        }
        read -r secs kb < "$WORK/time.txt"
        walls="$walls $secs"
        if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best="$secs"
            rss=$((kb / 1024))
        fi
    done
    median=$(echo "$walls" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    echo "$label runs:$walls median=${median}s min=${best}s peak_rss=${rss}MB"
}

echo "commit $(git rev-parse --short HEAD); load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
for n in ${@:-2000 8000 16000 100000}; do
    dir="$WORK/HVCLU-$n"
    make_cluster "$n" "$dir"
    time_runs "differing=$n plan --target converge --emit json" \
        "$BIN" --no-catalog plan "$dir" --target converge --emit json -o "$WORK/plan.json"
    time_runs "differing=$n plan --target converge --emit powershell" \
        "$BIN" --no-catalog plan "$dir" --target converge --emit powershell -o "$WORK/plan.ps1"
    time_runs "differing=$n check --format html" \
        "$BIN" --no-catalog check "$dir" --format html --fail-on never -o "$WORK/report.html"
done
