"""Money and percentages: 元 ↔ 万元 exactly, money cells with their written unit, per cents."""

from __future__ import annotations

import re
from decimal import Decimal, Inexact, localcontext
from functools import lru_cache

from .text import clean_text, compact_value, fold, fold_compact, parse_number

_MONEY_TEXT = re.compile(r"[¥]?(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?P<unit>万元|万|元)?整?")
_MONEY_UNIT_LABEL = re.compile(r"^(?:金额)?单位[:]")


@lru_cache(maxsize=256)
def _money_unit(text: object) -> str | None:
    """"万元" or "元" from a unit cell or label ("单位：万元", "金额单位:元", "万"); None when blank.

    Raises ``ValueError`` for any other unit (千元, 亿元, %…): converting them is not supported.
    """
    key = _MONEY_UNIT_LABEL.sub("", fold_compact(clean_text(text)))
    if not key:
        return None
    if key in ("万元", "万"):
        return "万元"
    if key == "元":
        return "元"
    raise ValueError(f"无法识别的金额单位“{clean_text(text)}”，只支持“元”和“万元”")


def to_money_unit(amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert ``amount`` between 元 and 万元 exactly (÷ or × 10000, never rounded).

    Raises ``ValueError`` for a unit other than 元/万元 or a non-finite amount, ``TypeError`` for a
    float (money is never a float).
    """
    if isinstance(amount, float) or isinstance(amount, bool) or not isinstance(amount, (int, Decimal)):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    amount = Decimal(amount)
    if not amount.is_finite():
        raise ValueError(f"金额不是有限的数：{amount}")
    source, target = _money_unit(from_unit), _money_unit(to_unit)
    if source is None or target is None:
        raise ValueError("换算金额需要写明原单位和目标单位（元或万元）")
    if source == target:
        return amount
    with localcontext() as context:
        context.prec = max(28, len(amount.as_tuple().digits) + 8, amount.adjusted() + 12)
        context.traps[Inexact] = True
        if source == "元":
            return amount / 10000
        converted = amount.scaleb(4)
        return converted.quantize(Decimal(1)) if converted.as_tuple().exponent > 0 else converted


def parse_money(value: object, cell_unit: str = "", target_unit: str = "万元") -> tuple[Decimal | None, str | None]:
    """A money cell as (amount in ``target_unit``, Chinese note or None).

    ``value`` may be a number or text such as "5万元", "50,000元", "５.００", "￥6.00". A unit written in
    the text wins over ``cell_unit`` (the unit of the column or the form's 单位 line); when neither is
    given the amount is taken to be in ``target_unit`` already. The note says when the amount was
    converted or the written unit differed from ``cell_unit``. Blank gives (None, None); text that is
    not an amount raises ``ValueError``.
    """
    target = _money_unit(target_unit)
    if target is None:
        raise ValueError("目标金额单位不能为空")
    amount, written = _money_amount(value)
    if amount is None:
        return None, None
    declared = _money_unit(cell_unit)
    source = written or declared or target
    converted = to_money_unit(amount, source, target)
    return converted, _money_note(value, written, declared, source, target, converted)


def _money_amount(value: object) -> tuple[Decimal | None, str | None]:
    """The number in a money cell and the unit written with it, if any."""
    if value is None or isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return parse_number(value), None
    if isinstance(value, bool):
        raise ValueError(f"金额不是数字：{value!r}")
    text = compact_value(clean_text(value))
    if not text:
        return None, None
    match = _MONEY_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"金额不是数字：“{clean_text(value)}”")
    return parse_number(match.group("number")), _money_unit(match.group("unit") or "")


def _money_note(value: object, written: str | None, declared: str | None, source: str, target: str,
                converted: Decimal) -> str | None:
    """The Chinese note for :func:`parse_money`: a conversion, or a unit that disagrees with the column."""
    shown = clean_text(value)
    if written and declared and written != declared:
        return (f"金额“{shown}”自带单位“{written}”，与表中单位“{declared}”不同，"
                f"已按“{written}”读取为 {_plain(converted)} {target}")
    if source != target:
        return f"金额“{shown}”已由{source}换算为{target}：{_plain(converted)} {target}"
    return None


def _plain(number: Decimal) -> str:
    """A Decimal in plain notation without trailing zeros (60000, 1.234567)."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def parse_percent(value: object) -> Decimal | None:
    """A percentage as its number of per cent: "95%" → 95, "95" → 95, "９５％" → 95.

    No guessing: a fraction stays a fraction ("０.９５" and 0.95 give 0.95), because the same cell may
    legitimately hold 0.95 %. Blank gives None; text that is not a number (with or without one trailing
    "%") raises ``ValueError``.
    """
    if not isinstance(value, str):
        return parse_number(value)
    text = re.sub(r"\s+", "", fold(value))
    if not text:
        return None
    if text.endswith("%"):
        text = text[:-1]
        if not text:
            raise ValueError(f"百分比没有数字：“{clean_text(value)}”")
    return parse_number(text)


def as_money(amount: Decimal | None) -> Decimal | None:
    """An amount with at least two decimals (9 → 9.00, 7.125 stays 7.125), as forms and masters show money."""
    if amount is None or amount.as_tuple().exponent <= -2 or not amount.is_finite():
        return amount
    return amount.quantize(Decimal("0.01"))
