"""Text and numbers in general: folding, numbers as Decimal, cell text, and codes (单位编码, 项目编码) kept as text."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")
SPACE = re.compile(r"\s+")
NUMBER_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def fold(text: str) -> str:
    """NFKC-fold full-width digits, letters and symbols to half-width and strip surrounding space."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_number(value: object) -> Decimal | None:
    """A number from a cell value, as ``Decimal``.

    Accepts ints, Decimals, floats (through their shortest repr, so 0.1 stays 0.1), and text with
    full-width digits, thousands separators and surrounding space. Blank gives None; anything that is
    not a finite number raises ``ValueError``, and so does a number of magnitude ``1e18`` or more, or
    below ``1e-18`` but not zero (no budget or indicator is that large or that small, a spreadsheet cannot
    hold such a number exactly, and Decimal arithmetic on it — two-decimal rounding, exact sums —
    would fail later).
    """
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
        if number.is_finite() and _within_magnitude(number) and number == number.to_integral_value():
            # Spreadsheets store every number as a float: 9.0 is the integer 9, not "9.0" with a decimal place.
            number = number.quantize(Decimal(1))
    else:
        text = _THOUSANDS.sub("", fold(str(value))).replace(" ", "")
        if not text:
            return None
        if not NUMBER_TEXT.match(text):
            raise ValueError(f"not a number: {value!r}")
        try:
            number = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the regex already guards the form
            raise ValueError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    if not _within_magnitude(number):
        raise ValueError(f"number out of range: {value!r}")
    return number


# Largest power of ten a number may reach (exclusive), and the smallest a non-zero number may go down to.
_MAX_MAGNITUDE = 18


def _within_magnitude(number: Decimal) -> bool:
    """True for zero and for finite numbers with 1e-18 <= |number| < 1e18."""
    return not number or -_MAX_MAGNITUDE <= number.adjusted() < _MAX_MAGNITUDE


# --------------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------------

# Control characters (Unicode category Cc) except the newline a person types with Alt+Enter.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def clean_text(value: object) -> str:
    """A cell value as text, for reading back and for showing in findings.

    None gives ""; a float holding an integer loses its ".0" (6.0 → "6"), other floats use their
    shortest repr (0.1 → "0.1"); other values go through ``str``. Control characters other than the
    newline are removed and surrounding white space is stripped. Nothing else changes: free text is
    not NFKC-folded, so full-width characters stay as the user typed them.
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return _float_text(value)
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # no control character at all (the common case): nothing to remove
        return text.strip()
    return _CONTROL.sub("", text).strip()


def _float_text(value: float) -> str:
    """A float as Excel shows it in General format: integers without ".0", others by repr."""
    if value.is_integer():
        return str(int(value))
    return repr(value)


@lru_cache(maxsize=4096)
def fold_compact(text: str) -> str:
    """``text`` NFKC-folded, without any white space (the lookup key of an operator or a unit spelling)."""
    return SPACE.sub("", unicodedata.normalize("NFKC", text))


_GROUPED_NUMBER = re.compile(r"(?<![0-9.])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])")


def compact_value(text: str) -> str:
    """The value text NFKC-folded, without white space and thousands separators ("1,000" → "1000")."""
    for spelling in ("㎡", "m²", "M²"):
        text = text.replace(spelling, "平方米")
    folded = SPACE.sub("", unicodedata.normalize("NFKC", text))
    return _GROUPED_NUMBER.sub(lambda m: m.group().replace(",", ""), folded)


# --------------------------------------------------------------------------------------------------
# Codes (单位编码, 项目编码)
# --------------------------------------------------------------------------------------------------

_CODE = r"[0-9A-Za-z]*[0-9][0-9A-Za-z]*"
_BRACKETED_CODE = re.compile(rf"[\[【(〔]\s*(?P<code>{_CODE})\s*[\]】)〕][\s\-—–_:|]*(?P<name>.*)", re.S)
_SEPARATED_CODE = re.compile(rf"(?P<code>{_CODE})(?:\s*[\-—–_:|]\s*|\s+)(?P<name>[^0-9\s].*)", re.S)
_MIN_CODE_LENGTH = 3


def normalise_code(value: object) -> str:
    """A code (单位编码, 项目编码) as text, the way it was meant to be typed.

    Numbers lose the float artefacts Excel and pandas add (435001.0 and 4.35001E5 → "435001"); text is
    NFKC-folded (full-width "４３５００１" → "435001"), loses all white space (codes never contain any,
    but a long code may wrap in its cell), a leading apostrophe and a trailing ".0". Letters keep
    their case. None gives "".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ValueError(f"编码不能是逻辑值：{value!r}")
    if isinstance(value, (int, float, Decimal)):
        return _number_code(value)
    text = re.sub(r"\s+", "", fold(clean_text(value))).lstrip("'")
    return re.sub(r"^([0-9]+)\.0+$", r"\1", text)


def _number_code(value: int | float | Decimal) -> str:
    """A code that arrived as a number: integral values without a decimal part."""
    if isinstance(value, float):
        return _float_text(value)
    number = Decimal(value)
    if number.is_finite() and number == number.to_integral_value():
        return str(int(number))
    return str(number)


def split_code_name(text: object) -> tuple[str, str]:
    """Split a code glued to a name: "[435001]巨鹿县行政审批局本级" → ("435001", "巨鹿县行政审批局本级").

    Understood forms: "[code]name" (also 【】, （）, 〔〕), "code-name" (also －, —, _, ：) and "code name".
    A code has at least three letters or digits and at least one digit; the name must not start with a
    digit, so "2024-2025年计划" is not split. Text that is only a code gives (code, ""); text without a
    code gives ("", text). The code goes through :func:`normalise_code`; the name is kept as typed.
    """
    shown = clean_text(text)
    folded = fold(shown)
    for pattern in (_BRACKETED_CODE, _SEPARATED_CODE):
        match = pattern.fullmatch(folded)
        if match and len(match.group("code")) >= _MIN_CODE_LENGTH:
            return normalise_code(match.group("code")), _name_part(shown, match.group("name"))
    if re.fullmatch(_CODE, folded) and len(folded) >= _MIN_CODE_LENGTH:
        return normalise_code(folded), ""
    return "", shown


def _name_part(shown: str, folded_name: str) -> str:
    """The name as typed: the tail of ``shown`` that corresponds to the folded name."""
    for start in range(len(shown)):
        if fold(shown[start:]) == folded_name:
            return shown[start:].strip()
    return folded_name.strip()
