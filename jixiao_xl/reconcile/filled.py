"""One return: what the unit filled in where the master pre-filled something — the project indicators, the
department's goals and its indicators — reported as information only (domain.md R-G3: approved goals are
generally not adjusted). When the master left a grid empty, filling it is the unit's job, not a change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..findings import Finding
from ..model import DeptGoal, Master, Project, Unit
from ..submission import Location, ReturnedDept, ReturnedProject, Submission
from .codes import NOTE_G3, finding_about
from .compare import BLANK, as_text, canonical_level1, canonical_level2, compact, is_blank, same_field, show_value


_IND_FIELDS = (
    ("level1", "一级指标"), ("level2", "二级指标"), ("name", "三级指标"), ("operator", "指标性质"),
    ("value", "指标值"), ("unit", "度量单位"), ("basis", "指标值确定依据"), ("description", "指标描述"),
    ("weight", "权重"),
)
_FILLED_FIELDS = ("name", "description", "operator", "value", "unit", "basis", "weight")

_Row = tuple[int, Any]


def _is_blank_row(row: object) -> bool:
    """True for an indicator row with nothing filled in but (possibly) its 一级/二级 dropdowns."""
    return all(is_blank(getattr(row, name, None)) for name in _FILLED_FIELDS)


def _row_key(row: object) -> tuple:
    """The pairing key of an indicator row: canonical 一级, canonical 二级, compacted 三级 name."""
    return (canonical_level1(as_text(getattr(row, "level1", ""))),
            canonical_level2(as_text(getattr(row, "level2", ""))), compact(as_text(getattr(row, "name", ""))))


def _pair_rows(issued: list[_Row], returned: list[_Row], key: Callable[[Any], tuple],
               group: Callable[[Any], object]) -> tuple[list[tuple[_Row, _Row]], list[_Row], list[_Row]]:
    """Pair rows by ``key``, then the rest in order of position within the same ``group``.

    Returns (pairs of (issued, returned), returned rows left over = added, issued rows left over = removed).
    """
    free = list(issued)
    pairs, unpaired = [], []
    keys = {id(item): key(item[1]) for item in [*issued, *returned]}  # each row's key once, not once per pair
    for row in returned:
        hit = next((item for item in free if keys[id(item)] == keys[id(row)]), None)
        if hit is None:
            unpaired.append(row)
            continue
        free = [item for item in free if item[0] != hit[0]]
        pairs.append((hit, row))
    added = []
    for row in unpaired:
        hit = next((item for item in free if group(item[1]) == group(row[1])), None)
        if hit is None:
            added.append(row)
            continue
        free = [item for item in free if item[0] != hit[0]]
        pairs.append((hit, row))
    return pairs, added, free


def _changed_fields(before: object, after: object) -> list[tuple[str, str]]:
    """(field name, Chinese label) of each indicator field that differs between two rows."""
    if before == after:  # an untouched pre-filled row: equal fields compare the same under every rule below
        return []
    return [(name, label) for name, label in _IND_FIELDS
            if hasattr(before, name) and not same_field(name, getattr(before, name), getattr(after, name, None))]


def _summary(row: object) -> str:
    """A row in one line: '产出指标/数量指标/名称 ≥30个'."""
    levels = "/".join(as_text(getattr(row, n, "")) for n in ("level1", "level2", "name"))
    operator, value, unit = (as_text(getattr(row, n, "")) for n in ("operator", "value", "unit"))
    target = f"{operator}：{value}" if operator == "定性" else f"{operator}{value}{unit}"
    return f"{levels} {target}".strip()


def _label(row: object) -> str:
    """The name a message uses for an indicator row."""
    return as_text(getattr(row, "name", "")) or BLANK


@dataclass(frozen=True)
class _Grid:
    """How to report on one grid: the rule codes, the path prefix of its rows and how to place findings."""

    changed: str
    added: str
    removed: str
    prefix: str
    where: Callable[[str], Location | None]
    sheet: str
    context: Callable[[Any], str]
    # Where a row that is gone is reported when its own cells are not there any more: the project's 项目编码,
    # or the 分项目标 a department indicator belonged to.
    home: Callable[[Any], Location | None] = lambda row: None


def _grid_findings(sub: Submission, grid: _Grid, issued: Sequence[Any], returned: Sequence[Any], project_code: str,
                   group: Callable[[Any], object]) -> list[Finding]:
    """Changed, added and removed rows of one indicator grid against its pre-filled rows."""
    master_rows = [(k, row) for k, row in enumerate(issued) if not _is_blank_row(row)]
    if not master_rows:
        return []
    returned_rows = [(k, row) for k, row in enumerate(returned) if not _is_blank_row(row)]
    pairs, added, removed = _pair_rows(master_rows, returned_rows, lambda row: (group(row), *_row_key(row)), group)
    findings = []
    for (_, before), (k, after) in sorted(pairs, key=lambda pair: pair[1][0]):
        findings += _row_changes(sub, grid, before, after, k, project_code)
    for k, after in added:
        where = _first_where(grid, k, ("name", "level1", "value"))
        findings.append(finding_about(sub, grid.added, f"{grid.context(after)}新增指标“{_label(after)}”（{_summary(after)}）。"
                                      + NOTE_G3, where, project_code=project_code, field=f"{grid.prefix}{k}",
                                      value=_summary(after)))
    elsewhere: dict[tuple[str, str], list[tuple[int, Any]]] = {}
    for k, before in removed:
        cleared = k < len(returned) and _is_blank_row(returned[k])
        where = _first_where(grid, k, ("name", "level1", "value")) if cleared else None
        if where is None:  # its row is gone: reported at the grid's home, one finding for all rows there
            home = grid.home(before) or _sheet_only(grid)
            elsewhere.setdefault((home.sheet, home.cell), []).append((k, before))
            continue
        findings.append(_removed_finding(sub, grid, [(k, before)], where, project_code))
    for rows in elsewhere.values():
        findings.append(_removed_finding(sub, grid, rows, grid.home(rows[0][1]) or _sheet_only(grid), project_code))
    return findings


def _removed_finding(sub: Submission, grid: _Grid, rows: Sequence[tuple[int, Any]], where: Location,
                     project_code: str) -> Finding:
    """One finding for the pre-filled rows ``rows`` (index, issued row) that were deleted, at ``where``."""
    if len(rows) == 1:
        before = rows[0][1]
        shown = f"“{_label(before)}”已被删除（原为 {_summary(before)}）"
    else:
        shown = "、".join(f"“{_label(before)}”（原为 {_summary(before)}）" for _, before in rows) + "已被删除"
    return finding_about(sub, grid.removed, f"{grid.context(rows[0][1])}下发的预填指标{shown}。" + NOTE_G3, where,
                         project_code=project_code, field=f"{grid.prefix}{rows[0][0]}",
                         expected="；".join(_summary(before) for _, before in rows))


def _row_changes(sub: Submission, grid: _Grid, before: object, after: object, k: int,
                 project_code: str) -> list[Finding]:
    """One finding per changed field of a paired row, with the value before (expected) and after (value)."""
    findings = []
    for name, label in _changed_fields(before, after):
        old, new = getattr(before, name), getattr(after, name, None)
        path = f"{grid.prefix}{k}.{name}"
        message = f"{grid.context(after)}指标“{_label(before)}”的{label}由 {show_value(old)} 改为 {show_value(new)}。"
        findings.append(finding_about(sub, grid.changed, message + NOTE_G3, grid.where(path) or _sheet_only(grid),
                                      project_code=project_code, field=path, value=as_text(new), expected=as_text(old)))
    return findings


def _first_where(grid: _Grid, k: int, names: Sequence[str]) -> Location:
    """The location of the first recorded field of row ``k``, or the grid's sheet."""
    for name in names:
        where = grid.where(f"{grid.prefix}{k}.{name}")
        if where is not None:
            return where
    return _sheet_only(grid)


def _sheet_only(grid: _Grid) -> Location:
    """A location naming only the grid's sheet."""
    return Location(sheet=grid.sheet, cell="", found_by="")


def indicator_findings(sub: Submission, rp: ReturnedProject, issued: Project) -> list[Finding]:
    """X-IND-CHANGED / X-IND-ADDED / X-IND-REMOVED of a project against its pre-filled indicators."""
    grid = _Grid("X-IND-CHANGED", "X-IND-ADDED", "X-IND-REMOVED", "ind", rp.where, rp.sheet, lambda row: "",
                 home=lambda row: rp.where("code"))
    return _grid_findings(sub, grid, issued.indicators, rp.project.indicators, issued.code, group=lambda row: None)


def dept_findings(sub: Submission, master: Master, unit: Unit) -> list[Finding]:
    """X-DEPT-CHANGED for the overall goal, the 分项 goals and their indicators, where the master pre-filled them."""
    dept = sub.dept
    if dept is None:
        return [finding_about(sub, "X-DEPT-MISSING", f"文件中没有“部门整体绩效目标”工作表（单位 {unit.code} 的部门整体支出绩效目标表）；"
                              "请使用下发的表格补回该工作表并填写后重新提交。", None, field="dept")]
    goals = master.goals_of(unit.code)
    findings = _overall_goal_findings(sub, dept, goals)
    findings += _goal_findings(sub, dept, [g for g in goals if g.seq != 0])
    grid = _Grid("X-DEPT-CHANGED", "X-DEPT-CHANGED", "X-DEPT-CHANGED", "dind", dept.where, dept.sheet,
                 lambda row: f"部门整体绩效目标（分项目标 {as_text(getattr(row, 'seq', ''))}）中",
                 home=lambda row: dept.where(f"goal{getattr(row, 'seq', '')}.goal") or dept.where("overall_goal"))
    findings += _grid_findings(sub, grid, master.dept_indicators_of(unit.code), dept.indicators, "",
                               group=lambda row: getattr(row, "seq", None))
    return findings


def _overall_goal_findings(sub: Submission, dept: ReturnedDept, goals: Sequence[DeptGoal]) -> list[Finding]:
    """X-DEPT-CHANGED when the 总体绩效目标 text differs from the pre-filled one."""
    issued = next((g.goal for g in goals if g.seq == 0), "")
    returned = dept.overall_goal or next((g.goal for g in dept.goals if g.seq == 0), "")
    if is_blank(issued) or compact(as_text(issued)) == compact(as_text(returned)):
        return []
    change = "已被清空" if is_blank(returned) else "已修改，与下发内容不同"
    where = dept.where("overall_goal") or Location(dept.sheet, "", "")
    return [finding_about(sub, "X-DEPT-CHANGED", f"部门整体绩效目标中的总体绩效目标{change}。" + NOTE_G3, where,
                          field="overall_goal", value=as_text(returned), expected=as_text(issued))]


def _goal_findings(sub: Submission, dept: ReturnedDept, issued: Sequence[DeptGoal]) -> list[Finding]:
    """X-DEPT-CHANGED for each 分项绩效目标 renamed, rewritten, removed or added (matched by 序号)."""
    if not issued:
        return []
    returned = {g.seq: g for g in dept.goals if g.seq != 0 and not (is_blank(g.name) and is_blank(g.goal))}
    findings = []
    for goal in issued:
        got = returned.pop(goal.seq, None)
        if got is None:
            findings.append(finding_about(sub, "X-DEPT-CHANGED", f"下发的分项绩效目标 {goal.seq}“{goal.name}”已被删除。" + NOTE_G3,
                                          Location(dept.sheet, "", ""), field=f"goal{goal.seq}", expected=goal.name))
            continue
        findings += _goal_changes(sub, dept, goal, got)
    for seq, got in sorted(returned.items()):
        where = dept.where(f"goal{seq}.name") or Location(dept.sheet, "", "")
        findings.append(finding_about(sub, "X-DEPT-CHANGED", f"新增分项绩效目标 {seq}“{as_text(got.name)}”。" + NOTE_G3, where,
                                      field=f"goal{seq}", value=as_text(got.name)))
    return findings


def _goal_changes(sub: Submission, dept: ReturnedDept, issued: DeptGoal, returned: DeptGoal) -> list[Finding]:
    """X-DEPT-CHANGED for the name and the text of one 分项绩效目标."""
    findings = []
    for name, label in (("name", "名称"), ("goal", "目标内容")):
        old, new = getattr(issued, name), getattr(returned, name)
        if compact(as_text(old)) == compact(as_text(new)):
            continue
        path = f"goal{issued.seq}.{name}"
        which = f"分项绩效目标 {issued.seq}" + ("" if name == "name" else f"“{issued.name}”")
        message = f"{which}的{label}由“{show_value(old)}”改为“{show_value(new)}”。" + NOTE_G3
        findings.append(finding_about(sub, "X-DEPT-CHANGED", message, dept.where(path) or Location(dept.sheet, "", ""),
                                      field=path, value=as_text(new), expected=as_text(old)))
    return findings
