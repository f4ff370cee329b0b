"""What a compiled template is: :class:`FormSpec` and its cells, and the fields a template may bind.

A cell that holds exactly one placeholder (``{{ project.code }}``) is a *bound field*: it is written from the
data and read back from the return. One row of placeholders (``ind.*`` or ``dind.*``) is the repeating
indicator row; one cell of ``plan.*`` placeholders repeats to the right, once per 支出计划节点. The renderer
(fill.py) draws a form from a FormSpec and the reader (read.py) finds the fields again with it; neither needs
openpyxl, which only the compiler (:mod:`.compiler`) uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PROJECT_TEMPLATE = "项目支出绩效目标表.xlsx"
DEPARTMENT_TEMPLATE = "部门整体支出绩效目标表.xlsx"

COMMON_FIELDS = frozenset({
    "year", "money_unit", "department_name", "unit.code", "unit.name", "unit.contact", "unit.phone",
    "footer.filler", "footer.phone", "footer.date",
})
PROJECT_FIELDS = COMMON_FIELDS | {
    "project.code", "project.name", "project.budget", "project.fiscal", "project.other", "project.purpose",
    "project.annual_goal", "project.index", "check.funds", "check.plan", "check.order",
}
DEPARTMENT_FIELDS = COMMON_FIELDS | {
    "unit.budget", "unit.project_count", "unit.fiscal", "unit.other", "dept.overall_goal",
    "dept.measures",
}
INDICATOR_FIELDS = ("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight")
PROJECT_ROW_FIELDS = frozenset(f"ind.{name}" for name in INDICATOR_FIELDS)
DEPARTMENT_ROW_FIELDS = frozenset({"goal.seq", "goal.name", "goal.goal"} | {
    f"dind.{name}" for name in ("level1", "level2", "name", "operator", "value", "unit", "basis")})
PLAN_FIELDS = frozenset({"plan.node", "plan.amount", "plan.percent"})

# ``{{ extra.项目负责人 }}``: a field the master does not know, declared by the template (any name but
# white space, dots, braces and quotes).
_EXTRA = re.compile(r"^extra\.[^\s.{}'\"]+$")


@dataclass(frozen=True)
class Style:
    """The look of one cell, in terms both openpyxl and xlsxwriter understand."""

    font_name: str = "宋体"
    font_size: float = 10
    bold: bool = False
    italic: bool = False
    font_color: str = ""
    fill: str = ""
    align: str = ""
    valign: str = ""
    wrap: bool = False
    borders: tuple[int, int, int, int] = (0, 0, 0, 0)
    num_format: str = ""

    def as_format(self) -> dict:
        """The xlsxwriter format properties for this style."""
        props: dict = {"font_name": self.font_name, "font_size": self.font_size}
        if self.bold:
            props["bold"] = True
        if self.italic:
            props["italic"] = True
        if self.font_color:
            props["font_color"] = "#" + self.font_color
        if self.fill:
            props.update(pattern=1, bg_color="#" + self.fill)
        if self.align:
            props["align"] = self.align
        if self.valign:
            props["valign"] = "vcenter" if self.valign == "center" else self.valign
        if self.wrap:
            props["text_wrap"] = True
        for key, value in zip(("left", "right", "top", "bottom"), self.borders):
            if value:
                props[key] = value
        if self.num_format and self.num_format != "General":
            props["num_format"] = self.num_format
        return props


@dataclass(frozen=True)
class CellSpec:
    """A template cell: static text, a bound field (``field``) or mixed text with placeholders."""

    row: int
    col: int
    style: Style
    text: str = ""
    field: str = ""
    mixed: bool = False

    @property
    def is_placeholder(self) -> bool:
        """True when the cell is filled from data (bound or mixed)."""
        return bool(self.field) or self.mixed


@dataclass(frozen=True)
class PrintSetup:
    """Page setup copied from the template."""

    landscape: bool = True
    paper: int = 9
    fit_width: int = 1
    fit_height: int = 0
    repeat_rows: tuple[int, int] | None = (0, 1)
    margins: tuple[float, float, float, float] = (0.5, 0.5, 0.6, 0.6)
    center_horizontally: bool = True


@dataclass(frozen=True)
class FormSpec:
    """A compiled template: everything needed to draw a form and to find its fields again."""

    template_id: str
    version: str
    kind: str
    title: str
    cells: tuple[CellSpec, ...]
    merges: tuple[tuple[int, int, int, int], ...]
    col_widths: tuple[tuple[int, float], ...]
    row_heights: tuple[tuple[int, float], ...]
    print_setup: PrintSetup
    repeat_row: int
    plan_cell: tuple[int, int] | None = None
    plan_span: int = 0
    fields: dict = field(default_factory=dict)

    @property
    def header_row(self) -> int:
        """The indicator grid's header row (just above the repeating row)."""
        return self.repeat_row - 1

    @property
    def width(self) -> int:
        """How many columns the form uses."""
        return max(c.col for c in self.cells) + 1

    def row_cells(self) -> tuple[CellSpec, ...]:
        """The cells of the repeating row, left to right."""
        return tuple(sorted((c for c in self.cells if c.row == self.repeat_row), key=lambda c: c.col))

    def label_left_of(self, row: int, col: int) -> str:
        """The static label nearest to the left of a cell in the same row (the reader's label anchor)."""
        labels = [c for c in self.cells if c.row == row and c.col < col and c.text and not c.is_placeholder]
        return max(labels, key=lambda c: c.col).text.strip() if labels else ""


def field_positions(cells) -> dict[str, tuple[int, int]]:
    """Bound field → its (row, col) in the template (what :attr:`FormSpec.fields` holds)."""
    return {c.field: (c.row, c.col) for c in cells if c.field}


_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9]")


def defined_name(path: str) -> str:
    """The ``JX_`` defined name of a field path (``p01.budget`` → ``JX_P01_BUDGET``).

    Characters other than ASCII letters and digits become ``_``, except that a non-ASCII one (the 名称 of
    ``extra.项目负责人``) is spelled by its code point (``U9879``), so that two extra fields whose names
    have the same length never share a defined name.
    """
    return "JX_" + _NAME_UNSAFE.sub(lambda m: "_" if m.group() < "\x80" else f"U{ord(m.group()):X}", path).upper()


def is_extra(name: str) -> bool:
    """True for a field the template declares itself, ``extra.<名称>`` (one name, no dots or spaces)."""
    return _EXTRA.match(name) is not None
