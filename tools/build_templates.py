"""Rebuild the two official templates in xltemplates/ (run: python tools/build_templates.py).

The templates are ordinary .xlsx files a person can open and restyle in Excel or WPS; this script only
records how the shipped ones were drawn, so that they can be regenerated and reviewed as text.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.page import PageMargins

OUT = Path(__file__).resolve().parents[1] / "xltemplates"
FONT = "宋体"
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")


def _cell(ws, ref, value, *, bold=False, size=10, align=CENTER, border=True, fill=None, fmt=None):
    cell = ws[ref]
    cell.value = value
    cell.font = Font(name=FONT, size=size, bold=bold)
    cell.alignment = align
    if border:
        cell.border = BOX
    if fill is not None:
        cell.fill = fill
    if fmt:
        cell.number_format = fmt
    return cell


def _merge(ws, ref, value, **style):
    first = ref.split(":")[0]
    _cell(ws, first, value, **style)
    if style.get("border", True):
        for row in ws[ref]:
            for cell in row:
                cell.border = BOX
    ws.merge_cells(ref)


def _page(ws, title_rows: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True


def build_project_template() -> Workbook:
    """项目支出绩效目标表: header block, spending plan, goal, indicator grid and footer."""
    wb = Workbook()
    ws = wb.active
    ws.title = "项目支出绩效目标表"
    for col, width in zip("ABCDEFGHI", (12, 14, 18, 26, 9, 11, 9, 24, 8)):
        ws.column_dimensions[col].width = width

    _merge(ws, "A1:I1", "{{ year }}年度项目支出绩效目标表", bold=True, size=16, border=False)
    ws.row_dimensions[1].height = 30
    _merge(ws, "A2:F2", "{{ unit.code }} {{ unit.name }}", align=LEFT, border=False)
    _merge(ws, "G2:I2", "单位：{{ money_unit }}", align=Alignment(horizontal="right", vertical="center"), border=False)

    _cell(ws, "A3", "项目编码", bold=True)
    _merge(ws, "B3:D3", "{{ project.code }}", align=LEFT)
    _cell(ws, "E3", "项目名称", bold=True)
    _merge(ws, "F3:I3", "{{ project.name }}", align=LEFT)

    _cell(ws, "A4", "预算数", bold=True)
    _cell(ws, "B4", "{{ project.budget }}", fmt="0.00")
    _cell(ws, "C4", "其中：财政资金", bold=True)
    _cell(ws, "D4", "{{ project.fiscal }}", fmt="0.00")
    _cell(ws, "E4", "其他资金", bold=True)
    _cell(ws, "F4", "{{ project.other }}", fmt="0.00")
    _cell(ws, "G4", "资金校验", bold=True)
    _merge(ws, "H4:I4", "{{ check.funds }}", align=LEFT)

    _cell(ws, "A5", "预算规模及资金用途", bold=True)
    _merge(ws, "B5:I5", "{{ project.purpose }}", align=LEFT)
    ws.row_dimensions[5].height = 30

    _merge(ws, "A6:A8", "资金支出计划（累计）", bold=True)
    _cell(ws, "B6", "{{ plan.node }}", bold=True, fill=HEADER_FILL)
    _cell(ws, "B7", "{{ plan.amount }}", fmt="0.00")
    _cell(ws, "B8", "{{ plan.percent }}", fmt="0.00%")
    _merge(ws, "G6:I6", "支出计划校验", bold=True)
    _merge(ws, "G7:I7", "{{ check.plan }}", align=LEFT)
    _merge(ws, "G8:I8", "{{ check.order }}", align=LEFT)

    _cell(ws, "A9", "年度绩效目标", bold=True)
    _merge(ws, "B9:I9", "{{ project.annual_goal }}", align=LEFT)
    ws.row_dimensions[9].height = 45

    headers = ("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标性质", "指标值", "度量单位", "指标值确定依据", "权重")
    for col, text in zip("ABCDEFGHI", headers):
        _cell(ws, f"{col}10", text, bold=True, fill=HEADER_FILL)
    fields = ("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight")
    for col, name in zip("ABCDEFGHI", fields):
        _cell(ws, f"{col}11", "{{ ind.%s }}" % name, align=CENTER if name in ("operator", "value", "unit", "weight") else LEFT)

    _cell(ws, "A12", "填表人", bold=True)
    _merge(ws, "B12:C12", "{{ footer.filler }}")
    _cell(ws, "D12", "联系电话", bold=True)
    _merge(ws, "E12:F12", "{{ footer.phone }}")
    _cell(ws, "G12", "填报日期", bold=True)
    _merge(ws, "H12:I12", "{{ footer.date }}")

    _page(ws, "1:2")
    return wb


def build_department_template() -> Workbook:
    """部门整体支出绩效目标表: unit totals, 总体绩效目标, then 分项绩效目标 with their indicators."""
    wb = Workbook()
    ws = wb.active
    ws.title = "部门整体支出绩效目标表"
    for col, width in zip("ABCDEFGHIJ", (6, 16, 30, 11, 14, 20, 9, 10, 9, 18)):
        ws.column_dimensions[col].width = width

    _merge(ws, "A1:J1", "{{ year }}年度部门整体支出绩效目标表", bold=True, size=16, border=False)
    ws.row_dimensions[1].height = 30
    _merge(ws, "A2:G2", "{{ unit.code }} {{ unit.name }}", align=LEFT, border=False)
    _merge(ws, "H2:J2", "单位：{{ money_unit }}", align=Alignment(horizontal="right", vertical="center"), border=False)

    _merge(ws, "A3:B3", "部门（单位）名称", bold=True)
    _merge(ws, "C3:E3", "{{ unit.name }}", align=LEFT)
    _cell(ws, "F3", "主管部门", bold=True)
    _merge(ws, "G3:J3", "{{ department_name }}", align=LEFT)

    _merge(ws, "A4:B4", "项目支出预算合计", bold=True)
    _cell(ws, "C4", "{{ unit.budget }}", fmt="0.00")
    _cell(ws, "D4", "项目个数", bold=True)
    _cell(ws, "E4", "{{ unit.project_count }}")
    _cell(ws, "F4", "其中：财政资金", bold=True)
    _cell(ws, "G4", "{{ unit.fiscal }}", fmt="0.00")
    _cell(ws, "H4", "其他资金", bold=True)
    _merge(ws, "I4:J4", "{{ unit.other }}", fmt="0.00")

    _merge(ws, "A5:B5", "总体绩效目标", bold=True)
    _merge(ws, "C5:J5", "{{ dept.overall_goal }}", align=LEFT)
    ws.row_dimensions[5].height = 90

    headers = ("序号", "分项名称", "分项绩效目标", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位",
               "指标值确定依据")
    for col, text in zip("ABCDEFGHIJ", headers):
        _cell(ws, f"{col}6", text, bold=True, fill=HEADER_FILL)
    fields = ("goal.seq", "goal.name", "goal.goal", "dind.level1", "dind.level2", "dind.name", "dind.operator",
              "dind.value", "dind.unit", "dind.basis")
    for col, name in zip("ABCDEFGHIJ", fields):
        _cell(ws, f"{col}7", "{{ %s }}" % name, align=LEFT if name in ("goal.name", "goal.goal", "dind.name") else CENTER)

    _cell(ws, "A8", "填表人", bold=True)
    _merge(ws, "B8:C8", "{{ footer.filler }}")
    _cell(ws, "D8", "联系电话", bold=True)
    _merge(ws, "E8:F8", "{{ footer.phone }}")
    _cell(ws, "G8", "填报日期", bold=True)
    _merge(ws, "H8:J8", "{{ footer.date }}")

    _merge(ws, "A9:B9", "三、工作保障措施（每条一段：序号、措施名称、措施内容）", bold=True)
    _merge(ws, "C9:J9", "{{ dept.measures }}", align=Alignment(horizontal="left", vertical="top", wrap_text=True))
    ws.row_dimensions[9].height = 160

    _page(ws, "1:2")
    return wb


def main(argv: list[str] | None = None) -> None:
    """Draw both templates and store their compiled forms; ``--specs`` only recompiles the stored forms."""
    from jixiao_xl.template import write_compiled

    specs_only = "--specs" in (sys.argv[1:] if argv is None else argv)
    OUT.mkdir(exist_ok=True)
    for name, build in (("项目支出绩效目标表", build_project_template), ("部门整体支出绩效目标表", build_department_template)):
        path = OUT / f"{name}.xlsx"
        if not specs_only:
            wb = build()
            wb.properties.creator = "jixiao-xl"
            wb.save(path)
            print(path)
        print(write_compiled(path))


if __name__ == "__main__":
    main()
