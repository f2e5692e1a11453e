"""Plain numbers and quantities: 50.000 đồng, 1,2 tỷ đồng, 98,5%, 35°C, 60 km/h, 500 m², ranges
('2021 - 2030', '15–60 phút' -> 'X đến Y'), fractions (3/4 -> ba phần tư), rates (200/300 -> trên).

Runs after dates, phone numbers and document codes, so what is left here is a quantity.
"""

from __future__ import annotations

import re

from audio.text.numbers import cardinal, integer, numeral
from audio.text.rules import Context, has_digit, padded

UNITS: dict[str, str] = {
    "%": "phần trăm",
    "°C": "độ xê",
    "oC": "độ xê",
    "độ C": "độ xê",
    "°": "độ",
    "km/h": "ki lô mét trên giờ",
    "km²": "ki lô mét vuông",
    "km2": "ki lô mét vuông",
    "m²": "mét vuông",
    "m2": "mét vuông",
    "m³": "mét khối",
    "m3": "mét khối",
    "km": "ki lô mét",
    "Km": "ki lô mét",
    "cm": "xăng ti mét",
    "mm": "mi li mét",
    "m": "mét",
    "ha": "héc ta",
    "kg": "ki lô gam",
    "mg": "mi li gam",
    "g": "gam",
    "ml": "mi li lít",
    "kWh": "ki lô oát giờ",
    "kW": "ki lô oát",
    "MW": "mê ga oát",
    "W": "oát",
    "kV": "ki lô vôn",
    "V": "vôn",
    "MHz": "mê ga héc",
    "kHz": "ki lô héc",
    "Hz": "héc",
    "dB": "đề xi ben",
    "GB": "gi ga bai",
    "MB": "mê ga bai",
    "đ": "đồng",
    "VNĐ": "đồng",
    "VND": "đồng",
    "USD": "đô la Mỹ",
    # Words, listed so that a rate after them is read: '5 tấn/ha' -> 'năm tấn trên héc ta'.
    "tấn": "tấn",
    "tạ": "tạ",
    "lít": "lít",
    "đồng": "đồng",
    "người": "người",
    "hộ": "hộ",
}
_PER = {**UNITS, "h": "giờ", "giờ": "giờ", "ngày": "ngày", "tuần": "tuần", "tháng": "tháng", "năm": "năm"}


def _alternation(words: dict[str, str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_NUMBER = r"\d+(?:[.,]\d+)*"
_QUANTITY = re.compile(
    rf"(?P<neg>(?<![\w\d.,])-)?(?P<a>{_NUMBER})(?:\s*[-–—]\s*(?P<b>{_NUMBER}))?"
    rf"(?:\s?(?P<unit>{_alternation(UNITS)})(?:/(?P<per>{_alternation(_PER)}))?(?!\w))?"
)
_FRACTION = re.compile(r"(?<![\w/.,])(?P<a>\d+)\s?/\s?(?P<b>\d+)(?![\w/]|[.,]\d)")
_RATE = re.compile(r"(?<=[^\W\d_])\s*/\s*(?=\d)")
_DIGITS = re.compile(r"\d+")


def _fraction(match: re.Match[str], ctx: Context) -> str:
    a, b = int(match.group("a")), int(match.group("b"))
    if 0 < a < b <= 10:  # dates among these were taken by dates.py when written as dates
        denominator = "tư" if b == 4 else cardinal(b, ctx.dialect)
        return padded(match, f"{cardinal(a, ctx.dialect)} phần {denominator}")
    return padded(match, f"{numeral(match.group('a'), ctx.dialect)} trên {numeral(match.group('b'), ctx.dialect)}")


def _quantity(match: re.Match[str], ctx: Context) -> str:
    spoken = numeral(match.group("a"), ctx.dialect)
    if match.group("neg"):
        spoken = "âm " + spoken
    if match.group("b"):
        spoken += " đến " + numeral(match.group("b"), ctx.dialect)
    unit = match.group("unit")
    if unit:
        spoken += " " + UNITS[unit]
        if match.group("per"):
            spoken += " trên " + _PER[match.group("per")]
    return padded(match, spoken)


def speak_quantities(text: str, ctx: Context) -> str:
    """Replace every remaining number (with its unit, range or fraction) by words; no digit survives."""
    if not has_digit(text):
        return text
    text = _FRACTION.sub(lambda m: _fraction(m, ctx), text)
    text = _RATE.sub(" trên ", text)
    text = _QUANTITY.sub(lambda m: _quantity(m, ctx), text)
    # Digits glued to letters (H5N1) or other leftovers: read them rather than leave them.
    return _DIGITS.sub(lambda m: padded(m, integer(m.group(0), ctx.dialect)), text)
