"""Templates are untrusted input: they run no code, cannot hang a command, and are bounded (issue 18).

Every hostile template is a real .xlsx built here from the shipped one and goes through the CLI:
`template check` reports it with its cell, `generate` and `import` refuse it before anything is written,
and the command a payload would run leaves no marker file behind.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from jixiao_xl import fill
from jixiao_xl.cli import cli
from jixiao_xl.master import load_sample, write_master
from jixiao_xl.template import (DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, builtin_template, compiled_path,
                                load_spec, read_compiled)
from jixiao_xl.template.guard import MAX_CELL_CHARS, MAX_TEMPLATE_COLUMNS, MAX_TEMPLATE_ROWS, cell_syntax

# The title row of the shipped project template holds "{{ unit.code }} {{ unit.name }}" in A2 (merged A2:F2).
TITLE_CELL = "A2"


def _invoke(*args) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _template(tmp_path: Path, edit, name: str = "evil.xlsx") -> Path:
    """The shipped project template with ``edit(worksheet)`` applied, saved as ``name``."""
    wb = openpyxl.load_workbook(builtin_template(PROJECT_TEMPLATE))
    edit(wb.active)
    path = tmp_path / name
    wb.save(path)
    return path


def _with_title(text: str):
    return lambda ws: ws.__setitem__(TITLE_CELL, text)


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("master") / "master.xlsx"
    assert _invoke("master", "init", "--sample", path).exit_code == 0
    return path


def _popen(marker: Path) -> str:
    return f"cycler.__init__.__globals__.os.popen('touch {marker}').read()"


# --------------------------------------------------------------------------------------------------
# Code in a cell


def test_check_reports_the_os_popen_statement_and_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    text = "{{ unit.name }}{% set x = " + _popen(marker) + " %}"
    result = _invoke("template", "check", _template(tmp_path, _with_title(text)))
    assert result.exit_code == 1, result.output
    assert f"项目支出绩效目标表!{TITLE_CELL} T-CODE：单元格 {TITLE_CELL} 中的“{{% set x = cycler" in result.output
    assert "是语句，不允许使用：模板单元格只能写文字和 {{ 字段名 }} 占位符" in result.output
    assert not marker.exists()


def test_generate_refuses_the_template_writes_nothing_and_runs_nothing(tmp_path, master):
    marker = tmp_path / "PWNED"
    evil = _template(tmp_path, _with_title("{{ unit.name }}{{ " + _popen(marker) + " }}"))
    out = tmp_path / "out"
    result = _invoke("generate", "--master", master, "--template", evil, "--out", out, "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert f"模板 {evil} 有误，不能使用" in result.output
    assert f"项目支出绩效目标表!{TITLE_CELL} T-CODE" in result.output and "是函数调用" in result.output
    assert not out.exists()
    assert not marker.exists()


def test_import_refuses_the_template_too(tmp_path, master):
    marker = tmp_path / "PWNED"
    evil = _template(tmp_path, _with_title("{% for i in range(10**9) %}{{ " + _popen(marker) + " }}{% endfor %}"))
    returns = tmp_path / "returns"
    returns.mkdir()
    result = _invoke("import", returns, "--master", master, "--template", evil, "--out", tmp_path / "核对",
                     "--ledger", tmp_path / "ledger.sqlite", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert "T-CODE" in result.output and not marker.exists()


def test_a_for_loop_is_refused_as_a_statement(tmp_path):
    path = _template(tmp_path, _with_title("{{ unit.name }}{% for i in range(10**9) %}x{% endfor %}"))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1
    assert "“{% for i in range(10**9) %}”是语句" in result.output
    assert "“{% endfor %}”是语句" in result.output


@pytest.mark.parametrize("text, offending, what", [
    ("{{ unit.name|upper }}", "{{ unit.name|upper }}", "过滤器（|）"),
    ("{{ unit.name }}{{ range(10) }}", "{{ range(10) }}", "函数调用"),
    ("{{ unit['name'] }}", "{{ unit['name'] }}", "下标（[ ]）"),
    ("{{ unit.__class__ }}", "{{ unit.__class__ }}", "以下划线开头的名称"),
    ("{{ unit.name.__class__.__mro__ }}", "{{ unit.name.__class__.__mro__ }}", "以下划线开头的名称"),
    ("{{ 7*7 }}", "{{ 7*7 }}", "运算或表达式"),
    ("{{ 'x' }}", "{{ 'x' }}", "常量"),
    ("{{ unit.name is defined }}", "{{ unit.name is defined }}", "测试（is）"),
    ("{{- unit.name }}", "{{- unit.name }}", "空白控制符"),
    ("{# a note #}{{ unit.name }}", "{# a note #}", "注释"),
    ("{% raw %}{{ unit.name }}{% endraw %}", "{% raw %}{{ unit.name }}{% endraw %}", "语句"),
    ("{% if true %}x{% endif %}", "{% if true %}", "语句"),
])
def test_anything_but_a_placeholder_is_named_with_its_cell(tmp_path, text, offending, what):
    result = _invoke("template", "check", _template(tmp_path, _with_title(text)))
    assert result.exit_code == 1, result.output
    assert f"!{TITLE_CELL} T-CODE：单元格 {TITLE_CELL} 中的“{offending}”是{what}" in result.output


def test_a_single_bound_placeholder_with_a_dunder_is_refused(tmp_path):
    # "{{ x.y }}" alone in a cell is a bound field; a dunder there must not reach the field table either.
    path = _template(tmp_path, lambda ws: ws.__setitem__("B4", "{{ project.__class__ }}"))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1
    assert "!B4 T-CODE" in result.output and "T-UNKNOWN-FIELD" not in result.output


def test_malformed_placeholders_are_syntax_findings(tmp_path):
    result = _invoke("template", "check", _template(tmp_path, _with_title("{{ unit name }} {{ }}")))
    assert result.exit_code == 1
    assert "T-SYNTAX：单元格 A2 的占位符“{{ unit name }}”写法有误" in result.output
    assert "T-SYNTAX：单元格 A2 的占位符“{{ }}”写法有误" in result.output


def test_cell_syntax_accepts_exactly_text_and_dotted_names():
    assert cell_syntax("{{ year }}年度 {{ unit.code }}（{{unit.name}}）").names == ("year", "unit.code", "unit.name")
    assert cell_syntax("{{ year }}年度 {{ unit.code }}（{{unit.name}}）").problems == ()
    assert cell_syntax("百分比 100%} 与 #} 都是文字").problems == ()
    assert [p[0] for p in cell_syntax("{{ a }}{% set b = 1 %}").problems] == ["T-CODE"]


# --------------------------------------------------------------------------------------------------
# Shipped and ordinary custom templates still work


def test_shipped_templates_pass_the_check(tmp_path):
    for name in (PROJECT_TEMPLATE, DEPARTMENT_TEMPLATE):
        result = _invoke("template", "check", builtin_template(name))
        assert result.exit_code == 0 and "检查通过" in result.output, result.output


def test_a_normal_custom_template_passes_and_generates(tmp_path, master):
    custom = _template(tmp_path, _with_title("填报单位：{{ unit.name }}（{{ unit.code }}），{{ year }}年，{{ money_unit }}"),
                       name="custom.xlsx")
    check = _invoke("template", "check", custom)
    assert check.exit_code == 0 and "检查通过" in check.output, check.output
    out = tmp_path / "out"
    result = _invoke("generate", "--master", master, "--template", custom, "--out", out, "--jobs", "1")
    assert result.exit_code == 0, result.output
    workbook = openpyxl.load_workbook(next(out.glob("*.xlsx")))
    sample = load_sample()
    unit = sample.units[0]
    expected = f"填报单位：{unit.name}（{unit.code}），{sample.settings.year}年，{sample.settings.money_unit}"
    assert workbook["1.光纤租赁和短信机费用"][TITLE_CELL].value == expected


# --------------------------------------------------------------------------------------------------
# Bounds


def test_a_cell_at_xfd1_is_reported_without_iterating_to_it(tmp_path):
    path = _template(tmp_path, lambda ws: ws.__setitem__("XFD1", "远处的内容"))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1
    assert ("项目支出绩效目标表!XFD1 T-RANGE：单元格 XFD1 有内容“远处的内容”，超出模板允许的范围 "
            f"A1:GR{MAX_TEMPLATE_ROWS}（{MAX_TEMPLATE_COLUMNS} 列 × {MAX_TEMPLATE_ROWS} 行）") in result.output


def test_a_cell_in_the_last_row_and_column_is_reported(tmp_path):
    path = _template(tmp_path, lambda ws: ws.__setitem__("XFD1048576", "{{ unit.name }}"))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1 and "!XFD1048576 T-RANGE" in result.output


def test_formatting_beyond_the_bounds_is_dropped_not_reported(tmp_path, master):
    from openpyxl.styles import Font

    def far_format(ws):
        ws["XFD1"].font = Font(bold=True)
        ws.column_dimensions["A"].width = 12  # unchanged, a real width
    path = _template(tmp_path, far_format, name="formatted.xlsx")
    result = _invoke("template", "check", path)
    assert result.exit_code == 0 and "检查通过" in result.output, result.output
    assert load_spec(path).width == load_spec(builtin_template(PROJECT_TEMPLATE)).width


def _rewrite_sheet(source: Path, target: Path, change, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """A copy of ``source`` whose first worksheet XML (or ``member``) went through ``change``: openpyxl would
    expand the ranges these tests need cell by cell while building them, and cuts long text when assigned."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == member:
                data = change(data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    return target


def test_a_merge_over_the_whole_sheet_is_refused_before_openpyxl_expands_it(tmp_path):
    path = _rewrite_sheet(builtin_template(PROJECT_TEMPLATE), tmp_path / "merge.xlsx",
                          lambda xml: xml.replace('<mergeCell ref="B9:I9" />', '<mergeCell ref="K1:XFD1048576" />'))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1
    assert "!K1:XFD1048576 T-RANGE：合并区域 K1:XFD1048576 超出模板允许的范围" in result.output


def test_a_merge_on_an_ignored_second_sheet_is_refused_too_and_names_that_sheet(tmp_path):
    # openpyxl loads every sheet, so a far merge on a sheet the template does not use would still hang it.
    def second_sheet(ws):
        extra = ws.parent.create_sheet("附表")
        extra.merge_cells("A1:B2")
    source = _template(tmp_path, second_sheet, name="two.xlsx")
    path = _rewrite_sheet(source, tmp_path / "two-far.xlsx", lambda xml: xml.replace('"A1:B2"', '"A1:XFD1048576"'),
                          member="xl/worksheets/sheet2.xml")
    result = _invoke("template", "check", path)
    assert result.exit_code == 1
    assert "[错误] 附表!A1:XFD1048576 T-RANGE：合并区域 A1:XFD1048576 超出模板允许的范围" in result.output


def test_a_hyperlink_range_over_the_whole_sheet_is_refused(tmp_path):
    links = '<hyperlinks><hyperlink ref="A1:XFD1048576" location="Sheet1!A1" /></hyperlinks>'
    path = _rewrite_sheet(builtin_template(PROJECT_TEMPLATE), tmp_path / "link.xlsx",
                          lambda xml: xml.replace("<pageMargins", links + "<pageMargins", 1))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1 and "T-RANGE：超链接范围 A1:XFD1048576 超出模板允许的范围" in result.output


def test_overlapping_merges_larger_than_the_whole_area_are_refused(tmp_path):
    many = "".join(f'<mergeCell ref="K{k + 1}:GR{MAX_TEMPLATE_ROWS}" />' for k in range(3))
    path = _rewrite_sheet(builtin_template(PROJECT_TEMPLATE), tmp_path / "overlap.xlsx",
                          lambda xml: xml.replace('<mergeCell ref="B9:I9" />', '<mergeCell ref="B9:I9" />' + many))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1 and "T-RANGE：合并区域和超链接范围合计" in result.output


def test_a_cell_longer_than_excel_allows_is_reported(tmp_path):
    path = _rewrite_sheet(builtin_template(PROJECT_TEMPLATE), tmp_path / "long.xlsx",
                          lambda xml: xml.replace("{{ unit.code }} {{ unit.name }}", "长" * (MAX_CELL_CHARS + 1)))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1
    assert f"!{TITLE_CELL} T-RANGE：单元格 {TITLE_CELL} 有 {MAX_CELL_CHARS + 1} 个字符" in result.output


# --------------------------------------------------------------------------------------------------
# The file itself


def test_a_zip_bomb_posing_as_a_template_is_refused_unparsed(tmp_path, master):
    bomb = tmp_path / "bomb.xlsx"
    source = builtin_template(PROJECT_TEMPLATE)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/media/padding.bin", bytes(8 * 1024 * 1024))  # 8 MiB of zeros: ratio about 1000:1
    result = _invoke("template", "check", bomb)
    assert result.exit_code == 1
    assert "T-UNSAFE-FILE：模板文件已拒绝打开（与接收报表相同的安全检查）：压缩包条目「xl/media/padding.bin」的压缩比" in result.output
    refused = _invoke("generate", "--master", master, "--template", bomb, "--out", tmp_path / "out", "--jobs", "1")
    assert refused.exit_code == 2 and "T-UNSAFE-FILE" in refused.output
    assert not (tmp_path / "out").exists()


def test_xml_entities_in_a_template_are_refused(tmp_path):
    doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
    path = _rewrite_sheet(builtin_template(PROJECT_TEMPLATE), tmp_path / "entities.xlsx",
                          lambda xml: doctype + re.sub(r"^<\?xml[^>]*\?>", "", xml))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1 and "T-UNSAFE-FILE：模板文件的 xl/worksheets/sheet1.xml 含有 XML 实体" in result.output


def test_a_file_that_is_not_a_zip_is_unreadable(tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    result = _invoke("template", "check", path)
    assert result.exit_code == 1 and "T-UNREADABLE：模板无法打开" in result.output


# --------------------------------------------------------------------------------------------------
# The compiled-spec sidecar cannot smuggle code past the check


def test_a_sidecar_beside_a_custom_template_is_ignored(tmp_path, master):
    marker = tmp_path / "PWNED"
    template = tmp_path / "custom.xlsx"
    shipped = builtin_template(PROJECT_TEMPLATE)
    template.write_bytes(shipped.read_bytes())
    document = json.loads(compiled_path(shipped).read_text(encoding="utf-8"))
    for cell in document["spec"]["cells"]:
        if (cell["row"], cell["col"]) == (1, 0):
            cell["text"] = "{{ unit.name }}{{ " + _popen(marker) + " }}"
    compiled_path(template).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    assert read_compiled(template) is not None  # the sidecar matches the template's bytes…
    out = tmp_path / "out"
    result = _invoke("generate", "--master", master, "--template", template, "--out", out, "--jobs", "1")
    assert result.exit_code == 0, result.output  # …and is not used: the template itself was compiled
    assert not marker.exists()
    unit = load_sample().units[0]
    assert openpyxl.load_workbook(next(out.glob("*.xlsx")))["3.统一着装经费"][TITLE_CELL].value == f"{unit.code} {unit.name}"


def test_the_renderer_refuses_a_forged_spec_on_its_own(tmp_path):
    marker = tmp_path / "PWNED"
    sample = load_sample()
    spec = load_spec(builtin_template(PROJECT_TEMPLATE))
    forged_cells = tuple(dataclasses.replace(c, text="{{ " + _popen(marker) + " }}", mixed=True)
                         if (c.row, c.col) == (1, 0) else c for c in spec.cells)
    forged = dataclasses.replace(spec, cells=forged_cells)
    request = fill.RenderRequest(sample, sample.units[0], forged, load_spec(builtin_template(DEPARTMENT_TEMPLATE)))
    with pytest.raises(fill.RenderRefused, match="含有不允许的写法"):
        fill.render_bytes(request)
    assert not marker.exists()


# --------------------------------------------------------------------------------------------------
# Rendering budgets


def test_a_cell_rendered_beyond_excels_limit_stops_generate_with_a_message(tmp_path):
    sample = load_sample()
    unit = dataclasses.replace(sample.units[0], name="很长的单位名称" * 3)  # 21 characters
    master = tmp_path / "long.xlsx"
    write_master(master, dataclasses.replace(sample, units=(unit,)))
    copies = "{{unit.name}}" * 2000  # 26,000 characters in the template; 42,000 once rendered
    custom = _template(tmp_path, _with_title(copies), name="wide.xlsx")
    assert _invoke("template", "check", custom).exit_code == 0
    result = _invoke("generate", "--master", master, "--template", custom, "--out", tmp_path / "out", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert f"单元格 {TITLE_CELL} 按模板生成的文字超过 Excel 单元格上限 {MAX_CELL_CHARS} 个字符，已停止生成" in result.output


def test_the_time_budget_turns_a_slow_render_into_a_message(tmp_path, master, monkeypatch):
    monkeypatch.setattr(fill, "RENDER_SECONDS_PER_WORKBOOK", 0)  # every workbook is over budget at once
    result = _invoke("generate", "--master", master, "--out", tmp_path / "out", "--jobs", "1")
    assert result.exit_code == 2, result.output
    assert "的工作簿生成超过 0 秒仍未完成" in result.output and "已停止" in result.output
