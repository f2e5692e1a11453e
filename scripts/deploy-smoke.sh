#!/usr/bin/env bash
# Bring up the production layout of deploy/ on this machine, without systemd, and test it through nginx:
#   a fresh PostgreSQL database, Mosquitto with `loaxa mqtt acl` accounts and deploy/mosquitto/loaxa.conf,
#   gunicorn with deploy/gunicorn.conf.py, `loaxa scheduler`, the live-broadcast `loaxa serve`, nginx with
#   deploy/nginx/loaxa.conf (scripts/nginx.sh), then: login page, /truc-tiep/ reaching the live process, a station's manifest with its token, audio download (sent by nginx via
# X-Accel-Redirect), play-log upload, /healthz and /metrics. Everything is torn down at the end.
#
# Needs PostgreSQL on 127.0.0.1:5432 (LOAXA_TEST_PG_URL), mosquitto, openssl, and nginx (installed with
# apt-get when missing, which needs root). Python: LOAXA_PYTHON, else .venv/bin/python.
# LOAXA_SMOKE_KEEP=1 keeps the work directory (logs, configuration) for a look afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${LOAXA_PYTHON:-$root/.venv/bin/python}"
bin="$(dirname "$python")"
pg_admin_url="${LOAXA_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
started=$SECONDS

say() { printf '==> %s\n' "$*"; }
die() { printf 'LỖI: %s\n' "$*" >&2; exit 1; }

[ -x "$python" ] || die "không thấy Python tại $python (đặt LOAXA_PYTHON hoặc chạy scripts/bootstrap.sh)"
[ -x "$bin/gunicorn" ] || die "thiếu gunicorn trong $bin: pip install 'loaxa[production]'"
command -v mosquitto >/dev/null || die "thiếu mosquitto (apt-get install mosquitto)"
command -v openssl >/dev/null || die "thiếu openssl"

"$root/scripts/nginx.sh" install

work="$(mktemp -d /tmp/loaxa-smoke.XXXXXX)"
chmod 755 "$work"
db="loaxa_smoke_$(date +%s)_$$"
pids=()

teardown() {
    local status=$?
    set +e
    if [ -f "$work/nginx.pid" ]; then kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null; fi
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    "$python" - "$pg_admin_url" "$db" <<'EOF' >/dev/null 2>&1
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    conn.execute(text(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)'))
EOF
    if [ "$status" != 0 ]; then
        for log in gunicorn.log scheduler.log live.log nginx-error.log mosquitto.log; do
            [ -s "$work/$log" ] && { echo "--- $log (cuối)"; tail -n 25 "$work/$log"; }
        done
    fi
    if [ -n "${LOAXA_SMOKE_KEEP:-}" ]; then echo "Giữ thư mục làm việc: $work"; else rm -rf "$work"; fi
    exit "$status"
}
trap teardown EXIT

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT NAME PID
    for _ in $(seq 1 150); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || die "$2 dừng ngay khi khởi động"
        sleep 0.2
    done
    die "$2 không mở cổng $1 sau 30 giây"
}

say "kiểm tra các tệp systemd trong deploy/systemd"
mkdir -p "$work/systemd"
for unit in "$root"/deploy/systemd/*; do
    # The units name production paths; point them at this machine's virtualenv to check them here.
    sed -e "s#/opt/loaxa/venv#${bin%/bin}#g" -e "s#/opt/loaxa-agent/venv#${bin%/bin}#g" "$unit" \
        > "$work/systemd/$(basename "$unit")"
done
if command -v systemd-analyze >/dev/null; then
    report="$(cd "$work/systemd" && systemd-analyze verify ./*.service ./*.timer 2>&1)" \
        || die "systemd-analyze verify: $report"
    [ -z "$report" ] || die "systemd-analyze verify cảnh báo: $report"
else
    "$python" - "$work"/systemd/* <<'EOF' || die "tệp systemd sai cú pháp"
import re, sys
for path in sys.argv[1:]:
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if line and not line.startswith(("#", ";")) and not re.fullmatch(r"\[[A-Za-z]+\]|[A-Za-z]+=.*", line):
            sys.exit(f"{path}:{n}: {line}")
EOF
fi
(set -a; . "$root/deploy/loaxa.env.example"; . "$root/deploy/agent.env.example") \
    || die "tệp môi trường mẫu trong deploy/ sai cú pháp"

app_port="$(free_port)"; live_port="$(free_port)"; web_port="$(free_port)"; mqtt_port="$(free_port)"; mqtts_port="$(free_port)"
mqtt_password="$("$python" -c 'import secrets; print(secrets.token_urlsafe(18))')"

say "tạo cơ sở dữ liệu PostgreSQL mới $db"
"$python" - "$pg_admin_url" "$db" <<'EOF'
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as conn:
    conn.execute(text(f'CREATE DATABASE "{sys.argv[2]}"'))
EOF

# The environment file the units read, with this run's addresses.
cat > "$work/loaxa.env" <<EOF
LOAXA_DATA_DIR=$work/data
LOAXA_MEDIA_DIR=$work/data/media
LOAXA_DATABASE_URL=${pg_admin_url%/*}/$db
LOAXA_SECRET_KEY=$("$python" -c 'import secrets; print(secrets.token_urlsafe(32))')
LOAXA_PUBLIC_URL=http://127.0.0.1:$web_port
LOAXA_MQTT_URL=mqtt://loaxa-server:$mqtt_password@127.0.0.1:$mqtt_port
LOAXA_TTS_ENGINES=espeak
LOAXA_X_ACCEL=1
LOAXA_PROXY_HOPS=1
LOAXA_GUNICORN_BIND=127.0.0.1:$app_port
LOAXA_GUNICORN_WORKERS=2
LOAXA_GUNICORN_THREADS=2
LOAXA_LEADER_POLL_SECONDS=1
EOF
set -a; . "$work/loaxa.env"; set +a
loaxa() { "$bin/loaxa" "$@"; }

say "khởi tạo và nhập dữ liệu (loaxa init, import, render, programme build)"
loaxa init >/dev/null
loaxa import stations "$root/scheduler/demo/stations.csv" >/dev/null
printf 'mat-khau-smoke-1\n' > "$work/password"
loaxa user add quantri --role admin --password-file "$work/password" >/dev/null
loaxa user add lanhdao --role approver --password-file "$work/password" >/dev/null
from_day="$(TZ=Asia/Ho_Chi_Minh date +%F)"
to_day="$(TZ=Asia/Ho_Chi_Minh date -d '+21 days' +%F)"
cat > "$work/bulletins.csv" <<EOF
code,title,text,topic,language,priority,valid_from,valid_to,plays_per_week,targets,audio_file
SMOKE-1,Giải quyết thủ tục hành chính,"Người dân đến Bộ phận một cửa của UBND xã được hướng dẫn tận tình.",mot_cua,vi,uu_tien,$from_day,$to_day,3,IGR-01,
SMOKE-2,Đường dây nóng,"Mọi phản ánh về thủ tục hành chính, người dân gọi đường dây nóng 0269 3823 456.",duong_day_nong,vi,thuong,$from_day,$to_day,2,IGR-01,
EOF
loaxa import bulletins "$work/bulletins.csv" --approve-as lanhdao >/dev/null
loaxa render >/dev/null 2>"$work/render.log" || die "loaxa render lỗi: $(cat "$work/render.log")"
loaxa programme build --station IGR-01 >/dev/null
token="$(loaxa station token IGR-01)"

say "Mosquitto với tài khoản sinh bởi «loaxa mqtt acl» và deploy/mosquitto/loaxa.conf"
loaxa mqtt acl -o "$work/mosquitto" >/dev/null
mkdir -p "$work/tls" "$work/mosquitto-data"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
    -keyout "$work/tls/privkey.pem" -out "$work/tls/fullchain.pem" >/dev/null 2>&1
sed -e "s#/etc/mosquitto/loaxa/#$work/mosquitto/#g" \
    -e "s#/etc/letsencrypt/live/loaxa.tinh.gov.vn/#$work/tls/#g" \
    -e "s#/var/lib/mosquitto/#$work/mosquitto-data/#g" \
    -e "s#^listener 8883\$#listener $mqtts_port 127.0.0.1#" \
    -e "s#^listener 1883 127.0.0.1\$#listener $mqtt_port 127.0.0.1#" \
    "$root/deploy/mosquitto/loaxa.conf" > "$work/mosquitto.conf"
grep -q "listener $mqtt_port 127.0.0.1" "$work/mosquitto.conf" || die "deploy/mosquitto/loaxa.conf đổi cổng 1883?"
# As root, Mosquitto would switch to its own user, which cannot read this run's files.
[ "$(id -u)" = 0 ] && echo "user root" >> "$work/mosquitto.conf"
echo "log_dest file $work/mosquitto.log" >> "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >/dev/null 2>&1 &
pids+=($!)
wait_port "$mqtt_port" mosquitto "$!"

say "gunicorn (deploy/gunicorn.conf.py) trên 127.0.0.1:$app_port"
(cd "$work" && exec "$bin/gunicorn" -c "$root/deploy/gunicorn.conf.py") >"$work/gunicorn.log" 2>&1 &
pids+=($!)
wait_port "$app_port" gunicorn "$!"

say "bộ lập lịch (loaxa scheduler)"
(cd "$work" && exec "$bin/loaxa" scheduler) >"$work/scheduler.log" 2>&1 &
pids+=($!)

say "phát trực tiếp: loaxa serve (deploy/systemd/loaxa-live.service) trên 127.0.0.1:$live_port"
(cd "$work" && exec "$bin/loaxa" serve --host 127.0.0.1 --port "$live_port" --threads 4) >"$work/live.log" 2>&1 &
pids+=($!)
wait_port "$live_port" "loaxa serve" "$!"

say "nginx (deploy/nginx/loaxa.conf) trên 127.0.0.1:$web_port"
static_dir="$("$python" -c 'import pathlib, web; print(pathlib.Path(web.__file__).parent / "static")')"
"$root/scripts/render-template.sh" "$root/deploy/nginx/loaxa.conf" LISTEN="127.0.0.1:$web_port" \
    SERVER_NAME=localhost UPSTREAM="127.0.0.1:$app_port" LIVE_UPSTREAM="127.0.0.1:$live_port" MEDIA_DIR="$LOAXA_MEDIA_DIR" STATIC_DIR="$static_dir" \
    METRICS_ALLOW=127.0.0.1 > "$work/site.conf"
"$root/scripts/nginx.sh" run --dir "$work" --site "$work/site.conf" &
pids+=($!)
wait_port "$web_port" nginx "$!"

say "kiểm tra qua nginx"
SMOKE_BASE="http://127.0.0.1:$web_port" SMOKE_TOKEN="$token" SMOKE_STATION=IGR-01 \
    SMOKE_GUNICORN_LOG="$work/gunicorn.log" "$python" "$root/scripts/deploy_smoke_checks.py"

say "xong sau $((SECONDS - started)) giây; dọn dẹp"
