#!/usr/bin/env bash
# Seeds each target's corpus with the repository's fixtures of its kind and
# fuzzes every target for SECONDS (default 60) in turn. Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(systeminfo systeminfo_csv get_hotfix wmic_qfe wu_history osquery decode_detect_parse
        cvrf_xml cvrf_json wesng_csv catalog_file fleet_manifest known_issue protection_rule coverage_inputs)
fi
seed() { # TARGET FILE...: copies the seed files (small ones) into the corpus
    local t="$1"; shift
    mkdir -p "corpus/$t"
    for f in "$@"; do
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 1048576 ] && cp -n "$f" "corpus/$t/" 2>/dev/null || true
    done
}
# The first lines of the real WES-NG CSV, as a seed of the CSV targets.
wesng_head() {
    mkdir -p corpus/seeds
    [ -f corpus/seeds/CVEs-head.csv ] || python3 - <<'PY'
import zipfile
z = zipfile.ZipFile("../tests/fixtures/real/catalog/wesng/definitions.zip")
head = b"".join(z.open("CVEs_20260628.csv").readlines()[:200])
open("corpus/seeds/CVEs-head.csv", "wb").write(head)
zo = zipfile.ZipFile("corpus/seeds/definitions-small.zip", "w", zipfile.ZIP_DEFLATED)
zo.writestr("CVEs_20260628.csv", head)
zo.writestr("Custom_20190321.csv", z.read("Custom_20190321.csv"))
zo.close()
PY
}
for t in "${targets[@]}"; do
    case "$t" in
    cvrf_xml) seed "$t" ../tests/fixtures/real/catalog/cvrf/*.xml ../tests/fixtures/catalog/*.xml ../tests/hostile/cvrf-hostile.xml ;;
    cvrf_json) seed "$t" ../tests/fixtures/catalog/*.json ;;
    wesng_csv) wesng_head; seed "$t" corpus/seeds/CVEs-head.csv ;;
    catalog_file) wesng_head; seed "$t" corpus/seeds/* ../tests/fixtures/real/catalog/cvrf/cvrfDocument-2017-Feb.xml ../tests/fixtures/catalog/*.json ;;
    fleet_manifest) seed "$t" ../tests/hostile/fleet.toml ;;
    known_issue) seed "$t" ../known-issues/LOCKSTEP-*.md ../tests/hostile/known-issues/*.md ;;
    protection_rule) seed "$t" ../rules/host-protection/*.toml ;;
    coverage_inputs) seed "$t" ../examples/coverage/*/*.csv ../tests/fixtures/coverage/*.json ../tests/hostile/coverage/*.csv ;;
    *) seed "$t" ../tests/fixtures/real/inventory/* ../tests/fixtures/inventory/* ;;
    esac
    echo "== $t for ${secs}s"
    cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 2>&1 | tail -n 25
done
