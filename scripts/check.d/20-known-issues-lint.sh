#!/usr/bin/env bash
# Lints the repository's known-issues database (one <ID>.md file per issue,
# TOML front matter + Markdown): unknown keys, bad dates, malformed KB
# numbers / versions / ranges, id and file name mismatches, duplicate ids.
# Exit status 2 on any error.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run -q --locked -- known-issues lint known-issues/
