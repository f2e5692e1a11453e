#!/usr/bin/env bash
# Create the project's virtual environment in .venv and install loaxa with the given extras.
# Sourced by demo.sh and test.sh; needs only python3 (>= 3.11) and the package registry.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-server}"
python="${LOAXA_PYTHON:-python3}"
if [ ! -x "$root/.venv/bin/python" ]; then
    "$python" -m venv "$root/.venv"
fi
stamp="$root/.venv/.loaxa-installed-$extras"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
    "$root/.venv/bin/python" -m pip install --quiet --upgrade pip
    "$root/.venv/bin/python" -m pip install --quiet -e "$root[$extras]"
    touch "$stamp"
fi
