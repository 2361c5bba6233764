#!/usr/bin/env bash
# Fails when a tracked file reaches outside the repository for data: a
# user's clone has only what is committed here (real fixtures live in
# tests/fixtures/real/, see its SOURCES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# The bracket keeps this file from matching its own pattern, so no file,
# this one included, is exempt.
pattern='\.\./shar[e]d|/work/shar[e]d'
if hits=$(git grep -n -E "$pattern" -- .); then
    echo "check-self-contained: these tracked lines name a folder outside the repository:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "check-self-contained: no tracked file names a data folder outside the repository"
