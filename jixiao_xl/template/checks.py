"""The authoring rules of a template (the T- codes) and the checks of its layout, run on the compiled cells.

The compiler (:mod:`.compiler`) turns the sheet into cells; :func:`check_layout` then finds the form's kind,
its repeating indicator row and its plan block, reporting what the authoring rules in xltemplates/README.md
forbid. ``jixiao-xl template check`` lists these findings, each with its template cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import define
from ..findings import Finding
from ..workbook import col_letter
from .guard import cell_syntax
from .spec import (DEPARTMENT_FIELDS, DEPARTMENT_ROW_FIELDS, PLAN_FIELDS, PROJECT_FIELDS, PROJECT_ROW_FIELDS, CellSpec,
                   is_extra)

T_SYNTAX = define("T-SYNTAX", "error", "模板占位符写法有误", "占位符应写成 {{ 字段名 }}，花括号成对出现。", "本工具约定")
T_UNKNOWN = define("T-UNKNOWN-FIELD", "error", "模板引用了不存在的字段", "按 xltemplates/README.md 中的字段表改正字段名。",
                   "本工具约定")
T_NO_ROW = define("T-NO-REPEAT-ROW", "error", "模板缺少指标明细行", "在指标表头下方放一行 {{ ind.level1 }} … 占位符。",
                  "本工具约定")
T_ROWS = define("T-REPEAT-ROWS", "error", "指标明细占位符分布在多行", "同一模板只能有一行明细占位符。", "本工具约定")
T_COVERED = define("T-MERGED-COVERED", "error", "占位符写在合并单元格的被覆盖部分",
                   "把占位符移到合并区域左上角的单元格，或取消合并。", "本工具约定")
T_REPEAT_MERGE = define("T-REPEAT-MERGE", "error", "明细行参与了跨行合并", "明细行的合并只能在同一行内（横向合并）。",
                        "本工具约定")
T_MIXED = define("T-MIXED-KIND", "error", "模板同时含有项目表和部门整体表的字段", "项目表用 ind.*，部门整体表用 goal.*/dind.*，不要混用。",
                 "本工具约定")
T_PLAN = define("T-PLAN", "error", "支出计划占位符有误", "plan.node / plan.amount / plan.percent 应写在同一列、上下相邻的单元格中。",
                "本工具约定")
T_SHEETS = define("T-SHEETS", "warning", "模板有多个工作表", "只使用第一个工作表，其余忽略。", "本工具约定")
T_HEADER = define("T-NO-HEADER", "error", "明细行上方没有表头行", "在明细占位符行的上一行写表头（一级指标、二级指标……）。",
                  "本工具约定")
T_EXTRA_ROW = define("T-EXTRA-IN-ROW", "error", "附加字段写在了指标明细行中",
                     "附加字段 {{ extra.名称 }} 只能写在明细行以外（表头或表尾），每个工作表一个单元格。", "本工具约定")
T_LOCKED_LABEL = define("T-LOCKED-BESIDE-LABEL", "warning", "标签右边是空白单元格，生成后锁定、无法填写",
                        "如需单位填写，在该单元格写 {{ extra.名称 }}（如 {{ extra.项目负责人 }}）；只有写了字段的单元格才可填写。",
                        "本工具约定")
T_REQUIRED = define("T-MISSING-FIELD", "warning", "模板缺少常用字段", "一般应包含该字段，否则生成的表中不会出现，回收时也读不到。",
                    "本工具约定")

# What creates an input cell, said with every unknown field (a person reading it wants to add one).
EXTRA_HINT = ("只有写了字段的单元格才会生成为可填写（浅黄色、未锁定）并在回收时读回；主数据没有的填写项"
              "（如项目负责人、绩效联系人）请写成附加字段 {{ extra.名称 }}，例如 {{ extra.项目负责人 }}。")


def a1(row: int, col: int) -> str:
    """The A1 reference of a zero-based (row, column)."""
    return f"{col_letter(col)}{row + 1}"


def template_finding(rule, path: Path, sheet: str, cell: str, message: str, value: str = "") -> Finding:
    """A finding of ``rule`` about the template file at ``path``."""
    return Finding(rule.code, rule.severity, message, file=str(path), sheet=sheet, cell=cell, value=value)


@dataclass(frozen=True)
class Layout:
    """What :func:`check_layout` found: the form's kind, its repeating row (None when there is none) and plan block."""

    kind: str
    repeat_row: int | None
    plan_cell: tuple[int, int] | None
    plan_span: int


def check_layout(cells: list[CellSpec], merges, path: Path, sheet: str, findings: list[Finding]) -> Layout:
    """Find the kind, the repeating row and the plan block of the compiled ``cells``; add what is wrong to ``findings``."""
    kind = _kind(cells, path, sheet, findings)
    row_fields = PROJECT_ROW_FIELDS if kind == "project" else DEPARTMENT_ROW_FIELDS
    allowed = (PROJECT_FIELDS | PLAN_FIELDS if kind == "project" else DEPARTMENT_FIELDS) | row_fields
    _check_fields(cells, allowed, path, sheet, findings)
    repeat_row = _repeat_row(cells, row_fields, path, sheet, findings)
    if repeat_row is not None:
        _check_repeat(merges, repeat_row, path, sheet, findings)
        _check_extras(cells, repeat_row, path, sheet, findings)
        _check_locked_labels(cells, merges, repeat_row, path, sheet, findings)
    plan_cell, plan_span = _plan_block(cells, kind, path, sheet, findings)
    _check_required(cells, kind, path, sheet, findings)
    return Layout(kind, repeat_row, plan_cell, plan_span)


def _placeholders(cell: CellSpec) -> tuple[str, ...]:
    """The field names of a cell's well-formed placeholders (the others are reported by the compiler)."""
    return cell_syntax(cell.text).names


def _kind(cells, path: Path, sheet: str, findings: list[Finding]) -> str:
    names = {p for c in cells for p in _placeholders(c)}
    is_project = any(n.startswith(("ind.", "plan.", "project.")) for n in names)
    is_dept = any(n.startswith(("dind.", "goal.", "dept.")) for n in names)
    if is_project and is_dept:
        findings.append(template_finding(T_MIXED, path, sheet, "",
                                         "模板里既有项目表字段（ind./project.），又有部门整体表字段（dind./goal.）。"))
    return "department" if is_dept and not is_project else "project"


def _check_fields(cells, allowed, path: Path, sheet: str, findings: list[Finding]) -> None:
    for cell in cells:
        for name in _placeholders(cell):
            ref = a1(cell.row, cell.col)
            if is_extra(name):
                continue
            if name not in allowed:
                hint = _closest(name, allowed)
                findings.append(template_finding(T_UNKNOWN, path, sheet, ref, f"{ref} 引用了未知字段 “{name}”{hint}。"
                                                 f"{EXTRA_HINT}", name))


def _check_extras(cells, repeat_row: int, path: Path, sheet: str, findings: list[Finding]) -> None:
    """T-EXTRA-IN-ROW: an extra field repeats with the indicator rows, which nothing could read back."""
    for cell in cells:
        if cell.row == repeat_row and is_extra(cell.field):
            ref = a1(cell.row, cell.col)
            findings.append(template_finding(T_EXTRA_ROW, path, sheet, ref, f"{ref} 的附加字段 “{cell.field}” 写在指标明细行中；"
                                             "请移到明细行以外的单元格。", cell.field))


def _check_locked_labels(cells, merges, repeat_row: int, path: Path, sheet: str, findings: list[Finding]) -> None:
    """T-LOCKED-BESIDE-LABEL: a label outside the grid whose right-hand cell is blank and holds no field.

    Such a cell is generated locked and white: whoever drew it meant it to be filled in.
    """
    occupied = {(c.row, c.col) for c in cells if c.text or c.is_placeholder}
    merge_end = {(r1, c1): c2 for r1, c1, _r2, c2 in merges}
    covered = {(r, c) for r1, c1, r2, c2 in merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
               if (r, c) != (r1, c1)}
    width = max((c.col for c in cells if c.text or c.is_placeholder), default=0)
    for cell in cells:
        if not cell.text or cell.is_placeholder or cell.row in (repeat_row, repeat_row - 1) or cell.row == 0:
            continue
        right = (cell.row, merge_end.get((cell.row, cell.col), cell.col) + 1)
        if right[1] > width or right in occupied or right in covered or not _looks_like_label(cell.text):
            continue
        ref, label = a1(*right), cell.text.strip()
        findings.append(template_finding(T_LOCKED_LABEL, path, sheet, ref,
                                         f"“{label}”右边的 {ref} 是空白单元格，没有写字段，生成后会被锁定、单位无法填写；"
                                         f"如需单位填写，请在 {ref} 写 {{{{ extra.{_extra_name(label)} }}}}。", label))


def _looks_like_label(text: str) -> bool:
    """A short caption (项目负责人, 联系电话：), not a sentence or a note."""
    text = text.strip().rstrip(":：")
    return 0 < len(text) <= 12 and not any(mark in text for mark in "，。；、（(")


def _extra_name(label: str) -> str:
    return re.sub(r"[\s.{}'\"：:]", "", label) or "名称"


def _closest(name: str, allowed) -> str:
    import difflib

    match = difflib.get_close_matches(name, sorted(allowed), n=1)
    return f"，是否应为 “{match[0]}”" if match else ""


def _repeat_row(cells, row_fields, path: Path, sheet: str, findings: list[Finding]) -> int | None:
    rows = sorted({c.row for c in cells for name in _placeholders(c) if name in row_fields})
    if not rows:
        example = "{{ ind.name }}" if "ind.name" in row_fields else "{{ dind.name }}"
        findings.append(template_finding(T_NO_ROW, path, sheet, "", f"模板中没有指标明细行（例如 {example}）。"))
        return None
    if len(rows) > 1:
        refs = "、".join(str(r + 1) for r in rows)
        findings.append(template_finding(T_ROWS, path, sheet, "", f"指标明细占位符出现在第 {refs} 行，只能在同一行。"))
    if rows[0] == 0 or not any(c.row == rows[0] - 1 and c.text and not c.is_placeholder for c in cells):
        findings.append(template_finding(T_HEADER, path, sheet, a1(rows[0], 0), "明细行上一行应为表头（一级指标、二级指标……）。"))
    return rows[0]


def _check_repeat(merges, repeat_row: int, path: Path, sheet: str, findings: list[Finding]) -> None:
    for r1, c1, r2, c2 in merges:
        if r1 <= repeat_row <= r2 and r1 != r2:
            ref = f"{a1(r1, c1)}:{a1(r2, c2)}"
            findings.append(template_finding(T_REPEAT_MERGE, path, sheet, ref, f"合并区域 {ref} 跨越了明细行，生成时无法逐行复制。"))


def _plan_block(cells, kind: str, path: Path, sheet: str, findings: list[Finding]):
    plan = {c.field: (c.row, c.col) for c in cells if c.field in PLAN_FIELDS}
    if kind != "project":
        return None, 0
    if "plan.amount" not in plan:
        findings.append(template_finding(T_PLAN, path, sheet, "",
                                         "模板中没有 {{ plan.amount }}（资金支出计划金额），无法填写支出计划。"))
        return None, 0
    row, col = plan["plan.amount"]
    expected = {"plan.node": (row - 1, col), "plan.percent": (row + 1, col)}
    for name, place in expected.items():
        if name in plan and plan[name] != place:
            findings.append(template_finding(T_PLAN, path, sheet, a1(*plan[name]),
                                             f"{name} 应写在 {a1(*place)}（与 plan.amount 同列相邻）。"))
    return (row, col), _plan_span(cells, row, col)


def _plan_span(cells, row: int, col: int) -> int:
    """How many columns the plan block may use: up to the next occupied cell to the right."""
    rows = {row - 1, row, row + 1}
    blockers = [c.col for c in cells if c.row in rows and c.col > col and (c.text or c.is_placeholder)]
    return (min(blockers) if blockers else col + 12) - col


def _check_required(cells, kind: str, path: Path, sheet: str, findings: list[Finding]) -> None:
    present = {c.field for c in cells if c.field}
    wanted = ("project.code", "project.name", "project.budget") if kind == "project" else ("unit.name",)
    for name in wanted:
        if name not in present:
            findings.append(template_finding(T_REQUIRED, path, sheet, "",
                                             f"模板没有字段 {name}：生成的表里不会显示它，回收时也无法核对。"))
