"""CSV and XLSX import of stations and bulletins. A file with any bad row stores nothing.

Rows pass the same validators as the forms (scheduler.stations.check_station,
scheduler.bulletins.check_bulletin). `resolve_targets` lives with the bulletins.

Formats are documented in docs/csv-formats.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from scheduler import access
from scheduler.bulletins import BulletinInvalid, check_bulletin
from scheduler.db.models import Area, Bulletin, Commune, Province, Station, User
from scheduler.domain import BulletinStatus
from scheduler.stations import CheckedStation, StationEdit, StationInvalid, check_code, check_station
from scheduler.wire import control_char

T = TypeVar("T")
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
    updated: int = 0  # stored stations the file changed
    unchanged: int = 0  # stored stations already as the file says
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


XLSX_MAGIC = b"PK\x03\x04"  # an XLSX workbook is a zip archive


def read_table(data: bytes, name: str) -> str | Sheet:
    """A file's table: an XLSX workbook's first sheet, else CSV text in UTF-8 (a BOM is fine); ImportFailed
    (Vietnamese) for anything else."""
    if name.lower().endswith(".xlsx") or data.startswith(XLSX_MAGIC):
        return read_xlsx(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([f"Tệp {name} không phải văn bản UTF-8 cũng không phải bảng tính XLSX. "
                            "Lưu lại dạng CSV UTF-8 hoặc Excel .xlsx."]) from None


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
    if control_char(text, multiline=True) is not None:  # one scan of the file; cell by cell only to name it
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


IMPORT_CHUNK = 500  # codes per IN (...) query and rows per write: well under SQLite's bound-parameter limit
STATION_FIELDS = ("name", "commune_id", "languages", "windows", "lat", "lon", "speakers")  # what a row sets

Place = tuple[str, str, str]  # (province, area, commune) as the file names them; area may be ""


@dataclass(frozen=True)
class StationRow:
    """A row that passed every check, with the values the station form would store."""

    code: str
    place: Place
    checked: CheckedStation
    lat: float | None
    lon: float | None


def check_station_rows(rows: Sequence[tuple[int, dict[str, str]]], existing: Collection[str]) -> list[StationRow]:
    """Every row checked as the station form checks it; ImportFailed naming each bad line and field.
    Codes in `existing` are stations already stored: they keep their code, so its format is not re-checked."""
    errors: list[str] = []
    seen: set[str] = set()
    parsed = []
    for line, row in rows:
        try:
            code = row["code"]
            if not code or not row["name"] or not row["commune"] or not row["province"]:
                raise ValueError("thiếu mã đài, tên đài, xã hoặc tỉnh")
            if code not in existing:
                check_code(code)
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
            parsed.append(StationRow(code, (row["province"], row["area"], row["commune"]), checked, lat, lon))
        except ValueError as exc:
            errors.append(f"Dòng {line}: {exc}.")
    if errors:
        raise ImportFailed(errors)
    return parsed


def _field_errors(errors: dict[str, str]) -> str:
    return " ".join(f"cột {name}: {message}" for name, message in errors.items())


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), IMPORT_CHUNK):
        yield items[start:start + IMPORT_CHUNK]


def _stored_communes(session: Session, provinces: list[int]) -> dict[tuple[int, str], tuple[int, int | None]]:
    """(province id, commune name) → (commune id, area id) for every commune of `provinces`."""
    query = select(Commune.id, Commune.province_id, Commune.name, Commune.area_id)
    return {(prov, name): (id_, area)
            for id_, prov, name, area in session.execute(query.where(Commune.province_id.in_(provinces)))}


def _commune_ids(session: Session, places: Sequence[Place]) -> dict[Place, int]:
    """The commune id of every place, creating missing provinces, areas and communes: a few statements
    whatever the number of places. A commune takes the last area the file names for it (in order of first
    appearance); a place without an area leaves a stored commune's area as it is."""
    province_ids: dict[str, int] = {name: id_ for name, id_ in session.execute(
        select(Province.name, Province.id).where(Province.name.in_({p for p, _, _ in places})))}
    if missing := sorted({p for p, _, _ in places} - province_ids.keys()):
        province_ids.update((name, id_) for name, id_ in session.execute(
            insert(Province).returning(Province.name, Province.id), [{"name": name, "policy": {}} for name in missing]))
    in_provinces = list(province_ids.values())
    area_ids = {(prov, name): id_ for id_, prov, name in session.execute(
        select(Area.id, Area.province_id, Area.name).where(Area.province_id.in_(in_provinces)))}
    if missing_areas := sorted({(province_ids[p], a) for p, a, _ in places if a} - area_ids.keys()):
        area_ids.update(((prov, name), id_) for id_, prov, name in session.execute(
            insert(Area).returning(Area.id, Area.province_id, Area.name),
            [{"province_id": prov, "name": name} for prov, name in missing_areas]))
    communes = _stored_communes(session, in_provinces)
    wanted_area: dict[tuple[int, str], int | None] = {}
    for province, area, commune in places:
        key = (province_ids[province], commune)
        if area or key not in wanted_area:
            wanted_area[key] = area_ids[(key[0], area)] if area else None
    if new := [key for key in wanted_area if key not in communes]:
        # A Core executemany, then one SELECT for the ids: SQLite splits an INSERT ... RETURNING into
        # batches of a few dozen rows.
        session.execute(insert(cast(Table, Commune.__table__)), [
            {"province_id": prov, "name": name, "area_id": wanted_area[(prov, name)], "policy": {}}
            for prov, name in new])
        communes = _stored_communes(session, in_provinces)
    moved = [{"id": communes[key][0], "area_id": area} for key, area in wanted_area.items()
             if area is not None and communes[key][1] != area]
    if moved:
        session.execute(update(Commune), moved)
    return {place: communes[(province_ids[place[0]], place[2])][0] for place in places}


def _stored_stations(session: Session, codes: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """code → (id, *STATION_FIELDS) of the stations already stored under `codes`. A large file reads the
    whole table once: cheaper than IN (...) lists of IMPORT_CHUNK codes, each expanded, sent and planned
    anew."""
    columns = (Station.code, Station.id, *(getattr(Station, name) for name in STATION_FIELDS))
    if len(codes) <= IMPORT_CHUNK:
        return {code: tuple(rest) for code, *rest in session.execute(select(*columns).where(Station.code.in_(codes)))}
    wanted = set(codes)
    return {code: tuple(rest) for code, *rest in session.execute(select(*columns)) if code in wanted}


def import_stations(
    session: Session, text: str | Sheet, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Create or update stations from CSV text; raise ImportFailed listing every bad line.

    Each row passes the same validator as the station form (scheduler.stations.check_station). Rows are
    written with bulk INSERT and UPDATE statements, IMPORT_CHUNK rows each: the statements do not grow
    per row (50,000 rows through the ORM's unit of work took minutes). A station whose fields are as the
    file says is left alone (`unchanged`), so importing the same file twice changes nothing.
    `progress(done, total)` is called once the rows are checked and after each chunk is written."""
    rows = read_rows(text, STATION_COLUMNS)
    stored = _stored_stations(session, [row["code"] for _, row in rows if row["code"]])
    parsed = check_station_rows(rows, stored.keys())
    commune_ids = _commune_ids(session, list(dict.fromkeys(row.place for row in parsed)))
    result = ImportResult(codes=[row.code for row in parsed])
    done = 0
    if progress is not None:
        progress(done, len(parsed))
    for rows_chunk in _chunks(parsed):
        new, changed = [], []
        for row in rows_chunk:
            checked = row.checked
            values = {"name": checked.name, "commune_id": commune_ids[row.place], "languages": checked.languages,
                      "windows": checked.windows, "lat": row.lat, "lon": row.lon, "speakers": checked.speakers}
            old = stored.get(row.code)
            if old is None:
                new.append({"code": row.code, "status": {}, **values})
            elif old[1:] != tuple(values[name] for name in STATION_FIELDS):
                changed.append({"id": old[0], **values})
            else:
                result.unchanged += 1
        if new:  # a Core insert: the ORM's bulk path would fetch every new id, a few dozen rows a statement
            session.execute(insert(cast(Table, Station.__table__)), new)
        if changed:
            session.execute(update(Station), changed)
        result.created += len(new)
        result.updated += len(changed)
        done += len(rows_chunk)
        if progress is not None:
            progress(done, len(parsed))
    _forget_stale(session, set(commune_ids.values()), {row.code for row in parsed})
    return result


def _forget_stale(session: Session, commune_ids: set[int], codes: set[str]) -> None:
    """Bulk statements bypass the session: expire what it holds of the rows they wrote."""
    for obj in list(session.identity_map.values()):
        if (isinstance(obj, Station) and obj.code in codes) or (isinstance(obj, Commune) and obj.id in commune_ids):
            session.expire(obj)


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
