"""The requests of scripts/deploy-smoke.sh, made through nginx as a person and a station would.

Reads SMOKE_BASE (nginx), SMOKE_TOKEN and SMOKE_STATION (a station's token and code) and
SMOKE_GUNICORN_LOG (gunicorn's access log). Prints one line per check; exits 1 at the first failure.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from scheduler.wire import PLAYLOG_PATH, audio_path, manifest_index_path, manifest_path

TIMEOUT = 60  # seconds; generous: the first request waits for a worker to import the app on a loaded machine


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def ok(message: str) -> None:
    print(f"  đạt: {message}", flush=True)


def check_login_page(base: str) -> None:
    page = requests.get(f"{base}/dang-nhap", timeout=TIMEOUT)
    expect(page.status_code == 200, f"trang đăng nhập trả {page.status_code}")
    expect("Đăng nhập" in page.text, "trang đăng nhập không có chữ «Đăng nhập»")
    expect(page.headers.get("Server", "").startswith("nginx"), "trang đăng nhập không đi qua nginx")
    css = requests.get(f"{base}/static/loaxa.css", timeout=TIMEOUT)
    expect(css.status_code == 200 and len(css.content) > 0, f"nginx không phục vụ /static/ ({css.status_code})")
    ok("trang đăng nhập và tệp tĩnh qua nginx")


def check_forged_forwarded_for(base: str, failures: int = 5) -> None:
    """Through nginx (LOAXA_PROXY_HOPS=1), a client writing its own X-Forwarded-For still counts as one
    address for the login limiter: after `failures` wrong passwords, each "from" a new address, it is locked."""
    browser = requests.Session()
    form = browser.get(f"{base}/dang-nhap", timeout=TIMEOUT)
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    expect(found is not None, "trang đăng nhập không có mã CSRF")
    assert found is not None
    data = {"csrf_token": found.group(1), "username": f"kiem-tra-{uuid.uuid4().hex[:8]}", "password": "sai"}
    codes = [browser.post(f"{base}/dang-nhap", data=data, headers={"X-Forwarded-For": f"203.0.113.{n}"},
                          timeout=TIMEOUT, allow_redirects=False).status_code for n in range(failures + 1)]
    expect(codes == [401] * failures + [429], f"X-Forwarded-For giả lách được giới hạn đăng nhập: {codes}")
    ok("X-Forwarded-For giả không lách được giới hạn đăng nhập qua nginx")


def check_live_route(base: str, gunicorn_log: Path) -> None:
    """/truc-tiep/ goes to the one live-broadcast process (upstream loaxa_live), never to gunicorn's workers."""
    page = requests.get(f"{base}/truc-tiep/", timeout=TIMEOUT, allow_redirects=False)
    expect(page.status_code == 302 and "/dang-nhap" in page.headers.get("Location", ""),
           f"/truc-tiep/ không đòi đăng nhập ({page.status_code})")
    time.sleep(0.5)
    expect("/truc-tiep" not in gunicorn_log.read_text(encoding="utf-8"),
           "gunicorn nhận /truc-tiep/ thay vì loaxa serve")
    ok("/truc-tiep/ đến tiến trình phát trực tiếp riêng, không qua gunicorn")


def fetch_manifest(base: str, token: str, station: str) -> dict[str, Any]:
    """The first week of the station's manifest index that has audio to play."""
    refused = requests.get(base + manifest_index_path(), timeout=TIMEOUT)
    expect(refused.status_code == 401, f"API không đòi mã truy cập (trả {refused.status_code})")
    auth = {"Authorization": f"Bearer {token}"}
    index = requests.get(base + manifest_index_path(), headers=auth, timeout=TIMEOUT)
    expect(index.status_code == 200, f"danh sách lịch của đài trả {index.status_code}: {index.text[:200]}")
    expect(index.json().get("station") == station, f"danh sách lịch không phải của đài {station}")
    for week in index.json().get("weeks", []):
        manifest = requests.get(base + manifest_path(week["week"]), headers=auth, timeout=TIMEOUT)
        expect(manifest.status_code == 200, f"lịch tuần {week['week']} trả {manifest.status_code}")
        body: dict[str, Any] = manifest.json()
        if any(item.get("sha256") for item in body["items"]):
            ok(f"lịch tuần {body['week']} của đài {station}: {len(body['items'])} mục")
            return body
    raise CheckFailed(f"đài {station} không có tuần nào có âm thanh để tải")


def check_audio(base: str, token: str, manifest: dict[str, Any], gunicorn_log: Path) -> None:
    item = next(i for i in manifest["items"] if i.get("sha256"))
    url, sha = item["audio_url"], item["sha256"]
    expect(url.startswith(base), f"địa chỉ âm thanh {url} không đi qua nginx {base} (LOAXA_PUBLIC_URL)")
    auth = {"Authorization": f"Bearer {token}"}
    whole = requests.get(url, headers=auth, timeout=TIMEOUT)
    expect(whole.status_code == 200, f"tải âm thanh trả {whole.status_code}")
    expect(hashlib.sha256(whole.content).hexdigest() == sha, "âm thanh tải về sai tổng kiểm tra SHA-256")
    expect(whole.headers.get("Content-Type", "").startswith("audio/mpeg"), "âm thanh không có kiểu audio/mpeg")
    expect("X-Accel-Redirect" not in whole.headers, "tiêu đề X-Accel-Redirect lọt ra ngoài nginx")
    part = requests.get(url, headers={**auth, "Range": "bytes=100-"}, timeout=TIMEOUT)
    expect(part.status_code == 206 and part.content == whole.content[100:], "tải tiếp (Range) không đúng")
    wrong = requests.get(url, headers={"Authorization": "Bearer sai-ma"}, timeout=TIMEOUT)
    expect(wrong.status_code == 401, f"sai mã truy cập vẫn tải được âm thanh ({wrong.status_code})")
    direct = requests.get(f"{base}/_loaxa_media/audio/{sha}.mp3", timeout=TIMEOUT)
    expect(direct.status_code == 404, f"thư mục media mở trực tiếp ra ngoài ({direct.status_code})")
    # gunicorn logs the body size it sent itself: 0 means nginx sent the file (X-Accel-Redirect).
    time.sleep(0.5)
    lines = [ln for ln in gunicorn_log.read_text(encoding="utf-8").splitlines() if audio_path(sha) in ln]
    sizes = [ln.split('" ', 1)[1].split()[:2] for ln in lines]
    expect(["200", "0"] in sizes, f"gunicorn tự gửi tệp âm thanh thay vì nginx: {sizes}")
    ok(f"âm thanh {sha[:12]}… {len(whole.content)} byte do nginx gửi sau khi Flask kiểm tra mã")


def check_playlog(base: str, token: str, manifest: dict[str, Any]) -> None:
    item = next(i for i in manifest["items"] if i.get("sha256"))
    play_id = f"smoke-{uuid.uuid4().hex[:12]}"
    play = {"play_id": play_id, "item_id": item["id"], "actual_start": datetime.now(UTC).isoformat(),
            "played_ms": item["duration_ms"], "result": "played"}  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    first = requests.post(base + PLAYLOG_PATH, json={"plays": [play]}, headers=auth, timeout=TIMEOUT)
    expect(first.status_code == 200, f"gửi nhật ký phát trả {first.status_code}: {first.text[:200]}")
    expect(first.json().get("accepted") == [play_id] and first.json().get("stored") == 1, f"nhật ký: {first.text}")
    again = requests.post(base + PLAYLOG_PATH, json={"plays": [play]}, headers=auth, timeout=TIMEOUT)
    expect(again.json().get("duplicates") == 1, f"gửi lại nhật ký bị lưu hai lần: {again.text}")
    ok("nhật ký phát được lưu một lần, gửi lại không trùng")


def check_health(base: str, wait_seconds: float = 30) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        health = requests.get(f"{base}/healthz", timeout=TIMEOUT)
        body = health.json()
        if health.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # the scheduler may not have beaten yet
    expect(health.status_code == 200, f"/healthz trả {health.status_code}: {body}")
    expect(set(body["checks"]) == {"database", "media", "broker", "scheduler"}, f"/healthz thiếu mục: {body}")
    metrics = requests.get(f"{base}/metrics", timeout=TIMEOUT)
    expect(metrics.status_code == 200 and "loaxa_stations{" in metrics.text, "/metrics không trả số liệu")
    ok("/healthz: cơ sở dữ liệu, media, MQTT, bộ lập lịch đều chạy; /metrics có số liệu")


def main() -> int:
    base = os.environ["SMOKE_BASE"].rstrip("/")
    token, station = os.environ["SMOKE_TOKEN"], os.environ["SMOKE_STATION"]
    try:
        check_login_page(base)
        check_forged_forwarded_for(base)
        check_live_route(base, Path(os.environ["SMOKE_GUNICORN_LOG"]))
        manifest = fetch_manifest(base, token, station)
        check_audio(base, token, manifest, Path(os.environ["SMOKE_GUNICORN_LOG"]))
        check_playlog(base, token, manifest)
        check_health(base)
    except (CheckFailed, requests.RequestException, KeyError, ValueError) as exc:
        print(f"  LỖI: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
