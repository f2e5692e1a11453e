# Sourced (not run) by the scripts that install a missing Debian package: install-browser.sh,
# install-players.sh, nginx.sh, icecast.sh.
#
#   apt_install PACKAGE...
#
# Installs as root, or through sudo when it needs no password; otherwise says in Vietnamese what
# to run and returns 1. Services a package would start on install (nginx on port 80, icecast2) are
# kept from starting: loaxa starts its own. The package lists are refreshed only when the first
# attempt fails (a fresh container has none).
apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            echo "Thiếu $* và người dùng này không chạy được apt-get hay sudo. Cài bằng: sudo apt-get install $*" >&2
            return 1
        fi
    fi
    local created_policy="" status=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    local apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -y -qq)
    "${apt[@]}" install --no-install-recommends "$@" >/dev/null 2>&1 || {
        "${apt[@]}" update >/dev/null 2>&1 || true
        "${apt[@]}" install --no-install-recommends "$@" >/dev/null || status=$?
    }
    if [ -n "$created_policy" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
    if [ "$status" -ne 0 ]; then
        echo "Không cài được $* từ Debian (apt-get trả về $status)." >&2
    fi
    return "$status"
}
