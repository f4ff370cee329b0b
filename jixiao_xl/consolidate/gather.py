"""Gathering: every master unit with the figures consolidation uses — its counted return or the master's values.

For each unit of the master the return that counts (:mod:`jixiao_xl.counting`; read through
:meth:`~jixiao_xl.ledger.Ledger.accepted_returns`) is used — its :class:`~jixiao_xl.digest.Digest` — and a
unit that has not returned contributes the master's values. Locked means locked: a returned project paired
with the master counts the master's 项目编码, 项目名称 and amounts (:mod:`jixiao_xl.issued`); a locked amount
the return holds changed becomes a :class:`~.figures.LockedEdit`. :func:`build` then makes the five tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping, Sequence

from ..findings import Finding
from ..issued import LOCKED_MONEY_FIELDS, LOCKED_PROJECT_FIELDS
from ..digest import DigestProject, tally_indicators
from ..ledger import AcceptedReturn, Ledger
from ..model import Master, Project, Unit
from ..reconcile import pair_projects, same_money
from .figures import (MASTER_SOURCE, RULE_TOTAL_MISMATCH, RULE_UNKNOWN_UNIT, UNKNOWN_CELL, Consolidation, LockedEdit,
                      ProjectFigures, UnitSource, amount_text)
from .tables import checks_table, detail_table, indicator_table, plan_table, summary_table


def number_paths(nodes: Sequence[str]) -> tuple[str, ...]:
    """The digest paths of a project's numbers, in 明细's order: 预算数, 财政资金, 其他资金, each 支出计划节点."""
    return ("budget", "fiscal", "other", *(f"plan.{node}" for node in nodes))


def _returned_figures(project: DigestProject, paths: tuple[str, ...]) -> ProjectFigures:
    if project.paths == paths:  # the form has exactly the master's plan nodes, as generated
        return ProjectFigures(project.code, project.name, project.sheet, project.values, project.cells,
                              project.extras)
    found = [project.number(path) for path in paths]
    return ProjectFigures(project.code, project.name, project.sheet, tuple(v for v, _ in found),
                          tuple(c for _, c in found), project.extras)


def _master_figures(project: Project, nodes: Sequence[str]) -> ProjectFigures:
    numbers = (project.budget, project.fiscal, project.other, *(project.plan_amount(node) for node in nodes))
    return ProjectFigures(project.code, project.name, MASTER_SOURCE, numbers)


def _returned_unit(master: Master, unit: Unit, accepted: AcceptedReturn, paths: tuple[str, ...],
                   counts: Mapping[str, int]) -> UnitSource:
    """A returned unit: the unit's entries (plan) from its return, the locked figures from the master."""
    digested = accepted.digest.projects
    issued = dict(pair_projects([(p.code, p.name) for p in digested], master, unit.code).pairs)
    projects, edits = [], []
    for k, project in enumerate(digested):
        figures = _returned_figures(project, paths)
        if k in issued:
            figures, changed = _as_issued(figures, issued[k])
            edits += changed
        projects.append(figures)
    return UnitSource(accepted.unit_code, unit.name or accepted.unit_name, True, tuple(projects),
                      accepted.digest.indicators, accepted.file_name, accepted.sha256, accepted.id,
                      counts.get("error", 0), counts.get("warning", 0), tuple(edits), accepted.digest.dept_extras)


def _as_issued(figures: ProjectFigures, issued: Project) -> tuple[ProjectFigures, list[LockedEdit]]:
    """The returned figures with code, name and the locked amounts (预算数, 财政资金, 其他资金) as issued;
    each amount the return changed becomes a :class:`LockedEdit` and its cell says so."""
    wanted = (issued.budget, issued.fiscal, issued.other)
    if figures.numbers[:3] == wanted and (figures.code, figures.name) == (issued.code, issued.name):
        return figures, []  # the usual case, and a province has 100,000 projects
    numbers, cells = list(figures.numbers), list(figures.cells or ("",) * len(figures.numbers))
    edits = []
    for k, name in enumerate(LOCKED_MONEY_FIELDS):
        returned, wanted = numbers[k], getattr(issued, name)
        if not same_money(wanted, returned):
            edit = LockedEdit(issued.code, issued.name, LOCKED_PROJECT_FIELDS[name], figures.sheet, cells[k], returned,
                              wanted)
            edits.append(edit)
            cells[k] = f"{MASTER_SOURCE}（表内 {edit.cell or UNKNOWN_CELL} 填报 {amount_text(returned)}）"
        numbers[k] = wanted
    return ProjectFigures(issued.code, issued.name, figures.sheet, tuple(numbers), tuple(cells), figures.extras), edits



def _master_unit(master: Master, code: str, name: str, sent: bool) -> UnitSource:
    projects = master.projects_of(code)
    nodes = master.settings.plan_nodes
    return UnitSource(code, name, False, tuple(_master_figures(p, nodes) for p in projects),
                      tally_indicators(i for p in projects for i in p.indicators), sent=sent)


def gather(master: Master, ledger: Ledger, problems: list[Finding] | None = None
           ) -> tuple[list[UnitSource], list[AcceptedReturn]]:
    """Every master unit with the values to use, and the accepted returns of units the master lacks.

    With ``problems``, a return whose stored digest cannot be read becomes an L-LEDGER-DIGEST finding there
    (see :meth:`Ledger.accepted_returns`) instead of an error."""
    paths = number_paths(master.settings.plan_nodes)
    latest = {accepted.unit_code: accepted for accepted in ledger.accepted_returns(problems)}
    counts = ledger.accepted_open_counts()
    issued = ledger.issued_latest()
    units = [_returned_unit(master, u, latest[u.code], paths, counts.get(latest[u.code].id, {})) if u.code in latest
             else _master_unit(master, u.code, u.name, u.code in issued) for u in master.units]
    return units, [latest[code] for code in sorted(latest) if master.unit(code) is None]


def _mismatch(unit: UnitSource, master_total: Decimal, returned_total: Decimal, money_unit: str) -> Finding:
    difference = returned_total - master_total
    message = (f"{unit.name}（{unit.code}）报送的预算数合计为 {returned_total} {money_unit}，主数据为 {master_total} "
               f"{money_unit}，相差 {difference} {money_unit}；请核对各项目预算数后重新报送，或先更正主数据。")
    return Finding(RULE_TOTAL_MISMATCH.code, RULE_TOTAL_MISMATCH.severity, message, file=unit.file,
                   sha256=unit.sha256, unit_code=unit.code, field="预算数合计", value=str(returned_total),
                   expected=str(master_total))


def _stranger(row: AcceptedReturn) -> Finding:
    message = (f"台账中第 {row.id} 号导入（{row.file_name}）的单位编码 {row.unit_code} 不在主数据中，未计入汇总；"
               "请确认单位编码是否填错，或先把该单位加入主数据。")
    return Finding(RULE_UNKNOWN_UNIT.code, RULE_UNKNOWN_UNIT.severity, message, file=row.file_name,
                   sha256=row.sha256, unit_code=row.unit_code, field="单位编码", value=row.unit_code)


def reconcile_totals(master: Master, units: Sequence[UnitSource], money_unit: str) -> list[Finding]:
    """An L-TOTAL-MISMATCH finding for every returned unit whose Σ 预算数 differs from the master's."""
    findings = []
    for unit in units:
        if not unit.returned:
            continue
        expected, got = master.unit_budget(unit.code), unit.budget()
        if expected != got:
            findings.append(_mismatch(unit, expected, got, money_unit))
    return findings


def build(master: Master, ledger: Ledger, include_unreturned: bool) -> Consolidation:
    """The consolidation of the ledger's counted returns (and, with ``include_unreturned``, the master's values)."""
    settings = master.settings
    problems = ledger.inconsistencies()
    units, strangers = gather(master, ledger, problems)
    findings = reconcile_totals(master, units, settings.money_unit) + [_stranger(r) for r in strangers]
    included = [u for u in units if u.returned or include_unreturned]
    tables = (
        summary_table(included, settings.money_unit),
        plan_table(included, settings.plan_nodes),
        indicator_table(included, settings.framework),
        detail_table(included, settings.plan_nodes),
        checks_table(master, units, strangers, findings, include_unreturned, problems),
    )
    return Consolidation(settings.year, settings.money_unit, tuple(settings.plan_nodes), tuple(units), tables,
                         tuple(problems + findings), include_unreturned)
