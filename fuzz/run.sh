#!/usr/bin/env bash
# Seeds each target's corpus with the inventory fixtures and fuzzes every
# target for SECONDS (default 60) in turn. Needs the nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(systeminfo systeminfo_csv get_hotfix wmic_qfe wu_history osquery decode_detect_parse)
fi
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cp -n ../tests/fixtures/real/inventory/* "corpus/$t/" 2>/dev/null || true
    cp -n ../tests/fixtures/inventory/*.txt ../tests/fixtures/inventory/*.csv ../tests/fixtures/inventory/*.json "corpus/$t/" 2>/dev/null || true
    echo "== $t for ${secs}s"
    cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 2>&1 | tail -n 25
done
