#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need, then
# runs formatting, lints and every test. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A one-off build: incremental state would only double the disk it takes.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Property tests run with a fixed seed and a bounded case count in CI.
export PROPTEST_CASES="${PROPTEST_CASES:-256}"
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261127}"

for setup in scripts/setup.d/*.sh; do
    [ -e "$setup" ] || continue
    echo "== setup: $setup"
    bash "$setup"
done

echo "== self-contained"
bash scripts/check-self-contained.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo build"
cargo build --workspace --locked
for check in scripts/check.d/*.sh; do
    [ -e "$check" ] || continue
    echo "== check: $check"
    bash "$check"
done
echo "== cargo test"
cargo test --workspace --locked
