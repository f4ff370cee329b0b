"""Cells by kind — blank, string, number, formula — written through xlsxwriter's public cell API.

A cell to write is a ``(row, col, kind, value, fmt, cached)`` tuple: the renderers build lists of them,
:func:`~jixiao_xl.xlsx.fastxlsx.put_cells` stores them in bulk on a form worksheet and :func:`write_cell`
writes one on any worksheet.
"""

from __future__ import annotations

BLANK, STRING, NUMBER, FORMULA = "blank", "string", "number", "formula"


def write_cell(worksheet, row: int, col: int, kind: str, value, fmt=None, cached=None) -> None:
    """Write one cell of a kind (:data:`BLANK`, :data:`STRING`, :data:`NUMBER`, :data:`FORMULA`) with the public API."""
    if kind == BLANK:
        worksheet.write_blank(row, col, None, fmt)
    elif kind == STRING:
        worksheet.write_string(row, col, value, fmt)
    elif kind == NUMBER:
        worksheet.write_number(row, col, value, fmt)
    elif kind == FORMULA:
        worksheet.write_formula(row, col, value, fmt, cached)
    else:
        raise ValueError(f"unknown cell kind {kind!r}")
