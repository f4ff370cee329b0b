"""Dates: date objects, Excel serials (1900 and 1904 systems) and Chinese date text."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from .text import NUMBER_TEXT, clean_text, fold, parse_number

_EPOCH_1900 = date(1899, 12, 30)  # serial 61 = 1900-03-01; below 60, Excel counts a phantom 1900-02-29
_EPOCH_1904 = date(1904, 1, 1)
_MAX_SERIAL = {False: 2958465, True: 2957003}  # 9999-12-31 in each system
_TEXT_DATE_RANGE = (date(1950, 1, 1), date(2100, 12, 31))  # numeric text outside it is not a date
_CHINESE_DATE = re.compile(r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]?")
_SEPARATED_DATE = re.compile(
    r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"(?:[T\s]+[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
)
_COMPACT_DATE = re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")


def parse_date(value: object, epoch1904: bool = False) -> date | None:
    """A date from a cell value.

    Accepts ``datetime``/``date`` objects, Excel serial numbers (1900 system by default, with Excel's
    phantom 1900-02-29 at serial 60, which raises; ``epoch1904=True`` for the Mac 1904 system; a time
    of day is dropped), and text: "2024年1月1日", "2024-01-01", "2024/1/1", "2024.1.1", "20240101",
    full-width digits, or a serial written as text when it falls in 1950–2100. Blank gives None;
    anything else raises ``ValueError`` with a Chinese message.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"不是日期：{value!r}")
    if isinstance(value, (int, float, Decimal)):
        return _serial_date(_serial_number(value), epoch1904)
    return _text_date(clean_text(value), epoch1904)


def _serial_number(value: object) -> Decimal:
    """The serial number of a numeric cell; ``ValueError`` when it is not finite."""
    try:
        number = parse_number(value)
    except ValueError as exc:
        raise ValueError(f"不是日期：{value!r}") from exc
    assert number is not None
    return number


def _serial_date(serial: Decimal, epoch1904: bool) -> date:
    """The date of an Excel serial number in the 1900 or 1904 date system."""
    day = int(serial.to_integral_value(rounding=ROUND_FLOOR))
    low = 0 if epoch1904 else 1
    if not low <= day <= _MAX_SERIAL[epoch1904]:
        raise ValueError(f"Excel 日期序列号超出范围：{serial}")
    if epoch1904:
        return _EPOCH_1904 + timedelta(days=day)
    if day == 60:
        raise ValueError("Excel 日期序列号 60 对应不存在的 1900年2月29日")
    return _EPOCH_1900 + timedelta(days=day + 1 if day < 60 else day)


def _text_date(text: str, epoch1904: bool) -> date | None:
    """A date written as text, or a plausible serial written as text."""
    folded = fold(text)
    if not folded:
        return None
    for pattern in (_CHINESE_DATE, _SEPARATED_DATE, _COMPACT_DATE):
        match = pattern.fullmatch(folded)
        if match:
            return _make_date(match, text)
    if NUMBER_TEXT.match(folded):
        found = _serial_date(Decimal(folded), epoch1904)
        if _TEXT_DATE_RANGE[0] <= found <= _TEXT_DATE_RANGE[1]:
            return found
    raise ValueError(f"无法识别的日期：“{text}”，请写成 2024年1月1日 或 2024-01-01")


def _make_date(match: re.Match[str], text: str) -> date:
    """The date of a matched year/month/day; ``ValueError`` for an impossible one (2024-02-30)."""
    try:
        return date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
    except ValueError as exc:
        raise ValueError(f"日期不存在：“{text}”") from exc
