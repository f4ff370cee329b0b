"""The 预算公开 document as Word (.docx), rendered with docxtpl from an editable template.

The template (xltemplates/预算公开.docx, drawn by tools/build_docx_template.py) is an ordinary Word document
with jinja2 tags; a bureau edits it in Word (fonts, 页眉页脚, wording) and passes its copy with
``jixiao-xl publish --docx-template``. Rendering autoescapes every value (a ``<`` or ``&`` in a name stays
text). The archive is rewritten with fixed entry times, so the same publication gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..errors import InputError
from . import GRID_HEADER, Publication
from ..resources import form_templates_dir

DOCX_TEMPLATE = "预算公开.docx"


def default_template() -> Path:
    """The shipped Word template."""
    return form_templates_dir() / DOCX_TEMPLATE


def render_docx(publication: Publication, template: Path | None = None) -> bytes:
    """The .docx bytes of one unit's document, from ``template`` (default: the shipped one)."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError

    path = Path(template) if template else default_template()
    try:
        document = DocxTemplate(str(path))
        document.render({"pub": publication, "header": GRID_HEADER}, autoescape=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(f"无法读取 Word 模板 {path}（{exc}）；请确认它是 .docx 文件，或不加 --docx-template 使用内置模板。") from exc
    except TemplateError as exc:
        raise InputError(f"Word 模板 {path} 中的标记有误（{exc}）；请对照内置模板 {DOCX_TEMPLATE} 改正 {{{{ }}}} 或 {{% %}} 标记。") from exc
    merge_grid_cells(document.docx, publication)
    buffer = io.BytesIO()
    document.save(buffer)
    return fixed_zip(buffer.getvalue(), publication.year)


def merge_grid_cells(document, publication: Publication) -> None:
    """Merge the 一级/二级 cells of each project's indicator grid as :func:`~jixiao_xl.publish.grid_rows` spans them.

    The grids are the tables whose first row is the grid header, in project order; the cell a merge covers
    is emptied so that Word shows the label once. (A template whose header row was reworded is left unmerged.)
    """
    grids = [t for t in document.tables if t.rows and [c.text.strip() for c in t.rows[0].cells] == list(GRID_HEADER)]
    for table, project in zip(grids, publication.projects):
        rows = table.rows[1:]
        if len(rows) != len(project.rows):
            continue
        for column, span_of in ((0, "level1_span"), (1, "level2_span")):
            for row, grid_row in zip(rows, project.rows):
                span = getattr(grid_row, span_of)
                if span != 1:
                    _vertical_merge(row.cells[column], restart=span > 1)


def _vertical_merge(cell, restart: bool) -> None:
    """Mark a cell as the first (restart) or a continued part of a vertical merge; a continued one is emptied."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    merge = OxmlElement("w:vMerge")
    if restart:
        merge.set(qn("w:val"), "restart")
    else:
        for paragraph in cell.paragraphs:
            for run in paragraph.runs:
                run.text = ""
    tc_pr.append(merge)


def fixed_zip(data: bytes, year: int) -> bytes:
    """The same zip archive with every entry dated 1 January ``year`` (python-docx stamps the current time)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(max(year, 1980), 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
