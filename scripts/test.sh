#!/usr/bin/env bash
# The test command: install loaxa with its test extras into .venv and run the whole suite
# (SQLite and PostgreSQL, Mosquitto, headless Chromium). Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" server,test
if [ -x "$root/scripts/install-browser.sh" ]; then
    "$root/scripts/install-browser.sh" || echo "Cảnh báo: không cài được Chromium; các kiểm thử trình duyệt sẽ báo lỗi." >&2
fi
cd "$root"
exec "$root/.venv/bin/python" -m pytest "$@"
