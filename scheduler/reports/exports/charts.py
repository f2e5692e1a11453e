"""Report charts as PNG images: airtime by topic, compliance by commune, trend over time.

Uses matplotlib's object API on the Agg canvas (no pyplot global state: safe in a web server).
"""

from __future__ import annotations

import io
from typing import Any

from scheduler.reports.airtime import AirtimeReport, Row
from scheduler.reports.exports.table import vn_number

CHART_NAMES: dict[str, str] = {
    "topic": "Thời lượng phát theo chủ đề",
    "commune": "Tỷ lệ thời lượng đã phát theo xã",
    "trend": "Thời lượng phát theo thời gian",
}
MAX_COMMUNES = 30  # more than this: show the ones furthest behind plan
PLANNED_COLOUR, AIRED_COLOUR, RATIO_COLOUR = "#9db4d3", "#1f5fa8", "#2e7d32"


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    fig.set_layout_engine("constrained")
    return fig


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _note_empty(ax: Any) -> None:
    ax.text(0.5, 0.5, "Không có số liệu trong kỳ", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def topic_chart(report: AirtimeReport) -> bytes:
    rows = [r for r in report.breakdowns["topic"] if r.figures.planned_ms or r.figures.aired_ms]
    fig = _figure(8, 0.45 * max(len(rows), 3) + 1.4)
    ax = fig.add_subplot()
    ax.set_title(CHART_NAMES["topic"])
    if not rows:
        _note_empty(ax)
        return _png(fig)
    labels = [_short(r.label) for r in rows][::-1]
    positions = list(range(len(rows)))
    planned = [r.figures.planned_minutes for r in rows][::-1]
    aired = [r.figures.aired_minutes for r in rows][::-1]
    ax.barh([p + 0.2 for p in positions], planned, height=0.4, color=PLANNED_COLOUR, label="Kế hoạch")
    ax.barh([p - 0.2 for p in positions], aired, height=0.4, color=AIRED_COLOUR, label="Đã phát")
    ax.set_yticks(positions, labels)
    ax.set_xlabel("Phút")
    ax.legend(loc="lower right")
    return _png(fig)


def _commune_rows(report: AirtimeReport) -> tuple[list[Row], bool]:
    rows = [r for r in report.breakdowns["commune"] if r.figures.ratio is not None]
    if len(rows) <= MAX_COMMUNES:
        return rows, False
    worst = sorted(rows, key=lambda r: (r.figures.ratio or 0, r.label))[:MAX_COMMUNES]
    return sorted(worst, key=lambda r: r.label), True


def commune_chart(report: AirtimeReport) -> bytes:
    rows, cut = _commune_rows(report)
    fig = _figure(8, 0.4 * max(len(rows), 3) + 1.4)
    ax = fig.add_subplot()
    title = CHART_NAMES["commune"]
    ax.set_title(f"{title} ({MAX_COMMUNES} xã thấp nhất)" if cut else title)
    if not rows:
        _note_empty(ax)
        return _png(fig)
    ratios = [(r.figures.ratio or 0) * 100 for r in rows][::-1]
    positions = list(range(len(rows)))
    bars = ax.barh(positions, ratios, color=RATIO_COLOUR)
    ax.set_yticks(positions, [_short(r.label) for r in rows][::-1])
    ax.axvline(100, color="#555555", linewidth=0.8, linestyle="--")
    ax.set_xlabel("Tỷ lệ thời lượng đã phát / kế hoạch (%)")
    ax.bar_label(bars, labels=[vn_number(v, 1) for v in ratios], padding=2, fontsize=8)
    ax.set_xlim(0, max(110, max(ratios) * 1.15))
    return _png(fig)


def trend_chart(report: AirtimeReport) -> bytes:
    points = report.trend
    fig = _figure(8, 3.6)
    ax = fig.add_subplot()
    unit = "ngày" if report.trend_unit == "day" else "tháng"
    ax.set_title(f"{CHART_NAMES['trend']} (theo {unit})")
    if not points:
        _note_empty(ax)
        return _png(fig)
    x = list(range(len(points)))
    ax.plot(x, [p.figures.planned_minutes for p in points], marker="o", color=PLANNED_COLOUR, label="Kế hoạch")
    ax.plot(x, [p.figures.aired_minutes for p in points], marker="o", color=AIRED_COLOUR, label="Đã phát")
    step = max(1, len(points) // 12)
    ax.set_xticks(x[::step], [p.label for p in points][::step], rotation=45, ha="right")
    ax.set_ylabel("Phút")
    top = max([p.figures.planned_minutes for p in points] + [p.figures.aired_minutes for p in points] + [1])
    ax.set_ylim(bottom=0, top=top * 1.15)  # head-room: the highest point and its marker are never clipped
    ax.set_xlim(-0.5, len(points) - 0.5)
    ax.legend()
    return _png(fig)


def all_charts(report: AirtimeReport) -> dict[str, bytes]:
    """PNG bytes of every chart, keyed as CHART_NAMES."""
    return {"topic": topic_chart(report), "commune": commune_chart(report), "trend": trend_chart(report)}


def _short(label: str, width: int = 38) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"
