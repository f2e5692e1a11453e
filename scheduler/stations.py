"""Editing stations: name, languages, broadcast windows, on/off, and rotating the API token.

Works in the caller's transaction and raises before changing anything; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.access import in_scope
from scheduler.accounts import issue_station_token
from scheduler.catalogue import LANGUAGES
from scheduler.db.models import Station, User
from scheduler.domain import CODE_RE
from scheduler.planning.windows import check_windows

MAX_NAME = 200
MAX_SPEAKERS = 10_000


def check_code(code: str) -> str:
    """The code if it is safe as an MQTT topic level and broker username (scheduler.domain.CODE_RE: "IGR 01"
    and "IGR/01" would both become the level IGR-01); ValueError (Vietnamese) otherwise."""
    if not CODE_RE.match(code):
        raise ValueError(f"mã đài «{code}» chỉ được gồm chữ cái không dấu, chữ số và dấu - _ . (tối đa 40 ký tự, "
                         "bắt đầu bằng chữ hoặc số), ví dụ IGR-01")
    return code


class StationInvalid(ValueError):
    """Bad field values: `errors` maps each field name to a Vietnamese message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


class StationRefused(ValueError):
    """The user may not do this to this station (message in Vietnamese)."""


@dataclass
class StationEdit:
    name: str
    languages: list[str]
    windows: str  # window spec; blank = inherit the commune's / province's
    active: bool = True
    speakers: int = 0


@dataclass
class StationSaved:
    station: Station
    warnings: list[str] = field(default_factory=list)


def snapshot(station: Station) -> dict[str, Any]:
    return {
        "code": station.code,
        "name": station.name,
        "languages": station.languages,
        "windows": station.windows,
        "active": station.active,
        "speakers": station.speakers,
    }


@dataclass(frozen=True)
class CheckedStation:
    """A station edit that passed `check_station`: values as they are stored."""

    name: str
    languages: str  # "vi;jra", first = main language
    windows: str  # canonical spec, "" = inherit
    speakers: int
    warnings: list[str]


def check_station(edit: StationEdit) -> CheckedStation:
    """The station validator (form, CSV/XLSX import, CLI): the cleaned values, or StationInvalid with a
    Vietnamese message per bad field. Warnings (a relay block outside every session) do not block."""
    errors: dict[str, str] = {}
    name = edit.name.strip()
    if not name:
        errors["name"] = "Chưa có tên đài. Hãy nhập tên cụm loa."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Tên đài dài {len(name)} ký tự, tối đa {MAX_NAME}."
    languages = [code.strip() for code in edit.languages if code.strip()]
    unknown = [code for code in languages if code not in LANGUAGES]
    if not languages:
        errors["languages"] = "Chọn ít nhất một ngôn ngữ phát."
    elif unknown:
        errors["languages"] = (
            f"Ngôn ngữ «{', '.join(unknown)}» không được hỗ trợ. Chọn trong danh sách: {', '.join(LANGUAGES)}."
        )
    if not 0 <= edit.speakers <= MAX_SPEAKERS:
        errors["speakers"] = f"Số loa {edit.speakers} không hợp lệ, phải từ 0 đến {MAX_SPEAKERS}."
    windows, warnings = "", list[str]()
    try:
        windows, warnings = check_windows(edit.windows)
    except ValueError as exc:
        errors["windows"] = str(exc)
    if errors:
        raise StationInvalid(errors)
    return CheckedStation(name, ";".join(dict.fromkeys(languages)), windows, edit.speakers, warnings)


def may_manage_token(user: User, station: Station) -> bool:
    """Admins for every station; operators only for stations inside their scope (their commune)."""
    if not user.active:
        return False
    return user.role == "admin" or (user.role == "operator" and in_scope(user, station))


def update_station(session: Session, station: Station, edit: StationEdit, user: User, now: datetime) -> StationSaved:
    """Validate and store an edit; warnings (e.g. a relay block outside every session) do not block saving."""
    if user.role != "admin" or not user.active:
        raise StationRefused(f"Tài khoản «{user.username}» không có quyền sửa đài.")
    checked = check_station(edit)
    before = snapshot(station)
    station.name = checked.name
    station.languages = checked.languages
    station.windows = checked.windows
    station.active = edit.active
    station.speakers = checked.speakers
    after = snapshot(station)
    if after != before:
        session.flush()
        audit.record(session, now, user, "station.update", "station", station.code, before, after)
    return StationSaved(station, checked.warnings)


def rotate_token(session: Session, station: Station, user: User, now: datetime) -> str:
    """Issue a new API token (the old one stops working); return it to show once. The token is not audited."""
    if not may_manage_token(user, station):
        raise StationRefused(f"Tài khoản «{user.username}» không có quyền cấp mã cho đài «{station.code}».")
    had_token = station.token_hash is not None
    token = issue_station_token(station, now)
    session.flush()
    audit.record(
        session, now, user, "station.token", "station", station.code,
        {"had_token": had_token}, {"token_issued_at": now.isoformat()},
    )  # fmt: skip
    return token
