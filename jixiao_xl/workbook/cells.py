"""Cells, sheets and defined names as the reader hands them out, whatever the file format: a cell address,
a sheet's values and merges, the workbook's names (each reference parsed when first looked up), A1 syntax."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class CellAddress:
    """A zero-based cell on a named sheet."""

    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        """The address in A1 notation (without the sheet)."""
        return col_letter(self.col) + str(self.row + 1)


@dataclass
class Sheet:
    """One sheet's values (a dense grid of Python values) and merged ranges."""

    name: str
    rows: list[list[object]]
    merges: list[tuple[int, int, int, int]]
    visible: bool = True
    _anchor: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict, repr=False)
    _shown_rows: dict[int, list[object]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for r1, c1, r2, c2 in self.merges:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        self._anchor[(r, c)] = (r1, c1)

    @property
    def height(self) -> int:
        """The number of rows."""
        return len(self.rows)

    def raw(self, row: int, col: int) -> object:
        """The value stored in a cell (None outside the used area)."""
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            value = self.rows[row][col]
            return None if value == "" else value
        return None

    def value(self, row: int, col: int) -> object:
        """The value shown in a cell: a covered cell of a merge shows its anchor's value."""
        anchor = self._anchor.get((row, col))
        if anchor is not None:
            row, col = anchor
        if 0 <= row < len(self.rows):  # raw(), inlined: this is called for every cell the reader reads
            cells = self.rows[row]
            if 0 <= col < len(cells):
                value = cells[col]
                return None if value == "" else value
        return None

    def shown_row(self, row: int) -> list[object]:
        """Every value shown along a row, as :meth:`value` gives it cell by cell (for reading a row whole)."""
        shown = self._shown_rows.get(row)
        if shown is None:
            cells = self.rows[row] if 0 <= row < len(self.rows) else []
            shown = [None if value == "" else value for value in cells]
            if self._anchor:
                for col in range(len(shown)):
                    if (row, col) in self._anchor:
                        shown[col] = self.value(row, col)
            self._shown_rows[row] = shown
        return shown

    def is_covered(self, row: int, col: int) -> bool:
        """True for a cell inside a merge that is not its top-left anchor."""
        return (row, col) in self._anchor

    def merge_end(self, row: int, col: int) -> tuple[int, int]:
        """The bottom-right cell of the merge anchored at (row, col), or the cell itself."""
        for r1, c1, r2, c2 in self.merges:
            if (r1, c1) == (row, col):
                return r2, c2
        return row, col

    def text(self, row: int, col: int) -> str:
        """The shown value as compact text (for matching labels)."""
        value = self.value(row, col)
        return "" if value is None else _SPACE.sub("", str(value))

    def find_text(self, text: str, rows: range | None = None) -> list[tuple[int, int]]:
        """Cells whose compacted text equals ``text`` (covered cells excluded)."""
        target = _SPACE.sub("", text)
        hits = []
        for r in rows if rows is not None else range(len(self.rows)):
            if r >= len(self.rows):
                break
            for c, value in enumerate(self.rows[r]):
                if value is None or value == "":
                    continue
                value = value if isinstance(value, str) else str(value)
                # Cheap tests first: dropping white space only shortens a text, and keeps its other characters.
                if len(value) >= len(target) and target[:1] in value and _SPACE.sub("", value) == target \
                        and not self.is_covered(r, c):
                    hits.append((r, c))
        return hits


Address = CellAddress | tuple[CellAddress, CellAddress]
_UNPARSED = object()


class DefinedNames(Mapping[str, "Address | None"]):
    """Workbook-scoped defined names, each reference parsed when it is first looked up.

    A generated workbook has ~730 names and a reader looks up only some of them, so the references are kept
    as text until then. A name whose reference is not a cell or a range (a formula, ``#REF!``) maps to None.
    """

    def __init__(self, references: dict[str, str] | None = None,
                 parse: Callable[[str], Address | None] | None = None) -> None:
        self._references = references or {}
        self._parse = parse or parse_reference
        self._parsed: dict[str, Address | None] = {}
        self._texts: set[str] | None = None
        self._cells: set[tuple[str, int, int]] | None = None
        self._joined: str | None = None

    def __getitem__(self, name: str) -> Address | None:
        # Most names are looked up once: a miss is the common case, so no KeyError is raised for it.
        address = self._parsed.get(name, _UNPARSED)
        if address is _UNPARSED:
            address = self._parsed[name] = self._parse(self._references[name])
        return address

    def get(self, name: str, default: Address | None = None) -> Address | None:
        """The address a name refers to; ``default`` when there is no such name (None when it is not a cell)."""
        return self[name] if name in self._references else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._references)

    def __len__(self) -> int:
        return len(self._references)

    def matching(self, pattern: str) -> list[str]:
        """The names a regular expression matches in full, found in one pass over all of them."""
        if self._joined is None:
            self._joined = "\n".join(self._references)
        found = (m.group() for m in re.finditer(f"^(?:{pattern})$", self._joined, re.MULTILINE))
        return [name for name in found if name in self._references]  # not a piece of a name holding a newline

    def named_columns(self, sheet: str, row: int, cols: Iterable[int]) -> set[int]:
        """The columns among ``cols`` whose cell in ``row`` some name refers to exactly."""
        if self._texts is None:
            self._texts = set(self._references.values())
        texts, number = self._texts, f"${row + 1}"
        quoted, plain = "'" + sheet.replace("'", "''") + "'!$", sheet + "!$"
        named = set()
        for col in cols:
            # Excel, LibreOffice and xlsxwriter spell a reference 'Sheet'!$C$11 (or Sheet!$C$11): look it up …
            letters = col_letter(col)
            if quoted + letters + number in texts or plain + letters + number in texts:
                named.add(col)
            elif (sheet, row, col) in self._cells_referred():  # … and parse every reference only for the others
                named.add(col)
        return named

    def _cells_referred(self) -> set[tuple[str, int, int]]:
        """(sheet, row, col) of every name that refers to one cell, parsed once."""
        if self._cells is None:
            self._cells = {(a.sheet, a.row, a.col) for a in self.values() if isinstance(a, CellAddress)}
        return self._cells


@cache
def col_letter(col: int) -> str:
    """Column letters of a zero-based column index."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def parse_a1(ref: str) -> tuple[int, int] | None:
    """Zero-based (row, col) of an A1 reference such as ``$B$4``; None when it is not one cell."""
    match = _REF.match(ref.strip())
    if not match:
        return None
    letters, digits = match.groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


_SIMPLE_REFERENCE = re.compile(r"^=?'((?:[^']|'')+)'!\$([A-Z]{1,3})\$(\d+)$")


def parse_reference(text: str) -> CellAddress | tuple[CellAddress, CellAddress] | None:
    """``'Sheet 1'!$B$4`` or ``Sheet!$A$10:$I$20`` → addresses; anything else (formulas, #REF!) → None."""
    simple = _SIMPLE_REFERENCE.match(text)
    if simple:  # the common case of a generated workbook: one quoted sheet, one absolute cell
        sheet, letters, digits = simple.groups()
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        return CellAddress(sheet.replace("''", "'"), int(digits) - 1, col - 1)
    text = text.strip().lstrip("=")
    if "!" not in text:
        return None
    sheet, _, ref = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    parts = ref.split(":")
    cells = [parse_a1(p) for p in parts]
    if any(c is None for c in cells) or len(cells) > 2:
        return None
    addresses = [CellAddress(sheet, r, c) for r, c in cells]
    return addresses[0] if len(addresses) == 1 else (addresses[0], addresses[1])
