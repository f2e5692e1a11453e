"""CSV and XLSX import of stations and bulletins. A file with any bad row stores nothing.

Formats are documented in docs/csv-formats.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db.models import Area, Bulletin, Commune, Province, Station, User
from scheduler.domain import BulletinStatus, Priority
from scheduler.planning.windows import find_overlaps, parse_windows
from scheduler.topics import LANGUAGES, TOPICS

STATION_COLUMNS = ("code", "name", "commune", "area", "province", "languages", "windows", "lat", "lon", "speakers")
BULLETIN_COLUMNS = (
    "code", "title", "text", "topic", "language", "priority",
    "valid_from", "valid_to", "plays_per_week", "targets", "audio_file",
)  # fmt: skip


class ImportFailed(Exception):
    """Raised with every bad row; nothing from the file was stored."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sheet:
    """A spreadsheet's first sheet as text cells, each row with its number as the spreadsheet shows it."""

    rows: tuple[tuple[int, tuple[str, ...]], ...]


def _cell_text(value: object) -> str:
    """A cell as the text a person would have typed into the CSV."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(data: bytes) -> Sheet:
    """The first sheet of an XLSX workbook; raise ImportFailed if the bytes are not one."""
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise ImportFailed(
            ["Tệp không đọc được như bảng tính XLSX. Mở bằng Excel hoặc LibreOffice rồi lưu lại dạng .xlsx."]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        rows = tuple(
            (number, tuple(_cell_text(v) for v in values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1)
        )
    finally:
        workbook.close()
    return Sheet(rows)


def read_rows(text: str | Sheet, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """Rows with their line numbers; raise ImportFailed if the header lacks a column."""
    if isinstance(text, Sheet):
        return _read_sheet_rows(text, required)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed([f"Dòng 1: thiếu cột {', '.join(missing)}. Cần đủ các cột: {','.join(required)}."])
    rows = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
    return rows


def _read_sheet_rows(sheet: Sheet, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """The XLSX twin of the CSV path: same header check, same cleaning, spreadsheet row numbers."""
    header = [h.strip() for h in sheet.rows[0][1]] if sheet.rows else []
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed([f"Dòng 1: thiếu cột {', '.join(missing)}. Cần đủ các cột: {','.join(required)}."])
    rows = []
    for number, values in sheet.rows[1:]:
        clean = {name: (values[i] if i < len(values) else "").strip() for i, name in enumerate(header) if name}
        if any(clean.values()):
            rows.append((number, clean))
    return rows


def _parse_date(value: str, column: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"cột {column}: ngày «{value}» không hợp lệ, dùng dạng 2026-11-23 hoặc 23/11/2026")


def _parse_float(value: str, column: str) -> float | None:
    if not value:
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise ValueError(f"cột {column}: «{value}» không phải là số") from None


def _parse_count(value: str, column: str) -> int:
    try:
        count = int(value or 0)
    except ValueError:
        raise ValueError(f"cột {column}: «{value}» không phải số nguyên (ví dụ 6)") from None
    if count < 0:
        raise ValueError(f"cột {column}: {count} không được âm")
    return count


def _get_or_create_commune(session: Session, province: str, area: str, commune: str) -> Commune:
    prov = session.scalar(select(Province).where(Province.name == province))
    if prov is None:
        prov = Province(name=province, policy={})
        session.add(prov)
        session.flush()
    area_row = None
    if area:
        area_row = session.scalar(select(Area).where(Area.province_id == prov.id, Area.name == area))
        if area_row is None:
            area_row = Area(province_id=prov.id, name=area)
            session.add(area_row)
            session.flush()
    row = session.scalar(select(Commune).where(Commune.province_id == prov.id, Commune.name == commune))
    if row is None:
        row = Commune(province_id=prov.id, name=commune, area=area_row, policy={})
        session.add(row)
        session.flush()
    elif area_row is not None:
        row.area = area_row
    return row


def import_stations(session: Session, text: str | Sheet) -> ImportResult:
    """Create or update stations from CSV text; raise ImportFailed listing every bad line."""
    rows = read_rows(text, STATION_COLUMNS)
    errors: list[str] = []
    seen: set[str] = set()
    parsed = []
    for line, row in rows:
        try:
            code = row["code"]
            if not code or not row["name"] or not row["commune"] or not row["province"]:
                raise ValueError("thiếu mã đài, tên đài, xã hoặc tỉnh")
            if code in seen:
                raise ValueError(f"mã đài «{code}» bị lặp trong tệp")
            seen.add(code)
            languages = [x.strip() for x in (row["languages"] or "vi").split(";") if x.strip()]
            unknown = [x for x in languages if x not in LANGUAGES]
            if unknown:
                raise ValueError(f"cột languages: ngôn ngữ «{';'.join(unknown)}» không có; dùng {', '.join(LANGUAGES)}")
            windows = parse_windows(row["windows"]) if row["windows"] else ()
            overlaps = find_overlaps(windows)
            if overlaps:
                raise ValueError(f"cột windows: {overlaps[0].message}")
            lat = _parse_float(row["lat"], "lat")
            lon = _parse_float(row["lon"], "lon")
            speakers = _parse_count(row["speakers"], "speakers")
            parsed.append((row, languages, lat, lon, speakers))
        except ValueError as exc:
            errors.append(f"Dòng {line}: {exc}.")
    if errors:
        raise ImportFailed(errors)
    result = ImportResult()
    for row, languages, lat, lon, speakers in parsed:
        commune = _get_or_create_commune(session, row["province"], row["area"], row["commune"])
        station = session.scalar(select(Station).where(Station.code == row["code"]))
        if station is None:
            station = Station(code=row["code"], status={})
            session.add(station)
            result.created += 1
        else:
            result.updated += 1
        station.name = row["name"]
        station.commune = commune
        station.languages = ";".join(languages)
        station.windows = row["windows"]
        station.lat, station.lon, station.speakers = lat, lon, speakers
        result.codes.append(row["code"])
    session.flush()
    return result


def store_upload(source: Path, media_dir: Path) -> str:
    """Copy an uploaded recording into the media dir under its content hash; return its relative name."""
    data = source.read_bytes()
    name = f"uploads/{hashlib.sha256(data).hexdigest()}{source.suffix.lower()}"
    target = media_dir / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(target)
    return name


def resolve_targets(session: Session, targets: Iterable[str]) -> list[str]:
    """Check targets (station codes, commune names, '*'); raise ValueError for unknown ones."""
    clean = [t.strip() for t in targets if t.strip()]
    if not clean:
        raise ValueError("chưa chọn nơi phát (targets): ghi mã đài, tên xã, hoặc * cho tất cả")
    codes = set(session.scalars(select(Station.code)))
    communes = set(session.scalars(select(Commune.name)))
    unknown = [t for t in clean if t != "*" and t not in codes and t not in communes]
    if unknown:
        raise ValueError(f"nơi phát «{', '.join(unknown)}» không phải mã đài hay tên xã đã có")
    return clean


def import_bulletins(
    session: Session, text: str | Sheet, base_dir: Path, media_dir: Path, now: datetime, approver: User | None = None
) -> ImportResult:
    """Create or update bulletins; `approver` marks them approved. Bad rows: ImportFailed, nothing stored."""
    rows = read_rows(text, BULLETIN_COLUMNS)
    errors: list[str] = []
    parsed = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            code = row["code"]
            if not code or not row["title"]:
                raise ValueError("thiếu mã hoặc tiêu đề bản tin")
            if code in seen:
                raise ValueError(f"mã bản tin «{code}» bị lặp trong tệp")
            seen.add(code)
            if row["topic"] not in TOPICS:
                raise ValueError(f"cột topic: chủ đề «{row['topic']}» không có; dùng một trong {', '.join(TOPICS)}")
            language = row["language"] or "vi"
            if language not in LANGUAGES:
                raise ValueError(f"cột language: ngôn ngữ «{language}» không có; dùng {', '.join(LANGUAGES)}")
            try:
                priority = Priority(row["priority"] or "thuong")
            except ValueError:
                raise ValueError(
                    f"cột priority: «{row['priority']}» không hợp lệ; dùng thuong, uu_tien hoặc khan_cap"
                ) from None
            valid_from = _parse_date(row["valid_from"], "valid_from")
            valid_to = _parse_date(row["valid_to"], "valid_to")
            if valid_to < valid_from:
                raise ValueError(f"ngày kết thúc {valid_to:%d/%m/%Y} trước ngày bắt đầu {valid_from:%d/%m/%Y}")
            try:
                plays = int(row["plays_per_week"] or 0)
            except ValueError:
                raise ValueError(f"cột plays_per_week: «{row['plays_per_week']}» không phải số nguyên") from None
            if not 0 <= plays <= 100:
                raise ValueError(f"cột plays_per_week: {plays} phải từ 0 đến 100")
            audio_file = None
            if row["audio_file"]:
                audio_file = (base_dir / row["audio_file"]).resolve()
                if not audio_file.is_file():
                    raise ValueError(f"cột audio_file: không thấy tệp «{row['audio_file']}»")
            elif not row["text"]:
                raise ValueError("bản tin cần nội dung (text) hoặc tệp ghi âm (audio_file)")
            targets = resolve_targets(session, row["targets"].split(";"))
            parsed.append((row, language, priority, valid_from, valid_to, plays, audio_file, targets))
        except ValueError as exc:
            errors.append(f"Dòng {line}: {exc}.")
    if errors:
        raise ImportFailed(errors)
    result = ImportResult()
    for row, language, priority, valid_from, valid_to, plays, audio_file, targets in parsed:
        bulletin = session.scalar(select(Bulletin).where(Bulletin.code == row["code"]))
        if bulletin is None:
            bulletin = Bulletin(code=row["code"], created_at=now, status=BulletinStatus.DRAFT.value)
            session.add(bulletin)
            result.created += 1
        else:
            result.updated += 1
            bulletin.audio_asset_id = None  # content may have changed: render again
        bulletin.title, bulletin.text, bulletin.topic = row["title"], row["text"], row["topic"]
        bulletin.language, bulletin.priority = language, priority.value
        bulletin.valid_from, bulletin.valid_to, bulletin.plays_per_week = valid_from, valid_to, plays
        bulletin.targets = targets
        bulletin.recording_file = store_upload(audio_file, media_dir) if audio_file else None
        bulletin.updated_at = now
        if approver is not None:
            bulletin.status = BulletinStatus.APPROVED.value
            bulletin.approver = approver
            bulletin.approved_at = now
        result.codes.append(row["code"])
    session.flush()
    return result
