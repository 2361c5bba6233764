#!/usr/bin/env bash
# Headless Chromium and playwright-core for the HTML report's browser test.
# Debian's chromium (Playwright's own browser download is not used: it cannot
# be fetched here, and Debian's build is the one admins' CI has anyway).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! [ -x /usr/bin/chromium ]; then
    apt-get update
    apt-get install -y chromium chromium-driver
fi
if ! [ -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
