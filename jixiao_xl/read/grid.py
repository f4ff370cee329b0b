"""The indicator grid of a form sheet: its header row, its footer row, a column per field, and its rows read
as indicators (whatever the grid's length)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .. import taxonomy, values
from ..meta import Meta
from ..model import Indicator
from ..submission import Location
from ..template import FormSpec
from ..unbound import SheetRead
from ..workbook import CellAddress, Sheet, col_letter
from .context import (P_FILLDOWN, P_NUMBER, P_ROWS, Context, Spot, canonical_level1, canonical_level2, canonical_unit,
                      note_formula, split_value)
from .locate import Locator


@dataclass
class Grid:
    """The indicator grid of one sheet: header row, footer row, and a column per field."""

    ctx: Context
    sheet: Sheet
    spec: FormSpec
    header_row: int
    footer_row: int | None
    columns: dict[str, int]
    found_by: str
    key: str
    meta: Meta
    unread: dict[tuple[int, int], str] = field(default_factory=dict)  # grid cells seen but not taken, and why
    issued: set[tuple[int, int]] = field(default_factory=set)  # grid cells not taken because still as issued

    @property
    def row_delta(self) -> int:
        """How many rows the grid grew (+) or shrank (−) against the template's single row."""
        if self.footer_row is None:
            return 0
        return self.footer_row - (self.spec.repeat_row + 1)

    @classmethod
    def locate(cls, ctx: Context, sheet: Sheet, spec: FormSpec, loc: Locator, key: str) -> "Grid":
        """Find the grid of ``sheet``: its header row, a column per field, and its footer row."""
        layout = _grid_layout(spec)
        header_row, found_by = _find_header(ctx, sheet, spec, key, layout.header_targets)
        columns = {part: _header_column(sheet, header_row, layout.header_targets.get(col, ""), col)
                   for part, col in layout.row_fields}
        footer_row = None
        if layout.footer_label:
            hits = sheet.find_text(layout.footer_label, range(header_row + 1, sheet.height))
            footer_row = hits[0][0] if hits else None
        return cls(ctx, sheet, spec, header_row, footer_row, columns, found_by, key, loc.meta)

    def rows(self) -> range:
        """The sheet rows between the header and the footer (to the sheet's end without a footer)."""
        end = self.footer_row if self.footer_row is not None else self.sheet.height
        return range(self.header_row + 1, end)

    def row_values(self, row: int) -> dict[str, tuple[object, str]]:
        """Each column's value and its text (values.clean_text) in one grid row."""
        shown, clean = self.sheet.shown_row(row), values.clean_text
        found = {}
        for part, col in self.columns.items():
            value = shown[col] if col < len(shown) else None
            found[part] = (value, clean(value))
        return found

    def cells(self, row: int, row_values: dict[str, tuple[object, str]]) -> dict[str, tuple[object, Location]]:
        """Each column's value and location in one grid row (``row_values`` from :meth:`row_values`)."""
        sheet, names, number = self.sheet.name, self.ctx.data.names, str(row + 1)
        # A cell with no name of its own (a row inserted into a named grid) is found between the header and
        # the footer by the header's labels: "label", whatever found the grid.
        unnamed = "label" if self.found_by == "name" else self.found_by
        named = names.named_columns(sheet, row, self.columns.values())
        return {part: (value, Location(sheet, col_letter(col) + number, "name" if col in named else unnamed, text))
                for (part, col), (value, text) in zip(self.columns.items(), row_values.values())}

    def read_indicators(self, locations: dict[str, Location], notes: dict[str, tuple[str, ...]]) -> tuple[Indicator, ...]:
        """Every grid row with content as an indicator; fills ``locations`` and ``notes`` by ``ind<k>.<part>``."""
        indicators: list[Indicator] = []
        previous: Indicator | None = None
        issued_rows = self._issued_rows()
        for row in self.rows():
            row_values = self.row_values(row)
            if not any(text for part, (_value, text) in row_values.items() if part not in ("level1", "level2")):
                self._levels_only(row, row_values)
                continue
            cells = self.cells(row, row_values)
            k = len(indicators)
            indicator, row_notes = self._indicator(cells, row, previous, k)
            for part, (_raw, location) in cells.items():
                locations[f"ind{k}.{part}"] = location
            for part, items in row_notes.items():
                notes[f"ind{k}.{part}"] = items
            indicators.append(indicator)
            previous = indicator
        if issued_rows is not None and len(self.rows()) != issued_rows:
            self.ctx.add(P_ROWS, f"指标区下发时有 {issued_rows} 行，现为 {len(self.rows())} 行（有插入或删除行），已全部读取。",
                         sheet=self.sheet.name, cell=f"A{self.header_row + 2}")
        return tuple(indicators)

    def _levels_only(self, row: int, row_values: dict[str, tuple[object, str]]) -> None:
        """A row with only 一级/二级: an untouched row of the issued skeleton, or else something typed that
        is no indicator (kept for the 其他填写内容 list)."""
        cells = [(row, self.columns[part]) for part in ("level1", "level2") if row_values.get(part, (None, ""))[1]]
        if not cells:
            return
        pair = tuple(taxonomy.compact(row_values.get(part, (None, ""))[1]) for part in ("level1", "level2"))
        if pair in _skeleton_pairs(row - self.header_row - 1):
            self.issued.update(cells)
            return
        for cell in cells:
            self.unread[cell] = "这一行只有一级/二级指标，没有三级指标，未作为指标读入；新增指标请填写三级指标名称、指标性质和指标值"

    def sheet_read(self, locations: dict[str, Location]) -> SheetRead:
        """What the scan for other content needs to know about this sheet once it has been read."""
        end = self.footer_row if self.footer_row is not None else self.sheet.height
        return SheetRead(self.sheet.name, self.spec, locations, (self.header_row, end, tuple(self.columns.values())),
                         self.unread, self.issued)

    def _issued_rows(self) -> int | None:
        """How many grid rows were issued, from _meta's field map or else from the surviving names."""
        count = self.meta.grid_rows(self.key)
        if not count:
            names = self.ctx.data.names
            count = sum(1 for name in names.matching(rf"JX_{re.escape(self.key.upper())}_[IR]\d+_NAME")
                        if isinstance(names[name], CellAddress))
        return count or None

    def _indicator(self, cells, row: int, previous: Indicator | None,
                   k: int) -> tuple[Indicator, dict[str, tuple[str, ...]]]:
        """One grid row as an Indicator, with the notes its value made (一级/二级 filled down from ``previous``)."""
        text = {part: location.raw for part, (_raw, location) in cells.items()}
        row_notes: dict[str, tuple[str, ...]] = {}
        for level in ("level1", "level2"):
            if not text.get(level) and previous is not None and any(text.get(p) for p in ("name", "value")):
                text[level] = getattr(previous, level)
                location = cells[level][1]
                self.ctx.add(P_FILLDOWN, f"{location.cell} 的{'一级' if level == 'level1' else '二级'}指标为空，已沿用上一行的“{text[level]}”。",
                             sheet=location.sheet, cell=location.cell, field="一级指标" if level == "level1" else "二级指标",
                             found_by=location.found_by)
        raw_value = cells["value"][0] if "value" in cells else None
        parsed = split_value(raw_value if raw_value is not None else "", text.get("operator", ""),
                             text.get("unit", ""))
        if parsed.notes:
            row_notes["value"] = parsed.notes
        operator = parsed.operator or values.normalise_operator(text.get("operator", "")) or text.get("operator", "")
        weight = None
        if text.get("weight"):
            try:
                weight = values.parse_number(cells["weight"][0])
            except ValueError:
                location = cells["weight"][1]
                self.ctx.add(P_NUMBER, f"权重“{location.raw}”不是数字。", sheet=location.sheet, cell=location.cell, field="权重",
                             value=location.raw, found_by=location.found_by)
        formulas = self.ctx.data.formulas(self.sheet.name)
        for part, col in self.columns.items() if formulas else ():
            if (row, col) in formulas:
                note_formula(self.ctx, self.sheet.name, Spot(row, col, cells[part][1].found_by), part)
        indicator = Indicator(
            level1=canonical_level1(text.get("level1", "")) if text.get("level1") else "",
            level2=canonical_level2(text.get("level2", "")) if text.get("level2") else "",
            name=text.get("name", ""), description=text.get("description", ""), operator=operator,
            value=parsed.value, unit=parsed.unit or canonical_unit(text.get("unit", "")),
            basis=text.get("basis", ""), weight=weight,
        )
        return indicator, row_notes


@lru_cache(maxsize=64)
def _skeleton_pairs(offset: int) -> frozenset[tuple[str, str]]:
    """The (一级, 二级) a grid row at ``offset`` holds in a form issued without indicators (fill's skeleton)."""
    pairs = set()
    for framework in taxonomy.FRAMEWORKS.values():
        flat = [(level1, level2) for level1, children in framework.items() for level2 in children]
        if 0 <= offset < len(flat):
            pairs.add(flat[offset])
    return frozenset(pairs)


@dataclass(frozen=True)
class GridLayout:
    """What the reader needs of a template's indicator grid, worked out once per template."""

    header_targets: dict[int, str]  # template column → its header label, compacted (taxonomy.compact)
    row_fields: tuple[tuple[str, int], ...]  # (part, template column) of each field of the repeating row
    footer_label: str  # the first static text below the grid (填表人)


_LAYOUTS: dict[int, tuple[FormSpec, GridLayout]] = {}


def _grid_layout(spec: FormSpec) -> GridLayout:
    """The template's grid layout, worked out once per spec object."""
    cached = _LAYOUTS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    labels = {c.col: c.text.strip() for c in spec.cells if c.row == spec.header_row and c.text}
    fields = tuple((cell.field.split(".", 1)[1] if cell.field.startswith(("ind.", "dind.")) else cell.field, cell.col)
                   for cell in spec.row_cells() if cell.field)
    layout = GridLayout({col: taxonomy.compact(text) for col, text in labels.items() if text}, fields,
                        _footer_label(spec))
    _LAYOUTS[id(spec)] = (spec, layout)
    return layout


def _find_header(ctx: Context, sheet: Sheet, spec: FormSpec, key: str, targets: dict[int, str]) -> tuple[int, str]:
    """(header row, how it was found): the grid's defined name, the row with most header labels, the template."""
    address = ctx.data.names.get(f"JX_{key.upper()}_GRID") if key.startswith("p") else ctx.data.names.get("JX_D_GRID")
    if isinstance(address, tuple) and address[0].sheet == sheet.name:
        return address[0].row, "name"
    wanted = set(targets.values())
    best, best_hits = None, 0
    for r in range(sheet.height):
        hits = sum(1 for c in range(len(sheet.rows[r])) if sheet.text(r, c) in wanted)
        if hits > best_hits:
            best, best_hits = r, hits
    if best is not None and best_hits >= max(2, len(wanted) // 2):
        return best, "label"
    return spec.header_row, "template"


def _header_column(sheet: Sheet, header_row: int, target: str, template_col: int) -> int:
    """The column whose header reads ``target``: the template's when it still does, else the first that does."""
    if not target:
        return template_col
    if sheet.text(header_row, template_col) == target:
        return template_col
    for c in range(len(sheet.rows[header_row]) if header_row < sheet.height else 0):
        if sheet.text(header_row, c) == target:
            return c
    return template_col


def _footer_label(spec: FormSpec) -> str:
    """The first static text below the template's grid row (填表人), which ends the grid."""
    below = sorted((c for c in spec.cells if c.row > spec.repeat_row and c.text and not c.is_placeholder),
                   key=lambda c: (c.row, c.col))
    return below[0].text.strip() if below else ""
