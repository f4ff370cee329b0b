"""Render one unit's workbook from compiled templates and the master, with xlsxwriter (DESIGN §5).

Anatomy: 填报说明, one sheet per project, 部门整体绩效目标, hidden ``_lists`` (dropdown sources) and
``_meta`` (identity and field map). Every bound cell gets a ``JX_`` defined name; inputs are unlocked
and shaded, everything else locked; sheets are protected; dropdowns and live checks are added in code.

The rooms: :mod:`.request` (what a render takes: :class:`RenderRequest`, :class:`Placement`, the time
budget), :mod:`.formsheet` (what both form sheets share), :mod:`.project_sheet` and :mod:`.dept_sheet`
(the two forms), :mod:`.other_sheets` (填报说明, 问题清单, 其他填写内容, ``_lists``) and
:mod:`.meta_sheet` (``_meta``). This module assembles the workbook. The live checks' formulas, cached
values and hints are :mod:`jixiao_xl.rules.funds`'s, which also runs the same rules on returns.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..xlsx.fastxlsx import FormWorkbook
from ..safety import write_atomic
from ..xlsx.sheetwriter import FormatCache, cell_ref, quote_sheet
from ..submission import GUIDE_SHEET, OTHER_CONTENT_SHEET, PROBLEMS_SHEET
from .dept_sheet import DEPT_INPUTS, DepartmentSheet
from ..meta import field_map
from .meta_sheet import write_meta_sheet
from .other_sheets import render_text, write_guide, write_lists, write_other_content, write_problems
from .project_sheet import PROJECT_INPUTS, ProjectSheet
from .request import (DEFAULT_PASSWORD, DEPT_SHEET, INPUT_FILL, LISTS_SHEET, MARK_FILL, META_SHEET, Placement,
                      RenderBudget, RenderRefused, RenderRequest, defined_name, sheet_names_for)

__all__ = [
    "DEFAULT_PASSWORD", "DEPT_INPUTS", "DEPT_SHEET", "INPUT_FILL", "LISTS_SHEET", "MARK_FILL", "META_SHEET",
    "PROJECT_INPUTS", "RENDER_SECONDS_PER_WORKBOOK", "DepartmentSheet", "Placement", "ProjectSheet", "RenderBudget",
    "RenderRefused", "RenderRequest", "defined_name", "field_map", "render_bytes", "render_text", "render_unit",
    "sheet_names_for",
]

# Far above what any real workbook takes (well under a second): a bound, not a performance target.
RENDER_SECONDS_PER_WORKBOOK = 120.0


def render_unit(request: RenderRequest, path: Path, durable: bool = True) -> bytes:
    """Write the unit's workbook atomically to ``path`` and return its bytes.

    ``durable=False`` skips the per-file fsync; the caller then flushes the whole batch once
    (:func:`jixiao_xl.safety.flush_to_disk`) before it records what it wrote.
    """
    payload = render_bytes(request)
    write_atomic(Path(path), payload, durable=durable)
    return payload


def render_bytes(request: RenderRequest) -> bytes:
    """The unit's workbook as bytes."""
    buffer = io.BytesIO()
    _render(request, buffer)
    return buffer.getvalue()


def _render(request: RenderRequest, target: io.BytesIO) -> None:
    """Draw every sheet of the unit's workbook, then its defined names and ``_meta``, into ``target``."""
    master, unit = request.master, request.unit
    projects = master.projects_of(unit.code)
    wb = FormWorkbook(target, {"strings_to_numbers": False, "strings_to_formulas": False,
                               "strings_to_urls": False, "in_memory": True})
    formats = FormatCache(wb)
    _properties(wb, request)
    guide = wb.add_worksheet(GUIDE_SHEET)
    if request.problems:
        write_problems(wb.add_worksheet(PROBLEMS_SHEET), request, formats)
    if request.other_content:
        write_other_content(wb.add_worksheet(OTHER_CONTENT_SHEET), request, formats)
    sheet_names = sheet_names_for(projects)
    placements: list[Placement] = []
    budget_refs, grid_names = [], []
    budget = RenderBudget(unit, RENDER_SECONDS_PER_WORKBOOK)
    for index, (project, name) in enumerate(zip(projects, sheet_names), start=1):
        budget.check(name)
        ws = wb.add_worksheet(name)
        layout = ProjectSheet(request, project, index, ws, name, formats, budget)
        placements += layout.draw()
        budget_refs.append(layout.money_refs())
        grid_names.append(layout.grid_name())
    dept = DepartmentSheet(request, projects, budget_refs, wb.add_worksheet(DEPT_SHEET), formats, budget)
    placements += dept.draw()
    grid_names.append(dept.grid_name())
    write_guide(guide, request, projects, sheet_names, formats)
    lists = write_lists(wb, request.master.settings.framework, formats)
    lists.protect(request.password)
    for placement in placements:
        wb.define_name(placement.name, f"={quote_sheet(placement.sheet)}!{cell_ref(placement.row, placement.col, True)}")
    for name, reference in grid_names:
        wb.define_name(name, reference)
    write_meta_sheet(wb, request, projects, sheet_names, placements, formats)
    wb.close()


def _properties(wb, request: RenderRequest) -> None:
    """The document properties, and the custom ones that tie the workbook to its template, unit and master."""
    settings = request.master.settings
    wb.set_properties({
        "title": f"{settings.year}年度绩效目标表 {request.unit.name}",
        "author": "jixiao-xl",
        "company": settings.department_name,
        "comments": "由 jixiao-xl 生成，请在黄色单元格中填写",
        "created": request.generated_at,
    })
    wb.set_custom_property("jixiao_template", request.project_spec.template_id)
    wb.set_custom_property("jixiao_version", request.project_spec.version)
    wb.set_custom_property("jixiao_unit", request.unit.code)
    wb.set_custom_property("jixiao_master", request.master.fingerprint)

