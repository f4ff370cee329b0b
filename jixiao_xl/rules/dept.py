"""The rules of the 部门整体绩效目标 sheet: the grid rules on its indicators, R-S7 on its goals, and R-F2
(its totals equal the sum of the unit's projects)."""

from __future__ import annotations

from decimal import Decimal
from typing import Iterator, Sequence

from ..findings import Finding
from ..issued import LOCKED_DEPT_TOTALS
from ..submission import ReturnedDept, ReturnedProject
from ..values import parse_money
from .config import RuleConfig, enabled_only
from .context import CheckedSheet, column_name
from .grid import GRID_CHECKS, row_findings
from .project import goal_findings
from .rows import as_text, indicator_row

_DEPT_TOTALS = LOCKED_DEPT_TOTALS


def _check_dept_goals(ctx: CheckedSheet, dept: ReturnedDept) -> Iterator[Finding]:
    """R-S7 on the department sheet: the 总体绩效目标 and every 分项绩效目标 are filled in."""
    yield from goal_findings(ctx, dept.overall_goal, "overall_goal", "总体绩效目标")
    for goal in dept.goals:
        if goal.seq > 0:
            yield from goal_findings(ctx, goal.goal, f"goal{goal.seq}.goal", f"分项绩效目标“{goal.name}”")


def _check_dept_totals(ctx: CheckedSheet, dept: ReturnedDept, projects: Sequence[ReturnedProject]) -> Iterator[Finding]:
    """R-F2: totals the department sheet shows (paths unit.budget/fiscal/other) equal Σ of the projects."""
    if not projects:
        return
    for path, key in _DEPT_TOTALS:
        where = dept.where(path)
        if where is None or not where.raw:
            continue
        expected = sum((getattr(rp.project, key) or Decimal(0) for rp in projects), Decimal(0))
        name, unit = column_name(path), ctx.config.money_unit
        try:
            shown, _ = parse_money(where.raw, target_unit=unit)
        except ValueError:
            shown = None
        if shown is None or shown != expected:
            yield ctx.finding("R-F2", f"部门整体表的{name}为“{where.raw}”，各项目合计为 {as_text(expected)} {unit}；"
                                      f"合计由程序计算，请不要改动，如有出入请联系主管部门重新下发表格。",
                              path, expected=as_text(expected))


def check_dept(dept: ReturnedDept, projects: Sequence[ReturnedProject], config: RuleConfig) -> list[Finding]:
    """The findings of the R- rules for the 部门整体绩效目标 sheet.

    The indicator rows get the same grid checks as a project's (R-S1, R-S2, R-S4, R-S5, R-V1–R-V7,
    R-R1–R-R5); the goals get R-S7; ``projects`` (the unit's returned projects) feed R-F2 when the sheet's
    totals were read (location paths ``unit.budget``, ``unit.fiscal``, ``unit.other``).
    """
    unit_code = next((rp.project.unit_code for rp in projects), "") or next(
        (ind.unit_code for ind in dept.indicators), "")
    ctx = CheckedSheet(config=config, sheet=dept.sheet, locations=dept.locations, notes=dept.notes, unit_code=unit_code)
    rows = [indicator_row("dind", k, ind) for k, ind in enumerate(dept.indicators)]
    findings = list(_check_dept_goals(ctx, dept))
    findings.extend(row_findings(ctx, rows, GRID_CHECKS))
    findings.extend(_check_dept_totals(ctx, dept, projects))
    return enabled_only(findings, config)

