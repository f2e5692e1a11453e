"""The Vietnamese texts people receive: an alert, its recovery, the daily summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.alerts.rules import RULE_KINDS
from scheduler.db.models import Alert


@dataclass(frozen=True)
class Message:
    event: str  # alert | recovery | summary | test
    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)  # the generic webhook's JSON body


def _local(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M ngày %d/%m/%Y")


def _place(alert: Alert) -> str:
    return ", ".join(p for p in (f"xã {alert.commune}" if alert.commune else "", alert.area) if p)


def _data(event: str, alert: Alert, subject: str, text: str) -> dict[str, Any]:
    return {
        "event": event, "kind": alert.kind, "key": alert.key, "station": alert.station_code,
        "commune": alert.commune, "area": alert.area, "title": subject, "text": text,
        "opened_at": alert.opened_at.isoformat(),
        "closed_at": alert.closed_at.isoformat() if alert.closed_at else None,
    }


def alert_message(alert: Alert, tz: ZoneInfo, public_url: str) -> Message:
    label = RULE_KINDS[alert.kind].label
    subject = f"[loaxa] Cảnh báo: {label} — đài {alert.station_code}"
    text = (f"{label}: đài {alert.station_code} ({_place(alert)}).\n{alert.detail}\n"
            f"Phát hiện lúc {_local(alert.opened_at, tz)}.\nXem đài: {public_url}/dai/{alert.station_code}")
    return Message("alert", subject, text, _data("alert", alert, subject, text))


def recovery_message(alert: Alert, tz: ZoneInfo, public_url: str) -> Message:
    label = RULE_KINDS[alert.kind].label
    assert alert.closed_at is not None
    subject = f"[loaxa] Đã trở lại bình thường: {label} — đài {alert.station_code}"
    minutes = int((alert.closed_at - alert.opened_at).total_seconds() // 60)
    text = (f"Hết cảnh báo «{label}» ở đài {alert.station_code} ({_place(alert)}) lúc {_local(alert.closed_at, tz)}, "
            f"sau {minutes} phút.\nXem đài: {public_url}/dai/{alert.station_code}")
    return Message("recovery", subject, text, _data("recovery", alert, subject, text))


@dataclass(frozen=True)
class Summary:
    scope: str  # «Toàn tỉnh», «Xã Ia Dêr»…
    day: str  # dd/mm/yyyy, local
    stations: int
    online: int
    open_alerts: Sequence[Alert]
    opened_today: int
    recovered_today: int


def summary_message(summary: Summary, tz: ZoneInfo, public_url: str) -> Message:
    offline = summary.stations - summary.online
    lines = [
        f"Tóm tắt ngày {summary.day} — {summary.scope}",
        f"Đài đang liên lạc: {summary.online}/{summary.stations}; mất liên lạc: {offline}.",
        f"Cảnh báo trong 24 giờ qua: {summary.opened_today} mới, {summary.recovered_today} đã hết.",
    ]
    if summary.open_alerts:
        lines.append(f"Cảnh báo còn mở ({len(summary.open_alerts)}):")
        for a in summary.open_alerts[:50]:
            lines.append(f"- {RULE_KINDS[a.kind].label}: đài {a.station_code} ({a.commune}), "
                         f"từ {_local(a.opened_at, tz)}")
        if len(summary.open_alerts) > 50:
            lines.append(f"… và {len(summary.open_alerts) - 50} cảnh báo khác.")
    else:
        lines.append("Không còn cảnh báo nào đang mở.")
    lines.append(f"Xem chi tiết: {public_url}/canh-bao")
    subject = f"[loaxa] Tóm tắt ngày {summary.day}: {summary.online}/{summary.stations} đài liên lạc, " \
              f"{len(summary.open_alerts)} cảnh báo mở"
    text = "\n".join(lines)
    data = {"event": "summary", "title": subject, "text": text, "scope": summary.scope, "day": summary.day,
            "stations": summary.stations, "online": summary.online,
            "open_alerts": [{"kind": a.kind, "station": a.station_code, "commune": a.commune,
                             "opened_at": a.opened_at.isoformat()} for a in summary.open_alerts],
            "opened_today": summary.opened_today, "recovered_today": summary.recovered_today}
    return Message("summary", subject, text, data)


def trial_message(name: str) -> Message:
    subject = "[loaxa] Thử gửi cảnh báo"
    text = f"Đây là tin thử gửi tới «{name}». Nếu bạn nhận được, kênh cảnh báo đã hoạt động."
    return Message("test", subject, text, {"event": "test", "title": subject, "text": text})
