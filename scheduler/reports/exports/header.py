"""The words of a Vietnamese administrative report: national header, title, period, signature block."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from scheduler.reports.airtime import BY_CHOICES, AirtimeReport
from scheduler.reports.exports.table import vn_number
from scheduler.reports.periods import Period, format_date

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TITLE = "BÁO CÁO KẾT QUẢ PHÁT THANH TRÊN HỆ THỐNG ĐÀI TRUYỀN THANH CƠ SỞ"
PREPARER = "NGƯỜI LẬP BIỂU"
HEAD = "THỦ TRƯỞNG ĐƠN VỊ"
PREPARER_NOTE = "(Ký, ghi rõ họ tên)"
HEAD_NOTE = "(Ký tên, đóng dấu)"


@dataclass(frozen=True)
class HeaderText:
    unit: str
    nation: str
    motto: str
    place_date: str
    title: str
    subtitle: str
    period: str
    scope: str
    as_of: str


def header_text(report: AirtimeReport) -> HeaderText:
    tz = ZoneInfo(report.timezone)
    made = report.generated_at.astimezone(tz).date()
    as_of = report.as_of.astimezone(tz)
    period = report.request.period
    place = report.province or "Ngày"
    return HeaderText(
        unit=report.issuing_unit,
        nation=NATION,
        motto=MOTTO,
        place_date=f"{place}, ngày {made.day:02d} tháng {made.month:02d} năm {made.year}",
        title=TITLE,
        subtitle=f"Thời lượng phát theo kế hoạch và thực tế — theo {BY_CHOICES[report.request.by].lower()}",
        period=f"Kỳ báo cáo: {period.label}" + (
            "" if period.label == Period.custom(period.first, period.last).label
            else f" (từ ngày {format_date(period.first)} đến ngày {format_date(period.last)})"
        ),
        scope=f"Phạm vi: {report.request.scope.label}",
        as_of=(f"Số liệu tính đến {as_of:%H:%M} ngày {format_date(as_of.date())} "
               "(kế hoạch tính cả kỳ; chưa đến giờ phát thì chưa tính là bỏ lỡ)"),
    )  # fmt: skip


def summary_lines(report: AirtimeReport) -> list[str]:
    """A few sentences with the totals, for the top of a printed report."""
    t = report.totals
    ratio = "—" if t.ratio is None else vn_number(t.ratio * 100, 1) + "%"
    return [
        f"Lượt phát theo kế hoạch: {vn_number(t.planned_items)}; đã phát: {vn_number(t.aired_items)}; "
        f"bỏ lỡ: {vn_number(t.missed_items)}; tin khẩn cấp đã phát: {vn_number(t.emergency_items)}.",
        f"Thời lượng kế hoạch: {vn_number(t.planned_minutes, 1)} phút; đã phát: "
        f"{vn_number(t.aired_minutes, 1)} phút; tỷ lệ: {ratio}.",
        f"Tiếp sóng bị mất (luồng hỏng, im lặng, đài không hoạt động): "
        f"{vn_number(report.relay_lost_ms / 60000, 1)} phút.",
    ] + ([f"Tin tuyến trên xã chọn không phát (Thông tư 39): {vn_number(len(report.declined))} bản tin, "
          f"{vn_number(report.declined_pairs)} lượt đài × bản tin."] if report.declined else [])
