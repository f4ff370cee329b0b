"""Finding one field's cell on a form sheet: by its ``JX_`` name, the ``_meta`` field map, its label, or the
template's own position, in that order."""

from __future__ import annotations

from .. import taxonomy, values
from ..meta import Meta
from ..submission import Location
from ..template import FormSpec, defined_name
from ..workbook import CellAddress, Sheet, col_letter
from .context import Context, Spot


def code_right_of_label(sheet: Sheet, label: str) -> str:
    """The 项目编码 right of the code label near the top of a sheet ("" when there is none)."""
    for r, c in sheet.find_text(label, range(min(sheet.height, 12))):
        cell = right_of(sheet, r, c)
        if cell is not None:
            return values.normalise_code(sheet.value(*cell))
    return ""


def right_of(sheet: Sheet, row: int, col: int) -> tuple[int, int] | None:
    """The first cell right of a label (skipping the label's own merge)."""
    _, end_col = sheet.merge_end(row, col)
    return row, end_col + 1


class Locator:
    """Finds the cells of one form sheet (project or department) by name, _meta, label or template."""

    def __init__(self, ctx: Context, meta: Meta, spec: FormSpec, sheet: Sheet, name_prefix: str, meta_prefix: str):
        self.ctx, self.meta, self.spec, self.sheet = ctx, meta, spec, sheet
        self.name_prefix, self.meta_prefix = name_prefix, meta_prefix
        self.grid_shift = 0

    def by_name(self, path: str) -> Spot | None:
        """The cell of the field's ``JX_`` defined name, when it is on this sheet."""
        address = self.ctx.data.names.get(self.name_prefix + path.replace(".", "_").upper())
        if isinstance(address, CellAddress) and address.sheet == self.sheet.name:
            return Spot(address.row, address.col, "name")
        return None

    def by_meta(self, path: str, template_field: str) -> Spot | None:
        """The cell the ``_meta`` field map gives, when the template's label is still left of it."""
        cell = self.meta.cell(self.meta_prefix + path)
        if cell is None:
            return None
        label = self._template_label(template_field)
        if label and not self._label_left_matches(cell[0], cell[1], label):
            return None
        return Spot(cell[0], cell[1], "meta")

    def by_label(self, template_field: str) -> Spot | None:
        """The cell right of the field's label, the occurrence nearest the template's position."""
        label = self._template_label(template_field)
        if not label:
            return None
        row, col = self.spec.fields[template_field]
        hits = self.sheet.find_text(label)
        if not hits:
            return None
        # Prefer the occurrence nearest to where the template put it.
        r, c = min(hits, key=lambda h: (abs(h[0] - row - (self.grid_shift if row > self.spec.repeat_row else 0)),
                                        abs(h[1] - col)))
        right = right_of(self.sheet, r, c)
        return Spot(right[0], right[1], "label") if right else None

    def by_template(self, template_field: str) -> Spot | None:
        """The template's own position (shifted by the rows the grid grew above it)."""
        place = self.spec.fields.get(template_field)
        if place is None:
            return None
        row, col = place
        if row > self.spec.repeat_row:
            row += self.grid_shift
        return Spot(row, col, "template")

    def by_extra_name(self, key: str, path: str) -> Spot | None:
        """An extra field by its defined name (``JX_P01_EXTRA_U9879…``, see template.defined_name)."""
        address = self.ctx.data.names.get(defined_name(f"{key}.{path}"))
        if isinstance(address, CellAddress) and address.sheet == self.sheet.name:
            return Spot(address.row, address.col, "name")
        return None

    def find(self, path: str, template_field: str) -> Spot | None:
        """The cell of a field: by its name, else the _meta field map, its label, the template's position."""
        return (self.by_name(path) or self.by_meta(path, template_field) or self.by_label(template_field)
                or self.by_template(template_field))

    def _template_label(self, template_field: str) -> str:
        """The label the template puts left of a field ("" when it has none)."""
        place = self.spec.fields.get(template_field)
        return self.spec.label_left_of(*place) if place else ""

    def _label_left_matches(self, row: int, col: int, label: str) -> bool:
        """True when the first text left of (row, col) is ``label`` (NFKC-folded both sides)."""
        target = taxonomy.compact(label)
        for c in range(col - 1, -1, -1):
            text = self.sheet.text(row, c)
            if text:
                return taxonomy.compact(text) == target  # NFKC both sides: 其中：财政资金 vs 其中:财政资金
        return False

    def location(self, spot: Spot) -> Location:
        """The Location of a spot: sheet, A1 cell, how it was found and the cell's clean text."""
        raw = values.clean_text(self.sheet.value(spot.row, spot.col))
        return Location(self.sheet.name, col_letter(spot.col) + str(spot.row + 1), spot.found_by, raw)
