"""Normalising what people type: numbers, money, operators, units, codes and dates.

Every parser keeps the raw text beside what it understood, so a finding can show both.

Public API:

* :func:`fold`, :func:`parse_number`, :func:`clean_text` — text and numbers in general;
* :func:`normalise_operator` and :func:`split_indicator_value` — 指标性质 / 指标值 / 度量单位 (domain.md §0.2,
  R-V1..R-V6), each note a :class:`Note` that carries its rule code;
* :func:`to_money_unit`, :func:`parse_money`, :func:`parse_percent` — 元 ↔ 万元 and percentages;
* :func:`normalise_code`, :func:`split_code_name` — 单位编码 / 项目编码 kept as text;
* :func:`parse_date` — dates, Excel serials (1900 and 1904 systems) and Chinese date text.

Numbers are always :class:`~decimal.Decimal`; user-facing notes and error messages are Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, Inexact, InvalidOperation, localcontext
from functools import lru_cache

from .taxonomy import OPERATOR_SYNONYMS, UNITS, canonical_unit

_THOUSANDS = re.compile(r"(?<=\d)[,，](?=\d{3}(?:\D|$))")
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


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
        if not _NUMBER.match(text):
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


# --------------------------------------------------------------------------------------------------
# Operators (指标性质)
# --------------------------------------------------------------------------------------------------

# Spellings seen in returns that taxonomy.OPERATOR_SYNONYMS does not list (yet).
_EXTRA_OPERATOR_SPELLINGS: dict[str, tuple[str, ...]] = {
    "≥": ("≮", "=>", "≥=", "及以上", "不得低于", "不得少于"),
    "≤": ("≯", "=<", "≤=", "及以下", "之内", "不得超过", "不得高于", "不超出"),
    "＜": ("不足",),
    "定性": ("定性指标",),
}
# Words that follow the number ("1000人次以上", "24小时内"), longest first.
_SUFFIX_OPERATORS: tuple[tuple[str, str], ...] = (
    ("及以上", "≥"), ("及以下", "≤"), ("以上", "≥"), ("以下", "≤"), ("以内", "≤"), ("之内", "≤"), ("内", "≤"),
)
# Verbs that only say "reaches": they mean ＝ alone but give way to 以上/以下 ("达到 2 年以上" is ≥).
_WEAK_PREFIXES = frozenset({"达到", "达"})


@lru_cache(maxsize=4096)
def _operator_key(text: str) -> str:
    """The lookup key of an operator spelling: NFKC-folded, without any white space."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def _build_operator_lookup() -> dict[str, str]:
    """Folded spelling → operator, from taxonomy.OPERATOR_SYNONYMS plus the local extras."""
    lookup: dict[str, str] = {}
    for table in (OPERATOR_SYNONYMS, _EXTRA_OPERATOR_SPELLINGS):
        for operator, spellings in table.items():
            for spelling in (operator, *spellings):
                lookup.setdefault(_operator_key(spelling), operator)
    return lookup


_OPERATOR_LOOKUP = _build_operator_lookup()
_SUFFIX_ONLY = frozenset(word for word, _ in _SUFFIX_OPERATORS)
# Spellings that may open a value ("≥30", "不低于95%", "控制在65万元以内"), longest first.
_PREFIX_OPERATORS: tuple[tuple[str, str], ...] = tuple(sorted(
    ((key, op) for key, op in _OPERATOR_LOOKUP.items() if key not in _SUFFIX_ONLY and op != "定性"),
    key=lambda item: (-len(item[0]), item[0]),
))
_PREFIX_FIRST_CHARACTERS = frozenset(key[0] for key, _ in _PREFIX_OPERATORS)


def normalise_operator(text: object) -> str | None:
    """The 指标性质 written in ``text`` as one of ``taxonomy.OPERATORS`` (≥ ＞ ＝ ＜ ≤ 定性).

    Symbols in any width and the usual words are understood: ">=", "＞＝", "≧", "不低于", "以上" → "≥";
    "<=", "不超过", "以内", "控制在" → "≤"; "=", "达到", "等于" → "＝"; ">", "大于", "高于" → "＞";
    "<", "小于", "低于" → "＜"; "定性" → "定性". A dropdown label such as "≥（大于等于）" works too.
    Blank or unknown text (including "定量", which names no operator) gives None.
    """
    if text is None:
        return None
    key = _operator_key(clean_text(text))
    if not key:
        return None
    found = _OPERATOR_LOOKUP.get(key)
    if found is not None:
        return found
    return _bracketed_operator(key)


def _bracketed_operator(key: str) -> str | None:
    """The operator of a label like "≥(大于等于)" when every part of it names the same one."""
    parts = [part for part in re.split(r"[()\[\]【】〔〕]", key) if part]
    if len(parts) < 2:
        return None
    found = {_OPERATOR_LOOKUP.get(part) for part in parts}
    if len(found) == 1 and None not in found:
        return found.pop()
    return None


# --------------------------------------------------------------------------------------------------
# Indicator values (指标值)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedValue:
    """An 指标值 split into operator, value and unit, with the Chinese notes a finding should show.

    ``raw`` is the text as given. ``value`` is a ``Decimal`` when the value is one number, the text
    (stripped, as typed) for 定性 values, dates, placeholders and cells with several targets, and None
    when blank. ``unit`` is canonical ("%", "万元", "人次"…) or "".
    """

    raw: str
    operator: str | None
    value: Decimal | str | None
    unit: str
    notes: tuple[Note, ...]


class Note(str):
    """A reading note: its Chinese text, carrying the code of the rule it belongs to (``note.code``).

    The text is the note for everyone who shows it — a Note is a ``str``, so the submission JSON, the ledger,
    the ``read`` output and the findings' messages hold exactly the text. The code is set where the note is
    made and is never worked out again from the wording. (A submission loaded back from the ledger has plain
    text notes: the rules run on what was just read.)
    """

    def __new__(cls, code: str, text: str) -> "Note":
        note = super().__new__(cls, text)
        note.__dict__["code"] = code
        return note

    code: str

    @property
    def text(self) -> str:
        """The note's text as a plain ``str``."""
        return str.__str__(self)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Note is immutable (cannot set {name!r})")

    def __reduce__(self):
        return Note, (self.code, self.text)

    def __repr__(self) -> str:
        return f"Note({self.code!r}, {self.text!r})"


# The notes split_indicator_value makes: (rule code, text template). R-S2 reports an unknown 指标性质 from the
# cell itself; the value rules R-V3..R-V6 report their notes.
_NOTE_PLACEHOLDER = ("R-V3", "指标值“{text}”是占位符，请填写实际的目标值")
_NOTE_MULTIPLE = ("R-V6", "一个指标值中填写了多个目标（“{text}”），请每个目标单列一个指标")
_NOTE_OPERATOR_EMBEDDED = ("R-V4", "指标值中含有符号“{operator}”，符号应在指标性质列填写，指标值只填数字")
_NOTE_OPERATOR_CONFLICT = ("R-V4", "指标值中的符号“{embedded}”与指标性质“{cell}”不一致")
_NOTE_OPERATOR_SELF_CONFLICT = ("R-V4", "指标值“{text}”中的符号前后矛盾（“{first}”与“{second}”），已按“{first}”读取")
_NOTE_OPERATOR_UNKNOWN = ("R-S2", "指标性质“{text}”无法识别，应为 ≥ ＞ ＝ ＜ ≤ 定性 之一")
_NOTE_UNIT_EMBEDDED = ("R-V4", "指标值中含有单位“{unit}”，单位应在度量单位列填写，指标值只填数字")
_NOTE_UNIT_CONFLICT = ("R-V5", "指标值中的单位“{embedded}”与度量单位“{cell}”不一致")
NOTE_CODES = frozenset(code for code, _ in (_NOTE_PLACEHOLDER, _NOTE_MULTIPLE, _NOTE_OPERATOR_EMBEDDED,
                                            _NOTE_OPERATOR_CONFLICT, _NOTE_OPERATOR_SELF_CONFLICT,
                                            _NOTE_OPERATOR_UNKNOWN, _NOTE_UNIT_EMBEDDED, _NOTE_UNIT_CONFLICT))


def _note(kind: tuple[str, str], **parts: str) -> Note:
    """The note of ``kind`` (one of the ``_NOTE_*`` pairs) with its parts filled in."""
    code, template = kind
    return Note(code, template.format(**parts))


# Units spelled in values that taxonomy.canonical_unit does not map (it NFKC-folds "m²" to "m2").
_EXTRA_UNITS = {"万": "万元", "m2": "平方米", "M2": "平方米", "m²": "平方米", "㎡": "平方米"}
# Characters that never occur in a unit but do in dates and approximations ("12月底前", "100余人").
_NOT_UNIT_CHARS = frozenset("底前后初末旬内左右余多约至止及含或和第")
_UNKNOWN_UNIT = re.compile(r"[A-Za-z\u4e00-\u9fff/·]{1,4}")
_LEADING_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_GROUPED_NUMBER = re.compile(r"(?<![0-9.])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])")
_PLACEHOLDER_ONLY = re.compile(r"[xX×*_\-—–~.?○…]+")
_PLACEHOLDER_MARK = re.compile(r"[*_]|[xX×]{2,}|-{2,}|—{2,}|○{2,}|\?{2,}")
_PREFIX_TARGET = re.compile(
    "(?:" + "|".join(re.escape(key) for key, _ in _PREFIX_OPERATORS) + r")[+-]?(?P<n>[0-9]+(?:\.[0-9]+)?)"
)
_SUFFIX_TARGET = re.compile(r"(?<![0-9.])(?P<n>[0-9]+(?:\.[0-9]+)?)[^0-9,;、]{0,6}?(?:以上|以下|以内)")


@dataclass(frozen=True)
class _Piece:
    """What the value cell says on its own, before the separate 指标性质/度量单位 cells are consulted."""

    operator: str | None
    value: Decimal | str | None
    unit: str
    notes: tuple[Note, ...] = ()


def split_indicator_value(text: object, operator_cell: object = "", unit_cell: object = "") -> ParsedValue:
    """Split an 指标值 such as "≥30 个" into operator "≥", value ``Decimal('30')`` and unit "个".

    Args:
        text: the 指标值 cell (normally text; numbers are accepted as they are).
        operator_cell: the separate 指标性质 cell, if the form has one.
        unit_cell: the separate 度量单位 cell, if the form has one.

    Returns:
        A :class:`ParsedValue`. The separate cells win over what is embedded in the value; every
        embedded operator or unit gives a note (R-V4), and one that disagrees with its cell says so
        (R-V4/R-V5). Placeholders ("XX", "**%") and several targets in one cell keep the value as text
        with a note (R-V3, R-V6); dates ("12月底前") and 定性 wording stay text without a note.
        Never raises: whatever cannot be understood comes back as text.
    """
    raw = text if isinstance(text, str) else clean_text(text)
    notes: list[Note] = []
    cell_operator = _cell_operator(operator_cell, notes)
    cell_unit = _unit_of(clean_text(unit_cell))
    piece = _read_value(text)
    notes.extend(piece.notes)
    operator = _merge_operator(piece.operator, cell_operator, notes)
    unit = _merge_unit(piece.unit, cell_unit, notes)
    return ParsedValue(raw, operator, piece.value, unit, tuple(notes))


def _cell_operator(operator_cell: object, notes: list[Note]) -> str | None:
    """The operator of the separate 指标性质 cell; a note when it is filled but not understood."""
    text = clean_text(operator_cell)
    if not text:
        return None
    operator = normalise_operator(text)
    if operator is None:
        notes.append(_note(_NOTE_OPERATOR_UNKNOWN, text=text))
    return operator


def _merge_operator(embedded: str | None, cell: str | None, notes: list[Note]) -> str | None:
    """Choose between the operator written in the value and the 指标性质 cell (the cell wins)."""
    if embedded is None:
        return cell
    if cell is not None and cell != embedded:
        notes.append(_note(_NOTE_OPERATOR_CONFLICT, embedded=embedded, cell=cell))
        return cell
    notes.append(_note(_NOTE_OPERATOR_EMBEDDED, operator=embedded))
    return embedded


def _merge_unit(embedded: str, cell: str, notes: list[Note]) -> str:
    """Choose between the unit written in the value and the 度量单位 cell (the cell wins)."""
    if not embedded:
        return cell
    if cell and cell != embedded:
        notes.append(_note(_NOTE_UNIT_CONFLICT, embedded=embedded, cell=cell))
        return cell
    notes.append(_note(_NOTE_UNIT_EMBEDDED, unit=embedded))
    return embedded


def _read_value(text: object) -> _Piece:
    """Read the value cell on its own: a number with its embedded operator and unit, or text."""
    if text is None:
        return _Piece(None, None, "")
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        try:
            return _Piece(None, parse_number(text), "")
        except ValueError:
            return _Piece(None, clean_text(text), "")
    shown = clean_text(text)
    if not shown:
        return _Piece(None, None, "")
    work = _compact_value(shown)
    if _count_targets(work) >= 2:
        return _Piece(None, shown, "", (_note(_NOTE_MULTIPLE, text=shown),))
    return _read_single(shown, work)


def _read_single(shown: str, work: str) -> _Piece:
    """Read a value that holds at most one target: "≥30个", "%=99", "达到2年以上", "XX", "优良"."""
    lead_unit = ""
    if work.startswith("%") and len(work) > 1:  # Gansu writes "%=99"
        lead_unit, work = "%", work[1:]
    prefix, weak, rest = _peel_prefix(work)
    if _is_placeholder(rest):
        return _placeholder_piece(shown, prefix, rest, lead_unit)
    quantity = _read_quantity(rest)
    if quantity is None:
        return _Piece(None, shown, "")
    number, suffix, unit = quantity
    notes: list[Note] = []
    operator = _combine_operators(prefix, weak, suffix, shown, notes)
    return _Piece(operator, number, unit or lead_unit, tuple(notes))


def _compact_value(text: str) -> str:
    """The value text NFKC-folded, without white space and thousands separators ("1,000" → "1000")."""
    for spelling in ("㎡", "m²", "M²"):
        text = text.replace(spelling, "平方米")
    folded = _SPACE.sub("", unicodedata.normalize("NFKC", text))
    return _GROUPED_NUMBER.sub(lambda m: m.group().replace(",", ""), folded)


def _count_targets(work: str) -> int:
    """How many distinct numbers carry an operator ("培训≥100人次,宣传≥50次" → 2)."""
    starts = {m.start("n") for m in _PREFIX_TARGET.finditer(work)}
    starts.update(m.start("n") for m in _SUFFIX_TARGET.finditer(work))
    return len(starts)


def _peel_prefix(work: str) -> tuple[str | None, bool, str]:
    """Remove a leading operator: (operator, whether it was only 达到/达, rest of the text).

    A weak verb may be followed by a real operator ("达到≥90%"); the later one is kept.
    """
    operator, weak = None, False
    for _ in range(2):
        if work[:1] not in _PREFIX_FIRST_CHARACTERS:  # most values start with a digit: no operator to peel
            break
        for key, found in _PREFIX_OPERATORS:
            if work.startswith(key):
                operator, weak, work = found, key in _WEAK_PREFIXES, work[len(key):]
                break
        if not weak:
            break
    return operator, weak, work


def _peel_suffix(tail: str) -> tuple[str | None, str]:
    """Remove a trailing 以上/以下/以内/内 (and an "(含)" before it): (operator, rest)."""
    for word, operator in _SUFFIX_OPERATORS:
        if tail.endswith(word):
            rest = tail[: -len(word)]
            return operator, rest.removesuffix("(含)")
    return None, tail


def _read_quantity(rest: str) -> tuple[Decimal, str | None, str] | None:
    """A leading number, a unit and a trailing operator word: (number, operator, unit), or None."""
    match = _LEADING_NUMBER.match(rest)
    if match is None:
        return None
    try:
        number = parse_number(match.group())
    except ValueError:  # pragma: no cover - the regex only lets plain decimals through
        return None
    if number is None:  # pragma: no cover - the regex needs at least one digit
        return None
    suffix, tail = _peel_suffix(rest[match.end():])
    if tail and not _is_unit_like(tail):
        return None
    return number, suffix, _unit_of(tail)


def _combine_operators(prefix: str | None, weak: bool, suffix: str | None, shown: str,
                       notes: list[Note]) -> str | None:
    """One operator from a leading and a trailing one; 达到/达 give way, real contradictions get a note."""
    if suffix is None:
        return prefix
    if prefix is None or weak or prefix == suffix:
        return suffix
    notes.append(_note(_NOTE_OPERATOR_SELF_CONFLICT, text=shown, first=prefix, second=suffix))
    return prefix


def _is_unit_like(tail: str) -> bool:
    """True when the text after a number is a unit (known or plausible), not a date or a phrase."""
    if tail in _EXTRA_UNITS or canonical_unit(tail) in UNITS:
        return True
    return bool(_UNKNOWN_UNIT.fullmatch(tail)) and not _NOT_UNIT_CHARS.intersection(tail)


@lru_cache(maxsize=4096)
def _unit_of(text: str) -> str:
    """The canonical unit of ``text`` ("％" → "%", "万" → "万元"); "" for blank."""
    text = text.strip()
    if text in _EXTRA_UNITS:
        return _EXTRA_UNITS[text]
    return canonical_unit(text)


def _is_placeholder(rest: str) -> bool:
    """True when the value is a placeholder left from a template ("XX", "**", "--", "___", "**月**日前")."""
    if not rest:
        return False
    return bool(_PLACEHOLDER_ONLY.fullmatch(rest) or _PLACEHOLDER_MARK.search(rest))


def _placeholder_piece(shown: str, prefix: str | None, rest: str, lead_unit: str) -> _Piece:
    """A placeholder value: kept as text, with the operator and unit around it when they are clear."""
    suffix, rest = _peel_suffix(rest)
    match = re.search(r"[^xX×*_\-—–~.?○…]+$", rest)
    unit = lead_unit
    if match and _is_unit_like(match.group()):
        unit = _unit_of(match.group())
    operator = suffix if prefix is None else prefix
    return _Piece(operator, shown, unit, (_note(_NOTE_PLACEHOLDER, text=shown),))


# --------------------------------------------------------------------------------------------------
# Money and percentages
# --------------------------------------------------------------------------------------------------

_MONEY_TEXT = re.compile(r"[¥]?(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?P<unit>万元|万|元)?整?")
_MONEY_UNIT_LABEL = re.compile(r"^(?:金额)?单位[:]")


@lru_cache(maxsize=256)
def _money_unit(text: object) -> str | None:
    """"万元" or "元" from a unit cell or label ("单位：万元", "金额单位:元", "万"); None when blank.

    Raises ``ValueError`` for any other unit (千元, 亿元, %…): converting them is not supported.
    """
    key = _MONEY_UNIT_LABEL.sub("", _operator_key(clean_text(text)))
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
    text = _compact_value(clean_text(value))
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


# --------------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------------

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
    if _NUMBER.match(folded):
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


def as_money(amount: Decimal | None) -> Decimal | None:
    """An amount with at least two decimals (9 → 9.00, 7.125 stays 7.125), as forms and masters show money."""
    if amount is None or amount.as_tuple().exponent <= -2 or not amount.is_finite():
        return amount
    return amount.quantize(Decimal("0.01"))
