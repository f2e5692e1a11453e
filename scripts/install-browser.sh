#!/usr/bin/env bash
# Install Debian's headless Chromium (and a font with Vietnamese glyphs) for the browser tests
# in tests/e2e, if missing. Playwright drives /usr/bin/chromium; it never downloads a browser.
set -euo pipefail
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if [ -x /usr/bin/chromium ] && [ -f "$font" ]; then
    exit 0
fi
source "$(dirname "$0")/_apt.sh"
apt_install chromium fonts-dejavu-core
/usr/bin/chromium --version
