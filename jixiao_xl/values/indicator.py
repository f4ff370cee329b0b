"""指标性质 / 指标值 / 度量单位 (domain.md §0.2, R-V1..R-V6): operators in every spelling, and an 指标值 split
into operator, value and unit, with a :class:`Note` carrying its rule code for whatever a finding should say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from ..taxonomy import OPERATOR_SYNONYMS, UNITS, canonical_unit
from .text import clean_text, compact_value, fold_compact, parse_number

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


def _build_operator_lookup() -> dict[str, str]:
    """Folded spelling → operator, from taxonomy.OPERATOR_SYNONYMS plus the local extras."""
    lookup: dict[str, str] = {}
    for table in (OPERATOR_SYNONYMS, _EXTRA_OPERATOR_SPELLINGS):
        for operator, spellings in table.items():
            for spelling in (operator, *spellings):
                lookup.setdefault(fold_compact(spelling), operator)
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
    key = fold_compact(clean_text(text))
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
    work = compact_value(shown)
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
