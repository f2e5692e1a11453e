#!/usr/bin/env bash
# nginx for the deploy/ layout on this machine, without systemd: install Debian's nginx if missing, and run
# a private one (foreground, logs and temporary files in DIR) around a rendered site file.
#
#   scripts/nginx.sh install                          # apt-get install nginx (root) unless already there
#   scripts/nginx.sh run --dir DIR --site SITE.conf   # writes DIR/nginx.conf, checks it, then execs nginx
#
# `run` stays in the foreground (its pid is nginx's master: SIGQUIT stops it gracefully; DIR/nginx.pid too).
# Used by scripts/deploy-smoke.sh and benchmarks/layout.py (two app nodes behind one nginx).
set -euo pipefail
source "$(dirname "$0")/_apt.sh"

cmd="${1:-}"; shift || true
dir=""; site=""; workers=1  # --workers auto: one per core
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir="$2"; shift 2 ;;
        --site) site="$2"; shift 2 ;;
        --workers) workers="$2"; shift 2 ;;
        *) echo "Không hiểu tham số: $1" >&2; exit 2 ;;
    esac
done

die() { printf 'LỖI: %s\n' "$*" >&2; exit 1; }
binary() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

install() {
    [ -n "$(binary)" ] && return 0
    echo "==> cài nginx từ Debian (apt-get)" >&2
    apt_install nginx || die "không cài được nginx"
}

run() {
    [ -n "$dir" ] && [ -f "$site" ] || die "cần --dir THƯ_MỤC và --site TỆP_SITE (đã điền bằng scripts/render-template.sh)"
    install
    dir="$(cd "$dir" && pwd)"
    mkdir -p "$dir/nginx-tmp"
    # What Debian's own /etc/nginx/nginx.conf sets around the sites it includes.
    {
        # As root, nginx's workers would switch to www-data, which may not read this run's files.
        [ "$(id -u)" = 0 ] && echo "user root;"
        cat <<CONF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 768; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log $dir/nginx-access.log;
    client_body_temp_path $dir/nginx-tmp/body;
    proxy_temp_path $dir/nginx-tmp/proxy;
    fastcgi_temp_path $dir/nginx-tmp/fastcgi;
    uwsgi_temp_path $dir/nginx-tmp/uwsgi;
    scgi_temp_path $dir/nginx-tmp/scgi;
    include $site;
}
CONF
    } > "$dir/nginx.conf"
    "$(binary)" -t -q -p "$dir" -c "$dir/nginx.conf" || die "nginx -t: cấu hình sai ($dir/nginx.conf)"
    exec "$(binary)" -p "$dir" -c "$dir/nginx.conf"
}

case "$cmd" in
    install) install ;;
    run) run ;;
    *) echo "Cách dùng: $0 install | run --dir THƯ_MỤC --site TỆP_SITE [--workers N]" >&2; exit 2 ;;
esac
