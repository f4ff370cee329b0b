"""An xlsxwriter workbook that renders the unit forms faster and writes exactly what xlsxwriter writes.

Rendering a form workbook spends most of its time in xlsxwriter: formula preparation, the XML of data
validations and conditional formats that repeat on every sheet and in every unit, the cell-by-cell XML of
the sheet data, 700-odd defined names and the titles of parts in app.xml. :class:`FormWorkbook` and
:class:`FormWorksheet` (:mod:`.formbook`, :mod:`.formsheet`) replace those with memoized or batched
versions whose output is identical, member by member and byte by byte, to stock xlsxwriter's.

They override private members of xlsxwriter, so they load only behind a guard, at import time: the
installed xlsxwriter must be a version in :data:`TESTED_VERSIONS` and have every internal they use (each
fast module checks its own). Otherwise :data:`FAST_PATHS` is False, :class:`FormWorkbook` is
``xlsxwriter.Workbook`` itself and :func:`put_cells`/:func:`put_merged` use the public cell API — an
upgrade costs speed, never correctness, and never an ImportError. tests/test_fastxlsx.py renders forms
(and a workbook using the features the forms do not) both ways and compares every zip member, so a change
in those internals shows up there; it also loads this module under a fake other version.
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.worksheet import Worksheet  # public: xlsxwriter documents subclassing it

from .cells import BLANK, FORMULA, NUMBER, STRING, write_cell
from .internals import TESTED_VERSIONS, fast_paths_supported

__all__ = ["BLANK", "FORMULA", "NUMBER", "STRING", "FAST_PATHS", "TESTED_VERSIONS", "FormWorkbook", "FormWorksheet",
           "fast_paths_supported", "put_cells", "put_merged", "write_cell"]


def _load_fast_classes() -> tuple[type, type] | None:
    """The fast workbook and worksheet classes, or None when the installed xlsxwriter is not one they suit."""
    if not fast_paths_supported():
        return None
    try:
        from .formbook import FormWorkbook as workbook_class
        from .formsheet import FormWorksheet as worksheet_class
    except (ImportError, AttributeError):  # an internal moved or vanished in this xlsxwriter
        return None
    return workbook_class, worksheet_class


_FAST_CLASSES = _load_fast_classes()
FAST_PATHS = _FAST_CLASSES is not None  # whether FormWorkbook is the fast workbook or stock xlsxwriter's
FormWorkbook, FormWorksheet = _FAST_CLASSES or (xlsxwriter.Workbook, Worksheet)


def put_cells(worksheet, cells) -> None:
    """Write ``(row, col, kind, value, fmt, cached)`` cells to any xlsxwriter worksheet, in order.

    Fast on a fast :class:`FormWorksheet` (see :meth:`~.formsheet.FormWorksheet.put_cells`), through the
    public API otherwise.
    """
    if FAST_PATHS and isinstance(worksheet, FormWorksheet):
        worksheet.put_cells(cells)
    else:
        for cell in cells:
            write_cell(worksheet, *cell)


def put_merged(worksheet, first_row: int, first_col: int, last_row: int, last_col: int, fmt=None) -> None:
    """Merge a range of blanks with ``fmt`` on any xlsxwriter worksheet (``merge_range(..., "", fmt)``)."""
    if FAST_PATHS and isinstance(worksheet, FormWorksheet):
        worksheet.put_merged(first_row, first_col, last_row, last_col, fmt)
    else:
        worksheet.merge_range(first_row, first_col, last_row, last_col, "", fmt)
