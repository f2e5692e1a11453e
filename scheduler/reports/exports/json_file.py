"""The report as JSON: every grouping, the trend and the missed items, with codes and Vietnamese labels."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.reports.airtime import AirtimeReport, Row
from scheduler.reports.exports.header import header_text


def _row(row: Row) -> dict[str, Any]:
    data: dict[str, Any] = {"key": row.key, "label": row.label, **row.figures.as_dict()}
    if row.commune or row.area:
        data.update(commune=row.commune, area=row.area)
    if row.stations:
        data.update(stations=row.stations, speakers=row.speakers)
    if row.station is not None:
        data["station"] = asdict(row.station)
    return data


def report_dict(report: AirtimeReport) -> dict[str, Any]:
    period = report.request.period
    text = header_text(report)
    tz = ZoneInfo(report.timezone)
    return {
        "title": text.title,
        "issuing_unit": report.issuing_unit,
        "period": {"label": period.label, "first": period.first.isoformat(), "last": period.last.isoformat()},
        "scope": {"level": report.request.scope.level, "value": report.request.scope.value,
                  "label": report.request.scope.label},
        "by": report.request.by,
        "timezone": report.timezone,
        "generated_at": report.generated_at.astimezone(tz).isoformat(),
        "as_of": report.as_of.astimezone(tz).isoformat(),
        "totals": report.totals.as_dict(),
        "relay_lost_minutes": round(report.relay_lost_ms / 60000, 2),
        "rows": [_row(r) for r in report.rows],
        "breakdowns": {name: [_row(r) for r in rows] for name, rows in report.breakdowns.items()},
        "trend": {"unit": report.trend_unit,
                  "points": [{"start": p.start.isoformat(), "label": p.label, **p.figures.as_dict()}
                             for p in report.trend]},
        "missed": [{**asdict(m), "scheduled_start": m.scheduled_start.isoformat()} for m in report.missed],
        "missed_total": report.totals.missed_items,
        "declined": [{**asdict(d), "valid_from": d.valid_from.isoformat() if d.valid_from else None,
                      "valid_to": d.valid_to.isoformat() if d.valid_to else None,
                      "decided_at": d.decided_at.astimezone(tz).isoformat()} for d in report.declined],
        "declined_pairs": report.declined_pairs,
        "sources": {"rollup_days": report.rollup_days, "rollup_months": report.rollup_months,
                    "raw_days": report.raw_days},
    }  # fmt: skip


def json_bytes(report: AirtimeReport) -> bytes:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2).encode("utf-8")
