"""The printable weekly programme sheet (PDF, Vietnamese) that a commune operator pins by the console."""

from __future__ import annotations

import importlib.util
import unicodedata
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.catalogue import language_label
from scheduler.domain import IsoWeek, kind_label
from scheduler.programmes.exports.labels import day_label, duration_label, item_title
from scheduler.wire import Manifest, ManifestItem

FONT_FAMILY = "DejaVu"


UNIT_WORDS = ("xã ", "phường ", "thị trấn ", "đặc khu ")


def commune_unit(commune: str) -> str:
    """«Xã Ia Grai» as it is; a bare «Ia Grai» becomes «Xã Ia Grai» (never «Xã Xã Ia Grai»)."""
    return commune if commune.casefold().startswith(UNIT_WORDS) else f"Xã {commune}"


def font_files() -> tuple[Path, Path]:
    """DejaVu Sans regular and bold, as shipped by matplotlib (server extra): full Vietnamese glyphs."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("Thiếu gói matplotlib (phông chữ DejaVu Sans): cài loaxa[server] rồi thử lại.")
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
    if not regular.is_file() or not bold.is_file():
        raise RuntimeError(f"Không thấy phông DejaVu Sans trong {folder}: cài lại matplotlib.")
    return regular, bold


def _nfc(text: str) -> str:
    # Decomposed diacritics would print as separate marks; the font has the precomposed letters.
    return unicodedata.normalize("NFC", text)


def _by_day(manifest: Manifest, tz: ZoneInfo) -> dict[date, list[ManifestItem]]:
    days: dict[date, list[ManifestItem]] = defaultdict(list)
    for item in manifest["items"]:
        days[datetime.fromisoformat(item["start"]).astimezone(tz).date()].append(item)
    return days


def to_pdf(manifest: Manifest, station_name: str = "", commune: str = "") -> bytes:
    """A4 sheet: national header, the week's items day by day, a signature block; fonts embedded."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    tz = ZoneInfo(manifest["timezone"])
    week = IsoWeek.parse(manifest["week"])
    generated = datetime.fromisoformat(manifest["generated_at"]).astimezone(tz)
    regular, bold = font_files()

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(generated)
    pdf.set_title(_nfc(f"Lịch phát thanh tuần {manifest['week']} — {manifest['station']}"))
    pdf.set_author("loaxa")
    pdf.add_font(FONT_FAMILY, "", str(regular))
    pdf.add_font(FONT_FAMILY, "B", str(bold))
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.alias_nb_pages()
    pdf.add_page()

    def text(size: float, value: str, style: str = "", align: str = "L", w: float = 0) -> None:
        pdf.set_font(FONT_FAMILY, style, size)
        pdf.multi_cell(w, 5.5, _nfc(value), align=align, new_x="LMARGIN", new_y="NEXT")

    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    top = pdf.get_y()
    unit = f"ĐÀI TRUYỀN THANH {commune_unit(commune).upper()}" if commune else "ĐÀI TRUYỀN THANH CƠ SỞ"
    pdf.set_font(FONT_FAMILY, "B", 10)
    pdf.multi_cell(half, 5.5, _nfc(unit), align="C")
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.multi_cell(half, 5.5, _nfc("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), align="C",
                   new_x="LEFT", new_y="NEXT")
    pdf.multi_cell(half, 5.5, _nfc("Độc lập - Tự do - Hạnh phúc"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)

    first, last = week.monday(), week.days()[-1]
    text(15, f"LỊCH PHÁT THANH {week.label.upper()}", "B", "C")
    text(11, f"Từ {day_label(first)} đến {day_label(last)}", "", "C")
    station = f"{station_name} ({manifest['station']})" if station_name else str(manifest["station"])
    text(11, f"Đài: {station} — phiên bản {manifest['version']}", "", "C")
    pdf.ln(3)

    days = _by_day(manifest, tz)
    heading = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
    for day in week.days():
        text(12, day_label(day), "B")
        items = days.get(day, [])
        if not items:
            text(10, "Không phát.")
            pdf.ln(2)
            continue
        pdf.set_font(FONT_FAMILY, "", 9.5)
        with pdf.table(col_widths=(26, 74, 22, 26, 32), headings_style=heading, line_height=5.5,
                       text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT")) as table:
            row = table.row()
            for title in ("Giờ phát", "Nội dung", "Loại", "Ngôn ngữ", "Thời lượng"):
                row.cell(_nfc(title))
            for item in items:
                start = datetime.fromisoformat(item["start"]).astimezone(tz)
                end = datetime.fromisoformat(item["end"]).astimezone(tz)
                length = int((end - start).total_seconds() * 1000)
                style = FontFace(emphasis="BOLD") if item["kind"] == "emergency" else None
                row = table.row(style=style)
                row.cell(f"{start:%H:%M}–{end:%H:%M}")
                row.cell(_nfc(item_title(item)))
                row.cell(_nfc(kind_label(item["kind"])))
                row.cell(_nfc(language_label(item.get("language") or "vi")))
                row.cell(_nfc(duration_label(length)))
        pdf.ln(3)

    pdf.ln(4)
    text(9.5, f"Lập lúc {generated:%H:%M} ngày {generated:%d/%m/%Y} (giờ {manifest['timezone']}).")
    pdf.ln(4)
    top = pdf.get_y()
    pdf.set_font(FONT_FAMILY, "B", 10.5)
    pdf.multi_cell(half, 5.5, _nfc("NGƯỜI LẬP BIỂU"), align="C")
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.multi_cell(half, 5.5, _nfc("THỦ TRƯỞNG ĐƠN VỊ"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT_FAMILY, "", 9.5)
    top = pdf.get_y()
    pdf.multi_cell(half, 5.5, _nfc("(Ký, ghi rõ họ tên)"), align="C")
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.multi_cell(half, 5.5, _nfc("(Ký, ghi rõ họ tên, đóng dấu)"), align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
