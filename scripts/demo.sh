#!/usr/bin/env bash
# The main job: install loaxa into .venv and run the demo on the embedded default (SQLite, offline TTS).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" server
cd "$root"
exec "$root/.venv/bin/loaxa" demo "$@"
