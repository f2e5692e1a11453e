"""Provisioning from the command line: accounts, station tokens in bulk, spreadsheet imports."""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import check_password, station_for_token
from scheduler.db.models import AuditLog, Station, User
from scheduler.settings import Settings
from web.cli import main

Loaxa = Callable[..., Result]
DEMO_STATIONS = Path(__file__).resolve().parents[2] / "scheduler" / "demo" / "stations.csv"


@pytest.fixture
def loaxa(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Loaxa:
    """Run `loaxa ARGS…` against the test database, as an administrator would in a shell."""
    monkeypatch.setenv("LOAXA_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOAXA_MEDIA_DIR", str(settings.media_dir))
    monkeypatch.setenv("LOAXA_DATA_DIR", str(settings.data_dir))

    def run(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return run


def _password_file(tmp_path: Path, password: str) -> str:
    path = tmp_path / f"pw-{len(password)}.txt"
    path.write_text(password + "\n", encoding="utf-8")
    return str(path)


def test_user_list_shows_roles_and_states_in_vietnamese(loaxa: Loaxa, tmp_path: Path) -> None:
    assert loaxa("import", "stations", str(DEMO_STATIONS)).exit_code == 0
    pw = _password_file(tmp_path, "mat-khau-123")
    loaxa("user", "add", "quantri", "--role", "admin", "--password-file", pw)
    loaxa("user", "add", "vanhanh", "--role", "operator", "--commune", "Xã Ia Grai", "--password-file", pw)
    loaxa("user", "add", "xem", "--role", "viewer", "--password-file", pw)
    assert loaxa("user", "disable", "xem").exit_code == 0

    result = loaxa("user", "list")

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["Tên", "đăng", "nhập", "Vai", "trò", "Phạm", "vi", "Trạng", "thái"]
    assert lines[1].split() == ["quantri", "Quản", "trị", "Toàn", "tỉnh", "hoạt", "động"]
    assert lines[2].split() == ["vanhanh", "Vận", "hành", "xã", "Xã", "Ia", "Grai", "hoạt", "động"]
    assert lines[3].split() == ["xem", "Xem", "báo", "cáo", "Toàn", "tỉnh", "đã", "khóa"]


def test_user_add_gives_editors_and_approvers_a_commune_or_area_scope(loaxa: Loaxa, tmp_path: Path) -> None:
    assert loaxa("import", "stations", str(DEMO_STATIONS)).exit_code == 0
    pw = _password_file(tmp_path, "mat-khau-123")

    commune = loaxa("user", "add", "bt-xa", "--role", "editor", "--commune", "Xã Ia Grai", "--password-file", pw)
    area = loaxa("user", "add", "duyet-kv", "--role", "approver", "--area", "Khu vực Ia Grai", "--password-file", pw)
    both = loaxa("user", "add", "ca-hai", "--role", "approver", "--area", "Khu vực Ia Grai",
                 "--commune", "Xã Ia Grai", "--password-file", pw)
    unknown = loaxa("user", "add", "sai", "--role", "editor", "--area", "Khu vực Không Có", "--password-file", pw)

    assert commune.exit_code == 0 and "phạm vi: Xã Ia Grai" in commune.output
    assert area.exit_code == 0 and "phạm vi: Khu vực Ia Grai)" in area.output
    assert both.exit_code != 0 and "không cả hai" in both.output
    assert unknown.exit_code != 0 and "Không tìm thấy khu vực «Khu vực Không Có»" in unknown.output
    listing = loaxa("user", "list").output
    assert "ca-hai" not in listing and "sai " not in listing


def test_disabled_user_is_inactive_and_the_change_is_audited(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    pw = _password_file(tmp_path, "mat-khau-123")
    loaxa("user", "add", "quantri", "--role", "admin", "--password-file", pw)
    loaxa("user", "add", "bientap", "--role", "editor", "--password-file", pw)

    result = loaxa("user", "disable", "bientap")

    assert result.exit_code == 0 and "Đã khóa tài khoản «bientap»" in result.output
    with sessions() as s:
        user = s.scalar(select(User).where(User.username == "bientap"))
        assert user is not None and not user.active
        row = s.scalar(select(AuditLog).where(AuditLog.action == "user.disable"))
        assert row is not None and row.entity_id == str(user.id) and row.after == {"active": False}
    assert loaxa("user", "enable", "bientap").exit_code == 0
    with sessions() as s:
        assert s.scalar(select(User.active).where(User.username == "bientap")) is True


def test_the_last_active_administrator_cannot_be_disabled(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    loaxa("user", "add", "quantri", "--role", "admin", "--password-file", _password_file(tmp_path, "mat-khau-123"))

    result = loaxa("user", "disable", "quantri")

    assert result.exit_code == 1
    assert "tài khoản quản trị cuối cùng" in result.output
    with sessions() as s:
        assert s.scalar(select(User.active).where(User.username == "quantri")) is True


def test_unknown_user_is_named_in_the_error(loaxa: Loaxa) -> None:
    result = loaxa("user", "disable", "khongco")
    assert result.exit_code == 1
    assert "Không có tài khoản «khongco»" in result.output and "loaxa user list" in result.output


def test_password_reset_replaces_the_hash_and_is_audited(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    loaxa("user", "add", "lanhdao", "--role", "approver", "--password-file", _password_file(tmp_path, "mat-khau-cu1"))

    result = loaxa("user", "passwd", "lanhdao", "--password-file", _password_file(tmp_path, "mat-khau-moi-2026"))

    assert result.exit_code == 0
    with sessions() as s:
        user = s.scalar(select(User).where(User.username == "lanhdao"))
        assert user is not None
        assert check_password(user.password_hash, "mat-khau-moi-2026")
        assert not check_password(user.password_hash, "mat-khau-cu1")
        audit = s.scalar(select(AuditLog).where(AuditLog.action == "user.passwd"))
        assert audit is not None and audit.after is None  # no hash in the audit log


def test_too_short_password_is_refused_and_the_old_one_kept(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    loaxa("user", "add", "lanhdao", "--role", "approver", "--password-file", _password_file(tmp_path, "mat-khau-cu1"))

    result = loaxa("user", "passwd", "lanhdao", stdin="ngan\n")

    assert result.exit_code == 1 and "ít nhất 8 ký tự" in result.output
    with sessions() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "lanhdao"))
        assert stored is not None and check_password(stored, "mat-khau-cu1")


def test_bulk_tokens_go_to_a_private_csv_and_each_one_authenticates(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    loaxa("import", "stations", str(DEMO_STATIONS))
    old = loaxa("station", "token", "IGR-01").output.strip()
    with sessions() as s:
        s.execute(update(Station).where(Station.code == "KBG-02").values(active=False))
        s.commit()
    out = tmp_path / "tokens.csv"

    result = loaxa("station", "token", "--all", "-o", str(out))

    assert result.exit_code == 0 and "9 đài" in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 9 and "KBG-02" not in {r["code"] for r in rows}
    with sessions() as s:
        for row in rows:
            station = station_for_token(s, row["token"])
            assert station is not None and station.code == row["code"]
        assert station_for_token(s, old) is None  # the earlier token is revoked
        bulk = s.scalars(select(AuditLog.entity_id).where(AuditLog.action == "station.token")).all()
        assert sorted(bulk) == sorted(["IGR-01"] + [r["code"] for r in rows])
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_single_station_token_is_printed_alone(loaxa: Loaxa, sessions: sessionmaker[Session]) -> None:
    loaxa("import", "stations", str(DEMO_STATIONS))
    result = loaxa("station", "token", "CSE-02")
    assert result.exit_code == 0
    token = result.output.strip()
    assert "\n" not in token and len(token) >= 40
    with sessions() as s:
        station = station_for_token(s, token)
        assert station is not None and station.code == "CSE-02"


def test_token_command_needs_one_station_or_all(loaxa: Loaxa) -> None:
    assert loaxa("station", "token").exit_code == 2
    assert loaxa("station", "token", "--all").exit_code == 2  # no -o: tokens are never printed in bulk
    assert loaxa("station", "token", "IGR-01", "--all", "-o", "x.csv").exit_code == 2


def _stations_workbook(path: Path, rows: list[list[object]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "name", "commune", "area", "province", "languages", "windows", "lat", "lon", "speakers"])
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_import_command_reads_a_spreadsheet(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    path = tmp_path / "dai.xlsx"
    _stations_workbook(path, [["IGR-01", "Cụm loa trung tâm", "Xã Ia Grai", "", "Gia Lai", "vi;jra",
                               "T2-CN 05:30-06:00", 13.99, 107.81, 10]])  # fmt: skip

    result = loaxa("import", "stations", str(path))

    assert result.exit_code == 0 and "Đã nhập 1 đài mới" in result.output
    with sessions() as s:
        assert s.scalar(select(Station.speakers).where(Station.code == "IGR-01")) == 10


def test_spreadsheet_with_a_bad_row_stores_nothing_and_names_the_row(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    path = tmp_path / "dai.xlsx"
    _stations_workbook(path, [
        ["IGR-01", "Cụm loa trung tâm", "Xã Ia Grai", "", "Gia Lai", "vi", "T2-CN 05:30-06:00", None, None, 10],
        ["IGR-02", "Cụm loa làng", "Xã Ia Grai", "", "Gia Lai", "vi", "T2-CN 25:00-26:00", None, None, 7],
    ])  # fmt: skip

    result = loaxa("import", "stations", str(path))

    assert result.exit_code == 1
    assert "Không nhập gì từ dai.xlsx" in result.output and "Dòng 3:" in result.output
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == 0


def test_a_damaged_spreadsheet_is_refused_in_vietnamese(loaxa: Loaxa, tmp_path: Path) -> None:
    path = tmp_path / "hong.xlsx"
    path.write_bytes(b"PK\x03\x04 damaged")
    result = loaxa("import", "stations", str(path))
    assert result.exit_code == 1
    assert "Không nhập gì từ hong.xlsx" in result.output and "lưu lại dạng .xlsx" in result.output


def test_import_command_shows_its_progress_and_a_second_run_changes_nothing(
    loaxa: Loaxa, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    path = tmp_path / "dai.csv"
    path.write_text("code,name,commune,area,province,languages,windows,lat,lon,speakers\n" + "".join(
        f"IGR-{i:04d},Cụm loa {i},Xã {i % 7},,Gia Lai,vi,T2-CN 05:30-06:00,,,2\n" for i in range(1200)
    ), encoding="utf-8")

    first = loaxa("import", "stations", str(path))
    again = loaxa("import", "stations", str(path))

    assert first.exit_code == 0 and again.exit_code == 0
    assert "Đang ghi đài: 500/1200" in first.output and "Đang ghi đài: 1200/1200" in first.output
    assert "Đã nhập 1200 đài mới, cập nhật 0 đài, 0 đài không đổi." in first.output
    assert "Đã nhập 0 đài mới, cập nhật 0 đài, 1200 đài không đổi." in again.output
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == 1200
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "station.import")) == 2
