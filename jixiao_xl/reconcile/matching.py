"""One return: which returned sheet is which of the unit's master projects (:func:`pair_projects`, the one
pairing used by reconciliation, by the rules' view of the locked values and by consolidation), and the
sheets that are missing, extra or duplicated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..findings import Finding
from ..model import Master, Project, Unit
from ..submission import Location, ReturnedProject, Submission
from .codes import finding_about, unit_label
from .compare import BLANK, as_text, code_text, compact


@dataclass
class SheetMatching:
    """Returned project sheets paired with the unit's master projects."""

    pairs: list[tuple[ReturnedProject, Project]] = field(default_factory=list)
    duplicates: list[tuple[ReturnedProject, ReturnedProject]] = field(default_factory=list)
    extra: list[ReturnedProject] = field(default_factory=list)
    missing: list[Project] = field(default_factory=list)


@dataclass
class ProjectPairing:
    """Returned projects (by position) paired with the unit's master projects; see :func:`pair_projects`."""

    pairs: list[tuple[int, Project]] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (position, position of the first)
    extra: list[int] = field(default_factory=list)
    missing: list[Project] = field(default_factory=list)


def pair_projects(returned: Sequence[tuple[object, object]], master: Master, unit_code: str) -> ProjectPairing:
    """Pair returned (项目编码, 项目名称) with the unit's master projects: by code first, then by name.

    A code seen a second time is a duplicate and takes no part in pairing. Name pairing is only tried for a
    code the master does not know: a code of another unit's project means the sheet belongs to that unit.
    The one pairing used by reconciliation, by the rules' view of the locked values and by consolidation.
    """
    result = ProjectPairing()
    issued = list(master.projects_of(unit_code))
    free = list(range(len(issued)))
    first: dict[str, int] = {}
    unpaired = []
    for k, (raw_code, _name) in enumerate(returned):
        code = code_text(raw_code)
        if code and code in first:
            result.duplicates.append((k, first[code]))
            continue
        if code:
            first[code] = k
        hit = next((i for i in free if code and issued[i].code == code), None)
        if hit is None:
            unpaired.append(k)
            continue
        free.remove(hit)
        result.pairs.append((k, issued[hit]))
    for k in unpaired:
        raw_code, raw_name = returned[k]
        name = compact(as_text(raw_name))
        hit = None
        if not _known_code(master, code_text(raw_code)) and name:
            hit = next((i for i in free if compact(issued[i].name) == name), None)
        if hit is None:
            result.extra.append(k)
            continue
        free.remove(hit)
        result.pairs.append((k, issued[hit]))
    result.missing = [issued[i] for i in free]
    return result


def match_projects(sub: Submission, master: Master, unit: Unit) -> SheetMatching:
    """The return's project sheets paired with the unit's master projects (:func:`pair_projects`)."""
    found = pair_projects([(rp.project.code, rp.project.name) for rp in sub.projects], master, unit.code)
    sheets = sub.projects
    return SheetMatching(pairs=[(sheets[k], issued) for k, issued in found.pairs],
                     duplicates=[(sheets[k], sheets[first]) for k, first in found.duplicates],
                     extra=[sheets[k] for k in found.extra], missing=found.missing)


def _known_code(master: Master, code: str) -> bool:
    """True when some master project has this (non-blank) 项目编码."""
    return owner_of(master, code) is not None


def owner_of(master: Master, code: str) -> Project | None:
    """The first master project with this (non-blank) 项目编码, or None."""
    held = master.projects_with_code(code) if code else ()
    return held[0] if held else None


def project_where(rp: ReturnedProject, *paths: str) -> Location:
    """The first recorded location among ``paths``, or the project's sheet without a cell."""
    for path in paths:
        where = rp.where(path)
        if where is not None:
            return where
    return Location(sheet=rp.sheet, cell="", found_by="")


def sheet_findings(sub: Submission, master: Master, unit: Unit, matching: SheetMatching) -> list[Finding]:
    """X-PROJECT-DUP, X-PROJECT-EXTRA and X-PROJECT-MISSING: the sheets of the return that pair with none of the
    unit's projects, and the unit's projects that have no sheet."""
    findings = [_duplicate_finding(sub, rp, first) for rp, first in matching.duplicates]
    findings += [_extra_finding(sub, master, unit, rp) for rp in matching.extra]
    findings += [_missing_finding(sub, issued) for issued in matching.missing]
    return findings


def _duplicate_finding(sub: Submission, rp: ReturnedProject, first: ReturnedProject) -> Finding:
    """X-PROJECT-DUP for a sheet whose 项目编码 an earlier sheet of the same file already has."""
    code = code_text(rp.project.code)
    return finding_about(sub, "X-PROJECT-DUP",
                         f"项目编码 {code} 在本文件中出现了多次（工作表“{first.sheet}”和“{rp.sheet}”）；每个项目只能填一张表，"
                         "请删除重复的工作表。", project_where(rp, "code"), project_code=code, field="code", value=code)


def _extra_finding(sub: Submission, master: Master, unit: Unit, rp: ReturnedProject) -> Finding:
    """X-PROJECT-EXTRA for a sheet whose project is not the unit's (saying whose it is, when known)."""
    code = code_text(rp.project.code)
    name = as_text(rp.project.name)
    owner = owner_of(master, code)
    shown = f"项目“{name}”（编码 {code or BLANK}）"
    if owner is not None and owner.unit_code != unit.code:
        message = (f"{shown}在主数据中属于单位{unit_label(master, owner.unit_code)}，不是本单位"
                   f"{unit_label(master, unit.code)}的项目；请从本表删除该工作表，由所属单位填报。")
        expected = owner.unit_code
    else:
        message = f"{shown}不在本单位的主数据中；本表格只能填报下发的项目，请删除该工作表。如需新增项目，请联系主管部门。"
        expected = ""
    return finding_about(sub, "X-PROJECT-EXTRA", message, project_where(rp, "code", "name"), project_code=code,
                         field="code", value=code, expected=expected)


def _missing_finding(sub: Submission, issued: Project) -> Finding:
    """X-PROJECT-MISSING for a master project of the unit that has no sheet in the return."""
    return finding_about(sub, "X-PROJECT-MISSING",
                         f"缺少项目“{issued.name}”（编码 {issued.code or BLANK}）的工作表；请使用下发的表格补回该项目的工作表，"
                         "不要删除或改名工作表。", project_code=issued.code, field="code", expected=issued.code)
