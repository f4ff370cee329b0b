"""退回修改 workbooks: the unit's form again, filled with what the unit returned, problems marked.

For every unit whose latest return has errors or warnings, the form is rendered anew (same templates,
same protection) from the RETURNED values rather than the master, so the unit corrects its own entries;
only the locked cells hold the issued (master's) values, since the unit cannot edit them.
Cells with an error or warning are filled red and carry a comment with the rule and the message; every
finding of the file (infos and findings without a cell included) is listed on a 问题清单 sheet.
The returned file itself is only read from memory (the Submission), never opened, moved or written.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from . import catalogue
from .safety import FIXED_DOCUMENT_TIME
from .fill import DEFAULT_PASSWORD, RenderRequest, render_unit
from .findings import SEVERITIES, SEVERITY_ZH, Finding
from .generate import unit_file_stem, workbook_name
from .model import DeptGoal, Master, Unit
from .reconcile import issued_view
from .submission import Location, Submission
from .template import FormSpec

SENDBACK_SEVERITIES = frozenset({"error", "warning"})
OVERALL_GOAL_NAME = "总体绩效目标"
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
# Fixed document date: identical returns and findings give byte-identical workbooks.
FIXED_TIME = FIXED_DOCUMENT_TIME


def write_sendbacks(out_dir: Path, master: Master, submissions: Sequence[Submission], findings: Sequence[Finding],
                    project_spec: FormSpec, dept_spec: FormSpec, password: str = DEFAULT_PASSWORD,
                    generated_at: datetime = FIXED_TIME, durable: bool = True) -> list[Path]:
    """Write one 退回修改 workbook per unit whose latest readable return has errors or warnings.

    ``submissions`` are in import order; for a unit that returned several files the last one counts.
    Returns the paths written, in that order. A workbook is never written over a returned file.
    ``durable=False`` leaves flushing them to disk to the caller (:func:`jixiao_xl.safety.flush_to_disk`).
    """
    out_dir = Path(out_dir)
    protected = {_resolved(s.file) for s in submissions if s.file}
    written = []
    for sub in latest_per_unit(submissions):
        unit = master.unit(sub.unit_code)
        mine = findings_of(sub, findings)
        if unit is None or not sub.readable or not needs_sendback(mine):
            continue
        request = RenderRequest(
            master=returned_master(master, unit, sub), unit=unit, project_spec=project_spec, dept_spec=dept_spec,
            password=password, generated_at=generated_at, marks=marks_for(sub, mine),
            problems=tuple(sort_problems(mine)), returned=returned_values(sub), other_content=sub.other_content,
        )
        path = target_path(out_dir, unit, protected)
        render_unit(request, path, durable=durable)
        written.append(path)
    return written


def latest_per_unit(submissions: Iterable[Submission]) -> list[Submission]:
    """The last submission of each known unit code, in order of each unit's first appearance."""
    latest: dict[str, Submission] = {}
    for sub in submissions:
        if sub.unit_code:
            latest[sub.unit_code] = sub
    return list(latest.values())


def findings_of(sub: Submission, findings: Iterable[Finding]) -> list[Finding]:
    """The findings the unit must act on about this submission's file: same file name and, when both are
    known, same sha256; findings meant for the bureau only are left out."""
    return [f for f in findings
            if f.file == sub.file and (not f.sha256 or not sub.sha256 or f.sha256 == sub.sha256)
            and not catalogue.for_bureau_only(f.rule)]


def needs_sendback(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error or a warning (infos alone do not send a form back)."""
    return any(f.severity in SENDBACK_SEVERITIES for f in findings)


def sort_problems(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then infos; the original order within a severity."""
    return sorted(findings, key=lambda f: _SEVERITY_RANK[f.severity])


# ---------------------------------------------------------------------------------------------------------
# The data the workbook is rendered from


def returned_master(master: Master, unit: Unit, sub: Submission) -> Master:
    """A master holding only this unit, with the projects and department goals as the unit returned them.

    Settings (year, money unit, plan nodes, framework...) and the fingerprint stay the master's. A return
    without project sheets, or without the department sheet, falls back to the master for that part. The
    locked cells hold what was issued (:func:`~jixiao_xl.reconcile.issued_view`): the unit cannot edit them,
    so an edited budget comes back as the master's, its X-TAMPER mark beside it. The 工作保障措施 are the
    returned ones when the returned form had their field (even left blank), else the master's.
    """
    sub = issued_view(sub, master)
    projects = tuple(dataclasses.replace(rp.project, unit_code=unit.code) for rp in sub.projects)
    if not projects:
        projects = master.projects_of(unit.code)
    goals, indicators = master.goals_of(unit.code), master.dept_indicators_of(unit.code)
    measures = master.measures_of(unit.code)
    if sub.dept is not None:
        goals = _returned_goals(unit.code, sub.dept.overall_goal, sub.dept.goals)
        indicators = tuple(dataclasses.replace(i, unit_code=unit.code) for i in sub.dept.indicators)
        if sub.dept.where("measures") is not None:
            measures = tuple(dataclasses.replace(m, unit_code=unit.code) for m in sub.dept.measures)
    return dataclasses.replace(master, units=(unit,), projects=projects, dept_goals=goals, dept_indicators=indicators,
                               dept_measures=measures)


def _returned_goals(unit_code: str, overall_goal: str, goals: Sequence[DeptGoal]) -> tuple[DeptGoal, ...]:
    """The returned goals with the 总体绩效目标 as 序号 0 (the form reads it into ``overall_goal``)."""
    overall = overall_goal or next((g.goal for g in goals if g.seq == 0), "")
    result = [dataclasses.replace(g, unit_code=unit_code) for g in goals if g.seq != 0]
    if overall:
        result.insert(0, DeptGoal(unit_code, 0, OVERALL_GOAL_NAME, overall))
    return tuple(result)


def returned_values(sub: Submission) -> dict[tuple[str, str], object]:
    """What the unit returned in the fields a master cannot give back (RenderRequest.returned, keyed like marks).

    The footer (填表人, 联系电话, 填报日期 — the date as ISO when it is one) and the extra fields of every
    sheet, the 工作保障措施 text exactly as typed (the items read from it would renumber it), and the text of a 支出计划 amount or a weight that is not a number, which the returned model holds as
    None and the form would otherwise show blank.
    """
    found: dict[tuple[str, str], object] = {}
    sheets = [(rp.project.code, rp) for rp in sub.projects] + ([("", sub.dept)] if sub.dept is not None else [])
    for code, sheet in sheets:
        for path, where in sheet.locations.items():
            if path.startswith(("footer.", "extra.")) or (code, path) == ("", "measures"):
                found[(code, path)] = where.raw
        if sheet.footer is not None and sheet.footer.date:
            found[(code, "footer.date")] = sheet.footer.date
    for rp in sub.projects:
        project = rp.project
        numbers = {f"plan.{point.node}": point.amount for point in project.plan}
        numbers.update({f"ind{k}.weight": ind.weight for k, ind in enumerate(project.indicators)})
        for path, number in numbers.items():
            where = rp.where(path)
            if number is None and where is not None and where.raw:
                found[(project.code, path)] = where.raw
    return found


# ---------------------------------------------------------------------------------------------------------
# Marks: which rendered cell shows which problem


def normalise_cell(cell: str) -> str:
    """``$F$14``, ``f14:g15`` or ``F14,F16`` → ``F14``: the first cell of a reference, without ``$``, upper case."""
    return cell.split(",")[0].split(":")[0].replace("$", "").strip().upper()


def _path_at(locations: Mapping[str, Location], sheet: str, cell: str) -> str | None:
    """The field path whose location is (sheet, cell), or None."""
    for path, where in locations.items():
        if where.sheet == sheet and normalise_cell(where.cell) == cell:
            return path
    return None


def mark_key(sub: Submission, finding: Finding) -> tuple[str, str] | None:
    """The RenderRequest.marks key of a finding: (项目编码, path), ("", path) for the department sheet, or None.

    A Finding carries sheet and cell, not the field path, so the path is found by looking the cell up in
    the submission's locations: the finding's own project first, then every project, then the department.
    """
    if not finding.cell:
        return None
    cell = normalise_cell(finding.cell)
    projects = sorted(sub.projects, key=lambda rp: rp.project.code != finding.project_code)
    for rp in projects:
        path = _path_at(rp.locations, finding.sheet, cell)
        if path is not None:
            return rp.project.code, path
    if sub.dept is not None:
        path = _path_at(sub.dept.locations, finding.sheet, cell)
        if path is not None:
            return "", path
    return None


def comment_text(finding: Finding) -> str:
    """The comment of a marked cell: ``[规则 R-C1 错误] message`` and what the value should be."""
    text = f"[规则 {finding.rule} {SEVERITY_ZH[finding.severity]}] {finding.message}"
    return text + (f"（应为：{finding.expected}）" if finding.expected else "")


def marks_for(sub: Submission, findings: Iterable[Finding]) -> dict[tuple[str, str], str]:
    """Comments for every cell with an error or warning (several findings on one cell share its comment)."""
    marks: dict[tuple[str, str], list[str]] = {}
    for f in sort_problems(findings):
        if f.severity not in SENDBACK_SEVERITIES:
            continue
        key = mark_key(sub, f)
        if key is not None:
            marks.setdefault(key, []).append(comment_text(f))
    return {key: "\n".join(texts) for key, texts in marks.items()}


# ---------------------------------------------------------------------------------------------------------
# Where the workbook goes


def _resolved(file: str) -> str:
    return os.path.normcase(str(Path(file).resolve()))


def target_path(out_dir: Path, unit: Unit, protected: set[str]) -> Path:
    """``out_dir/<单位>.xlsx``; if that is a returned file (same folder as the inbox), ``…-退回修改.xlsx`` instead."""
    path = out_dir / workbook_name(unit)
    n = 1
    while _resolved(str(path)) in protected:
        suffix = "-退回修改" if n == 1 else f"-退回修改({n})"
        path = out_dir / f"{unit_file_stem(unit)}{suffix}.xlsx"
        n += 1
    return path
