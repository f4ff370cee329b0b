"""One return: the locked (下发) values. An edited locked cell is one X-TAMPER here (domain.md R-F3/R-F4) and
nothing else anywhere: :func:`issued_view` gives the rules the return with its locked values as issued
(DESIGN §10: issued values come from the master), and :func:`one_finding_per_edit` drops the reading
findings at a cell X-TAMPER already reports."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Sequence

from ..findings import Finding
from ..issued import LOCKED_DEPT_TOTALS, LOCKED_MONEY_FIELDS, LOCKED_PROJECT_FIELDS, LOCKED_TEXT_FIELDS, issued_project
from ..model import Master, Project
from ..submission import ReturnedDept, ReturnedProject, Submission
from ..values import parse_money
from .codes import finding_about
from .compare import as_decimal, as_text, code_text, compact, is_blank, same_money, show_money, show_value
from .matching import pair_projects, project_where


_LOCKED_TEXT = tuple((name, LOCKED_PROJECT_FIELDS[name]) for name in LOCKED_TEXT_FIELDS)
_LOCKED_MONEY = tuple((name, LOCKED_PROJECT_FIELDS[name]) for name in LOCKED_MONEY_FIELDS)


def tamper_findings(sub: Submission, rp: ReturnedProject, issued: Project) -> list[Finding]:
    """X-TAMPER for each locked project field that differs from the master."""
    findings = []
    returned = rp.project
    for name, label in _LOCKED_TEXT:
        got, want = getattr(returned, name, None), getattr(issued, name, None)
        same = code_text(got) == code_text(want) if name == "code" else compact(as_text(got)) == compact(as_text(want))
        if not same:
            message = tamper_message(label, got, want, "如确需更正，请联系主管部门。")
            findings.append(finding_about(sub, "X-TAMPER", message, project_where(rp, name), project_code=issued.code,
                                          field=name, value=as_text(got), expected=as_text(want)))
    for name, label in _LOCKED_MONEY:
        got, want = getattr(returned, name, None), getattr(issued, name, None)
        where = rp.where(name)
        if got is None and where is not None and where.raw.strip() and as_decimal(where.raw) is None:
            got = where.raw  # text that is not an amount: say what was typed, not that the cell was cleared
        if not same_money(want, got):
            message = tamper_message(label, got, want, "如需调整预算，请联系主管部门。", money=True)
            findings.append(finding_about(sub, "X-TAMPER", message, project_where(rp, name), project_code=issued.code,
                                          field=name, value=as_text(got), expected=as_text(want)))
    return findings


def tamper_message(label: str, returned: object, issued: object, advice: str, money: bool = False) -> str:
    """'预算数被改为 6.50，主数据（下发值）为 6.00；…请恢复为 6.00。' with a closing piece of advice."""
    show = show_money if money else show_value
    changed = "被清空" if is_blank(returned) else f"被改为 {show(returned)}"
    restore = "清空该单元格" if is_blank(issued) else f"恢复为 {show(issued)}"
    return f"{label}{changed}，主数据（下发值）为 {show(issued)}；{label}由主管部门下发，不能修改，请{restore}。{advice}"


def issued_view(sub: Submission, master: Master) -> Submission:
    """The return as the rules should see it: locked values as issued, the unit's entries as returned.

    Every project sheet paired with one of the unit's master projects (:func:`pair_projects`) carries the
    master's 项目编码, 项目名称, 预算数, 财政资金 and 其他资金 (:func:`~jixiao_xl.issued.issued_project`); an
    edit of those cells is reconciliation's X-TAMPER, reported once, and the rules that compare with the
    budget (R-F1, R-F5, R-C1, R-C2, R-F2 …) judge the unit's own entries against what was issued. The
    department sheet's totals are locked formulas over the project sheets: a total that only follows an
    edited cell is read as the issued total. A return of an unknown unit, and a sheet whose project the
    master does not have, are left as returned.
    """
    unit = master.unit(code_text(sub.unit_code)) if sub.readable else None
    if unit is None:
        return sub
    found = pair_projects([(rp.project.code, rp.project.name) for rp in sub.projects], master, unit.code)
    if not found.pairs:
        return sub
    projects = list(sub.projects)
    for k, issued in found.pairs:
        projects[k] = replace(projects[k], project=issued_project(projects[k].project, issued))
    dept = sub.dept
    if dept is not None:
        dept = _issued_totals(dept, sub.projects, projects, master.settings.money_unit)
    return replace(sub, projects=tuple(projects), dept=dept)


def _issued_totals(dept: ReturnedDept, returned: Sequence[ReturnedProject], issued: Sequence[ReturnedProject],
                   money_unit: str) -> ReturnedDept:
    """The department sheet with each shown total that equals the returned projects' sum (a formula that
    followed an edited locked cell) read as the issued projects' sum instead."""
    locations = dict(dept.locations)
    for path, key in LOCKED_DEPT_TOTALS:
        where = locations.get(path)
        if where is None or not where.raw:
            continue
        try:
            shown, _ = parse_money(where.raw, target_unit=money_unit)
        except ValueError:
            continue
        as_returned = sum((getattr(rp.project, key) or Decimal(0) for rp in returned), Decimal(0))
        as_issued = sum((getattr(rp.project, key) or Decimal(0) for rp in issued), Decimal(0))
        if shown is not None and shown == as_returned != as_issued:
            locations[path] = replace(where, raw=format(as_issued, "f"))
    return replace(dept, locations=locations)


def one_finding_per_edit(read: Sequence[Finding], reconciled: Sequence[Finding]) -> list[Finding]:
    """The reading findings without the P-NUMBER/P-FORMULA at a locked cell that X-TAMPER reports: the one
    fix for an edited locked cell is to restore the issued value, not to type a number into it."""
    edited = {(f.sheet, f.cell) for f in reconciled if f.rule == "X-TAMPER" and f.cell}
    return [f for f in read if f.rule not in _SHADOWED_BY_TAMPER or (f.sheet, f.cell) not in edited]


_SHADOWED_BY_TAMPER = frozenset({"P-NUMBER", "P-FORMULA"})
