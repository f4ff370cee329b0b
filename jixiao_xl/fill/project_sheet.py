"""One 项目支出绩效目标表: the project's locked figures, its indicator grid with the 一级/二级 dropdowns, the
spending plan, and the live checks of :mod:`jixiao_xl.rules.funds` placed at the template's check cells."""

from __future__ import annotations

from .. import taxonomy
from ..errors import InputError
from ..model import Indicator, Project
from ..rules import funds
from ..xlsx.sheetwriter import FormatCache, Formula, cell_ref, quote_sheet
from ..template import INDICATOR_FIELDS, CellSpec
from .formsheet import FormSheet, list_validation
from .request import Placement, RenderBudget, RenderRequest

PROJECT_INPUTS = frozenset({"project.purpose", "project.annual_goal", "plan.amount", "footer.filler", "footer.phone",
                            "footer.date"} | {f"ind.{n}" for n in INDICATOR_FIELDS})


class ProjectSheet(FormSheet):
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

    # Live checks: the rule, its formula and its cached value are rules.funds'; this sheet gives the cells
    def _check(self, kind: str) -> Formula:
        if kind == "funds":
            check = funds.funds_live_check(*(self._ref(f"project.{n}") for n in ("budget", "fiscal", "other")),
                                           self.project)
        elif kind == "plan":
            check = funds.plan_total_live_check(self._plan_refs()[-1], self._ref("project.budget"), self.project,
                                                self.nodes[-1])
        else:
            check = funds.plan_order_live_check(self._plan_refs(), self.project)
        return Formula(check.formula, check.cached)

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
                                    list_validation(source, "二级指标", "先选一级指标，再从下拉列表选择其下的二级指标。"))

    def _validations(self) -> None:
        first, last = self.first_grid_row, self.last_grid_row
        fields = self.spec.fields
        if "ind.level1" in fields:
            col = fields["ind.level1"][1]
            self.ws.data_validation(first, col, last, col, list_validation("=JXL_LEVEL1", "一级指标", "请从下拉列表选择一级指标。"))
        if "ind.level2" in fields and "ind.level1" in fields:
            self._level2_validations(fields["ind.level2"][1], fields["ind.level1"][1])
        if "ind.operator" in fields:
            col = fields["ind.operator"][1]
            self.ws.data_validation(first, col, last, col, list_validation(
                "=JXL_OPERATORS", "指标性质", "≥ ＞ 越大越好；≤ ＜ 越小越好（如故障率、成本）；＝ 等于；定性指标选“定性”。"))
        if "ind.unit" in fields:
            col = fields["ind.unit"][1]
            self.ws.data_validation(first, col, last, col, list_validation(
                "=JXL_UNITS", "度量单位", "从列表选择；列表中没有的单位可以直接输入。定性指标不填单位。", warning=True))
        if "ind.basis" in fields:
            col = fields["ind.basis"][1]
            self.ws.data_validation(first, col, last, col, list_validation(
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
        for k, node in enumerate(self.nodes):
            rule = funds.plan_input(node, unit, self.project)
            self.ws.data_validation(row, col + k, row, col + k, {
                "validate": "decimal", "criteria": "between", "minimum": rule.minimum, "maximum": float(rule.maximum),
                "input_title": rule.title, "input_message": rule.message,
                "error_title": rule.error_title, "error_message": rule.error_message,
            })

    def _conditional_formats(self) -> None:
        red = self.formats.get({"font_color": "#C00000", "bg_color": "#FFC7CE", "pattern": 1})
        green = self.formats.get({"font_color": "#006100", "bg_color": "#C6EFCE", "pattern": 1})
        for name in funds.LIVE_CHECK_FIELDS:
            if name in self.spec.fields:
                ref = self._ref(name)
                for mark, fmt in ((funds.FAILED, red), (funds.PASSED, green)):
                    self.ws.conditional_format(ref, {"type": "formula", "criteria": funds.verdict_criteria(ref, mark),
                                                     "format": fmt})
        if self.spec.plan_cell is not None and "project.budget" in self.spec.fields:
            last = self._plan_refs()[-1]
            criteria = funds.plan_end_criteria(last, self._ref("project.budget"))
            self.ws.conditional_format(last, {"type": "formula", "criteria": criteria, "format": red})


def _grid_rows(indicators: tuple[Indicator, ...], settings) -> list[Indicator | None]:
    """Pre-filled rows, or one skeleton row per 二级 of the framework; then the spare rows."""
    rows: list[Indicator | None] = [taxonomy.with_standard_levels(indicator) for indicator in indicators]
    if not rows:
        framework = taxonomy.FRAMEWORKS.get(settings.framework, taxonomy.FRAMEWORKS["2015"])
        rows = [Indicator(level1=l1, level2=l2, name="") for l1, children in framework.items() for l2 in children]
    return rows + [None] * settings.spare_rows


def _indicator_value(indicator, part: str):
    return getattr(indicator, part, None)

