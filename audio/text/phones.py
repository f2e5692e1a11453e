"""Phone numbers and hotlines, read digit by digit with a short pause between groups.

A number is a phone number when a cue word precedes it (điện thoại, đường dây nóng, hotline, ĐT...)
or when its shape says so: a leading 0 with 9-11 digits, '(0269) 3.823.456', '+84 ...', 1800/1900
lines; emergency numbers 111-116 after 'gọi'.
"""

from __future__ import annotations

import re

from audio.text.numbers import digits
from audio.text.rules import Context, has_digit, padded

_CUE = (
    r"(?i:số\s+điện\s+thoại|điện\s+thoại|đường\s+dây\s+nóng|hotline|tổng\s+đài|số\s+máy|"
    r"di\s+động|fax|sđt|đt)"
)
# Groups after a space have 3+ digits ('1022 24 giờ' stops at 1022) unless another group follows.
_NUMBER = r"(?:\+\d{2}\s?|\(\+?\d{2,4}\)\s?)?\d{1,5}(?:[.\-]\d{1,5}|\s\d{1,2}(?=[\s.\-]\d)|\s\d{3,5})*"
# The cue may be followed by a short phrase ending in a colon ("đường dây nóng của tỉnh: 1022").
_CUED = re.compile(
    rf"(?<!\w)(?P<cue>{_CUE})(?P<gap>(?:[^\d\n:;.]{{0,30}}:)?[\s:]*(?:(?:số|là)\s+)?)(?P<number>{_NUMBER})"
    r"(?!\w|[.,]\d)"
)
_SHAPED = re.compile(
    r"(?<![\w.,/])(?P<number>\(0\d{2,3}\)\s?\d{1,4}(?:[.\- ]?\d{2,4}){1,3}"
    r"|\+84[\s.]?\d{2,3}(?:[\s.]?\d{3}){2}"
    r"|0\d{2,3}[.\- ]\d{3,4}[.\- ]\d{3,4}"
    r"|0\d{9,10}"
    r"|1[89]00[\s.]?\d{3,4})"  # toll-free and premium lines: 1800 1234, 1900.1234
    r"(?!\w|[.,]\d)"
)
# Emergency numbers: 111 (child protection) ... 116, said digit by digit after 'gọi'.
_EMERGENCY = re.compile(
    r"(?<!\w)(?P<cue>(?i:gọi))(?P<gap>(?:\s+(?:ngay|số|tới|đến))*\s+)(?P<number>11[1-6])(?!\w|[.,]\d)"
)


def _groups(number: str) -> list[str]:
    groups = re.findall(r"\d+", number)
    if len(groups) == 1 and len(groups[0]) >= 7:
        # Unbroken numbers are grouped the way they are usually printed: 0912 345 678.
        run = groups[0]
        head = 4 if len(run) >= 10 else 3
        groups = [run[:head]] + [run[i : i + 3] for i in range(head, len(run), 3)]
        if len(groups) > 2 and len(groups[-1]) == 1:
            groups[-2:] = [groups[-2] + groups[-1]]
    # '(0269) 3.823.456': a lone digit printed in thousands style belongs to the group after it.
    merged: list[str] = []
    for group in reversed(groups):
        if len(group) == 1 and merged:
            merged[-1] = group + merged[-1]
        else:
            merged.append(group)
    return merged[::-1]


def speak_phone(number: str) -> str:
    """'0269.3823.456' -> 'không hai sáu chín, ba tám hai ba, bốn năm sáu'; '+84' -> 'cộng tám bốn'."""
    spoken = ", ".join(digits(group) for group in _groups(number))
    return ("cộng " + spoken) if number.lstrip("( ").startswith("+") else spoken


def _cued(match: re.Match[str]) -> str:
    number = match.group("number")
    if sum(ch.isdecimal() for ch in number) < 3:
        return match.group(0)
    gap = match.group("gap")
    if not gap.endswith(" "):
        gap += " "
    return match.group("cue") + gap + padded(match, speak_phone(number)).lstrip()


def _shaped(match: re.Match[str]) -> str:
    number = match.group("number")
    count = sum(ch.isdecimal() for ch in number)
    if not (9 <= count <= 12 or (number.startswith(("1800", "1900")) and count >= 7)):
        return match.group(0)
    return padded(match, speak_phone(number))


def speak_phone_numbers(text: str, ctx: Context) -> str:
    """Replace hotlines and phone numbers by their digit-by-digit reading."""
    if not has_digit(text):
        return text
    text = _EMERGENCY.sub(
        lambda m: m.group("cue") + m.group("gap") + padded(m, digits(m.group("number"))).lstrip(), text
    )
    return _SHAPED.sub(_shaped, _CUED.sub(_cued, text))
