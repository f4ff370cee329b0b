"""The review rules of docs/domain.md §1d (jixiao_xl.rules).

Projects are built from model objects with a fake location for every field, so each finding's sheet and
cell can be asserted exactly: indicator k sits on row 11+k (一级 A … 权重 I), the plan nodes on row 7
(B..E), 预算数 B4, 财政资金 D4, 其他资金 F4, 年度绩效目标 B8.
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao_xl import catalogue
from jixiao_xl.errors import InputError
from jixiao_xl.findings import Finding
from jixiao_xl.master import load_sample
from jixiao_xl.model import DeptGoal, DeptIndicator, Indicator, PlanPoint, Project, Settings
from jixiao_xl.rules import (FROM_MASTER, FROM_RETURN, RuleConfig, catalogue_rules, check_dept, check_project,
                             check_submission)
from jixiao_xl.submission import Location, ReturnedDept, ReturnedProject, Submission
from jixiao_xl.values import split_indicator_value

D = Decimal
NODES = ("3月底", "6月底", "10月底", "12月底")
SHEET = "测试项目"
COLUMNS = dict(zip(("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight"),
                   "ABCDEFGHI"))
PROJECT_CELLS = {"code": "B3", "name": "D3", "budget": "B4", "fiscal": "D4", "other": "F4", "annual_goal": "B8"}
CONFIG = RuleConfig(framework="2015", weight_total=None, money_unit="万元", year=2022, plan_nodes=NODES)

OUT, BEN, SAT = "产出指标", "效益指标", "满意度指标"

SPEC_CODES = (
    [f"R-S{i}" for i in range(1, 8)] + [f"R-V{i}" for i in range(1, 8)] + [f"R-R{i}" for i in range(1, 7)]
    + [f"R-C{i}" for i in range(1, 6)] + [f"R-W{i}" for i in range(1, 5)] + ["R-D1"]
    + [f"R-F{i}" for i in range(1, 6)]
)


# --------------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------------


def ind(level1, level2, name, operator, value, unit="", basis="计划标准", weight=None) -> Indicator:
    return Indicator(level1, level2, name, description=name, operator=operator, value=value, unit=unit,
                     basis=basis, weight=weight)


def good_project() -> Project:
    """A project every rule accepts."""
    return Project(
        unit_code="435001", code="P001", name="测试项目", budget=D("10.00"), fiscal=D("8.00"), other=D("2.00"),
        purpose="设备维护", annual_goal="完成 200 人次培训，设备故障率控制在 5% 以内。",
        plan=tuple(PlanPoint(n, D(a)) for n, a in zip(NODES, ("2.50", "5.00", "7.50", "10.00"))),
        indicators=(
            ind(OUT, "数量指标", "培训人次", "≥", D(200), "人次"),
            ind(OUT, "质量指标", "设备故障率", "≤", D(5), "%", "行业标准"),
            ind(OUT, "时效指标", "项目完成时间", "定性", "2022年12月底前"),
            ind(OUT, "成本指标", "设备维护费用", "≤", D(10), "万元", "预算支出标准"),
            ind(BEN, "社会效益指标", "群众办事便利度", "定性", "明显提升"),
            ind(BEN, "可持续影响指标", "设备正常运行率", "≥", D(98), "%"),
            ind(SAT, "服务对象满意度指标", "群众满意率", "≥", D(90), "%", "其他标准"),
        ),
    )


def _raw(value) -> str:
    return "" if value is None else str(value)


def locations(project: Project, sheet: str = SHEET) -> dict[str, Location]:
    """A fake location, with the raw text, for every field of ``project``."""
    found = {path: Location(sheet, cell, "name", _raw(getattr(project, path))) for path, cell in PROJECT_CELLS.items()}
    for j, node in enumerate(NODES):
        found[f"plan.{node}"] = Location(sheet, f"{'BCDE'[j]}7", "name", _raw(project.plan_amount(node)))
    for k, indicator in enumerate(project.indicators):
        for name, column in COLUMNS.items():
            found[f"ind{k}.{name}"] = Location(sheet, f"{column}{11 + k}", "name", _raw(getattr(indicator, name)))
    return found


def returned(project: Project, sheet: str = SHEET, notes=None) -> ReturnedProject:
    return ReturnedProject(project.code, sheet, project, locations(project, sheet), notes or {})


def with_ind(project: Project, k: int, **changes) -> Project:
    indicators = list(project.indicators)
    indicators[k] = replace(indicators[k], **changes)
    return replace(project, indicators=tuple(indicators))


def with_plan(project: Project, **amounts) -> Project:
    """Change plan nodes: with_plan(p, n12月底=None)."""
    wanted = {key[1:]: value for key, value in amounts.items()}
    plan = tuple(PlanPoint(p.node, wanted.get(p.node, p.amount)) for p in project.plan)
    return replace(project, plan=plan)


def without_level1(project: Project, level1: str) -> Project:
    return replace(project, indicators=tuple(i for i in project.indicators if i.level1 != level1))


def add_ind(project: Project, indicator: Indicator) -> Project:
    return replace(project, indicators=project.indicators + (indicator,))


def found(findings, rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def cells(findings, rule: str) -> set[tuple[str, str, str]]:
    return {(f.sheet, f.cell, f.severity) for f in findings if f.rule == rule}


# --------------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------------


def test_every_rule_of_the_spec_is_registered_with_chinese_texts_and_a_source():
    rules = catalogue_rules()
    assert [r.code for r in rules] == SPEC_CODES
    for rule in rules:
        assert catalogue.get(rule.code) == rule
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rule.title)
        assert rule.source.startswith(catalogue.PUBLIC_SOURCES + (catalogue.SOURCE_TOOL,)), rule.code
    assert catalogue.get("R-V4").severity == "warning" and catalogue.get("R-C1").severity == "error"


@pytest.mark.parametrize("code, words", [
    ("R-D1", "不检查"), ("R-W2", "不检查"), ("R-F3", "X-TAMPER"), ("R-F4", "X-TAMPER"), ("R-R5", "项目期"),
    ("R-F2", "收入性质"),
])
def test_rules_that_cannot_fully_apply_say_so_in_their_title(code, words):
    assert words in catalogue.get(code).title


# --------------------------------------------------------------------------------------------------
# One project: every rule fails on a defect and passes on a near miss
# --------------------------------------------------------------------------------------------------


def test_a_good_project_has_no_findings():
    assert check_project(returned(good_project()), CONFIG) == []


NOTE_V4 = split_indicator_value("≥200人次", "≥", "人次").notes[0]
NOTE_V5 = split_indicator_value("28.8万元", "", "%").notes[0]

# (rule, how the good project is broken, sheet cell, severity)
FAILING = [
    ("R-S1", lambda p: with_ind(p, 5, level1="绩效指标"), "A16", "error"),
    ("R-S1", lambda p: with_ind(p, 4, level2="质量指标"), "B15", "error"),
    ("R-S1", lambda p: with_ind(p, 4, level1=""), "A15", "error"),
    ("R-S1", lambda p: with_ind(p, 4, level2="环境效益指标"), "B15", "info"),
    ("R-S2", lambda p: with_ind(p, 0, name=""), "C11", "error"),
    ("R-S2", lambda p: with_ind(p, 0, operator=""), "E11", "error"),
    ("R-S2", lambda p: with_ind(p, 0, operator="大约"), "E11", "error"),
    ("R-S2", lambda p: with_ind(p, 0, value=None), "F11", "error"),
    ("R-S3", lambda p: without_level1(p, BEN), "B3", "error"),      # at the project's 项目编码
    ("R-S3", lambda p: without_level1(p, SAT), "B3", "warning"),
    ("R-S4", lambda p: add_ind(p, Indicator(BEN, "经济效益指标", "")), "B18", "warning"),
    ("R-S5", lambda p: with_ind(p, 0, name="数量指标"), "C11", "warning"),
    ("R-S6", lambda p: with_ind(p, 5, name="培训人次"), "C16", "warning"),
    ("R-S7", lambda p: replace(p, annual_goal=""), "B8", "error"),
    ("R-S7", lambda p: replace(p, annual_goal="1.目标内容 1"), "B8", "warning"),
    ("R-V1", lambda p: with_ind(p, 0, value="约两百"), "F11", "error"),
    ("R-V1", lambda p: with_ind(p, 0, value=D("200.1234")), "F11", "error"),
    ("R-V2", lambda p: with_ind(p, 0, unit=""), "G11", "error"),
    ("R-V2", lambda p: with_ind(p, 4, unit="个"), "G15", "warning"),
    ("R-V2", lambda p: with_ind(p, 0, unit="坨"), "G11", "warning"),
    ("R-V3", lambda p: with_ind(p, 0, value="XX"), "F11", "error"),
    ("R-V6", lambda p: with_ind(p, 0, value="培训≥100人次,宣传≥50次"), "F11", "warning"),
    ("R-V7", lambda p: with_ind(p, 6, operator="定性", value="满意", unit=""), "E17", "warning"),
    ("R-V7", lambda p: with_ind(p, 0, operator="定性", value="较多", unit=""), "E11", "warning"),
    ("R-V7", lambda p: with_ind(with_ind(p, 0, operator="定性", value="较多", unit=""), 5, operator="定性",
                                value="较高", unit="", name="设备运行情况"), "E11", "warning"),
    ("R-R1", lambda p: with_ind(p, 5, value=D(120)), "F16", "error"),
    ("R-R1", lambda p: with_ind(p, 5, value=D(-1)), "F16", "error"),
    ("R-R1", lambda p: with_ind(p, 5, unit="", value=D(101)), "F16", "error"),
    ("R-R2", lambda p: with_ind(p, 6, operator="≤", value=D(100)), "E17", "warning"),
    ("R-R2", lambda p: with_ind(p, 6, operator="＝"), "E17", "warning"),
    ("R-R2", lambda p: with_ind(p, 6, unit="人"), "G17", "warning"),
    ("R-R2", lambda p: with_ind(p, 6, value=D(60)), "F17", "warning"),
    ("R-R2", lambda p: with_ind(p, 4, name="电话及网络运行的满意率", operator="≤", value=D(100), unit="%"), "E15",
     "warning"),
    ("R-R3", lambda p: with_ind(p, 1, operator="≥", value=D(98)), "E12", "warning"),
    ("R-R3", lambda p: with_ind(p, 1, operator="＝", value=D(2)), "E12", "warning"),
    ("R-R4", lambda p: with_ind(p, 0, unit="%", value=D(60)), "G11", "warning"),
    ("R-R4", lambda p: with_ind(p, 0, name="宣传覆盖率", unit="%", value=D(60)), "G11", "warning"),
    ("R-R5", lambda p: with_ind(p, 2, value="2023年6月底前"), "F13", "warning"),
    ("R-R5", lambda p: with_ind(p, 2, value="2022.07-2023.01"), "F13", "warning"),
    ("R-C1", lambda p: with_ind(p, 3, value=D(12)), "F14", "error"),
    ("R-C1", lambda p: with_ind(p, 3, value=D(120000), unit="元"), "F14", "error"),
    ("R-C2", lambda p: with_ind(p, 3, operator="≥"), "E14", "warning"),
    ("R-C2", lambda p: with_ind(p, 3, operator="＝", value=D(8)), "E14", "warning"),
    ("R-C3", lambda p: with_ind(p, 3, basis="《某某文件》"), "H14", "warning"),
    ("R-C3", lambda p: with_ind(p, 3, basis=""), "H14", "warning"),
    ("R-C5", lambda p: with_ind(p, 3, unit="%", value=D(100)), "G14", "warning"),
    ("R-F1", lambda p: replace(p, fiscal=D("7.00")), "B4", "error"),
    ("R-F1", lambda p: replace(p, fiscal=None, other=None), "D4", "error"),
    ("R-F1", lambda p: replace(p, budget=None), "B4", "error"),
    ("R-F1", lambda p: replace(p, other=D("-1.00"), fiscal=D("11.00")), "F4", "error"),
    ("R-F5", lambda p: with_plan(p, n12月底=None), "E7", "error"),
    ("R-F5", lambda p: with_plan(p, n6月底=D("2.00")), "C7", "error"),
    ("R-F5", lambda p: with_plan(p, n12月底=D("9.00")), "E7", "error"),
    ("R-F5", lambda p: with_plan(p, n10月底=D("11.00"), n12月底=D("11.00")), "D7", "error"),
    ("R-F5", lambda p: with_plan(p, n3月底=D("-1.00")), "B7", "error"),
]


@pytest.mark.parametrize("rule, mutate, cell, severity", FAILING,
                         ids=[f"{rule}-{i}" for i, (rule, *_) in enumerate(FAILING)])
def test_rule_finds_the_defect_at_its_cell(rule, mutate, cell, severity):
    findings = check_project(returned(mutate(good_project())), CONFIG)
    assert (SHEET, cell, severity) in cells(findings, rule), [(f.rule, f.cell, f.message) for f in findings]


# (rule, a change that looks suspicious but is allowed)
PASSING = [
    ("R-S1", lambda p: with_ind(p, 4, level2="社会效益")),
    ("R-S1", lambda p: with_ind(p, 6, level1=BEN, level2="社会公众或服务对象满意度指标")),
    ("R-S2", lambda p: with_ind(p, 0, operator=">=")),
    ("R-S3", lambda p: with_ind(p, 6, level1=BEN, level2="社会公众或服务对象满意度指标")),
    ("R-S4", lambda p: add_ind(p, Indicator("", "", ""))),
    ("R-S5", lambda p: with_ind(p, 0, name="数量指标完成率", unit="%", value=D(100))),
    ("R-S6", lambda p: with_ind(p, 5, name="培训人次达标率")),
    ("R-S7", lambda p: replace(p, annual_goal="1.完成培训；2.提升满意度")),
    ("R-V1", lambda p: with_ind(p, 0, value="200")),
    ("R-V1", lambda p: with_ind(p, 0, value=D("200.125"))),
    ("R-V2", lambda p: with_ind(p, 0, unit="元/人·月")),
    ("R-V3", lambda p: with_ind(p, 4, value="明显提升")),
    ("R-V6", lambda p: with_ind(p, 2, value="6月底前完成招标、12月底前完成验收")),
    ("R-V7", lambda p: with_ind(p, 5, operator="定性", value="稳定", unit="", name="设备运行情况",
                                description="设备运行平稳")),
    ("R-R1", lambda p: with_ind(p, 5, value=D(100))),
    ("R-R1", lambda p: with_ind(p, 0, name="培训频率", unit="次", value=D(200))),
    ("R-R2", lambda p: with_ind(p, 6, operator="＞", value=D(85))),
    ("R-R2", lambda p: with_ind(p, 4, name="群众办事满意程度", operator="≤", value=D(100), unit="%")),
    ("R-R3", lambda p: with_ind(p, 1, operator="＝", value=D(0))),
    ("R-R3", lambda p: with_ind(p, 1, operator="＜")),
    ("R-R4", lambda p: with_ind(p, 1, unit="%")),
    ("R-R5", lambda p: with_ind(p, 2, value="12月底前")),
    ("R-R5", lambda p: with_ind(p, 2, operator="≤", value=D(30), unit="天")),
    ("R-C1", lambda p: with_ind(p, 3, value=D(100000), unit="元")),
    ("R-C1", lambda p: with_ind(p, 3, value=D(50), unit="元/人")),
    ("R-C2", lambda p: with_ind(p, 3, operator="＝")),
    ("R-C2", lambda p: with_ind(p, 3, operator="＜")),
    ("R-C3", lambda p: with_ind(p, 3, basis="计划标准")),
    ("R-C5", lambda p: with_ind(p, 3, unit="元/人", value=D(500))),
    ("R-F1", lambda p: replace(p, fiscal=D("10.00"), other=None)),
    ("R-F5", lambda p: with_plan(p, n3月底=D("0"), n6月底=D("0"))),
]


@pytest.mark.parametrize("rule, mutate", PASSING, ids=[f"{rule}-{i}" for i, (rule, _) in enumerate(PASSING)])
def test_rule_accepts_a_near_miss(rule, mutate):
    findings = check_project(returned(mutate(good_project())), CONFIG)
    assert [f for f in found(findings, rule) if f.severity != "info"] == []


def test_every_implemented_rule_has_a_failing_and_a_passing_case():
    failing = {rule for rule, *_ in FAILING}
    passing = {rule for rule, _ in PASSING}
    tested_below = {"R-V4", "R-V5", "R-C4", "R-W1", "R-W3", "R-W4", "R-R6", "R-F2"}
    registered_only = {"R-W2", "R-D1", "R-F3", "R-F4"}
    assert failing == passing
    assert failing | tested_below | registered_only == set(SPEC_CODES)


ROW_TEXT = st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["XX", "**%", "2023年底前", "≥30个", "-1"]))
ROW = st.builds(
    Indicator,
    level1=st.sampled_from(["", OUT, BEN, SAT, "成本指标", "效果", "过程指标"]),
    level2=st.sampled_from(["", "数量指标", "成本指标", "环境效益指标", "服务对象满意度指标", "社会成本指标", "乱写"]),
    name=st.sampled_from(["", "满意率", "故障率", "数量指标", "费用", "覆盖率"]),
    operator=st.sampled_from(["", "≥", "＞", "＝", "＜", "≤", "定性", ">=", "约"]),
    value=st.one_of(ROW_TEXT, st.decimals(allow_nan=False, allow_infinity=False, places=4)),
    unit=st.sampled_from(["", "%", "个", "万元", "元", "元/人", "坨"]),
    basis=st.sampled_from(["", "计划标准", "预算支出标准", "文件"]),
    weight=st.one_of(st.none(), st.decimals(min_value=-5, max_value=60, places=1)),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(ROW, max_size=9), framework=st.sampled_from(["2015", "2021"]),
       weight_total=st.sampled_from([None, D(90), D(100)]), money_unit=st.sampled_from(["万元", "元"]))
def test_any_grid_gives_well_formed_findings_without_raising(rows, framework, weight_total, money_unit):
    config = replace(CONFIG, framework=framework, weight_total=weight_total, money_unit=money_unit)
    project = replace(good_project(), indicators=tuple(rows))
    for finding in check_project(returned(project), config):
        assert finding.rule in SPEC_CODES and finding.severity in ("error", "warning", "info")
        assert finding.message.endswith("。") and finding.sheet == SHEET
        assert finding.cell and finding.cell[0] in "ABCDEFGHI"


def test_a_finding_names_the_value_the_column_and_the_fix():
    project = with_ind(good_project(), 3, operator="≥", value=D("7.9"))
    project = replace(project, budget=D("5.00"), fiscal=D("5.00"), other=None)
    project = with_plan(project, n3月底=D("1.25"), n6月底=D("2.50"), n10月底=D("3.75"), n12月底=D("5.00"))
    rp = returned(project)
    [cap] = found(check_project(rp, CONFIG), "R-C1")
    assert cap.message == ("成本指标“设备维护费用”为 7.9 万元，高于项目预算数 5.00 万元；成本指标不应超过预算数，"
                           "请改为不超过 5.00 万元并将指标性质改为“≤”。")
    assert (cap.project_code, cap.unit_code, cap.field, cap.value, cap.expected, cap.found_by) == (
        "P001", "435001", "指标值", "7.9", "≤ 5.00 万元", "name")


def test_a_cost_in_yuan_is_converted_before_it_is_compared():
    [cap] = found(check_project(returned(with_ind(good_project(), 3, value=D(120000), unit="元")), CONFIG), "R-C1")
    assert "120000 元（合 12 万元），高于项目预算数 10.00 万元" in cap.message


def test_a_finding_shows_the_raw_text_of_the_cell_when_the_reader_kept_it():
    rp = returned(with_ind(good_project(), 1, operator="≥", value=D(98)))
    locs = dict(rp.locations)
    locs["ind1.operator"] = Location(SHEET, "E12", "label", "≥（大于等于）")
    [neg] = found(check_project(replace(rp, locations=locs), CONFIG), "R-R3")
    assert (neg.value, neg.found_by, neg.field) == ("≥（大于等于）", "label", "指标性质")


def test_a_field_that_was_not_located_still_gives_a_finding_on_the_sheet():
    rp = ReturnedProject("P001", SHEET, with_ind(good_project(), 5, value=D(120)))
    [rate] = found(check_project(rp, CONFIG), "R-R1")
    assert (rate.sheet, rate.cell, rate.value, rate.field) == (SHEET, "", "120", "指标值")


def test_an_unknown_operator_is_reported_from_the_cell_text():
    rp = returned(with_ind(good_project(), 0, operator=""))
    locs = {**rp.locations, "ind0.operator": Location(SHEET, "E11", "name", "大约")}
    [op] = found(check_project(replace(rp, locations=locs), CONFIG), "R-S2")
    assert "“大约”无法识别" in op.message and op.cell == "E11"


def test_the_normalised_level_name_is_an_info_note_not_an_error():
    findings = check_project(returned(with_ind(good_project(), 4, level2="环境效益指标")), CONFIG)
    [note] = findings
    assert (note.rule, note.severity, note.value, note.expected) == ("R-S1", "info", "环境效益指标", "生态效益指标")


def test_a_2015_cost_row_under_the_2021_framework_is_explained():
    config = replace(CONFIG, framework="2021")
    findings = check_project(returned(good_project()), config)
    [level2] = [f for f in found(findings, "R-S1") if f.cell == "B14"]
    assert "“成本指标”是一级指标" in level2.message
    assert any(f.rule == "R-S3" and f.expected == "成本指标" and f.severity == "error" for f in findings)


def test_social_cost_with_greater_or_equal_is_suspicious_under_2021():
    base = good_project().indicators
    project = replace(good_project(), indicators=(
        ind("成本指标", "经济成本指标", "设备维护费用", "≤", D(10), "万元", "预算支出标准"),
        ind("成本指标", "社会成本指标", "对群众出行的影响", "≥", D(1), "次"),
        ind("成本指标", "生态环境成本指标", "噪声影响", "定性", "减少"),
    ) + base[:3] + base[4:5] + base[6:])
    config = replace(CONFIG, framework="2021")
    findings = check_project(returned(project), config)
    assert [(f.rule, f.cell, f.severity) for f in findings] == [("R-C4", "E12", "warning")]
    fixed = with_ind(project, 1, operator="定性", value="减少", unit="")
    assert check_project(returned(fixed), config) == []


@pytest.mark.parametrize("note, rule", [(NOTE_V4, "R-V4"), (NOTE_V5, "R-V5")])
def test_value_notes_from_the_reader_become_findings(note, rule):
    rp = returned(good_project(), notes={"ind0.value": (note,)})
    [finding] = check_project(rp, CONFIG)
    assert (finding.rule, finding.severity, finding.cell) == (rule, "warning", "F11")
    assert note in finding.message and finding.message.startswith("三级指标“培训人次”：")


def test_a_symbol_and_a_unit_in_one_value_are_one_finding_that_names_both():
    parsed = split_indicator_value("≥90%", "≥", "%")
    rp = returned(good_project(), notes={"ind0.value": parsed.notes})
    [finding] = found(check_project(rp, CONFIG), "R-V4")
    assert finding.cell == "F11" and all(note in finding.message for note in parsed.notes)
    assert len(parsed.notes) == 2


def test_value_notes_pass_when_the_reader_made_none():
    assert found(check_project(returned(good_project(), notes={}), CONFIG), "R-V4") == []
    assert found(check_project(returned(good_project(), notes={}), CONFIG), "R-V5") == []


def test_a_placeholder_note_is_an_error_and_replaces_the_not_a_number_finding():
    parsed = split_indicator_value("**%", "≥", "%")
    rp = returned(with_ind(good_project(), 5, value=parsed.value), notes={"ind5.value": parsed.notes})
    findings = check_project(rp, CONFIG)
    assert {(f.rule, f.severity) for f in findings} == {("R-V3", "error"), ("R-V4", "warning")}


def test_reader_notes_without_a_value_rule_are_left_to_the_cell_checks():
    rp = returned(good_project(), notes={"ind0.operator": split_indicator_value("95", "大约", "").notes})
    assert check_project(rp, CONFIG) == []


# --------------------------------------------------------------------------------------------------
# Weights (only when 权重合计 is set)
# --------------------------------------------------------------------------------------------------

WEIGHTED = replace(CONFIG, weight_total=D(90))
WEIGHTS = (D("12.5"), D("12.5"), D("12.5"), D("12.5"), D(15), D(15), D(10))


def weighted(weights=WEIGHTS) -> Project:
    project = good_project()
    for k, weight in enumerate(weights):
        project = with_ind(project, k, weight=weight)
    return project


def test_weights_that_follow_the_rules_pass():
    assert check_project(returned(weighted()), WEIGHTED) == []


def test_weights_are_not_checked_when_the_batch_does_not_use_them():
    assert check_project(returned(weighted((None,) * 7)), CONFIG) == []


@pytest.mark.parametrize("weights, rule, cell", [
    ((None,) + WEIGHTS[1:], "R-W1", "I11"),
    ((D(0),) + WEIGHTS[1:], "R-W1", "I11"),
    ((D(20),) + WEIGHTS[1:], "R-W3", "I11:I17"),  # the weight cells it sums
    ((D("17.5"), D("12.5"), D("12.5"), D("12.5"), D(10), D(15), D(10)), "R-W4", "I11:I14"),
    ((D("17.5"), D("12.5"), D("12.5"), D("12.5"), D(10), D(15), D(10)), "R-W4", "I15:I16"),
])
def test_weight_rules(weights, rule, cell):
    findings = check_project(returned(weighted(weights)), WEIGHTED)
    assert (SHEET, cell) in {(f.sheet, f.cell) for f in found(findings, rule)}


def test_the_weight_split_is_only_checked_when_the_total_is_90():
    uneven = weighted((D(20), D(20), D(20), D(20), D(5), D(5), D(10)))
    assert check_project(returned(uneven), replace(CONFIG, weight_total=D(100))) == []


# --------------------------------------------------------------------------------------------------
# Department sheet
# --------------------------------------------------------------------------------------------------

DEPT_SHEET = "部门整体绩效目标"
DEPT_COLUMNS = dict(zip(("level1", "level2", "name", "operator", "value", "unit", "basis"), "CDEFGHI"))


def returned_dept(indicators, overall="提升政务服务水平。", totals=None) -> ReturnedDept:
    locs = {"overall_goal": Location(DEPT_SHEET, "B4", "name", overall),
            "goal1.goal": Location(DEPT_SHEET, "C6", "name", "完善服务体系。")}
    for k, indicator in enumerate(indicators):
        for name, column in DEPT_COLUMNS.items():
            locs[f"dind{k}.{name}"] = Location(DEPT_SHEET, f"{column}{10 + k}", "name", _raw(getattr(indicator, name)))
    for path, (cell, raw) in (totals or {}).items():
        locs[path] = Location(DEPT_SHEET, cell, "name", raw)
    goals = (DeptGoal("435001", 0, "总体绩效目标", overall), DeptGoal("435001", 1, "完善服务体系", "完善服务体系。"))
    return ReturnedDept(DEPT_SHEET, overall, goals, tuple(indicators), locs)


def dind(level1, level2, name, operator, value, unit="") -> DeptIndicator:
    return DeptIndicator("435001", 1, level1, level2, name, operator, value, unit)


GOOD_DEPT = (
    dind(OUT, "时效指标", "业务处理及时率", "≥", D(100), "%"),
    dind(OUT, "质量指标", "系统故障率", "≤", D(1), "%"),
    dind(SAT, "服务对象满意度指标", "群众满意度", "≥", D(95), "%"),
)


def test_a_good_department_sheet_has_no_findings():
    assert check_dept(returned_dept(GOOD_DEPT), [], CONFIG) == []


@pytest.mark.parametrize("k, changes, rule, cell", [
    (0, {"name": ""}, "R-S2", "E10"),
    (0, {"operator": ""}, "R-S2", "F10"),
    (0, {"value": "及时"}, "R-V1", "G10"),
    (0, {"unit": ""}, "R-V2", "H10"),
    (0, {"value": D(110)}, "R-R1", "G10"),
    (2, {"operator": "＝"}, "R-R2", "F12"),
    (1, {"operator": "≥", "value": D(99)}, "R-R3", "F11"),
    (0, {"level1": "过程指标"}, "R-S1", "C10"),
    (0, {"level1": "效果"}, "R-S1", "D10"),
])
def test_department_indicator_rows_get_the_grid_rules(k, changes, rule, cell):
    indicators = list(GOOD_DEPT)
    indicators[k] = replace(indicators[k], **changes)
    findings = check_dept(returned_dept(indicators), [], CONFIG)
    assert (DEPT_SHEET, cell) in {(f.sheet, f.cell) for f in found(findings, rule)}


def test_department_goals_must_be_filled():
    findings = check_dept(returned_dept(GOOD_DEPT, overall=""), [], CONFIG)
    assert [(f.rule, f.cell, f.severity) for f in findings] == [("R-S7", "B4", "error")]


def test_department_totals_are_compared_with_the_projects_when_the_sheet_shows_them():
    projects = [returned(good_project()), returned(replace(good_project(), code="P002"))]
    right = {"unit.budget": ("C3", "20.00"), "unit.fiscal": ("E3", "16"), "unit.other": ("G3", "4.00")}
    assert check_dept(returned_dept(GOOD_DEPT, totals=right), projects, CONFIG) == []
    wrong = {**right, "unit.budget": ("C3", "25.00")}
    [total] = check_dept(returned_dept(GOOD_DEPT, totals=wrong), projects, CONFIG)
    assert (total.rule, total.cell, total.value, total.expected, total.field) == (
        "R-F2", "C3", "25.00", "20.00", "项目预算合计")


def test_department_totals_are_skipped_when_not_read():
    projects = [returned(good_project())]
    assert found(check_dept(returned_dept(GOOD_DEPT), projects, CONFIG), "R-F2") == []


# --------------------------------------------------------------------------------------------------
# Submission: attribution and boilerplate across projects (R-R6)
# --------------------------------------------------------------------------------------------------


def submission(projects, dept=None) -> Submission:
    return Submission("退回/巨鹿.xlsx", "ab" * 32, "xlsx", "435001", projects=tuple(projects), dept=dept)


def numbered(project: Project, n: int, **changes) -> ReturnedProject:
    return returned(replace(project, code=f"P00{n}", name=f"项目{n}", **changes), sheet=f"{n}.项目{n}")


def test_submission_findings_are_attributed_to_the_file():
    sub = submission([numbered(with_ind(good_project(), 5, value=D(120)), 1)],
                     returned_dept(GOOD_DEPT, overall=""))
    findings = check_submission(sub, CONFIG)
    assert {f.rule for f in findings} == {"R-R1", "R-S7"}
    assert {(f.file, f.sha256, f.unit_code) for f in findings} == {("退回/巨鹿.xlsx", "ab" * 32, "435001")}


def test_identical_effect_indicators_in_three_projects_are_reported_once():
    projects = [numbered(good_project(), n) for n in (1, 2, 3)]
    [boiler] = found(check_submission(submission(projects), CONFIG), "R-R6")
    assert (boiler.severity, boiler.sheet, boiler.cell, boiler.project_code) == ("warning", "1.项目1", "C15", "P001")
    assert boiler.message.startswith(
        "效益指标“群众办事便利度”（定性“明显提升”）在 3 个项目（“项目1”、“项目2”、“项目3”）中完全相同")
    assert "“设备正常运行率”（≥98%）" in boiler.message


def test_identical_effect_indicators_in_two_projects_are_fine():
    third = with_ind(with_ind(good_project(), 4, value="显著提升"), 5, name="系统可用率")
    projects = [numbered(good_project(), 1), numbered(good_project(), 2), numbered(third, 3)]
    assert found(check_submission(submission(projects), CONFIG), "R-R6") == []


def test_effect_indicators_all_at_95_percent_are_boilerplate():
    def all_95(n):
        project = with_ind(good_project(), 4, name=f"效果{n}", operator="≥", value=D(95), unit="%")
        return numbered(with_ind(project, 5, name=f"影响{n}", value=D(95)), n)

    [boiler] = found(check_submission(submission([all_95(1), all_95(2)]), CONFIG), "R-R6")
    assert "≥95%" in boiler.message and boiler.cell == "C15"


# --------------------------------------------------------------------------------------------------
# rules.toml
# --------------------------------------------------------------------------------------------------

SETTINGS = Settings(year=2022)


def test_from_settings_takes_the_batch_parameters():
    settings = Settings(year=2024, money_unit="元", framework="2021", weight_total=D(100), plan_nodes=("6月底", "12月底"))
    config = RuleConfig.from_settings(settings)
    assert (config.framework, config.money_unit, config.year, config.plan_nodes, config.weight_total) == (
        "2021", "元", 2024, ("6月底", "12月底"), D(100))
    assert config.enabled is None and dict(config.severity_overrides) == {}


def test_rules_toml_disables_rules_and_changes_severities(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[rules]\ndisabled = ["R-R3"]\n\n[severity]\n"R-C1" = "warning"\n"R-S1" = "error"\n',
                    encoding="utf-8")
    config = RuleConfig.from_settings(SETTINGS, path)
    project = with_ind(with_ind(good_project(), 1, operator="≥", value=D(98)), 3, value=D(12))
    project = with_ind(project, 4, level2="环境效益指标")
    findings = check_project(returned(project), config)
    assert found(findings, "R-R3") == []
    assert {f.severity for f in found(findings, "R-C1")} == {"warning"}
    assert {f.severity for f in found(findings, "R-S1")} == {"info"}  # a note stays a note
    assert found(check_project(returned(project), CONFIG), "R-R3")


def test_rules_toml_can_list_the_only_rules_to_run(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[rules]\nenabled = ["R-C1", "R-R3"]\ndisabled = ["R-R3"]\n', encoding="utf-8")
    config = RuleConfig.from_settings(SETTINGS, path)
    assert config.enabled == frozenset({"R-C1"})
    project = with_ind(with_ind(good_project(), 1, operator="≥", value=D(98)), 3, operator="≥", value=D(12))
    assert {f.rule for f in check_project(returned(project), config)} == {"R-C1"}


def test_the_severity_of_a_rule_with_variants_is_overridden_for_all_of_them(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[severity]\n"R-S3" = "warning"\n', encoding="utf-8")
    config = RuleConfig.from_settings(SETTINGS, path)
    findings = check_project(returned(without_level1(without_level1(good_project(), BEN), SAT)), config)
    [coverage] = found(findings, "R-S3")  # one finding per project, naming both missing 一级
    assert (coverage.severity, coverage.cell, coverage.expected) == ("warning", "B3", "效益指标、满意度指标")


def test_a_disabled_cross_project_rule_is_not_reported(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[rules]\ndisabled = ["R-R6"]\n', encoding="utf-8")
    config = RuleConfig.from_settings(SETTINGS, path)
    projects = [numbered(good_project(), n) for n in (1, 2, 3)]
    assert check_submission(submission(projects), config) == []


@pytest.mark.parametrize("text, words", [
    ('[rules]\ndisabled = ["R-X9"]\n', "“R-X9”不存在"),
    ('[rules]\ndisabled = ["X-TAMPER"]\n', "只能使用填报规则的编码"),
    ('[rules]\ndisabled = "R-R6"\n', "应写成列表"),
    ('[rules]\nskip = ["R-R6"]\n', "“skip”无法识别"),
    ('[rule]\ndisabled = ["R-R6"]\n', "只能有 [rules] 和 [severity] 两节"),
    ('[severity]\n"R-S3" = "warn"\n', "严重程度“warn”无效"),
    ('[rules\ndisabled = ["R-R6"]\n', "第 1 行"),
])
def test_a_bad_rules_toml_is_explained_in_chinese(tmp_path, text, words):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        RuleConfig.from_settings(SETTINGS, path)
    assert words in str(info.value)


def test_a_missing_rules_toml_is_explained(tmp_path):
    with pytest.raises(InputError, match="找不到规则配置文件"):
        RuleConfig.from_settings(SETTINGS, tmp_path / "nope.toml")


def test_without_tomllib_or_tomli_the_user_is_told_what_to_install(tmp_path, monkeypatch):
    path = tmp_path / "rules.toml"
    path.write_text('[rules]\ndisabled = ["R-R6"]\n', encoding="utf-8")
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(InputError, match="pip install tomli"):
        RuleConfig.from_settings(SETTINGS, path)


def test_a_config_survives_the_trip_to_a_worker_process(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[rules]\ndisabled = ["R-R6"]\n[severity]\n"R-S3" = "warning"\n', encoding="utf-8")
    config = RuleConfig.from_settings(SETTINGS, path)
    assert pickle.loads(pickle.dumps(config)) == config


def test_a_config_with_a_bad_framework_or_override_is_refused():
    with pytest.raises(InputError, match="指标体系"):
        replace(CONFIG, framework="2019")
    with pytest.raises(InputError, match="严重程度"):
        replace(CONFIG, severity_overrides={"R-C1": "fatal"})


# --------------------------------------------------------------------------------------------------
# The bundled sample (the seed document), returned unchanged
# --------------------------------------------------------------------------------------------------


def sample_returns(projects) -> list[ReturnedProject]:
    return [returned(p, sheet=f"{n}.{p.name}"[:31]) for n, p in enumerate(projects, start=1)]


def sample_findings(projects=None) -> list[Finding]:
    master = load_sample()
    config = RuleConfig.from_settings(master.settings)
    rps = sample_returns(projects if projects is not None else master.projects)
    dept = ReturnedDept(DEPT_SHEET, master.goals_of("435001")[0].goal, master.goals_of("435001"),
                        master.dept_indicators_of("435001"))
    return check_submission(submission(rps, dept), config)


def test_the_seed_defects_are_found_at_their_cells():
    findings = sample_findings()
    errors = {(f.rule, f.sheet, f.cell) for f in findings if f.severity == "error"}
    assert errors == {("R-C1", "5.政务外网费用", "F14"), ("R-F5", "3.统一着装经费", "E7")}
    assert ("3.统一着装经费", "E12", "warning") in cells(findings, "R-R3")  # 服装质量破损率 ≥98%
    assert ("2.软件正版化设备保养维护费用", "G11", "warning") in cells(findings, "R-R4")  # 软件设备数量 in %
    assert ("1.光纤租赁和短信机费用", "E15", "warning") in cells(findings, "R-R2")  # 满意率 ≤100%
    assert ("5.政务外网费用", "C16", "warning") in cells(findings, "R-S6")  # 政务专网运行的满意率 twice
    cost_ge = {sheet for sheet, cell, _ in cells(findings, "R-C2") if cell == "E14"}
    assert cost_ge == {"2.软件正版化设备保养维护费用", "3.统一着装经费", "4.政务服务办公费（2+2+3 服务体系）",
                       "5.政务外网费用", "6.政务网络信息建设维护费用"}
    assert len(found(findings, "R-S7")) == 6  # "1.目标内容 1" on every project
    assert {f.rule for f in findings if f.sheet == DEPT_SHEET} == {"R-R2", "R-V7", "R-S5"}


def test_the_seed_cost_message_matches_the_expected_wording():
    [cap] = found(sample_findings(), "R-C1")
    assert cap.message == ("成本指标“政务专网使用费用”为 7.9 万元，高于项目预算数 5.00 万元；成本指标不应超过预算数，"
                           "请改为不超过 5.00 万元并将指标性质改为“≤”。")


def fix_errors(projects) -> list[Project]:
    fixed = []
    for project in projects:
        if project.name == "政务外网费用":
            project = with_ind(project, 3, operator="≤", value=D("5.00"))
        if project.name == "统一着装经费":
            project = with_plan(project, n12月底=D("9.00"))
        fixed.append(project)
    return fixed


def fix_everything(project: Project) -> Project:
    """Correct every defect the rules see in a seed project."""
    project = replace(project, annual_goal=f"{project.purpose}按计划完成，保障政务服务正常运行。")
    for k, indicator in enumerate(project.indicators):
        if indicator.level2 == "成本指标":
            project = with_ind(project, k, operator="≤", value=project.budget, basis="预算支出标准")
        if indicator.name == "服装质量破损率":
            project = with_ind(project, k, operator="≤", value=D(2))
        if indicator.name == "软件设备数量":
            project = with_ind(project, k, value=D(60), unit="套")
        if indicator.description == "电话及网络运行的满意率":  # named so, or named like a goal (持续提高…)
            project = with_ind(project, k, operator="≥", value=D(95))
        if indicator.level2 == "可持续影响指标" and indicator.name == "政务专网运行的满意率":
            project = with_ind(project, k, name="政务专网稳定运行率")
    return project


def test_the_seed_with_its_errors_fixed_has_no_error_findings():
    findings = sample_findings(fix_errors(load_sample().projects))
    assert [f for f in findings if f.severity == "error"] == []
    assert found(findings, "R-C2")  # the warnings remain


def test_the_seed_with_every_project_defect_fixed_has_no_project_findings():
    findings = sample_findings([fix_everything(p) for p in fix_errors(load_sample().projects)])
    assert [(f.rule, f.sheet, f.cell) for f in findings if f.sheet != DEPT_SHEET] == []


# --------------------------------------------------------------------------------------------------
# Indicators judged by what they say, wherever they are filed
# --------------------------------------------------------------------------------------------------


def test_a_satisfaction_measure_named_like_a_goal_is_flagged_by_its_description():
    project = with_ind(good_project(), 5, level1=BEN, level2="可持续影响指标", name="持续提高电话及网络的稳定性",
                       description="电话及网络运行的满意率", operator="≤", value=D(95), unit="%")
    [finding] = [f for f in found(check_project(returned(project), CONFIG), "R-R2") if f.field == "指标性质"]
    assert finding.cell == "E16"
    assert finding.message.startswith("三级指标“持续提高电话及网络的稳定性”（填在“效益指标/可持续影响指标”下，"
                                      "绩效指标描述为“电话及网络运行的满意率”，属满意度指标）的指标性质为“≤”")


def test_every_seed_satisfaction_measure_written_with_le_is_flagged_wherever_it_is_filed():
    master = load_sample()
    written_le = [(project.name, indicator.level2) for project in master.projects for indicator in project.indicators
                  if indicator.operator == "≤" and any(word in indicator.name + indicator.description
                                                       for word in ("满意度", "满意率"))]
    assert written_le == [("光纤租赁和短信机费用", "社会效益指标"), ("光纤租赁和短信机费用", "可持续影响指标")]
    flagged = {(f.sheet, f.cell) for f in sample_findings() if f.rule == "R-R2" and f.field == "指标性质"}
    assert {("1.光纤租赁和短信机费用", "E15"), ("1.光纤租赁和短信机费用", "E16")} <= flagged


def test_a_cost_filed_under_another_level2_is_checked_as_a_cost():
    project = with_ind(good_project(), 4, level1=BEN, level2="经济效益指标", name="项目总投入",
                       description="项目实施成本", operator="≥", value=D(12), unit="万元")
    findings = check_project(returned(project), CONFIG)
    [cap] = found(findings, "R-C1")
    assert cap.cell == "F15" and "（填在“效益指标/经济效益指标”下，绩效指标描述为“项目实施成本”，属成本指标）" in cap.message
    assert ("测试项目", "E15", "warning") in cells(findings, "R-C2")


def test_a_count_filed_under_quality_with_a_percent_unit_is_flagged():
    project = with_ind(good_project(), 0, level2="质量指标", name="培训覆盖", description="参训人数")
    project = with_ind(project, 0, unit="%", value=D(90))
    [finding] = found(check_project(returned(project), CONFIG), "R-R4")
    assert finding.cell == "G11" and "属数量指标" in finding.message


def test_a_rate_recognised_by_its_description_stays_within_0_to_100():
    project = with_ind(good_project(), 3, name="设备运行情况", description="设备完好率", unit="", value=D(120))
    assert ("测试项目", "F14", "error") in cells(check_project(returned(project), CONFIG), "R-R1")


@pytest.mark.parametrize("cells, span", [
    (["I11", "I12", "I13"], "I11:I13"),
    (["I13", "I11", "I12", "I15"], "I11:I13,I15"),
    (["J2"], "J2"),
    (["$B$3"], "B3"),
])
def test_a_finding_about_several_cells_names_them_as_one_reference(cells, span):
    from jixiao_xl.rules import cell_span

    assert cell_span(cells) == span


def test_a_weight_typed_as_words_is_left_to_the_reader_not_reported_as_missing():
    rp = returned(weighted((None,) + WEIGHTS[1:]))
    typed = dict(rp.locations, **{"ind0.weight": Location(SHEET, "I11", "name", "十分")})
    findings = check_project(replace(rp, locations=typed), WEIGHTED)
    assert found(findings, "R-W1") == []
    assert [(f.cell, f.value) for f in found(findings, "R-W3")] == [("I11:I17", "77.5")]  # 90 less the 12.5 not read


# --------------------------------------------------------------------------------------------------
# R-F1 and R-F5 on the master itself (precheck presents its projects as if returned)
# --------------------------------------------------------------------------------------------------

# One project row of the master's 项目 sheet, row 5: the cells precheck locates each value at.
MASTER_CELLS = {"code": "B5", "name": "C5", "budget": "D5", "fiscal": "E5", "other": "F5", "annual_goal": "H5"}
MASTER_PLAN_CELLS = dict(zip(NODES, ("I5", "J5", "K5", "L5")))
ON_MASTER = replace(CONFIG, origin=FROM_MASTER)


def as_on_master(project: Project) -> ReturnedProject:
    """The project as precheck presents a master row: sheet 项目, each value at its cell of row 5."""
    found = {path: Location("项目", cell, "", _raw(getattr(project, path))) for path, cell in MASTER_CELLS.items()}
    for node, cell in MASTER_PLAN_CELLS.items():
        found[f"plan.{node}"] = Location("项目", cell, "", _raw(project.plan_amount(node)))
    return ReturnedProject(project.code, "项目", project, found)


def funds_and_plan(rp: ReturnedProject, config: RuleConfig) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.sheet, f.cell, f.message) for f in check_project(rp, config) if f.rule in ("R-F1", "R-F5")]


def test_a_blank_budget_on_the_master_asks_the_bureau_to_fill_it_in_not_to_call_itself():
    project = replace(good_project(), budget=None)
    assert funds_and_plan(as_on_master(project), ON_MASTER) == [
        ("R-F1", "项目", "D5", "预算数为空；请在主数据“项目”表中填写该项目的预算数（万元）。"),
    ]
    assert funds_and_plan(returned(project), CONFIG) == [
        ("R-F1", SHEET, "B4", "预算数为空；预算数由主管部门下发，请不要删除，或联系主管部门重新下发表格。"),
    ]


def test_funds_and_plan_on_the_master_are_found_at_the_master_cells_in_words_the_bureau_can_act_on():
    project = with_plan(replace(good_project(), fiscal=D("7.00")), n6月底=D("2.00"), n12月底=D("9.00"))
    findings = funds_and_plan(as_on_master(project), ON_MASTER)
    assert findings == [
        ("R-F1", "项目", "D5", "预算数 10.00 万元不等于财政资金 7.00 万元与其他资金 2.00 万元之和 9.00 万元；"
                              "请核对三项金额，使 财政资金 + 其他资金 = 预算数。"),
        ("R-F5", "项目", "J5", "支出计划“6月底”为 2.00 万元，比“3月底”的 2.50 万元还少；"
                              "支出计划填写累计数，后一节点不能小于前一节点，请改正。"),
        ("R-F5", "项目", "L5", "支出计划最后一个节点“12月底”为 9.00 万元，应等于预算数 10.00 万元；请按全年支出完预算填写。"),
    ]
    for case in (replace(good_project(), budget=None), replace(good_project(), fiscal=None, other=None),
                 replace(good_project(), other=D("-1.00")), with_plan(good_project(), n12月底=None),
                 with_plan(good_project(), n3月底=D("-1.00"), n10月底=D("11.00"))):
        for rule, _, _, message in funds_and_plan(as_on_master(case), ON_MASTER):
            assert "主管部门" not in message and "下发" not in message, (rule, message)
    # The same project returned: the same judgement, at the form's cells.
    assert [(rule, cell) for rule, _, cell, _ in funds_and_plan(returned(project), CONFIG)] == [
        ("R-F1", "B4"), ("R-F5", "C7"), ("R-F5", "E7")]


def test_the_rule_context_says_whose_data_it_is_and_pickles_into_workers():
    assert CONFIG.origin == FROM_RETURN and not CONFIG.on_master
    assert ON_MASTER.on_master and pickle.loads(pickle.dumps(ON_MASTER)) == ON_MASTER
    with pytest.raises(ValueError, match="origin"):
        replace(CONFIG, origin="somewhere")
