"""The rules of one project sheet as a whole, and R-R6 across a file's projects.

Per project: R-S3 (every 一级 covered), R-S6 (no 三级 name twice), R-S7 (the 年度绩效目标), R-V7 (too many
定性), R-W3/R-W4 (weight total and split), then the funds and plan rules of :mod:`.funds`; before them the
grid rules of :mod:`.grid` on every indicator row. :func:`check_boilerplate` is R-R6: the same effect
indicators in several projects of one file.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Callable, Iterable, Iterator, Sequence

from ..findings import Finding
from ..model import Project
from ..submission import ReturnedProject
from ..taxonomy import FRAMEWORKS
from .config import RuleConfig, enabled_only
from .context import CheckedSheet
from .funds import check_funds, check_plan
from .grid import PROJECT_ROW_CHECKS, row_findings
from .rows import EFFECT_L1, SATISFACTION_L1, IndicatorRow, as_text, compact, indicator_row, plain_number

# --------------------------------------------------------------------------------------------------
# Per-project rules
# --------------------------------------------------------------------------------------------------

ProjectCheck = Callable[[CheckedSheet, Project, Sequence[IndicatorRow]], Iterable[Finding]]


def _check_coverage(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-S3: every 一级 of the framework has at least one 三级 (满意度 alone only a warning).

    One finding per project, at its 项目编码 cell (a missing 一级 has no cell of its own), naming every
    一级 that is missing."""
    present = {row.level1 for row in rows if row.name}
    missing = [level1 for level1 in FRAMEWORKS[ctx.config.framework] if level1 not in present]
    if not missing:
        return
    names = "、".join(f"“{level1}”" for level1 in missing)
    extra = "；确无直接服务对象的项目可不设满意度指标，但请在年度绩效目标中说明" if SATISFACTION_L1 in missing else ""
    each = "各" if len(missing) > 1 else ""
    yield ctx.finding("R-S3", f"项目“{project.name}”没有{names}下的三级指标；请在{names}下{each}至少填写一个三级指标{extra}。",
                      "code", value="", field_name="一级指标", expected="、".join(missing),
                      severity="warning" if missing == [SATISFACTION_L1] else None)


def _check_duplicates(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-S6: a 三级 name appears once per project."""
    first: dict[str, IndicatorRow] = {}
    for row in rows:
        if not row.name:
            continue
        key = compact(row.name)
        if key not in first:
            first[key] = row
            continue
        earlier = ctx.locations.get(first[key].path("name"))
        where = f"（与 {earlier.cell} 重复）" if earlier is not None and earlier.cell else ""
        yield ctx.at("R-S6", row, "name",
                     f"三级指标“{row.name}”在本项目中重复出现{where}；请合并重复的指标，或改成能够区分的名称。",
                     expected="不重复的名称")


_PLACEHOLDER_GOAL = re.compile(r"目标内容\s*\d*$")


def goal_findings(ctx: CheckedSheet, text: str, path: str, what: str) -> Iterator[Finding]:
    """R-S7 for one goal text: blank is an error, a template placeholder ("1.目标内容 1") a warning."""
    goal = (text or "").strip()
    if not goal:
        yield ctx.finding("R-S7", f"{what}为空；请写明本年度要完成的产出和达到的效果，如“完成……，实现……”。",
                          path, expected="非空")
    elif _PLACEHOLDER_GOAL.search(goal):
        yield ctx.finding("R-S7", f"{what}“{goal}”像是没有改动的模板占位文字；请写明本年度要完成的产出和达到的效果。",
                          path, value=goal, expected="具体的绩效目标", severity="warning")


def _check_goal(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-S7: the project's 年度绩效目标 is filled in."""
    yield from goal_findings(ctx, project.annual_goal, "annual_goal", "年度绩效目标")


def _check_qualitative_share(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-V7 (per project): more than half of the indicators (and at least 3) are 定性."""
    filled = [row for row in rows if row.has_content]
    qualitative = [row for row in filled if row.operator == "定性"]
    if len(qualitative) < 3 or 2 * len(qualitative) <= len(filled):
        return
    yield ctx.finding("R-V7", f"项目“{project.name}”的 {len(filled)} 个指标中有 {len(qualitative)} 个是定性指标，定性指标过多；"
                              f"请把能量化的指标改为定量（选择 ≥、≤ 等并填写数值和单位）。",
                      over=[row.path("operator") for row in qualitative], field_name="指标性质", value="定性",
                      expected="以定量指标为主")


def _check_weight_total(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-W3: the 三级 weights add up to the configured total."""
    weights = [row.weight for row in rows if row.has_content and row.weight is not None]
    target = ctx.config.weight_total
    if target is None or not weights:
        return
    total = sum(weights, Decimal(0))
    if total != target:
        yield ctx.finding("R-W3", f"项目“{project.name}”的三级指标权重合计为 {plain_number(total)}，应为 {plain_number(target)}；"
                                  f"请调整各指标的权重，使合计等于 {plain_number(target)}。",
                          over=_weight_cells(ctx, [row for row in rows if row.has_content]),
                          field_name="权重", value=plain_number(total), expected=plain_number(target))


def _weight_cells(ctx: CheckedSheet, rows: Sequence[IndicatorRow]) -> list[str]:
    """The paths of the weight cells of ``rows``, or the project's 项目编码 when the sheet shows none."""
    paths = [row.path("weight") for row in rows]
    return paths if ctx.span(paths) is not None else ["code"]


# 一级 weight split for self-evaluation when 预算执行率 takes the other 10 (domain.md R-W4): (min, max).
_WEIGHT_SPLITS: dict[str, dict[str, tuple[int, int]]] = {
    "2015": {"产出指标": (50, 50), "效益指标": (30, 30), "满意度指标": (10, 10)},
    "2021": {"成本指标": (0, 20), "产出指标": (40, 50)},
}


def _check_weight_split(ctx: CheckedSheet, project: Project, rows: Sequence[IndicatorRow]) -> Iterator[Finding]:
    """R-W4: the 一级 weight sums follow the usual split (checked only when the total is 90)."""
    if ctx.config.weight_total != 90:
        return
    for level1, (low, high) in _WEIGHT_SPLITS[ctx.config.framework].items():
        members = [row for row in rows if row.level1 == level1 and row.weight is not None]
        total = sum((row.weight for row in members), Decimal(0))  # type: ignore[misc]
        if low <= total <= high:
            continue
        usual = str(low) if low == high else f"{low}～{high}"
        message = (f"项目“{project.name}”中“{level1}”的权重合计为 {plain_number(total)}，常用分配为 {usual}"
                   f"（产出 50、效益 30、满意度 10，预算执行率 10）；请核对后调整。")
        filed = [row for row in rows if row.level1 == level1 and row.has_content]
        yield ctx.finding("R-W4", message, over=_weight_cells(ctx, filed), field_name="权重", value=plain_number(total),
                          expected=usual)


_PROJECT_CHECKS: tuple[ProjectCheck, ...] = (
    _check_goal, _check_coverage, _check_duplicates, _check_qualitative_share, _check_weight_total,
    _check_weight_split, check_funds, check_plan,
)


# --------------------------------------------------------------------------------------------------
# R-R6 across the projects of one file
# --------------------------------------------------------------------------------------------------

_BOILERPLATE_PROJECTS = 3
_BOILERPLATE_SHOWN = 3  # groups named in the message; the rest are counted


def _effect_rows(projects: Sequence[ReturnedProject],
                 rows_of: Sequence[list[IndicatorRow]]) -> list[tuple[ReturnedProject, list[IndicatorRow]]]:
    """The filled 效益 rows of each project (``rows_of``: each project's rows, in the same order)."""
    return [(rp, [row for row in rows if row.level1 == EFFECT_L1 and row.name]) for rp, rows in zip(projects, rows_of)]


def _repeated_effects(effects: list[tuple[ReturnedProject, list[IndicatorRow]]],
                      ) -> list[list[tuple[ReturnedProject, IndicatorRow]]]:
    """Groups of identical (name, operator, value, unit) effect indicators used in ≥3 projects."""
    owners: dict[tuple[str, str, str, str], list[tuple[ReturnedProject, IndicatorRow]]] = {}
    for rp, rows in effects:
        for row in rows:
            group = owners.setdefault((compact(row.name), row.operator, as_text(row.value), row.unit), [])
            if all(other is not rp for other, _ in group):
                group.append((rp, row))
    return [group for group in owners.values() if len(group) >= _BOILERPLATE_PROJECTS]


def _all_95(effects: list[tuple[ReturnedProject, list[IndicatorRow]]]) -> bool:
    """True when ≥2 projects have effect indicators and every one of them is "≥95%"."""
    rows = [row for _, project_rows in effects for row in project_rows]
    with_effects = sum(1 for _, project_rows in effects if project_rows)
    return with_effects >= 2 and all(
        row.operator == "≥" and row.number == 95 and row.unit == "%" for row in rows)


def check_boilerplate(projects: Sequence[ReturnedProject], config: RuleConfig,
                      rows_of: Sequence[list[IndicatorRow]]) -> list[Finding]:
    """R-R6: identical effect indicators in ≥3 projects, or all "≥95%" — one finding per submission."""
    effects = _effect_rows(projects, rows_of)
    repeated = _repeated_effects(effects)
    uniform = _all_95(effects)
    if not repeated and not uniform:
        return []
    reasons = []
    for group in repeated[:_BOILERPLATE_SHOWN]:
        names = "、".join(f"“{rp.project.name}”" for rp, _ in group)
        reasons.append(f"效益指标“{group[0][1].name}”（{group[0][1].shown}）在 {len(group)} 个项目（{names}）中完全相同")
    if len(repeated) > _BOILERPLATE_SHOWN:
        reasons.append(f"另有 {len(repeated) - _BOILERPLATE_SHOWN} 个效益指标也在多个项目中完全相同")
    if uniform:
        reasons.append("各项目的效益指标全部为“≥95%”")
    rp, row = repeated[0][0] if repeated else next((rp, rows[0]) for rp, rows in effects if rows)
    ctx = project_sheet(rp, config)
    message = f"{'；'.join(reasons)}，疑似套用模板；请按每个项目的实际效果分别设置效益指标和目标值。"
    return [ctx.at("R-R6", row, "name", message, expected="按项目实际设置")]


# --------------------------------------------------------------------------------------------------
# Running them
# --------------------------------------------------------------------------------------------------


def project_sheet(rp: ReturnedProject, config: RuleConfig) -> CheckedSheet:
    """The project sheet under check: its findings belong to the project and its unit."""
    return CheckedSheet(config=config, sheet=rp.sheet, locations=rp.locations, notes=rp.notes,
                        project_code=rp.project.code, unit_code=rp.project.unit_code, budget=rp.project.budget)


def project_rows(rp: ReturnedProject) -> list[IndicatorRow]:
    """The project's indicators as rows under check (location paths ``ind0.…``, ``ind1.…``)."""
    return [indicator_row("ind", k, ind) for k, ind in enumerate(rp.project.indicators)]


def check_project(rp: ReturnedProject, config: RuleConfig) -> list[Finding]:
    """The findings of the R- rules for one returned project sheet.

    Args:
        rp: the project as read, with the location of every value (paths as in :mod:`jixiao_xl.submission`).
        config: the batch configuration (see :meth:`RuleConfig.from_settings`).

    Returns:
        Findings in sheet order (indicator rows first, then goal, coverage, weights, funds and plan),
        located at the cell the value was read from; rules disabled in ``config`` are left out.
    """
    return run_project_checks(rp, config, project_rows(rp))


def run_project_checks(rp: ReturnedProject, config: RuleConfig, rows: Sequence[IndicatorRow]) -> list[Finding]:
    """:func:`check_project` with the project's rows already read (R-R6 needs them too)."""
    ctx = project_sheet(rp, config)
    findings = list(row_findings(ctx, rows, PROJECT_ROW_CHECKS))
    for check in _PROJECT_CHECKS:
        findings.extend(check(ctx, rp.project, rows))
    return enabled_only(findings, config)

