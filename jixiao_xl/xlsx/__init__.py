"""Every .xlsx the tool writes is written here: the one room that imports xlsxwriter.

- :func:`new_workbook` opens a stock xlsxwriter workbook that keeps text as text (the check reports,
  催报.xlsx);
- :mod:`.fastxlsx` gives the unit forms a workbook that writes the same bytes faster (:mod:`.formbook`,
  :mod:`.formsheet`, loaded only behind the version guard, with :mod:`.cells` and :mod:`.internals`);
- :mod:`.sheetwriter` lays a form out cell by cell and writes it once (merges, formats, row heights);
- :mod:`.tablesheet` streams the large tables of 汇总表.

Upgrading xlsxwriter touches this package alone: the private members the speed layer relies on are
named in the docstrings of :mod:`.formsheet`, :mod:`.formbook` and :mod:`.tablesheet`.
"""

from __future__ import annotations

import os

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

# Strings stay strings: xlsxwriter would otherwise write "=…" as a formula, "12" as a number, "http…" as a link.
TEXT_AS_TEXT = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


def new_workbook(target, **options) -> xlsxwriter.Workbook:
    """A stock xlsxwriter workbook writing to ``target`` (a path or a binary buffer).

    Strings are written as text (:data:`TEXT_AS_TEXT`) unless ``options`` say otherwise; the other
    ``options`` are xlsxwriter's workbook options (``constant_memory=True`` …).
    """
    filename = os.fspath(target) if isinstance(target, os.PathLike) else target
    return xlsxwriter.Workbook(filename, {**TEXT_AS_TEXT, **options})


def cell_name(row: int, col: int, absolute: bool = False) -> str:
    """The A1 name of a zero-based cell (``$B$4`` when ``absolute``)."""
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)
