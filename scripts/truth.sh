#!/usr/bin/env bash
# Compares lockstep's "missing" verdicts with what Windows Update itself
# offered, on the real hosts of tests/fixtures/real/truth/ (see SOURCES.md
# there). For each catalog (the MSRC CVRF archive + WES-NG, and WES-NG
# alone) it imports the catalog, checks every truth host as of its capture
# date and prints reported / right / false / missed beside Windows Update's
# list of security updates in catalog scope. Usage: scripts/truth.sh
# (BIN=path/to/lockstep to use another build). The figures go to
# BENCHMARKS.md, section "Truth".
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-target/release/lockstep}"
if [ "$BIN" = target/release/lockstep ]; then
    cargo build --release --locked --quiet
fi
real=tests/fixtures/real
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# host stem | host name | capture date | Windows Update's security updates in
# catalog scope (SOURCES.md; the rest of each list is Office, Silverlight,
# language packs, previews, MSRT, microcode and definitions).
hosts=(
    "wesng__10_1803_x64_proforworkstations_en-us_A_20190305|DESKTOP-OOF6NB5|2019-03-05|"
    "wesng__7_sp1_x64_enterprise_en-us_20190305|WIN7SP1X64|2019-03-05|KB3109560 KB4483187 KB4486563 KB4487078"
)

declare -A catalogs=(
    ["archive+wesng"]="$real/catalog/cvrf-archive/msrc-cvrf-2016-2026.tar.zst $real/catalog/wesng/definitions.zip"
    ["wesng"]="$real/catalog/wesng/definitions.zip"
)

echo "commit $(git rev-parse --short HEAD), $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for name in "archive+wesng" "wesng"; do
    db="$work/$name.sqlite3"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$BIN" --catalog "$db" catalog import ${catalogs[$name]} >/dev/null
    end=$(date +%s.%N)
    printf '\ncatalog %s (import %.1f s)\n' "$name" "$(echo "$end - $start" | bc)"
    printf '%-55s %-8s %-8s %-6s %-6s %-6s %s\n' host offered reported right false missed detail
    for entry in "${hosts[@]}"; do
        IFS='|' read -r stem host date offered <<<"$entry"
        dir="$work/$stem/truth"
        mkdir -p "$dir"
        cp "$real/truth/${stem}_systeminfo.txt" "$dir/$host.systeminfo.txt"
        cp "$real/truth/${stem}_qfe.txt" "$dir/$host.qfe.txt"
        "$BIN" --catalog "$db" check --format json --fail-on never --as-of "$date" "$dir" \
            2>/dev/null >"$work/report.json"
        python3 - "$work/report.json" "$host" "$stem" "$offered" <<'PY'
import json, sys
report, host, stem, offered = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[4].split())
v = json.load(open(report))
got = set()
for c in v["clusters"]:
    for p in c["posture"]:
        if p["node"] == host:
            for prod in p["products"]:
                got |= {h["kb"] for h in prod["missing"]}
right, false, missed = got & offered, got - offered, offered - got
detail = []
if false: detail.append("false: " + " ".join(sorted(false)))
if missed: detail.append("missed: " + " ".join(sorted(missed)))
print(f"{stem:<55} {len(offered):<8} {len(got):<8} {len(right):<6} {len(false):<6} {len(missed):<6} {'; '.join(detail)}")
PY
    done
done
