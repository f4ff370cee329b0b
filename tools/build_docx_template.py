"""Draw the Word template of the 预算公开 document: xltemplates/预算公开.docx (jinja2 tags for docxtpl).

Run: ``python tools/build_docx_template.py``. The template is an ordinary .docx: a bureau opens it in Word,
changes fonts, headers, wording or column widths, keeps the ``{{ … }}`` and ``{%p … %}``/``{%tr … %}`` tags,
and passes it to ``jixiao-xl publish --docx-template``. The data the tags see is
:class:`jixiao_xl.publish.Publication` as ``pub``; each project is a :class:`~jixiao_xl.publish.ProjectTable`.

Layout: 第一部分 as headings and paragraphs; 第二部分 one page per project, its title, the unit line, then two
tables on the same columns: the project's head (编码, 预算数, 资金用途, 支出计划, 绩效目标) and the indicator grid,
whose header row repeats on every page (Word repeats only a table's first rows, hence two tables).
"""

from __future__ import annotations

import datetime
import io
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jixiao_xl.publish import GRID_HEADER  # noqa: E402
from jixiao_xl.publish.as_docx import DOCX_TEMPLATE, fixed_zip  # noqa: E402

TARGET = ROOT / "xltemplates" / DOCX_TEMPLATE
WIDTHS_MM = (22, 27, 31, 40, 24, 36)
PLAN_COLUMNS = 5
BODY_FONT, HEADING_FONT = "宋体", "黑体"


def set_fonts(run_or_style, east_asian: str, size: float | None = None) -> None:
    """Latin and East Asian font of a style or run."""
    font = run_or_style.font
    font.name = "Times New Roman"
    if size:
        font.size = Pt(size)
    element = run_or_style.element if hasattr(run_or_style, "element") else run_or_style._element
    rpr = element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asian)


def paragraph(doc, text: str, *, size: float = 12, heading: bool = False, centre: bool = False,
              indent: bool = False, page_break: bool = False):
    para = doc.add_paragraph()
    run = para.add_run(text)
    set_fonts(run, HEADING_FONT if heading else BODY_FONT, size)
    fmt = para.paragraph_format
    fmt.space_after = Pt(4)
    if centre:
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if page_break:
        fmt.page_break_before = True
    return para


def tag(doc, text: str) -> None:
    """A paragraph holding only a docxtpl paragraph tag ({%p … %}); docxtpl removes it when rendering."""
    doc.add_paragraph(text)


def cell_text(cell, text: str, *, label: bool = False, left: bool = False) -> None:
    cell.text = ""
    para = cell.paragraphs[0]
    run = para.add_run(text)
    set_fonts(run, BODY_FONT, 10.5)
    para.alignment = WD_ALIGN_PARAGRAPH.LEFT if left else WD_ALIGN_PARAGRAPH.CENTER
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def keep_row_whole(row, header: bool = False) -> None:
    """A row never split across pages; a header row repeated on every page."""
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    if header:
        trpr.append(OxmlElement("w:tblHeader"))


def new_table(doc, rows: int):
    table = doc.add_table(rows=rows, cols=len(WIDTHS_MM))
    table.style = "Table Grid"
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, WIDTHS_MM):
            cell.width = Mm(width)
    return table


def head_table(doc) -> None:
    """The project's head: 项目编码 … 绩效目标, with the 支出计划 rows in a loop over chunks of five nodes."""
    t = new_table(doc, 8)
    r = t.rows
    cell_text(r[0].cells[0], "项目编码", label=True)
    cell_text(r[0].cells[1].merge(r[0].cells[2]), "{{ project.code }}")
    cell_text(r[0].cells[3], "项目名称", label=True)
    cell_text(r[0].cells[4].merge(r[0].cells[5]), "{{ project.name }}")
    for k, text in enumerate(("预算数", "{{ project.budget }}", "其中：财政资金", "{{ project.fiscal }}", "其他资金",
                              "{{ project.other }}")):
        cell_text(r[1].cells[k], text, label=k % 2 == 0)
    cell_text(r[2].cells[0], "预算规模及资金用途", label=True)
    cell_text(r[2].cells[1].merge(r[2].cells[5]), "{{ project.purpose }}", left=True)
    cell_text(r[3].cells[0].merge(r[3].cells[5]), "{%tr for chunk in project.plan_chunks() %}")
    label = r[4].cells[0].merge(r[5].cells[0])
    cell_text(label, "资金支出计划（%）", label=True)
    for k in range(PLAN_COLUMNS):
        cell_text(r[4].cells[k + 1], f"{{{{ chunk[{k}][0] if chunk|length > {k} else '' }}}}", label=True)
        cell_text(r[5].cells[k + 1], f"{{{{ chunk[{k}][1] if chunk|length > {k} else '' }}}}")
    cell_text(r[6].cells[0].merge(r[6].cells[5]), "{%tr endfor %}")
    cell_text(r[7].cells[0], "绩效目标", label=True)
    cell_text(r[7].cells[1].merge(r[7].cells[5]), "{{ project.annual_goal }}", left=True)
    for row in r:
        keep_row_whole(row)


def grid_table(doc) -> None:
    """The indicator grid: a repeated header row, one row per indicator (render_docx merges the 一级/二级 cells)."""
    t = new_table(doc, 4)
    r = t.rows
    for k, title in enumerate(GRID_HEADER):
        cell_text(r[0].cells[k], title, label=True)
    keep_row_whole(r[0], header=True)
    cell_text(r[1].cells[0].merge(r[1].cells[5]), "{%tr for row in project.rows %}")
    fields = ("{{ row.level1 }}", "{{ row.level2 }}", "{{ row.name }}", "{{ row.description }}",
              "{{ row.value }}", "{{ row.basis }}")
    for k, text in enumerate(fields):
        cell_text(r[2].cells[k], text)
    keep_row_whole(r[2])
    cell_text(r[3].cells[0].merge(r[3].cells[5]), "{%tr endfor %}")


def build(target: Path = TARGET) -> None:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    set_fonts(doc.styles["Normal"], BODY_FONT, 12)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = "预算绩效目标公开", "jixiao-xl", "jixiao-xl"
    props.created = props.modified = datetime.datetime(2022, 1, 1)
    props.revision = 1
    props.comments = "jixiao-xl publish 的 Word 模板：可修改字体、页眉页脚和文字，请保留花括号中的标记。"

    tag(doc, "{%p if pub.has_part_one %}")
    paragraph(doc, "第一部分", size=16, heading=True, centre=True)
    paragraph(doc, "部门整体绩效目标", size=16, heading=True, centre=True)
    tag(doc, "{%p if pub.overall_goal %}")
    paragraph(doc, "{{ pub.heading_number('overall') }}总体绩效目标", size=14, heading=True)
    paragraph(doc, "{{ pub.overall_goal }}", indent=True)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if pub.sub_goals %}")
    paragraph(doc, "{{ pub.heading_number('sub') }}分项绩效目标", size=14, heading=True)
    tag(doc, "{%p for goal in pub.sub_goals %}")
    paragraph(doc, "{{ goal.seq }}、{{ goal.name }}", heading=True)
    paragraph(doc, "绩效目标：{{ goal.goal }}", indent=True)
    tag(doc, "{%p if goal.indicators %}")
    paragraph(doc, "绩效指标：{{ goal.indicators }}", indent=True)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if pub.measures %}")
    paragraph(doc, "{{ pub.heading_number('measures') }}工作保障措施", size=14, heading=True)
    tag(doc, "{%p for measure in pub.measures %}")
    paragraph(doc, "{{ measure.seq }}、{{ measure.title }}", heading=True)
    paragraph(doc, "{{ measure.text }}", indent=True)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endif %}")

    tag(doc, "{%p if pub.projects %}")
    paragraph(doc, "第二部分", size=16, heading=True, centre=True, page_break=True)
    paragraph(doc, "预算项目绩效目标", size=16, heading=True, centre=True)
    tag(doc, "{%p for project in pub.projects %}")
    paragraph(doc, "{{ project.title }}", size=14, heading=True, centre=True, page_break=True)
    line = paragraph(doc, "{{ pub.unit_line }}\t{{ pub.money_label }}", size=10.5)
    line.paragraph_format.tab_stops.add_tab_stop(Mm(180), WD_TAB_ALIGNMENT.RIGHT)
    head_table(doc)
    spacer = doc.add_paragraph()
    spacer.paragraph_format.space_after = Pt(0)
    set_fonts(spacer.add_run(""), BODY_FONT, 1)
    grid_table(doc)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")

    buffer = io.BytesIO()
    doc.save(buffer)
    target.write_bytes(fixed_zip(buffer.getvalue(), 2022))
    print(f"{target}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    build()
