"""`loaxa report`: airtime reports to files, and the roll-ups they read."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from scheduler.reports.periods import Period, parse_local_date, resolve_period
from web.cli.context import now_from as _instant

BY_HELP = "station|commune|area|topic|language|priority|source"
FORMATS = ("xlsx", "csv", "pdf", "json")


def _date(text: str, option: str) -> date:
    try:
        return parse_local_date(text)
    except ValueError as exc:
        raise click.UsageError(f"{option}: {exc}") from None


def _period(date_from: str | None, date_to: str | None, kind: str | None, year: str | None,
            index: str | None) -> Period:
    """The period the options name; click.UsageError with the Vietnamese reason otherwise."""
    for option, value in (("--from", date_from), ("--to", date_to)):
        if value and not kind:
            _date(value, option)  # says which option held the bad date
    try:
        return resolve_period(date_from, date_to, kind, year, index)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.group(help="Báo cáo thời lượng phát thanh: kế hoạch và thực tế.")
def report() -> None:
    pass


@report.command(help="Báo cáo thời lượng phát theo kế hoạch và thực tế, ra tệp XLSX, CSV, PDF hoặc JSON.")
@click.option("--from", "date_from", metavar="NGÀY", help="Ngày đầu kỳ: 2026-11-01 hoặc 01/11/2026.")
@click.option("--to", "date_to", metavar="NGÀY", help="Ngày cuối kỳ (tính cả ngày này).")
@click.option("--period", "kind", metavar="thang|quy|6thang|nam", help="Kỳ báo cáo định kỳ.")
@click.option("--year", metavar="NĂM", help="Năm của kỳ báo cáo.")
@click.option("--index", metavar="SỐ", help="Tháng 1-12, quý 1-4 hoặc 6 tháng 1-2.")
@click.option("--by", default="station", show_default=True, metavar=BY_HELP, help="Nhóm các dòng theo.")
@click.option("--area", help="Chỉ một khu vực (tên).")
@click.option("--commune", help="Chỉ một xã (tên).")
@click.option("--station", help="Chỉ một đài (mã).")
@click.option("--unit", default="", help="Tên đơn vị báo cáo in ở góc trái (mặc định: UBND tỉnh).")
@click.option("--format", "fmt", metavar="xlsx|csv|pdf|json", help="Định dạng (mặc định: theo đuôi tệp -o).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Tệp kết quả.")
@click.option("--now", "now_text", hidden=True, help="Lập báo cáo như tại thời điểm này (ISO, có múi giờ).")
def airtime(date_from: str | None, date_to: str | None, kind: str | None, year: str | None, index: str | None,
            by: str, area: str | None, commune: str | None, station: str | None, unit: str, fmt: str | None,
            output: Path | None, now_text: str | None) -> None:
    from scheduler.reports import BY_CHOICES, ReportRequest, Scope, build_report
    from scheduler.reports.exports import render_report, write_report
    from scheduler.reports.exports.table import vn_number

    period = _period(date_from, date_to, kind, year, index)
    if by not in BY_CHOICES:
        raise click.UsageError(f"--by «{by}» không có. Chọn một trong: {', '.join(BY_CHOICES)}.")
    if fmt is None and output is not None:
        fmt = output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise click.UsageError(f"Định dạng «{fmt or ''}» không hỗ trợ. Dùng --format {'|'.join(FORMATS)}.")
    if output is None and fmt in ("xlsx", "pdf"):
        raise click.UsageError(f"Tệp {fmt.upper()} cần nơi lưu: thêm -o TỆP, ví dụ -o bao-cao.{fmt}.")
    chosen = [(lvl, v) for lvl, v in (("area", area), ("commune", commune), ("station", station)) if v]
    if len(chosen) > 1:
        raise click.UsageError("Chỉ chọn một phạm vi: --area, --commune hoặc --station.")
    try:
        scope = Scope(*chosen[0]) if chosen else Scope()  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    now = _instant(now_text)

    from web.cli.context import load_env

    env = load_env()
    with env.sessions() as session:
        result = build_report(session, ReportRequest(period, by, scope, unit), now, env.settings.tz)
    if output is None:
        sys.stdout.buffer.write(render_report(result, fmt))
        sys.stdout.buffer.flush()
        return
    size = write_report(result, fmt, output)
    t = result.totals
    ratio = "—" if t.ratio is None else vn_number(t.ratio * 100, 1) + "%"
    click.echo(f"Đã ghi {output} ({vn_number(size)} byte): {period.label}, {len(result.rows)} dòng; "
               f"kế hoạch {t.planned_items} lượt, đã phát {t.aired_items}, bỏ lỡ {t.missed_items}; "
               f"tỷ lệ thời lượng {ratio}.")


@report.command(help="Tổng hợp số liệu phát theo ngày (việc hằng đêm của bộ lập lịch); chạy lại được nhiều lần.")
@click.option("--day", metavar="NGÀY", help="Chỉ tổng hợp lại một ngày; bỏ trống: mọi ngày đã qua còn thiếu.")
@click.option("--now", "now_text", hidden=True)
def rollup(day: str | None, now_text: str | None) -> None:
    from scheduler.db.session import transaction
    from scheduler.reports import rollup_day, rollup_pending
    from web.cli.context import load_env

    chosen = _date(day, "--day") if day else None
    now = _instant(now_text)
    env = load_env()
    with transaction(env.sessions) as session:
        if chosen is not None:
            rollup_day(session, chosen, env.settings.tz, now)
            click.echo(f"Đã tổng hợp lại ngày {day}.")
            return
        result = rollup_pending(session, now, env.settings.tz)
    if result.days:
        click.echo(f"Đã tổng hợp {len(result.days)} ngày, từ {result.days[0]:%d/%m/%Y} "
                   f"đến {result.days[-1]:%d/%m/%Y}.")
    else:
        click.echo("Không còn ngày nào cần tổng hợp.")
