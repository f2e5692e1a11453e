"""Station window specs: parse and format `T2-CN 05:30-06:00; T2-T6 17:00-17:30`, find overlaps.

Grammar (see docs/planner.md): windows separated by `;`, each `DAYS HH:MM-HH:MM [key=value ...]`.
Keys: `tiep-song=URL` (relay block), `lang=CODE` (language segment), `lang-buoi=CODE` (language of a
whole session), `ten="..."` (label). `relay(DAYS HH:MM-HH:MM URL)` is accepted as a relay too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time
from functools import lru_cache

from scheduler.domain import DAY_LABELS, WeeklyWindow

EXAMPLE = "T2-CN 05:30-06:00; T2-T6 17:00-17:30"
_DAYS_HINT = "Dùng T2…T7 hoặc CN, dạng khoảng «T2-T6», danh sách «T2,T4,T6» hoặc một ngày «CN»."
_TIME_HINT = "Dùng dạng GIỜ:PHÚT-GIỜ:PHÚT, ví dụ «05:30-06:00» (qua nửa đêm được: «23:30-00:30»)."
_ATTR_HINT = (
    "Các thuộc tính hợp lệ: tiep-song=URL (khối tiếp sóng), lang=mã (đoạn ngôn ngữ, ví dụ lang=jra), "
    'lang-buoi=mã (ngôn ngữ của cả buổi), ten="tên khối".'
)
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_URL_RE = re.compile(r"^[a-z][a-z0-9+.\-]*://\S+$", re.IGNORECASE)
_TIME_RE = re.compile(r"^(\d{1,2})(?:[:hH](\d{2})?)?(?::(\d{2}))?$")
_CALL_RE = re.compile(r"^\s*([^\s(]+)\s*\((.*)\)\s*$", re.DOTALL)
_RELAY_CALLS = ("relay", "tiep-song", "tiepsong")
_KEY_ALIASES = {
    "tiep-song": "tiep-song",
    "tiepsong": "tiep-song",
    "relay": "tiep-song",
    "lang": "lang",
    "doan": "lang",
    "lang-buoi": "lang-buoi",
    "ten": "ten",
    "nhan": "ten",
    "label": "ten",
}
WEEK_SECONDS = 7 * 86400
MAX_SPEC = 4000  # characters in one station's window spec


def _fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics so `tiếp-sóng` and `tiep-song` read the same."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _split_outside_quotes(text: str, separator: str | None) -> list[str]:
    """Split on `separator` (None = whitespace) except inside double quotes or parentheses."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\" and quoted:
            current.append(ch)
            escaped = True
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth = max(0, depth - 1)
        is_sep = ch.isspace() if separator is None else ch == separator
        if is_sep and not quoted and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise ValueError(f'Khung giờ «{text.strip()}»: thiếu dấu ngoặc kép đóng. Viết ví dụ ten="Thời sự VOV".')
    pieces.append("".join(current))
    if separator is None:
        return [p for p in pieces if p]
    return pieces


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _parse_day(label: str, part: str) -> int:
    upper = label.strip().upper()
    if upper not in DAY_LABELS:
        raise ValueError(f"Khung giờ «{part}»: ngày «{label}» không hợp lệ. {_DAYS_HINT}")
    return DAY_LABELS.index(upper)


def parse_days(text: str, part: str | None = None) -> frozenset[int]:
    """Parse `T2-T6`, `T2,T4,T6`, `CN` or a mix like `T2-T4,T6` into weekday numbers (0 = Monday)."""
    part = part if part is not None else text
    days: set[int] = set()
    for item in text.split(","):
        if not item.strip():
            raise ValueError(f"Khung giờ «{part}»: danh sách ngày «{text}» có chỗ trống. {_DAYS_HINT}")
        if "-" in item:
            bounds = item.split("-")
            if len(bounds) != 2:
                raise ValueError(f"Khung giờ «{part}»: khoảng ngày «{item}» không hợp lệ. {_DAYS_HINT}")
            first, last = (_parse_day(b, part) for b in bounds)
            if last < first:
                raise ValueError(
                    f"Khung giờ «{part}»: khoảng ngày «{item}» bị ngược (ngày đầu sau ngày cuối). "
                    f"Viết theo thứ tự T2→CN, hoặc liệt kê, ví dụ «T7,CN,T2»."
                )
            days.update(range(first, last + 1))
        else:
            days.add(_parse_day(item, part))
    return frozenset(days)


def _parse_time(text: str, part: str, *, is_end: bool) -> time:
    match = _TIME_RE.match(text.strip())
    if match is None:
        raise ValueError(f"Khung giờ «{part}»: giờ «{text}» không hợp lệ. {_TIME_HINT}")
    hour, minute, second = (int(g) if g else 0 for g in match.groups())
    if is_end and hour == 24 and minute == 0 and second == 0:
        return time(0, 0)  # 24:00 = midnight at the end of the day
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"Khung giờ «{part}»: giờ «{text}» không tồn tại. {_TIME_HINT}")
    return time(hour, minute, second)


def _parse_one(part: str) -> WeeklyWindow:
    part = text = part.strip()
    call = _CALL_RE.match(text)
    relay_from_call: str | None = None
    if call is not None and _fold(call.group(1)) in _RELAY_CALLS:
        inner = _split_outside_quotes(call.group(2), None)
        urls = [t for t in inner if _URL_RE.match(t)]
        if len(urls) != 1:
            raise ValueError(
                f"Khung giờ «{part}»: cần đúng một địa chỉ luồng tiếp sóng trong ngoặc. "
                f"Ví dụ «relay(T2-T6 17:00-17:15 https://…)»."
            )
        relay_from_call = urls[0]
        tokens = [t for t in inner if t != relay_from_call]
    else:
        tokens = _split_outside_quotes(text, None)

    head: list[str] = []
    attrs: list[str] = []
    for token in tokens:
        if "=" in token:
            attrs.append(token)
        elif attrs:
            raise ValueError(
                f"Khung giờ «{part}»: «{token}» đứng sau thuộc tính. Viết ngày và giờ trước, "
                f"thuộc tính sau, ví dụ «T2-T6 17:00-17:15 tiep-song=https://…»."
            )
        else:
            head.append(token)
    # Tolerate spaces around '-' and ',' in the days and times ("T2 - T6 05:30 - 06:00").
    head_tokens = re.sub(r"\s*([-,])\s*", r"\1", " ".join(head)).split()
    if len(head_tokens) != 2:
        raise ValueError(
            f"Khung giờ «{part}» không đúng dạng «NGÀY GIỜ-GIỜ». "
            f"Ví dụ «T2-CN 05:30-06:00» hoặc «T2,T4,T6 17:00-17:30». {_DAYS_HINT}"
        )
    days = parse_days(head_tokens[0], part)
    bounds = head_tokens[1].split("-")
    if len(bounds) != 2:
        raise ValueError(f"Khung giờ «{part}»: khoảng giờ «{head_tokens[1]}» không hợp lệ. {_TIME_HINT}")
    start = _parse_time(bounds[0], part, is_end=False)
    end = _parse_time(bounds[1], part, is_end=True)
    if start == end:
        raise ValueError(
            f"Khung giờ «{part}»: giờ bắt đầu và giờ kết thúc trùng nhau ({bounds[0]}). "
            f"Một buổi phải dài hơn 0 phút. {_TIME_HINT}"
        )

    values: dict[str, str] = {}
    if relay_from_call is not None:
        values["tiep-song"] = relay_from_call
    for attr in attrs:
        raw_key, _, raw_value = attr.partition("=")
        key = _KEY_ALIASES.get(_fold(raw_key.strip()))
        value = _unquote(raw_value.strip())
        if key is None:
            raise ValueError(f"Khung giờ «{part}»: thuộc tính «{attr}» không rõ. {_ATTR_HINT}")
        if key in values:
            raise ValueError(
                f"Khung giờ «{part}»: thuộc tính «{raw_key}» bị lặp. Mỗi thuộc tính chỉ ghi một lần, xoá bớt một chỗ."
            )
        if not value:
            raise ValueError(f"Khung giờ «{part}»: thuộc tính «{attr}» thiếu giá trị. {_ATTR_HINT}")
        values[key] = value
    return _window_from(part, days, start, end, values)


def _check_language(part: str, attr: str, value: str) -> str:
    code = value.strip().lower()
    if not _LANG_RE.match(code):
        raise ValueError(
            f"Khung giờ «{part}»: mã ngôn ngữ «{value}» ở «{attr}» không hợp lệ. "
            f"Dùng mã 2–3 chữ cái, ví dụ vi (tiếng Việt), jra (Jrai), bdq (Ba Na), km (Khmer)."
        )
    return code


def _window_from(part: str, days: frozenset[int], start: time, end: time, values: dict[str, str]) -> WeeklyWindow:
    label = values.get("ten", "")
    if "tiep-song" in values:
        url = values["tiep-song"]
        if not _URL_RE.match(url):
            raise ValueError(
                f"Khung giờ «{part}»: địa chỉ tiếp sóng «{url}» không hợp lệ. "
                f"Dùng địa chỉ đầy đủ, ví dụ tiep-song=https://…/stream hoặc rtsp://…"
            )
        if "lang-buoi" in values:
            raise ValueError(
                f"Khung giờ «{part}»: khối tiếp sóng không nhận «lang-buoi». Dùng lang=mã để ghi ngôn ngữ "
                f"của chương trình tiếp sóng."
            )
        language = _check_language(part, "lang", values["lang"]) if "lang" in values else None
        return WeeklyWindow(days, start, end, "relay", language, url, label)
    if "lang" in values:
        if "lang-buoi" in values:
            raise ValueError(
                f"Khung giờ «{part}»: không dùng cùng lúc lang= (đoạn ngôn ngữ) và lang-buoi= (cả buổi). "
                f"Chọn một trong hai."
            )
        return WeeklyWindow(days, start, end, "segment", _check_language(part, "lang", values["lang"]), None, label)
    language = _check_language(part, "lang-buoi", values["lang-buoi"]) if "lang-buoi" in values else None
    return WeeklyWindow(days, start, end, "session", language, None, label)


def parse_windows(spec: str) -> tuple[WeeklyWindow, ...]:
    """Parse a station's window spec; raise ValueError (Vietnamese) naming the bad part. Blank -> ()."""
    windows: list[WeeklyWindow] = []
    for part in _split_outside_quotes(spec, ";"):
        if part.strip():
            windows.append(_parse_one(part))
    return tuple(windows)


def format_days(days: Iterable[int]) -> str:
    """`{0,1,2,3,4}` -> `T2-T6`; runs of three or more days become ranges."""
    ordered = sorted(set(days))
    if not ordered:
        raise ValueError("Khung giờ không có ngày nào trong tuần. Chọn ít nhất một ngày T2…CN.")
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    pieces: list[str] = []
    for run in runs:
        if len(run) >= 3:
            pieces.append(f"{DAY_LABELS[run[0]]}-{DAY_LABELS[run[-1]]}")
        else:
            pieces.extend(DAY_LABELS[d] for d in run)
    return ",".join(pieces)


def _format_time(value: time) -> str:
    return f"{value:%H:%M}" if value.second == 0 else f"{value:%H:%M:%S}"


def _quote(value: str) -> str:
    if re.search(r'[\s;"()=\\]', value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def format_window(window: WeeklyWindow) -> str:
    """One window in the canonical spec form, e.g. `T2-T6 17:00-17:15 tiep-song=https://…`."""
    text = f"{format_days(window.days)} {_format_time(window.start)}-{_format_time(window.end)}"
    if window.kind == "relay":
        text += f" tiep-song={_quote(window.stream_url or '')}"
        if window.language:
            text += f" lang={window.language}"
    elif window.kind == "segment":
        text += f" lang={window.language or ''}"
    elif window.language:
        text += f" lang-buoi={window.language}"
    if window.label:
        text += f" ten={_quote(window.label)}"
    return text


def format_windows(windows: Iterable[WeeklyWindow]) -> str:
    """The spec for `windows`; `parse_windows(format_windows(w)) == tuple(w)`."""
    return "; ".join(format_window(w) for w in windows)


@dataclass(frozen=True)
class WindowOverlap:
    """Two windows that air at the same time on `days` (the first window's weekdays)."""

    first: WeeklyWindow
    second: WeeklyWindow
    days: tuple[int, ...]
    message: str


def _occurrences(window: WeeklyWindow) -> list[tuple[int, int, int]]:
    """(day, start, end) in seconds on the weekly cycle; ends may pass the week's end."""
    start = window.start.hour * 3600 + window.start.minute * 60 + window.start.second
    length = int(window.duration.total_seconds())
    return [(day, day * 86400 + start, day * 86400 + start + length) for day in sorted(window.days)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Overlap on the weekly cycle, where Sunday night runs into Monday morning."""
    return any(a[0] < b[1] + shift and b[0] + shift < a[1] for shift in (-WEEK_SECONDS, 0, WEEK_SECONDS))


def _day_list(days: Sequence[int]) -> str:
    return ", ".join(DAY_LABELS[d] for d in days)


def find_overlaps(windows: Sequence[WeeklyWindow]) -> list[WindowOverlap]:
    """Session windows that overlap each other, and relay/segment blocks that overlap each other.

    Checks the weekly cycle, so `CN 23:30-00:30` overlaps `T2 00:00-01:00`. Blocks lying inside a
    session are expected and not reported.
    """
    found: list[WindowOverlap] = []
    for i, first in enumerate(windows):
        for second in windows[i + 1 :]:
            first_is_session = first.kind == "session"
            if first_is_session != (second.kind == "session"):
                continue
            days = tuple(
                sorted(
                    {
                        day
                        for day, a0, a1 in _occurrences(first)
                        for _, b0, b1 in _occurrences(second)
                        if _overlap((a0, a1), (b0, b1))
                    }
                )
            )
            if not days:
                continue
            what = "Buổi phát" if first_is_session else "Khối"
            message = (
                f"{what} «{format_window(first)}» trùng giờ với «{format_window(second)}» vào {_day_list(days)}. "
                f"Sửa giờ để chúng không chồng lên nhau."
            )
            found.append(WindowOverlap(first, second, days, message))
    return found


@dataclass(frozen=True)
class StrayBlock:
    """A relay or segment block that is not wholly inside a session on `days`."""

    window: WeeklyWindow
    days: tuple[int, ...]
    message: str


def find_stray_blocks(windows: Sequence[WeeklyWindow]) -> list[StrayBlock]:
    """Relay/segment blocks not wholly inside a session on some of their days.

    The planner still airs such a block (as a session of its own, or by extending the session it
    starts in), so this is a warning for the web form, not an error.
    """
    sessions = [occ for w in windows if w.kind == "session" for occ in _occurrences(w)]
    found: list[StrayBlock] = []
    for block in windows:
        if block.kind == "session":
            continue
        days: list[int] = []
        for day, b0, b1 in _occurrences(block):
            inside = any(
                s0 + shift <= b0 and b1 <= s1 + shift
                for _, s0, s1 in sessions
                for shift in (-WEEK_SECONDS, 0, WEEK_SECONDS)
            )
            if not inside:
                days.append(day)
        if days:
            what = "tiếp sóng" if block.kind == "relay" else "ngôn ngữ"
            message = (
                f"Khối {what} «{format_window(block)}» không nằm trọn trong buổi phát nào vào {_day_list(days)}. "
                f"Thêm hoặc nới buổi phát bao trùm khối này."
            )
            found.append(StrayBlock(block, tuple(days), message))
    return found


def check_windows(spec: str) -> tuple[str, list[str]]:
    """The window validator (station form, CSV/XLSX import, CLI): the spec in canonical form and its
    warnings; ValueError (Vietnamese) if it is too long, does not parse or has overlapping windows."""
    canonical, warnings = _checked_windows(spec.strip())
    return canonical, list(warnings)


@lru_cache(maxsize=1024)
def _checked_windows(spec: str) -> tuple[str, tuple[str, ...]]:
    """check_windows for a stripped spec, memoized: a 50,000-row import repeats a handful of specs."""
    if len(spec) > MAX_SPEC:
        raise ValueError(f"Khung giờ dài {len(spec)} ký tự, tối đa {MAX_SPEC}. Hãy rút gọn.")
    windows = parse_windows(spec)
    overlaps = find_overlaps(windows)
    if overlaps:
        raise ValueError(" ".join(o.message for o in overlaps))
    warnings = tuple(w.message for w in find_stray_blocks(windows))
    return (format_windows(windows) if windows else ""), warnings
