"""What every check report shows in the same order and words: findings sorted, files and units named, 概览's rows.

Findings appear in one stable order everywhere (unit, file, project, severity, sheet, cell), so identical
inputs give byte-identical reports; report.xlsx (:mod:`.excel`) and report.html (:mod:`.html`) both build on
the groupings here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .. import catalogue
from ..findings import SEVERITIES, Finding, count_by_severity
from ..model import Master
from ..submission import Submission

_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

STATUS_UNREAD = "无法读取"
STATUS_ERRORS = "有错误，需退回修改"
STATUS_WARNINGS = "有警告，需退回修改"
STATUS_OK = "通过"
STATUS_MISSING = "未报送"
STATUS_BLANK = "未填写的下发表，不算报送"
BLANK_RULE = "X-BLANK"
UNITS_TITLE = "各单位当前状态（与 jixiao-xl status 一致）"
FILES_TITLE = "本次核对的文件"


@dataclass(frozen=True)
class OverviewRow:
    """One line of the 概览: a returned file (or an outstanding unit) with its finding counts."""

    unit_code: str
    unit_name: str
    file: str
    status: str
    errors: int = 0
    warnings: int = 0
    infos: int = 0


def cell_order(cell: str) -> tuple[int, int, str]:
    """Sort key of an A1 reference: row first, then column (``F9`` before ``F14``); odd text sorts last."""
    match = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", cell.split(",")[0].split(":")[0].strip())
    if not match:
        return (1 << 30, 0, cell)
    col = 0
    for char in match.group(1).upper():
        col = col * 26 + ord(char) - 64
    return (int(match.group(2)), col, "")


def _finding_key(f: Finding) -> tuple:
    return (f.unit_code == "", f.unit_code, f.file, f.project_code, _SEVERITY_RANK[f.severity], f.sheet,
            cell_order(f.cell), f.rule, f.field, f.message)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in report order: by unit, file, project, severity, sheet and cell (unknown unit last)."""
    return sorted(findings, key=_finding_key)


def rule_of(code: str) -> catalogue.Rule | None:
    """The catalogue entry of a rule code, or None for a code nobody registered."""
    try:
        return catalogue.get(code)
    except KeyError:
        return None


def rule_title(code: str) -> str:
    """The Chinese title of a rule code (a placeholder when the code is not in the catalogue)."""
    rule = rule_of(code)
    return rule.title if rule is not None else "（规则目录中没有此代码）"


def unit_names(submissions: Sequence[Submission], master: Master | None) -> dict[str, str]:
    """单位编码 → 单位名称: the master's name, else the name read from the returned file."""
    names = {s.unit_code: s.unit_name for s in submissions if s.unit_code and s.unit_name}
    if master is not None:
        names.update({u.code: u.name for u in master.units})
    return names


def project_names(submissions: Sequence[Submission], master: Master | None) -> dict[str, str]:
    """项目编码 → 项目名称: the master's name, else the name read from a returned file."""
    names = {rp.project.code: rp.project.name for s in submissions for rp in s.projects if rp.project.code}
    if master is not None:
        names.update({p.code: p.name for p in master.projects})
    return names


def _status(sub: Submission | None, counts: dict[str, int], blank: bool = False) -> str:
    if blank:
        return STATUS_BLANK
    if sub is not None and not sub.readable:
        return STATUS_UNREAD
    if counts["error"]:
        return STATUS_ERRORS
    if counts["warning"]:
        return STATUS_WARNINGS
    return STATUS_OK


def overview_rows(findings: Sequence[Finding], submissions: Sequence[Submission],
                  master: Master | None, outstanding: bool = True) -> list[OverviewRow]:
    """One row per returned file (and per file only findings mention), plus — with ``outstanding`` — the
    master's units that sent no file in this run."""
    by_file = {s.file: s for s in submissions}
    groups: dict[tuple[str, str], list[Finding]] = {(s.unit_code, s.file): [] for s in submissions}
    for f in findings:
        sub = by_file.get(f.file)
        key = (sub.unit_code, sub.file) if sub is not None else (f.unit_code, f.file)
        groups.setdefault(key, []).append(f)
    names = unit_names(submissions, master)
    rows = []
    for (code, file), mine in groups.items():
        counts = count_by_severity(mine)
        blank = any(f.rule == BLANK_RULE for f in mine)
        rows.append(OverviewRow(code, names.get(code, ""), file, _status(by_file.get(file), counts, blank),
                                counts["error"], counts["warning"], counts["info"]))
    returned = {code for code, _ in groups}
    if master is not None and outstanding:
        rows += [OverviewRow(u.code, u.name, "", STATUS_MISSING) for u in master.units if u.code not in returned]
    return sorted(rows, key=lambda r: (r.unit_code == "", r.unit_code, r.file))



def findings_by_unit(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    """Findings grouped by 单位编码 in report order; the empty code (unit unknown) comes last."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.unit_code, []).append(f)
    return dict(sorted(groups.items(), key=lambda item: (item[0] == "", item[0])))
