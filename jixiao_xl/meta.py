"""The hidden ``_meta`` sheet of an issued workbook: its layout, its writer and its parser, in one place.

``generate`` (fill) writes it and ``read`` parses it; both go through this module, so the sheet name, the
row keys, the section headings and the column order are typed once. The sheet has three sections, each
under a bold heading row::

    项目              值                          ← identity: one key and its text per row (Identity's fields)
    template_id       project-default
    …
    (blank row)
    project           project_code   sheet         ← one row per project sheet: p01, its 项目编码, its sheet
    p01               1305…          1.光纤租赁…
    (blank row)
    field             cell                         ← the field map: a field path and its ``sheet!A1``
    p01.budget        1.光纤租赁…!B4
    p01.i*.value      1.光纤租赁…!F11:F20          ← a grid column: its k-th cell is grid row k

This module writes through the worksheet object it is handed (``write_string``, ``set_column``,
``protect``, ``very_hidden``) and parses the rows of values the reader gives it: it never imports xlsxwriter.
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass, fields
from functools import cached_property
from typing import Iterable, Iterator, Protocol, Sequence

from .workbook import col_letter, parse_a1

META_SHEET = "_meta"

# Section headings (column A, B, C of a heading row).
IDENTITY_HEADING = ("项目", "值")
PROJECTS_HEADING = ("project", "project_code", "sheet")
FIELDS_HEADING = ("field", "cell")
COLUMN_WIDTHS = (28, 40, 30)

# A grid row's field path: ``p01.i03.value`` (indicator row 3), ``d.r12.goal_seq`` (department grid row 12).
GRID_ROW_PATH = re.compile(r"^(.+\.[a-z])(\d+)\.([^.]+)$")


@dataclass(frozen=True)
class Identity:
    """The identity section: which unit, master and templates a workbook was made for, in row order.

    A workbook issued by an older version may lack some rows; those read back as "".
    """

    template_id: str = ""
    template_version: str = ""
    dept_template_id: str = ""
    dept_template_version: str = ""
    master_fingerprint: str = ""
    unit_code: str = ""
    unit_name: str = ""
    budget_year: str = ""
    money_unit: str = ""
    plan_nodes: str = ""  # the 支出计划 nodes, comma-separated
    generated_at: str = ""
    tool_version: str = ""

    def rows(self) -> list[tuple[str, str]]:
        """(key, text) of every identity row, in the order they are written."""
        return [(f.name, value) for f, value in zip(fields(self), astuple(self))]


IDENTITY_KEYS = tuple(f.name for f in fields(Identity))


@dataclass(frozen=True)
class Meta:
    """What the hidden ``_meta`` sheet says (empty when it is gone).

    ``values`` is the identity section as written (key → text), ``projects`` the (key, 项目编码, sheet) of
    each project sheet, ``fields`` the field map: a field path → ``sheet!A1``, and a grid column
    (``p01.i*.value``) → ``sheet!F11:F20``, the k-th cell of the range being grid row k (``p01.i03.value`` is
    its third cell). Workbooks issued before the compact field map list every grid cell on its own.
    """

    values: dict[str, str]
    projects: list[tuple[str, str, str]]
    fields: dict[str, str]

    @cached_property
    def identity(self) -> Identity:
        """The identity section with every known key ("" where the sheet does not have it)."""
        return Identity(**{key: self.values.get(key, "") for key in IDENTITY_KEYS})

    def cell(self, path: str) -> tuple[int, int] | None:
        """Zero-based (row, col) of a field path, scalar or grid row; None when the map does not have it."""
        ref = self.fields.get(path)
        if ref is not None:
            return parse_a1(ref.rpartition("!")[2]) if "!" in ref else None
        match = GRID_ROW_PATH.match(path)
        column = self.column(f"{match[1]}*.{match[3]}") if match else None
        if column is None:
            return None
        _sheet, first, last, col = column
        row = first + int(match[2]) - 1
        return (row, col) if row <= last else None

    def column(self, path: str) -> tuple[str, int, int, int] | None:
        """(sheet, first row, last row, col) of a grid column such as ``p01.i*.value``; None when not in the map."""
        ref = self.fields.get(path)
        if ref is None:
            return None
        sheet, _, cells = ref.rpartition("!")
        first, _, last = cells.partition(":")
        top, bottom = parse_a1(first), parse_a1(last or first)
        if top is None or bottom is None or top[1] != bottom[1] or bottom[0] < top[0]:
            return None
        return sheet, top[0], bottom[0], top[1]

    def grid_rows(self, key: str) -> int:
        """How many rows the grid of ``key`` (``p01``, ``d``) was issued with; 0 when the map does not say."""
        for path in (f"{key}.i*.name", f"{key}.r*.name"):
            column = self.column(path)
            if column is not None:
                return column[2] - column[1] + 1
        pattern = re.compile(rf"^{re.escape(key)}\.[ir]\d+\.name$")  # a workbook issued before the compact map
        return sum(1 for path in self.fields if pattern.match(path))

    def field_cells(self) -> dict[str, str]:
        """Every field path with its ``sheet!A1``, grid columns expanded row by row."""
        cells = {}
        for path, ref in self.fields.items():
            column = self.column(path) if "*" in path else None
            if column is None:
                cells[path] = ref
                continue
            sheet, first, last, col = column
            for k in range(1, last - first + 2):
                cells[path.replace("*", f"{k:02d}", 1)] = f"{sheet}!{col_letter(col)}{first + k}"
        return cells


EMPTY_META = Meta({}, [], {})


# ---------------------------------------------------------------------------------------------------------
# Writing


class Placed(Protocol):
    """A bound field as fill placed it: its path (``p01.budget``), sheet and zero-based cell."""

    path: str
    sheet: str
    row: int
    col: int


def field_map(placements: Iterable[Placed]) -> list[tuple[str, str]]:
    """The field map: (field path, ``sheet!cell``) for each scalar field, and one entry per grid column.

    A grid column is written as ``p01.i*.value`` → ``sheet!F11:F20``: the k-th cell of the range is row k
    (``p01.i01.value``, ``p01.i02.value`` …). The ``JX_`` name of a cell is derived from its path, so it is
    not repeated here.
    """
    groups: dict[str, list[Placed]] = {}
    for placement in placements:
        match = GRID_ROW_PATH.match(placement.path)
        groups.setdefault(f"{match[1]}*.{match[3]}" if match else placement.path, []).append(placement)
    rows: list[tuple[str, str]] = []
    for key, cells in groups.items():
        if "*" in key and _is_column(cells):
            first, last = cells[0], cells[-1]
            rows.append((key, f"{_ref(first)}:{col_letter(last.col)}{last.row + 1}"))
        else:  # a scalar field (or, should a grid ever not be one row per grid row, each of its cells)
            rows += [(p.path, _ref(p)) for p in cells]
    return rows


def _ref(placement: Placed) -> str:
    """``sheet!A1`` of a placed field."""
    return f"{placement.sheet}!{col_letter(placement.col)}{placement.row + 1}"


def _is_column(cells: list[Placed]) -> bool:
    """True when the cells are rows 1, 2, … of the grid, one under the other on one sheet and column."""
    first = cells[0]
    return all(p.sheet == first.sheet and p.col == first.col and p.row == first.row + k
               and int(GRID_ROW_PATH.match(p.path)[2]) == k + 1 for k, p in enumerate(cells))


@dataclass(frozen=True)
class MetaCell:
    """One cell of the ``_meta`` sheet: zero-based row and column, its text, and whether it is a heading."""

    row: int
    col: int
    text: str
    heading: bool = False


def meta_cells(identity: Identity, projects: Sequence[tuple[str, str]],
               field_refs: Iterable[tuple[str, str]]) -> Iterator[MetaCell]:
    """Every cell of the sheet: the identity, then (p01, 项目编码, sheet) per project in ``projects`` (each a
    (项目编码, sheet name) pair, numbered from p01), then the field map (from :func:`field_map`)."""
    yield from _heading(0, IDENTITY_HEADING)
    rows = identity.rows()
    for r, (key, value) in enumerate(rows, start=1):
        yield MetaCell(r, 0, key)
        yield MetaCell(r, 1, value)
    r = len(rows) + 2
    yield from _heading(r, PROJECTS_HEADING)
    for index, (code, sheet) in enumerate(projects, start=1):
        r += 1
        yield from _line(r, (f"p{index:02d}", code, sheet))
    r += 2
    yield from _heading(r, FIELDS_HEADING)
    for path, ref in field_refs:
        r += 1
        yield from _line(r, (path, ref))


def _heading(row: int, texts: Sequence[str]) -> Iterator[MetaCell]:
    """A section's heading row (written bold)."""
    return (MetaCell(row, col, text, True) for col, text in enumerate(texts))


def _line(row: int, texts: Sequence[str]) -> Iterator[MetaCell]:
    """One row of plain text cells from column A."""
    return (MetaCell(row, col, text) for col, text in enumerate(texts))


def write_meta(worksheet, cells: Iterable[MetaCell], heading_format, password: str) -> None:
    """Write the cells into ``worksheet`` (an xlsxwriter worksheet, or anything with its methods), set the
    column widths, protect it with ``password`` and make it very hidden."""
    for cell in cells:
        if cell.heading:
            worksheet.write_string(cell.row, cell.col, cell.text, heading_format)
        else:
            worksheet.write_string(cell.row, cell.col, cell.text)
    for col, width in enumerate(COLUMN_WIDTHS):
        worksheet.set_column(col, col, width)
    worksheet.protect(password)
    worksheet.very_hidden()


# ---------------------------------------------------------------------------------------------------------
# Reading


_SECTIONS = {PROJECTS_HEADING[0]: "project", FIELDS_HEADING[0]: "field"}
_SECTION_SECOND_HEADINGS = (PROJECTS_HEADING[1], FIELDS_HEADING[1])


def parse_meta(rows: Iterable[Sequence[object]]) -> Meta:
    """The Meta of a ``_meta`` sheet's rows of values (as the reader gives them: None for an empty cell)."""
    values, projects, field_refs, section = {}, [], {}, "values"
    for row in rows:
        a, b = _text(row, 0), _text(row, 1)
        if not a:
            continue
        if a in _SECTIONS and b in _SECTION_SECOND_HEADINGS:
            section = _SECTIONS[a]
        elif section == "values" and a != IDENTITY_HEADING[0]:
            values[a] = b
        elif section == "project":
            projects.append((a, b, _text(row, 2)))
        elif section == "field":
            field_refs[a] = b
    return Meta(values, projects, field_refs)


def _text(row: Sequence[object], col: int) -> str:
    # _meta is ours and holds only text, so plain str() (not clean_text) is enough and much cheaper.
    value = row[col] if col < len(row) else None
    return "" if value is None else str(value).strip()
