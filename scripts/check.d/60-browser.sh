#!/usr/bin/env bash
# The HTML report in a real browser (headless Chromium via playwright-core).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked --quiet
export LOCKSTEP_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/lockstep"
cd tests/browser
node --test report.test.mjs
