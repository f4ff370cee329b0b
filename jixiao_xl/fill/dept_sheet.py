"""The 部门整体绩效目标 sheet: the unit's totals (formulas over the project sheets), its 总体绩效目标 and
措施, and the 分项绩效目标 with their indicators."""

from __future__ import annotations

from decimal import Decimal

from .. import taxonomy
from ..measures import measures_text
from ..model import DeptGoal, DeptIndicator
from ..xlsx.sheetwriter import FormatCache, Formula, cell_ref, wrapped_row_height
from ..template import CellSpec
from .formsheet import FormSheet, list_validation
from .request import DEPT_SHEET, INPUT_FILL, Placement, RenderBudget, RenderRequest

DEPT_INPUTS = frozenset({"dept.overall_goal", "dept.measures", "goal.name", "goal.goal", "footer.filler", "footer.phone",
                         "footer.date"}
                        | {f"dind.{n}" for n in ("level1", "level2", "name", "operator", "value", "unit", "basis")})


class DepartmentSheet(FormSheet):
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
            self.ws.data_validation(first, col, last, col, list_validation("=JXL_LEVEL1", "一级指标", "请从下拉列表选择一级指标。"))
            if "dind.level2" in fields:
                parent = "$" + cell_ref(first, col)
                self.ws.data_validation(first, fields["dind.level2"][1], last, fields["dind.level2"][1], list_validation(
                    f"=INDIRECT(VLOOKUP({parent},JXL_L2MAP,2,FALSE))", "二级指标", "先选一级指标，再选其下的二级指标。"))
        if "dind.operator" in fields:
            col = fields["dind.operator"][1]
            self.ws.data_validation(first, col, last, col, list_validation("=JXL_OPERATORS", "指标性质", "≥ ＞ ＝ ＜ ≤ 或 定性。"))
        if "dind.unit" in fields:
            col = fields["dind.unit"][1]
            self.ws.data_validation(first, col, last, col, list_validation("=JXL_UNITS", "度量单位", "可从列表选择或直接输入。", True))
        if "dind.basis" in fields:
            col = fields["dind.basis"][1]
            self.ws.data_validation(first, col, last, col, list_validation("=JXL_BASES", "指标值确定依据", "可从列表选择或直接输入。", True))
        if "goal.seq" in fields:
            col = fields["goal.seq"][1]
            self.ws.data_validation(first, col, last, col, {
                "validate": "integer", "criteria": ">=", "value": 1, "input_title": "序号",
                "input_message": "新增指标时填写它所属分项目标的序号。", "error_title": "序号", "error_message": "序号应为正整数。"})

