"""Large tables written fast with xlsxwriter: whole rows of cells rendered at once.

xlsxwriter's cell API costs 3–4 µs a cell (argument checks, a cell tuple, then the XML, one cell at a
time). 汇总表 holds millions of cells at province size, so :class:`TableSheet` — an xlsxwriter worksheet,
created with ``workbook.add_worksheet(name, worksheet_class=TableSheet)`` in ``constant_memory`` mode —
renders a batch of rows as XML itself and appends it to the worksheet's row file, about six times faster.
The XML is what xlsxwriter writes for the same cells (the tests compare the two); headers, comments, panes,
filters, print setup and charts still go through xlsxwriter's own API.

It relies on a few internals of xlsxwriter's constant_memory mode: the row file (``fh``), ``previous_row``,
``_write_single_row``, the dimension check and a format's xf index; :class:`TableWorkbook` on
``_store_workbook`` and the ``ZipFile`` name in ``xlsxwriter.workbook``. They are used only behind a guard
decided at import time (:data:`FAST_PATHS`: a version in :data:`~.internals.TESTED_VERSIONS` with every
one of those members); otherwise :meth:`TableSheet.append_rows` writes through the public cell API and
:data:`TableWorkbook` is ``xlsxwriter.Workbook`` — slower, never wrong. tests/test_tablesheet.py compares
the XML with the cell API's, so a change in those internals shows up there.
"""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from functools import partial
from typing import Iterable, Sequence

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet  # public: xlsxwriter documents subclassing it

from ..safety import cut_utf16
from .internals import DATA_SPECIAL, fast_paths_supported, require_members, standing_in

MAX_TEXT = 32767  # Excel's limit, in UTF-16 code units
_ROWS_PER_WRITE = 1000
_CACHED_TEXTS = 20_000  # per column
_NUMBER_TYPES = frozenset({Decimal, int})  # bool, an int subclass, is text

_EXCEL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")


def _internals_present() -> bool:
    """True when this xlsxwriter is a tested version with every internal the fast paths use."""
    if not fast_paths_supported():
        return False
    try:
        from xlsxwriter import workbook as workbook_module
        from xlsxwriter.format import Format

        require_members(workbook_module, ("ZipFile",))
        require_members(xlsxwriter.Workbook, ("_store_workbook",))
        require_members(Worksheet, ("_write_single_row", "_check_dimensions"))
        require_members(Format, ("_get_xf_index",))
    except (ImportError, AttributeError):
        return False
    return True


FAST_PATHS = _internals_present()


def _truncate(text: str) -> str:
    """``text`` cut to Excel's limit of 32,767 UTF-16 code units (as xlsxwriter's write_string does)."""
    if len(text) <= MAX_TEXT // 2 or len(text.encode("utf-16-le", "surrogatepass")) <= 2 * MAX_TEXT:
        return text
    return cut_utf16(text, MAX_TEXT)


def _escaped(text: str) -> str:
    """Text as the body of an inline string: Excel's control-character escapes, then XML escapes."""
    text = _EXCEL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_element(text: str) -> str:
    """The ``<t>`` element of an inline string, whitespace-preserving when the text starts or ends with it."""
    text = _truncate(text)
    if DATA_SPECIAL.search(text):  # XML specials, control characters, Excel's _xHHHH_ escapes
        text = _escaped(text)
    if text[:1].isspace() or text[-1:].isspace():
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


class _Column:
    """Renders the cells of one column with one format."""

    __slots__ = ("_ref", "_blank", "_number", "_text", "_texts", "cell")

    def __init__(self, col: int, fmt, numeric: bool) -> None:
        style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
        self._ref = f'<c r="{xl_col_to_name(col)}'
        self._blank = f'"{style}/>' if fmt is not None else None  # an unformatted blank is not written at all
        self._number = f'"{style}><v>'
        self._text = f'"{style} t="inlineStr"><is>'
        self._texts: dict[str, str] = {}  # text → the rest of its cell: most texts repeat down a column
        self.cell = self._numeric_cell if numeric else self._text_cell

    def _numeric_cell(self, row_name: str, value: object) -> str:
        """The ``<c>`` element of ``value`` in row ``row_name``: a number when it is a Decimal or an int."""
        if type(value) in _NUMBER_TYPES:
            return f"{self._ref}{row_name}{self._number}{float(value):.16G}</v></c>"
        return self._text_cell(row_name, value)

    def _text_cell(self, row_name: str, value: object) -> str:
        """The ``<c>`` element of ``value`` in row ``row_name`` as text ("" for an unformatted blank)."""
        if value is None or value == "":
            return "" if self._blank is None else f"{self._ref}{row_name}{self._blank}"
        text = value if type(value) is str else str(value)
        rest = self._texts.get(text)
        if rest is None:
            if len(self._texts) >= _CACHED_TEXTS:
                self._texts.clear()
            rest = self._texts[text] = f"{self._text}{text_element(text)}</is></c>"
        return f"{self._ref}{row_name}{rest}"


class TableSheet(Worksheet):
    """An xlsxwriter worksheet that can append many rows of plain values at once (constant_memory only)."""

    def append_rows(self, first_row: int, rows: Iterable[Sequence[object]], formats: Sequence[object],
                    numeric: Sequence[bool]) -> int:
        """Write ``rows`` downwards from ``first_row``, each from column 0; returns the next free row.

        Every cell gets the format of its column (``formats``). A value is written as the cell API would
        write it: None and "" as a formatted blank, a Decimal or int in a ``numeric`` column as a number,
        anything else as text, never as a formula. Rows must come after everything written so far. Without
        :data:`FAST_PATHS` the cells go through the cell API, which does not check the mode or the order.
        """
        if not FAST_PATHS:
            return _append_with_cell_api(self, first_row, rows, formats, numeric)
        if not self.constant_memory:
            raise ValueError("TableSheet.append_rows needs a workbook in constant_memory mode")
        if self.dim_rowmin is not None:
            if first_row < self.previous_row or (first_row == self.previous_row and self.table.get(first_row)):
                raise ValueError(f"row {first_row} is not below the rows already written")
            self._write_single_row(first_row)  # the row xlsxwriter still holds, if any
        cells = [_Column(col, fmt, is_numeric).cell for col, (fmt, is_numeric) in enumerate(zip(formats, numeric))]
        row = first_row
        batch: list[str] = []
        for values in rows:
            if row >= self.xls_rowmax:
                raise ValueError(f"more rows than a worksheet holds ({self.xls_rowmax:,})")
            row_name = str(row + 1)
            xml = "".join([cell(row_name, value) for cell, value in zip(cells, values)])
            if xml:  # like xlsxwriter, no element for a row without cells
                batch.append(f'<row r="{row_name}">{xml}</row>')
            row += 1
            if len(batch) >= _ROWS_PER_WRITE:
                self.fh.write("".join(batch))
                batch.clear()
        self.fh.write("".join(batch))
        if row > first_row:
            self._check_dimensions(first_row, 0)
            self._check_dimensions(row - 1, len(cells) - 1)
            self.previous_row = row - 1
        return row


def _append_with_cell_api(ws: Worksheet, first_row: int, rows: Iterable[Sequence[object]], formats: Sequence[object],
                          numeric: Sequence[bool]) -> int:
    """:meth:`TableSheet.append_rows` through xlsxwriter's public cell API, for an xlsxwriter it was not tested with."""
    row = first_row
    for values in rows:
        for col, (value, fmt, is_numeric) in enumerate(zip(values, formats, numeric)):
            if value is None or value == "":
                ws.write_blank(row, col, None, fmt)
            elif is_numeric and type(value) in _NUMBER_TYPES:
                ws.write_number(row, col, float(value), fmt)
            else:
                ws.write_string(row, col, value if type(value) is str else str(value), fmt)
        row += 1
    return row


class _LightlyZippedWorkbook(xlsxwriter.Workbook):
    """A workbook of large tables, zipped at compression level 1 instead of zlib's default 6.

    汇总表 at province size is 80 MB of sheet XML: level 6 spends a quarter of the write compressing it,
    level 1 a third of that, for a file about a quarter larger (22 → 28 MB at 100,000 projects). The sheet
    XML itself is unchanged.
    """

    def _store_workbook(self) -> None:
        with standing_in(xlsxwriter.workbook, "ZipFile", partial(zipfile.ZipFile, compresslevel=1)):
            super()._store_workbook()


# The workbook for TableSheet tables: level-1 zip where the guard allows, else stock xlsxwriter.
TableWorkbook = _LightlyZippedWorkbook if FAST_PATHS else xlsxwriter.Workbook
