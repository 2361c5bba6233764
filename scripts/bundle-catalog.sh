#!/usr/bin/env bash
# Regenerates the catalog compiled into lockstep (used when there is no local
# catalog): the repository's MSRC CVRF archive and WES-NG definitions
# (tests/fixtures/real/catalog/, see SOURCES.md there), imported with
# `lockstep catalog import`, vacuumed, compressed with zstd -19 into
# crates/catalog/bundled/catalog.sqlite3.zst. Run it after changing those
# fixtures, the catalog schema or the derivation of dates and kinds, then
# rebuild. Needs zstd and python3 (for VACUUM).
set -euo pipefail
cd "$(dirname "$0")/.."
real=tests/fixtures/real/catalog
out=crates/catalog/bundled/catalog.sqlite3.zst
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The binary that imports must not itself depend on the old bundle's
# schema; any build of the current sources will do.
cargo build --release --locked --quiet
target/release/lockstep --catalog "$work/catalog.sqlite3" catalog import \
    "$real/cvrf-archive/msrc-cvrf-2016-2026.tar.zst" "$real/wesng/definitions.zip" >/dev/null
# The per-product CVE rows (the `cves` table, 13 of 18 MB) only feed the
# derivation, which has run: each update keeps its CVEs and worst severity in
# `updates.cves`. Without them the bundle opens in a quarter of the time.
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM cves"); c.commit(); c.execute("VACUUM"); c.close()' \
    "$work/catalog.sqlite3"
zstd -q -19 -f "$work/catalog.sqlite3" -o "$work/catalog.sqlite3.zst"
mv "$work/catalog.sqlite3.zst" "$out"
printf '%s: %s bytes (%s bytes uncompressed)\n' "$out" "$(stat -c %s "$out")" "$(stat -c %s "$work/catalog.sqlite3")"
