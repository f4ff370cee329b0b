"""The hidden ``_meta`` sheet of a generated workbook: what goes in it (the layout is :mod:`jixiao_xl.meta`'s)."""

from __future__ import annotations

from .. import __version__
from ..meta import META_SHEET, Identity, field_map, meta_cells, write_meta
from .request import Placement, RenderRequest


def write_meta_sheet(wb, request: RenderRequest, projects, sheet_names, placements: list[Placement], formats) -> None:
    """The very hidden ``_meta`` sheet: identity, project sheets and the field map."""
    settings = request.master.settings
    identity = Identity(
        template_id=request.project_spec.template_id, template_version=request.project_spec.version,
        dept_template_id=request.dept_spec.template_id, dept_template_version=request.dept_spec.version,
        master_fingerprint=request.master.fingerprint, unit_code=request.unit.code, unit_name=request.unit.name,
        budget_year=str(settings.year), money_unit=settings.money_unit, plan_nodes=",".join(settings.plan_nodes),
        generated_at=request.generated_at.isoformat(timespec="seconds"), tool_version=__version__,
    )
    cells = meta_cells(identity, [(project.code, name) for project, name in zip(projects, sheet_names)],
                       field_map(placements))
    write_meta(wb.add_worksheet(META_SHEET), cells, formats.get({"bold": True}), request.password)
