"""Reports (findings.json/.csv, report.xlsx, report.html) and 退回修改 workbooks, from hand-made submissions."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import markupsafe
import openpyxl
import pytest

from jixiao_xl import catalogue
from jixiao_xl.fill import INPUT_FILL, MARK_FILL, sheet_names_for
from jixiao_xl.findings import COLUMNS, Finding
from jixiao_xl.generate import GenerateOptions, generate, workbook_name
from jixiao_xl.master import load_sample
from jixiao_xl.model import Master, Project, Unit
from jixiao_xl.report import summary_lines, unit_sheet_names, write_reports
from jixiao_xl.sendback import latest_per_unit, mark_key, needs_sendback, write_sendbacks
from jixiao_xl.submission import Location, ReturnedDept, ReturnedProject, Submission
from jixiao_xl.template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template, load_spec

UNIT2 = Unit("435002", "巨鹿县政务服务中心", "435", "李四", "0319-1234567")
PROJECT_CELLS = {"code": "B3", "name": "F3", "budget": "B4", "fiscal": "D4", "other": "F4", "purpose": "B5",
                 "annual_goal": "B9"}
INDICATOR_COLUMNS = dict(zip(("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight"),
                             "ABCDEFGHI"))
DEPT_GOAL_COLUMNS = {"seq": "A", "name": "B", "goal": "C"}
DEPT_INDICATOR_COLUMNS = dict(zip(("level1", "level2", "name", "operator", "value", "unit", "basis"), "DEFGHIJ"))
DEPT_SHEET = "部门整体绩效目标"
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x")'
RETURNED_VALUE = Decimal("8.5")  # 5.政务外网费用, 4th indicator: the master says 7.9


# ---------------------------------------------------------------------------------------------------------
# Building submissions in code


def _raw(value) -> str:
    return "" if value is None else str(value)


def returned_project(project: Project, sheet: str) -> ReturnedProject:
    """A project as the reader would return it: budget at B4, plan at B7..E7, indicator k at row 11+k."""
    locations = {path: Location(sheet, cell, "name", _raw(getattr(project, path))) for path, cell in PROJECT_CELLS.items()}
    for column, point in zip("BCDE", project.plan):
        locations[f"plan.{point.node}"] = Location(sheet, f"{column}7", "name", _raw(point.amount))
    for k, indicator in enumerate(project.indicators):
        for field, column in INDICATOR_COLUMNS.items():
            locations[f"ind{k}.{field}"] = Location(sheet, f"{column}{11 + k}", "name", _raw(getattr(indicator, field)))
    return ReturnedProject(project.code, sheet, project, locations)


def returned_dept(master: Master, unit_code: str) -> ReturnedDept:
    """The department sheet as the reader would return it: overall goal at C5, the grid from row 7."""
    goals = [g for g in master.goals_of(unit_code) if g.seq != 0]
    overall = next((g.goal for g in master.goals_of(unit_code) if g.seq == 0), "")
    indicators = master.dept_indicators_of(unit_code)
    locations = {"overall_goal": Location(DEPT_SHEET, "C5", "name", overall)}
    row = 7
    for goal in goals:
        for field, column in DEPT_GOAL_COLUMNS.items():
            locations.setdefault(f"goal{goal.seq}.{field}", Location(DEPT_SHEET, f"{column}{row}", "name"))
        mine = [k for k, i in enumerate(indicators) if i.seq == goal.seq] or [None]
        for k in mine:
            if k is not None:
                for field, column in DEPT_INDICATOR_COLUMNS.items():
                    locations[f"dind{k}.{field}"] = Location(DEPT_SHEET, f"{column}{row}", "name")
            row += 1
    return ReturnedDept(DEPT_SHEET, overall, tuple(goals), indicators, locations)


def submission_for(master: Master, unit: Unit, path: Path, projects: tuple[Project, ...]) -> Submission:
    """A readable return of ``unit`` stored at ``path`` (a real file, so its bytes can be checked later)."""
    sheets = sheet_names_for(projects)
    return Submission(
        file=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(), kind="xlsx", unit_code=unit.code,
        unit_name=unit.name, projects=tuple(returned_project(p, s) for p, s in zip(projects, sheets)),
        dept=returned_dept(master, unit.code),
    )


def with_indicator_value(project: Project, k: int, value) -> Project:
    """The project with indicator ``k`` holding another value (what the unit typed)."""
    indicators = list(project.indicators)
    indicators[k] = replace(indicators[k], value=value)
    return replace(project, indicators=tuple(indicators))


# ---------------------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def master() -> Master:
    """The sample master plus a second unit with two projects."""
    sample = load_sample()
    extra = tuple(replace(p, unit_code=UNIT2.code, code=f"13052922P00584020000{k}")
                  for k, p in enumerate(sample.projects[:2], start=1))
    return replace(sample, units=sample.units + (UNIT2,), projects=sample.projects + extra)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, master) -> Path:
    """Returned files on disk: the generated workbooks, as if the units sent them back unchanged."""
    folder = tmp_path_factory.mktemp("收件")
    generate(master, None, GenerateOptions(out_dir=folder))
    (folder / "加密.xlsx").write_bytes(b"\xd0\xcf\x11\xe0 not really a workbook")
    return folder


@pytest.fixture(scope="module")
def submissions(master, inbox) -> list[Submission]:
    unit1 = master.units[0]
    projects1 = list(master.projects_of(unit1.code))
    projects1[4] = with_indicator_value(projects1[4], 3, RETURNED_VALUE)
    encrypted = inbox / "加密.xlsx"
    return [
        submission_for(master, unit1, inbox / workbook_name(unit1), tuple(projects1)),
        submission_for(master, UNIT2, inbox / workbook_name(UNIT2), master.projects_of(UNIT2.code)),
        Submission(file=str(encrypted), sha256=hashlib.sha256(encrypted.read_bytes()).hexdigest(), kind="encrypted"),
    ]


@pytest.fixture(scope="module")
def findings(master, submissions) -> list[Finding]:
    s1, s2, s3 = submissions
    p1 = master.projects_of(s1.unit_code)
    p2 = master.projects_of(s2.unit_code)
    return [
        Finding("R-C1", "error", "成本指标“政务专网使用费用”的指标值超过项目预算数，请核实指标值或改用正确的度量单位。",
                s1.file, s1.sha256, s1.unit_code, p1[4].code, "5.政务外网费用", "F14", "ind3.value", "8.5", "≤ 5", "name"),
        Finding("R-PLAN-LAST", "error", "12月底累计支出计划未填写，应等于预算数 9.00。", s1.file, s1.sha256, s1.unit_code,
                p1[2].code, "3.统一着装经费", "E7", "plan.12月底", "", "9.00", "name"),
        Finding("R-GOAL-LEN", "warning", "总体绩效目标过长，建议精简到 200 字以内。", s1.file, s1.sha256, s1.unit_code, "",
                DEPT_SHEET, "C5", "overall_goal", "", "", "name"),
        Finding("I-MACRO", "info", "文件含有宏，已忽略宏，仅读取数据。", s1.file, s1.sha256, s1.unit_code),
        Finding("R-TEXT", "warning", f"预算规模及资金用途含有可疑内容：{SCRIPT}", s2.file, s2.sha256, s2.unit_code,
                p2[0].code, "1.光纤租赁和短信机费用", "B5", "purpose", FORMULA, "", "name"),
        Finding("R-NOTE", "info", '备注里有 "onload= 字样，请确认。', s2.file, s2.sha256, s2.unit_code, p2[1].code,
                "2.软件正版化设备保养维护费用", "D11", "ind0.description", "", "", "label"),
        Finding("I-ENCRYPTED", "error", "文件已加密，请取消密码后重新提交。", s3.file, s3.sha256),
    ]


@pytest.fixture(scope="module")
def reports(tmp_path_factory, findings, submissions, master):
    return write_reports(tmp_path_factory.mktemp("核对"), findings, submissions, master)


@pytest.fixture(scope="module")
def specs():
    return load_spec(builtin_template(PROJECT_TEMPLATE)), load_spec(builtin_template(DEPARTMENT_TEMPLATE))


@pytest.fixture(scope="module")
def inbox_digests(inbox) -> dict[str, str]:
    """sha256 of every returned file before any sendback was written."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()}


@pytest.fixture(scope="module")
def sendbacks(tmp_path_factory, master, submissions, findings, specs, inbox_digests):
    out = tmp_path_factory.mktemp("退回修改")
    return write_sendbacks(out, master, submissions, findings, *specs)


# ---------------------------------------------------------------------------------------------------------
# findings.json / findings.csv


def test_json_has_every_finding_with_the_contract_columns(reports, findings):
    rows = json.loads(reports.json.read_text(encoding="utf-8"))
    assert len(rows) == len(findings)
    assert all(list(row) == list(COLUMNS) for row in rows)
    assert sorted(json.dumps(r, sort_keys=True) for r in rows) == sorted(
        json.dumps(f.as_row(), sort_keys=True) for f in findings)


def test_csv_has_bom_header_and_neutralised_formulas(reports, findings):
    data = reports.csv.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == len(findings) + 1
    values = [row[COLUMNS.index("value")] for row in rows[1:]]
    assert "'" + FORMULA in values and FORMULA not in values


# ---------------------------------------------------------------------------------------------------------
# report.xlsx


@pytest.fixture(scope="module")
def book(reports):
    return openpyxl.load_workbook(reports.xlsx)


def test_xlsx_sheets(book):
    assert book.sheetnames == ["概览", "问题清单", "435001 巨鹿县行政审批局本级", "435002 巨鹿县政务服务中心",
                               "单位未识别", "规则说明"]


def test_xlsx_findings_sheet(book, findings):
    ws = book["问题清单"]
    assert [c.value for c in ws[1]] == ["文件", "sha256", "单位编码", "项目编码", "工作表", "单元格", "字段", "规则",
                                        "严重程度", "问题说明", "填报值", "应为", "定位方式"]
    assert ws.max_row == len(findings) + 1
    assert ws.auto_filter.ref == f"A1:M{len(findings) + 1}"
    assert ws.freeze_panes == "A2"
    assert {row[7].value for row in ws.iter_rows(min_row=2)} == {f.rule for f in findings}
    assert all(row[9].alignment.wrap_text for row in ws.iter_rows(min_row=2))


def test_xlsx_formula_text_stays_text(book):
    ws = book["问题清单"]
    cells = [row[10] for row in ws.iter_rows(min_row=2) if row[10].value == FORMULA]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_xlsx_rows_coloured_by_severity(book):
    ws = book["问题清单"]
    colours = {row[8].value: row[0].fill.fgColor.rgb for row in ws.iter_rows(min_row=2)}
    assert colours == {"错误": "FFFFC7CE", "警告": "FFFFEB9C", "提示": "FFDDEBF7"}


def test_xlsx_unit_sheets_hold_their_findings(book, findings):
    for code, sheet in (("435001", "435001 巨鹿县行政审批局本级"), ("435002", "435002 巨鹿县政务服务中心"), ("", "单位未识别")):
        ws = book[sheet]
        assert ws.max_row - 1 == sum(1 for f in findings if f.unit_code == code)
        assert {row[2].value or "" for row in ws.iter_rows(min_row=2)} == {code}


def test_xlsx_overview_counts(book):
    rows = list(book["概览"].iter_rows(values_only=True))
    assert rows[0] == ("单位编码", "单位名称", "文件", "错误", "警告", "提示", "状态")
    by_unit = {r[0] or "": r for r in rows[1:-1]}
    assert by_unit["435001"][3:] == (2, 1, 1, "有错误，需退回修改")
    assert by_unit["435002"][3:] == (0, 1, 1, "有警告，需退回修改")
    assert by_unit[""][3:] == (1, 0, 0, "无法读取")
    assert rows[-1][0] == "合计" and rows[-1][3:6] == (3, 2, 2)


def test_xlsx_rules_sheet(book, findings):
    rows = {r[0]: r for r in book["规则说明"].iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {f.rule for f in findings}
    assert rows["I-ENCRYPTED"][3] == catalogue.get("I-ENCRYPTED").title
    assert rows["I-ENCRYPTED"][4] == catalogue.get("I-ENCRYPTED").fix


def test_reports_are_deterministic(tmp_path, reports, findings, submissions, master):
    again = write_reports(tmp_path, list(reversed(findings)), submissions, master)
    for name in ("json", "csv", "xlsx", "html"):
        assert getattr(again, name).read_bytes() == getattr(reports, name).read_bytes(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_many_units_get_no_sheet_each(tmp_path, monkeypatch, findings, submissions, master):
    # A province's run has thousands of units with findings: one sheet each would make report.xlsx unusable.
    from jixiao_xl.report import excel

    monkeypatch.setattr(excel, "UNIT_SHEET_LIMIT", 2)
    paths = write_reports(tmp_path, findings, submissions, master)
    book = openpyxl.load_workbook(paths.xlsx)
    assert book.sheetnames == ["概览", "问题清单", "规则说明"]
    notes = [c.value for c in book["概览"]["A"] if c.value and "未按单位分表" in str(c.value)]
    assert notes == ["有问题的单位超过 2 个，未按单位分表；请在“问题清单”中按单位编码筛选。"]
    assert book["问题清单"].max_row == len(findings) + 1


def test_unit_sheet_names_are_valid_and_unique():
    long = "很长的单位名称" * 10
    names = unit_sheet_names([("1", "a/b*c?"), ("2", long), ("3", long[:40]), ("4", "")])
    assert names["1"] == "1 a_b_c_"
    assert all(len(n) <= 31 for n in names.values())
    assert len({n.lower() for n in names.values()}) == 4


# ---------------------------------------------------------------------------------------------------------
# report.html


@pytest.fixture(scope="module")
def html(reports) -> str:
    return reports.html.read_text(encoding="utf-8")


def test_html_lists_every_finding(html, findings):
    for f in findings:
        assert f.rule in html
        assert str(markupsafe.escape(f.message)) in html
    assert "巨鹿县政务服务中心" in html and "5.政务外网费用!F14" in html


def test_html_escapes_everything(html):
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"onload=' not in html and "&#34;onload=" in html
    assert html.count("<script>") == 1  # the filter script, nothing else


def test_html_is_self_contained(html):
    assert re.search(r"\b(src|href|action)\s*=", html, re.I) is None
    assert not re.search(r"<link|<img|<iframe|@import|url\(", html, re.I)
    # the only address is the escaped text of the finding's value
    assert len(re.findall(r"(?:https?:)?//", html)) == html.count("HYPERLINK(&#34;http://x&#34;)") == 1


def test_html_has_severity_filters(html):
    for sev in ("error", "warning", "info"):
        assert f'data-sev="{sev}"' in html
        assert f"body.hide-{sev} .sev-{sev}" in html


def test_summary_lines(reports, findings, submissions):
    text = "\n".join(summary_lines(findings, submissions, reports))
    assert "核对文件 3 个，涉及单位 2 个，其中无法读取 1 个" in text
    assert "错误 3 条，警告 2 条，提示 2 条" in text
    assert str(reports.xlsx) in text and str(reports.html) in text


# ---------------------------------------------------------------------------------------------------------
# 退回修改


def test_sendback_for_units_with_errors_or_warnings(sendbacks, master):
    assert [p.name for p in sendbacks] == [workbook_name(master.units[0]), workbook_name(UNIT2)]


def test_sendback_marks_the_cell(sendbacks, findings):
    ws = openpyxl.load_workbook(sendbacks[0])["5.政务外网费用"]
    assert ws["F14"].fill.fgColor.rgb == "FF" + MARK_FILL
    assert findings[0].message in ws["F14"].comment.text
    assert "[规则 R-C1 错误]" in ws["F14"].comment.text
    assert ws["F13"].fill.fgColor.rgb == "FF" + INPUT_FILL and ws["F13"].comment is None


def test_sendback_marks_plan_and_department_cells(sendbacks):
    book = openpyxl.load_workbook(sendbacks[0])
    assert book["3.统一着装经费"]["E7"].fill.fgColor.rgb == "FF" + MARK_FILL
    assert "[规则 R-GOAL-LEN 警告]" in book["部门整体绩效目标"]["C5"].comment.text


def test_sendback_shows_the_returned_values(sendbacks, master):
    ws = openpyxl.load_workbook(sendbacks[0])["5.政务外网费用"]
    assert master.projects_of("435001")[4].indicators[3].value != RETURNED_VALUE
    assert Decimal(str(ws["F14"].value)) == RETURNED_VALUE


def test_sendback_lists_all_problems_of_the_file(sendbacks, findings):
    ws = openpyxl.load_workbook(sendbacks[0])["问题清单"]
    mine = [f for f in findings if f.unit_code == "435001"]
    assert ws.max_row == len(mine) + 1
    assert {r[6] for r in ws.iter_rows(min_row=2, values_only=True)} == {f.message for f in mine}


def test_returned_files_are_untouched(sendbacks, inbox, inbox_digests):
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()} == inbox_digests


def test_sendback_never_overwrites_a_returned_file(inbox, inbox_digests, master, submissions, findings, specs):
    written = write_sendbacks(inbox, master, submissions, findings, *specs)
    assert written and all(p.name.endswith("-退回修改.xlsx") for p in written)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.iterdir()
            if p.name in inbox_digests} == inbox_digests
    for p in written:
        p.unlink()


def test_infos_alone_send_nothing_back(tmp_path, master, submissions, findings, specs):
    infos = [f for f in findings if f.severity == "info"]
    assert not needs_sendback(infos)
    assert write_sendbacks(tmp_path, master, submissions, infos, *specs) == []


def test_latest_return_of_a_unit_counts(submissions):
    newer = replace(submissions[0], file="新的.xlsx")
    assert latest_per_unit([submissions[0], submissions[1], newer]) == [newer, submissions[1]]


def test_mark_key_maps_cells_back_to_paths(submissions, findings):
    s1 = submissions[0]
    assert mark_key(s1, findings[0]) == (findings[0].project_code, "ind3.value")
    assert mark_key(s1, findings[1]) == (findings[1].project_code, "plan.12月底")
    assert mark_key(s1, findings[2]) == ("", "overall_goal")
    assert mark_key(s1, findings[3]) is None
