"""Checking a master's structure (``jixiao-xl master check``): findings with M- codes at their ``sheet!cell``.

The M- codes are about the master itself: its sheets, headers and settings, codes and the references
between sheets, duplicates and values that cannot be read. What a value means for the forms (the
indicator rules, funds and plan) is judged by the domain rules, which :mod:`jixiao_xl.precheck` runs on
the same master. :func:`check_tables` never raises on bad input.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from .. import catalogue, taxonomy
from ..findings import Finding
from ..model import Settings
from .format import REQUIRED_COLUMNS, SHEETS, MasterError, plan_header
from .settings import (SETTING_SPECS, canonical_operator, money_of, row_seq, setting_rows, setting_value, settings_of,
                       split_nodes)
from .tables import Row, Table, Tables, read_tables

_SOURCE = catalogue.SOURCE_TOOL  # the master's layout is the tool's own
_RULES = {
    rule.code: rule
    for rule in (
        catalogue.define("M-UNREADABLE", "error", "主数据文件无法读取",
                         "确认路径正确，文件是 .xlsx 工作簿、CSV 文件夹或 .json 文件，且未加密、未损坏", _SOURCE),
        catalogue.define("M-MISSING-SHEET", "error", "主数据缺少工作表",
                         "按 jixiao-xl master init 生成的模板补上该工作表（CSV 文件夹则补上同名 .csv 文件）", _SOURCE),
        catalogue.define("M-MISSING-COLUMN", "error", "工作表缺少必需的列",
                         "在第 1 行补上该列标题，标题文字与 jixiao-xl master init 生成的模板一致", _SOURCE),
        catalogue.define("M-SETTING", "error", "设置值无效或缺失",
                         "在“设置”表中按说明填写该项的值", _SOURCE),
        catalogue.define("M-DUP-UNIT", "error", "单位编码重复", "每个单位只保留一行，或改正重复的编码", _SOURCE),
        catalogue.define("M-DUP-PROJECT", "error", "项目编码重复", "每个项目只保留一行，或改正重复的编码", _SOURCE),
        catalogue.define("M-MISSING-CODE", "error", "编码为空", "填写单位编码或项目编码", _SOURCE),
        catalogue.define("M-UNKNOWN-UNIT", "error", "单位编码不在“单位”表中",
                         "改正单位编码，或先在“单位”表中添加该单位", _SOURCE),
        catalogue.define("M-UNKNOWN-PROJECT", "error", "项目编码不在“项目”表中",
                         "改正项目编码，或先在“项目”表中添加该项目", _SOURCE),
        catalogue.define("M-REQUIRED", "error", "必填项为空", "填写该项", _SOURCE),
        catalogue.define("M-NUMBER", "error", "数值无法识别或序号为负数",
                         "只填写数字，不带单位、符号或文字；序号填写 0、1、2 …", _SOURCE),
        catalogue.define("M-GOAL-SEQ", "error", "部门整体目标序号无效",
                         "部门整体指标的序号应对应本单位“部门整体目标”中的一个序号，目标序号不要重复", _SOURCE),
        catalogue.define("M-MEASURE-SEQ", "error", "保障措施序号重复",
                         "同一单位的每条保障措施用不同的序号 1、2、3 …", _SOURCE),
    )
}


class _Findings:
    """Collects findings of one master, filling in the file and the rule's severity."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[Finding] = []

    def add(self, rule: str, message: str, **where: str) -> None:
        self.items.append(Finding(rule=rule, severity=_RULES[rule].severity, message=message, file=self.file, **where))

    def at(self, table: Table, row: Row, header: str, rule: str, message: str, **extra: str) -> None:
        """A finding at the cell of ``header`` in ``row``; the cell's text is the finding's value."""
        extra.setdefault("value", row.get(header))
        extra.setdefault("field", header)
        self.add(rule, message, sheet=table.sheet, cell=table.cell(row, header), **extra)

    def sorted(self) -> list[Finding]:
        return sorted(self.items, key=_finding_order)


_CELL = re.compile(r"^([A-Z]+)(\d+)$")


def _finding_order(finding: Finding) -> tuple[int, int, int]:
    sheet = SHEETS.index(finding.sheet) if finding.sheet in SHEETS else -1
    match = _CELL.match(re.split(r"[:,]", finding.cell)[0])  # a range (J2:J8) sorts at its first cell
    if not match:
        return sheet, 0, 0
    column = 0
    for char in match.group(1):
        column = column * 26 + ord(char) - ord("A") + 1
    return sheet, int(match.group(2)), column


@dataclass(frozen=True)
class _Context:
    """What the row checks need to know about the rest of the master."""

    settings: Settings
    unit_codes: frozenset[str] | None
    project_units: Mapping[str, str] | None
    goal_keys: frozenset[tuple[str, int]] | None
    values_by_rules: bool = False


def check_master(path: str | Path) -> list[Finding]:
    """Every problem of the master at ``path`` as findings; an unreadable master gives one M-UNREADABLE."""
    try:
        tables = read_tables(path, require_sheets=False)
    except MasterError as exc:
        return [unreadable_finding(path, exc)]
    return check_tables(tables, file=str(path))


def unreadable_finding(path: str | Path, exc: MasterError) -> Finding:
    """The one finding of a master that cannot be read at all (M-UNREADABLE): it has no cell to point at."""
    return Finding(rule="M-UNREADABLE", severity=_RULES["M-UNREADABLE"].severity, message=str(exc), file=str(path))


def check_tables(tables: Tables, file: str = "", values_by_rules: bool = False) -> list[Finding]:
    """Every problem of a master's raw tables, ordered by sheet and row. Never raises on bad input.

    With ``values_by_rules`` the indicators' 指标值 are left to the domain rules that run next (R-V1 and
    R-V3 say more than M-NUMBER could: a placeholder, more than 3 decimals, or 定性 as the other fix).
    """
    out = _Findings(file)
    settings = settings_of(tables.table("设置"))
    _check_structure(out, tables, settings)
    _check_settings(out, tables.table("设置"))
    context = dataclasses.replace(_context(tables, settings), values_by_rules=values_by_rules)
    _check_units(out, tables.table("单位"))
    _check_projects(out, tables.table("项目"), context)
    _check_indicators(out, tables.table("绩效指标"), context)
    _check_dept_goals(out, tables.table("部门整体目标"), context)
    _check_dept_indicators(out, tables.table("部门整体指标"), context)
    _check_measures(out, tables.table("保障措施"), context)
    return out.sorted()


def _context(tables: Tables, settings: Settings) -> _Context:
    units, projects, goals = tables.table("单位"), tables.table("项目"), tables.table("部门整体目标")
    goal_keys = None
    if goals is not None:
        goal_keys = frozenset((r.get("单位编码"), s) for r in goals.rows if (s := row_seq(r)) is not None)
    return _Context(
        settings=settings,
        unit_codes=frozenset(r.get("单位编码") for r in units.rows) if units else None,
        project_units={r.get("项目编码"): r.get("单位编码") for r in projects.rows} if projects else None,
        goal_keys=goal_keys,
    )


def _check_structure(out: _Findings, tables: Tables, settings: Settings) -> None:
    for sheet in tables.missing():
        out.add("M-MISSING-SHEET",
                f"主数据缺少“{sheet}”工作表；请按 jixiao-xl master init 生成的模板补上（CSV 文件夹则补上 {sheet}.csv）。",
                sheet=sheet, expected=sheet)
    for sheet, table in tables.sheets.items():
        if not table.headers and not table.rows:
            continue  # an empty sheet (or an empty JSON list) carries no headers to complain about
        for header in _required_columns(sheet, settings):
            if not table.has(header):
                out.add("M-MISSING-COLUMN",
                        f"“{sheet}”工作表缺少“{header}”列；请在第 {table.header_row} 行补上该列标题。",
                        sheet=sheet, field=header, expected=header)


def _required_columns(sheet: str, settings: Settings) -> tuple[str, ...]:
    required = REQUIRED_COLUMNS[sheet]
    if sheet == "项目":
        required += tuple(plan_header(n) for n in settings.plan_nodes)
    if sheet == "绩效指标" and settings.uses_weights:
        required += ("权重",)
    return required


def _check_settings(out: _Findings, table: Table | None) -> None:
    if table is None:
        return
    rows = setting_rows(table)
    if "预算年度" not in rows:
        out.add("M-SETTING", "“设置”表缺少“预算年度”一行；请添加一行：项目 填 预算年度，值 填 4 位年份（如 2026）。",
                sheet="设置", field="预算年度", expected="4 位年份")
    for key, found in rows.items():
        for duplicate in found[1:]:
            out.at(table, duplicate, "值", "M-SETTING",
                   f"“设置”表中“{key}”出现了多次（第 {found[0].number} 行已有）；请删除多余的一行。", field=key)
        _check_setting_value(out, table, key, found[0])


def _check_setting_value(out: _Findings, table: Table, key: str, row: Row) -> None:
    text = row.get("值")
    spec = SETTING_SPECS[key]
    try:
        setting_value(key, text)
    except ValueError:
        shown = f"“{text}”无法识别" if text else "为空"
        out.at(table, row, "值", "M-SETTING", f"设置“{key}”的值{shown}；{spec.hint}。", field=key, expected=spec.hint)
        return
    if key == "支出计划节点":
        nodes = split_nodes(text)
        if len(set(nodes)) != len(nodes):
            out.at(table, row, "值", "M-SETTING", f"设置“支出计划节点”中有重复的节点；{spec.hint}。",
                   field=key, expected=spec.hint)


def _check_code(out: _Findings, table: Table, row: Row, header: str, **who: str) -> str:
    code = row.get(header)
    if not code:
        out.at(table, row, header, "M-MISSING-CODE", f"“{table.sheet}”第 {row.number} 行{header}为空；请填写{header}。", **who)
    return code


def _check_required(out: _Findings, table: Table, row: Row, headers: Iterable[str], **who: str) -> None:
    for header in headers:
        if table.has(header) and not row.get(header):
            out.at(table, row, header, "M-REQUIRED", f"“{table.sheet}”第 {row.number} 行{header}为空；请填写{header}。", **who)


def _check_unit_known(out: _Findings, table: Table, row: Row, context: _Context, **who: str) -> None:
    code = row.get("单位编码")
    if code and context.unit_codes is not None and code not in context.unit_codes:
        out.at(table, row, "单位编码", "M-UNKNOWN-UNIT",
               f"单位编码“{code}”不在“单位”表中；请改正编码，或先在“单位”表中添加该单位。", **who)


def _check_units(out: _Findings, table: Table | None) -> None:
    if table is None:
        return
    first_row: dict[str, int] = {}
    for row in table.rows:
        code = _check_code(out, table, row, "单位编码")
        who = {"unit_code": code}
        if code in first_row:
            out.at(table, row, "单位编码", "M-DUP-UNIT",
                   f"单位编码“{code}”与第 {first_row[code]} 行重复；每个单位只保留一行。", **who)
        elif code:
            first_row[code] = row.number
        _check_required(out, table, row, ("单位名称",), **who)


def _check_projects(out: _Findings, table: Table | None, context: _Context) -> None:
    if table is None:
        return
    first_row: dict[str, int] = {}
    for row in table.rows:
        code = _check_code(out, table, row, "项目编码", unit_code=row.get("单位编码"))
        who = {"unit_code": row.get("单位编码"), "project_code": code}
        if not row.get("单位编码"):
            _check_code(out, table, row, "单位编码", **who)
        _check_unit_known(out, table, row, context, **who)
        if code in first_row:
            out.at(table, row, "项目编码", "M-DUP-PROJECT",
                   f"项目编码“{code}”与第 {first_row[code]} 行重复；每个项目只保留一行。", **who)
        elif code:
            first_row[code] = row.number
        _check_required(out, table, row, ("项目名称",), **who)
        _check_project_money(out, table, row, context.settings, who)


def _check_project_money(out: _Findings, table: Table, row: Row, settings: Settings, who: dict[str, str]) -> None:
    """M-NUMBER for an amount that is not a number; whether the amounts are filled, ≥ 0 and add up is R-F1's
    and R-F5's (:mod:`jixiao_xl.precheck` runs them on the master)."""
    for header in ("预算数", "财政资金", "其他资金", *map(plan_header, settings.plan_nodes)):
        text = row.get(header)
        if text and money_of(text) is None:
            out.at(table, row, header, "M-NUMBER",
                   f"{_project_label(row)}的{header}“{text}”不是数字；请只填写数字，金额单位为{settings.money_unit}，"
                   "不要带单位或文字。", expected=f"数字（{settings.money_unit}）", **who)


def _project_label(row: Row) -> str:
    name = row.get("项目名称") or row.get("项目编码")
    return f"项目“{name}”" if name else f"第 {row.number} 行项目"


def _check_indicators(out: _Findings, table: Table | None, context: _Context) -> None:
    if table is None:
        return
    for row in table.rows:
        code = row.get("项目编码")
        unit = (context.project_units or {}).get(code, "")
        who = {"unit_code": unit, "project_code": code}
        if _check_code(out, table, row, "项目编码", **who) and context.project_units is not None \
                and code not in context.project_units:
            out.at(table, row, "项目编码", "M-UNKNOWN-PROJECT",
                   f"绩效指标的项目编码“{code}”不在“项目”表中；请改正编码，或先在“项目”表中添加该项目。", **who)
        _check_grid_row(out, table, row, context, who)
        _check_weight(out, table, row, who)


def _check_weight(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> None:
    """M-NUMBER for a weight that is not a number; whether it is > 0 is R-W1's (when the batch uses weights)."""
    text = row.get("权重")
    if text and money_of(text) is None:
        out.at(table, row, "权重", "M-NUMBER", f"权重“{text}”不是数字；请填写大于 0 的数字，不要带“分”“%”等文字。",
               expected="大于 0 的数字", **who)


def _check_grid_row(out: _Findings, table: Table, row: Row, context: _Context, who: dict[str, str]) -> None:
    """M-NUMBER for a quantitative 指标值 that is not a number (on 绩效指标 and 部门整体指标), unless the rules
    judge the values (R-V1, R-V3). The levels, the operator and the required cells are R-S1's and R-S2's."""
    if not context.values_by_rules and canonical_operator(row.get("指标性质")) in taxonomy.QUANTITATIVE_OPERATORS:
        _check_quantity(out, table, row, who)


def _check_quantity(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> None:
    text = row.get("指标值")
    if text and money_of(text) is None:
        out.at(table, row, "指标值", "M-NUMBER",
               f"定量指标“{row.get('三级指标')}”的指标值“{text}”不是数字；请只填写数字，"
               "符号填在“指标性质”列、单位填在“度量单位”列（如“≥30 个”拆为 ≥、30、个）。",
               expected="数字", **who)


def _checked_seq(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> int | None:
    text = row.get("序号")
    if not text:
        _check_required(out, table, row, ("序号",), **who)
        return None
    seq = row_seq(row)
    if seq is None or seq < 0:
        out.at(table, row, "序号", "M-NUMBER", f"序号“{text}”不是整数；请填写 0、1、2 …（0 为总体绩效目标）。",
               expected="不小于 0 的整数", **who)
        return None
    return seq


def _check_dept_goals(out: _Findings, table: Table | None, context: _Context) -> None:
    # A blank 绩效目标 is R-S7's (the goal rule, run on the master by precheck at the same cell), not M-REQUIRED's.
    _check_numbered_rows(out, table, context, "M-GOAL-SEQ", "部门整体目标", None)


def _check_measures(out: _Findings, table: Table | None, context: _Context) -> None:
    _check_numbered_rows(out, table, context, "M-MEASURE-SEQ", "保障措施", "措施名称")


def _check_numbered_rows(out: _Findings, table: Table | None, context: _Context, rule: str, what: str,
                         required: str | None) -> None:
    """Rows numbered per unit (部门整体目标, 保障措施): known unit, an integer 序号 used once, ``required`` (when
    given) filled."""
    if table is None:
        return
    first_row: dict[tuple[str, int], int] = {}
    for row in table.rows:
        unit = _check_code(out, table, row, "单位编码")
        who = {"unit_code": unit}
        _check_unit_known(out, table, row, context, **who)
        seq = _checked_seq(out, table, row, who)
        key = (unit, seq)
        if seq is not None and key in first_row:
            out.at(table, row, "序号", rule,
                   f"单位“{unit}”的{what}序号 {seq} 与第 {first_row[key]} 行重复；每个序号只用一次。", **who)
        elif seq is not None:
            first_row[key] = row.number
        if required is not None:
            _check_required(out, table, row, (required,), **who)


def _check_dept_indicators(out: _Findings, table: Table | None, context: _Context) -> None:
    if table is None:
        return
    for row in table.rows:
        unit = _check_code(out, table, row, "单位编码")
        who = {"unit_code": unit}
        _check_unit_known(out, table, row, context, **who)
        seq = _checked_seq(out, table, row, who)
        if seq is not None and (unit, seq) not in (context.goal_keys or frozenset()):
            out.at(table, row, "序号", "M-GOAL-SEQ",
                   f"部门整体指标的序号 {seq} 在单位“{unit}”的“部门整体目标”中不存在；"
                   "请改为已有目标的序号，或先在“部门整体目标”中添加该目标。", **who)
        _check_grid_row(out, table, row, context, who)


