"""Normalising what people type: numbers, money, operators, units, codes and dates.

Every parser keeps the raw text beside what it understood, so a finding can show both.

Public API:

* :func:`fold`, :func:`parse_number`, :func:`clean_text` — text and numbers in general (:mod:`.text`);
* :func:`normalise_operator` and :func:`split_indicator_value` — 指标性质 / 指标值 / 度量单位 (domain.md §0.2,
  R-V1..R-V6), each note a :class:`Note` that carries its rule code (:mod:`.indicator`);
* :func:`to_money_unit`, :func:`parse_money`, :func:`parse_percent`, :func:`as_money` — 元 ↔ 万元 and
  percentages (:mod:`.money`);
* :func:`normalise_code`, :func:`split_code_name` — 单位编码 / 项目编码 kept as text (:mod:`.text`);
* :func:`parse_date` — dates, Excel serials (1900 and 1904 systems) and Chinese date text (:mod:`.dates`).

Numbers are always :class:`~decimal.Decimal`; user-facing notes and error messages are Chinese.
"""

from .dates import parse_date
from .indicator import NOTE_CODES, Note, ParsedValue, normalise_operator, split_indicator_value
from .money import as_money, parse_money, parse_percent, to_money_unit
from .text import clean_text, fold, normalise_code, parse_number, split_code_name

__all__ = [
    "NOTE_CODES", "Note", "ParsedValue", "as_money", "clean_text", "fold", "normalise_code", "normalise_operator",
    "parse_date", "parse_money", "parse_number", "parse_percent", "split_code_name", "split_indicator_value",
    "to_money_unit",
]
