"""Admin page response times on a national-scale data set, against a small province side by side.

Seeds two SQLite databases — national: 10,000 stations in 1,000 communes, 500 bulletins, a
programme week for every station (14 items each), 5,000 audit rows; baseline: 100 stations, 50
bulletins, the same shape — then times every main page with Flask's test client, logged in as an
admin (the widest view). Prints the median of `--repeat` requests per page, slowest first, and the
ratio national / baseline: a page whose queries do not grow with the data stays near 1×.

    python benchmarks/bench_pages.py [--repeat 5] [--stations 10000]

Figures go to docs/benchmarks.md ("Admin pages").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from audio.settings import AudioSettings  # noqa: E402
from scheduler.db.models import (  # noqa: E402
    AudioAsset,
    AuditLog,
    Bulletin,
    Commune,
    Programme,
    ProgrammeItem,
    Province,
    Station,
    User,
)
from scheduler.db.session import make_engine, make_session_factory, upgrade_schema  # noqa: E402
from scheduler.settings import Settings  # noqa: E402

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # Wednesday 08:00 in Hà Nội, week 2026-W48
WEEK = "2026-W48"
MONDAY = date(2026, 11, 23)
TOPICS = ("tthc", "mot_cua", "chinh_phu_so", "dvc_truc_tuyen", "chi_so")


@dataclass
class Dataset:
    name: str
    stations: int
    bulletins: int
    audit_rows: int


def seed(url: str, data: Dataset) -> None:
    """Bulk-insert the data set with Core inserts (the ORM would take minutes at this size)."""
    engine = make_engine(url)
    upgrade_schema(engine)
    communes_n = max(1, data.stations // 10)
    with engine.begin() as conn:
        conn.execute(insert(Province), [{"id": 1, "name": "Gia Lai", "reading_variant": "north",
                                         "timezone": "Asia/Ho_Chi_Minh", "policy": {},
                                         "default_windows": "T2-CN 05:30-06:30; T2-CN 17:00-18:00"}])
        conn.execute(insert(Commune), [
            {"id": c + 1, "province_id": 1, "name": f"Xã số {c + 1:04d}", "default_windows": "", "policy": {}}
            for c in range(communes_n)
        ])
        stations = []
        for i in range(data.stations):
            contact = NOW - timedelta(minutes=3 if i % 7 else 600)  # one in seven is offline
            stations.append({
                "id": i + 1, "code": f"ST-{i + 1:05d}", "name": f"Cụm loa số {i + 1}", "commune_id": i % communes_n + 1,
                "languages": "vi", "windows": "", "speakers": 4, "active": True, "status": {"volume": 80},
                "last_status_at": contact, "last_manifest_at": contact, "last_log_at": contact,
            })
        conn.execute(insert(Station), stations)
        conn.execute(insert(User), [
            {"id": 1, "username": "quantri", "full_name": "Quản trị", "password_hash": "x", "role": "admin",
             "active": True, "created_at": NOW},
            *({"id": 2 + k, "username": f"bientap{k}", "full_name": "", "password_hash": "x", "role": "editor",
               "active": True, "created_at": NOW} for k in range(20)),
        ])
        conn.execute(insert(AudioAsset), [
            {"id": b + 1, "sha256": f"{b:064x}", "file_name": f"audio/{b}.mp3", "duration_ms": 60_000 + b * 100,
             "engine": "espeak", "voice": "vi", "warnings": [], "created_at": NOW}
            for b in range(data.bulletins)
        ])
        statuses = ("da_duyet", "da_duyet", "cho_duyet", "nhap", "tra_lai")
        conn.execute(insert(Bulletin), [
            {"id": b + 1, "code": f"BT-{b + 1:04d}", "title": f"Tuyên truyền cải cách hành chính số {b + 1}",
             "text": "UBND tỉnh tuyên truyền CCHC giai đoạn 2021 - 2030. " * 8, "topic": TOPICS[b % len(TOPICS)],
             "language": "vi", "priority": "uu_tien" if b % 10 == 0 else "thuong", "valid_from": MONDAY,
             "valid_to": MONDAY + timedelta(days=27), "plays_per_week": 3,
             "targets": [f"Xã số {b % communes_n + 1:04d}"], "status": statuses[b % len(statuses)],
             "author_id": 2 + b % 20, "audio_asset_id": b + 1 if statuses[b % len(statuses)] == "da_duyet" else None,
             "review_comment": "", "created_at": NOW - timedelta(days=b % 30), "updated_at": NOW - timedelta(hours=b)}
            for b in range(data.bulletins)
        ])
        conn.execute(insert(Programme), [
            {"id": i + 1, "station_id": i + 1, "week": WEEK, "version": 2, "built_at": NOW, "content_hash": "",
             "notified_version": 2, "acked_version": 2 if i % 5 else 1}
            for i in range(data.stations)
        ])
        items = []
        for i in range(data.stations):
            for day in range(7):
                for hour, minute in ((22, 30), (10, 0)):  # 05:30 and 17:00 local, in UTC
                    start = datetime(2026, 11, 22, hour, minute, tzinfo=UTC) + timedelta(days=day)
                    b = (i + day) % data.bulletins
                    items.append({
                        "programme_id": i + 1, "start": start, "end": start + timedelta(minutes=1),
                        "kind": "bulletin", "bulletin_id": b + 1, "bulletin_code": f"BT-{b + 1:04d}",
                        "title": f"Tuyên truyền cải cách hành chính số {b + 1}", "topic": "tthc", "language": "vi",
                        "priority": "thuong", "duration_ms": 60_000, "locked": False,
                    })
            if len(items) >= 20_000:
                conn.execute(insert(ProgrammeItem), items)
                items = []
        if items:
            conn.execute(insert(ProgrammeItem), items)
        conn.execute(insert(AuditLog), [
            {"at": NOW - timedelta(minutes=k), "user_id": 1, "username": "quantri", "action": "bulletin.update",
             "entity": "bulletin", "entity_id": str(k % data.bulletins + 1), "before": {"title": "cũ"},
             "after": {"title": "mới"}}
            for k in range(data.audit_rows)
        ])
    engine.dispose()


def pages(client_args: dict[str, Any]) -> list[tuple[str, str]]:
    station, commune, bulletin = client_args["station"], client_args["commune"], client_args["bulletin"]
    return [
        ("Tổng quan", "/"),
        ("Bản tin: danh sách", "/ban-tin/"),
        ("Bản tin: trang 8, lọc chủ đề", "/ban-tin/?chu_de=tthc&trang=8"),
        ("Bản tin: chi tiết", f"/ban-tin/{bulletin}"),
        ("Bản tin: viết mới", "/ban-tin/moi"),
        ("Lịch phát: tìm xã", "/lich-phat/?q=001"),
        ("Lịch phát: tuần của một đài", f"/lich-phat/?dai={station}&tuan={WEEK}"),
        ("Lịch phát: tuần của một xã", f"/lich-phat/?xa={commune}&tuan={WEEK}"),
        ("Đài: danh sách", "/dai/"),
        ("Đài: lọc mất kết nối", "/dai/?trang_thai=mat_ket_noi"),
        ("Đài: chi tiết", f"/dai/{station}"),
        ("Phát khẩn cấp", "/khan-cap/"),
        ("Nhật ký", "/nhat-ky/"),
        ("Người dùng", "/nguoi-dung/"),
    ]


def time_pages(url: str, data_dir: Path, repeat: int) -> dict[str, float]:
    from web.app import create_app
    from web.auth import session_fingerprint

    settings = replace(
        Settings.from_env({"LOAXA_DATA_DIR": str(data_dir)}), database_url=url, media_dir=data_dir / "media",
        audio=AudioSettings(engines=("espeak",)),
    )  # fmt: skip
    app = create_app(settings, clock=lambda: NOW, testing=True)
    sessions = make_session_factory(app.extensions["loaxa"]["engine"])
    with sessions() as s, app.app_context():
        admin = s.scalars(select(User).where(User.username == "quantri")).one()
        fingerprint = session_fingerprint(admin)
        args = {
            "station": s.scalar(select(Station.code).order_by(Station.id.desc()).limit(1)),
            "commune": s.scalar(select(func.max(Commune.id))),
            "bulletin": s.scalar(select(func.max(Bulletin.id))),
        }
    client = app.test_client()
    with client.session_transaction() as session:
        session["uid"], session["fp"] = admin.id, fingerprint
    result = {}
    for label, path in pages(args):
        response = client.get(path)  # warm-up: imports, template compilation, SQLite page cache
        assert response.status_code == 200, (path, response.status_code)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        result[label] = statistics.median(times) * 1000
    app.extensions["loaxa"]["engine"].dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stations", type=int, default=10_000)
    args = parser.parse_args()
    national = Dataset("national", args.stations, 500, 5_000)
    baseline = Dataset("baseline", max(10, args.stations // 100), 50, 500)
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for data in (baseline, national):
            url = f"sqlite:///{tmp}/{data.name}.sqlite3"
            start = time.perf_counter()
            seed(url, data)
            print(f"{data.name}: {data.stations} đài, {data.bulletins} bản tin, {data.stations * 14} mục lịch "
                  f"— tạo dữ liệu {time.perf_counter() - start:.1f} s", flush=True)
            figures[data.name] = time_pages(url, Path(tmp), args.repeat)
    rows = sorted(figures["national"].items(), key=lambda kv: -kv[1])
    print(f"\n| trang | {baseline.stations} đài (ms) | {national.stations} đài (ms) | × |")
    print("|---|---:|---:|---:|")
    for label, ms in rows:
        base = figures["baseline"][label]
        print(f"| {label} | {base:.1f} | {ms:.1f} | {ms / base:.1f} |")
    slowest = rows[0]
    print(f"\nChậm nhất: {slowest[0]} — {slowest[1]:.1f} ms (trung vị của {args.repeat} lần)")


if __name__ == "__main__":
    main()
