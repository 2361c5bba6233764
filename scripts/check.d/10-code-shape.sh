#!/usr/bin/env bash
# Rooms small enough to change (issue 16): no Rust file over 800 lines and no
# function over 150 lines outside tests, no module cycle within a crate.
# Items not yet split are listed, with the reason, in
# scripts/code-shape-allow.txt; an item there that no longer exceeds fails
# too, so the list only shrinks. `python3 scripts/code_shape.py --list`
# prints every item over the limits.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The check itself, on small trees that must fail (and pass) as they should.
python3 scripts/code_shape_test.py
python3 scripts/code_shape.py
