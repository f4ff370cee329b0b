"""The domain rules run on the master itself, before any form goes out.

A cost indicator above its budget or a "≥" on a damage rate is as wrong in the master as in a return, and
cheaper to fix there: every unit's form would otherwise be pre-filled with it. This stage presents the
master's projects to :mod:`rules` as if they had been returned, with each value located at its cell of
the master workbook, and leaves out the rules that ``master check`` already covers with its own M- codes.

:func:`check_before_issue` is what ``generate`` runs first: the master check and these rules together,
split by :func:`jixiao_xl.issued.is_issued_data` into the bureau's own issued data (an error there stops
the forms going out) and what the units will fill (reported, never blocking).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from .findings import Finding, has_errors
from .issued import ISSUED_MASTER_COLUMNS, is_issued_data
from .master import MasterError, Table, Tables, build_master, check_tables, read_tables, unreadable_finding
from .model import Master
from .rules import RuleConfig, catalogue_rules, check_dept, check_project
from .submission import Location, ReturnedDept, ReturnedProject

# Rules whose ground the master check already covers (M-LEVEL*, M-REQUIRED, M-OPERATOR, M-FUNDS, M-PLAN-*).
COVERED_BY_MASTER_CHECK = frozenset({"R-S1", "R-S2", "R-F1", "R-F5"})
# ... when the master check ran on the 项目 sheet only (M-FUNDS, M-PLAN-*): see check_before_issue.
_COVERED_BY_SHEETS = frozenset({"R-F1", "R-F5"})

PROJECT_COLUMNS = {"code": "项目编码", "name": "项目名称", "budget": "预算数", "fiscal": "财政资金", "other": "其他资金",
                   "purpose": "预算规模及资金用途", "annual_goal": "年度绩效目标"}
INDICATOR_COLUMNS = {"level1": "一级指标", "level2": "二级指标", "name": "三级指标", "description": "绩效指标描述",
                     "operator": "指标性质", "value": "指标值", "unit": "度量单位", "basis": "指标值确定依据",
                     "weight": "权重"}
DEPT_INDICATOR_COLUMNS = {k: v for k, v in INDICATOR_COLUMNS.items() if k not in ("description", "weight")}


def check_master_with_rules(path: str | Path) -> list[Finding]:
    """What ``jixiao-xl master check`` reports: the master check and the domain rules, each problem once.

    The workbook is read once. Where both passes would judge the same cell, one of them does: the levels,
    operators, required fields, funds and plan are the master check's (M- codes, see
    :data:`COVERED_BY_MASTER_CHECK`), the indicator values the rules' (R-V1, R-V3: see
    :func:`~jixiao_xl.master.check_tables`). A master the rules cannot run on (its structure is broken)
    gets the master check alone, which says why.
    """
    try:
        tables = read_tables(path, require_sheets=False)
    except MasterError as exc:
        return [unreadable_finding(path, exc)]
    try:
        master = build_master(tables)
    except MasterError:
        return check_tables(tables, file=str(path))
    return check_tables(tables, file=str(path), values_by_rules=True) + rule_findings(master, tables, str(path))


@dataclass(frozen=True)
class IssueCheck:
    """The master checked before issuing: findings in the issued (locked) data, and in what units fill."""

    issued: tuple[Finding, ...]
    for_units: tuple[Finding, ...]

    @property
    def blocks(self) -> bool:
        """True when the issued data has errors: such a master must not be issued (unless forced)."""
        return has_errors(self.issued)

    @property
    def issued_errors(self) -> int:
        """How many errors the issued data has."""
        return sum(1 for f in self.issued if f.severity == "error")


def check_before_issue(path: str | Path, master: Master, unit_codes: Iterable[str] = ()) -> IssueCheck:
    """What ``generate`` checks first, split into issued data and what the units fill; with ``unit_codes``,
    only findings of those units (and those of no unit) count.

    The sheets the forms lock from (:data:`~jixiao_xl.issued.ISSUED_MASTER_COLUMNS`) get the whole master
    check, located at their cells. The pre-filled indicators and goals get the domain rules on ``master``
    (already loaded), R-S1/R-S2 standing in for the master check's M-LEVEL*/M-OPERATOR: their sheets are not
    held as tables, which at province scale would cost more memory than the forms themselves. ``jixiao-xl
    master check`` lists every finding with its cell. Raises :class:`~jixiao_xl.master.MasterError` when the
    master cannot be read at all.
    """
    tables = read_tables(path, require_sheets=False, only=ISSUED_MASTER_COLUMNS)
    findings = check_tables(tables, file=str(path)) + rule_findings(master, tables, str(path), covered=_COVERED_BY_SHEETS)
    wanted = frozenset(unit_codes)
    if wanted:
        findings = [f for f in findings if not f.unit_code or f.unit_code in wanted]
    return IssueCheck(tuple(f for f in findings if is_issued_data(f)),
                      tuple(f for f in findings if not is_issued_data(f)))


def rule_findings(master: Master, tables: Tables, file: str = "",
                  covered: frozenset[str] = COVERED_BY_MASTER_CHECK) -> list[Finding]:
    """Run the rules on every project and department sheet of ``master``, located in ``tables`` (where a
    sheet was not read, without a cell); the ``covered`` rules are left to the master check."""
    enabled = frozenset(r.code for r in catalogue_rules()) - covered
    config = replace(RuleConfig.from_settings(master.settings), enabled=enabled)
    rows = _RowIndex(tables)
    findings: list[Finding] = []
    # A unit or project code listed twice (M-DUP-UNIT, M-DUP-PROJECT) is checked once: its rows are the
    # same cells, and running the rules on each copy would report every finding of them twice.
    for unit_code in dict.fromkeys(unit.code for unit in master.units):
        once = {p.code: p for p in reversed(master.projects_of(unit_code))}  # the first of each code
        projects = [_as_returned(p, rows) for p in master.projects_of(unit_code) if once[p.code] is p]
        mine: list[Finding] = []
        for rp in projects:
            mine += check_project(rp, config)
        dept = _dept_as_returned(master, unit_code, rows)
        if dept is not None:
            mine += check_dept(dept, projects, config)
        findings += [replace(f, file=file, unit_code=f.unit_code or unit_code) for f in mine]
    return findings


class _RowIndex:
    """The master's rows grouped by a key column, built once per (sheet, column): a province's master
    has 100,000 projects, and scanning a sheet per project would take hours."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._groups: dict[tuple[str, str], dict[str, list]] = {}

    def table(self, sheet: str) -> Table | None:
        return self.tables.table(sheet)

    def rows_of(self, sheet: str, column: str, value: str) -> list:
        """The rows of ``sheet`` whose ``column`` holds ``value``, in sheet order."""
        key = (sheet, column)
        groups = self._groups.get(key)
        if groups is None:
            groups = self._groups[key] = {}
            table = self.tables.table(sheet)
            for row in table.rows if table is not None else ():
                groups.setdefault(row.get(column), []).append(row)
        return groups.get(value, [])


def _at(table: Table, row, header: str) -> Location | None:
    cell = table.cell(row, header)
    return Location(table.sheet, cell, "", row.get(header) or "") if cell else None


def _as_returned(project, index: _RowIndex) -> ReturnedProject:
    locations: dict[str, Location] = {}
    projects = index.table("项目")
    rows = index.rows_of("项目", "项目编码", project.code)
    if rows:
        for path, header in PROJECT_COLUMNS.items():
            _put(locations, path, _at(projects, rows[0], header))
        for point in project.plan:
            _put(locations, f"plan.{point.node}", _at(projects, rows[0], f"支出计划-{point.node}"))
    indicators = index.table("绩效指标")
    for k, row in enumerate(index.rows_of("绩效指标", "项目编码", project.code)):
        for part, header in INDICATOR_COLUMNS.items():
            _put(locations, f"ind{k}.{part}", _at(indicators, row, header))
    return ReturnedProject(project.code, "项目", project, locations)


def _dept_as_returned(master: Master, unit_code: str, index: _RowIndex) -> ReturnedDept | None:
    goals = master.goals_of(unit_code)
    indicators = master.dept_indicators_of(unit_code)
    if not goals and not indicators:
        return None
    locations: dict[str, Location] = {}
    goal_table = index.table("部门整体目标")
    for row in index.rows_of("部门整体目标", "单位编码", unit_code):
        seq = (row.get("序号") or "").strip()
        _put(locations, "overall_goal" if seq == "0" else f"goal{seq}.goal", _at(goal_table, row, "绩效目标"))
        if seq != "0":
            _put(locations, f"goal{seq}.name", _at(goal_table, row, "分项名称"))
    indicator_table = index.table("部门整体指标")
    for k, row in enumerate(index.rows_of("部门整体指标", "单位编码", unit_code)):
        for part, header in DEPT_INDICATOR_COLUMNS.items():
            _put(locations, f"dind{k}.{part}", _at(indicator_table, row, header))
    overall = next((g.goal for g in goals if g.seq == 0), "")
    return ReturnedDept("部门整体指标", overall, tuple(g for g in goals if g.seq != 0), indicators, locations)


def _put(locations: dict[str, Location], path: str, where: Location | None) -> None:
    if where is not None:
        locations[path] = where
