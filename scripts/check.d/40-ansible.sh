#!/usr/bin/env bash
# Generates the Ansible playbook of the bundled example (the four-node
# Server 2008 R2 cluster, --target converge), of the Server 2022 snapshot
# fixture and of a cluster whose nodes' releases are unknown, then runs `ansible-playbook --syntax-check` and
# `ansible-lint` (default profile) on them, with an inventory whose hosts
# are the node names. scripts/setup.d/40-ansible.sh installs both tools into
# the repository's .venv. Fails when either tool is missing: the check is
# part of CI, not optional.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${LOCKSTEP_ANSIBLE_VENV:-.venv}"
for tool in ansible-playbook ansible-lint; do
    if [ ! -x "$VENV/bin/$tool" ]; then
        echo "40-ansible: $VENV/bin/$tool is missing; run scripts/setup.d/40-ansible.sh" >&2
        exit 1
    fi
done
venv_bin="$(cd "$VENV/bin" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_HOME="$work/home" ANSIBLE_NOCOLOR=1 NO_COLOR=1
mkdir -p "$work/updates"

cargo run -q --locked -- plan examples/kb2616676 --target converge --soak 30m \
    --emit ansible --source "$work/updates" -o "$work/kb2616676.yml"
printf '[kb2616676]\nHV01\nHV02\nHV03\nHV04\n' > "$work/kb2616676.ini"

cargo run -q --locked -- --no-catalog plan tests/fixtures/snapshot/hvclu22.json --target converge --retries 2 \
    --emit ansible --source "$work/updates" -o "$work/hvclu22.yml"
printf '[hvclu22]\nHV22-01\nHV22-02\nHV22-03\n' > "$work/hvclu22.ini"

# Get-HotFix captures only: the nodes' releases are unknown, so the playbook
# decides on the node (win_hotfix where the DISM cmdlets exist, wusa else).
mkdir -p "$work/unknown-os/HVCLU3"
cp examples/ws2022-behind/HVS0{1,2,3}.get-hotfix.csv "$work/unknown-os/HVCLU3/"
cargo run -q --locked -- --no-catalog plan "$work/unknown-os/HVCLU3" --target converge \
    --emit ansible --source "$work/updates" -o "$work/unknownos.yml"
printf '[hvclu3]\nHVS01\nHVS02\nHVS03\n' > "$work/unknownos.ini"

for name in kb2616676 hvclu22 unknownos; do
    echo "40-ansible: $name: ansible-playbook --syntax-check"
    "$venv_bin/ansible-playbook" -i "$work/$name.ini" --syntax-check "$work/$name.yml"
    echo "40-ansible: $name: ansible-lint"
    (cd "$work" && PATH="$venv_bin:$PATH" "$venv_bin/ansible-lint" --offline "$name.yml")
done
