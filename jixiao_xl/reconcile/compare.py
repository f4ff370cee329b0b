"""How reconciliation shows and compares values: codes and texts compacted, blanks, exact Decimal amounts, and
indicator fields compared the way the domain compares each (一级/二级/度量单位 by their canonical spelling)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ..taxonomy import canonical_level1, canonical_level2, canonical_unit, compact


# Every row of every file folds the same few spellings (产出指标, ≥, %): remember each answer per process.
canonical_level1, canonical_level2, canonical_unit, compact = (
    lru_cache(maxsize=16384)(fold) for fold in (canonical_level1, canonical_level2, canonical_unit, compact))


BLANK = "（空）"


def code_text(value: object) -> str:
    """A code as text without surrounding white space ('' for None)."""
    return "" if value is None else str(value).strip()


def is_blank(value: object) -> bool:
    """True for None and for text that is only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def as_decimal(value: object) -> Decimal | None:
    """``value`` as a finite Decimal, or None when it is blank or not a number."""
    if isinstance(value, bool) or is_blank(value):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(compact(str(value)).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def as_text(value: object) -> str:
    """A value as plain text for the value/expected columns ('' for None, Decimals without exponent)."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    return str(value)


def show_value(value: object) -> str:
    """A value as a message shows it: blank as （空）."""
    return BLANK if is_blank(value) else as_text(value)


def show_money(value: object) -> str:
    """An amount as a message shows it: at least two decimals (6 → 6.00), never rounded away."""
    number = as_decimal(value)
    if number is None:
        return show_value(value)
    if number.as_tuple().exponent > -2:  # type: ignore[operator]  # finite, so the exponent is an int
        try:
            number = number.quantize(Decimal("0.01"))
        except InvalidOperation:
            pass
    return format(number, "f")


def same_money(issued: object, returned: object) -> bool:
    """True when a returned amount equals the issued one; blank and 0 differ only when the master has a value."""
    if is_blank(issued):
        return is_blank(returned) or as_decimal(returned) == 0
    if is_blank(returned):
        return False
    a, b = as_decimal(issued), as_decimal(returned)
    if a is None or b is None:
        return compact(as_text(issued)) == compact(as_text(returned))
    return a == b


def _same_value(issued: object, returned: object) -> bool:
    """True when two indicator values say the same (numbers compared as numbers, text compacted)."""
    if is_blank(issued) or is_blank(returned):
        return is_blank(issued) and is_blank(returned)
    a, b = as_decimal(issued), as_decimal(returned)
    if a is not None and b is not None:
        return a == b
    return compact(as_text(issued)) == compact(as_text(returned))


def same_field(name: str, issued: object, returned: object) -> bool:
    """True when an indicator field is unchanged, compared the way the domain compares that field."""
    if name in ("value", "weight"):
        return _same_value(issued, returned)
    if name == "level1":
        return canonical_level1(as_text(issued)) == canonical_level1(as_text(returned))
    if name == "level2":
        return canonical_level2(as_text(issued)) == canonical_level2(as_text(returned))
    if name == "unit":
        return canonical_unit(as_text(issued)) == canonical_unit(as_text(returned))
    return compact(as_text(issued)) == compact(as_text(returned))
