"""Web forms: parse what people typed into typed values, with Vietnamese messages beside each field.

CSRF is checked for every POST by web.auth.csrf (CSRFProtect), so the forms themselves skip it.
Business rules (dates in order, known targets, overlapping windows) live in the scheduler services;
their errors are attached to the same fields with `attach_errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from audio.recordings import SUPPORTED_EXTENSIONS
from scheduler.accounts import ROLES
from scheduler.catalogue import LANGUAGES, TOPICS
from scheduler.domain import Priority

RECORDING_EXTENSIONS = SUPPORTED_EXTENSIONS  # one list: what the audio pipeline decodes
RECORDING_ACCEPT = ",".join((*RECORDING_EXTENSIONS, "audio/*"))  # the file picker's filter
MAX_RECORDING_BYTES = 50 * 1024 * 1024


class Form(FlaskForm):
    class Meta:
        csrf = False  # checked globally by CSRFProtect before the view runs


class VnDateField(StringField):
    """A date typed as 2026-11-23 (the browser's date picker) or 23/11/2026."""

    data: date | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = (valuelist[0] if valuelist else "") or ""
        text = str(text).strip()
        self.raw_data = [text]
        self.data = None
        if not text:
            return
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                self.data = datetime.strptime(text, fmt).date()
                return
            except ValueError:
                continue
        raise ValueError(f"Ngày «{text[:30]}» không hợp lệ. Dùng dạng ngày/tháng/năm, ví dụ 23/11/2026.")

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.data.isoformat() if self.data else ""


class VnDateTimeField(StringField):
    """A local date and time from <input type=datetime-local> (2026-11-23T05:30) or 23/11/2026 05:30."""

    data: datetime | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str((valuelist[0] if valuelist else "") or "").strip()
        self.raw_data = [text]
        self.data = None
        if not text:
            return
        for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S"):
            try:
                self.data = datetime.strptime(text, fmt)
                return
            except ValueError:
                continue
        raise ValueError(
            f"Thời điểm «{text[:30]}» không hợp lệ. Dùng dạng ngày/tháng/năm giờ:phút, ví dụ 23/11/2026 05:30."
        )

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return self.data.strftime("%Y-%m-%dT%H:%M") if self.data else ""


class VnIntegerField(StringField):
    data: int | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str((valuelist[0] if valuelist else "") or "").strip()
        self.raw_data = [text]
        self.data = None
        if not text:
            return
        try:
            self.data = int(text)
        except ValueError:
            raise ValueError(f"«{text[:30]}» không phải số nguyên. Hãy nhập một số, ví dụ 3.") from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class Required:
    """Vietnamese 'this field is empty' check."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise ValidationError(self.message)


class MaxLength:
    def __init__(self, limit: int, what: str) -> None:
        self.limit, self.what = limit, what

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if isinstance(field.data, str) and len(field.data) > self.limit:
            raise ValidationError(f"{self.what} dài {len(field.data)} ký tự, tối đa {self.limit}. Hãy rút gọn.")


def option(value: object, label: str) -> SelectChoice:
    """One <option> of a drop-down."""
    return SelectChoice(value, label)


def choices(mapping: Mapping[str, str]) -> list[Any]:
    return [option(value, label) for value, label in mapping.items()]


PRIORITY_CHOICES = [option(p.value, p.label) for p in Priority]


class VnSelectField(SelectField):
    """A drop-down whose 'not in the list' message is Vietnamese."""

    def pre_validate(self, form: FlaskForm) -> None:
        values = {str(choice[0]) for choice in self.iter_choices()} if self.validate_choice else set()
        if self.validate_choice and str(self.data) not in values:
            raise ValidationError(f"«{str(self.data)[:40]}» không có trong danh sách. Hãy chọn lại.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: FlaskForm) -> None:
        values = {str(choice[0]) for choice in self.iter_choices()}
        unknown = [str(v) for v in (self.data or []) if str(v) not in values]
        if unknown:
            raise ValidationError(f"«{', '.join(unknown)[:60]}» không có trong danh sách. Hãy chọn lại.")


def attach_errors(form: FlaskForm, errors: Mapping[str, str]) -> list[str]:
    """Put service errors next to their fields; return the ones that belong to no field."""
    loose: list[str] = []
    for name, message in errors.items():
        field = form._fields.get(name)  # noqa: SLF001 - WTForms' public mapping of fields
        if field is None:
            loose.append(message)
        else:
            field.errors = [*list(field.errors), message]
    return loose


class LoginForm(Form):
    username = StringField("Tên đăng nhập", validators=[Required("Hãy nhập tên đăng nhập."), MaxLength(80, "Tên")])
    password = PasswordField("Mật khẩu", validators=[Required("Hãy nhập mật khẩu.")])
    next = HiddenField()


class BulletinForm(Form):
    code = StringField("Mã bản tin (để trống để tự tạo)", validators=[MaxLength(40, "Mã")])
    title = StringField("Tiêu đề", validators=[Required("Chưa có tiêu đề. Hãy nhập tiêu đề bản tin.")])
    text = TextAreaField("Nội dung cần đọc")
    topic = VnSelectField("Chủ đề", choices=choices(TOPICS))
    language = VnSelectField("Ngôn ngữ", choices=choices(LANGUAGES))
    priority = VnSelectField("Mức ưu tiên", choices=PRIORITY_CHOICES)
    valid_from = VnDateField("Phát từ ngày")
    valid_to = VnDateField("Đến hết ngày")
    plays_per_week = VnIntegerField("Số lần phát mỗi tuần")
    targets = TextAreaField("Nơi phát (mã đài, tên xã hoặc * cho tất cả; cách nhau bởi dấu ;)")
    recording = FileField(
        "Tệp ghi âm (MP3, WAV, OGG, M4A, FLAC…; tối đa 50 MB)", render_kw={"accept": RECORDING_ACCEPT}
    )
    remove_recording = BooleanField("Bỏ tệp ghi âm đã tải lên")


class ReviewForm(Form):
    comment = TextAreaField("Ý kiến", validators=[MaxLength(2000, "Ý kiến")])


class StationForm(Form):
    name = StringField("Tên đài / cụm loa")
    languages = MultiCheckboxField("Ngôn ngữ phát", choices=choices(LANGUAGES))
    windows = TextAreaField("Khung giờ phát (để trống để dùng khung giờ của xã/tỉnh)")
    speakers = VnIntegerField("Số loa")
    active = BooleanField("Đang hoạt động")


class UserForm(Form):
    username = StringField(
        "Tên đăng nhập", validators=[Required("Hãy nhập tên đăng nhập."), MaxLength(80, "Tên đăng nhập")]
    )
    full_name = StringField("Họ và tên", validators=[MaxLength(200, "Họ và tên")])
    role = VnSelectField("Vai trò", choices=choices(ROLES))
    commune = StringField("Xã (phạm vi; bắt buộc với vận hành xã)", validators=[MaxLength(120, "Tên xã")])
    area = StringField("Khu vực (phạm vi của biên tập viên, người duyệt; bỏ trống: toàn tỉnh)",
                       validators=[MaxLength(120, "Tên khu vực")])
    password = PasswordField("Mật khẩu (ít nhất 8 ký tự; để trống nếu không đổi)")
    active = BooleanField("Đang hoạt động", default=True)


EMERGENCY_SOURCES = choices({
    "loi": "Gõ lời cảnh báo (đọc ngay bằng giọng máy)",
    "ghi-am": "Tải lên bản ghi âm",
    "ban-tin": "Dùng bản tin khẩn cấp đã duyệt",
})


class EmergencyForm(Form):
    source = VnSelectField("Nội dung phát", choices=EMERGENCY_SOURCES, default="loi")
    text = TextAreaField("Lời cảnh báo")
    title = StringField("Tiêu đề (để trống để lấy những chữ đầu)", validators=[MaxLength(300, "Tiêu đề")])
    recording = FileField(
        "Bản ghi âm (MP3, WAV, OGG, M4A, FLAC…; tối đa 50 MB)", render_kw={"accept": RECORDING_ACCEPT}
    )
    bulletin_id = VnSelectField("Bản tin khẩn cấp đã duyệt", coerce=int, default=0)
    targets = TextAreaField("Nơi phát")
    repeat_every_minutes = VnIntegerField("Lặp lại mỗi (phút; để trống nếu phát một lần)")
    repeat_until = VnDateTimeField("Lặp đến (giờ Việt Nam)")
    full_volume = BooleanField("Phát to hết cỡ (100%), xong trả lại âm lượng cũ của đài", default=True)
    expires_minutes = VnIntegerField("Đài nhận lệnh muộn quá bao nhiêu phút thì không phát", default=15)
    confirmed = HiddenField()
    engine = HiddenField()
    recording_file = HiddenField()


class MoveItemForm(Form):
    start = VnDateTimeField("Giờ bắt đầu mới (giờ Việt Nam)", validators=[Required("Hãy chọn giờ bắt đầu mới.")])
