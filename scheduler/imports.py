"""CSV and XLSX import of stations and bulletins. A file with any bad row stores nothing.

Rows pass the same validators as the forms (scheduler.stations.check_station,
scheduler.bulletins.check_bulletin). `resolve_targets` lives with the bulletins.

Formats are documented in docs/csv-formats.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import access
from scheduler.bulletins import BulletinInvalid, check_bulletin
from scheduler.db.models import Area, Bulletin, Commune, Province, Station, User
from scheduler.domain import BulletinStatus
from scheduler.stations import StationEdit, StationInvalid, check_code, check_station
from scheduler.wire import control_char

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
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    # Excel in a Vietnamese locale saves with semicolons; a pasted table has tabs: take what the header uses.
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportFailed([f"Dòng 1: thiếu cột {', '.join(missing)}. Cần đủ các cột: {','.join(required)}."])
    rows = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        if any(clean.values()):
            rows.append((reader.line_num, clean))
    _refuse_control_characters(rows)
    return rows


def _refuse_control_characters(rows: list[tuple[int, dict[str, str]]]) -> None:
    """A NUL byte or other control character (a damaged file) is named by line and column, never stored."""
    errors = []
    for number, row in rows:
        for column, value in row.items():
            char = control_char(value, multiline=True)
            if char is not None:
                errors.append(f"Dòng {number}, cột {column}: có ký tự điều khiển U+{ord(char):04X} "
                              "(tệp có thể bị hỏng). Xóa ký tự đó rồi nhập lại.")
    if errors:
        raise ImportFailed(errors)


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
    _refuse_control_characters(rows)
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


IMPORT_CHUNK = 500  # codes per IN (...) query: well under SQLite's bound-parameter limit


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


def _field_errors(errors: dict[str, str]) -> str:
    return " ".join(f"cột {name}: {message}" for name, message in errors.items())


def import_stations(session: Session, text: str | Sheet) -> ImportResult:
    """Create or update stations from CSV text; raise ImportFailed listing every bad line.

    Each row passes the same validator as the station form (scheduler.stations.check_station)."""
    rows = read_rows(text, STATION_COLUMNS)
    errors: list[str] = []
    seen: set[str] = set()
    parsed = []
    codes = [row["code"] for _, row in rows if row["code"]]
    # One query per chunk of codes and one lookup per distinct place below, not several queries per row:
    # each per-row SELECT also flushed the stations added before it (50,000 rows took minutes).
    stations: dict[str, Station] = {}
    for start in range(0, len(codes), IMPORT_CHUNK):
        chunk = codes[start:start + IMPORT_CHUNK]
        stations.update((s.code, s) for s in session.scalars(select(Station).where(Station.code.in_(chunk))))
    existing = set(stations)
    for line, row in rows:
        try:
            code = row["code"]
            if not code or not row["name"] or not row["commune"] or not row["province"]:
                raise ValueError("thiếu mã đài, tên đài, xã hoặc tỉnh")
            if code not in existing:
                check_code(code)  # stations already there keep their code
            if code in seen:
                raise ValueError(f"mã đài «{code}» bị lặp trong tệp")
            seen.add(code)
            lat = _parse_float(row["lat"], "lat")
            lon = _parse_float(row["lon"], "lon")
            speakers = _parse_count(row["speakers"], "speakers")
            languages = [x.strip() for x in (row["languages"] or "vi").split(";")]
            try:
                checked = check_station(StationEdit(row["name"], languages, row["windows"], speakers=speakers))
            except StationInvalid as exc:
                raise ValueError(_field_errors(exc.errors).rstrip(".")) from None
            parsed.append((row, checked, lat, lon))
        except ValueError as exc:
            errors.append(f"Dòng {line}: {exc}.")
    if errors:
        raise ImportFailed(errors)
    result = ImportResult()
    communes: dict[tuple[str, str, str], Commune] = {}
    for row, checked, lat, lon in parsed:
        place = (row["province"], row["area"], row["commune"])
        commune = communes.get(place)
        if commune is None:
            commune = communes[place] = _get_or_create_commune(session, *place)
        station = stations.get(row["code"])
        if station is None:
            station = Station(code=row["code"], status={})
            session.add(station)
            result.created += 1
        else:
            result.updated += 1
        station.name = checked.name
        station.commune = commune
        station.languages = checked.languages
        station.windows = checked.windows
        station.lat, station.lon, station.speakers = lat, lon, checked.speakers
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


def import_bulletins(
    session: Session, text: str | Sheet, base_dir: Path, media_dir: Path, now: datetime, approver: User | None = None
) -> ImportResult:
    """Create or update bulletins; `approver` marks them approved. Bad rows: ImportFailed, nothing stored.

    Each row passes the same validator as the bulletin form (scheduler.bulletins.check_bulletin). As
    with the form, changed content sends an approved or submitted bulletin back to draft, unless
    `approver` approves the file. An approver approves only rows whose targets lie inside their scope
    (scheduler.access), as on the approval page."""
    rows = read_rows(text, BULLETIN_COLUMNS)
    errors: list[str] = []
    parsed = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            code = row["code"]
            if code in seen:
                raise ValueError(f"mã bản tin «{code}» bị lặp trong tệp")
            seen.add(code)
            audio_file = None
            if row["audio_file"]:
                audio_file = (base_dir / row["audio_file"]).resolve()
                if not audio_file.is_file():
                    raise ValueError(f"cột audio_file: không thấy tệp «{row['audio_file']}»")
            elif not row["text"]:
                raise ValueError("bản tin cần nội dung (text) hoặc tệp ghi âm (audio_file)")
            existing = session.scalar(select(Bulletin).where(Bulletin.code == code)) if code else None
            fields = {**row, "recording_file": row["audio_file"] or None}
            try:
                draft, targets = check_bulletin(session, fields, existing, require_code=True)
            except BulletinInvalid as exc:
                raise ValueError(_field_errors(exc.errors).rstrip(".")) from None
            if approver is not None and (beyond := access.outside(session, approver, targets)):
                raise ValueError(
                    f"nơi phát «{', '.join(beyond)}» nằm ngoài phạm vi của người duyệt «{approver.username}» "
                    f"({access.describe(approver)}); người duyệt chỉ duyệt bản tin phát trong phạm vi của mình"
                )
            parsed.append((existing, draft, audio_file, targets))
        except ValueError as exc:
            errors.append(f"Dòng {line}: {exc}.")
    if errors:
        raise ImportFailed(errors)
    result = ImportResult()
    for bulletin, draft, audio_file, targets in parsed:
        assert draft.valid_from is not None and draft.valid_to is not None and draft.plays_per_week is not None
        recording = store_upload(audio_file, media_dir) if audio_file else None
        if bulletin is None:
            bulletin = Bulletin(code=draft.code.strip(), created_at=now, status=BulletinStatus.DRAFT.value)
            session.add(bulletin)
            result.created += 1
        else:
            result.updated += 1
            changed = (bulletin.title, bulletin.text, bulletin.language, bulletin.recording_file) != (
                draft.title.strip(), draft.text.strip(), draft.language, recording)
            if changed:
                bulletin.audio_asset_id = None  # the old sound no longer matches: render again
                bulletin.render_error = None
            if changed and bulletin.status in (BulletinStatus.SUBMITTED.value, BulletinStatus.APPROVED.value):
                bulletin.status = BulletinStatus.DRAFT.value  # as the form does: approve the new content again
                bulletin.approver_id = None
                bulletin.approved_at = None
        bulletin.title, bulletin.text, bulletin.topic = draft.title.strip(), draft.text.strip(), draft.topic
        bulletin.language, bulletin.priority = draft.language, draft.priority
        bulletin.valid_from, bulletin.valid_to = draft.valid_from, draft.valid_to
        bulletin.plays_per_week = draft.plays_per_week
        bulletin.targets = targets
        bulletin.recording_file = recording
        bulletin.updated_at = now
        if approver is not None:
            bulletin.status = BulletinStatus.APPROVED.value
            bulletin.approver = approver
            bulletin.approved_at = now
        result.codes.append(draft.code.strip())
    session.flush()
    return result
