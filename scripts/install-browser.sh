#!/usr/bin/env bash
# Install Debian's headless Chromium (and a font with Vietnamese glyphs) for the browser tests
# in tests/e2e, if missing. Playwright drives /usr/bin/chromium; it never downloads a browser.
set -euo pipefail
font=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if [ -x /usr/bin/chromium ] && [ -f "$font" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-browser: chromium is missing and this user can run neither apt-get nor sudo." >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
