"""Generated workbooks, inspected cell by cell with openpyxl (the LibreOffice gate is in its own file)."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.fill import Placement
from jixiao_xl.meta import field_map
from jixiao_xl.generate import GenerateOptions, generate, workbook_name
from jixiao_xl.master import load_sample
from jixiao_xl.model import Indicator, Unit
from jixiao_xl.read import read_meta
from jixiao_xl.rules import funds
from jixiao_xl.template import check_template
from jixiao_xl.workbook import open_workbook

SHEETS = [
    "填报说明",
    "1.光纤租赁和短信机费用",
    "2.软件正版化设备保养维护费用",
    "3.统一着装经费",
    "4.政务服务办公费（2+2+3 服务体系）",
    "5.政务外网费用",
    "6.政务网络信息建设维护费用",
    "部门整体绩效目标",
    "_lists",
    "_meta",
]


@pytest.fixture(scope="module")
def sample():
    return load_sample()


@pytest.fixture(scope="module")
def generated(tmp_path_factory, sample):
    out = tmp_path_factory.mktemp("gen")
    issued = generate(sample, None, GenerateOptions(out_dir=out))
    return out, issued


@pytest.fixture(scope="module")
def book(generated):
    out, issued = generated
    return openpyxl.load_workbook(out / issued[0].file)


@pytest.fixture(scope="module")
def cached(generated):
    out, issued = generated
    return openpyxl.load_workbook(out / issued[0].file, data_only=True)


def test_one_workbook_with_manifest_and_notice(generated):
    out, issued = generated
    assert [i.file for i in issued] == ["435001-巨鹿县行政审批局本级.xlsx"]
    rows = list(csv.DictReader((out / "manifest.csv").open(encoding="utf-8-sig")))
    assert rows[0]["单位编码"] == "435001"
    assert rows[0]["项目数"] == "6"
    assert rows[0]["预算数合计"] == "60.00"
    assert len(rows[0]["sha256"]) == 64
    notice = (out / "435001-巨鹿县行政审批局本级-通知.txt").read_text(encoding="utf-8-sig")
    assert "巨鹿县行政审批局本级" in notice and "60.00" in notice and "13052922P005840107184" in notice


def test_sheet_anatomy(book):
    assert book.sheetnames == SHEETS
    assert book["_lists"].sheet_state == "veryHidden"
    assert book["_meta"].sheet_state == "veryHidden"
    assert all(book[name].sheet_state == "visible" for name in SHEETS[:8])


def test_every_master_value_in_its_cell(book, sample):
    for project, name in zip(sample.projects, SHEETS[1:7]):
        ws = book[name]
        assert ws["B3"].value == project.code
        assert ws["F3"].value == project.name
        assert Decimal(str(ws["B4"].value)) == project.budget
        assert Decimal(str(ws["D4"].value)) == project.fiscal
        assert ws["F4"].value is None
        assert ws["B5"].value == project.purpose
        assert ws["B9"].value == project.annual_goal
        assert [ws.cell(6, c).value for c in range(2, 6)] == ["3月底", "6月底", "10月底", "12月底"]
        amounts = [ws.cell(7, c).value for c in range(2, 6)]
        assert [None if a is None else Decimal(str(a)) for a in amounts] == [p.amount for p in project.plan]
        for k, indicator in enumerate(project.indicators):
            row = 11 + k
            expected = [indicator.name, indicator.description, indicator.operator, indicator.value, indicator.unit,
                        indicator.basis]
            got = [ws.cell(row, c).value for c in range(3, 9)]
            got[3] = Decimal(str(got[3]))
            assert got == expected
        for row in (18, 19, 20):
            assert all(ws.cell(row, c).value is None for c in range(1, 10))
        assert ws["A21"].value == "填表人"
    assert book["1.光纤租赁和短信机费用"]["A2"].value == "435001 巨鹿县行政审批局本级"
    assert book["1.光纤租赁和短信机费用"]["A1"].value == "2022年度项目支出绩效目标表"


def test_level1_merged_over_its_rows(book):
    ws = book["5.政务外网费用"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A11:A14", "A15:A16", "A1:I1", "B3:D3"} <= merged
    assert ws["A11"].value == "产出指标" and ws["A15"].value == "效益指标" and ws["A17"].value == "满意度指标"
    assert not any(r.startswith("A18") for r in merged)


def test_department_sheet(book, sample):
    ws = book["部门整体绩效目标"]
    assert ws["C3"].value == "巨鹿县行政审批局本级"
    assert ws["C4"].value.startswith("=")
    assert ws["E4"].value == 6
    assert ws["C5"].value.startswith("坚持以习近平新时代中国特色社会主义思想为指导")
    assert ws["A7"].value == 1 and ws["B7"].value == "完善“2+2+3”服务体系，创新审批模式"
    assert ws["F7"].value == "业务处理及时率" and ws["G7"].value == "＝" and ws["H7"].value == 100
    assert "A7:A8" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["F12"].value == "非正常停机率" and ws["G12"].value == "定性" and ws["H12"].value == "接近于 0"


def test_cached_values_of_live_checks(cached):
    assert cached["部门整体绩效目标"]["C4"].value == 60
    uniform = cached["3.统一着装经费"]
    assert uniform["G7"].value == "✗ 12月底累计支出计划未填写，应等于预算数9.00"
    assert uniform["G8"].value == "✓ 累计支出计划逐步增加"
    assert uniform["H4"].value == "✓ 财政资金+其他资金=预算数"
    assert cached["1.光纤租赁和短信机费用"]["G7"].value == "✓ 12月底累计支出计划等于预算数"
    assert cached["1.光纤租赁和短信机费用"]["E8"].value == 1
    assert uniform["E8"].value in ("", None) and uniform["D8"].value == 0.75


def test_the_live_checks_are_placed_as_rules_funds_writes_them(book, cached, sample):
    """fill only places the funds and plan checks: formula text, cached value and hints are rules.funds'."""
    ws, values = book["3.统一着装经费"], cached["3.统一着装经费"]
    project = sample.projects_of("435001")[2]
    last_node = sample.settings.plan_nodes[-1]
    checks = {
        "H4": funds.funds_live_check("$B$4", "$D$4", "$F$4", project),
        "G7": funds.plan_total_live_check("E7", "$B$4", project, last_node),
        "G8": funds.plan_order_live_check(["B7", "C7", "D7", "E7"], project),
    }
    for cell, check in checks.items():
        assert ws[cell].value == check.formula and values[cell].value == check.cached, cell
    hint = funds.plan_input(last_node, sample.settings.money_unit, project)
    [validation] = [dv for dv in ws.data_validations.dataValidation if "E7" in str(dv.sqref)]
    assert (validation.promptTitle, validation.prompt, validation.error) == (hint.title, hint.message,
                                                                            hint.error_message)
    criteria = {rule.formula[0] for rules in ws.conditional_formatting for rule in rules.rules}
    assert funds.verdict_criteria("$H$4", funds.FAILED)[1:] in criteria
    assert funds.plan_end_criteria("E7", "$B$4")[1:] in criteria


def test_every_formula_has_a_cached_value(generated):
    out, issued = generated
    with zipfile.ZipFile(out / issued[0].file) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = archive.read(name).decode("utf-8")
                for chunk in xml.split("<f>")[1:]:
                    assert "<v>" in chunk.split("</c>")[0], name


def test_defined_names_on_bound_cells(book):
    names = book.defined_names
    assert names["JX_P01_CODE"].attr_text == "'1.光纤租赁和短信机费用'!$B$3"
    assert names["JX_P03_PLAN4_AMOUNT"].attr_text == "'3.统一着装经费'!$E$7"
    assert names["JX_P01_I07_VALUE"].attr_text == "'1.光纤租赁和短信机费用'!$F$17"
    assert names["JX_P01_I10_LEVEL1"].attr_text == "'1.光纤租赁和短信机费用'!$A$20"
    assert names["JX_P01_GRID"].attr_text == "'1.光纤租赁和短信机费用'!$A$10:$I$20"
    assert names["JX_D_OVERALL_GOAL"].attr_text == "'部门整体绩效目标'!$C$5"
    assert names["JXL_LEVEL1"].attr_text == "_lists!$A$2:$A$4"
    assert all(n.startswith(("JX_", "JXL_", "_xlnm")) for n in names)


def test_protection_and_input_cells(book):
    for name in SHEETS[:8]:
        assert book[name].protection.sheet is True, name
        assert book[name].protection.insertRows is True  # openpyxl: True means "inserting rows is protected"
    ws = book["1.光纤租赁和短信机费用"]
    for ref in ("B3", "F3", "B4", "D4", "F4", "A10", "B6", "G7"):
        assert ws[ref].protection.locked is True, ref
    for ref in ("B5", "B7", "E7", "B9", "A11", "C11", "F11", "A18", "I20", "B21"):
        assert ws[ref].protection.locked is False, ref
        assert ws[ref].fill.fgColor.rgb.endswith("FFF2CC"), ref


def test_validations(book):
    ws = book["1.光纤租赁和短信机费用"]
    by_range = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert by_range["A11:A20"].type == "list" and by_range["A11:A20"].formula1 == "JXL_LEVEL1"
    # Rows under a merged 一级 look at the merge's anchor; the others at their own row.
    assert by_range["B11:B14"].formula1 == "INDIRECT(VLOOKUP($A$11,JXL_L2MAP,2,FALSE))"
    assert by_range["B15:B16"].formula1 == "INDIRECT(VLOOKUP($A$15,JXL_L2MAP,2,FALSE))"
    assert by_range["B17:B20"].formula1 == "INDIRECT(VLOOKUP($A17,JXL_L2MAP,2,FALSE))"
    assert by_range["E11:E20"].formula1 == "JXL_OPERATORS"
    assert by_range["G11:G20"].errorStyle == "warning"
    assert by_range["E7"].type == "decimal" and float(by_range["E7"].formula2) == 6
    assert "累计" in by_range["B7"].prompt


def test_lists_sheet_holds_framework(book):
    ws = book["_lists"]
    level1 = [ws.cell(r, 1).value for r in range(2, 5)]
    assert level1 == ["产出指标", "效益指标", "满意度指标"]
    names = book.defined_names
    assert names["JXL_L2_2"].attr_text == "_lists!$D$2:$D$5"
    assert [ws.cell(r, 4).value for r in range(2, 6)] == ["经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"]


def test_meta_and_properties(book, sample):
    meta = {row[0].value: row[1].value for row in book["_meta"].iter_rows() if row[0].value}
    assert meta["unit_code"] == "435001"
    assert meta["master_fingerprint"] == sample.fingerprint
    assert meta["template_id"] == "项目支出绩效目标表"
    assert meta["p01.budget"] == "1.光纤租赁和短信机费用!B4"
    assert meta["p03"] == "13052922P005840107184"
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["jixiao_unit"] == "435001"
    assert props["jixiao_template"] == "项目支出绩效目标表"
    assert props["jixiao_version"] == meta["template_version"]


def test_meta_field_map_is_compact_and_names_every_bound_cell(generated, book):
    out, issued = generated
    rows = [row[:3] for row in book["_meta"].iter_rows(values_only=True)]
    header = rows.index(("field", "cell", None))
    field_map = dict(row[:2] for row in rows[header + 1:])
    # One row per scalar field, one per grid column: row k of the range is grid row k (no name column).
    assert field_map["p03.budget"] == "3.统一着装经费!B4"
    assert field_map["p03.plan4.amount"] == "3.统一着装经费!E7"
    assert field_map["p01.i*.value"] == "1.光纤租赁和短信机费用!F11:F20"
    assert field_map["d.r*.goal_seq"].startswith("部门整体绩效目标!A7:A")
    assert not any(key.startswith("p01.i0") for key in field_map) and all(row[2] is None for row in rows[header:])
    assert len(field_map) < 250
    # Expanded, the map gives exactly the cell of every JX_ name (but the grids' own range names).
    expanded = read_meta(open_workbook(out / issued[0].file, "xlsx")).field_cells()
    by_name = {Placement(path, "", 0, 0).name: ref for path, ref in expanded.items()}
    named = {name: defined.attr_text.replace("'", "").replace("$", "") for name, defined in book.defined_names.items()
             if name.startswith("JX_") and not name.endswith("_GRID")}
    assert by_name == named
    assert by_name["JX_P01_I07_VALUE"] == "1.光纤租赁和短信机费用!F17"


def test_field_map_keeps_cells_that_are_not_one_column_per_grid():
    cells = [Placement("p01.code", "S", 2, 1), Placement("p01.i01.name", "S", 10, 2), Placement("p01.i02.name", "S", 11, 2),
             Placement("d.r01.name", "D", 6, 5), Placement("d.r02.name", "D", 8, 5)]  # a gap: not one column
    assert field_map(cells) == [("p01.code", "S!B3"), ("p01.i*.name", "S!C11:C12"), ("d.r01.name", "D!F7"),
                                ("d.r02.name", "D!F9")]


def test_print_setup(book):
    ws = book["1.光纤租赁和短信机费用"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth or 1) == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$2"
    assert ws.column_dimensions["I"].hidden is True  # 权重 unused by the sample


def test_identical_inputs_give_identical_bytes(tmp_path, sample):
    first = generate(sample, None, GenerateOptions(out_dir=tmp_path / "a"))
    second = generate(sample, None, GenerateOptions(out_dir=tmp_path / "b"))
    assert (tmp_path / "a" / first[0].file).read_bytes() == (tmp_path / "b" / second[0].file).read_bytes()


def test_formula_like_text_is_written_as_text(tmp_path, sample):
    project = replace(sample.projects[0], name="=HYPERLINK(\"x\")", purpose="@SUM(A1)",
                      indicators=(Indicator("产出指标", "数量指标", "+1", value="－2"),))
    master = replace(sample, projects=(project,))
    issued = generate(master, None, GenerateOptions(out_dir=tmp_path))
    ws = openpyxl.load_workbook(tmp_path / issued[0].file).worksheets[1]
    assert ws["F3"].data_type == "s" and ws["F3"].value == "=HYPERLINK(\"x\")"
    assert ws["B5"].data_type == "s" and ws["C11"].data_type == "s" and ws["F11"].value == "－2"


def test_file_names_cannot_escape_the_output_folder(tmp_path, sample):
    unit = Unit(code="../435001", name='a/b\\c:d*e?f"g<h>i|..')
    projects = tuple(replace(p, unit_code=unit.code) for p in sample.projects)
    master = replace(sample, units=(unit,), projects=projects)
    issued = generate(master, None, GenerateOptions(out_dir=tmp_path / "out"))
    name = issued[0].file
    assert "/" not in name and "\\" not in name and ".." not in name and len(name) <= 100
    assert (tmp_path / "out" / name).is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([name, workbook_name(unit)[:-5] + "-通知.txt",
                                                                            "manifest.csv"])


def test_weights_column_when_master_uses_weights(tmp_path, sample):
    master = replace(sample, settings=replace(sample.settings, weight_total=Decimal(90)))
    issued = generate(master, None, GenerateOptions(out_dir=tmp_path))
    ws = openpyxl.load_workbook(tmp_path / issued[0].file).worksheets[1]
    assert not ws.column_dimensions["I"].hidden
    assert any(str(dv.sqref) == "I11:I20" and dv.type == "decimal" for dv in ws.data_validations.dataValidation)


def test_project_without_indicators_gets_a_skeleton(tmp_path, sample):
    project = replace(sample.projects[0], indicators=())
    issued = generate(replace(sample, projects=(project,)), None, GenerateOptions(out_dir=tmp_path))
    ws = openpyxl.load_workbook(tmp_path / issued[0].file).worksheets[1]
    assert [ws.cell(r, 2).value for r in range(11, 20)] == ["数量指标", "质量指标", "时效指标", "成本指标", "经济效益指标",
                                                           "社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标"]


def test_many_units_in_parallel_match_serial(tmp_path, sample):
    units = tuple(Unit(code=f"{600000 + i}", name=f"测试单位{i}") for i in range(200))
    projects = tuple(replace(sample.projects[i % 6], unit_code=u.code, code=f"{u.code}P1") for i, u in enumerate(units))
    master = replace(sample, units=units, projects=projects, dept_goals=(), dept_indicators=())
    serial = generate(master, None, GenerateOptions(out_dir=tmp_path / "serial", jobs=1))
    parallel = generate(master, None, GenerateOptions(out_dir=tmp_path / "parallel", jobs=2))
    assert len(parallel) == 200
    assert [i.sha256 for i in serial] == [i.sha256 for i in parallel]
    manifest = (tmp_path / "parallel" / "manifest.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(manifest) == 201


def test_cli_generate_with_unit_filter(tmp_path):
    runner = CliRunner()
    master = tmp_path / "m.xlsx"
    assert runner.invoke(cli, ["master", "init", "--sample", str(master)]).exit_code == 0
    result = runner.invoke(cli, ["generate", "--master", str(master), "--out", str(tmp_path / "out"), "--unit", "435001",
                                 "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "已为 1 个单位生成工作簿" in result.output
    unknown = runner.invoke(cli, ["generate", "--master", str(master), "--out", str(tmp_path / "o2"), "--unit", "999"])
    assert unknown.exit_code == 2
    assert "主数据中没有单位编码 999" in unknown.output
    missing = runner.invoke(cli, ["generate", "--master", str(tmp_path / "none.xlsx")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output


def _broken_template(tmp_path: Path, edit) -> Path:
    from jixiao_xl.template import PROJECT_TEMPLATE, builtin_template

    wb = openpyxl.load_workbook(builtin_template(PROJECT_TEMPLATE))
    edit(wb.active)
    path = tmp_path / "t.xlsx"
    wb.save(path)
    return path


def test_template_check_finds_placeholder_under_a_merge(tmp_path):
    import xlsxwriter

    path = tmp_path / "covered.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.merge_range("B3:D3", "{{ project.code }}")
    ws.write_string("C3", "{{ project.name }}")
    ws.write_string("A5", "三级指标")
    ws.write_string("A6", "{{ ind.name }}")
    ws.write_string("B7", "{{ plan.amount }}")
    wb.close()
    findings = check_template(path)
    assert [(f.rule, f.cell) for f in findings if f.rule == "T-MERGED-COVERED"] == [("T-MERGED-COVERED", "C3")]


@pytest.mark.parametrize("edit, rule, cell", [
    (lambda ws: ws.__setitem__("B5", "{{ project.purpose_x }}"), "T-UNKNOWN-FIELD", "B5"),
    (lambda ws: ws.__setitem__("B5", "{{ project.purpose }"), "T-SYNTAX", "B5"),
    (lambda ws: [ws.cell(11, c).__setattr__("value", None) for c in range(1, 10)], "T-NO-REPEAT-ROW", ""),
    (lambda ws: ws.__setitem__("J12", "{{ ind.name }}"), "T-REPEAT-ROWS", ""),
])
def test_template_check_explains_problems(tmp_path, edit, rule, cell):
    findings = check_template(_broken_template(tmp_path, edit))
    assert any(f.rule == rule and f.cell == cell for f in findings), findings
    result = CliRunner().invoke(cli, ["template", "check", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 1 and rule in result.output


def test_shipped_templates_check_clean():
    from jixiao_xl.template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template

    for name in (PROJECT_TEMPLATE, DEPARTMENT_TEMPLATE):
        assert check_template(builtin_template(name)) == []


def test_shipped_compiled_templates_match_a_fresh_compile():
    # The *.spec.json beside each shipped template spares every command the openpyxl parse; a compiler
    # change without `python tools/build_templates.py --specs` would make them stale, and this fails.
    from jixiao_xl.template import (DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template, compile_template,
                                    load_spec, read_compiled)

    for name in (PROJECT_TEMPLATE, DEPARTMENT_TEMPLATE):
        path = builtin_template(name)
        stored = read_compiled(path)
        assert stored is not None, f"{name}: run python tools/build_templates.py --specs"
        assert stored == compile_template(path)
        assert load_spec(path) == stored


def test_a_stale_or_damaged_compiled_template_is_ignored(tmp_path):
    from jixiao_xl.template import (PROJECT_TEMPLATE, builtin_template, compiled_path, read_compiled,
                                    write_compiled)

    template = tmp_path / "t.xlsx"
    template.write_bytes(builtin_template(PROJECT_TEMPLATE).read_bytes())
    write_compiled(template)
    assert read_compiled(template).kind == "project"
    wb = openpyxl.load_workbook(template)
    wb.active["A1"] = "改过的标题"
    wb.save(template)
    assert read_compiled(template) is None  # the template changed after it was compiled
    compiled_path(template).write_text("{not json", encoding="utf-8")
    assert read_compiled(template) is None


def test_2021_framework_lists_cost_as_a_level1(tmp_path, sample):
    master = replace(sample, settings=replace(sample.settings, framework="2021"), projects=(
        replace(sample.projects[0], indicators=()),))
    issued = generate(master, None, GenerateOptions(out_dir=tmp_path))
    wb = openpyxl.load_workbook(tmp_path / issued[0].file)
    lists = wb["_lists"]
    assert [lists.cell(r, 1).value for r in range(2, 6)] == ["成本指标", "产出指标", "效益指标", "满意度指标"]
    assert [lists.cell(r, 3).value for r in range(2, 5)] == ["经济成本指标", "社会成本指标", "生态环境成本指标"]
    skeleton = [wb.worksheets[1].cell(r, 2).value for r in range(11, 22)]
    assert skeleton[:3] == ["经济成本指标", "社会成本指标", "生态环境成本指标"] and "可持续影响指标" not in skeleton


def test_level_aliases_are_noted_by_master_check_and_written_as_the_standard_names(tmp_path):
    runner = CliRunner()
    master = tmp_path / "m.xlsx"
    assert runner.invoke(cli, ["master", "init", "--sample", str(master)]).exit_code == 0
    wb = openpyxl.load_workbook(master)
    wb["绩效指标"]["B2"] = "产出"  # the first indicator of 光纤租赁和短信机费用: 产出指标/数量指标
    wb["绩效指标"]["C3"] = "质量"
    wb["部门整体指标"]["C2"] = "产出"
    wb.save(master)
    checked = runner.invoke(cli, ["master", "check", str(master)])
    notes = [line for line in checked.output.splitlines() if line.startswith("[提示]") and " R-S1：" in line]
    assert notes[0].startswith("[提示] 绩效指标!B2 R-S1：") and "一级指标“产出”已按指标体系的标准名称读作“产出指标”" in notes[0]
    assert "绩效指标!C3" in notes[1] and "“质量指标”" in notes[1]
    assert any("部门整体指标!C2" in line for line in notes)
    result = runner.invoke(cli, ["generate", "--master", str(master), "--out", str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    form = openpyxl.load_workbook(tmp_path / "out" / "435001-巨鹿县行政审批局本级.xlsx")
    project = form["1.光纤租赁和短信机费用"]
    assert (project["A11"].value, project["B11"].value) == ("产出指标", "数量指标")
    assert project["B12"].value == "质量指标"
    dept = form["部门整体绩效目标"]
    assert dept["D7"].value == "产出指标"
