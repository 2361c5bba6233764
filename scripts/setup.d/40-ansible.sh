#!/usr/bin/env bash
# Ansible for the plan emitter's checks: a virtual environment with the
# `ansible` package from PyPI (it bundles ansible.windows and
# community.windows, which the generated playbooks use) and ansible-lint.
# Idempotent: an existing venv with both tools is left as it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${LOCKSTEP_ANSIBLE_VENV:-.venv}"
if [ -x "$VENV/bin/ansible-playbook" ] && [ -x "$VENV/bin/ansible-lint" ]; then
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    apt-get update
    apt-get install -y python3-venv
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet ansible ansible-lint
