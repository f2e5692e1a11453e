"""`loaxa alert`: rules, recipients, a check that mails the real SMTP server, errors in Vietnamese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alert_receivers import SmtpServer
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db.models import Station
from scheduler.db.session import transaction
from scheduler.liveness import record_contact
from scheduler.settings import Settings
from web.cli import main


def run(settings: Settings, smtp: SmtpServer, *args: str) -> Result:
    env = {"LOAXA_DATABASE_URL": settings.database_url, "LOAXA_DATA_DIR": str(settings.data_dir),
           "LOAXA_SMTP_URL": smtp.url, "LOAXA_ALERT_FROM": "Trung tâm tỉnh <canhbao@tinh.gov.vn>"}
    return CliRunner().invoke(main, ["alert", *args], env=env, catch_exceptions=False)


def test_rules_recipients_and_a_check_from_the_command_line(
    province: sessionmaker[Session], settings: Settings, mail: SmtpServer, tmp_path: Path
) -> None:
    assert run(settings, mail, "rule", "silent", "--threshold", "5").output == \
        "Quy tắc «Đài mất liên lạc»: bật, ngưỡng 5 phút.\n"
    refused = run(settings, mail, "rule", "disk", "--threshold", "0")
    assert refused.exit_code == 1 and "phải từ 1 đến 1000000 (MB còn trống)" in refused.output
    listing = run(settings, mail, "rules").output
    assert "silent     bật  Đài mất liên lạc (ngưỡng 5 phút)" in listing
    bad = run(settings, mail, "recipient", "add", "Xã", "--email", "x@", "--commune", "Không Có")
    assert bad.exit_code == 1 and "Địa chỉ thư «x@» không hợp lệ" in bad.output and "Không có xã «Không Có»" in bad.output
    token = tmp_path / "zalo.txt"
    token.write_text("tok\n", encoding="utf-8")
    added = run(settings, mail, "recipient", "add", "Cán bộ Ia Grai", "--email", "iagrai@xa.gov.vn",
                "--commune", "Ia Grai", "--rules", "silent")
    assert added.output == "Đã thêm người nhận «Cán bộ Ia Grai» (Ia Grai).\n"
    assert "Cán bộ Ia Grai  [Ia Grai]  iagrai@xa.gov.vn  (silent, có tóm tắt hằng ngày)" in \
        run(settings, mail, "recipient", "list").output

    # The command runs now on the system clock: a contact long ago is silence now.
    with transaction(province) as s:
        station = s.scalars(select(Station).where(Station.code == "IAGRAI-02")).one()
        record_contact(station, "status", datetime.now(UTC) - timedelta(days=1))
    checked = run(settings, mail, "check")
    assert checked.output == "Cảnh báo mới: 1; đã trở lại bình thường: 0; tin đã gửi: 1; gửi lỗi: 0.\n"
    [message] = mail.inbox.to("iagrai@xa.gov.vn")
    assert message["Subject"] == "[loaxa] Cảnh báo: Đài mất liên lạc — đài IAGRAI-02"
    assert str(message["From"]) == "Trung tâm tỉnh <canhbao@tinh.gov.vn>"
    assert "IAGRAI-02" in run(settings, mail, "list").output
    assert run(settings, mail, "recipient", "test", "Cán bộ Ia Grai").output == "Đã gửi tin thử tới «Cán bộ Ia Grai».\n"
    assert mail.inbox.to("iagrai@xa.gov.vn")[1]["Subject"] == "[loaxa] Thử gửi cảnh báo"
    assert run(settings, mail, "recipient", "remove", "Cán bộ Ia Grai").exit_code == 0
    assert "Chưa có người nhận nào" in run(settings, mail, "recipient", "list").output
