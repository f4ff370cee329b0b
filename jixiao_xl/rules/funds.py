"""The funds rule (R-F1: 预算数 = 财政资金 + 其他资金) and the spending-plan rule (R-F5), in one place.

Everything these two rules say lives here, wherever it is said:

* the judgement in Python, run on every returned project sheet (``import``) and on the master itself
  (``master check`` and ``generate``, through :mod:`jixiao_xl.precheck`, with ``RuleConfig.origin``
  :data:`~.config.FROM_MASTER`), with the finding messages for each;
* the live checks the generated form shows beside the money and the plan (:func:`funds_live_check`,
  :func:`plan_total_live_check`, :func:`plan_order_live_check`): the Excel formula text, and the value it
  has on the form as issued, written as the formula's cached result so that a viewer that does not
  recalculate shows the same words;
* what a 支出计划 input cell accepts and the hint Excel shows on it (:func:`plan_input`), and the criteria of
  the conditional formats that colour the checks (:func:`verdict_criteria`, :func:`plan_end_criteria`).

:mod:`jixiao_xl.fill` only places these: it passes the cells' A1 references in and writes what comes back.
Nothing here imports a spreadsheet library.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator, Sequence

from ..findings import Finding
from ..model import Project
from .context import CheckedSheet, column_name
from .rows import IndicatorRow, as_text

# The template fields that show a live check, and the marks their text starts with.
LIVE_CHECK_FIELDS = ("check.funds", "check.plan", "check.order")
PASSED, FAILED = "✓", "✗"

# --------------------------------------------------------------------------------------------------
# The rules, run on a return or on the master
# --------------------------------------------------------------------------------------------------


def check_funds(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-F1: 预算数 = 财政资金 + 其他资金, none of them negative."""
    unit = ctx.config.money_unit
    if project.budget is None:
        yield ctx.finding("R-F1", _blank_budget_message(ctx), "budget", expected="预算数")
        return
    for key, amount in (("budget", project.budget), ("fiscal", project.fiscal), ("other", project.other)):
        if amount is not None and amount < 0:
            yield ctx.finding("R-F1", f"{column_name(key)}为 {as_text(amount)} {unit}，金额不能为负数；请改正。",
                              key, value=as_text(amount), expected="≥ 0")
    if project.fiscal is None and project.other is None:
        yield ctx.finding("R-F1", f"财政资金和其他资金都没有填写，无法与预算数 {as_text(project.budget)} {unit} 核对；"
                                  f"请填写资金来源，使 财政资金 + 其他资金 = 预算数。", "fiscal", expected=as_text(project.budget))
        return
    total = (project.fiscal or Decimal(0)) + (project.other or Decimal(0))
    if total != project.budget:
        yield ctx.finding(
            "R-F1",
            f"预算数 {as_text(project.budget)} {unit}不等于财政资金 {as_text(project.fiscal) or '0'} {unit}与其他资金 "
            f"{as_text(project.other) or '0'} {unit}之和 {as_text(total)} {unit}；请核对三项金额，使 财政资金 + 其他资金 = 预算数。",
            "budget", value=as_text(project.budget), expected=as_text(total))


def _blank_budget_message(ctx: CheckedSheet) -> str:
    """R-F1 for a blank 预算数: the bureau fills it in the master; a unit cannot, it was issued locked."""
    if ctx.config.on_master:
        return f"预算数为空；请在主数据“项目”表中填写该项目的预算数（{ctx.config.money_unit}）。"
    return "预算数为空；预算数由主管部门下发，请不要删除，或联系主管部门重新下发表格。"


def check_plan(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-F5: the cumulative spending plan is filled, ≥ 0, non-decreasing, within and ending at the budget."""
    nodes = ctx.config.plan_nodes
    previous: tuple[str, Decimal] | None = None
    for node in nodes:
        amount = project.plan_amount(node)
        if amount is None:
            yield _plan_blank(ctx, project, node, node == nodes[-1], previous)
            continue
        yield from _plan_node(ctx, project, node, amount, previous)
        previous = (node, amount)
    last = project.plan_amount(nodes[-1]) if nodes else None
    if last is not None and project.budget is not None and 0 <= last < project.budget:
        yield ctx.finding("R-F5", f"支出计划最后一个节点“{nodes[-1]}”为 {as_text(last)} {ctx.config.money_unit}，"
                                  f"应等于预算数 {as_text(project.budget)} {ctx.config.money_unit}；请按全年支出完预算填写。",
                          f"plan.{nodes[-1]}", value=as_text(last), expected=as_text(project.budget))


def _plan_blank(ctx: CheckedSheet, project: Project, node: str, last: bool,
                previous: tuple[str, Decimal] | None) -> Finding:
    """R-F5 for a blank plan node (on the master, a blank last node also says how much is still to plan)."""
    unit = ctx.config.money_unit
    tail = f"，最后一个节点应等于预算数 {as_text(project.budget)} {unit}" if last and project.budget is not None else ""
    if tail and ctx.config.on_master and previous is not None:
        tail += (f"（截至{previous[0]}已安排 {as_text(previous[1])} {unit}，"
                 f"还差 {as_text(project.budget - previous[1])} {unit}）")
    return ctx.finding("R-F5", f"支出计划“{node}”没有填写；请填写截至{node}的累计支出金额（{unit}）{tail}。",
                       f"plan.{node}", expected=as_text(project.budget) if last else "累计支出金额")


def _plan_node(ctx: CheckedSheet, project: Project, node: str, amount: Decimal,
               previous: tuple[str, Decimal] | None) -> Iterator[Finding]:
    """R-F5 for one filled node: not negative, not below the previous node, not above the budget."""
    unit, path = ctx.config.money_unit, f"plan.{node}"
    if amount < 0:
        yield ctx.finding("R-F5", f"支出计划“{node}”为 {as_text(amount)} {unit}，不能为负数；请填写累计支出金额。",
                          path, value=as_text(amount), expected="≥ 0")
    elif previous is not None and amount < previous[1]:
        yield ctx.finding("R-F5", f"支出计划“{node}”为 {as_text(amount)} {unit}，比“{previous[0]}”的 {as_text(previous[1])} {unit}"
                                  f"还少；支出计划填写累计数，后一节点不能小于前一节点，请改正。",
                          path, value=as_text(amount), expected=f"≥ {as_text(previous[1])}")
    if project.budget is not None and amount > project.budget:
        yield ctx.finding("R-F5", f"支出计划“{node}”为 {as_text(amount)} {unit}，超过预算数 {as_text(project.budget)} {unit}；"
                                  f"累计支出计划不能超过预算数，请改正。",
                          path, value=as_text(amount), expected=f"≤ {as_text(project.budget)}")


# --------------------------------------------------------------------------------------------------
# The live checks on the generated form
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveCheck:
    """A check the form recalculates as the unit types: its Excel formula and its value as issued."""

    formula: str
    cached: str


def money_text(amount: object) -> str:
    """An amount with two decimals, as the live checks and the plan hints show it ("12.50")."""
    return f"{Decimal(amount).quantize(Decimal('0.01'))}"


def funds_live_check(budget: str, fiscal: str, other: str, project: Project) -> LiveCheck:
    """R-F1 on the form: 财政资金 + 其他资金 against 预算数, given the three cells' references."""
    formula = (f'=IF(ROUND(N({fiscal})+N({other})-N({budget}),2)=0,"✓ 财政资金+其他资金=预算数",'
               f'"✗ 财政资金+其他资金与预算数相差"&TEXT(N({fiscal})+N({other})-N({budget}),"0.00"))')
    diff = (project.fiscal or 0) + (project.other or 0) - (project.budget or 0)
    cached = "✓ 财政资金+其他资金=预算数" if diff == 0 else f"✗ 财政资金+其他资金与预算数相差{money_text(diff)}"
    return LiveCheck(formula, cached)


def plan_total_live_check(last: str, budget: str, project: Project, node: str) -> LiveCheck:
    """R-F5 on the form: the last plan node (cell ``last``, named ``node``) equals the 预算数."""
    quoted = node.replace('"', '""')  # a quote inside a formula's string literal is doubled
    formula = (f'=IF({last}="","✗ {quoted}累计支出计划未填写，应等于预算数"&TEXT({budget},"0.00"),'
               f'IF(ROUND({last}-{budget},2)=0,"✓ {quoted}累计支出计划等于预算数",'
               f'IF({last}<{budget},"✗ {quoted}累计支出计划比预算数少"&TEXT({budget}-{last},"0.00"),'
               f'"✗ {quoted}累计支出计划超出预算数"&TEXT({last}-{budget},"0.00"))))')
    return LiveCheck(formula, plan_total_message(project, node))


def plan_order_live_check(amounts: Sequence[str], project: Project) -> LiveCheck:
    """R-F5 on the form: no plan node (cells ``amounts``, one row, in node order) below an earlier one."""
    conditions = [f'AND({ref}<>"",{ref}<MAX({amounts[0]}:{amounts[k - 1]}))' for k, ref in enumerate(amounts) if k > 0]
    condition = f"OR({','.join(conditions)})" if conditions else "FALSE"
    formula = f'=IF({condition},"✗ 累计支出计划出现减少，请检查各节点","✓ 累计支出计划逐步增加")'
    return LiveCheck(formula, plan_order_message(project))


def plan_total_message(project: Project, node: str) -> str:
    """The text the 支出计划 total check shows (same wording as the sheet formula)."""
    last, budget = project.plan_amount(node), project.budget or Decimal(0)
    if last is None:
        return f"✗ {node}累计支出计划未填写，应等于预算数{money_text(budget)}"
    if last == budget:
        return f"✓ {node}累计支出计划等于预算数"
    if last < budget:
        return f"✗ {node}累计支出计划比预算数少{money_text(budget - last)}"
    return f"✗ {node}累计支出计划超出预算数{money_text(last - budget)}"


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


@dataclass(frozen=True)
class PlanInput:
    """What one 支出计划 cell accepts (a decimal from ``minimum`` to ``maximum``) and what Excel says about it."""

    minimum: int
    maximum: Decimal
    title: str
    message: str
    error_title: str
    error_message: str


def plan_input(node: str, money_unit: str, project: Project) -> PlanInput:
    """The input rule of the plan cell of ``node``: a cumulative amount between 0 and the 预算数."""
    budget = project.budget or Decimal(0)
    return PlanInput(
        minimum=0, maximum=budget, title=f"{node}累计支出计划",
        message=f"填写截至{node}累计计划支出金额（{money_unit}），0 到预算数 {money_text(budget)} 之间，"
                f"各节点逐步增加，最后一个节点等于预算数。",
        error_title="金额不对", error_message=f"请填写 0 到 {money_text(budget)} 之间的数字（{money_unit}）。")


def verdict_criteria(ref: str, mark: str) -> str:
    """The conditional-format formula true when the live check at ``ref`` starts with ``mark`` (✓ or ✗)."""
    return f'=LEFT({ref},1)="{mark}"'


def plan_end_criteria(last: str, budget: str) -> str:
    """The conditional-format formula true while the last plan node is blank or differs from the 预算数."""
    return f'=OR({last}="",ROUND(N({last})-N({budget}),2)<>0)'
