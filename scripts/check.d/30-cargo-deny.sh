#!/usr/bin/env bash
# Licences, banned crates and sources of Cargo.lock against deny.toml.
# Advisories are left out: they need the RustSec advisory database from
# GitHub, which the CI machines cannot reach.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo deny --locked check licenses bans sources
