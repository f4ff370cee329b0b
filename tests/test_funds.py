"""The funds and plan rules' live checks (jixiao_xl.rules.funds): the formulas a generated form carries,
the values they show as issued, and agreement with the Python rule that judges the return."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jixiao_xl.model import PlanPoint, Project
from jixiao_xl.rules import RuleConfig, check_project, funds
from jixiao_xl.submission import ReturnedProject

D = Decimal
NODES = ("6月底", "12月底")
CONFIG = RuleConfig(framework="2015", weight_total=None, money_unit="万元", year=2022, plan_nodes=NODES)


def project(budget="10.00", fiscal="8.00", other="2.00", plan=("4.00", "10.00")) -> Project:
    amounts = [None if a is None else D(a) for a in plan]
    return Project(unit_code="435001", code="P001", name="测试项目", budget=D(budget) if budget else None,
                   fiscal=D(fiscal) if fiscal else None, other=D(other) if other else None,
                   plan=tuple(PlanPoint(n, a) for n, a in zip(NODES, amounts)))


def test_the_funds_check_formula_and_its_value_as_issued():
    check = funds.funds_live_check("$B$4", "$D$4", "$F$4", project())
    assert check.formula == ('=IF(ROUND(N($D$4)+N($F$4)-N($B$4),2)=0,"✓ 财政资金+其他资金=预算数",'
                             '"✗ 财政资金+其他资金与预算数相差"&TEXT(N($D$4)+N($F$4)-N($B$4),"0.00"))')
    assert check.cached == "✓ 财政资金+其他资金=预算数"
    assert funds.funds_live_check("B4", "D4", "F4", project(fiscal="7.5")).cached == "✗ 财政资金+其他资金与预算数相差-0.50"


@pytest.mark.parametrize("plan, shown", [
    (("4.00", "10.00"), "✓ 12月底累计支出计划等于预算数"),
    (("4.00", None), "✗ 12月底累计支出计划未填写，应等于预算数10.00"),
    (("4.00", "9.5"), "✗ 12月底累计支出计划比预算数少0.50"),
    (("4.00", "12"), "✗ 12月底累计支出计划超出预算数2.00"),
])
def test_the_plan_total_check_shows_what_its_formula_would(plan, shown):
    assert funds.plan_total_live_check("C7", "$B$4", project(plan=plan), "12月底").cached == shown


def test_a_quote_in_a_node_name_is_doubled_in_the_formula_only():
    check = funds.plan_total_live_check("C7", "$B$4", project(), '12月"底')
    assert '"✓ 12月""底累计支出计划等于预算数"' in check.formula
    assert check.cached == '✗ 12月"底累计支出计划未填写，应等于预算数10.00'  # no node of that name in the plan


def test_the_plan_order_check_compares_each_node_with_the_highest_before_it():
    check = funds.plan_order_live_check(["B7", "C7", "D7"], project(plan=("6", "5")))
    assert check.formula == ('=IF(OR(AND(C7<>"",C7<MAX(B7:B7)),AND(D7<>"",D7<MAX(B7:C7))),'
                             '"✗ 累计支出计划出现减少，请检查各节点","✓ 累计支出计划逐步增加")')
    assert check.cached == "✗ 累计支出计划出现减少，请检查各节点"
    single = funds.plan_order_live_check(["B7"], project())
    assert single.formula.startswith("=IF(FALSE,") and single.cached == "✓ 累计支出计划逐步增加"


def test_a_plan_cell_accepts_0_to_the_budget_and_says_so():
    hint = funds.plan_input("6月底", "万元", project(budget="12.5"))
    assert (hint.minimum, hint.maximum, hint.title) == (0, D("12.5"), "6月底累计支出计划")
    assert hint.message == "填写截至6月底累计计划支出金额（万元），0 到预算数 12.50 之间，各节点逐步增加，最后一个节点等于预算数。"
    assert hint.error_message == "请填写 0 到 12.50 之间的数字（万元）。"
    assert funds.plan_input("6月底", "元", project(budget=None)).maximum == 0


def test_the_conditional_formats_look_at_the_check_marks_and_the_last_node():
    assert funds.verdict_criteria("$H$4", funds.FAILED) == '=LEFT($H$4,1)="✗"'
    assert funds.plan_end_criteria("E7", "$B$4") == '=OR(E7="",ROUND(N(E7)-N($B$4),2)<>0)'


cents = st.integers(min_value=0, max_value=10**8).map(lambda n: D(n).scaleb(-2))


@given(budget=cents, fiscal=cents, other=cents)
def test_the_form_and_the_import_agree_on_the_funds(budget, fiscal, other):
    p = replace(project(), budget=budget, fiscal=fiscal, other=other)
    shown = funds.funds_live_check("B4", "D4", "F4", p).cached
    found = [f for f in check_project(ReturnedProject(p.code, "表", p, {}), CONFIG) if f.rule == "R-F1"]
    assert shown.startswith(funds.FAILED) == bool(found)
