"""The 部门整体绩效目标 sheet: the overall goal, 工作保障措施, the 分项 and their indicators, the totals."""

from __future__ import annotations

from .. import values
from ..measures import parse_measures
from ..meta import Meta
from ..model import DeptGoal, DeptIndicator
from ..submission import Location, ReturnedDept
from ..template import FormSpec
from ..workbook import CellAddress, parse_a1
from .context import (DEPT_SHEET_NAME, FOOTER_FIELDS, P_MEASURES, P_ROWS, P_SEQ, Context, canonical_level1,
                      canonical_level2, canonical_unit, split_value)
from .grid import Grid
from .locate import Locator
from .project import read_extras, read_footer


def read_dept(ctx: Context, meta: Meta, spec: FormSpec) -> ReturnedDept | None:
    """The department sheet (None when the workbook has none): goals, indicators, totals, footer."""
    sheet_name = _dept_sheet_name(ctx, spec)
    if sheet_name is None:
        return None
    sheet = ctx.data.sheet(sheet_name)
    loc = Locator(ctx, meta, spec, sheet, "JX_D_", "d.")
    grid = Grid.locate(ctx, sheet, spec, loc, "d")
    loc.grid_shift = grid.row_delta
    locations: dict[str, Location] = {}
    notes: dict[str, tuple[str, ...]] = {}
    overall = ""
    if "dept.overall_goal" in spec.fields:
        spot = loc.find("overall_goal", "dept.overall_goal")
        if spot is not None:
            location = loc.location(spot)
            locations["overall_goal"] = location
            overall = location.raw
    measures = _read_measures(ctx, loc, spec, locations)
    for total in ("unit.budget", "unit.fiscal", "unit.other", *FOOTER_FIELDS):
        if total in spec.fields:
            spot = loc.find(total, total)
            if spot is not None:
                locations[total] = loc.location(spot)
    extras = read_extras(ctx, loc, spec, "d", locations)
    goals: dict[int, DeptGoal] = {}
    indicators: list[DeptIndicator] = []
    seq = None
    for row in grid.rows():
        row_values = grid.row_values(row)
        if not any(text for _value, text in row_values.values()):
            continue
        cells = grid.cells(row, row_values)
        text = {part: text for part, (_value, text) in row_values.items()}
        seq_text = text.get("goal.seq", "")
        if seq_text:
            try:
                seq = int(values.parse_number(cells["goal.seq"][0]) or 0)
            except (ValueError, TypeError):
                seq = None
        if seq is None:
            location = cells.get("goal.seq", cells[next(iter(cells))])[1]
            ctx.add(P_SEQ, f"第 {row + 1} 行的部门整体指标没有填写所属分项序号，已按原样读入；请在“序号”列填写它所属分项绩效目标的序号。",
                    sheet=sheet_name, cell=location.cell, field="序号", value=seq_text)
        _dept_goal(grid, cells, text, seq, goals, locations)
        if any(text.get(p) for p in ("level1", "level2", "name", "operator", "value", "unit", "basis")):
            k = len(indicators)
            value = cells["value"][0] if cells.get("value") and cells["value"][0] is not None else ""
            parsed = split_value(value, text.get("operator", ""), text.get("unit", ""))
            if parsed.notes:
                notes[f"dind{k}.value"] = parsed.notes
            indicators.append(DeptIndicator(
                unit_code="", seq=seq,
                level1=canonical_level1(text.get("level1", "")) if text.get("level1") else "",
                level2=canonical_level2(text.get("level2", "")) if text.get("level2") else "",
                name=text.get("name", ""),
                operator=parsed.operator or values.normalise_operator(text.get("operator", "")) or text.get("operator", ""),
                value=parsed.value, unit=parsed.unit or canonical_unit(text.get("unit", "")),
                basis=text.get("basis", ""),
            ))
            for part in ("level1", "level2", "name", "operator", "value", "unit", "basis"):
                if part in cells:
                    locations[f"dind{k}.{part}"] = cells[part][1]
            if seq is None and "goal.seq" in cells:
                locations[f"dind{k}.seq"] = cells["goal.seq"][1]  # where P-DEPT-SEQ is marked in 退回修改
    issued = grid._issued_rows()
    if issued is not None and len(grid.rows()) != issued:
        ctx.add(P_ROWS, f"部门整体指标区下发时有 {issued} 行，现为 {len(grid.rows())} 行，已全部读取。", sheet=sheet_name)
    ctx.sheets.append(grid.sheet_read(locations))
    return ReturnedDept(sheet_name, overall, tuple(goals[s] for s in sorted(goals)), tuple(indicators), locations, notes,
                        read_footer(ctx, sheet, locations), extras, measures)


def _read_measures(ctx: Context, loc: "Locator", spec: FormSpec, locations: dict[str, Location]) -> tuple:
    """The 工作保障措施 of the form's text field as numbered items (none when the form has no such field).

    A text whose numbering cannot be followed is kept whole as one measure, with P-MEASURES telling the unit.
    """
    if "dept.measures" not in spec.fields:
        return ()
    spot = loc.find("measures", "dept.measures")
    if spot is None:
        return ()
    location = loc.location(spot)
    locations["measures"] = location
    measures, followed = parse_measures(location.raw)
    if not followed:
        ctx.add(P_MEASURES, "工作保障措施的序号有重复或前后颠倒，无法分条读取，已整段作为一条措施读入；"
                "请每条措施单独一段，按 1、2、3 的顺序编号。",
                sheet=location.sheet, cell=location.cell, field="工作保障措施", value=location.raw[:200])
    return measures


def _dept_goal(grid: "Grid", cells, text: dict[str, str], seq: int | None, goals: dict[int, DeptGoal],
               locations: dict[str, Location]) -> None:
    """Take the 分项 of a grid row: the first row of a 序号 gives its name and goal. Goal text that cannot be
    taken (no 序号, or a 序号 whose 分项 is already read with other text) is left to the 其他填写内容 list."""
    parts = [part for part in ("name", "goal") if f"goal.{part}" in cells]
    if seq is not None and seq not in goals:
        goals[seq] = DeptGoal("", seq, text.get("goal.name", ""), text.get("goal.goal", ""))
        for part in parts:
            locations[f"goal{seq}.{part}"] = cells[f"goal.{part}"][1]
        if "goal.seq" in cells:  # where the 序号 was read: not content typed outside a field
            locations[f"goal{seq}.seq"] = cells["goal.seq"][1]
        return
    for part in parts:
        typed = text.get(f"goal.{part}", "")
        if not typed or (seq is not None and typed == getattr(goals[seq], part)):
            continue
        place = parse_a1(cells[f"goal.{part}"][1].cell)
        grid.unread[place] = ("没有填写序号，这里的分项内容未作为分项绩效目标读入；请填写序号" if seq is None else
                              f"序号 {seq} 的分项已在上方读入，这里另写的内容未读入；新增分项请填写新的序号")


def _dept_sheet_name(ctx: Context, spec: FormSpec) -> str | None:
    """The department sheet: by its defined name, its issued name, else the overall-goal label."""
    address = ctx.data.names.get("JX_D_OVERALL_GOAL")
    if isinstance(address, CellAddress) and address.sheet in ctx.data.sheet_names:
        return address.sheet
    if DEPT_SHEET_NAME in ctx.data.sheet_names:
        return DEPT_SHEET_NAME
    place = spec.fields.get("dept.overall_goal")
    label = spec.label_left_of(*place) if place else "总体绩效目标"
    for name in ctx.data.sheet_names:
        if name.startswith("_"):
            continue
        try:
            if ctx.data.sheet(name).find_text(label, range(12)):
                return name
        except Exception:  # noqa: BLE001
            continue
    return None
