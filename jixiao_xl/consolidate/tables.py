"""The five tables of a consolidation: 总表, 支出计划, 绩效指标, 明细 and 核对, built from the units' figures.

Every number in 明细 names the file, sheet and cell it was read from; so does every extra field a template
declares (``{{ extra.<名称> }}``, e.g. 项目负责人), one 明细 column each with its cell beside it. 核对 sets
each unit's returned 预算数合计 against the master's and lists every locked amount a return changed.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import chain
from typing import Iterable, Mapping, Sequence

from .. import taxonomy
from ..findings import SEVERITY_ZH, Finding
from ..digest import IndicatorTally
from ..ledger import AcceptedReturn
from ..model import Master
from ..reconcile import RULES as RECONCILE_RULES
from .figures import (CHECKS, DETAIL, DETAIL_FIRST_NUMBER, INDICATORS, MASTER_CELL, MASTER_SOURCE, PLAN, PLAN_START,
                      SUMMARY, TOTAL_LABEL, UNKNOWN_CELL, Column, LockedEdit, ProjectFigures, Table, UnitSource,
                      amount_text, count_share, exact_sum, percent)


def summary_table(units: Sequence[UnitSource], money_unit: str) -> Table:
    """总表: one row per unit with its money totals, project count, return state and open errors."""
    columns = (Column("单位编码"), Column("单位名称"), Column("预算数", "money"), Column("财政资金", "money"),
               Column("其他资金", "money"), Column("项目数", "int"), Column("报送状态"), Column("未解决错误数", "int"),
               Column("来源"), Column("来源文件"))
    rows = tuple(
        (u.code, u.name, u.budget(), u.total(1), u.total(2), len(u.projects), u.state, u.errors, u.origin,
         u.file if u.returned else MASTER_SOURCE)
        for u in units)
    totals = ((TOTAL_LABEL, f"{len(units)} 个单位", *(exact_sum(r[i] for r in rows) for i in (2, 3, 4)),
               sum(r[5] for r in rows), "", sum(r[7] for r in rows), "", ""),)
    notes = {name: f"金额单位：{money_unit}" for name in ("预算数", "财政资金", "其他资金")}
    return Table(SUMMARY, columns, rows, totals, notes=notes)


def plan_table(units: Sequence[UnitSource], nodes: Sequence[str]) -> Table:
    """支出计划: per unit the cumulative planned amount at every node and its share of 预算数."""
    columns = (Column("单位编码"), Column("单位名称"), Column("预算数", "money"),
               *(Column(node, "money") for node in nodes), *(Column(f"{node}占预算数%", "percent") for node in nodes),
               Column("空白节点数", "int"))
    rows = []
    for u in units:
        budget = u.budget()
        amounts = [u.total(PLAN_START + k) for k in range(len(nodes))]
        rows.append((u.code, u.name, budget, *amounts, *(percent(a, budget) for a in amounts), u.blank_plan_nodes()))
    budget_total = exact_sum(r[2] for r in rows)
    node_totals = [exact_sum(r[3 + i] for r in rows) for i in range(len(nodes))]
    totals = ((TOTAL_LABEL, f"{len(units)} 个单位", budget_total, *node_totals,
               *(percent(a, budget_total) for a in node_totals), sum(r[-1] for r in rows)),)
    return Table(PLAN, columns, tuple(rows), totals)


def _level_order(framework: str) -> dict[tuple[str, str], int]:
    order: dict[tuple[str, str], int] = {}
    for level1 in taxonomy.level1_names(framework):
        for level2 in taxonomy.level2_names(framework, level1):
            order[(level1, level2)] = len(order)
    return order


def _kind_index(operator: str) -> int:
    """Where an indicator is counted: 0 定量, 1 定性, 2 未填指标性质 (or an operator the taxonomy does not know)."""
    if operator in taxonomy.QUANTITATIVE_OPERATORS:
        return 0
    return 1 if operator == "定性" else 2


def _by_level(tallies: Iterable[IndicatorTally], order: Mapping[tuple[str, str], int]) -> list[tuple[tuple, list]]:
    """((一级, 二级), [定量, 定性, 未填]) of the tallies: the framework's levels in its order, then any others in
    the order first seen."""
    groups: dict[tuple[str, str], list[int]] = {}
    for tally in tallies:
        for level1, level2, operator, n in tally:
            key = (level1 or "（未填）", level2 or "（未填）")
            counts = groups.get(key)
            if counts is None:
                counts = groups[key] = [0, 0, 0]
            counts[_kind_index(operator)] += n
    unknown = len(order)
    return sorted(groups.items(), key=lambda item: order.get(item[0], unknown))  # stable: first seen stays first


def _indicator_row(code: str, name: str, level1: str, level2: str, counts: Sequence[int]) -> tuple:
    quantitative, qualitative, unknown = counts
    total = quantitative + qualitative + unknown
    return (code, name, level1, level2, total, quantitative, qualitative, unknown,
            count_share(quantitative, total), count_share(qualitative, total))


def _overall(groups: Iterable[Sequence[int]]) -> list[int]:
    return [sum(column) for column in zip(*groups)] or [0, 0, 0]


def indicator_table(units: Sequence[UnitSource], framework: str) -> Table:
    """绩效指标: per unit and 一级/二级 the number of indicators, 定量 vs 定性, and their shares."""
    columns = (Column("单位编码"), Column("单位名称"), Column("一级指标"), Column("二级指标"), Column("指标数", "int"),
               Column("定量", "int"), Column("定性", "int"), Column("未填指标性质", "int"),
               Column("定量占比%", "percent"), Column("定性占比%", "percent"))
    order = _level_order(framework)
    rows = []
    for u in units:
        groups = _by_level((u.indicators,), order)
        rows += [_indicator_row(u.code, u.name, l1, l2, counts) for (l1, l2), counts in groups]
        rows.append(_indicator_row(u.code, u.name, "小计", "", _overall(counts for _, counts in groups)))
    groups = _by_level((u.indicators for u in units), order)
    totals = [_indicator_row(TOTAL_LABEL, "全部单位", l1, l2, counts) for (l1, l2), counts in groups]
    totals.append(_indicator_row(TOTAL_LABEL, "全部单位", "合计", "", _overall(counts for _, counts in groups)))
    return Table(INDICATORS, columns, tuple(rows), tuple(totals))


def number_columns(nodes: Sequence[str]) -> list[str]:
    """The column name of every number of a project, in :attr:`ProjectFigures.numbers` order."""
    return ["预算数", "财政资金", "其他资金", *(f"支出计划-{node}" for node in nodes)]


def _cell_shown(value: Decimal | None, cell: str) -> str:
    if cell:
        return cell
    return "" if value is None else UNKNOWN_CELL


def _shown_cells(u: UnitSource, p: ProjectFigures) -> Sequence[str]:
    if not u.returned:
        return (MASTER_CELL,) * len(p.numbers)
    if "" not in p.cells:
        return p.cells
    return [_cell_shown(value, cell) for value, cell in zip(p.numbers, p.cells)]


def _detail_row(u: UnitSource, p: ProjectFigures) -> tuple:
    return (u.code, u.name, p.code, p.name, u.origin, u.file if u.returned else MASTER_SOURCE, u.import_id, p.sheet,
            *chain.from_iterable(zip(p.numbers, _shown_cells(u, p))))


def extra_field_names(units: Iterable[UnitSource]) -> list[str]:
    """The names of the extra fields the units' returns have (a template's ``{{ extra.<名称> }}``), in the
    order first met: each project sheet's, then the department sheet's."""
    names: dict[str, None] = {}
    for u in units:
        for p in u.projects:
            names.update((name, None) for name, _, _ in p.extras)
        names.update((name, None) for name, _, _ in u.dept_extras)
    return list(names)


def _extra_cells(u: UnitSource, p: ProjectFigures, names: Sequence[str]) -> list[str]:
    """明细's extra-field cells of one project: each value followed by its cell, taken from the project's sheet,
    else from the unit's department sheet (a unit-wide field such as 绩效联系人), else blank."""
    own = {name: (value, cell) for name, value, cell in (*u.dept_extras, *p.extras)}
    return list(chain.from_iterable(own.get(name, ("", "")) for name in names))


def _extra_column_name(name: str, taken: Sequence[str]) -> str:
    """The 明细 column of an extra field: its own name, unless a fixed column already has it."""
    return name if name not in taken and f"{name}-单元格" not in taken else f"附加填写项-{name}"


def detail_table(units: Sequence[UnitSource], nodes: Sequence[str]) -> Table:
    """明细: one row per project with the file and sheet it came from, and every number followed by its cell;
    then one column per extra field of the returns (with its cell beside it), blank where a return has none."""
    names = number_columns(nodes)
    columns = [Column("单位编码"), Column("单位名称"), Column("项目编码"), Column("项目名称"), Column("来源"),
               Column("来源文件"), Column("导入编号", "int"), Column("工作表")]
    for name in names:
        columns += [Column(name, "money"), Column(f"{name}-单元格")]
    extras = extra_field_names(units)
    taken = [column.name for column in columns]
    for name in extras:
        shown = _extra_column_name(name, taken)
        columns += [Column(shown), Column(f"{shown}-单元格")]
    if extras:
        rows = tuple((*_detail_row(u, p), *_extra_cells(u, p, extras)) for u in units for p in u.projects)
    else:
        rows = tuple(_detail_row(u, p) for u in units for p in u.projects)
    totals = [TOTAL_LABEL, f"{len(rows)} 个项目", "", "", "", "", None, ""]
    for k in range(len(names)):
        totals += [exact_sum(r[DETAIL_FIRST_NUMBER + 2 * k] for r in rows), ""]
    totals += ["", ""] * len(extras)
    return Table(DETAIL, tuple(columns), rows, (tuple(totals),))


_EDIT_COLUMNS = (Column("项目编码"), Column("字段"), Column("单元格"), Column("表内填报", "money"), Column("下发数", "money"))
EDITED_RESULT = "表内填报与下发数不同（按下发数汇总）"


def checks_table(master: Master, units: Sequence[UnitSource], strangers: Sequence[AcceptedReturn],
                 findings: Sequence[Finding], include_unreturned: bool, ledger_problems: Sequence[Finding] = ()
                 ) -> Table:
    """核对: every unit's returned Σ 预算数 against the master's, with the finding that explains a difference;
    below a unit, one row per locked amount its return changed (表内填报 vs 下发数, with the cell); a unit left
    out because of an inconsistent ledger row shows that row's L-LEDGER finding."""
    columns = (Column("单位编码"), Column("单位名称"), Column("主数据预算数", "money"), Column("报送预算数", "money"),
               Column("差额", "money"), Column("结果"), Column("规则"), Column("严重程度"), Column("说明"),
               Column("来源文件"), *_EDIT_COLUMNS)
    blank_edit = ("",) * 3 + (None, None)
    by_unit = {f.unit_code: f for f in findings}
    ledger_by_unit = {f.unit_code: f for f in ledger_problems if f.unit_code}
    rows, highlight = [], set()
    for u in units:
        expected = master.unit_budget(u.code)
        finding = by_unit.get(u.code)
        if not u.returned:
            result = "未报送（使用主数据）" if include_unreturned else "未报送（未计入汇总）"
            problem = ledger_by_unit.get(u.code)
            if problem is not None:
                highlight.add(len(rows))
                rows.append((u.code, u.name, expected, None, None, f"台账记录不一致，{result}", problem.rule,
                             _severity(problem), problem.message, MASTER_SOURCE, *blank_edit))
                continue
            rows.append((u.code, u.name, expected, None, None, result, "", "", "", MASTER_SOURCE, *blank_edit))
            continue
        got = u.budget()
        if finding is not None:
            highlight.add(len(rows))
        rows.append((u.code, u.name, expected, got, got - expected, "不一致" if finding else "一致",
                     finding.rule if finding else "", _severity(finding), finding.message if finding else "", u.file,
                     *blank_edit))
        for edit in u.edits:
            highlight.add(len(rows))
            rows.append(_edit_row(u, edit))
    for row in strangers:
        finding = by_unit[row.unit_code]
        highlight.add(len(rows))
        rows.append((row.unit_code, row.unit_name, None, None, None, "主数据中无此单位", finding.rule,
                     _severity(finding), finding.message, row.file_name, *blank_edit))
    totals = ((TOTAL_LABEL, "", exact_sum(r[2] for r in rows), exact_sum(r[3] for r in rows),
               exact_sum(r[4] for r in rows), f"{len(highlight)} 项需处理", "", "", "", "", *blank_edit),)
    return Table(CHECKS, columns, tuple(rows), totals, frozenset(highlight))


def _edit_row(u: UnitSource, edit: LockedEdit) -> tuple:
    """A 核对 row for one locked amount the unit's return changed (the rule is reconciliation's X-TAMPER)."""
    rule = RECONCILE_RULES["X-TAMPER"]
    message = (f"项目“{edit.project_name}”（{edit.project_code}）的{edit.field}在表内 {edit.place} 填报为 "
               f"{amount_text(edit.returned)}，下发数为 {amount_text(edit.issued)}；锁定的下发数以主数据为准，汇总按下发数计算。")
    return (u.code, u.name, None, None, None, EDITED_RESULT, rule.code, SEVERITY_ZH[rule.severity], message, u.file,
            edit.project_code, edit.field, edit.place, edit.returned, edit.issued)


def _severity(finding: Finding | None) -> str:
    return SEVERITY_ZH.get(finding.severity, finding.severity) if finding else ""

