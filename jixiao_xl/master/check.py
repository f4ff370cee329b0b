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
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Mapping

from .. import catalogue, taxonomy
from ..findings import Finding
from ..model import Settings
from .format import REQUIRED_COLUMNS, SHEETS, MasterError, plan_header
from .settings import _SETTING_SPECS, _money, _seq, _setting_rows, _setting_value, _settings, _split_nodes, \
    canonical_operator
from .tables import Row, Table, Tables, read_tables

_SOURCE = catalogue.SOURCE_TOOL  # the master's layout is the tool's own
_LEVELS_SOURCE = f"{catalogue.SOURCE_88}、{catalogue.SOURCE_101}：绩效指标体系的一级、二级指标名称"
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
        catalogue.define("M-NUMBER", "error", "数值无法识别或为负数",
                         "只填写数字（不带单位和符号），金额不能为负数", _SOURCE),
        catalogue.define("M-FUNDS", "error", "财政资金与其他资金之和不等于预算数",
                         "改正预算数、财政资金或其他资金，使 财政资金 + 其他资金 = 预算数",
                         f"{catalogue.SOURCE_88} 附件 项目支出绩效目标申报表：资金总额 = 财政拨款 + 其他资金"),
        catalogue.define("M-PLAN-SHORT", "error", "支出计划最后节点不等于预算数",
                         "最后一个支出计划节点填写累计数，等于预算数", _SOURCE),
        catalogue.define("M-PLAN-DECREASE", "error", "累计支出计划比前一节点小",
                         "支出计划填写累计数，后一节点不小于前一节点", _SOURCE),
        catalogue.define("M-PLAN-OVER", "error", "支出计划节点超过预算数",
                         "各节点的累计支出计划不得超过预算数", _SOURCE),
        catalogue.define("M-LEVEL1", "error", "一级指标不在指标体系中",
                         "从下拉列表选择一级指标，或在“设置”中改正指标体系", _LEVELS_SOURCE),
        catalogue.define("M-LEVEL2", "error", "二级指标不属于其一级指标",
                         "从该一级指标下的二级指标中选择", _LEVELS_SOURCE),
        catalogue.define("M-LEVEL-ALIAS", "info", "一级/二级指标写的是简称或旧称，已按指标体系的标准名称读取",
                         "无需处理；生成的表格中写标准名称，建议在主数据中也改为标准名称（如“产出”改为“产出指标”）",
                         _LEVELS_SOURCE),
        catalogue.define("M-OPERATOR", "error", "指标性质无效",
                         "从下拉列表选择 ≥ ＞ ＝ ＜ ≤ 或 定性", _SOURCE),
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
    settings = _settings(tables.table("设置"))
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
        goal_keys = frozenset((r.get("单位编码"), s) for r in goals.rows if (s := _seq(r)) is not None)
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
    rows = _setting_rows(table)
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
    spec = _SETTING_SPECS[key]
    try:
        _setting_value(key, text)
    except ValueError:
        shown = f"“{text}”无法识别" if text else "为空"
        out.at(table, row, "值", "M-SETTING", f"设置“{key}”的值{shown}；{spec.hint}。", field=key, expected=spec.hint)
        return
    if key == "支出计划节点":
        nodes = _split_nodes(text)
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
    unit = settings.money_unit
    budget = _checked_amount(out, table, row, "预算数", unit, who, required=True)
    fiscal = _checked_amount(out, table, row, "财政资金", unit, who)
    other = _checked_amount(out, table, row, "其他资金", unit, who)
    if budget is not None:
        _check_funds(out, table, row, budget, fiscal, other, unit, who)
    plan = [(node, _checked_amount(out, table, row, plan_header(node), unit, who)) for node in settings.plan_nodes]
    if budget is not None and plan and table.has(plan_header(plan[-1][0])):
        _check_plan(out, table, row, budget, plan, unit, who)


def _checked_amount(out: _Findings, table: Table, row: Row, header: str, unit: str, who: dict[str, str],
                    required: bool = False) -> Decimal | None:
    """The amount under ``header`` when it is a valid number ≥ 0; reports it and gives None otherwise."""
    text = row.get(header)
    if not text:
        if required and table.has(header):
            out.at(table, row, header, "M-REQUIRED", f"{_project_label(row)}的{header}为空；请填写金额（{unit}）。", **who)
        return None
    amount = _money(text)
    if amount is None:
        out.at(table, row, header, "M-NUMBER",
               f"{_project_label(row)}的{header}“{text}”不是数字；请只填写数字，金额单位为{unit}，不要带单位或文字。",
               expected=f"数字（{unit}）", **who)
        return None
    if amount < 0:
        out.at(table, row, header, "M-NUMBER", f"{_project_label(row)}的{header}为负数；金额不能为负数，请改正。",
               expected="≥ 0", **who)
        return None
    return amount


def _project_label(row: Row) -> str:
    name = row.get("项目名称") or row.get("项目编码")
    return f"项目“{name}”" if name else f"第 {row.number} 行项目"


def _amount_text(amount: Decimal) -> str:
    """Money as shown to users: at least two decimals (6 → '6.00', 0.125 → '0.125')."""
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(amount.normalize(), "f")
    return f"{amount:.2f}"


def _check_funds(out: _Findings, table: Table, row: Row, budget: Decimal, fiscal: Decimal | None,
                 other: Decimal | None, unit: str, who: dict[str, str]) -> None:
    texts = (row.get("财政资金"), row.get("其他资金"))
    if not any(texts) or (texts[0] and fiscal is None) or (texts[1] and other is None):
        return
    total = (fiscal or Decimal(0)) + (other or Decimal(0))
    if total == budget:
        return
    header = "财政资金" if table.has("财政资金") else "其他资金"
    out.at(table, row, header, "M-FUNDS",
           f"{_project_label(row)}的财政资金 {_amount_text(fiscal or Decimal(0))} + 其他资金 "
           f"{_amount_text(other or Decimal(0))} = {_amount_text(total)} {unit}，不等于预算数 {_amount_text(budget)} {unit}；"
           "请改正，使两者之和等于预算数。",
           value=_amount_text(total), expected=_amount_text(budget), **who)


def _check_plan(out: _Findings, table: Table, row: Row, budget: Decimal,
                plan: list[tuple[str, Decimal | None]], unit: str, who: dict[str, str]) -> None:
    label = _project_label(row)
    highest: tuple[str, Decimal] | None = None
    for index, (node, amount) in enumerate(plan):
        header = plan_header(node)
        if amount is None:
            continue
        if highest and amount < highest[1]:
            out.at(table, row, header, "M-PLAN-DECREASE",
                   f"{label}{node}累计支出计划 {_amount_text(amount)} {unit}，小于{highest[0]}的 {_amount_text(highest[1])} {unit}；"
                   f"支出计划是累计数，请改为不小于 {_amount_text(highest[1])} 的金额。",
                   expected=f"≥ {_amount_text(highest[1])}", **who)
        if index < len(plan) - 1 and amount > budget:
            out.at(table, row, header, "M-PLAN-OVER",
                   f"{label}{node}累计支出计划 {_amount_text(amount)} {unit}，超过预算数 {_amount_text(budget)} {unit}；"
                   "请改为不超过预算数的累计金额。",
                   expected=f"≤ {_amount_text(budget)}", **who)
        if highest is None or amount >= highest[1]:
            highest = (node, amount)
    _check_plan_end(out, table, row, budget, plan, unit, who)


def _check_plan_end(out: _Findings, table: Table, row: Row, budget: Decimal,
                    plan: list[tuple[str, Decimal | None]], unit: str, who: dict[str, str]) -> None:
    node, amount = plan[-1]
    header = plan_header(node)
    label = _project_label(row)
    if amount is None and row.get(header):
        return  # not a number: already reported as M-NUMBER
    if amount is None:
        message = f"{label}最后一个支出计划节点{node}为空，累计支出计划应等于预算数 {_amount_text(budget)} {unit}；" \
                  f"{_planned_so_far(plan[:-1], budget, unit)}请在{node}填写 {_amount_text(budget)}。"
    elif amount != budget:
        gap = f"少 {_amount_text(budget - amount)}" if amount < budget else f"多 {_amount_text(amount - budget)}"
        message = (f"{label}{node}累计支出计划 {_amount_text(amount)} {unit}，比预算数 {_amount_text(budget)} {unit} "
                   f"{gap} {unit}；请把{node}的累计金额改为 {_amount_text(budget)}。")
    else:
        return
    out.at(table, row, header, "M-PLAN-SHORT", message, expected=_amount_text(budget), **who)


def _planned_so_far(earlier: list[tuple[str, Decimal | None]], budget: Decimal, unit: str) -> str:
    filled = [(node, amount) for node, amount in earlier if amount is not None]
    if not filled:
        return f"目前各节点均未安排，差 {_amount_text(budget)} {unit}；"
    node, amount = filled[-1]
    if amount >= budget:
        return ""
    return f"截至{node}已安排 {_amount_text(amount)} {unit}，还差 {_amount_text(budget - amount)} {unit}；"


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
    if text and _money(text) is None:
        out.at(table, row, "权重", "M-NUMBER", f"权重“{text}”不是数字；请填写大于 0 的数字，不要带“分”“%”等文字。",
               expected="大于 0 的数字", **who)


def _check_grid_row(out: _Findings, table: Table, row: Row, context: _Context, who: dict[str, str]) -> None:
    """The checks shared by 绩效指标 and 部门整体指标: required fields, levels, operator, value."""
    _check_required(out, table, row, ("一级指标", "二级指标", "三级指标", "指标性质"), **who)
    _check_levels(out, table, row, context.settings.framework, who)
    operator_text = row.get("指标性质")
    if not operator_text:
        return
    operator = canonical_operator(operator_text)
    if operator not in taxonomy.OPERATORS:
        out.at(table, row, "指标性质", "M-OPERATOR",
               f"指标性质“{operator_text}”无效；请从 {' '.join(taxonomy.OPERATORS)} 中选择。",
               expected="、".join(taxonomy.OPERATORS), **who)
    elif operator in taxonomy.QUANTITATIVE_OPERATORS and not context.values_by_rules:
        _check_quantity(out, table, row, who)


def _check_quantity(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> None:
    text = row.get("指标值")
    if text and _money(text) is None:
        out.at(table, row, "指标值", "M-NUMBER",
               f"定量指标“{row.get('三级指标')}”的指标值“{text}”不是数字；请只填写数字，"
               "符号填在“指标性质”列、单位填在“度量单位”列（如“≥30 个”拆为 ≥、30、个）。",
               expected="数字", **who)


def _check_levels(out: _Findings, table: Table, row: Row, framework: str, who: dict[str, str]) -> None:
    level1_text, level2_text = row.get("一级指标"), row.get("二级指标")
    if not level1_text:
        return
    level1 = taxonomy.canonical_level1(level1_text)
    names = taxonomy.level1_names(framework)
    if level1 not in names:
        out.at(table, row, "一级指标", "M-LEVEL1",
               f"一级指标“{level1_text}”不在{framework}指标体系中；请从 {'、'.join(names)} 中选择。",
               expected="、".join(names), **who)
        return
    _note_alias(out, table, row, "一级指标", level1_text, level1, who)
    level2 = taxonomy.canonical_level2(level2_text)
    children = taxonomy.level2_names(framework, level1)
    if level2_text and level2 not in children:
        owner = taxonomy.parent_of(framework, level2)
        hint = f"“{level2}”属于“{owner}”；" if owner else ""
        out.at(table, row, "二级指标", "M-LEVEL2",
               f"二级指标“{level2_text}”不属于一级指标“{level1}”；{hint}请从 {'、'.join(children)} 中选择，或改正一级指标。",
               expected="、".join(children), **who)
    elif level2_text:
        _note_alias(out, table, row, "二级指标", level2_text, level2, who)


def _note_alias(out: _Findings, table: Table, row: Row, header: str, text: str, standard: str,
                who: dict[str, str]) -> None:
    """M-LEVEL-ALIAS (info): a 一级/二级 written as a variant ('产出') that forms will show as ``standard``."""
    if taxonomy.compact(text) == standard:
        return
    out.at(table, row, header, "M-LEVEL-ALIAS",
           f"{header}“{text}”是“{standard}”的简称或旧称，已按“{standard}”读取；生成的表格中写作“{standard}”，"
           f"下拉列表才能找到其下的二级指标。建议在主数据中改为“{standard}”。", expected=standard, **who)


def _checked_seq(out: _Findings, table: Table, row: Row, who: dict[str, str]) -> int | None:
    text = row.get("序号")
    if not text:
        _check_required(out, table, row, ("序号",), **who)
        return None
    seq = _seq(row)
    if seq is None or seq < 0:
        out.at(table, row, "序号", "M-NUMBER", f"序号“{text}”不是整数；请填写 0、1、2 …（0 为总体绩效目标）。",
               expected="不小于 0 的整数", **who)
        return None
    return seq


def _check_dept_goals(out: _Findings, table: Table | None, context: _Context) -> None:
    _check_numbered_rows(out, table, context, "M-GOAL-SEQ", "部门整体目标", "绩效目标")


def _check_measures(out: _Findings, table: Table | None, context: _Context) -> None:
    _check_numbered_rows(out, table, context, "M-MEASURE-SEQ", "保障措施", "措施名称")


def _check_numbered_rows(out: _Findings, table: Table | None, context: _Context, rule: str, what: str,
                         required: str) -> None:
    """Rows numbered per unit (部门整体目标, 保障措施): known unit, an integer 序号 used once, ``required`` filled."""
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


