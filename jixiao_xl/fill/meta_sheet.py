"""The hidden ``_meta`` sheet: the workbook's identity and its field map (moved verbatim from fill.py)."""

from __future__ import annotations

import re

from .. import __version__
from ..xlsx.sheetwriter import cell_ref
from .request import META_SHEET, Placement, RenderRequest

_GRID_ROW_PATH = re.compile(r"^(.+\.[a-z])(\d+)\.([^.]+)$")


def field_map(placements: list[Placement]) -> list[tuple[str, str]]:
    """The ``_meta`` field map: (field path, ``sheet!cell``) for each scalar field, and one entry per grid column.

    A grid column is written as ``p01.i*.value`` → ``sheet!F11:F20``: the k-th cell of the range is row k
    (``p01.i01.value``, ``p01.i02.value`` …). The ``JX_`` name of a cell is derived from its path
    (:attr:`Placement.name`), so it is not repeated here.
    """
    groups: dict[str, list[Placement]] = {}
    for placement in placements:
        match = _GRID_ROW_PATH.match(placement.path)
        groups.setdefault(f"{match[1]}*.{match[3]}" if match else placement.path, []).append(placement)
    rows: list[tuple[str, str]] = []
    for key, cells in groups.items():
        if "*" in key and _is_column(cells):
            rows.append((key, f"{cells[0].ref}:{cell_ref(cells[-1].row, cells[-1].col)}"))
        else:  # a scalar field (or, should a grid ever not be one row per grid row, each of its cells)
            rows += [(p.path, p.ref) for p in cells]
    return rows


def _is_column(cells: list[Placement]) -> bool:
    """True when the cells are rows 1, 2, … of the grid, one under the other on one sheet and column."""
    first = cells[0]
    return all(p.sheet == first.sheet and p.col == first.col and p.row == first.row + k
               and int(_GRID_ROW_PATH.match(p.path)[2]) == k + 1 for k, p in enumerate(cells))


def _write_meta(wb, request: RenderRequest, projects, sheet_names, placements: list[Placement], formats) -> None:
    ws = wb.add_worksheet(META_SHEET)
    head = formats.get({"bold": True})
    rows = [
        ("template_id", request.project_spec.template_id),
        ("template_version", request.project_spec.version),
        ("dept_template_id", request.dept_spec.template_id),
        ("dept_template_version", request.dept_spec.version),
        ("master_fingerprint", request.master.fingerprint),
        ("unit_code", request.unit.code),
        ("unit_name", request.unit.name),
        ("budget_year", str(request.master.settings.year)),
        ("money_unit", request.master.settings.money_unit),
        ("plan_nodes", ",".join(request.master.settings.plan_nodes)),
        ("generated_at", request.generated_at.isoformat(timespec="seconds")),
        ("tool_version", __version__),
    ]
    ws.write_string(0, 0, "项目", head)
    ws.write_string(0, 1, "值", head)
    for r, (key, value) in enumerate(rows, start=1):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, value)
    r = len(rows) + 2
    ws.write_string(r, 0, "project", head)
    ws.write_string(r, 1, "project_code", head)
    ws.write_string(r, 2, "sheet", head)
    for index, (project, name) in enumerate(zip(projects, sheet_names), start=1):
        r += 1
        ws.write_string(r, 0, f"p{index:02d}")
        ws.write_string(r, 1, project.code)
        ws.write_string(r, 2, name)
    r += 2
    ws.write_string(r, 0, "field", head)
    ws.write_string(r, 1, "cell", head)
    for path, ref in field_map(placements):
        r += 1
        ws.write_string(r, 0, path)
        ws.write_string(r, 1, ref)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 2, 30)
    ws.protect(request.password)
    ws.very_hidden()
