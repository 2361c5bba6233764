#!/usr/bin/env bash
# The history's tests need a real PostgreSQL (each test starts a private
# server: initdb into a temporary folder, a loopback port) and promtool
# (`promtool check metrics` validates `check --metrics`). Both from Debian's
# packages: postgresql, and prometheus (which ships promtool). PostgreSQL
# refuses to run as root, so the tests run it as the `postgres` user that
# Debian's package creates (created here too when missing).
# Idempotent: nothing is installed when both are there.
set -euo pipefail
need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
if ! command -v promtool >/dev/null 2>&1; then
    need+=(prometheus)
fi
if [ "${#need[@]}" -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
fi
# The installed packages may start their own services where an init system
# runs; the tests use neither (their servers are private), so nothing else
# is configured here.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
command -v promtool >/dev/null
