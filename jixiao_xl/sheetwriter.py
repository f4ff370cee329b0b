"""A thin layer over an xlsxwriter worksheet: cells and merges collected first, then written once.

xlsxwriter wants a merged range written in one call with its value; forms are easier to lay out cell by
cell. :class:`SheetCanvas` lets the renderer place values anywhere, then :meth:`SheetCanvas.flush` writes
each merge with its anchor's value and every other cell with the right method for its type, so that
user text is never taken for a formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xlsxwriter.utility import xl_rowcol_to_cell


@dataclass(frozen=True)
class Formula:
    """A formula with the value Python computed for it (written as the cached result)."""

    text: str
    cached: object = ""


@dataclass
class Placed:
    value: object
    fmt: object


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
        self._cells[(row, col)] = Placed(value, fmt)

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
        spans = {(r1, c1): (r2, c2) for r1, c1, r2, c2 in self._merges}
        covered = {(r, c) for r1, c1, r2, c2 in self._merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                   if (r, c) != (r1, c1)}
        needed = {row: line + 1.5 for row in range(first_row, last_row + 1)}
        for (row, col), placed in self._cells.items():
            if not first_row <= row <= last_row or (row, col) in covered or not isinstance(placed.value, str):
                continue
            r2, c2 = spans.get((row, col), (row, col))
            width = sum(widths.get(c, 8.43) for c in range(col, c2 + 1))
            lines = sum(max(1, -(-display_width(part) // max(int(width * 1.15), 1))) for part in placed.value.split("\n"))
            per_row = (lines * line + 3) / (r2 - row + 1)
            for r in range(row, min(r2, last_row) + 1):
                needed[r] = max(needed[r], per_row)
        return needed

    def flush(self) -> None:
        """Write every merge and cell to the worksheet."""
        covered: set[tuple[int, int]] = set()
        for r1, c1, r2, c2 in self._merges:
            anchor = self._cells.get((r1, c1), Placed(None, None))
            self.worksheet.merge_range(r1, c1, r2, c2, "", anchor.fmt)
            _write(self.worksheet, r1, c1, anchor.value, anchor.fmt)
            covered.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
        for (row, col), placed in sorted(self._cells.items()):
            if (row, col) not in covered:
                _write(self.worksheet, row, col, placed.value, placed.fmt)


def _write(ws, row: int, col: int, value: object, fmt) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, Formula):
        ws.write_formula(row, col, value.text, fmt, _cached(value.cached))
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    elif isinstance(value, float):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a cell or a terminal: wide and full-width characters count two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def _cached(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return value


def cell_ref(row: int, col: int, absolute: bool = False) -> str:
    """A1 reference of a zero-based cell (``$B$4`` when ``absolute``)."""
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def quote_sheet(name: str) -> str:
    """A sheet name quoted for use in a formula or defined name."""
    return "'" + name.replace("'", "''") + "'"
