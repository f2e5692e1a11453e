"""CSV import: good files land whole, a file with any bad row stores nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.accounts import create_user
from scheduler.db.models import Bulletin, Commune, Station, User
from scheduler.db.session import transaction
from scheduler.imports import IMPORT_CHUNK, ImportFailed, ImportResult, import_bulletins, import_stations

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
HEADER = "code,name,commune,area,province,languages,windows,lat,lon,speakers\n"
B_HEADER = "code,title,text,topic,language,priority,valid_from,valid_to,plays_per_week,targets,audio_file\n"


def _stations(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        import_stations(s, HEADER
                        + "IGR-01,Cụm loa trung tâm,Xã Ia Grai,Khu vực Ia Grai,Gia Lai,vi;jra,T2-CN 05:30-06:00,13.99,107.81,10\n"
                        + "PLK-01,Cụm loa Tổ 1,Phường Pleiku,,Gia Lai,vi,T2-T6 17:00-17:30,,,4\n")


def test_station_import_creates_hierarchy_and_windows(sessions: sessionmaker[Session]) -> None:
    _stations(sessions)
    with sessions() as s:
        station = s.scalar(select(Station).where(Station.code == "IGR-01"))
        assert station is not None
        assert station.commune.name == "Xã Ia Grai"
        assert station.commune.area is not None and station.commune.area.name == "Khu vực Ia Grai"
        assert station.commune.province.name == "Gia Lai"
        assert station.language_list == ("vi", "jra")
        assert station.speakers == 10 and station.lat == pytest.approx(13.99)
        plk = s.scalar(select(Station).where(Station.code == "PLK-01"))
        assert plk is not None and plk.commune.area is None and plk.lat is None


def test_station_import_twice_updates_instead_of_duplicating(sessions: sessionmaker[Session]) -> None:
    _stations(sessions)
    with transaction(sessions) as s:
        result = import_stations(s, HEADER + "IGR-01,Tên mới,Xã Ia Grai,,Gia Lai,vi,T2-CN 05:30-06:00,,,3\n")
    assert (result.created, result.updated) == (0, 1)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == 2
        assert s.scalar(select(Station.name).where(Station.code == "IGR-01")) == "Tên mới"


def test_bad_station_rows_are_reported_by_line_and_nothing_is_stored(sessions: sessionmaker[Session]) -> None:
    text = (HEADER
            + "OK-01,Tốt,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n"
            + "BAD-01,Sai giờ,Xã A,,Gia Lai,vi,T9 05:30-06:00,,,1\n"
            + "BAD-02,Sai ngôn ngữ,Xã A,,Gia Lai,xx,T2-CN 05:30-06:00,,,1\n"
            + "BAD-03,Chồng giờ,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00; T2 05:45-06:10,,,1\n"
            + "BAD-04,Sai toạ độ,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,abc,,1\n"
            + "BAD-05,Sai số loa,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,6 loa\n")
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        import_stations(s, text)
    lines = [e.split(":")[0] for e in failed.value.errors]
    assert lines == ["Dòng 3", "Dòng 4", "Dòng 5", "Dòng 6", "Dòng 7"]
    assert "«6 loa» không phải số nguyên" in failed.value.errors[4]
    assert "xx" in failed.value.errors[1]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == 0
        assert s.scalar(select(func.count()).select_from(Commune)) == 0


def test_missing_column_is_named(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ImportFailed, match="thiếu cột windows"), transaction(sessions) as s:
        import_stations(s, "code,name,commune,area,province,languages,lat,lon,speakers\n")


def test_bulletins_import_approved_by_user_with_targets(sessions: sessionmaker[Session], media_dir: Path) -> None:
    _stations(sessions)
    with transaction(sessions) as s:
        approver = create_user(s, "duyet", "approver", "mat-khau-dai", NOW)
        result = import_bulletins(s, B_HEADER
                                  + 'B1,Một cửa,"Người dân, doanh nghiệp…",mot_cua,vi,uu_tien,2026-11-23,30/11/2026,3,*,\n'
                                  + "B2,Chỉ Ia Grai,Nội dung,tthc,vi,thuong,2026-11-23,2026-12-31,2,Xã Ia Grai;PLK-01,\n",
                                  Path("."), media_dir, NOW, approver)
    assert result.created == 2
    with sessions() as s:
        b1 = s.scalar(select(Bulletin).where(Bulletin.code == "B1"))
        assert b1 is not None
        assert b1.status == "da_duyet" and b1.approver is not None and b1.approver.username == "duyet"
        assert b1.approved_at == NOW
        assert b1.valid_to == date(2026, 11, 30)
        assert s.scalar(select(Bulletin.targets).where(Bulletin.code == "B2")) == ["Xã Ia Grai", "PLK-01"]


def test_bad_bulletin_rows_store_nothing(sessions: sessionmaker[Session], media_dir: Path) -> None:
    _stations(sessions)
    text = (B_HEADER
            + "B1,Tốt,Nội dung,mot_cua,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
            + "B2,Ngày ngược,Nội dung,mot_cua,vi,thuong,2026-11-30,2026-11-23,3,*,\n"
            + "B3,Nơi lạ,Nội dung,mot_cua,vi,thuong,2026-11-23,2026-11-30,3,Xã Không Có,\n"
            + "B4,Ưu tiên lạ,Nội dung,mot_cua,vi,gap,2026-11-23,2026-11-30,3,*,\n"
            + "B5,Ngày sai,Nội dung,mot_cua,vi,thuong,31/02/2026,2026-11-30,3,*,\n"
            + "B6,Không nội dung,,mot_cua,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
            + "B7,Thiếu tệp,,mot_cua,jra,thuong,2026-11-23,2026-11-30,3,*,khong-co.mp3\n")
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        import_bulletins(s, text, media_dir, media_dir, NOW)
    assert [e.split(":")[0] for e in failed.value.errors] == [f"Dòng {n}" for n in range(3, 9)]
    assert "Xã Không Có" in failed.value.errors[1]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_recorded_bulletin_is_copied_into_media_by_content_hash(
    sessions: sessionmaker[Session], media_dir: Path, tmp_path: Path
) -> None:
    _stations(sessions)
    (tmp_path / "jrai.mp3").write_bytes(b"ID3-not-checked-here")
    with transaction(sessions) as s:
        import_bulletins(s, B_HEADER + "J1,Bản tin Jrai,,thong_tin_khac,jra,thuong,2026-11-23,2026-11-30,2,Xã Ia Grai,jrai.mp3\n",
                         tmp_path, media_dir, NOW)
    with sessions() as s:
        name = s.scalar(select(Bulletin.recording_file).where(Bulletin.code == "J1"))
    assert name is not None and name.startswith("uploads/") and name.endswith(".mp3")
    assert (media_dir / name).read_bytes() == b"ID3-not-checked-here"


def test_bulletin_import_refuses_what_the_form_refuses(sessions: sessionmaker[Session], media_dir: Path) -> None:
    _stations(sessions)
    long_title, long_text = "T" * 301, "Nội dung " * 2300  # 301 characters; 20,700 characters
    text = (B_HEADER
            + "B1,Tốt,Nội dung,mot_cua,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
            + "bad code!,Mã sai,Nội dung,mot_cua,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
            + f"B3,{long_title},Nội dung,mot_cua,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
            + f"B4,Quá dài,{long_text},mot_cua,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
            + "B5,Hiệu lực hơn một năm,Nội dung,mot_cua,vi,thuong,2026-11-23,2028-01-01,3,*,\n"
            + "B6,Quá nhiều lượt,Nội dung,mot_cua,vi,thuong,2026-11-23,2026-11-30,101,*,\n"
            + "B7,Thiếu số lượt,Nội dung,mot_cua,vi,thuong,2026-11-23,2026-11-30,,*,\n")
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        import_bulletins(s, text, media_dir, media_dir, NOW)
    errors = failed.value.errors
    assert [e.split(":")[0] for e in errors] == [f"Dòng {n}" for n in range(3, 9)]
    assert "cột code" in errors[0] and "cột title" in errors[1] and "cột text" in errors[2]
    assert "366 ngày" in errors[3] and "từ 0 đến 100" in errors[4] and "Chưa có số lần phát" in errors[5]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_reimporting_changed_content_sends_an_approved_bulletin_back_for_approval(
    sessions: sessionmaker[Session], media_dir: Path
) -> None:
    _stations(sessions)
    row = "B1,Một cửa,{},mot_cua,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
    with transaction(sessions) as s:
        approver = create_user(s, "duyet", "approver", "mat-khau-dai", NOW)
        import_bulletins(s, B_HEADER + row.format("Nội dung đã duyệt"), media_dir, media_dir, NOW, approver)
    with transaction(sessions) as s:
        import_bulletins(s, B_HEADER + row.format("Nội dung đã duyệt"), media_dir, media_dir, NOW)  # unchanged
    with sessions() as s:
        assert s.scalar(select(Bulletin.status).where(Bulletin.code == "B1")) == "da_duyet"
    with transaction(sessions) as s:
        import_bulletins(s, B_HEADER + row.format("Nội dung chưa ai duyệt"), media_dir, media_dir, NOW)
    with sessions() as s:
        b1 = s.scalars(select(Bulletin).where(Bulletin.code == "B1")).one()
        assert (b1.status, b1.approver_id, b1.text) == ("nhap", None, "Nội dung chưa ai duyệt")


def test_station_import_refuses_what_the_form_refuses_and_stores_windows_alike(
    sessions: sessionmaker[Session],
) -> None:
    text = (HEADER
            + "OK-01,Tốt,Xã A,,Gia Lai,vi,t2-cn 5:30-6:00 ,,,1\n"
            + f"BAD-01,{'Tên ' * 60},Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n"
            + "BAD-02,Quá nhiều loa,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,20000\n"
            + f"BAD-03,Khung giờ quá dài,Xã A,,Gia Lai,vi,{'; '.join(['T2 05:30-06:00'] * 300)},,,1\n")
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        import_stations(s, text)
    errors = failed.value.errors
    assert [e.split(":")[0] for e in errors] == ["Dòng 3", "Dòng 4", "Dòng 5"]
    assert "tối đa 200" in errors[0] and "10000" in errors[1] and "tối đa 4000" in errors[2]
    with transaction(sessions) as s:
        import_stations(s, HEADER + "OK-01,Tốt,Xã A,,Gia Lai,vi,t2-cn 5:30-6:00 ,,,1\n")
    with sessions() as s:  # the canonical spec, as the station form stores it
        assert s.scalar(select(Station.windows).where(Station.code == "OK-01")) == "T2-CN 05:30-06:00"


def test_a_commune_approver_imports_approved_only_inside_the_commune(
    sessions: sessionmaker[Session], media_dir: Path
) -> None:
    _stations(sessions)
    with transaction(sessions) as s:
        create_user(s, "duyet_xa", "approver", "mat-khau-dai", NOW, commune="Xã Ia Grai")
    inside = "B1,Họp dân,Nội dung,tthc,vi,thuong,2026-11-23,2026-11-30,3,IGR-01,\n"
    outside = "B2,Cả tỉnh,Nội dung,tthc,vi,thuong,2026-11-23,2026-11-30,3,*,\n"
    elsewhere = "B3,Phường,Nội dung,tthc,vi,thuong,2026-11-23,2026-11-30,3,Xã Ia Grai;PLK-01,\n"
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        approver = s.scalars(select(User).where(User.username == "duyet_xa")).one()
        import_bulletins(s, B_HEADER + inside + outside + elsewhere, media_dir, media_dir, NOW, approver)
    assert [e.split(":")[0] for e in failed.value.errors] == ["Dòng 3", "Dòng 4"]
    assert "«*» nằm ngoài phạm vi của người duyệt «duyet_xa» (Xã Ia Grai)" in failed.value.errors[0]
    assert "«PLK-01» nằm ngoài phạm vi" in failed.value.errors[1]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bulletin)) == 0
    with transaction(sessions) as s:
        approver = s.scalars(select(User).where(User.username == "duyet_xa")).one()
        import_bulletins(s, B_HEADER + inside, media_dir, media_dir, NOW, approver)
    with sessions() as s:
        assert s.scalar(select(Bulletin.status).where(Bulletin.code == "B1")) == "da_duyet"


def test_a_nul_byte_in_a_cell_is_named_by_line_and_column_and_nothing_is_stored(
        sessions: sessionmaker[Session]) -> None:
    text = (HEADER + "OK-01,Tốt,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n"
            + "NUL-01,Cụm loa\x00hỏng,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n")
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        import_stations(s, text)
    assert failed.value.errors == ["Dòng 3, cột name: có ký tự điều khiển U+0000 (tệp có thể bị hỏng). "
                                   "Xóa ký tự đó rồi nhập lại."]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == 0


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_import_like_comma_separated_ones(
        sessions: sessionmaker[Session], delimiter: str) -> None:
    rows = [HEADER.strip().split(","),
            ["IGR-01", "Cụm loa trung tâm", "Xã Ia Grai", "", "Gia Lai", "vi", "T2-CN 05:30-06:00", "", "", "10"]]
    with transaction(sessions) as s:
        result = import_stations(s, "\n".join(delimiter.join(r) for r in rows) + "\n")
    assert result.codes == ["IGR-01"]
    with sessions() as s:
        assert s.scalar(select(Station.speakers).where(Station.code == "IGR-01")) == 10


def test_station_codes_must_be_safe_as_mqtt_topic_levels(sessions: sessionmaker[Session]) -> None:
    text = (HEADER + "IGR 01,Cụm loa 1,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n"
            + "IGR/01,Cụm loa 2,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n"
            + "IGR+#,Cụm loa 3,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n"
            + "IGR-01,Cụm loa 4,Xã A,,Gia Lai,vi,T2-CN 05:30-06:00,,,1\n")
    with pytest.raises(ImportFailed) as failed, transaction(sessions) as s:
        import_stations(s, text)
    assert [e.split(":")[0] for e in failed.value.errors] == ["Dòng 2", "Dòng 3", "Dòng 4"]
    assert "chữ cái không dấu, chữ số và dấu - _ ." in failed.value.errors[0]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == 0


def _statements_to_import(sessions: sessionmaker[Session], text: str) -> tuple[ImportResult, Counter[str]]:
    """The import's result and how many statements of each kind (SELECT, INSERT, UPDATE…) it ran."""
    from sqlalchemy import event

    statements: Counter[str] = Counter()
    with transaction(sessions) as s:
        engine = s.get_bind()

        def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            statements[statement.split(None, 1)[0].upper()] += 1

        event.listen(engine, "before_cursor_execute", note)
        try:
            result = import_stations(s, text)
            s.flush()
        finally:
            event.remove(engine, "before_cursor_execute", note)
    return result, statements


def _big_file(count: int, offset: int, name: str = "Cụm loa") -> str:
    """`count` stations spread over the same two communes."""
    return HEADER + "".join(
        f"BIG-{offset + i:05d},{name} {i},Xã {'Ia Grai' if i % 2 else 'Ia Dêr'},Khu vực Ia Grai,Gia Lai,vi,"
        f"T2-CN 05:30-06:00,,,2\n"
        for i in range(count)
    )


def test_a_large_station_import_runs_as_many_statements_as_a_small_one(sessions: sessionmaker[Session]) -> None:
    _statements_to_import(sessions, _big_file(4, 0))  # the province, area and communes now exist
    few_result, few = _statements_to_import(sessions, _big_file(10, 100))
    many_result, many = _statements_to_import(sessions, _big_file(400, 1000))
    assert (few_result.created, many_result.created) == (10, 400)
    assert many == few and few["INSERT"] >= 1
    # Beyond one chunk: one INSERT per IMPORT_CHUNK rows, and still one lookup of the stored stations.
    large_result, large = _statements_to_import(sessions, _big_file(3 * IMPORT_CHUNK + 1, 5000))
    assert large_result.created == 3 * IMPORT_CHUNK + 1
    assert large == few + Counter(INSERT=3)
    # Changing every station: one bulk UPDATE per chunk, not one per row.
    few_result, few = _statements_to_import(sessions, _big_file(10, 100, "Tên mới"))
    many_result, many = _statements_to_import(sessions, _big_file(400, 1000, "Tên mới"))
    assert (few_result.updated, many_result.updated) == (10, 400)
    assert many == few and few["UPDATE"] >= 1


@pytest.mark.parametrize("count", [30, IMPORT_CHUNK + 30])
def test_reimporting_the_same_file_writes_nothing(sessions: sessionmaker[Session], count: int) -> None:
    text = _big_file(count, 0)
    first, _ = _statements_to_import(sessions, text)
    again, statements = _statements_to_import(sessions, text)
    assert (first.created, first.updated, first.unchanged) == (count, 0, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, count)
    assert set(statements) == {"SELECT"}
    renamed, _ = _statements_to_import(sessions, _big_file(count, 0, "Tên mới"))
    assert (renamed.created, renamed.updated, renamed.unchanged) == (0, count, 0)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Station)) == count
        assert s.scalar(select(func.count()).select_from(Station).where(Station.name.startswith("Tên mới"))) == count
        assert s.scalar(select(func.count()).select_from(Commune)) == 2


def test_reimport_updates_every_field_and_moves_stations_between_communes(sessions: sessionmaker[Session]) -> None:
    _stations(sessions)
    with transaction(sessions) as s:
        loaded = s.scalars(select(Station).where(Station.code == "IGR-01")).one()  # held while importing
        before = (loaded.id, loaded.token_hash, loaded.active)
        assert loaded.commune.name == "Xã Ia Grai"
        result = import_stations(s, HEADER + "IGR-01,Cụm loa mới,Phường Pleiku,Khu vực Pleiku,Gia Lai,jra;vi,"
                                 "T7 06:00-06:30,,14.5,7\n")
        assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
        # The session that ran the import sees what it wrote.
        assert (loaded.name, loaded.commune.name, loaded.speakers) == ("Cụm loa mới", "Phường Pleiku", 7)
    with sessions() as s:
        station = s.scalars(select(Station).where(Station.code == "IGR-01")).one()
        assert (station.id, station.token_hash, station.active) == before
        assert (station.name, station.languages, station.windows) == ("Cụm loa mới", "jra;vi", "T7 06:00-06:30")
        assert (station.lat, station.lon, station.speakers) == (None, 14.5, 7)
        assert station.commune.name == "Phường Pleiku"
        assert station.commune.area is not None and station.commune.area.name == "Khu vực Pleiku"
        assert s.scalar(select(func.count()).select_from(Station)) == 2


def test_a_commune_takes_the_area_the_file_names_and_keeps_it_when_a_row_names_none(
        sessions: sessionmaker[Session]) -> None:
    _stations(sessions)  # Xã Ia Grai in Khu vực Ia Grai
    with transaction(sessions) as s:
        import_stations(s, HEADER + "IGR-02,Cụm 2,Xã Ia Grai,,Gia Lai,vi,,,,1\n")
    with sessions() as s:
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Grai")).one()
        assert commune.area is not None and commune.area.name == "Khu vực Ia Grai"
    with transaction(sessions) as s:
        import_stations(s, HEADER + "IGR-03,Cụm 3,Xã Ia Grai,,Gia Lai,vi,,,,1\n"
                        + "IGR-04,Cụm 4,Xã Ia Grai,Khu vực Mới,Gia Lai,vi,,,,1\n")
    with sessions() as s:
        commune = s.scalars(select(Commune).where(Commune.name == "Xã Ia Grai")).one()
        assert commune.area is not None and commune.area.name == "Khu vực Mới"
        assert s.scalar(select(func.count()).select_from(Commune)) == 2


def test_progress_is_reported_once_checked_and_after_each_chunk(sessions: sessionmaker[Session]) -> None:
    reports: list[tuple[int, int]] = []
    with transaction(sessions) as s:
        import_stations(s, _big_file(IMPORT_CHUNK + 7, 0), progress=lambda done, total: reports.append((done, total)))
    assert reports == [(0, IMPORT_CHUNK + 7), (IMPORT_CHUNK, IMPORT_CHUNK + 7), (IMPORT_CHUNK + 7, IMPORT_CHUNK + 7)]
