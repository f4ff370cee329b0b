"""The domain rules run on the master itself, before any form goes out.

A cost indicator above its budget or a "≥" on a damage rate is as wrong in the master as in a return, and
cheaper to fix there: every unit's form would otherwise be pre-filled with it. This stage presents the
master's projects to :mod:`rules` as if they had been returned, with each value located at its cell of
the master workbook. The master check (M- codes) says whether the master is well formed; the rules say
whether its values are right, each problem once: a funds or plan problem is an R-F1 or R-F5 at the
master's 预算数/财政资金/其他资金/支出计划 cell, as it would be in a return.

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
from .master.format import field_columns, plan_header
from .master.settings import seq_of
from .model import Master
from .rules import FROM_MASTER, RuleConfig, check_dept, check_project
from .runtime.memory import return_freed_memory
from .submission import Location, ReturnedDept, ReturnedProject

# Model field → master column, for the location paths of a returned sheet (``budget``, ``ind3.value`` …);
# the key columns (unit, owner, 序号) are how rows are found, not values the rules judge.
_KEYS = ("unit_code", "project_code", "seq")
PROJECT_COLUMNS = {k: v for k, v in field_columns("项目").items() if k not in _KEYS}
INDICATOR_COLUMNS = {k: v for k, v in field_columns("绩效指标").items() if k not in _KEYS}
DEPT_INDICATOR_COLUMNS = {k: v for k, v in field_columns("部门整体指标").items() if k not in _KEYS}
_GOAL_COLUMNS = field_columns("部门整体目标")
_OWNER = field_columns("绩效指标")["project_code"]  # the 项目编码 of an indicator row
_UNIT, _SEQ = _GOAL_COLUMNS["unit_code"], _GOAL_COLUMNS["seq"]  # a department row's 单位编码 and 序号


def check_master_with_rules(path: str | Path) -> list[Finding]:
    """What ``jixiao-xl master check`` reports: the master check and the domain rules, each problem once.

    The workbook is read once. The master check judges the structure, the rules the values (the indicator
    values too: R-V1, R-V3, see :func:`~jixiao_xl.master.check_tables`). A master the rules cannot run on
    (its structure is broken) gets the master check alone, which says why.
    """
    try:
        tables = read_tables(path, require_sheets=False)
    except MasterError as exc:
        return [unreadable_finding(path, exc)]
    try:
        master = build_master(tables)
    except MasterError:
        return check_tables(tables, file=str(path))
    structure = check_tables(tables, file=str(path), values_by_rules=True)
    return _together(structure, rule_findings(master, tables, str(path)))


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
    (already loaded), without cells: their sheets are not held as tables, which at province scale would cost
    more memory than the forms themselves. ``jixiao-xl master check`` lists every finding with its cell.
    Raises :class:`~jixiao_xl.master.MasterError` when the master cannot be read at all.
    """
    findings = _issue_findings(path, master)
    # The tables are freed by now, but glibc keeps their pages: generate would fork its workers from a parent
    # some 150 MB bigger at 20,000 units, and they would dirty those pages again.
    return_freed_memory()
    wanted = frozenset(unit_codes)
    if wanted:
        findings = [f for f in findings if not f.unit_code or f.unit_code in wanted]
    return IssueCheck(tuple(f for f in findings if is_issued_data(f)),
                      tuple(f for f in findings if not is_issued_data(f)))


def _issue_findings(path: str | Path, master: Master) -> list[Finding]:
    """The master check of the sheets the forms lock from, and the rules on every project and unit."""
    tables = read_tables(path, require_sheets=False, only=ISSUED_MASTER_COLUMNS)
    return _together(check_tables(tables, file=str(path)), rule_findings(master, tables, str(path)))


def _together(structure: list[Finding], rules: list[Finding]) -> list[Finding]:
    """The master check's findings, then the rules', less the rules' findings where the master check already
    says why there is no value: at a cell it could not read (M-NUMBER) and in a column the sheet lacks
    (M-MISSING-COLUMN). The rules saw a blank there, and "为空" would be wrong or said once per row."""
    unreadable = {(f.sheet, f.cell) for f in structure if f.rule == "M-NUMBER" and f.cell}
    missing = {(f.sheet, f.field) for f in structure if f.rule == "M-MISSING-COLUMN"}
    return structure + [f for f in rules if (f.sheet, f.cell) not in unreadable
                        and (f.cell or (f.sheet, f.field) not in missing)]


def rule_findings(master: Master, tables: Tables, file: str = "") -> list[Finding]:
    """Run the rules on every project and department sheet of ``master``, located in ``tables`` (where a
    sheet was not read, without a cell)."""
    config = replace(RuleConfig.from_settings(master.settings), origin=FROM_MASTER)  # the bureau's own data
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
    rows = index.rows_of("项目", PROJECT_COLUMNS["code"], project.code)
    if rows:
        for path, header in PROJECT_COLUMNS.items():
            _put(locations, path, _at(projects, rows[0], header))
        for point in project.plan:
            _put(locations, f"plan.{point.node}", _at(projects, rows[0], plan_header(point.node)))
    indicators = index.table("绩效指标")
    for k, row in enumerate(index.rows_of("绩效指标", _OWNER, project.code)):
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
    for row in index.rows_of("部门整体目标", _UNIT, unit_code):
        seq = (row.get(_SEQ) or "").strip()
        goal = _at(goal_table, row, _GOAL_COLUMNS["goal"])
        _put(locations, "overall_goal" if seq == "0" else f"goal{seq}.goal", goal)
        if seq != "0":
            _put(locations, f"goal{seq}.name", _at(goal_table, row, _GOAL_COLUMNS["name"]))
    indicator_table = index.table("部门整体指标")
    # The model holds the rows with an integer 序号 only (the others are M-NUMBER): the k-th of those is dind{k}.
    numbered = [row for row in index.rows_of("部门整体指标", _UNIT, unit_code) if seq_of(row.get(_SEQ)) is not None]
    for k, row in enumerate(numbered):
        for part, header in DEPT_INDICATOR_COLUMNS.items():
            _put(locations, f"dind{k}.{part}", _at(indicator_table, row, header))
    overall = next((g.goal for g in goals if g.seq == 0), "")
    return ReturnedDept("部门整体指标", overall, tuple(g for g in goals if g.seq != 0), indicators, locations)


def _put(locations: dict[str, Location], path: str, where: Location | None) -> None:
    if where is not None:
        locations[path] = where
