"""Tests for jixiao_xl.reconcile. Every submission is built here from the bundled sample master."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao_xl import catalogue
from jixiao_xl.master import load_sample
from jixiao_xl.model import DeptGoal, DeptIndicator, Indicator, Master, Project, Unit
from jixiao_xl.reconcile import RULES, issued_view, reconcile_batch, reconcile_submission
from jixiao_xl.rules import RuleConfig, check_submission
from jixiao_xl.submission import Location, ReturnedDept, ReturnedProject, Submission

UNIT = "435001"
TEMPLATE = ("project_2015", "a1b2c3d4e5f6")

# Where the builder pretends the reader found each field.
HEAD_CELLS = {"code": "B3", "name": "D3", "budget": "B4", "fiscal": "D4", "other": "F4"}
IND_COLS = {"level1": "A", "level2": "B", "name": "C", "description": "D", "operator": "E", "value": "F",
            "unit": "G", "basis": "H", "weight": "I"}
FIRST_IND_ROW = 10
SPARE_ROWS = 3
DEPT_SHEET = "部门整体绩效目标"
DIND_COLS = {"level1": "D", "level2": "E", "name": "F", "operator": "G", "value": "H", "unit": "I", "basis": "J"}


# --------------------------------------------------------------------------------------------------
# Builders


@pytest.fixture(scope="module")
def master() -> Master:
    """The bundled sample: one unit (435001) with six projects of seven indicators each."""
    return load_sample()


@pytest.fixture(scope="module")
def master3(master: Master) -> Master:
    """The sample with two more units: 435002 owns two projects, 435003 one."""
    units = master.units + (Unit("435002", "巨鹿县政务服务中心", "435"), Unit("435003", "巨鹿县公共资源交易中心", "435"))
    more = tuple(dataclasses.replace(p, unit_code="435002", code=f"{p.code}B") for p in master.projects[:2])
    more += (dataclasses.replace(master.projects[2], unit_code="435003", code=f"{master.projects[2].code}C"),)
    return dataclasses.replace(master, units=units, projects=master.projects + more)


def _raw(value: object) -> str:
    return "" if value is None else str(value)


def returned_project(project: Project, sheet: str | None = None) -> ReturnedProject:
    """A project sheet as the reader would return it, with locations for the head and every grid row."""
    sheet = sheet or project.name[:31]
    locations = {path: Location(sheet, cell, "name", _raw(getattr(project, path)))
                 for path, cell in HEAD_CELLS.items()}
    for k in range(len(project.indicators) + SPARE_ROWS):
        row = FIRST_IND_ROW + k
        for name, col in IND_COLS.items():
            locations[f"ind{k}.{name}"] = Location(sheet, f"{col}{row}", "name")
    return ReturnedProject(key=project.code, sheet=sheet, project=project, locations=locations)


def returned_dept(master: Master, unit_code: str) -> ReturnedDept:
    """The department sheet of a unit as issued, with locations for the goals and the indicator grid."""
    goals = master.goals_of(unit_code)
    overall = next((g.goal for g in goals if g.seq == 0), "")
    locations = {"overall_goal": Location(DEPT_SHEET, "B4", "name")}
    for i, goal in enumerate(g for g in goals if g.seq != 0):
        locations[f"goal{goal.seq}.name"] = Location(DEPT_SHEET, f"B{8 + i}", "name")
        locations[f"goal{goal.seq}.goal"] = Location(DEPT_SHEET, f"C{8 + i}", "name")
    indicators = master.dept_indicators_of(unit_code)
    for k in range(len(indicators) + SPARE_ROWS):
        for name, col in DIND_COLS.items():
            locations[f"dind{k}.{name}"] = Location(DEPT_SHEET, f"{col}{20 + k}", "meta")
    return ReturnedDept(sheet=DEPT_SHEET, overall_goal=overall, goals=tuple(g for g in goals if g.seq != 0),
                        indicators=indicators, locations=locations)


def returned(master: Master, unit_code: str = UNIT, file: str = "a.xlsx", sha: str = "sha-a") -> Submission:
    """An untouched return of ``unit_code``: exactly what was issued."""
    unit = master.unit(unit_code)
    return Submission(
        file=file, sha256=sha, kind="xlsx", unit_code=unit_code, unit_name=unit.name if unit else "",
        template_id=TEMPLATE[0], template_version=TEMPLATE[1], master_fingerprint=master.fingerprint,
        producer="Microsoft Excel",
        projects=tuple(returned_project(p) for p in master.projects_of(unit_code)),
        dept=returned_dept(master, unit_code),
    )


def edit_project(sub: Submission, index: int, **changes) -> Submission:
    """The submission with fields of its ``index``-th project replaced."""
    rp = sub.projects[index]
    new = dataclasses.replace(rp, project=dataclasses.replace(rp.project, **changes))
    return dataclasses.replace(sub, projects=sub.projects[:index] + (new,) + sub.projects[index + 1:])


def edit_indicator(sub: Submission, index: int, k: int, **changes) -> Submission:
    """The submission with fields of indicator ``k`` of project ``index`` replaced."""
    indicators = list(sub.projects[index].project.indicators)
    indicators[k] = dataclasses.replace(indicators[k], **changes)
    return edit_project(sub, index, indicators=tuple(indicators))


def only(findings, rule: str):
    """The single finding of ``rule`` (fails when there are none or several)."""
    hits = [f for f in findings if f.rule == rule]
    assert len(hits) == 1, findings
    return hits[0]


def rules_of(findings) -> list[str]:
    return sorted(f.rule for f in findings)


def check(sub: Submission, master: Master) -> list:
    return reconcile_submission(sub, master, expected_template=TEMPLATE)


# --------------------------------------------------------------------------------------------------
# One return: identity


def test_unchanged_return_has_no_findings(master):
    assert check(returned(master), master) == []


def test_every_code_is_in_the_catalogue_with_the_same_severity():
    for code, rule in RULES.items():
        assert catalogue.get(code) == rule
        assert rule.category == "与主数据核对"
        assert rule.title and rule.fix and rule.source


def test_unknown_unit(master):
    findings = check(dataclasses.replace(returned(master), unit_code="999999"), master)
    f = only(findings, "X-UNIT-UNKNOWN")
    assert rules_of(findings) == ["X-UNIT-UNKNOWN"]
    assert f.severity == "error" and f.value == "999999" and f.unit_code == "999999"
    assert "999999" in f.message and "下发" in f.message
    assert "435001" in f.message  # the projects say whose form it probably is


def test_missing_unit(master):
    findings = check(dataclasses.replace(returned(master), unit_code=""), master)
    assert rules_of(findings) == ["X-UNIT-MISSING"]
    f = findings[0]
    assert f.severity == "error" and f.file == "a.xlsx" and f.sha256 == "sha-a"
    assert "没有单位编码" in f.message and "下发的本单位表格" in f.message


def test_template_of_another_batch(master):
    sub = dataclasses.replace(returned(master), template_version="000000000000")
    f = only(check(sub, master), "X-VERSION")
    assert f.severity == "warning" and f.value.endswith("000000000000") and f.expected.endswith(TEMPLATE[1])
    assert "本批次下发" in f.message


def test_template_not_compared_without_expected_identity(master):
    sub = dataclasses.replace(returned(master), template_id="other")
    assert reconcile_submission(sub, master) == []


def test_master_changed_since_issue_is_info(master):
    sub = dataclasses.replace(returned(master), master_fingerprint="0" * 64)
    findings = check(sub, master)
    f = only(findings, "X-MASTER-CHANGED")
    assert rules_of(findings) == ["X-MASTER-CHANGED"]
    assert f.severity == "info" and f.value == "0" * 64 and f.expected == master.fingerprint
    assert "主数据已更新" in f.message


def test_unreadable_file_gets_nothing_here(master):
    sub = Submission(file="x.xls", sha256="s", kind="encrypted")
    assert check(sub, master) == []


def test_unit_name_changed(master):
    sub = dataclasses.replace(returned(master), unit_name="巨鹿县某某局")
    f = only(check(sub, master), "X-TAMPER")
    assert f.field == "unit_name" and f.value == "巨鹿县某某局" and f.expected == "巨鹿县行政审批局本级"


# --------------------------------------------------------------------------------------------------
# One return: locked fields


def test_budget_changed(master):
    findings = check(edit_project(returned(master), 0, budget=Decimal("6.50")), master)
    f = only(findings, "X-TAMPER")
    assert rules_of(findings) == ["X-TAMPER"]
    assert (f.severity, f.sheet, f.cell, f.found_by, f.field) == ("error", "光纤租赁和短信机费用", "B4", "name", "budget")
    assert (f.value, f.expected) == ("6.50", "6.00")
    assert (f.file, f.sha256, f.unit_code, f.project_code) == ("a.xlsx", "sha-a", UNIT, "13052922P00584010723X")
    assert f.message == ("预算数被改为 6.50，主数据（下发值）为 6.00；预算数由主管部门下发，不能修改，请恢复为 6.00。"
                         "如需调整预算，请联系主管部门。")


def test_budget_with_same_value_written_differently_is_unchanged(master):
    assert check(edit_project(returned(master), 0, budget=Decimal("6")), master) == []


def test_budget_cleared(master):
    f = only(check(edit_project(returned(master), 0, budget=None), master), "X-TAMPER")
    assert f.value == "" and f.expected == "6.00" and "预算数被清空" in f.message


def test_code_changed(master):
    findings = check(edit_project(returned(master), 1, code="13052922P999999999999"), master)
    f = only(findings, "X-TAMPER")
    assert rules_of(findings) == ["X-TAMPER"]  # matched by name: neither missing nor extra
    assert (f.field, f.cell, f.value, f.expected) == ("code", "B3", "13052922P999999999999", "13052922P005840107255")
    assert f.project_code == "13052922P005840107255"
    assert "项目编码被改为 13052922P999999999999" in f.message and "请恢复为 13052922P005840107255" in f.message


def test_name_changed(master):
    f = only(check(edit_project(returned(master), 2, name="统一服装经费"), master), "X-TAMPER")
    assert (f.field, f.cell, f.value, f.expected) == ("name", "D3", "统一服装经费", "统一着装经费")
    assert "项目名称被改为 统一服装经费" in f.message


def test_name_with_other_width_and_spaces_is_unchanged(master):
    sub = edit_project(returned(master), 3, name="政务服务办公费(2+2+3服务体系)")
    assert check(sub, master) == []


def test_fiscal_changed(master):
    f = only(check(edit_project(returned(master), 0, fiscal=Decimal("5")), master), "X-TAMPER")
    assert (f.field, f.cell, f.value, f.expected) == ("fiscal", "D4", "5", "6.00")
    assert f.message.startswith("财政资金被改为 5.00，主数据（下发值）为 6.00")


def test_other_funds_filled_where_master_is_blank(master):
    f = only(check(edit_project(returned(master), 0, other=Decimal("1")), master), "X-TAMPER")
    assert (f.field, f.cell, f.value, f.expected) == ("other", "F4", "1", "")
    assert "其他资金被改为 1.00，主数据（下发值）为 （空）" in f.message and "请清空该单元格" in f.message


def test_zero_where_master_is_blank_is_unchanged(master):
    assert check(edit_project(returned(master), 0, other=Decimal("0")), master) == []


# --------------------------------------------------------------------------------------------------
# One return: project sheets


def test_project_sheet_missing(master):
    sub = returned(master)
    findings = check(dataclasses.replace(sub, projects=sub.projects[:2] + sub.projects[3:]), master)
    f = only(findings, "X-PROJECT-MISSING")
    assert rules_of(findings) == ["X-PROJECT-MISSING"]
    assert f.severity == "error" and f.project_code == "13052922P005840107184" and f.cell == ""
    assert "统一着装经费" in f.message


def test_extra_project(master):
    new = Project(UNIT, "13052922P000000000001", "新增项目", Decimal("3"))
    sub = returned(master)
    sub = dataclasses.replace(sub, projects=sub.projects + (returned_project(new),))
    f = only(check(sub, master), "X-PROJECT-EXTRA")
    assert (f.severity, f.sheet, f.cell, f.project_code) == ("error", "新增项目", "B3", "13052922P000000000001")
    assert "不在本单位的主数据中" in f.message


def test_project_of_another_unit(master3):
    sub = returned(master3)
    foreign = master3.projects_of("435002")[0]
    findings = check(dataclasses.replace(sub, projects=sub.projects + (returned_project(foreign, "别人的"),)), master3)
    f = only(findings, "X-PROJECT-EXTRA")
    assert rules_of(findings) == ["X-PROJECT-EXTRA"]
    assert f.project_code == foreign.code and f.expected == "435002" and f.sheet == "别人的"
    assert "巨鹿县政务服务中心" in f.message and "435002" in f.message


def test_duplicate_project(master):
    sub = returned(master)
    copy = returned_project(master.projects[0], "光纤租赁和短信机费用 (2)")
    findings = check(dataclasses.replace(sub, projects=sub.projects + (copy,)), master)
    f = only(findings, "X-PROJECT-DUP")
    assert rules_of(findings) == ["X-PROJECT-DUP"]
    assert (f.severity, f.sheet, f.cell) == ("error", "光纤租赁和短信机费用 (2)", "B3")
    assert "出现了多次" in f.message and "光纤租赁和短信机费用 (2)" in f.message


# --------------------------------------------------------------------------------------------------
# One return: indicators


def test_indicator_value_changed(master):
    findings = check(edit_indicator(returned(master), 0, 0, value=Decimal("35")), master)
    f = only(findings, "X-IND-CHANGED")
    assert rules_of(findings) == ["X-IND-CHANGED"]
    assert (f.severity, f.cell, f.field, f.value, f.expected) == ("info", "F10", "ind0.value", "35", "30")
    assert "指标值由 30 改为 35" in f.message and "固定电话使用数量及光纤数量" in f.message


def test_indicator_spelling_variants_are_unchanged(master):
    sub = edit_indicator(returned(master), 0, 0, level1="产出", level2="数量", value="30", unit="个 ")
    assert check(sub, master) == []


def test_indicator_renamed_is_paired_by_position(master):
    findings = check(edit_indicator(returned(master), 0, 1, name="网络故障率"), master)
    f = only(findings, "X-IND-CHANGED")
    assert (f.field, f.cell, f.value, f.expected) == ("ind1.name", "C11", "网络故障率", "电话及网络故障率")
    assert "三级指标" in f.message


def test_indicator_added_in_spare_row(master):
    sub = returned(master)
    new = Indicator("效益指标", "社会效益指标", "群众办事便利度", operator="≥", value=Decimal("95"), unit="%")
    sub = edit_project(sub, 0, indicators=sub.projects[0].project.indicators + (new,))
    findings = check(sub, master)
    f = only(findings, "X-IND-ADDED")
    assert rules_of(findings) == ["X-IND-ADDED"]
    assert (f.severity, f.cell, f.field) == ("info", "C17", "ind7")
    assert "群众办事便利度" in f.message and "≥95%" in f.value


def test_indicator_row_cleared_is_removed(master):
    # The 一级/二级 dropdowns are kept, everything else in the row is cleared.
    findings = check(edit_indicator(returned(master), 0, 1, name="", description="", operator="", value=None,
                                    unit="", basis=""), master)
    f = only(findings, "X-IND-REMOVED")
    assert rules_of(findings) == ["X-IND-REMOVED"]
    assert (f.severity, f.cell, f.expected) == ("info", "C11", "产出指标/质量指标/电话及网络故障率 ≤10%")
    assert "电话及网络故障率" in f.message and "删除" in f.message


def test_indicator_row_dropped_by_reader_is_removed(master):
    sub = returned(master)
    indicators = sub.projects[0].project.indicators
    findings = check(edit_project(sub, 0, indicators=indicators[:1] + indicators[2:]), master)
    f = only(findings, "X-IND-REMOVED")
    assert rules_of(findings) == ["X-IND-REMOVED"]
    assert f.sheet == "光纤租赁和短信机费用"


def test_filling_an_empty_grid_is_not_a_change(master):
    bare = dataclasses.replace(master, projects=(dataclasses.replace(master.projects[0], indicators=()),)
                               + master.projects[1:])
    sub = returned(master)  # the unit filled the grid the master left empty
    assert check(sub, bare) == []


# --------------------------------------------------------------------------------------------------
# One return: the department sheet


def test_department_goal_text_changed(master):
    sub = returned(master)
    goals = list(sub.dept.goals)
    goals[0] = dataclasses.replace(goals[0], goal="完善服务体系。")
    findings = check(dataclasses.replace(sub, dept=dataclasses.replace(sub.dept, goals=tuple(goals))), master)
    f = only(findings, "X-DEPT-CHANGED")
    assert (f.severity, f.sheet, f.cell, f.field) == ("info", DEPT_SHEET, "C8", "goal1.goal")
    assert f.value == "完善服务体系。" and f.expected.startswith("设置“便民服务中心”")
    assert "分项绩效目标 1" in f.message and "目标内容" in f.message


def test_department_overall_goal_and_indicator_changed(master):
    sub = returned(master)
    indicators = list(sub.dept.indicators)
    indicators[2] = dataclasses.replace(indicators[2], value=Decimal("95"))
    dept = dataclasses.replace(sub.dept, overall_goal="提高政务服务水平。", indicators=tuple(indicators))
    findings = check(dataclasses.replace(sub, dept=dept), master)
    assert rules_of(findings) == ["X-DEPT-CHANGED", "X-DEPT-CHANGED"]
    overall, value = sorted(findings, key=lambda f: f.field)[::-1]
    assert (overall.field, overall.cell, overall.value) == ("overall_goal", "B4", "提高政务服务水平。")
    assert (value.field, value.cell, value.value, value.expected) == ("dind2.value", "H22", "95", "90")
    assert "办公自动化覆盖率" in value.message and "由 90 改为 95" in value.message


def test_department_goal_removed_and_added(master):
    sub = returned(master)
    goals = sub.dept.goals[:-1] + (DeptGoal(UNIT, 7, "新增目标", "新增内容"),)
    findings = check(dataclasses.replace(sub, dept=dataclasses.replace(sub.dept, goals=goals)), master)
    messages = " ".join(f.message for f in findings)
    assert rules_of(findings) == ["X-DEPT-CHANGED", "X-DEPT-CHANGED"]
    assert "分项绩效目标 6“统一着装经费”已被删除" in messages and "新增分项绩效目标 7“新增目标”" in messages


def test_department_indicator_added(master):
    sub = returned(master)
    new = DeptIndicator(UNIT, 3, "产出指标", "数量指标", "新增设备数", "≥", Decimal("2"), "台")
    dept = dataclasses.replace(sub.dept, indicators=sub.dept.indicators + (new,))
    f = only(check(dataclasses.replace(sub, dept=dept), master), "X-DEPT-CHANGED")
    assert (f.field, f.cell) == ("dind12", "F32") and "新增设备数" in f.message


# --------------------------------------------------------------------------------------------------
# Odd data never raises


def test_odd_data_does_not_raise(master):
    odd = Project(UNIT, "", "无编码项目", None, indicators=(Indicator("", "", ""),))
    odd_master = dataclasses.replace(master, projects=master.projects + (odd,), fingerprint="")
    sub = returned(master)
    odd_return = ReturnedProject("", "", dataclasses.replace(odd, budget="abc", fiscal=Decimal("NaN")))
    sub = dataclasses.replace(sub, projects=sub.projects + (odd_return, odd_return), dept=None, unit_name="")
    findings = reconcile_submission(sub, odd_master, expected_template=("", ""))
    assert all(f.severity in ("error", "warning", "info") for f in findings)
    assert any(f.rule == "X-TAMPER" and f.field == "budget" and f.value == "abc" for f in findings)
    assert any(f.rule == "X-TAMPER" and f.field == "fiscal" and f.value == "NaN" for f in findings)
    assert any(f.rule == "X-PROJECT-EXTRA" for f in findings)  # the second copy: paired once only


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    budget=st.one_of(st.none(), st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=5)),
    code=st.text(max_size=4),
    value=st.one_of(st.none(), st.decimals(allow_nan=False), st.text(max_size=5)),
)
def test_any_returned_value_gives_findings_not_exceptions(master, budget, code, value):
    sub = edit_indicator(returned(master), 0, 0, value=value)
    sub = edit_project(sub, 0, budget=budget, code=code)
    for f in check(sub, master):
        assert f.file == "a.xlsx" and f.sha256 == "sha-a" and f.unit_code == UNIT
        assert f.severity == RULES[f.rule].severity


# --------------------------------------------------------------------------------------------------
# The batch


def test_two_files_of_one_unit(master3):
    a = returned(master3, file="435001_v1.xlsx", sha="sha-1")
    b = returned(master3, file="435001_v2.xlsx", sha="sha-2")
    findings = reconcile_batch([a, b], master3)
    assert rules_of(findings) == ["X-DUP-UNIT", "X-DUP-UNIT"]
    assert {f.file for f in findings} == {"435001_v1.xlsx", "435001_v2.xlsx"}
    for f in findings:
        assert f.severity == "warning" and f.unit_code == UNIT
        assert "435001_v1.xlsx" in f.message and "435001_v2.xlsx" in f.message and "台账" in f.message


def test_same_project_in_two_units(master3):
    mine = returned(master3, "435001", "a.xlsx", "sha-a")
    theirs = returned(master3, "435002", "b.xlsx", "sha-b")
    stolen = returned_project(master3.projects[0])
    theirs = dataclasses.replace(theirs, projects=theirs.projects + (stolen,))
    findings = reconcile_batch([mine, theirs], master3)
    f = only(findings, "X-DUP-PROJECT")
    assert rules_of(findings) == ["X-DUP-PROJECT"]  # on the file of the unit that does not own it
    assert (f.file, f.unit_code, f.value, f.expected) == ("b.xlsx", "435002", "435002", "435001")
    assert f.severity == "error" and f.project_code == master3.projects[0].code and f.cell == "B3"
    assert "a.xlsx" in f.message and "b.xlsx" in f.message
    assert "主数据中该项目属于单位“巨鹿县行政审批局本级”" in f.message


def test_same_project_in_two_units_neither_owning_it(master3):
    new = Project("435002", "13052922P000000000001", "新增项目", Decimal("3"))
    subs = []
    for code, name in (("435002", "b.xlsx"), ("435003", "c.xlsx")):
        sub = returned(master3, code, name, f"sha-{name}")
        subs.append(dataclasses.replace(sub, projects=sub.projects + (returned_project(new),)))
    findings = reconcile_batch(subs, master3)
    assert rules_of(findings) == ["X-DUP-PROJECT", "X-DUP-PROJECT"]
    assert all("主数据中没有该项目" in f.message and f.expected == "" for f in findings)


def test_department_indicators_pair_within_their_goal(master):
    sub = returned(master)
    indicators = list(sub.dept.indicators)
    # 群众满意度 (goal 1) moved to goal 2 by its 序号: a change, not a silent match across goals.
    indicators[1] = dataclasses.replace(indicators[1], seq=2)
    findings = check(dataclasses.replace(sub, dept=dataclasses.replace(sub.dept, indicators=tuple(indicators))),
                     master)
    assert rules_of(findings) == ["X-DEPT-CHANGED", "X-DEPT-CHANGED"]
    added, removed = findings
    assert "分项目标 2）中新增指标“群众满意度”" in added.message and added.cell == "F21"
    assert "分项目标 1）中下发的预填指标“群众满意度”已被删除" in removed.message


def test_identical_file_under_two_names(master3):
    a = returned(master3, file="a.xlsx", sha="same")
    b = returned(master3, file="a - 副本.xlsx", sha="same")
    findings = reconcile_batch([a, b], master3)
    f = only(findings, "X-SAME-FILE")
    assert rules_of(findings) == ["X-SAME-FILE"]  # the same bytes are not two versions of the unit
    assert (f.severity, f.file, f.value, f.expected) == ("info", "a - 副本.xlsx", "a - 副本.xlsx", "a.xlsx")


def test_same_file_passed_twice_is_not_reported(master3):
    a = returned(master3)
    assert reconcile_batch([a, a], master3) == []


def test_outstanding_units_only_on_request(master3):
    subs = [returned(master3, "435002", "b.xlsx", "sha-b")]
    assert reconcile_batch(subs, master3) == []
    findings = reconcile_batch(subs, master3, report_outstanding=True)
    assert rules_of(findings) == ["X-UNIT-NO-RETURN", "X-UNIT-NO-RETURN"]
    assert sorted(f.unit_code for f in findings) == ["435001", "435003"]
    for f in findings:
        assert f.severity == "warning" and f.file == "" and f.sha256 == ""
    assert "巨鹿县公共资源交易中心" in next(f.message for f in findings if f.unit_code == "435003")


def test_missing_department_sheet_is_an_error(master):
    from dataclasses import replace as _replace

    sub = _replace(returned(master), dept=None)
    findings = reconcile_submission(sub, master)
    assert [f.rule for f in findings if f.severity == "error"] == ["X-DEPT-MISSING"]


# --------------------------------------------------------------------------------------------------
# The rules' view: locked values as issued


def _with_totals(sub: Submission, budget: str) -> Submission:
    """The return with the department sheet showing ``budget`` as its 项目预算合计 (a formula's cached value)."""
    locations = {**sub.dept.locations, "unit.budget": Location(DEPT_SHEET, "C5", "name", budget)}
    return dataclasses.replace(sub, dept=dataclasses.replace(sub.dept, locations=locations))


def test_issued_view_puts_the_masters_locked_values_back_and_keeps_the_units_entries(master):
    issued = master.projects[2]
    sub = edit_project(returned(master), 2, budget=Decimal("150"), fiscal=Decimal("1"), name="改过的名称",
                       annual_goal="单位填写的目标")
    view = issued_view(sub, master)
    project = view.projects[2].project
    assert (project.budget, project.fiscal, project.other, project.name) == (
        issued.budget, issued.fiscal, issued.other, issued.name)
    assert project.annual_goal == "单位填写的目标" and project.plan == issued.plan
    assert view.projects[2].locations == sub.projects[2].locations  # findings still point at the form's cells
    assert rules_of(check(sub, master)).count("X-TAMPER") == 3


def test_rules_on_the_issued_view_say_nothing_about_an_edited_budget(master):
    sub = edit_project(returned(master), 0, budget=Decimal("1.00"))
    config = RuleConfig.from_settings(master.settings)
    budget_rules = ("R-F1", "R-F5", "R-C1", "R-C2")
    as_issued = [(f.rule, f.cell) for f in check_submission(issued_view(sub, master), config)
                 if f.rule in budget_rules and f.project_code == master.projects[0].code]
    untouched = [(f.rule, f.cell) for f in check_submission(returned(master), config)
                 if f.rule in budget_rules and f.project_code == master.projects[0].code]
    as_returned = [f.rule for f in check_submission(sub, config) if f.project_code == master.projects[0].code]
    assert as_issued == untouched
    assert "R-F1" in as_returned  # what the unit was told before: the wrong fix


def test_a_department_total_that_follows_an_edited_budget_is_read_as_issued(master):
    total = sum(p.budget for p in master.projects_of(UNIT))
    sub = edit_project(returned(master), 0, budget=master.projects[0].budget + 100)
    followed = issued_view(_with_totals(sub, str(total + 100)), master)
    assert followed.dept.where("unit.budget").raw == format(total, "f")
    overwritten = issued_view(_with_totals(sub, "1.00"), master)
    assert overwritten.dept.where("unit.budget").raw == "1.00"  # typed over: R-F2 still says so
    config = RuleConfig.from_settings(master.settings)
    assert not [f for f in check_submission(followed, config) if f.rule == "R-F2"]
    assert [f.cell for f in check_submission(overwritten, config) if f.rule == "R-F2"] == ["C5"]


def test_issued_view_leaves_unknown_units_and_projects_as_returned(master):
    stranger = dataclasses.replace(edit_project(returned(master), 0, budget=Decimal("1")), unit_code="999999")
    assert issued_view(stranger, master) is stranger
    extra = edit_project(returned(master), 0, code="不存在的编码", name="新项目", budget=Decimal("1"))
    assert issued_view(extra, master).projects[0].project.budget == Decimal("1")
