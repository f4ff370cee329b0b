"""FormWorkbook writes exactly what stock xlsxwriter writes: same zip members, same order, same bytes."""

from __future__ import annotations

import dataclasses
import io
import sys
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from jixiao_xl.safety import FIXED_DOCUMENT_TIME
from xlsxwriter.exceptions import OverlappingRange

from jixiao_xl import fill
from jixiao_xl.xlsx import fastxlsx
from jixiao_xl.xlsx.fastxlsx import BLANK, FORMULA, NUMBER, STRING, FormWorkbook, FormWorksheet
from jixiao_xl.findings import Finding
from jixiao_xl.master import load_sample
from jixiao_xl.model import Indicator
from jixiao_xl.template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template, load_spec

_BENCH = str(Path(__file__).resolve().parent.parent / "bench")
if _BENCH not in sys.path:  # the synthetic master lives with the benchmarks
    sys.path.insert(0, _BENCH)
from synthetic import Shape, make_master  # noqa: E402

from other_xlsxwriter import HIDE_MEMBER, fresh_import  # noqa: E402

SPECS = (load_spec(builtin_template(PROJECT_TEMPLATE)), load_spec(builtin_template(DEPARTMENT_TEMPLATE)))

HOSTILE = (
    "控制\x01字符\x02\x1f\x0b\x0c结束",
    "_x0041_ 已像转义 _xFFFF_ _X00a0_",
    "A & B <c> \"q\" 's' ]]>",
    "  前后空格  ",
    "\u3000全角空格开头",
    "换行\n第二行\r\n第三行\t制表\n",
    "=1+1",
    "+1+cmd|' /C calc'!A0",
    "{=SUM(1,2)}",
    "<r>rich</r>",
    "\ufffe\uffff非字符",
    "http://evil.example/x",
    "长" * 40_000,
    "😀" * 20_000,
    " ",
)


def _members(data: bytes) -> list[tuple[str, bytes]]:
    """Every zip member's name and uncompressed bytes, in archive order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _assert_same(stock: bytes, fast: bytes) -> None:
    expected, actual = _members(stock), _members(fast)
    assert [name for name, _ in actual] == [name for name, _ in expected]
    for (name, want), (_, got) in zip(expected, actual):
        assert got == want, name


def _render_both(monkeypatch, request: fill.RenderRequest) -> None:
    """Render with stock xlsxwriter, then twice with FormWorkbook (cold and warm memos), and compare."""
    with monkeypatch.context() as patch:
        patch.setattr(fill, "FormWorkbook", xlsxwriter.Workbook)
        stock = fill.render_bytes(request)
    assert fill.FormWorkbook is FormWorkbook
    _assert_same(stock, fill.render_bytes(request))
    _assert_same(stock, fill.render_bytes(request))


def test_fast_paths_are_on_for_the_installed_version():
    assert fastxlsx.fast_paths_supported() and fastxlsx.FAST_PATHS
    assert FormWorkbook is not xlsxwriter.Workbook
    assert isinstance(FormWorkbook(io.BytesIO(), {"in_memory": True}).add_worksheet(), FormWorksheet)


def test_sample_master_units(monkeypatch):
    master = load_sample()
    for unit in master.units:
        _render_both(monkeypatch, fill.RenderRequest(master, unit, *SPECS))


def test_synthetic_master_units(monkeypatch):
    master = make_master(Shape(units=5, projects=5, indicators=7))
    for unit in master.units:
        _render_both(monkeypatch, fill.RenderRequest(master, unit, *SPECS))


def test_sendback_with_problems_and_marks(monkeypatch):
    master = load_sample()
    unit = master.units[0]
    first, second = master.projects_of(unit.code)[:2]
    last_node = master.settings.plan_nodes[-1]
    marks = {
        (first.code, "purpose"): "预算规模过大 & <不合理>",
        (first.code, "ind0.value"): "=1+1 不是数字",
        (first.code, f"plan.{last_node}"): "累计支出计划未填写",
        (second.code, "annual_goal"): "控制\x01字符 _x0041_",
        ("", "overall_goal"): "总体目标过长",
        ("", "goal1.name"): "分项名称为空",
        ("", "dind0.value"): "指标值应为数字",
    }
    problems = tuple(
        Finding(f"R-T{i}", ("error", "warning", "info")[i % 3], message, file="435001.xlsx", unit_code=unit.code,
                project_code=first.code if i % 2 else "", sheet="3.统一着装经费", cell=f"B{i + 4}",
                value=HOSTILE[(i + 3) % len(HOSTILE)][:200], expected="≥ 95")
        for i, message in enumerate(("第 1 个问题：=SUM(A1) 请改正", *HOSTILE)))
    _render_both(monkeypatch, fill.RenderRequest(master, unit, *SPECS, marks=marks, problems=problems))


def _hostile_master():
    master = make_master(Shape(units=2, projects=3, indicators=4))
    unit = dataclasses.replace(master.units[0], name=HOSTILE[2] + HOSTILE[0], contact=HOSTILE[3], phone=HOSTILE[6])
    projects = []
    for k, project in enumerate(master.projects):
        if project.unit_code != unit.code:
            projects.append(project)
            continue
        indicators = tuple(dataclasses.replace(ind, name=HOSTILE[(k + j) % len(HOSTILE)],
                                               basis=HOSTILE[(k + j + 5) % len(HOSTILE)],
                                               value=(Decimal("-0"), "=1+1", Decimal("1E+30"), HOSTILE[1])[j % 4])
                           for j, ind in enumerate(project.indicators))
        projects.append(dataclasses.replace(
            project, name=HOSTILE[(2, 1, 5)[k % 3]], purpose=HOSTILE[12 if k % 3 == 0 else 13],
            annual_goal=HOSTILE[(k + 7) % len(HOSTILE)],
            indicators=indicators + (Indicator(level1="产出指标", level2="数量指标", name=HOSTILE[4],
                                               value=True),)))
    goals = tuple(dataclasses.replace(goal, goal=HOSTILE[goal.seq % len(HOSTILE)])
                  if goal.unit_code == unit.code else goal for goal in master.dept_goals)
    units = (unit,) + master.units[1:]
    return dataclasses.replace(master, units=units, projects=tuple(projects), dept_goals=goals), unit


def test_hostile_text(monkeypatch):
    master, unit = _hostile_master()
    _render_both(monkeypatch, fill.RenderRequest(master, unit, *SPECS, deadline=HOSTILE[2]))


# ---------------------------------------------------------------------------------------------------------
# Another xlsxwriter: the module loads, falls back to stock xlsxwriter and still writes the same workbook

# Run in a fresh interpreter: ``STUB`` changes xlsxwriter as another version would, then the module is
# imported for the first time, renders the sample's first unit and a small workbook of bulk puts.
_FRESH_IMPORT = """
import io, json, sys
import xlsxwriter
exec(sys.argv[1])
from jixiao_xl import fill
from jixiao_xl.master import load_sample
from jixiao_xl.template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template, load_spec
from jixiao_xl.xlsx import fastxlsx
master = load_sample()
specs = (load_spec(builtin_template(PROJECT_TEMPLATE)), load_spec(builtin_template(DEPARTMENT_TEMPLATE)))
with open(sys.argv[2], "wb") as form:
    form.write(fill.render_bytes(fill.RenderRequest(master, master.units[0], *specs)))
wb = fastxlsx.FormWorkbook(sys.argv[3])
ws = wb.add_worksheet("表")
fastxlsx.put_merged(ws, 0, 0, 0, 2, wb.add_format({"bold": True}))
fastxlsx.put_cells(ws, [(0, 0, fastxlsx.STRING, "标题 & <x>", None, None), (1, 0, fastxlsx.NUMBER, 2.5, None, None),
                        (1, 1, fastxlsx.FORMULA, "=A2*2", None, 5.0), (1, 2, fastxlsx.STRING, "=1+1", None, None)])
wb.close()
print(json.dumps({"fast": fastxlsx.FAST_PATHS, "stock": fastxlsx.FormWorkbook is xlsxwriter.Workbook,
                  "fill_stock": fill.FormWorkbook is xlsxwriter.Workbook}))
"""

OTHER_XLSXWRITERS = {
    "an untested version": "xlsxwriter.__version__ = '3.4.0'",
    "a worksheet internal gone": HIDE_MEMBER + "from xlsxwriter.worksheet import Worksheet\nhide(Worksheet, '_write_rows')",
    "a packager internal gone": HIDE_MEMBER + "from xlsxwriter.app import App\nhide(App, '_write_titles_of_parts')",
    "an internal module gone": "sys.modules['xlsxwriter.app'] = None",
}


@pytest.mark.parametrize("stub", OTHER_XLSXWRITERS.values(), ids=OTHER_XLSXWRITERS.keys())
def test_another_xlsxwriter_gets_stock_xlsxwriter_and_the_same_workbook(stub, tmp_path):
    form, bulk = tmp_path / "form.xlsx", tmp_path / "bulk.xlsx"
    assert fresh_import(_FRESH_IMPORT, stub, form, bulk) == {"fast": False, "stock": True, "fill_stock": True}
    master = load_sample()
    _assert_same(fill.render_bytes(fill.RenderRequest(master, master.units[0], *SPECS)), form.read_bytes())
    rows = CalamineWorkbook.from_path(str(bulk)).get_sheet_by_name("表").to_python()
    assert rows[0][0] == "标题 & <x>" and rows[1] == [2.5, 5.0, "=1+1"]
    with zipfile.ZipFile(bulk) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert '<mergeCell ref="A1:C1"/>' in sheet and "<f>A2*2</f>" in sheet


def test_a_fresh_import_with_the_installed_xlsxwriter_keeps_the_fast_paths(tmp_path):
    assert fresh_import(_FRESH_IMPORT, "", tmp_path / "form.xlsx", tmp_path / "bulk.xlsx") == \
        {"fast": True, "stock": False, "fill_stock": False}


# ---------------------------------------------------------------------------------------------------------
# xlsxwriter features the forms do not use, through the overridden internals


def _exotic(workbook_class, options: dict | None = None) -> bytes:
    """A workbook that touches every overridden internal with the cases the forms never produce."""
    buffer = io.BytesIO()
    wb = workbook_class(buffer, {"in_memory": True, **(options or {})})
    ws = wb.add_worksheet("数据 & <表>")
    other = wb.add_worksheet("Sheet'2")
    bold, red = wb.add_format({"bold": True}), wb.add_format({"font_color": "red", "bg_color": "#FFC7CE"})
    row_fmt, col_fmt = wb.add_format({"italic": True}), wb.add_format({"num_format": "0.00"})
    ws.set_row(3, 30, row_fmt)
    ws.set_row(5, None, None, {"hidden": True, "level": 1})
    ws.set_row(40, 12)  # a row with attributes only
    ws.set_column(2, 3, 14, col_fmt)
    ws.write_string("A1", "A1 notation", bold)
    ws.write_string(0, 1, "控制\x01 _x0041_ & <>")
    ws.write_number(1, 0, 1.5)
    ws.write_number(1, 1, -0.0, bold)
    ws.write_boolean(1, 2, True)
    ws.write_formula(1, 3, "=SUM(A2:B2)", None, 1.5)
    ws.write_formula(2, 0, "=IF(A2>1,\"a&b\",\"<c>\")", bold, "a&b")
    ws.write_formula(2, 1, "=1/0", None, "#DIV/0!")
    ws.write_formula(2, 2, "=A2>1", None, True)
    ws.write_formula(2, 3, "=XLOOKUP(1,A1:A3,B1:B3)")
    ws.write_formula(2, 4, "=STDEV.S(A1:A3)+CONCAT(\"a\",\"b\")")
    ws.write_array_formula(3, 0, 3, 1, "{=A2:B2*2}")
    ws.write_dynamic_array_formula(4, 0, 4, 0, "=UNIQUE(A1:A3)")
    ws.write_datetime(3, 2, datetime(2024, 6, 1, 12, 30), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_rich_string(3, 3, "plain ", bold, "bold", " tail")
    ws.write_url(4, 1, "https://example.com/?a=1&b=<2>", string="链接")
    ws.write_blank(4, 2, None)  # not written at all
    ws.write_blank(4, 3, None, bold)
    ws.write(5, 0, None, bold)
    ws.write(5, 1, "=A1")  # strings_to_formulas is on by default here
    ws.write_number(6, 2, 7)  # column format applies
    ws.write_string(3, 4, "row format applies")
    ws.merge_range(7, 0, 8, 2, "merged", bold)
    ws.merge_range("D8:E8", 42, red)
    ws.write_comment(9, 1, "批注 & <b>", {"author": "a&b"})
    ws.write_comment(41, 5, "a comment on an otherwise empty row")
    ws.data_validation("A12:A20", {"validate": "list", "source": ["是", "否", "a,b"]})
    ws.data_validation(11, 1, 19, 1, {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 10,
                                      "input_title": "整数 & <>", "input_message": "\"1\" 到 10"})
    ws.data_validation(11, 2, 19, 2, {"validate": "decimal", "criteria": ">", "value": -0.0,
                                      "error_type": "information", "other_cells": [[30, 2, 31, 2]]})
    ws.data_validation(11, 3, 19, 3, {"validate": "date", "criteria": ">", "value": date(2024, 1, 1)})
    ws.data_validation(11, 4, 19, 4, {"validate": "custom", "value": "=AND(E12>0,FILTER(A1:A3,A1:A3>0))",
                                      "multi_range": "E12:E19 G12:G19"})
    ws.data_validation(11, 5, 19, 5, {"validate": "any", "input_title": "提示"})
    ws.data_validation(11, 6, 19, 6, {"validate": "length", "criteria": "<=", "value": True})
    ws.data_validation(0, 0, 0, 0, {"validate": "bogus"})  # refused with a warning
    ws.conditional_format("A1:B10", {"type": "cell", "criteria": ">", "value": 5, "format": red})
    ws.conditional_format("A1:B10", {"type": "cell", "criteria": "between", "minimum": 1, "maximum": 3,
                                     "format": bold, "stop_if_true": True})
    ws.conditional_format("C1:C10", {"type": "formula", "criteria": "=XOR($C1>1,$C1<0)", "format": red})
    ws.conditional_format("D1:D10", {"type": "data_bar", "data_bar_2010": True})
    ws.conditional_format("D1:D10", {"type": "data_bar", "bar_color": "#63C384"})
    ws.conditional_format("E1:E10", {"type": "3_color_scale"})
    ws.conditional_format("F1:F10", {"type": "icon_set", "icon_style": "3_arrows"})
    ws.conditional_format("G1:G10", {"type": "text", "criteria": "containing", "value": "a&b", "format": red})
    ws.conditional_format("H1:H10", {"type": "top", "value": 3, "format": red})
    ws.conditional_format("H1:H10", {"type": "average", "criteria": "1 std dev below", "format": red})
    ws.conditional_format("I1:I10", {"type": "blanks", "format": red, "multi_range": "I1:I10 K1:K10"})
    ws.autofilter("A1:E20")
    ws.repeat_rows(0, 1)
    ws.print_area("A1:H40")
    ws.protect("pw")
    other.set_default_row(24)
    other.write_string(0, 0, "第二张表")
    other.write_string(1, 0, "尾部空格 ")
    other.write_string(2, 0, " 头部空格")
    other.set_row(1, 15)  # the original height, no longer the default one
    other.set_row(3, 20)
    other.data_validation(0, 1, 5, 1, {"validate": "decimal", "criteria": ">", "value": 0.0})
    other.data_validation(0, 2, 5, 2, {"validate": "decimal", "criteria": ">", "value": -0.0})
    other.data_validation(0, 3, 5, 3, {"validate": "decimal", "criteria": ">", "value": 0})
    other.data_validation(0, 4, 5, 4, {"validate": "decimal", "criteria": ">", "value": False})
    wb.define_name("JX_SIMPLE", "='数据 & <表>'!$A$1")
    wb.define_name("JX_SIMPLE", "=Sheet1!$A$1")  # the same name again
    wb.define_name("Sheet'2!local", "='Sheet''2'!$A$1")
    wb.define_name("'Sheet''2'!local2", "=1+2")
    wb.define_name("_xlnm.hidden_like", "=0")
    wb.define_name("A1", "=$B$1")  # looks like a cell: refused
    wb.define_name("bad name", "=$B$1")  # refused
    wb.define_name("R1C1", "=$B$1")  # refused
    wb.define_name("名称_ok", "=\"a&b\"")
    wb.define_name("Unknown!x", "=1")  # unknown sheet: refused
    # A fixed time: two writes a second apart must not differ in docProps/core.xml.
    wb.set_properties({"title": "属性 & <>", "company": "公司\x01", "created": FIXED_DOCUMENT_TIME})
    wb.close()
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("options", [{}, {"use_future_functions": True}, {"excel2003_style": True},
                                     {"strings_to_formulas": False}])
def test_features_the_forms_do_not_use(options):
    stock = _exotic(xlsxwriter.Workbook, options)
    _assert_same(stock, _exotic(FormWorkbook, options))
    _assert_same(stock, _exotic(FormWorkbook, options))


def _bulk(workbook_class) -> bytes:
    buffer = io.BytesIO()
    wb = workbook_class(buffer, {"in_memory": True})
    ws = wb.add_worksheet()
    fmt = wb.add_format({"border": 1})
    fastxlsx.put_merged(ws, 2, 2, 1, 1, fmt)  # corners given the wrong way round
    fastxlsx.put_merged(ws, 5, 0, 5, 3, None)
    fastxlsx.put_merged(ws, 0, 6, 0, 6, fmt)  # a single cell: xlsxwriter warns and does nothing
    fastxlsx.put_merged(ws, 0, 20_000, 1, 20_001, fmt)  # outside the sheet
    fastxlsx.put_merged(ws, 12, 0, 13, 1, fmt)  # no value written to the anchor afterwards
    fastxlsx.put_cells(ws, [
        (1, 1, STRING, "anchor", fmt, None),
        (0, 0, STRING, "长" * 40_000, None, None),
        (0, 1, NUMBER, 3.25, fmt, None),
        (0, 2, NUMBER, 7, fmt, None),  # an int goes through write_number
        (0, 3, BLANK, None, None, None),
        (0, 4, BLANK, None, fmt, None),
        (0, 5, FORMULA, "=A1&\"x\"", fmt, "x"),
        (3, 3, STRING, "anchor", None, None),  # the same text again: one shared string
        (-1, 0, STRING, "outside", None, None),
        (9, 16_384, NUMBER, 1.0, None, None),
        (10, 0, STRING, "=1+1", None, None),
        (20, 8, NUMBER, 2.0, None, None),  # the last row and column, only here
    ])
    wb.close()
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bulk_puts_match_the_cell_api():
    _assert_same(_bulk(xlsxwriter.Workbook), _bulk(FormWorkbook))


def test_bulk_puts_refuse_what_xlsxwriter_refuses():
    for workbook_class in (xlsxwriter.Workbook, FormWorkbook):
        wb = workbook_class(io.BytesIO(), {"in_memory": True})
        ws = wb.add_worksheet()
        fastxlsx.put_merged(ws, 0, 0, 1, 1)
        with pytest.raises(OverlappingRange):
            fastxlsx.put_merged(ws, 1, 1, 2, 2)
        with pytest.raises(TypeError):
            fastxlsx.put_cells(ws, [(3, 0, NUMBER, float("inf"), None, None)])
        with pytest.raises(ValueError):
            fastxlsx.put_cells(ws, [(3, 0, "date", 1.0, None, None)])


def test_constant_memory_workbooks_are_left_to_xlsxwriter(tmp_path):
    outputs = []
    for workbook_class in (xlsxwriter.Workbook, FormWorkbook):
        path = tmp_path / f"{workbook_class.__name__}.xlsx"
        wb = workbook_class(str(path), {"constant_memory": True})
        ws = wb.add_worksheet()
        fastxlsx.put_cells(ws, [(row, 0, STRING, f"行{row} & <x>", None, None) for row in range(50)])
        fastxlsx.put_merged(ws, 60, 0, 61, 1, wb.add_format({"bold": True}))
        ws.data_validation(0, 1, 10, 1, {"validate": "list", "source": "=$A$1:$A$5"})
        wb.close()
        outputs.append(path.read_bytes())
    _assert_same(*outputs)


def test_new_workbook_keeps_text_as_text_and_takes_xlsxwriter_options(tmp_path):
    from jixiao_xl.xlsx import cell_name, new_workbook

    path = tmp_path / "文本.xlsx"
    wb = new_workbook(path, constant_memory=True)
    ws = wb.add_worksheet("表")
    for col, text in enumerate(("=1+1", "12", "http://evil.example/x")):
        ws.write(0, col, text)
    wb.close()
    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_name("表").to_python() == \
        [["=1+1", "12", "http://evil.example/x"]]
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "hyperlink" not in sheet and 't="inlineStr"' in sheet  # constant_memory's strings
    buffer = io.BytesIO()
    in_memory = new_workbook(buffer, in_memory=True, strings_to_numbers=True)
    in_memory.add_worksheet().write(0, 0, "12")
    in_memory.close()
    assert CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue())).get_sheet_by_index(0).to_python() == [[12.0]]
    assert (cell_name(0, 0), cell_name(3, 27, absolute=True)) == ("A1", "$AB$4")
