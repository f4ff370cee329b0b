"""A project sheet: its scalar fields, 支出计划, extra fields, footer and indicator grid."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from .. import values
from ..meta import Meta
from ..model import PlanPoint, Project
from ..submission import Footer, Location, ReturnedProject
from ..template import FormSpec, is_extra
from ..workbook import Sheet, col_letter, parse_a1
from .context import (FIELD_ZH, FOOTER_FIELDS, MONEY_FIELDS, P_DATE, P_MOVED, P_NUMBER, P_PROTECTION, PROJECT_SCALARS,
                      Context, Spot, note_formula)
from .grid import Grid
from .locate import Locator


def read_project(ctx: Context, meta: Meta, key: str, sheet_name: str, spec: FormSpec) -> ReturnedProject:
    """One project sheet: its scalar fields, 支出计划, extra fields, indicators and footer."""
    sheet = ctx.data.sheet(sheet_name)
    prefix = key.upper() + "_" if key.startswith("p") else "__NONE__"
    loc = Locator(ctx, meta, spec, sheet, f"JX_{prefix}", f"{key}.")
    grid = Grid.locate(ctx, sheet, spec, loc, key)
    loc.grid_shift = grid.footer_row - (spec.repeat_row + 1) if grid.footer_row is not None else 0
    locations: dict[str, Location] = {}
    notes: dict[str, tuple[str, ...]] = {}
    fields: dict[str, object] = {}
    for template_field in PROJECT_SCALARS:
        if template_field not in spec.fields:
            continue
        short = template_field.split(".", 1)[1] if template_field.startswith("project.") else template_field
        spot = loc.find(short, template_field)
        if spot is None:
            continue
        location = loc.location(spot)
        locations[short] = location
        fields[short] = _scalar(ctx, short, location, sheet, spot)
        _note_moved(ctx, spec, template_field, spot, location, grid.row_delta)
    plan = _read_plan(ctx, meta, spec, sheet, loc, locations)
    extras = read_extras(ctx, loc, spec, key, locations)
    indicators = grid.read_indicators(locations, notes)
    ctx.sheets.append(grid.sheet_read(locations))
    project = Project(
        unit_code="", code=values.normalise_code(fields.get("code") or ""), name=str(fields.get("name") or ""),
        budget=fields.get("budget"), fiscal=fields.get("fiscal"), other=fields.get("other"),
        purpose=str(fields.get("purpose") or ""), annual_goal=str(fields.get("annual_goal") or ""),
        plan=plan, indicators=indicators,
    )
    _note_protection(ctx, sheet_name, project.code)
    # Findings made while reading the sheet are attributed to its project once the code is known.
    ctx.findings = [replace(f, project_code=project.code) if f.sheet == sheet_name and not f.project_code else f
                    for f in ctx.findings]
    return ReturnedProject(key, sheet_name, project, locations, notes, read_footer(ctx, sheet, locations), extras)


def read_footer(ctx: Context, sheet: Sheet, locations: dict[str, Location]) -> Footer | None:
    """填表人, 联系电话 and 填报日期 from their located cells, the date normalised (None without a footer)."""
    if not any(path in locations for path in FOOTER_FIELDS):
        return None
    texts = {path: locations[path].raw if path in locations else "" for path in FOOTER_FIELDS}
    date_raw, date = texts["footer.date"], ""
    if date_raw:
        where = locations["footer.date"]
        place = parse_a1(where.cell)
        try:
            parsed = values.parse_date(sheet.value(*place) if place else date_raw)
        except (ValueError, TypeError, OverflowError):
            parsed = None
        if parsed is None:
            ctx.add(P_DATE, f"填报日期“{date_raw}”无法识别为日期，已按原文保留；请写成 2025-03-15 或 2025年3月15日。",
                    sheet=where.sheet, cell=where.cell, field="填报日期", value=date_raw, found_by=where.found_by)
        date = parsed.isoformat() if parsed is not None else ""
    return Footer(filler=texts["footer.filler"], phone=texts["footer.phone"], date=date, date_raw=date_raw)


def read_extras(ctx: Context, loc: Locator, spec: FormSpec, key: str,
                locations: dict[str, Location]) -> dict[str, str]:
    """The template's own fields (``{{ extra.<名称> }}``): 名称 → the text typed, each located like any field."""
    extras = {}
    for template_field in spec.fields:
        if not is_extra(template_field):
            continue
        spot = loc.by_extra_name(key, template_field) or loc.find(template_field, template_field)
        if spot is None:
            continue
        location = loc.location(spot)
        note_formula(ctx, location.sheet, spot, template_field)
        locations[template_field] = location
        extras[template_field.split(".", 1)[1]] = location.raw
    return extras


def _scalar(ctx: Context, field_name: str, location: Location, sheet: Sheet, spot: Spot):
    """A scalar field's value: money as Decimal (P-NUMBER when it is not), anything else as its text."""
    note_formula(ctx, sheet.name, spot, field_name)
    if field_name in MONEY_FIELDS:
        return read_money(ctx, sheet.value(spot.row, spot.col), location, field_name)
    return location.raw  # the cell's clean_text, as Location holds it


def read_money(ctx: Context, raw_value, location: Location, label: str) -> Decimal | None:
    """An amount in the return's money unit as Decimal; P-NUMBER and None when it is not a number."""
    try:
        amount, _note = values.parse_money(raw_value, ctx.money_unit, ctx.money_unit)
        return values.as_money(amount)
    except (ValueError, TypeError):
        ctx.add(P_NUMBER, f"{FIELD_ZH.get(label, label)}“{location.raw}”不是数字，请填写以{ctx.money_unit}为单位的金额（如 6.00）。",
                sheet=location.sheet, cell=location.cell, field=FIELD_ZH.get(label, label), value=location.raw,
                found_by=location.found_by)
        return None


def _note_moved(ctx: Context, spec: FormSpec, template_field: str, spot: Spot, location: Location, delta: int) -> None:
    """P-MOVED when a field found by its label is not where the template (and grid growth) put it."""
    if spot.found_by != "label":
        return
    row, col = spec.fields[template_field]
    expected = (row + (delta if row > spec.repeat_row else 0), col)
    if (spot.row, spot.col) != expected:
        was = col_letter(col) + str(expected[0] + 1)
        ctx.add(P_MOVED, f"“{spec.label_left_of(row, col)}”不在下发时的 {was}，已在 {location.cell} 找到。", sheet=location.sheet,
                cell=location.cell, found_by="label")


def _note_protection(ctx: Context, sheet_name: str, code: str) -> None:
    """P-PROTECTION-REMOVED when a form sheet of a format that keeps protection lost it."""
    if ctx.data.kind in ("xlsx", "xlsm", "ods") and not ctx.data.is_protected(sheet_name):
        ctx.add(P_PROTECTION, f"工作表“{sheet_name}”的保护已被取消；锁定的下发数据仍会与主数据逐项核对。", sheet=sheet_name,
                project_code=code)


def _read_plan(ctx: Context, meta: Meta, spec: FormSpec, sheet: Sheet, loc: Locator,
               locations: dict[str, Location]) -> tuple[PlanPoint, ...]:
    """The 支出计划 amounts, one per node, each located by name, ``_meta``, its node label or the template."""
    if spec.plan_cell is None:
        return ()
    nodes = _plan_nodes(meta, sheet, spec)
    points = []
    for k, node in enumerate(nodes, start=1):
        spot = loc.by_name(f"plan{k}.amount") or loc.by_meta(f"plan{k}.amount", "") or _plan_by_label(sheet, spec, node)
        if spot is None:
            row, col = spec.plan_cell
            spot = Spot(row, col + k - 1, "template")
        location = loc.location(spot)
        locations[f"plan.{node}"] = location
        note_formula(ctx, sheet.name, spot, f"支出计划-{node}")
        points.append(PlanPoint(node, read_money(ctx, sheet.value(spot.row, spot.col), location, f"支出计划-{node}")))
    return tuple(points)


def _plan_nodes(meta: Meta, sheet: Sheet, spec: FormSpec) -> list[str]:
    """The 支出计划 nodes: ``_meta``'s list, else the labels above the template's plan cells."""
    nodes = [n for n in meta.identity.plan_nodes.split(",") if n]
    if nodes:
        return nodes
    row, col = spec.plan_cell
    found = []
    for c in range(col, col + spec.plan_span):
        text = values.clean_text(sheet.value(row - 1, c))
        if text:
            found.append(text)
    return found


def _plan_by_label(sheet: Sheet, spec: FormSpec, node: str) -> Spot | None:
    """The cell under a node's label near the template's plan row."""
    row, _ = spec.plan_cell
    for r, c in sheet.find_text(node, range(max(0, row - 3), min(sheet.height, row + 3))):
        return Spot(r + 1, c, "label")
    return None
