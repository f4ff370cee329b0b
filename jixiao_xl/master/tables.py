"""A master's sheets as read: every value the text the user typed, with its row and column (DESIGN §3).

:func:`read_tables` is what the check reads, so that each finding can point at its ``sheet!cell``; the
streaming loader (:mod:`.build`) uses the same header search and row filter without holding the tables.
"""

from __future__ import annotations

import dataclasses
import itertools
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from .format import COLUMNS, REQUIRED_SHEETS, MasterError, canonical_header, column_letter
from .sources import CellTexts, cell_text, open_source

_HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True, slots=True)
class Row:
    """One non-blank data row: its 1-based spreadsheet row number and its values by (canonical) header."""

    number: int
    values: Mapping[str, str]

    def get(self, header: str) -> str:
        """The text under ``header`` ('' when blank or when the column is missing)."""
        return self.values.get(header, "")


@dataclass(frozen=True)
class Table:
    """One sheet as read: canonical headers with their column letters, and the non-blank data rows."""

    sheet: str
    headers: tuple[str, ...]
    letters: Mapping[str, str]
    rows: tuple[Row, ...]
    header_row: int = 1
    raw_headers: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def has(self, header: str) -> bool:
        """True when the sheet has a column ``header``."""
        return header in self.letters

    def cell(self, row: Row, header: str) -> str:
        """The cell reference ('D5') of ``header`` in ``row``; '' when the column is missing."""
        letter = self.letters.get(header)
        return f"{letter}{row.number}" if letter else ""


@dataclass(frozen=True)
class Tables:
    """The raw tables of a master, by sheet name; sheets that are absent are simply not in ``sheets``."""

    source: str
    sheets: Mapping[str, Table]
    skipped: frozenset[str] = frozenset()  # sheets present but not read (``read_tables(only=...)``)

    def table(self, sheet: str) -> Table | None:
        """The table of ``sheet``, or None when the master has no such sheet (or it was not read)."""
        return self.sheets.get(sheet)

    def missing(self) -> tuple[str, ...]:
        """The required sheets that are absent."""
        return tuple(s for s in REQUIRED_SHEETS if s not in self.sheets and s not in self.skipped)


def read_tables(path: str | Path, *, require_sheets: bool = True, only: Iterable[str] | None = None) -> Tables:
    """Read the raw tables of a master from an .xlsx workbook, a folder of CSV files or a JSON file.

    Every value comes back as text as the user typed it (6.0 from Excel → '6'), blank rows are dropped,
    header synonyms are mapped to the master's headers. With ``only``, just those sheets are read (the
    others present are listed in :attr:`Tables.skipped`): at province scale the indicator grids are most
    of the memory. Raises :class:`MasterError` when the path cannot be read, or when a required sheet is
    missing and ``require_sheets`` is true.
    """
    path = Path(path)
    source = open_source(path)
    wanted = set(source.sheets if only is None else only)
    sheets = {name: read_table(name, source.rows(name), source.texts) for name in source.sheets if name in wanted}
    tables = Tables(source=str(path), sheets=sheets, skipped=frozenset(source.sheets) - frozenset(sheets))
    if require_sheets and tables.missing():
        raise MasterError(missing_sheets_message(path, tables.missing()))
    return tables


def missing_sheets_message(path: Path, missing: tuple[str, ...]) -> str:
    """What to tell the user when required sheets are missing."""
    return (
        f"主数据 {path} 缺少工作表：{'、'.join(missing)}；"
        "请按 jixiao-xl master init 生成的模板补齐（CSV 文件夹则补上同名 .csv 文件）。"
    )


def read_table(sheet: str, rows: Iterable[list], texts: CellTexts) -> Table:
    """One sheet's rows as a :class:`Table`: canonical headers with their letters, the non-blank rows as text."""
    header_index, layout, below = split_header(sheet, rows)
    headers = tuple(layout.columns)
    data = tuple(Row(number, dict(zip(headers, cells))) for number, cells in data_rows(layout, below, headers, texts))
    return Table(
        sheet=sheet,
        headers=headers,
        letters={name: column_letter(col) for name, col in layout.columns.items()},
        rows=data,
        header_row=header_index + 1,
        raw_headers=layout.raw_headers,
    )


@dataclass(frozen=True)
class _Layout:
    """The columns of a sheet: canonical header → 0-based column, and each header's text as written."""

    columns: dict[str, int]
    raw_headers: dict[str, str]


def _layout(sheet: str, header: list[str]) -> _Layout:
    columns: dict[str, int] = {}
    raw_headers: dict[str, str] = {}
    for col, text in enumerate(header):
        name = canonical_header(sheet, text)
        if name and name not in columns:
            columns[name] = col
            raw_headers[name] = text
    return _Layout(columns, raw_headers)


def split_header(sheet: str, rows: Iterable[list]) -> tuple[int, _Layout, Iterator[tuple[int, list]]]:
    """Find the header row of a sheet read as a stream.

    Row 1 by contract; a title row or two above the headers is tolerated: the first of the top
    ``_HEADER_SEARCH_ROWS`` rows with two known headers, else the first non-blank row. Gives the header's
    0-based index, its layout, and the rows below it as (0-based index, raw cells).
    """
    known = set(COLUMNS[sheet])
    need = min(2, len(known))
    rows = iter(rows)
    top: list[tuple[list, list[str]]] = []
    for raw in itertools.islice(rows, _HEADER_SEARCH_ROWS):
        texts = [cell_text(v) for v in raw]
        top.append((raw, texts))
        if sum(1 for text in texts if canonical_header(sheet, text) in known) >= need:
            return _header_at(sheet, len(top) - 1, top, rows)
    first = next((i for i, (_, texts) in enumerate(top) if any(texts)), None)
    if first is not None:
        return _header_at(sheet, first, top, rows)
    for index, raw in enumerate(rows, len(top)):
        texts = [cell_text(v) for v in raw]
        if any(texts):
            return index, _layout(sheet, texts), enumerate(rows, index + 1)
    # Nothing but blank rows: no headers and no data.
    return 0, _layout(sheet, top[0][1] if top else []), iter(())


def _header_at(sheet: str, index: int, top: list[tuple[list, list[str]]],
               rest: Iterator[list]) -> tuple[int, _Layout, Iterator[tuple[int, list]]]:
    below = [(i, raw) for i, (raw, _) in enumerate(top) if i > index]
    return index, _layout(sheet, top[index][1]), itertools.chain(below, enumerate(rest, len(top)))


def data_rows(layout: _Layout, rows: Iterable[tuple[int, list]], fields: tuple[str, ...],
              texts: CellTexts) -> Iterator[tuple[int, list[str]]]:
    """The non-blank data rows as (1-based row number, the texts under ``fields``).

    A row is blank when every named column is blank, whether or not it is one of ``fields``. A field
    the sheet lacks reads as ''.
    """
    columns = [layout.columns.get(field, -1) for field in fields]
    others = [col for name, col in layout.columns.items() if name not in fields]
    width = max(layout.columns.values(), default=-1) + 1
    pick = tuple_getter(operator.itemgetter, columns) if all(col >= 0 for col in columns) else None
    text_of = texts.__getitem__
    for index, raw in rows:
        if pick is not None and len(raw) >= width:
            values = pick(raw)
        else:
            values = [raw[col] if 0 <= col < len(raw) else "" for col in columns]
        cells = list(map(text_of, values))
        if any(cells) or any(cell_text(raw[col]) for col in others if col < len(raw)):
            yield index + 1, cells


def tuple_getter(make: Callable, keys: list) -> Callable[[Any], tuple]:
    """``make(*keys)`` (attrgetter or itemgetter), always giving a tuple, even for no key or one key."""
    if not keys:
        return lambda value: ()
    if len(keys) == 1:
        one = make(keys[0])
        return lambda value: (one(value),)
    return make(*keys)

