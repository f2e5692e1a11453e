#!/usr/bin/env bash
# Icecast 2 for live broadcasts (Phát trực tiếp): install from Debian if missing, then start/stop a
# private server with loaxa's settings (low-latency: no burst on connect).
#
#   scripts/icecast.sh start [--port 8000] [--dir DIR] [--password SECRET]
#   scripts/icecast.sh stop  [--dir DIR]
#   scripts/icecast.sh install
#
# The source password is what LOAXA_ICECAST_URL carries (http://source:SECRET@127.0.0.1:8000);
# listeners (the stations) need none. See docs/live.md.
set -euo pipefail
source "$(dirname "$0")/_apt.sh"

cmd="${1:-start}"; shift || true
port="${LOAXA_ICECAST_PORT:-8000}"
dir="${LOAXA_ICECAST_DIR:-/tmp/loaxa-icecast}"
password="${LOAXA_ICECAST_SOURCE_PASSWORD:-loaxa-source}"
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --dir) dir="$2"; shift 2 ;;
        --password) password="$2"; shift 2 ;;
        *) echo "Không hiểu tham số: $1" >&2; exit 2 ;;
    esac
done

binary() { command -v icecast2 || command -v icecast || true; }

install() {
    if [ -n "$(binary)" ]; then return 0; fi
    apt_install icecast2 || exit 1
}

start() {
    install
    mkdir -p "$dir"
    local security="" logdir="$dir/log"
    if [ "$(id -u)" -eq 0 ]; then
        # Icecast refuses to run as root: drop to Debian's icecast2 user, whose logs must be reachable
        # (the data dir may sit under a private 0700 folder).
        security="<security><chroot>0</chroot><changeowner><user>icecast2</user><group>icecast</group></changeowner></security>"
        logdir="$(mktemp -d /tmp/loaxa-icecast-log.XXXXXX)"
        chmod 755 "$logdir"
        chown icecast2:icecast "$logdir"
    else
        mkdir -p "$logdir"
    fi
    echo "$logdir" > "$dir/logdir"
    cat > "$dir/icecast.xml" <<XML
<icecast>
  <location>loaxa</location>
  <admin>root@localhost</admin>
  <limits>
    <clients>2000</clients>
    <sources>50</sources>
    <queue-size>524288</queue-size>
    <client-timeout>30</client-timeout>
    <header-timeout>15</header-timeout>
    <source-timeout>10</source-timeout>
    <burst-on-connect>0</burst-on-connect>
    <burst-size>0</burst-size>
  </limits>
  <authentication>
    <source-password>${password}</source-password>
    <relay-password>${password}</relay-password>
    <admin-user>admin</admin-user>
    <admin-password>${password}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${port}</port></listen-socket>
  <fileserve>0</fileserve>
  <paths>
    <logdir>${logdir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
    <pidfile>${logdir}/icecast.pid</pidfile>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  ${security}
</icecast>
XML
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
        echo "Cổng ${port} đã có chương trình khác nghe (có thể là Icecast đang chạy); không khởi động thêm." >&2
        exit 3
    fi
    "$(binary)" -b -c "$dir/icecast.xml" >/dev/null 2>&1
    for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
            echo "Icecast đang chạy ở http://127.0.0.1:${port}/ (cấu hình: $dir/icecast.xml)"
            return 0
        fi
        sleep 0.1
    done
    echo "Icecast không khởi động được; xem $logdir/error.log" >&2
    exit 1
}

stop() {
    local logdir
    logdir="$(cat "$dir/logdir" 2>/dev/null || echo "$dir/log")"
    if [ -f "$logdir/icecast.pid" ]; then
        kill "$(cat "$logdir/icecast.pid")" 2>/dev/null || true
        rm -f "$logdir/icecast.pid"
    fi
}

case "$cmd" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) echo "Dùng: $0 start|stop|install [--port P] [--dir D] [--password P]" >&2; exit 2 ;;
esac
