"""What rendering one unit's workbook takes and gives: the request, where each bound field was placed, the
render's time budget, and the names of the workbook's sheets."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Mapping

from ..errors import InputError
from ..findings import Finding
from ..meta import META_SHEET
from ..model import Master, Project, Unit
from ..safety import FIXED_DOCUMENT_TIME, sheet_name
from ..xlsx.sheetwriter import cell_ref
from ..submission import GUIDE_SHEET, OtherContent
from ..template import FormSpec
from ..template import defined_name as _defined_name

DEFAULT_PASSWORD = "jixiao"
INPUT_FILL = "FFF2CC"
MARK_FILL = "FF9999"
LISTS_SHEET = "_lists"
DEPT_SHEET = "部门整体绩效目标"


@lru_cache(maxsize=16384)
def defined_name(path: str) -> str:
    """The ``JX_`` defined name of a field path (``p01.budget`` → ``JX_P01_BUDGET``; see template.defined_name).

    Cached: every workbook of a batch binds the same few thousand paths.
    """
    return _defined_name(path)


@dataclass(frozen=True)
class Placement:
    """Where a bound field was written: its path (``p01.budget``), sheet, zero-based cell and name."""

    path: str
    sheet: str
    row: int
    col: int

    @property
    def name(self) -> str:
        """The workbook-scoped defined name of the cell (``JX_P01_BUDGET``)."""
        return defined_name(self.path)

    @property
    def ref(self) -> str:
        """``sheet!A1`` as stored in ``_meta``."""
        return f"{self.sheet}!{cell_ref(self.row, self.col)}"


@dataclass(frozen=True)
class RenderRequest:
    """Everything needed to render one unit's workbook."""

    master: Master
    unit: Unit
    project_spec: FormSpec
    dept_spec: FormSpec
    password: str = DEFAULT_PASSWORD
    generated_at: datetime = FIXED_DOCUMENT_TIME
    deadline: str = ""
    # (项目编码 or "" for the department sheet, Submission location path) -> message; see mark_key().
    marks: Mapping[tuple[str, str], str] = field(default_factory=dict)
    problems: tuple[Finding, ...] = ()
    # Keyed like ``marks``: what the unit returned in a field the master cannot say (填表人, an extra field,
    # a 支出计划 amount that is not a number), written instead of the master's value.
    returned: Mapping[tuple[str, str], object] = field(default_factory=dict)
    # What the unit typed where the form has no field: listed on a 其他填写内容 sheet.
    other_content: tuple[OtherContent, ...] = ()


class RenderRefused(InputError):
    """A workbook that cannot be rendered within its budgets, or from a template cell that is not allowed."""


class RenderBudget:
    """The time one workbook may take to render, checked between cells and rows (see template.guard)."""

    def __init__(self, unit: Unit, seconds: float) -> None:
        self.unit = unit
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def check(self, sheet: str) -> None:
        """Raise :class:`RenderRefused` once the workbook has taken longer than its budget."""
        if time.monotonic() >= self.deadline:
            raise RenderRefused(
                f"单位 {self.unit.code} {self.unit.name} 的工作簿生成超过 {self.seconds:g} 秒仍未完成（进行到工作表 {sheet}），"
                "已停止。请检查模板是否画得过大，以及主数据中该单位的项目和指标是否异常多。")


def sheet_names_for(projects: tuple[Project, ...]) -> list[str]:
    """Unique, valid (≤31 characters) sheet names derived from the projects, in order."""
    used = [GUIDE_SHEET, DEPT_SHEET, LISTS_SHEET, META_SHEET]
    names = []
    for index, project in enumerate(projects, start=1):
        name = sheet_name(f"{index}.{project.name or project.code}", used, fallback=f"{index}")
        used.append(name)
        names.append(name)
    return names
