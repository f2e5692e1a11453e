"""Vietnamese labels for codes people see on the admin pages.

Topic, language, priority and item-kind labels live with their codes (scheduler.catalogue, scheduler.domain).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from scheduler.accounts import ROLES
from scheduler.domain import BulletinStatus
from scheduler.programmes.exports.labels import WEEKDAYS

ACTIONS: dict[str, str] = {
    "bulletin.create": "Tạo bản tin",
    "bulletin.update": "Sửa bản tin",
    "bulletin.submit": "Gửi duyệt",
    "bulletin.approve": "Duyệt bản tin",
    "bulletin.return": "Trả lại bản tin",
    "bulletin.archive": "Lưu trữ bản tin",
    "bulletin.commune_choice": "Xã chọn phát hay không tin tuyến trên",
    "bulletin.upstream": "Nhận bản tin từ nguồn cấp trên",
    "commune.policy": "Đặt chính sách nhận tin tuyến trên của xã",
    "source.add": "Tạo nguồn cấp trên",
    "source.key": "Cấp khóa mới cho nguồn cấp trên",
    "station.update": "Sửa đài",
    "station.token": "Cấp lại mã truy cập đài",
    "programme.pin": "Ghim mục trong lịch",
    "programme.unpin": "Bỏ ghim mục trong lịch",
    "programme.move": "Dời mục trong lịch",
    "programme.remove": "Bỏ mục khỏi lịch",
    "programme.rebuild": "Lập lại lịch tuần",
    "playlog.confirm": "Xác nhận đã phát",
    "playlog.missed": "Báo không phát được",
    "emergency.start": "Phát khẩn cấp",
    "emergency.cancel": "Hủy phát khẩn cấp",
    "user.create": "Tạo tài khoản",
    "user.update": "Sửa tài khoản",
    "login.ok": "Đăng nhập",
    "login.failed": "Đăng nhập sai",
    "logout": "Đăng xuất",
}

ENTITIES: dict[str, str] = {
    "bulletin": "Bản tin",
    "station": "Đài",
    "commune": "Xã",
    "source": "Nguồn cấp trên",
    "programme": "Lịch phát",
    "programme_item": "Mục lịch phát",
    "emergency": "Khẩn cấp",
    "user": "Tài khoản",
    "login": "Đăng nhập",
}



def status_label(code: str) -> str:
    try:
        return BulletinStatus(code).label
    except ValueError:
        return code


def role_label(code: str) -> str:
    return ROLES.get(code, code)


def action_label(code: str) -> str:
    return ACTIONS.get(code, code)


def entity_label(code: str) -> str:
    return ENTITIES.get(code, code)


def weekday_label(day: date) -> str:
    return WEEKDAYS[day.weekday()]


def ago(value: datetime | None, now: datetime) -> str:
    """`5 phút trước`; `chưa bao giờ` for no contact at all."""
    if value is None:
        return "chưa liên lạc"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = int((now - value).total_seconds())
    if seconds < 10:
        return "vừa xong"
    if seconds < 60:
        return f"{seconds} giây trước"
    if seconds < 3600:
        return f"{seconds // 60} phút trước"
    if seconds < 86400:
        return f"{seconds // 3600} giờ trước"
    return f"{seconds // 86400} ngày trước"


def duration(ms: int | None) -> str:
    """90_500 ms -> `1:31` (minutes:seconds); an hour or more -> `1:02:05`."""
    seconds = round((ms or 0) / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
