"""A thin layer over an xlsxwriter worksheet: cells and merges collected first, then written once.

xlsxwriter wants a merged range written in one call with its value; forms are easier to lay out cell by
cell. :class:`SheetCanvas` lets the renderer place values anywhere, then :meth:`SheetCanvas.flush` writes
each merge with its anchor's value and every other cell as its type, so that user text is never taken
for a formula. On a :class:`~jixiao_xl.xlsx.fastxlsx.FormWorksheet` the cells are stored in bulk; on any other
worksheet they go through the cell API.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Iterable

from . import cell_name, fastxlsx


@dataclass(frozen=True)
class Formula:
    """A formula with the value Python computed for it (written as the cached result)."""

    text: str
    cached: object = ""


# A placed cell: its value and its format (a plain tuple: forms place thousands of cells).
Placed = tuple[object, object]


class FormatCache:
    """One xlsxwriter format per distinct property set (xlsxwriter formats belong to one workbook)."""

    def __init__(self, workbook) -> None:
        self._workbook = workbook
        self._formats: dict[tuple, object] = {}
        self._by_key: dict[object, object] = {}

    def get_keyed(self, key, make_props):
        """The format for a caller's hashable ``key``; ``make_props()`` builds its properties on first use.

        Cheaper than :meth:`get` for the thousands of cells that share a few styles.
        """
        fmt = self._by_key.get(key)
        if fmt is None:
            fmt = self._by_key[key] = self.get(make_props())
        return fmt

    def get(self, props: dict):
        """The format object for ``props``, created on first use."""
        key = tuple(sorted(props.items()))
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._workbook.add_format(dict(props))
            self._formats[key] = fmt
        return fmt


class SheetCanvas:
    """Collects cells and merges of one worksheet, then writes them."""

    def __init__(self, worksheet) -> None:
        self.worksheet = worksheet
        self._cells: dict[tuple[int, int], Placed] = {}
        self._merges: list[tuple[int, int, int, int]] = []

    def put(self, row: int, col: int, value: object, fmt=None) -> None:
        """Place a value (str, int, Decimal, Formula or None for a blank) with a format."""
        self._cells[(row, col)] = (value, fmt)

    def has(self, row: int, col: int) -> bool:
        """True when something was placed at the cell."""
        return (row, col) in self._cells

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        """Merge a range; its anchor (top-left) cell's value and format are used for the whole range."""
        if (first_row, first_col) != (last_row, last_col):
            self._merges.append((first_row, first_col, last_row, last_col))

    def fit_heights(self, first_row: int, last_row: int, widths: dict[int, float], line: float = 13.5) -> dict[int, float]:
        """Row heights (points) that show the wrapped text of rows ``first_row..last_row`` in full.

        A text spread over a vertical merge shares its height among the merged rows. Widths are in
        character units; a CJK character takes about two of them.
        """
        merges = [m for m in self._merges if m[0] <= last_row and m[2] >= first_row]  # the rest cannot matter
        spans = {(r1, c1): (r2, c2) for r1, c1, r2, c2 in merges}
        covered = {(r, c) for r1, c1, r2, c2 in merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                   if (r, c) != (r1, c1)}
        needed = {row: line + 1.5 for row in range(first_row, last_row + 1)}
        for (row, col), (value, _) in self._cells.items():
            if not isinstance(value, str) or not first_row <= row <= last_row or (row, col) in covered:
                continue
            r2, c2 = spans.get((row, col), (row, col))
            width = sum(widths.get(c, 8.43) for c in range(col, c2 + 1))
            lines = sum(max(1, -(-display_width(part) // max(int(width * 1.15), 1))) for part in value.split("\n"))
            per_row = (lines * line + 3) / (r2 - row + 1)
            for r in range(row, min(r2, last_row) + 1):
                needed[r] = max(needed[r], per_row)
        return needed

    def flush(self) -> None:
        """Write every merge and cell to the worksheet.

        Merges first, then their anchors in merge order and the other cells in row order: the order in
        which cell-by-cell writing would have added the texts to the shared-string table.
        """
        covered: set[tuple[int, int]] = set()
        cells = []
        for r1, c1, r2, c2 in self._merges:
            anchor = self._cells.get((r1, c1), _NOTHING)
            fastxlsx.put_merged(self.worksheet, r1, c1, r2, c2, anchor[1])
            cells.append(_cell(r1, c1, anchor))
            covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
        cells += [_cell(row, col, placed) for (row, col), placed in sorted(self._cells.items())
                  if (row, col) not in covered]
        fastxlsx.put_cells(self.worksheet, cells)


_NOTHING: Placed = (None, None)


def _cell(row: int, col: int, placed: Placed) -> tuple:
    """The ``(row, col, kind, value, fmt, cached)`` of a placed value for :func:`jixiao_xl.xlsx.fastxlsx.put_cells`.

    Text is always a string cell, never a formula; bools are 是/否; ints and Decimals are numbers.
    """
    value, fmt = placed
    if value is None or value == "":
        return row, col, fastxlsx.BLANK, None, fmt, None
    if isinstance(value, Formula):
        return row, col, fastxlsx.FORMULA, value.text, fmt, _cached(value.cached)
    if isinstance(value, bool):
        return row, col, fastxlsx.STRING, "是" if value else "否", fmt, None
    if isinstance(value, (int, Decimal)):
        return row, col, fastxlsx.NUMBER, float(value), fmt, None
    if isinstance(value, float):
        return row, col, fastxlsx.NUMBER, value, fmt, None
    return row, col, fastxlsx.STRING, str(value), fmt, None


def display_width(text: str) -> int:
    """Columns ``text`` takes in a cell or a terminal: wide and full-width characters count two."""
    if text.isascii():  # every ASCII character is narrow and none is combining
        return len(text)
    if len(text) > 200:  # long texts rarely repeat; keep them out of the cache
        return _display_width(text)
    return _short_display_width(text)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


# Labels and list texts repeat on every sheet of every unit.
_short_display_width = lru_cache(maxsize=8192)(_display_width)


def _cached(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return value


@lru_cache(maxsize=65536)
def cell_ref(row: int, col: int, absolute: bool = False) -> str:
    """A1 reference of a zero-based cell (``$B$4`` when ``absolute``).

    Cached: every workbook of a batch names the same few thousand cells.
    """
    return cell_name(row, col, absolute)


def quote_sheet(name: str) -> str:
    """A sheet name quoted for use in a formula or defined name."""
    return "'" + name.replace("'", "''") + "'"


def print_as_list(ws, header_rows: int = 1, landscape: bool = True) -> None:
    """Print setup for a table a person reads on paper: A4 (landscape by default), narrow margins, scaled
    to one page wide and as many pages tall as the rows need, the header row(s) repeated on every page.

    The columns of such a sheet are sized to fit the page at about 100 %, so fitting to the width never
    shrinks the text much; long texts wrap within their column instead of running off the page.
    """
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.fit_to_pages(1, 0)
    if header_rows:
        ws.repeat_rows(0, header_rows - 1)


def wrapped_row_height(texts: Iterable[str], widths: Iterable[float], line_height: float = 13.5) -> float:
    """The height (points) a row needs so that each text, wrapped within its column's width, shows whole.

    Neither xlsxwriter nor LibreOffice's converter sizes rows to wrapped text, and a row of the default
    height prints only the first line of a long message, the rest hidden under the next row. A column
    ``width`` characters wide holds about ``width - 1`` narrow characters a line (a CJK character takes two).
    """
    lines = 1
    for text, width in zip(texts, widths):
        usable = max(int(width) - 1, 1)
        needed = sum(max(1, -(-display_width(part) // usable)) for part in str(text).split("\n"))
        lines = max(lines, needed)
    return min(409.0, lines * line_height + 3)
