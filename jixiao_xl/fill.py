"""Render one unit's workbook from compiled templates and the master, with xlsxwriter (DESIGN §5).

Anatomy: 填报说明, one sheet per project, 部门整体绩效目标, hidden ``_lists`` (dropdown sources) and
``_meta`` (identity and field map). Every bound cell gets a ``JX_`` defined name; inputs are unlocked
and shaded, everything else locked; sheets are protected; dropdowns and live checks are added in code.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Mapping

import jinja2

from . import __version__, taxonomy
from .errors import InputError
from .findings import SEVERITY_ZH, Finding
from .fastxlsx import FormWorkbook
from .measures import measures_text
from .meta import META_SHEET, Identity, field_map, meta_cells, write_meta
from .model import DeptGoal, DeptIndicator, Indicator, Master, Project, Unit
from .safety import FIXED_DOCUMENT_TIME, sheet_name, write_atomic
from .sheetwriter import (FormatCache, Formula, SheetCanvas, cell_ref, display_width, print_as_list, quote_sheet,
                          wrapped_row_height)
from .submission import GUIDE_SHEET, OTHER_CONTENT_SHEET, PROBLEMS_SHEET, OtherContent
from .template import INDICATOR_FIELDS, CellSpec, FormSpec, is_extra
from .template import defined_name as _defined_name
from .templateguard import ALLOWED_ZH, MAX_CELL_CHARS, cell_environment, cell_syntax, clip

DEFAULT_PASSWORD = "jixiao"
INPUT_FILL = "FFF2CC"
MARK_FILL = "FF9999"
LISTS_SHEET = "_lists"
DEPT_SHEET = "部门整体绩效目标"

PROJECT_INPUTS = frozenset({"project.purpose", "project.annual_goal", "plan.amount", "footer.filler", "footer.phone",
                            "footer.date"} | {f"ind.{n}" for n in INDICATOR_FIELDS})
DEPT_INPUTS = frozenset({"dept.overall_goal", "dept.measures", "goal.name", "goal.goal", "footer.filler", "footer.phone", "footer.date"}
                        | {f"dind.{n}" for n in ("level1", "level2", "name", "operator", "value", "unit", "basis")})
# Far above what any real workbook takes (well under a second): a bound, not a performance target.
RENDER_SECONDS_PER_WORKBOOK = 120.0


@lru_cache(maxsize=16384)
def defined_name(path: str) -> str:
    """The ``JX_`` defined name of a field path (``p01.budget`` → ``JX_P01_BUDGET``; see template.defined_name).

    Cached: every workbook of a batch binds the same few thousand paths.
    """
    return _defined_name(path)


@dataclass(frozen=True)
class Placement:
    """Where a bound field was written: its path (``p01.budget``), sheet, zero-based cell and name."""

    path: str
    sheet: str
    row: int
    col: int

    @property
    def name(self) -> str:
        """The workbook-scoped defined name of the cell (``JX_P01_BUDGET``)."""
        return defined_name(self.path)

    @property
    def ref(self) -> str:
        """``sheet!A1`` as stored in ``_meta``."""
        return f"{self.sheet}!{cell_ref(self.row, self.col)}"


@dataclass(frozen=True)
class RenderRequest:
    """Everything needed to render one unit's workbook."""

    master: Master
    unit: Unit
    project_spec: FormSpec
    dept_spec: FormSpec
    password: str = DEFAULT_PASSWORD
    generated_at: datetime = FIXED_DOCUMENT_TIME
    deadline: str = ""
    # (项目编码 or "" for the department sheet, Submission location path) -> message; see mark_key().
    marks: Mapping[tuple[str, str], str] = field(default_factory=dict)
    problems: tuple[Finding, ...] = ()
    # Keyed like ``marks``: what the unit returned in a field the master cannot say (填表人, an extra field,
    # a 支出计划 amount that is not a number), written instead of the master's value.
    returned: Mapping[tuple[str, str], object] = field(default_factory=dict)
    # What the unit typed where the form has no field: listed on a 其他填写内容 sheet.
    other_content: tuple[OtherContent, ...] = ()


def render_unit(request: RenderRequest, path: Path, durable: bool = True) -> bytes:
    """Write the unit's workbook atomically to ``path`` and return its bytes.

    ``durable=False`` skips the per-file fsync; the caller then flushes the whole batch once
    (:func:`jixiao_xl.safety.flush_to_disk`) before it records what it wrote.
    """
    payload = render_bytes(request)
    write_atomic(Path(path), payload, durable=durable)
    return payload


def render_bytes(request: RenderRequest) -> bytes:
    """The unit's workbook as bytes."""
    buffer = io.BytesIO()
    _render(request, buffer)
    return buffer.getvalue()


class RenderRefused(InputError):
    """A workbook that cannot be rendered within its budgets, or from a template cell that is not allowed."""


class RenderBudget:
    """The time one workbook may take to render, checked between cells and rows (see templateguard)."""

    def __init__(self, unit: Unit, seconds: float) -> None:
        self.unit = unit
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self, sheet: str) -> None:
        """Raise :class:`RenderRefused` once the workbook has taken longer than its budget."""
        if time.monotonic() >= self.deadline:
            raise RenderRefused(
                f"单位 {self.unit.code} {self.unit.name} 的工作簿生成超过 {self.seconds:g} 秒仍未完成（进行到工作表 {sheet}），"
                "已停止。请检查模板是否画得过大，以及主数据中该单位的项目和指标是否异常多。")


def sheet_names_for(projects: tuple[Project, ...]) -> list[str]:
    """Unique, valid (≤31 characters) sheet names derived from the projects, in order."""
    used = [GUIDE_SHEET, DEPT_SHEET, LISTS_SHEET, META_SHEET]
    names = []
    for index, project in enumerate(projects, start=1):
        name = sheet_name(f"{index}.{project.name or project.code}", used, fallback=f"{index}")
        used.append(name)
        names.append(name)
    return names


# ---------------------------------------------------------------------------------------------------------
# Workbook


def _render(request: RenderRequest, target: io.BytesIO) -> None:
    master, unit = request.master, request.unit
    projects = master.projects_of(unit.code)
    wb = FormWorkbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                               "strings_to_urls": False, "in_memory": True})
    formats = FormatCache(wb)
    _properties(wb, request)
    guide = wb.add_worksheet(GUIDE_SHEET)
    if request.problems:
        _write_problems(wb.add_worksheet(PROBLEMS_SHEET), request, formats)
    if request.other_content:
        _write_other_content(wb.add_worksheet(OTHER_CONTENT_SHEET), request, formats)
    sheet_names = sheet_names_for(projects)
    placements: list[Placement] = []
    budget_refs, grid_names = [], []
    budget = RenderBudget(unit, RENDER_SECONDS_PER_WORKBOOK)
    for index, (project, name) in enumerate(zip(projects, sheet_names), start=1):
        budget.check(name)
        ws = wb.add_worksheet(name)
        layout = ProjectSheet(request, project, index, ws, name, formats, budget)
        placements += layout.draw()
        budget_refs.append(layout.money_refs())
        grid_names.append(layout.grid_name())
    dept = DepartmentSheet(request, projects, budget_refs, wb.add_worksheet(DEPT_SHEET), formats, budget)
    placements += dept.draw()
    grid_names.append(dept.grid_name())
    _write_guide(guide, request, projects, sheet_names, formats)
    lists = _write_lists(wb, request.master.settings.framework, formats)
    lists.protect(request.password)
    for placement in placements:
        wb.define_name(placement.name, f"={quote_sheet(placement.sheet)}!{cell_ref(placement.row, placement.col, True)}")
    for name, reference in grid_names:
        wb.define_name(name, reference)
    _write_meta(wb, request, projects, sheet_names, placements, formats)
    wb.close()


def _properties(wb, request: RenderRequest) -> None:
    settings = request.master.settings
    wb.set_properties({
        "title": f"{settings.year}年度绩效目标表 {request.unit.name}",
        "author": "jixiao-xl",
        "company": settings.department_name,
        "comments": "由 jixiao-xl 生成，请在黄色单元格中填写",
        "created": request.generated_at,
    })
    wb.set_custom_property("jixiao_template", request.project_spec.template_id)
    wb.set_custom_property("jixiao_version", request.project_spec.version)
    wb.set_custom_property("jixiao_unit", request.unit.code)
    wb.set_custom_property("jixiao_master", request.master.fingerprint)


def _protect(ws, password: str) -> None:
    ws.protect(password, {
        "select_locked_cells": True, "select_unlocked_cells": True, "format_cells": False,
        "format_columns": True, "format_rows": True, "insert_rows": False, "delete_rows": False,
        "insert_columns": False, "delete_columns": False, "sort": False, "autofilter": False,
    })


def _print(ws, spec: FormSpec, last_col: int) -> None:
    setup = spec.print_setup
    if setup.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(setup.paper)
    ws.fit_to_pages(setup.fit_width, setup.fit_height)
    if setup.repeat_rows is not None:
        ws.repeat_rows(*setup.repeat_rows)
    left, right, top, bottom = setup.margins
    ws.set_margins(left=left, right=right, top=top, bottom=bottom)
    if setup.center_horizontally:
        ws.center_horizontally()


class _FormSheet:
    """What project and department sheets share: template cells, styles, row mapping, names."""

    inputs: frozenset[str] = frozenset()

    def __init__(self, request: RenderRequest, spec: FormSpec, ws, sheet: str, formats: FormatCache, rows: int,
                 budget: RenderBudget):
        self.request = request
        self.budget = budget
        self.spec = spec
        self.ws = ws
        self.sheet = sheet
        self.formats = formats
        self.rows = max(rows, 1)
        self.canvas = SheetCanvas(ws)
        self.placements: list[Placement] = []

    # Layout helpers
    def out_row(self, template_row: int) -> int:
        """Where a template row lands once the repeating row became ``self.rows`` rows."""
        return template_row if template_row <= self.spec.repeat_row else template_row + self.rows - 1

    @property
    def first_grid_row(self) -> int:
        return self.spec.repeat_row

    @property
    def last_grid_row(self) -> int:
        return self.spec.repeat_row + self.rows - 1

    def fmt(self, cell: CellSpec, is_input: bool = False, extra: dict | None = None):
        # Keyed by identity: the compiled template's styles live as long as the batch.
        key = (id(cell.style), is_input, tuple(extra.items()) if extra else ())
        return self.formats.get_keyed(key, lambda: _format_props(cell.style, is_input, extra))

    def place(self, path: str, row: int, col: int, value, cell: CellSpec, extra: dict | None = None,
              markable: bool = True) -> None:
        """Write a bound field and remember where it went; a marked field is filled red with a comment.

        ``markable`` is False for the covered rows of a vertical merge, where a comment would be lost.
        """
        extra = self.marked(path, row, col, extra) if markable else extra
        if self.request.returned and self.is_input(cell.field):
            value = self.request.returned.get(self.mark_key(path), value)
        self.canvas.put(row, col, value, self.fmt(cell, self.is_input(cell.field), extra))
        self.placements.append(Placement(path, self.sheet, row, col))

    def marked(self, path: str, row: int, col: int, extra: dict | None) -> dict | None:
        """``extra`` with the red fill, and the cell commented, when a problem is marked at ``path``."""
        mark = self.request.marks.get(self.mark_key(path)) if self.request.marks else None
        if mark is None:
            return extra
        self.ws.write_comment(row, col, mark, {"x_scale": 2.5, "y_scale": 2, "author": "jixiao-xl"})
        return {**(extra or {}), "bg_color": "#" + MARK_FILL, "pattern": 1}

    def is_input(self, field_path: str) -> bool:
        """True for a field the unit fills in: the sheet's inputs and every extra field of the template."""
        return field_path in self.inputs or is_extra(field_path)

    def static_cells(self, context: dict, skip=lambda cell: False) -> None:
        """Template cells outside the repeating row: labels, mixed text, and single-field cells via ``bind``."""
        for cell in self.spec.cells:
            if cell.row == self.spec.repeat_row or skip(cell):
                continue
            self.budget.check(self.sheet)
            row = self.out_row(cell.row)
            if cell.field:
                self.bind(cell, row, cell.col)
            elif cell.mixed:
                self.canvas.put(row, cell.col, self.mixed_text(cell, row, context), self.fmt(cell))
            else:
                self.canvas.put(row, cell.col, cell.text or None, self.fmt(cell))

    def mixed_text(self, cell: CellSpec, row: int, context: dict) -> str:
        """A mixed cell rendered in the sandbox, refused beyond Excel's cell limit or the time budget.

        The output is collected piece by piece, so a cell that would grow without bound stops at the limit.
        """
        from jinja2.exceptions import SecurityError

        size, pieces = 0, []
        try:
            for piece in _cell_template(cell.text).generate(**context):
                size += len(piece)
                if size > MAX_CELL_CHARS:
                    raise RenderRefused(
                        f"单位 {self.request.unit.code} 的工作表 {self.sheet} 单元格 {cell_ref(row, cell.col)} 按模板生成的文字"
                        f"超过 Excel 单元格上限 {MAX_CELL_CHARS} 个字符，已停止生成。请减少模板该单元格中的文字或占位符，"
                        "或检查主数据中对应字段是否过长。")
                self.budget.check(self.sheet)
                pieces.append(piece)
        except SecurityError as exc:
            raise _refused_cell(cell.text) from exc
        return "".join(pieces)

    def static_merges(self) -> None:
        """Template merges, shifted below the repeating row; merges inside the row repeat per row."""
        for r1, c1, r2, c2 in self.spec.merges:
            if r1 == r2 == self.spec.repeat_row:
                for k in range(self.rows):
                    self.canvas.merge(r1 + k, c1, r2 + k, c2)
            else:
                self.canvas.merge(self.out_row(r1), c1, self.out_row(r2), c2)

    def layout(self) -> None:
        spec = self.spec
        hidden = self.hidden_columns()
        for col, width in spec.col_widths:
            self.ws.set_column(col, col, width, None, {"hidden": True} if col in hidden else None)
        for row, height in spec.row_heights:
            if row != spec.repeat_row:
                self.ws.set_row(self.out_row(row), height)
        _print(self.ws, spec, spec.width - 1)
        self.ws.hide_gridlines(2)

    def finish(self) -> list[Placement]:
        widths = dict(self.spec.col_widths)
        for row, height in self.canvas.fit_heights(self.first_grid_row, self.last_grid_row, widths).items():
            self.ws.set_row(row, height)
        self.canvas.flush()
        _protect(self.ws, self.request.password)
        return self.placements

    def grid_name(self) -> tuple[str, str]:
        """The defined name spanning the grid from its header row to its last row (it grows with inserted rows)."""
        name = Placement(self.grid_path(), self.sheet, 0, 0).name
        first, last = cell_ref(self.spec.header_row, 0, True), cell_ref(self.last_grid_row, self.spec.width - 1, True)
        return name, f"={quote_sheet(self.sheet)}!{first}:{last}"

    def grid_path(self) -> str:
        raise NotImplementedError

    def mark_key(self, path: str) -> tuple[str, str]:
        """The key of :attr:`RenderRequest.marks` that concerns the field written at ``path``."""
        raise NotImplementedError

    def hidden_columns(self) -> set[int]:
        """Columns the form hides (the 权重 column when the batch does not use weights)."""
        return set()

    def bind(self, cell: CellSpec, row: int, col: int) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------------------
# Project sheet


class ProjectSheet(_FormSheet):
    """One 项目支出绩效目标表."""

    inputs = PROJECT_INPUTS

    def __init__(self, request: RenderRequest, project: Project, index: int, ws, sheet: str, formats: FormatCache,
                 budget: RenderBudget):
        self.project = project
        self.prefix = f"p{index:02d}"
        self.nodes = request.master.settings.plan_nodes
        self.grid = _grid_rows(project.indicators, request.master.settings)
        super().__init__(request, request.project_spec, ws, sheet, formats, len(self.grid), budget)
        if self.spec.plan_cell is not None and len(self.nodes) > self.spec.plan_span:
            raise InputError(f"支出计划节点有 {len(self.nodes)} 个，模板只留了 {self.spec.plan_span} 列；请减少节点或修改模板。")

    def draw(self) -> list[Placement]:
        settings, unit = self.request.master.settings, self.request.unit
        context = {"year": settings.year, "money_unit": settings.money_unit, "department_name": settings.department_name,
                   "unit": unit, "project": self.project}
        self.layout()
        self.static_cells(context, skip=self._inside_plan_span)
        self.static_merges()
        self._grid()
        self._validations()
        return self.finish()

    def grid_path(self) -> str:
        return f"{self.prefix}.grid"

    def mark_key(self, path: str) -> tuple[str, str]:
        _, rest = path.split(".", 1)
        head, _, tail = rest.partition(".")
        if head.startswith("plan") and head[4:].isdigit():
            return self.project.code, f"plan.{self.nodes[int(head[4:]) - 1]}"
        if head.startswith("i") and head[1:].isdigit():
            return self.project.code, f"ind{int(head[1:]) - 1}.{tail}"
        return self.project.code, rest

    def hidden_columns(self) -> set[int]:
        weight = self.spec.fields.get("ind.weight")
        return {weight[1]} if weight and not self.request.master.settings.uses_weights else set()

    def money_refs(self) -> dict[str, str]:
        """Absolute references of the budget cells, for the department sheet's totals."""
        refs = {}
        for name in ("budget", "fiscal", "other"):
            place = self.spec.fields.get(f"project.{name}")
            if place:
                refs[name] = f"{quote_sheet(self.sheet)}!{cell_ref(self.out_row(place[0]), place[1], True)}"
        return refs

    def _inside_plan_span(self, cell: CellSpec) -> bool:
        if self.spec.plan_cell is None:
            return False
        row, col = self.spec.plan_cell
        return cell.row in (row - 1, row, row + 1) and col < cell.col < col + self.spec.plan_span and not cell.text

    def _ref(self, field: str, absolute: bool = True) -> str:
        row, col = self.spec.fields[field]
        return cell_ref(self.out_row(row), col, absolute)

    def bind(self, cell: CellSpec, row: int, col: int) -> None:
        project, unit = self.project, self.request.unit
        name = cell.field
        if name.startswith("plan."):
            return self._plan(cell, row, col)
        if name.startswith("check."):
            return self.place(f"{self.prefix}.{name}", row, col, self._check(name.split(".")[1]), cell)
        values = {
            "project.code": project.code, "project.name": project.name, "project.budget": project.budget,
            "project.fiscal": project.fiscal, "project.other": project.other, "project.purpose": project.purpose,
            "project.annual_goal": project.annual_goal, "project.index": int(self.prefix[1:]),
            "footer.filler": unit.contact, "footer.phone": unit.phone, "footer.date": None,
            "year": self.request.master.settings.year, "money_unit": self.request.master.settings.money_unit,
            "department_name": self.request.master.settings.department_name, "unit.code": unit.code,
            "unit.name": unit.name, "unit.contact": unit.contact, "unit.phone": unit.phone,
        }
        path = f"{self.prefix}.{name.split('.', 1)[1]}" if name.startswith("project.") else f"{self.prefix}.{name}"
        self.place(path, row, col, values.get(name), cell)

    # Spending plan
    def _plan(self, cell: CellSpec, row: int, col: int) -> None:
        part = cell.field.split(".")[1]
        amount_row = self.out_row(self.spec.plan_cell[0])
        budget = self._ref("project.budget") if "project.budget" in self.spec.fields else None
        for k, node in enumerate(self.nodes):
            c = col + k
            path = f"{self.prefix}.plan{k + 1}.{part}"
            if part == "node":
                self.place(path, row, c, node, cell)
            elif part == "amount":
                self.place(path, row, c, self.project.plan_amount(node), cell)
            elif budget is not None:
                amount_ref = cell_ref(amount_row, c)
                formula = f'=IF(N({budget})=0,"",IF({amount_ref}="","",{amount_ref}/{budget}))'
                self.place(path, row, c, Formula(formula, self._percent(node)), cell)

    def _percent(self, node: str):
        amount, budget = self.project.plan_amount(node), self.project.budget
        if amount is None or not budget:
            return ""
        return amount / budget

    def _plan_refs(self) -> list[str]:
        row, col = self.spec.plan_cell
        return [cell_ref(self.out_row(row), col + k) for k in range(len(self.nodes))]

    # Live checks: formula text for the spreadsheet, cached value computed here
    def _check(self, kind: str) -> Formula:
        if kind == "funds":
            return self._check_funds()
        if kind == "plan":
            return self._check_plan_total()
        return self._check_plan_order()

    def _check_funds(self) -> Formula:
        b, f, o = (self._ref(f"project.{n}") for n in ("budget", "fiscal", "other"))
        formula = (f'=IF(ROUND(N({f})+N({o})-N({b}),2)=0,"✓ 财政资金+其他资金=预算数",'
                   f'"✗ 财政资金+其他资金与预算数相差"&TEXT(N({f})+N({o})-N({b}),"0.00"))')
        p = self.project
        diff = (p.fiscal or 0) + (p.other or 0) - (p.budget or 0)
        cached = "✓ 财政资金+其他资金=预算数" if diff == 0 else f"✗ 财政资金+其他资金与预算数相差{_money(diff)}"
        return Formula(formula, cached)

    def _check_plan_total(self) -> Formula:
        last = self._plan_refs()[-1]
        node = self.nodes[-1].replace('"', '""')  # a quote inside a formula's string literal is doubled
        b = self._ref("project.budget")
        formula = (f'=IF({last}="","✗ {node}累计支出计划未填写，应等于预算数"&TEXT({b},"0.00"),'
                   f'IF(ROUND({last}-{b},2)=0,"✓ {node}累计支出计划等于预算数",'
                   f'IF({last}<{b},"✗ {node}累计支出计划比预算数少"&TEXT({b}-{last},"0.00"),'
                   f'"✗ {node}累计支出计划超出预算数"&TEXT({last}-{b},"0.00"))))')
        return Formula(formula, plan_total_message(self.project, self.nodes[-1]))

    def _check_plan_order(self) -> Formula:
        refs = self._plan_refs()
        first_row, first_col = self.spec.plan_cell
        row = self.out_row(first_row)
        conditions = [f'AND({ref}<>"",{ref}<MAX({cell_ref(row, first_col)}:{cell_ref(row, first_col + k - 1)}))'
                      for k, ref in enumerate(refs) if k > 0]
        condition = f"OR({','.join(conditions)})" if conditions else "FALSE"
        formula = f'=IF({condition},"✗ 累计支出计划出现减少，请检查各节点","✓ 累计支出计划逐步增加")'
        return Formula(formula, plan_order_message(self.project))

    # Indicator grid
    def _grid(self) -> None:
        cells = self.spec.row_cells()
        for k, indicator in enumerate(self.grid):
            self.budget.check(self.sheet)
            row = self.first_grid_row + k
            for cell in cells:
                if cell.field:
                    part = cell.field.split(".", 1)[1]
                    value = _indicator_value(indicator, part) if indicator is not None else None
                    self.place(f"{self.prefix}.i{k + 1:02d}.{part}", row, cell.col, value, cell)
                else:
                    self.canvas.put(row, cell.col, cell.text or None, self.fmt(cell))
        self.level1_runs: list[tuple[int, int]] = []
        for level in ("ind.level1", "ind.level2"):
            if level in self.spec.fields:
                runs = self._merge_runs(self.spec.fields[level][1], level.split(".")[1])
                if level == "ind.level1":
                    self.level1_runs = runs

    def _merge_runs(self, col: int, part: str) -> list[tuple[int, int]]:
        """Merge consecutive pre-filled rows with the same 一级 (or 一级+二级), as on the printed form.

        Returns the merged runs as (first, last) grid offsets.
        """
        def key(indicator):
            if indicator is None or not getattr(indicator, part):
                return None
            return (indicator.level1,) if part == "level1" else (indicator.level1, indicator.level2)

        runs, start = [], 0
        for k in range(1, len(self.grid) + 1):
            if k == len(self.grid) or key(self.grid[k]) != key(self.grid[start]) or key(self.grid[start]) is None:
                if k - start > 1 and key(self.grid[start]) is not None:
                    self.canvas.merge(self.first_grid_row + start, col, self.first_grid_row + k - 1, col)
                    runs.append((start, k - 1))
                start = k
        return runs

    def _level2_validations(self, col: int, parent_col: int) -> None:
        """二级 lists follow the 一级 of their row; rows under a merged 一级 look at the merge's anchor cell."""
        segments, k = [], 0
        runs = {first: last for first, last in self.level1_runs}
        while k < len(self.grid):
            if k in runs:
                segments.append((k, runs[k], cell_ref(self.first_grid_row + k, parent_col, True)))
                k = runs[k] + 1
            else:
                end = k
                while end + 1 < len(self.grid) and end + 1 not in runs:
                    end += 1
                segments.append((k, end, "$" + cell_ref(self.first_grid_row + k, parent_col)))
                k = end + 1
        for first, last, parent in segments:
            source = f"=INDIRECT(VLOOKUP({parent},JXL_L2MAP,2,FALSE))"
            self.ws.data_validation(self.first_grid_row + first, col, self.first_grid_row + last, col,
                                    _list_dv(source, "二级指标", "先选一级指标，再从下拉列表选择其下的二级指标。"))

    def _validations(self) -> None:
        first, last = self.first_grid_row, self.last_grid_row
        fields = self.spec.fields
        if "ind.level1" in fields:
            col = fields["ind.level1"][1]
            self.ws.data_validation(first, col, last, col, _list_dv("=JXL_LEVEL1", "一级指标", "请从下拉列表选择一级指标。"))
        if "ind.level2" in fields and "ind.level1" in fields:
            self._level2_validations(fields["ind.level2"][1], fields["ind.level1"][1])
        if "ind.operator" in fields:
            col = fields["ind.operator"][1]
            self.ws.data_validation(first, col, last, col, _list_dv(
                "=JXL_OPERATORS", "指标性质", "≥ ＞ 越大越好；≤ ＜ 越小越好（如故障率、成本）；＝ 等于；定性指标选“定性”。"))
        if "ind.unit" in fields:
            col = fields["ind.unit"][1]
            self.ws.data_validation(first, col, last, col, _list_dv(
                "=JXL_UNITS", "度量单位", "从列表选择；列表中没有的单位可以直接输入。定性指标不填单位。", warning=True))
        if "ind.basis" in fields:
            col = fields["ind.basis"][1]
            self.ws.data_validation(first, col, last, col, _list_dv(
                "=JXL_BASES", "指标值确定依据", "计划标准/历史标准/行业标准/预算支出标准/其他标准，也可直接填写文件名称。", warning=True))
        if "ind.value" in fields:
            col = fields["ind.value"][1]
            self.ws.data_validation(first, col, last, col, {
                "validate": "any", "input_title": "指标值",
                "input_message": "定量指标只填数字（如 95），符号和单位分别填在“指标性质”和“度量单位”列；定性指标填文字。"})
        if "ind.weight" in fields and self.request.master.settings.uses_weights:
            col = fields["ind.weight"][1]
            self.ws.data_validation(first, col, last, col, {
                "validate": "decimal", "criteria": ">", "value": 0, "input_title": "权重",
                "input_message": f"每个三级指标的权重大于 0，全部合计为 {self.request.master.settings.weight_total}。",
                "error_title": "权重", "error_message": "权重应为大于 0 的数字。"})
        self._plan_validations()
        self._conditional_formats()

    def _plan_validations(self) -> None:
        if self.spec.plan_cell is None:
            return
        row, col = self.spec.plan_cell
        row = self.out_row(row)
        unit = self.request.master.settings.money_unit
        budget = self.project.budget or Decimal(0)
        for k, node in enumerate(self.nodes):
            self.ws.data_validation(row, col + k, row, col + k, {
                "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": float(budget),
                "input_title": f"{node}累计支出计划",
                "input_message": f"填写截至{node}累计计划支出金额（{unit}），0 到预算数 {_money(budget)} 之间，"
                                 f"各节点逐步增加，最后一个节点等于预算数。",
                "error_title": "金额不对", "error_message": f"请填写 0 到 {_money(budget)} 之间的数字（{unit}）。",
            })

    def _conditional_formats(self) -> None:
        red = self.formats.get({"font_color": "#C00000", "bg_color": "#FFC7CE", "pattern": 1})
        green = self.formats.get({"font_color": "#006100", "bg_color": "#C6EFCE", "pattern": 1})
        for name in ("check.funds", "check.plan", "check.order"):
            if name in self.spec.fields:
                ref = self._ref(name)
                for prefix, fmt in (("✗", red), ("✓", green)):
                    self.ws.conditional_format(ref, {"type": "formula", "criteria": f'=LEFT({ref},1)="{prefix}"', "format": fmt})
        if self.spec.plan_cell is not None and "project.budget" in self.spec.fields:
            last = self._plan_refs()[-1]
            criteria = f'=OR({last}="",ROUND(N({last})-N({self._ref("project.budget")}),2)<>0)'
            self.ws.conditional_format(last, {"type": "formula", "criteria": criteria, "format": red})


def _format_props(style, is_input: bool, extra: dict | None) -> dict:
    props = style.as_format()
    if is_input:
        props["locked"] = False
        props.setdefault("bg_color", "#" + INPUT_FILL)
        props.setdefault("pattern", 1)
    if extra:
        props.update(extra)
    return props


def _grid_rows(indicators: tuple[Indicator, ...], settings) -> list[Indicator | None]:
    """Pre-filled rows, or one skeleton row per 二级 of the framework; then the spare rows."""
    rows: list[Indicator | None] = [taxonomy.with_standard_levels(indicator) for indicator in indicators]
    if not rows:
        framework = taxonomy.FRAMEWORKS.get(settings.framework, taxonomy.FRAMEWORKS["2015"])
        rows = [Indicator(level1=l1, level2=l2, name="") for l1, children in framework.items() for l2 in children]
    return rows + [None] * settings.spare_rows


def _indicator_value(indicator, part: str):
    return getattr(indicator, part, None)


def _list_dv(source: str, title: str, message: str, warning: bool = False) -> dict:
    dv = {"validate": "list", "source": source, "input_title": title, "input_message": message,
          "error_title": title, "error_message": "请从下拉列表中选择。" if not warning else "该值不在推荐列表中，确认要使用吗？"}
    if warning:
        dv["error_type"] = "warning"
    return dv


def _money(amount) -> str:
    return f"{Decimal(amount).quantize(Decimal('0.01'))}"


def plan_total_message(project: Project, node: str) -> str:
    """The text the 支出计划 total check shows (same wording as the sheet formula)."""
    last, budget = project.plan_amount(node), project.budget or Decimal(0)
    if last is None:
        return f"✗ {node}累计支出计划未填写，应等于预算数{_money(budget)}"
    if last == budget:
        return f"✓ {node}累计支出计划等于预算数"
    if last < budget:
        return f"✗ {node}累计支出计划比预算数少{_money(budget - last)}"
    return f"✗ {node}累计支出计划超出预算数{_money(last - budget)}"


def plan_order_message(project: Project) -> str:
    """The text the 支出计划 order check shows."""
    highest = None
    for point in project.plan:
        if point.amount is None:
            continue
        if highest is not None and point.amount < highest:
            return "✗ 累计支出计划出现减少，请检查各节点"
        highest = point.amount if highest is None else max(highest, point.amount)
    return "✓ 累计支出计划逐步增加"


# ---------------------------------------------------------------------------------------------------------
# Department sheet


class DepartmentSheet(_FormSheet):
    """The 部门整体绩效目标 sheet: totals, 总体绩效目标 and the 分项绩效目标 with their indicators."""

    inputs = DEPT_INPUTS

    def __init__(self, request: RenderRequest, projects, budget_refs, ws, formats: FormatCache, budget: RenderBudget):
        master = request.master
        self.projects = projects
        self.budget_refs = budget_refs
        self.goals = [g for g in master.goals_of(request.unit.code) if g.seq != 0]
        overall = [g for g in master.goals_of(request.unit.code) if g.seq == 0]
        self.overall = overall[0].goal if overall else ""
        self.measures = measures_text(master.measures_of(request.unit.code))
        self.indicators = tuple(map(taxonomy.with_standard_levels, master.dept_indicators_of(request.unit.code)))
        self.grid = self._grid_rows(master.settings.spare_rows)
        super().__init__(request, request.dept_spec, ws, DEPT_SHEET, formats, len(self.grid), budget)

    def _grid_rows(self, spare: int) -> list[tuple[DeptGoal | None, DeptIndicator | None]]:
        rows = []
        for goal in self.goals:
            mine = [i for i in self.indicators if i.seq == goal.seq] or [None]
            rows += [(goal, ind) for ind in mine]
        # Indicators of no listed goal (a return's row typed without a 序号) keep a row of their own.
        seqs = {goal.seq for goal in self.goals}
        rows += [(None, ind) for ind in self.indicators if ind.seq not in seqs]
        return rows + [(None, None)] * spare

    def grid_path(self) -> str:
        return "d.grid"

    def mark_key(self, path: str) -> tuple[str, str]:
        _, rest = path.split(".", 1)
        head, _, tail = rest.partition(".")
        if head.startswith("r") and head[1:].isdigit():
            goal, indicator = self.grid[int(head[1:]) - 1]
            if tail == "goal_seq" and goal is None and indicator is not None:
                return "", f"dind{self.indicators.index(indicator)}.seq"
            if tail.startswith("goal_"):
                return "", f"goal{goal.seq}.{tail[5:]}" if goal is not None else rest
            if indicator is not None:
                return "", f"dind{self.indicators.index(indicator)}.{tail}"
        return "", rest

    def draw(self) -> list[Placement]:
        settings, unit = self.request.master.settings, self.request.unit
        context = {"year": settings.year, "money_unit": settings.money_unit, "department_name": settings.department_name,
                   "unit": unit}
        self.layout()
        self.static_cells(context)
        self.static_merges()
        self._grid()
        self._validations()
        return self.finish()

    def bind(self, cell: CellSpec, row: int, col: int) -> None:
        settings, unit = self.request.master.settings, self.request.unit
        name = cell.field
        totals = {key: self._total(key) for key in ("budget", "fiscal", "other")}
        values = {
            "unit.budget": totals["budget"], "unit.fiscal": totals["fiscal"], "unit.other": totals["other"],
            "unit.project_count": len(self.projects), "dept.overall_goal": self.overall,
            "dept.measures": self.measures,
            "footer.filler": unit.contact, "footer.phone": unit.phone, "footer.date": None,
            "year": settings.year, "money_unit": settings.money_unit, "department_name": settings.department_name,
            "unit.code": unit.code, "unit.name": unit.name, "unit.contact": unit.contact, "unit.phone": unit.phone,
        }
        path = f"d.{name.split('.', 1)[1] if name.startswith('dept.') else name}"
        self.place(path, row, col, values.get(name), cell)
        if name == "dept.measures":
            self._fit_text_row(cell, row, self.request.returned.get(self.mark_key(path), self.measures))

    def _fit_text_row(self, cell: CellSpec, row: int, text: object) -> None:
        """Make the row of a long text taller than the template drew it when the text needs it (never shorter)."""
        last_col = next((c2 for r1, c1, r2, c2 in self.spec.merges if (r1, c1) == (cell.row, cell.col)), cell.col)
        widths = dict(self.spec.col_widths)
        width = sum(widths.get(c, 8.43) for c in range(cell.col, last_col + 1))
        needed = wrapped_row_height([str(text or "")], [width])
        if needed > dict(self.spec.row_heights).get(cell.row, 15.0):
            self.ws.set_row(row, needed)

    def _total(self, key: str):
        amounts = [getattr(p, key) for p in self.projects]
        total = sum((a or Decimal(0) for a in amounts), Decimal(0))
        refs = [r[key] for r in self.budget_refs if key in r]
        if not refs:
            return total
        return Formula("=" + "+".join(f"N({r})" for r in refs), total)

    def _grid(self) -> None:
        cells = self.spec.row_cells()
        for k, (goal, indicator) in enumerate(self.grid):
            self.budget.check(self.sheet)
            row = self.first_grid_row + k
            for cell in cells:
                if not cell.field:
                    self.canvas.put(row, cell.col, cell.text or None, self.fmt(cell))
                    continue
                group, part = cell.field.split(".", 1)
                source = goal if group == "goal" else indicator
                value = getattr(source, part, None) if source is not None else None
                # Goal columns are prefixed so that 分项名称 and 三级指标 (both "name") get distinct paths.
                path = f"d.r{k + 1:02d}.{'goal_' + part if group == 'goal' else part}"
                if cell.field == "goal.seq" and goal is None:
                    extra = self.marked(path, row, cell.col, {"locked": False, "bg_color": "#" + INPUT_FILL, "pattern": 1})
                    self.canvas.put(row, cell.col, None, self.fmt(cell, False, extra))
                    self.placements.append(Placement(path, self.sheet, row, cell.col))
                    continue
                first_of_goal = group != "goal" or k == 0 or self.grid[k - 1][0] != goal
                self.place(path, row, cell.col, value, cell, markable=first_of_goal)
        self._merge_goals()

    def _merge_goals(self) -> None:
        cols = [self.spec.fields[f][1] for f in ("goal.seq", "goal.name", "goal.goal") if f in self.spec.fields]
        start = 0
        for k in range(1, len(self.grid) + 1):
            same = k < len(self.grid) and self.grid[k][0] is not None and self.grid[k][0] == self.grid[start][0]
            if not same:
                if k - start > 1 and self.grid[start][0] is not None:
                    for col in cols:
                        self.canvas.merge(self.first_grid_row + start, col, self.first_grid_row + k - 1, col)
                start = k

    def _validations(self) -> None:
        first, last = self.first_grid_row, self.last_grid_row
        fields = self.spec.fields
        if "dind.level1" in fields:
            col = fields["dind.level1"][1]
            self.ws.data_validation(first, col, last, col, _list_dv("=JXL_LEVEL1", "一级指标", "请从下拉列表选择一级指标。"))
            if "dind.level2" in fields:
                parent = "$" + cell_ref(first, col)
                self.ws.data_validation(first, fields["dind.level2"][1], last, fields["dind.level2"][1], _list_dv(
                    f"=INDIRECT(VLOOKUP({parent},JXL_L2MAP,2,FALSE))", "二级指标", "先选一级指标，再选其下的二级指标。"))
        if "dind.operator" in fields:
            col = fields["dind.operator"][1]
            self.ws.data_validation(first, col, last, col, _list_dv("=JXL_OPERATORS", "指标性质", "≥ ＞ ＝ ＜ ≤ 或 定性。"))
        if "dind.unit" in fields:
            col = fields["dind.unit"][1]
            self.ws.data_validation(first, col, last, col, _list_dv("=JXL_UNITS", "度量单位", "可从列表选择或直接输入。", True))
        if "dind.basis" in fields:
            col = fields["dind.basis"][1]
            self.ws.data_validation(first, col, last, col, _list_dv("=JXL_BASES", "指标值确定依据", "可从列表选择或直接输入。", True))
        if "goal.seq" in fields:
            col = fields["goal.seq"][1]
            self.ws.data_validation(first, col, last, col, {
                "validate": "integer", "criteria": ">=", "value": 1, "input_title": "序号",
                "input_message": "新增指标时填写它所属分项目标的序号。", "error_title": "序号", "error_message": "序号应为正整数。"})


# ---------------------------------------------------------------------------------------------------------
# 填报说明, _lists, _meta


@lru_cache(maxsize=256)
def _cell_template(text: str) -> jinja2.Template:
    """A template cell's mixed text, compiled once per process (compiling dominates otherwise).

    Checked against the template whitelist again here, whatever produced the spec, and compiled in
    jinja2's immutable sandbox: a cell that is more than text and ``{{ name.attr }}`` is never run.
    """
    if cell_syntax(text).problems:
        raise _refused_cell(text)
    return cell_environment().from_string(text)


def _refused_cell(text: str) -> RenderRefused:
    return RenderRefused(f"模板单元格“{clip(text)}”含有不允许的写法，已停止生成：{ALLOWED_ZH}。"
                         "请用 jixiao-xl template check 检查并修改模板。")


@lru_cache(maxsize=1)
def _jinja_env() -> jinja2.Environment:
    from .resources import text_templates_dir

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(text_templates_dir())), autoescape=False,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def render_text(name: str, **context) -> str:
    """Render one of the package's jinja2 text templates (templates/)."""
    return _jinja_env().get_template(name).render(**context)


def _write_guide(ws, request: RenderRequest, projects, sheet_names, formats: FormatCache) -> None:
    settings = request.master.settings
    text = render_text("填报说明.txt.j2", settings=settings, unit=request.unit, projects=list(zip(projects, sheet_names)),
                       deadline=request.deadline, dept_sheet=DEPT_SHEET, input_fill=INPUT_FILL,
                       framework=taxonomy.FRAMEWORKS[settings.framework], operators=taxonomy.OPERATORS,
                       bases=taxonomy.BASIS_DEFINITIONS)
    title = formats.get({"bold": True, "font_size": 14, "font_name": "宋体"})
    body = formats.get({"text_wrap": True, "valign": "top", "font_name": "宋体", "font_size": 11})
    width = 72  # fits the printable width of portrait A4 without scaling (LibreOffice ignores fit-to-width here)
    ws.set_column(0, 0, width)
    for row, line in enumerate(text.splitlines()):
        ws.write_string(row, 0, line, title if row == 0 else body)
        lines = max(1, -(-display_width(line) // int(width * 0.95)))
        ws.set_row(row, 24 if row == 0 else 15 * lines + 3)
    ws.set_portrait()
    ws.set_paper(9)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.protect(request.password)
    ws.activate()


def _write_problems(ws, request: RenderRequest, formats: FormatCache) -> None:
    """The 问题清单 sheet of a 退回修改 workbook: one row per problem, with where and how to fix it."""
    head = formats.get({"bold": True, "bg_color": "#D9E1F2", "pattern": 1, "border": 1, "text_wrap": True})
    body = formats.get({"text_wrap": True, "valign": "top", "border": 1})
    headers = ("序号", "严重程度", "工作表", "单元格", "项目编码", "规则", "问题及修改方法", "填报值", "应为")
    # Sized to print one landscape A4 page wide at about 100 %: long texts wrap, nothing is cut off.
    widths = (5, 7, 16, 7, 14, 9, 58, 14, 14)
    for col, (title, width) in enumerate(zip(headers, widths)):
        ws.write_string(0, col, title, head)
        ws.set_column(col, col, width)
    for row, f in enumerate(request.problems, start=1):
        cells = (str(row), SEVERITY_ZH[f.severity], f.sheet, f.cell, f.project_code, f.rule, f.message, f.value, f.expected)
        ws.set_row(row, wrapped_row_height(cells, widths, 15.0))
        for col, text in enumerate(cells):
            ws.write_string(row, col, text, body)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(request.problems), len(headers) - 1)
    print_as_list(ws)
    ws.protect(request.password, {"autofilter": True, "sort": True})


def _write_other_content(ws, request: RenderRequest, formats: FormatCache) -> None:
    """The 其他填写内容 sheet of a 退回修改 workbook: what the unit typed where the form has no field."""
    head = formats.get({"bold": True, "bg_color": "#D9E1F2", "pattern": 1, "border": 1, "text_wrap": True})
    body = formats.get({"text_wrap": True, "valign": "top", "border": 1})
    ws.merge_range(0, 0, 0, 4, "以下内容填写在表格中没有填写项的位置，未作为任何字段读入。请把需要报送的内容移到相应的"
                               "填写项中（黄色单元格），或确认后删除。", formats.get({"bold": True, "text_wrap": True}))
    ws.set_row(0, 32)
    for col, (title, width) in enumerate(zip(("序号", "工作表", "单元格", "填写内容", "说明"), (6, 26, 8, 50, 60))):
        ws.write_string(1, col, title, head)
        ws.set_column(col, col, width)
    for row, item in enumerate(request.other_content, start=2):
        for col, text in enumerate((str(row - 1), item.sheet, item.cell, item.text, item.note)):
            ws.write_string(row, col, text, body)
    ws.freeze_panes(2, 0)
    ws.protect(request.password, {"autofilter": True, "sort": True})


def _write_lists(wb, framework_id: str, formats: FormatCache):
    ws = wb.add_worksheet(LISTS_SHEET)
    framework = taxonomy.FRAMEWORKS[framework_id]
    head = formats.get({"bold": True})
    ws.write_string(0, 0, "一级指标", head)
    ws.write_string(0, 1, "二级列表名", head)
    for i, (level1, children) in enumerate(framework.items(), start=1):
        ws.write_string(i, 0, level1)
        key = f"JXL_L2_{i}"
        ws.write_string(i, 1, key)
        col = 1 + i
        ws.write_string(0, col, level1, head)
        for j, level2 in enumerate(children, start=1):
            ws.write_string(j, col, level2)
        wb.define_name(key, f"={LISTS_SHEET}!{cell_ref(1, col, True)}:{cell_ref(len(children), col, True)}")
    n = len(framework)
    wb.define_name("JXL_LEVEL1", f"={LISTS_SHEET}!$A$2:{cell_ref(n, 0, True)}")
    wb.define_name("JXL_L2MAP", f"={LISTS_SHEET}!$A$2:{cell_ref(n, 1, True)}")
    start = 2 + n + 1
    for offset, (name, title, items) in enumerate((("JXL_OPERATORS", "指标性质", taxonomy.OPERATORS),
                                                    ("JXL_UNITS", "度量单位", taxonomy.UNITS),
                                                    ("JXL_BASES", "指标值确定依据", taxonomy.BASES))):
        col = start + offset
        ws.write_string(0, col, title, head)
        for j, item in enumerate(items, start=1):
            ws.write_string(j, col, item)
        wb.define_name(name, f"={LISTS_SHEET}!{cell_ref(1, col, True)}:{cell_ref(len(items), col, True)}")
    ws.very_hidden()
    return ws


def _write_meta(wb, request: RenderRequest, projects, sheet_names, placements: list[Placement], formats) -> None:
    """The very hidden ``_meta`` sheet (its layout is meta's): identity, project sheets and the field map."""
    settings = request.master.settings
    identity = Identity(
        template_id=request.project_spec.template_id, template_version=request.project_spec.version,
        dept_template_id=request.dept_spec.template_id, dept_template_version=request.dept_spec.version,
        master_fingerprint=request.master.fingerprint, unit_code=request.unit.code, unit_name=request.unit.name,
        budget_year=str(settings.year), money_unit=settings.money_unit, plan_nodes=",".join(settings.plan_nodes),
        generated_at=request.generated_at.isoformat(timespec="seconds"), tool_version=__version__,
    )
    cells = meta_cells(identity, [(project.code, name) for project, name in zip(projects, sheet_names)],
                       field_map(placements))
    write_meta(wb.add_worksheet(META_SHEET), cells, formats.get({"bold": True}), request.password)
