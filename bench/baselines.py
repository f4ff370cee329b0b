"""Raw baselines: the least work a hand-written program would do to write and read the same workbooks.

Writing (:func:`write_unit`): plain xlsxwriter calls (``in_memory`` mode), no template, no model layer, no
jinja2. For one unit it writes what ``jixiao_xl.fill.render_unit`` writes — 填报说明, one sheet per project,
部门整体绩效目标, the very hidden ``_lists`` (dropdown sources) and ``_meta`` (field map) sheets — with the
same values and formulas (with cached results), merges, list data validations that point at the ``_lists``
names, decimal validations on the plan amounts, the conditional formats of the live checks, a ``JX_``
defined name for every bound cell, print setup and sheet protection. :func:`parity` compares a baseline workbook with a
generated one (cell, merge, validation and name counts) so that the comparison stays honest.

Reading (:func:`calamine_read`): every sheet's values with python-calamine plus a defusedxml parse of
``xl/workbook.xml`` for the defined names. :func:`openpyxl_read` does the same with openpyxl in normal
(not read-only) mode, for reference.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import xlsxwriter
from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_rowcol_to_cell

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
YELLOW = "#FFF2CC"
COLS = "ABCDEFGHIJ"
LEVEL1_ORDER = ("产出指标", "效益指标", "满意度指标")
LEVEL2 = {"产出指标": ("数量指标", "质量指标", "时效指标", "成本指标"),
          "效益指标": ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"),
          "满意度指标": ("服务对象满意度指标",)}
OPERATORS = ("≥", "＞", "＝", "＜", "≤", "定性")
UNITS = ("%", "个", "人", "人次", "次", "户", "件", "份", "篇", "台", "辆", "套", "项", "所", "场", "期", "批",
         "天", "日", "月", "年", "小时", "米", "厘米", "公里", "亩", "平方米", "条", "家", "万元", "元",
         "元/人", "元/人·月", "元/台", "人/年", "分")
BASES = ("计划标准", "历史标准", "行业标准", "预算支出标准", "其他标准")
IND_FIELDS = ("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight")
DEPT_FIELDS = ("goal_seq", "goal_name", "goal_goal", "level1", "level2", "name", "operator", "value", "unit", "basis")
PROTECT = {"select_locked_cells": True, "select_unlocked_cells": True, "format_cells": False, "format_columns": True,
           "format_rows": True, "insert_rows": False, "delete_rows": False, "insert_columns": False,
           "delete_columns": False, "sort": False, "autofilter": False}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _a1(row: int, col: int, absolute: bool = False) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def _num(value) -> float:
    return float(value)


def _money_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class _Book:
    """One workbook being written: its formats, defined names and the field map for ``_meta``."""

    def __init__(self, path: Path, password: str) -> None:
        # in_memory: the package is zipped from memory, not from temporary files (the fastest xlsxwriter mode).
        self.wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                                  "strings_to_urls": False, "in_memory": True})
        self.password = password
        self.fields: list[tuple[str, str, int, int]] = []  # (path, sheet, row, col) for _meta's field map
        base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter", "text_wrap": True}
        add = self.wb.add_format
        self.title = add({"font_name": "黑体", "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"})
        self.sub = add({"font_name": "宋体", "font_size": 10, "valign": "vcenter"})
        self.sub_right = add({"font_name": "宋体", "font_size": 10, "align": "right", "valign": "vcenter"})
        self.label = add({**base, "bold": True, "align": "center"})
        self.value = add({**base})
        self.money = add({**base, "num_format": "0.00"})
        self.input = add({**base, "locked": False, "bg_color": YELLOW, "pattern": 1})
        self.input_money = add({**base, "num_format": "0.00", "locked": False, "bg_color": YELLOW, "pattern": 1})
        self.percent = add({**base, "num_format": "0.00%"})
        self.red = add({"font_color": "#C00000", "bg_color": "#FFC7CE", "pattern": 1})
        self.green = add({"font_color": "#006100", "bg_color": "#C6EFCE", "pattern": 1})
        self.bold = add({"bold": True})

    def bound(self, ws, sheet: str, path: str, row: int, col: int, value, fmt) -> None:
        """Write a bound cell and give it a defined name (``p01.i01.level1`` → ``JX_P01_I01_LEVEL1``)."""
        write(ws, row, col, value, fmt)
        name = "JX_" + re.sub(r"[^A-Za-z0-9]", "_", path).upper()
        self.wb.define_name(name, f"='{sheet}'!{_a1(row, col, True)}")
        self.fields.append((path, sheet, row, col))

    def bound_merge(self, ws, sheet: str, path: str, first: tuple[int, int], last: tuple[int, int], value, fmt) -> None:
        ws.merge_range(first[0], first[1], last[0], last[1], "", fmt)
        self.bound(ws, sheet, path, first[0], first[1], value, fmt)


def write(ws, row: int, col: int, value, fmt) -> None:
    """One cell with the right xlsxwriter method for its Python type (text is never taken for a formula)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, tuple):  # (formula, cached value)
        ws.write_formula(row, col, value[0], fmt, value[1])
    elif isinstance(value, (int, float, Decimal)):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, value, fmt)


def sheet_names(projects) -> list[str]:
    return [(_BAD_SHEET_CHARS.sub("_", f"{i}.{p.name}")[:31]) for i, p in enumerate(projects, start=1)]


def _runs(keys: list) -> list[tuple[int, int]]:
    """(first, last) of every run of two or more equal, non-empty keys."""
    runs, start = [], 0
    for k in range(1, len(keys) + 1):
        if k == len(keys) or keys[k] != keys[start] or keys[start] is None:
            if k - start > 1 and keys[start] is not None:
                runs.append((start, k - 1))
            start = k
    return runs


def _list_dv(source: str, title: str, message: str, warning: bool = False) -> dict:
    dv = {"validate": "list", "source": source, "input_title": title, "input_message": message,
          "error_title": title, "error_message": "请从下拉列表中选择。"}
    if warning:
        dv["error_type"] = "warning"
    return dv


def _setup_page(ws, repeat_rows: tuple[int, int] | None) -> None:
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    if repeat_rows:
        ws.repeat_rows(*repeat_rows)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.hide_gridlines(2)


def _project_sheet(book: _Book, settings, unit, project, index: int, sheet: str, spare: int) -> dict[str, str]:
    """One 项目支出绩效目标表; returns the absolute references of its money cells (for the department totals)."""
    ws = book.wb.add_worksheet(sheet)
    p = f"p{index:02d}"
    for col, width in enumerate((12, 14, 18, 26, 9, 11, 9, 24, 8)):
        ws.set_column(col, col, width, None, {"hidden": True} if col == 8 else None)
    _setup_page(ws, (0, 1))
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, 8, f"{settings.year}年度项目支出绩效目标表", book.title)
    ws.merge_range(1, 0, 1, 5, f"{unit.code} {unit.name}", book.sub)
    ws.merge_range(1, 6, 1, 8, f"单位：{settings.money_unit}", book.sub_right)
    ws.write_string(2, 0, "项目编码", book.label)
    book.bound_merge(ws, sheet, f"{p}.code", (2, 1), (2, 3), project.code, book.value)
    ws.write_string(2, 4, "项目名称", book.label)
    book.bound_merge(ws, sheet, f"{p}.name", (2, 5), (2, 8), project.name, book.value)
    # Funds and the funds check
    ws.write_string(3, 0, "预算数", book.label)
    book.bound(ws, sheet, f"{p}.budget", 3, 1, project.budget, book.money)
    ws.write_string(3, 2, "其中：财政资金", book.label)
    book.bound(ws, sheet, f"{p}.fiscal", 3, 3, project.fiscal, book.money)
    ws.write_string(3, 4, "其他资金", book.label)
    book.bound(ws, sheet, f"{p}.other", 3, 5, project.other, book.money)
    ws.write_string(3, 6, "资金校验", book.label)
    diff = (project.fiscal or 0) + (project.other or 0) - (project.budget or 0)
    funds = ('=IF(ROUND(N($D$4)+N($F$4)-N($B$4),2)=0,"✓ 财政资金+其他资金=预算数",'
             '"✗ 财政资金+其他资金与预算数相差"&TEXT(N($D$4)+N($F$4)-N($B$4),"0.00"))')
    cached = "✓ 财政资金+其他资金=预算数" if diff == 0 else f"✗ 财政资金+其他资金与预算数相差{_money_text(Decimal(diff))}"
    book.bound_merge(ws, sheet, f"{p}.check.funds", (3, 7), (3, 8), (funds, cached), book.value)
    ws.set_row(4, 30)
    ws.write_string(4, 0, "预算规模及资金用途", book.label)
    book.bound_merge(ws, sheet, f"{p}.purpose", (4, 1), (4, 8), project.purpose, book.input)
    # Spending plan: nodes, amounts, percentages and two checks
    ws.merge_range(5, 0, 7, 0, "资金支出计划（累计）", book.label)
    budget = project.budget or Decimal(0)
    nodes = [point.node for point in project.plan]
    for k, point in enumerate(project.plan):
        col = 1 + k
        book.bound(ws, sheet, f"{p}.plan{k + 1}.node", 5, col, point.node, book.label)
        book.bound(ws, sheet, f"{p}.plan{k + 1}.amount", 6, col, point.amount, book.input_money)
        share = float(point.amount / budget) if point.amount is not None and budget else ""
        book.bound(ws, sheet, f"{p}.plan{k + 1}.percent", 7, col,
                   (f'=IF(N($B$4)=0,"",IF({_a1(6, col)}="","",{_a1(6, col)}/$B$4))', share), book.percent)
        ws.data_validation(6, col, 6, col, {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": float(budget),
            "input_title": f"{point.node}累计支出计划",
            "input_message": f"填写截至{point.node}累计计划支出金额（{settings.money_unit}），0 到预算数 {_money_text(budget)} 之间。",
            "error_title": "金额不对", "error_message": f"请填写 0 到 {_money_text(budget)} 之间的数字。"})
    ws.write_blank(5, 5, None, book.label)
    ws.merge_range(5, 6, 5, 8, "支出计划校验", book.label)
    last_ref, last = _a1(6, len(nodes)), project.plan[-1].amount if project.plan else None
    node = nodes[-1] if nodes else ""
    total = (f'=IF({last_ref}="","✗ {node}累计支出计划未填写，应等于预算数"&TEXT($B$4,"0.00"),'
             f'IF(ROUND({last_ref}-$B$4,2)=0,"✓ {node}累计支出计划等于预算数",'
             f'IF({last_ref}<$B$4,"✗ {node}累计支出计划比预算数少"&TEXT($B$4-{last_ref},"0.00"),'
             f'"✗ {node}累计支出计划超出预算数"&TEXT({last_ref}-$B$4,"0.00"))))')
    if last is None:
        total_cached = f"✗ {node}累计支出计划未填写，应等于预算数{_money_text(budget)}"
    elif last == budget:
        total_cached = f"✓ {node}累计支出计划等于预算数"
    else:
        total_cached = f"✗ {node}累计支出计划与预算数不符"
    book.bound_merge(ws, sheet, f"{p}.check.plan", (6, 6), (6, 8), (total, total_cached), book.value)
    conditions = ",".join(f'AND({_a1(6, 1 + k)}<>"",{_a1(6, 1 + k)}<MAX(B7:{_a1(6, k)}))' for k in range(1, len(nodes)))
    amounts = [a.amount for a in project.plan if a.amount is not None]
    increasing = all(x <= y for x, y in zip(amounts, amounts[1:]))
    order = (f'=IF(OR({conditions}),"✗ 累计支出计划出现减少，请检查各节点","✓ 累计支出计划逐步增加")',
             "✓ 累计支出计划逐步增加" if increasing else "✗ 累计支出计划出现减少，请检查各节点")
    book.bound_merge(ws, sheet, f"{p}.check.order", (7, 6), (7, 8), order, book.value)
    ws.set_row(8, 45)
    ws.write_string(8, 0, "年度绩效目标", book.label)
    book.bound_merge(ws, sheet, f"{p}.annual_goal", (8, 1), (8, 8), project.annual_goal, book.input)
    # Indicator grid
    for col, head in enumerate(("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标性质", "指标值", "度量单位",
                                "指标值确定依据", "权重")):
        ws.write_string(9, col, head, book.label)
    rows = list(project.indicators) + [None] * spare
    first = 10
    for k, ind in enumerate(rows):
        row = first + k
        longest = max((len(str(getattr(ind, f) or "")) for f in IND_FIELDS), default=0) if ind else 0
        ws.set_row(row, max(15, 14 * (1 + longest // 12)))
        for col, field in enumerate(IND_FIELDS):
            value = getattr(ind, field) if ind is not None else None
            book.bound(ws, sheet, f"{p}.i{k + 1:02d}.{field}", row, col, value, book.input)
    last_row = first + len(rows) - 1
    l1_runs = _runs([(i.level1,) if i is not None and i.level1 else None for i in rows])
    for a, b in l1_runs:
        ws.merge_range(first + a, 0, first + b, 0, rows[a].level1, book.input)
    for a, b in _runs([(i.level1, i.level2) if i is not None and i.level2 else None for i in rows]):
        ws.merge_range(first + a, 1, first + b, 1, rows[a].level2, book.input)
    # Validations: 一级 list, 二级 cascade per 一级 run, the closed lists, the value hint
    ws.data_validation(first, 0, last_row, 0, _list_dv("=JXL_LEVEL1", "一级指标", "请从下拉列表选择一级指标。"))
    starts = {a: b for a, b in l1_runs}
    k = 0
    while k < len(rows):
        if k in starts:
            end, parent = starts[k], _a1(first + k, 0, True)
        else:
            end = k
            while end + 1 < len(rows) and end + 1 not in starts:
                end += 1
            parent = "$" + _a1(first + k, 0)
        ws.data_validation(first + k, 1, first + end, 1, _list_dv(
            f"=INDIRECT(VLOOKUP({parent},JXL_L2MAP,2,FALSE))", "二级指标", "先选一级指标，再选其下的二级指标。"))
        k = end + 1
    ws.data_validation(first, 4, last_row, 4, _list_dv("=JXL_OPERATORS", "指标性质", "≥ ＞ ＝ ＜ ≤ 或 定性。"))
    ws.data_validation(first, 6, last_row, 6, _list_dv("=JXL_UNITS", "度量单位", "可从列表选择或直接输入。", True))
    ws.data_validation(first, 7, last_row, 7, _list_dv("=JXL_BASES", "指标值确定依据", "可从列表选择或直接输入。", True))
    ws.data_validation(first, 5, last_row, 5, {"validate": "any", "input_title": "指标值",
                                               "input_message": "定量指标只填数字，定性指标填文字。"})
    book.wb.define_name(f"JX_{p.upper()}_GRID", f"='{sheet}'!$A$10:{_a1(last_row, 8, True)}")
    # Conditional formats of the live checks
    for ref in ("$H$4", "$G$7", "$G$8"):
        for prefix, fmt in (("✗", book.red), ("✓", book.green)):
            ws.conditional_format(ref, {"type": "formula", "criteria": f'=LEFT({ref},1)="{prefix}"', "format": fmt})
    ws.conditional_format(last_ref, {"type": "formula", "criteria": f'=OR({last_ref}="",ROUND(N({last_ref})-N($B$4),2)<>0)',
                                     "format": book.red})
    # Footer
    footer = last_row + 1
    ws.write_string(footer, 0, "填表人", book.label)
    book.bound_merge(ws, sheet, f"{p}.footer.filler", (footer, 1), (footer, 2), unit.contact, book.input)
    ws.write_string(footer, 3, "联系电话", book.label)
    book.bound_merge(ws, sheet, f"{p}.footer.phone", (footer, 4), (footer, 5), unit.phone, book.input)
    ws.write_string(footer, 6, "填报日期", book.label)
    book.bound_merge(ws, sheet, f"{p}.footer.date", (footer, 7), (footer, 8), None, book.input)
    ws.protect(book.password, PROTECT)
    return {"budget": f"'{sheet}'!$B$4", "fiscal": f"'{sheet}'!$D$4", "other": f"'{sheet}'!$F$4"}


def _dept_sheet(book: _Book, settings, unit, projects, refs, goals, indicators, spare: int) -> None:
    """The 部门整体绩效目标 sheet: totals (formulas over the project sheets), overall goal, goals × indicators."""
    sheet = "部门整体绩效目标"
    ws = book.wb.add_worksheet(sheet)
    for col, width in enumerate((6, 16, 30, 10, 12, 18, 8, 9, 8, 16)):
        ws.set_column(col, col, width)
    _setup_page(ws, (0, 1))
    ws.set_row(0, 30)
    ws.merge_range(0, 0, 0, 9, f"{settings.year}年度部门整体支出绩效目标表", book.title)
    ws.merge_range(1, 0, 1, 6, f"{unit.code} {unit.name}", book.sub)
    ws.merge_range(1, 7, 1, 9, f"单位：{settings.money_unit}", book.sub_right)
    ws.merge_range(2, 0, 2, 1, "部门（单位）名称", book.label)
    book.bound_merge(ws, sheet, "d.unit.name", (2, 2), (2, 4), unit.name, book.value)
    ws.write_string(2, 5, "主管部门", book.label)
    book.bound_merge(ws, sheet, "d.department_name", (2, 6), (2, 9), settings.department_name, book.value)
    ws.merge_range(3, 0, 3, 1, "项目支出预算合计", book.label)
    for key, col in (("budget", 2), ("fiscal", 6), ("other", 8)):
        total = sum((getattr(p, key) or Decimal(0) for p in projects), Decimal(0))
        formula = "=" + "+".join(f"N({r[key]})" for r in refs)
        if key == "other":
            book.bound_merge(ws, sheet, f"d.unit.{key}", (3, col), (3, col + 1), (formula, float(total)), book.money)
        else:
            book.bound(ws, sheet, f"d.unit.{key}", 3, col, (formula, float(total)), book.money)
    ws.write_string(3, 3, "项目个数", book.label)
    book.bound(ws, sheet, "d.unit.project_count", 3, 4, len(projects), book.value)
    ws.write_string(3, 5, "其中：财政资金", book.label)
    ws.write_string(3, 7, "其他资金", book.label)
    overall = next((g.goal for g in goals if g.seq == 0), "")
    ws.set_row(4, 90)
    ws.merge_range(4, 0, 4, 1, "总体绩效目标", book.label)
    book.bound_merge(ws, sheet, "d.overall_goal", (4, 2), (4, 9), overall, book.input)
    for col, head in enumerate(("序号", "分项名称", "分项绩效目标", "一级指标", "二级指标", "三级指标", "指标性质",
                                "指标值", "度量单位", "指标值确定依据")):
        ws.write_string(5, col, head, book.label)
    grid = []
    for goal in (g for g in goals if g.seq != 0):
        mine = [i for i in indicators if i.seq == goal.seq] or [None]
        grid += [(goal, ind) for ind in mine]
    grid += [(None, None)] * spare
    first = 6
    for k, (goal, ind) in enumerate(grid):
        row = first + k
        ws.set_row(row, 40)
        values = (goal.seq if goal else None, goal.name if goal else None, goal.goal if goal else None,
                  *((getattr(ind, f) if ind is not None else None) for f in DEPT_FIELDS[3:]))
        for col, (field, value) in enumerate(zip(DEPT_FIELDS, values)):
            fmt = book.value if field == "goal_seq" and goal is not None else book.input
            book.bound(ws, sheet, f"d.r{k + 1:02d}.{field}", row, col, value, fmt)
    for a, b in _runs([g.seq if g is not None else None for g, _ in grid]):
        for col in (0, 1, 2):
            value = (grid[a][0].seq, grid[a][0].name, grid[a][0].goal)[col]
            ws.merge_range(first + a, col, first + b, col, value, book.value if col == 0 else book.input)
    last_row = first + len(grid) - 1
    ws.data_validation(first, 3, last_row, 3, _list_dv("=JXL_LEVEL1", "一级指标", "请从下拉列表选择一级指标。"))
    ws.data_validation(first, 4, last_row, 4, _list_dv(f"=INDIRECT(VLOOKUP($D{first + 1},JXL_L2MAP,2,FALSE))",
                                                      "二级指标", "先选一级指标，再选其下的二级指标。"))
    ws.data_validation(first, 6, last_row, 6, _list_dv("=JXL_OPERATORS", "指标性质", "≥ ＞ ＝ ＜ ≤ 或 定性。"))
    ws.data_validation(first, 8, last_row, 8, _list_dv("=JXL_UNITS", "度量单位", "可从列表选择或直接输入。", True))
    ws.data_validation(first, 9, last_row, 9, _list_dv("=JXL_BASES", "指标值确定依据", "可从列表选择或直接输入。", True))
    ws.data_validation(first, 0, last_row, 0, {"validate": "integer", "criteria": ">=", "value": 1,
                                               "input_title": "序号", "input_message": "新增指标时填写所属分项的序号。"})
    book.wb.define_name("JX_D_GRID", f"='{sheet}'!$A$6:{_a1(last_row, 9, True)}")
    footer = last_row + 1
    ws.write_string(footer, 0, "填表人", book.label)
    book.bound_merge(ws, sheet, "d.footer.filler", (footer, 1), (footer, 2), unit.contact, book.input)
    ws.write_string(footer, 3, "联系电话", book.label)
    book.bound_merge(ws, sheet, "d.footer.phone", (footer, 4), (footer, 5), unit.phone, book.input)
    ws.write_string(footer, 6, "填报日期", book.label)
    book.bound_merge(ws, sheet, "d.footer.date", (footer, 7), (footer, 9), None, book.input)
    ws.protect(book.password, PROTECT)


def _lists_sheet(book: _Book) -> None:
    ws = book.wb.add_worksheet("_lists")
    ws.write_string(0, 0, "一级指标", book.bold)
    ws.write_string(0, 1, "二级列表名", book.bold)
    for i, level1 in enumerate(LEVEL1_ORDER, start=1):
        ws.write_string(i, 0, level1)
        ws.write_string(i, 1, f"JXL_L2_{i}")
        col = 1 + i
        ws.write_string(0, col, level1, book.bold)
        for j, level2 in enumerate(LEVEL2[level1], start=1):
            ws.write_string(j, col, level2)
        book.wb.define_name(f"JXL_L2_{i}", f"=_lists!{_a1(1, col, True)}:{_a1(len(LEVEL2[level1]), col, True)}")
    n = len(LEVEL1_ORDER)
    book.wb.define_name("JXL_LEVEL1", f"=_lists!$A$2:{_a1(n, 0, True)}")
    book.wb.define_name("JXL_L2MAP", f"=_lists!$A$2:{_a1(n, 1, True)}")
    for offset, (name, title, items) in enumerate((("JXL_OPERATORS", "指标性质", OPERATORS),
                                                    ("JXL_UNITS", "度量单位", UNITS), ("JXL_BASES", "指标值确定依据", BASES))):
        col = 2 + n + 1 + offset
        ws.write_string(0, col, title, book.bold)
        for j, item in enumerate(items, start=1):
            ws.write_string(j, col, item)
        book.wb.define_name(name, f"=_lists!{_a1(1, col, True)}:{_a1(len(items), col, True)}")
    ws.protect(book.password)
    ws.very_hidden()


_GRID_ROW_PATH = re.compile(r"^(.+\.[a-z])(\d+)\.([^.]+)$")


def _field_map(fields: list[tuple[str, str, int, int]]) -> list[tuple[str, str]]:
    """_meta's compact field map, as generate writes it: a scalar per row, a grid column (``p01.i*.value``) per row."""
    columns: dict[str, list[tuple[str, str, int, int]]] = {}
    for field in fields:
        match = _GRID_ROW_PATH.match(field[0])
        columns.setdefault(f"{match[1]}*.{match[3]}" if match else field[0], []).append(field)
    rows = []
    for key, cells in columns.items():
        _path, sheet, first, col = cells[0]
        last = f":{_a1(cells[-1][2], col)}" if "*" in key else ""
        rows.append((key, f"{sheet}!{_a1(first, col)}{last}"))
    return rows


def _meta_sheet(book: _Book, settings, unit, projects, names: list[str]) -> None:
    ws = book.wb.add_worksheet("_meta")
    rows = [("template_id", "项目支出绩效目标表"), ("template_version", "raw"), ("unit_code", unit.code),
            ("unit_name", unit.name), ("budget_year", str(settings.year)), ("money_unit", settings.money_unit),
            ("plan_nodes", ",".join(settings.plan_nodes))]
    ws.write_string(0, 0, "项目", book.bold)
    ws.write_string(0, 1, "值", book.bold)
    for r, (key, value) in enumerate(rows, start=1):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    r = len(rows) + 2
    for c, head in enumerate(("project", "project_code", "sheet")):
        ws.write_string(r, c, head, book.bold)
    for index, (project, name) in enumerate(zip(projects, names), start=1):
        r += 1
        ws.write_string(r, 0, f"p{index:02d}")
        ws.write_string(r, 1, project.code)
        ws.write_string(r, 2, name)
    r += 2
    for c, head in enumerate(("field", "cell")):
        ws.write_string(r, c, head, book.bold)
    for path, ref in _field_map(book.fields):
        r += 1
        ws.write_string(r, 0, path)
        ws.write_string(r, 1, ref)
    ws.protect(book.password)
    ws.very_hidden()


def _guide_sheet(book: _Book, settings, unit, names: list[str]):
    ws = book.wb.add_worksheet("填报说明")
    lines = [f"{settings.year}年度预算绩效目标填报说明", f"填报单位：{unit.code} {unit.name}",
             "一、只在浅黄色单元格中填写；下发的项目编码、名称、预算数等已锁定。",
             "二、指标区按一级、二级、三级填写，一级、二级、指标性质、度量单位可从下拉列表选择。",
             "三、“资金校验”“支出计划校验”显示 ✗ 时请按提示改正。",
             f"四、金额单位为{settings.money_unit}，只填数字。", "五、本工作簿包含以下工作表："]
    lines += [f"    {name}" for name in names] + ["    部门整体绩效目标", "六、填写完成后保存为 .xlsx 报送，不要改动工作表名称。"]
    ws.set_column(0, 0, 72)
    for row, line in enumerate(lines):
        ws.write_string(row, 0, line, book.title if row == 0 else book.sub)
    ws.set_portrait()
    ws.set_paper(9)
    ws.protect(book.password)
    ws.activate()


def write_unit(path: Path, master, unit, projects, goals, dept_indicators, password: str = "jixiao") -> Path:
    """Write one unit's workbook at ``path`` with plain xlsxwriter calls (see the module docstring)."""
    settings = master.settings
    book = _Book(Path(path), password)
    book.wb.set_properties({"title": f"{settings.year}年度绩效目标表 {unit.name}", "author": "raw-baseline"})
    for key, value in (("jixiao_template", "项目支出绩效目标表"), ("jixiao_version", "raw"), ("jixiao_unit", unit.code),
                       ("jixiao_master", master.fingerprint)):
        book.wb.set_custom_property(key, value)
    names = sheet_names(projects)
    _guide_sheet(book, settings, unit, names)
    refs = [_project_sheet(book, settings, unit, p, i, n, settings.spare_rows)
            for i, (p, n) in enumerate(zip(projects, names), start=1)]
    _dept_sheet(book, settings, unit, projects, refs, goals, dept_indicators, settings.spare_rows)
    _lists_sheet(book)
    _meta_sheet(book, settings, unit, projects, names)
    book.wb.close()
    return Path(path)


def group_by_unit(master) -> dict[str, tuple[list, list, list]]:
    """{unit code: (projects, dept goals, dept indicators)} in one pass (the baseline's own grouping)."""
    groups: dict[str, tuple[list, list, list]] = {u.code: ([], [], []) for u in master.units}
    for p in master.projects:
        groups[p.unit_code][0].append(p)
    for g in master.dept_goals:
        groups[g.unit_code][1].append(g)
    for i in master.dept_indicators:
        groups[i.unit_code][2].append(i)
    return groups


# ---------------------------------------------------------------------------------------------------------
# Reading


def defined_names(path: Path) -> dict[str, str]:
    """Workbook-scoped defined names from ``xl/workbook.xml`` (defusedxml)."""
    with zipfile.ZipFile(path) as archive:
        root = SafeET.fromstring(archive.read("xl/workbook.xml"))
    return {d.get("name", ""): d.text or "" for d in root.iter(f"{MAIN_NS}definedName")}


def calamine_read(path: Path) -> tuple[int, int, int]:
    """Read every sheet's values and the defined names; returns (sheets, non-empty cells, names)."""
    book = CalamineWorkbook.from_path(str(path))
    sheets = cells = 0
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        sheets += 1
        cells += sum(1 for row in rows for value in row if value != "")
    return sheets, cells, len(defined_names(path))


def openpyxl_read(path: Path) -> tuple[int, int, int]:
    """The same with openpyxl in normal mode (styles, merges and validations parsed too)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheets = cells = 0
    for ws in book.worksheets:
        sheets += 1
        cells += sum(1 for row in ws.iter_rows(values_only=True) for value in row if value is not None)
    return sheets, cells, len(book.defined_names)


# ---------------------------------------------------------------------------------------------------------
# Parity


def census(path: Path) -> dict[str, int]:
    """What a workbook holds, counted with openpyxl: sheets, cells, values, merges, validations, formats, names."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    counts: Counter = Counter(sheets=len(book.worksheets), names=len(book.defined_names))
    for ws in book.worksheets:
        counts["cells"] += len(ws._cells)
        counts["values"] += sum(1 for c in ws._cells.values() if c.value is not None)
        counts["formulas"] += sum(1 for c in ws._cells.values() if isinstance(c.value, str) and c.value.startswith("="))
        counts["merges"] += len(ws.merged_cells.ranges)
        counts["validations"] += len(ws.data_validations.dataValidation)
        counts["conditional_formats"] += len(ws.conditional_formatting)
        counts["protected_sheets"] += int(bool(ws.protection.sheet))
    counts["bytes"] = Path(path).stat().st_size
    return dict(counts)


def parity(generated: Path, raw: Path) -> dict[str, dict[str, int]]:
    """The census of a generated workbook beside the raw baseline's for the same unit."""
    return {"jixiao": census(generated), "raw": census(raw)}
