#!/usr/bin/env bash
# cargo-deny for scripts/check.d/30-cargo-deny.sh (licences, bans, sources
# of Cargo.lock against deny.toml). Built from crates.io once per machine
# (about 10 minutes on two busy cores), then found in ~/.cargo/bin.
# Idempotent: nothing is installed when it is there.
set -euo pipefail
if ! cargo deny --version >/dev/null 2>&1; then
    cargo install --locked cargo-deny --version 0.20.2
fi
cargo deny --version
