"""The workbook's sheets besides the forms: 填报说明 (from a jinja2 text template), 问题清单 and 其他填写内容
(on a 退回修改 workbook), and the very hidden ``_lists`` behind the dropdowns with its defined names."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from .. import taxonomy
from ..findings import SEVERITY_ZH
from ..xlsx.sheetwriter import FormatCache, cell_ref, display_width, print_as_list, wrapped_row_height
from .request import DEPT_SHEET, INPUT_FILL, LISTS_SHEET, RenderRequest


@lru_cache(maxsize=1)
def _jinja_env() -> jinja2.Environment:
    from ..resources import text_templates_dir

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(text_templates_dir())), autoescape=False,
                              keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def render_text(name: str, **context) -> str:
    """Render one of the package's jinja2 text templates (templates/)."""
    return _jinja_env().get_template(name).render(**context)


def write_guide(ws, request: RenderRequest, projects, sheet_names, formats: FormatCache) -> None:
    settings = request.master.settings
    text = render_text("填报说明.txt.j2", settings=settings, unit=request.unit, projects=list(zip(projects, sheet_names)),
                       deadline=request.deadline, dept_sheet=DEPT_SHEET, input_fill=INPUT_FILL,
                       framework=taxonomy.FRAMEWORKS[settings.framework], operators=taxonomy.OPERATORS,
                       bases=taxonomy.BASIS_DEFINITIONS)
    title = formats.get({"bold": True, "font_size": 14, "font_name": "宋体"})
    body = formats.get({"text_wrap": True, "valign": "top", "font_name": "宋体", "font_size": 11})
    width = 72  # fits the printable width of portrait A4 without scaling (LibreOffice ignores fit-to-width here)
    ws.set_column(0, 0, width)
    for row, line in enumerate(text.splitlines()):
        ws.write_string(row, 0, line, title if row == 0 else body)
        lines = max(1, -(-display_width(line) // int(width * 0.95)))
        ws.set_row(row, 24 if row == 0 else 15 * lines + 3)
    ws.set_portrait()
    ws.set_paper(9)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.fit_to_pages(1, 0)
    ws.protect(request.password)
    ws.activate()


def write_problems(ws, request: RenderRequest, formats: FormatCache) -> None:
    """The 问题清单 sheet of a 退回修改 workbook: one row per problem, with where and how to fix it."""
    head = formats.get({"bold": True, "bg_color": "#D9E1F2", "pattern": 1, "border": 1, "text_wrap": True})
    body = formats.get({"text_wrap": True, "valign": "top", "border": 1})
    headers = ("序号", "严重程度", "工作表", "单元格", "项目编码", "规则", "问题及修改方法", "填报值", "应为")
    # Sized to print one landscape A4 page wide at about 100 %: long texts wrap, nothing is cut off.
    widths = (5, 7, 16, 7, 14, 9, 58, 14, 14)
    for col, (title, width) in enumerate(zip(headers, widths)):
        ws.write_string(0, col, title, head)
        ws.set_column(col, col, width)
    for row, f in enumerate(request.problems, start=1):
        cells = (str(row), SEVERITY_ZH[f.severity], f.sheet, f.cell, f.project_code, f.rule, f.message, f.value, f.expected)
        ws.set_row(row, wrapped_row_height(cells, widths, 15.0))
        for col, text in enumerate(cells):
            ws.write_string(row, col, text, body)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(request.problems), len(headers) - 1)
    print_as_list(ws)
    ws.protect(request.password, {"autofilter": True, "sort": True})


def write_other_content(ws, request: RenderRequest, formats: FormatCache) -> None:
    """The 其他填写内容 sheet of a 退回修改 workbook: what the unit typed where the form has no field."""
    head = formats.get({"bold": True, "bg_color": "#D9E1F2", "pattern": 1, "border": 1, "text_wrap": True})
    body = formats.get({"text_wrap": True, "valign": "top", "border": 1})
    ws.merge_range(0, 0, 0, 4, "以下内容填写在表格中没有填写项的位置，未作为任何字段读入。请把需要报送的内容移到相应的"
                               "填写项中（黄色单元格），或确认后删除。", formats.get({"bold": True, "text_wrap": True}))
    ws.set_row(0, 32)
    for col, (title, width) in enumerate(zip(("序号", "工作表", "单元格", "填写内容", "说明"), (6, 26, 8, 50, 60))):
        ws.write_string(1, col, title, head)
        ws.set_column(col, col, width)
    for row, item in enumerate(request.other_content, start=2):
        for col, text in enumerate((str(row - 1), item.sheet, item.cell, item.text, item.note)):
            ws.write_string(row, col, text, body)
    ws.freeze_panes(2, 0)
    ws.protect(request.password, {"autofilter": True, "sort": True})


def write_lists(wb, framework_id: str, formats: FormatCache):
    ws = wb.add_worksheet(LISTS_SHEET)
    framework = taxonomy.FRAMEWORKS[framework_id]
    head = formats.get({"bold": True})
    ws.write_string(0, 0, "一级指标", head)
    ws.write_string(0, 1, "二级列表名", head)
    for i, (level1, children) in enumerate(framework.items(), start=1):
        ws.write_string(i, 0, level1)
        key = f"JXL_L2_{i}"
        ws.write_string(i, 1, key)
        col = 1 + i
        ws.write_string(0, col, level1, head)
        for j, level2 in enumerate(children, start=1):
            ws.write_string(j, col, level2)
        wb.define_name(key, f"={LISTS_SHEET}!{cell_ref(1, col, True)}:{cell_ref(len(children), col, True)}")
    n = len(framework)
    wb.define_name("JXL_LEVEL1", f"={LISTS_SHEET}!$A$2:{cell_ref(n, 0, True)}")
    wb.define_name("JXL_L2MAP", f"={LISTS_SHEET}!$A$2:{cell_ref(n, 1, True)}")
    start = 2 + n + 1
    for offset, (name, title, items) in enumerate((("JXL_OPERATORS", "指标性质", taxonomy.OPERATORS),
                                                    ("JXL_UNITS", "度量单位", taxonomy.UNITS),
                                                    ("JXL_BASES", "指标值确定依据", taxonomy.BASES))):
        col = start + offset
        ws.write_string(0, col, title, head)
        for j, item in enumerate(items, start=1):
            ws.write_string(j, col, item)
        wb.define_name(name, f"={LISTS_SHEET}!{cell_ref(1, col, True)}:{cell_ref(len(items), col, True)}")
    ws.very_hidden()
    return ws

