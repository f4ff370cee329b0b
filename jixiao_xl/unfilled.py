"""Issued workbooks returned unfilled: recognised, reported to the bureau, never taken for a submission.

A bureau's inbox often holds the blank forms it sent out (a reply that forwarded the attachment back, the
issued folder copied in by mistake). Such a file is one of two things: the very bytes that were issued
(its sha256 is in the ledger's issued table or in manifest.csv), or a copy opened and saved again in which
no cell differs from what ``generate`` wrote from the master for that unit (projects' 资金用途,
年度目标, 支出计划 and indicators; the department sheet's goals, indicators and 工作保障措施 text; the 填表人
footer; and the
locked 项目名称 and amounts, so that a tampered return stays a return). Either
way it is recorded in the ledger as received, marked ``blank``, and never counts (:mod:`.counting`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Iterable

from .catalogue import define
from .findings import Finding
from .generate import read_manifest
from .measures import measures_text
from .model import DeptGoal, DeptIndicator, Indicator, Master, Project, Unit
from .submission import ReturnedDept, ReturnedProject, Submission

RULE_BLANK = define(
    "X-BLANK", "warning", "报回的是未填写的下发表，不算报送",
    "这份文件与下发的空白表相同（或没有改动任何填报内容），不计入报送、汇总和退回修改；请确认单位是否发错了附件，"
    "必要时请单位填写后重新报送。", "本工具约定", audience="bureau")

SAME_BYTES = "与下发的文件逐字节相同"
NO_INPUT_CHANGED = "所有填报单元格与下发时预填的内容相同"

_INDICATOR_CONTENT = ("name", "description", "operator", "value", "unit", "basis", "weight")
_FOOTER = ("footer.filler", "footer.phone", "footer.date")


def manifest_units(path: Path | None) -> dict[str, str]:
    """sha256 → 单位编码 of every workbook a manifest.csv lists (empty when there is none)."""
    if path is None:
        return {}
    return {str(row.get("sha256") or "").strip().lower(): str(row.get("单位编码") or "").strip()
            for row in read_manifest(Path(path)) if str(row.get("sha256") or "").strip()}


def blank_finding(file: str, sha256: str, unit_code: str, how: str) -> Finding:
    """The bureau's finding for an unfilled issued workbook (``how``: :data:`SAME_BYTES` or
    :data:`NO_INPUT_CHANGED`)."""
    who = f"单位 {unit_code} " if unit_code else ""
    return Finding(RULE_BLANK.code, RULE_BLANK.severity,
                   f"这是下发给{who}的空白表，未填写（{how}），不算报送：不计入报送次数和汇总，也不替代该单位已有的报送。"
                   "请确认单位是否发错了附件。", file=file, sha256=sha256, unit_code=unit_code)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(value: object) -> object:
    """A value as compared: Decimals by amount (30 == 30.00), everything else as trimmed text."""
    if isinstance(value, Decimal):
        return value.normalize() if value.is_finite() else str(value)
    return _text(value)


def _indicators(indicators: Iterable[Indicator | DeptIndicator]) -> list[tuple]:
    """The filled indicator rows as compared (rows with only 一级/二级 — the skeleton — are left out)."""
    rows = []
    for i in indicators:
        content = tuple(_number(getattr(i, name, None)) for name in _INDICATOR_CONTENT)
        if any(part != "" for part in content):
            rows.append((_text(i.level1), _text(i.level2), *content))
    return rows


def _plan(project: Project) -> dict[str, object]:
    return {point.node: _number(point.amount) for point in project.plan if point.amount is not None}


def _footer_untouched(locations, unit: Unit) -> bool:
    issued = {"footer.filler": _text(unit.contact), "footer.phone": _text(unit.phone), "footer.date": ""}
    return all(_text(locations[path].raw) == issued[path] for path in _FOOTER if path in locations)


def _project_untouched(returned: ReturnedProject, issued: Project | None, unit: Unit) -> bool:
    if issued is None:
        return False
    mine = returned.project
    locked = ("name", "budget", "fiscal", "other")  # an edited locked cell is a return (with X-TAMPER), not a blank
    if any(_number(getattr(mine, name)) != _number(getattr(issued, name)) for name in locked):
        return False
    return (_text(mine.purpose) == _text(issued.purpose) and _text(mine.annual_goal) == _text(issued.annual_goal)
            and _plan(mine) == _plan(issued) and _indicators(mine.indicators) == _indicators(issued.indicators)
            and _footer_untouched(returned.locations, unit) and not _typed_extras(returned.extras))


def _goals(goals: Iterable[DeptGoal]) -> list[tuple[str, str]]:
    return [(_text(g.name), _text(g.goal)) for g in goals if g.seq != 0 and (_text(g.name) or _text(g.goal))]


def _dept_untouched(returned: ReturnedDept, master: Master, unit: Unit) -> bool:
    goals = master.goals_of(unit.code)
    overall = next((g.goal for g in goals if g.seq == 0), "")
    returned_overall = returned.overall_goal or next((g.goal for g in returned.goals if g.seq == 0), "")
    return (_text(returned_overall) == _text(overall) and _goals(returned.goals) == _goals(goals)
            and _indicators(returned.indicators) == _indicators(master.dept_indicators_of(unit.code))
            and _measures_untouched(returned, master, unit)
            and _footer_untouched(returned.locations, unit) and not _typed_extras(returned.extras))


def _measures_untouched(returned: ReturnedDept, master: Master, unit: Unit) -> bool:
    """True when the 工作保障措施 text reads as generate wrote it (line by line), or the form has no such field."""
    where = returned.where("measures")
    if where is None:
        return True
    return _lines(where.raw) == _lines(measures_text(master.measures_of(unit.code)))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _typed_extras(extras) -> bool:
    """True when any of the template's extra fields ({{ extra.名称 }}, issued empty) holds text."""
    return any(_text(value) for value in (extras or {}).values())


def is_unfilled(sub: Submission, master: Master) -> bool:
    """True when a readable return of a known unit differs from what was issued to it in no input cell, and
    nothing was typed where the form has no field either (that content would be lost with the blank)."""
    unit = master.unit(sub.unit_code) if sub.unit_code else None
    if unit is None or not sub.readable or sub.other_content:
        return False
    issued = {p.code: p for p in master.projects_of(unit.code)}
    if not all(_project_untouched(rp, issued.get(rp.project.code), unit) for rp in sub.projects):
        return False
    return sub.dept is None or _dept_untouched(sub.dept, master, unit)
