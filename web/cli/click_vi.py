"""Click's own words (help, usage, errors) in Vietnamese.

Click asks `gettext` for every word it prints itself ("Usage:", "Show this message and exit.",
"Missing option", the type names shown as metavars). Its modules import `gettext` and `ngettext`
once, so `install()` swaps those two names in each Click module for a lookup in the table below;
anything the table lacks stays as Click wrote it (and the help tests then flag it).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import click.types

MESSAGES: dict[str, str] = {
    "Usage:": "Cách dùng:",
    "Options": "Tùy chọn",
    "Commands": "Lệnh",
    "Show this message and exit.": "Hiện hướng dẫn này rồi thoát.",
    "Show the version and exit.": "Hiện phiên bản rồi thoát.",
    "%(prog)s, version %(version)s": "%(prog)s, phiên bản %(version)s",
    "Try '{command} {option}' for help.": "Xem hướng dẫn: {command} {option}",
    "Error: {message}": "Lỗi: {message}",
    "Error: {e.message}": "Lỗi: {e.message}",
    "Aborted!": "Đã hủy.",
    "default: {default}": "mặc định: {default}",
    "env var: {var}": "biến môi trường: {var}",
    "required": "bắt buộc",
    "(dynamic)": "(tùy lúc)",
    "(Deprecated) {text}": "(Không còn dùng) {text}",
    "DeprecationWarning: The command {name!r} is deprecated.": "Lệnh {name!r} không còn dùng nữa.",
    "Missing argument": "Thiếu tham số",
    "Missing option": "Thiếu tùy chọn",
    "Missing parameter": "Thiếu tham số",
    "Missing parameter: {param_name}": "Thiếu tham số: {param_name}",
    "Missing {param_type}": "Thiếu {param_type}",
    "Missing command.": "Thiếu tên lệnh.",
    "No such command {name!r}.": "Không có lệnh {name!r}.",
    "No such option: {name}": "Không có tùy chọn: {name}",
    "Option {name!r} does not take a value.": "Tùy chọn {name!r} không nhận giá trị.",
    "Argument {name!r} takes {nargs} values.": "Tham số {name!r} cần {nargs} giá trị.",
    "Invalid value for {param_hint}: {message}": "Giá trị không hợp lệ cho {param_hint}: {message}",
    "Invalid value: {message}": "Giá trị không hợp lệ: {message}",
    "Value must be an iterable.": "Giá trị phải là một danh sách.",
    "Choose from:\n\t{choices}": "Chọn một trong:\n\t{choices}",
    "Could not open file {filename!r}: {message}": "Không mở được tệp {filename!r}: {message}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} không tồn tại.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} là một thư mục.",
    "{name} {filename!r} is a file.": "{name} {filename!r} là một tệp.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} không chạy được.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} không đọc được.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} không ghi được.",
    "{value!r} is not a valid UUID.": "{value!r} không phải UUID hợp lệ.",
    "{value!r} is not a valid boolean.": "{value!r} không phải giá trị có/không hợp lệ.",
    "{value!r} is not a valid {number_type}.": "{value!r} không phải {number_type} hợp lệ.",
    "{value} is not in the range {range}.": "{value} nằm ngoài khoảng {range}.",
    "file": "tệp",
    "directory": "thư mục",
    "path": "đường dẫn",
    "unknown error": "lỗi không rõ",
    "Error: invalid input": "Lỗi: giá trị không hợp lệ",
    "Error: The value you entered was invalid.": "Lỗi: giá trị vừa nhập không hợp lệ.",
    "Error: The two entered values do not match.": "Lỗi: hai lần nhập không khớp nhau.",
    "Repeat for confirmation": "Nhập lại để xác nhận",
    "Press any key to continue...": "Nhấn phím bất kỳ để tiếp tục…",
}

# (singular, plural) -> the same pair in Vietnamese, each keeping its English form's placeholders.
PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("Did you mean {possibility}?", "(Possible options: {possibilities})"):
        ("Có phải ý bạn là {possibility}?", "(Có thể là: {possibilities})"),
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Thừa tham số ({args})", "Thừa tham số ({args})"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("Tùy chọn {name!r} cần một giá trị.", "Tùy chọn {name!r} cần {nargs} giá trị."),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Cần {nargs} giá trị nhưng chỉ có 1.", "Cần {nargs} giá trị nhưng có {len}."),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("Cần {len_type} giá trị, nhận được {len_value}.", "Cần {len_type} giá trị, nhận được {len_value}."),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} không đúng dạng {format}.", "{value!r} không đúng dạng nào trong {formats}."),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} không phải {choice}.", "{value!r} không phải một trong: {choices}."),
}  # fmt: skip

# Type names: shown upper-cased as the metavar in help ("--port SỐ_NGUYÊN") and inside messages.
TYPE_NAMES: dict[type[click.types.ParamType], str] = {
    click.types.StringParamType: "chuỗi",
    click.types.UnprocessedParamType: "chuỗi",
    click.types.IntParamType: "số nguyên",
    click.types.IntRange: "số nguyên",
    click.types.FloatParamType: "số",
    click.types.FloatRange: "số",
    click.types.BoolParamType: "có/không",
    click.types.DateTime: "ngày giờ",
    click.types.File: "tệp",
    click.types.Choice: "lựa chọn",
}

CLICK_MODULES = ("core", "exceptions", "formatting", "types", "decorators", "termui", "parser", "utils",
                 "shell_completion", "_termui_impl")


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    one, many = PLURALS.get((singular, plural), (singular, plural))
    return one if n == 1 else many


def _patch(module: ModuleType) -> None:
    if hasattr(module, "_"):
        module._ = gettext  # type: ignore[attr-defined]  # click's module-level `from gettext import gettext as _`
    if hasattr(module, "ngettext"):
        module.ngettext = ngettext  # type: ignore[attr-defined]


def install() -> None:
    """Make Click speak Vietnamese; safe to call more than once."""
    for name in CLICK_MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # a module a later Click renamed: its words stay as they are
            continue
        _patch(module)
    for cls, name in TYPE_NAMES.items():
        cls.name = name
    click.types.ParamType.get_metavar = _metavar  # type: ignore[method-assign]


def _metavar(self: click.types.ParamType, param: click.Parameter) -> str:
    """"--port SỐ_NGUYÊN" rather than Click's "--port INTEGER" (Choice, Tuple keep their own)."""
    return self.name.upper().replace(" ", "_")


OPTIONS_METAVAR = "[TÙY_CHỌN]"
SUBCOMMAND_METAVAR = "LỆNH [THAM_SỐ]..."


def localise(command: click.Command) -> click.Command:
    """Vietnamese placeholders in a command's usage line ("[OPTIONS]", "COMMAND [ARGS]..."), recursively."""
    command.options_metavar = OPTIONS_METAVAR
    if isinstance(command, click.Group):
        command.subcommand_metavar = SUBCOMMAND_METAVAR
        for sub in command.commands.values():
            localise(sub)
    return command
