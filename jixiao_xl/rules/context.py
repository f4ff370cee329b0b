"""Where a rule's finding goes: the sheet under check, the cell each value was read from, and the Chinese
name of the field, so that every finding names the cell a person has to change.

:class:`CheckedSheet` is the context every check receives: the batch's :class:`~.config.RuleConfig`, the
locations and notes of one returned sheet (or of the master's rows, see :mod:`jixiao_xl.precheck`) and
whom the findings belong to. :func:`cell_span` writes several cells as one A1 reference (``I11:I17``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from ..findings import Finding
from ..submission import Location, locate
from .config import RuleConfig

if TYPE_CHECKING:
    from .rows import IndicatorRow

INDICATOR_FIELD_NAMES = {
    "level1": "一级指标", "level2": "二级指标", "name": "三级指标", "description": "绩效指标描述",
    "operator": "指标性质", "value": "指标值", "unit": "度量单位", "basis": "指标值确定依据", "weight": "权重",
}
_SHEET_FIELDS = {
    "code": "项目编码", "name": "项目名称", "budget": "预算数", "fiscal": "财政资金", "other": "其他资金",
    "purpose": "预算规模及资金用途", "annual_goal": "年度绩效目标", "overall_goal": "总体绩效目标",
    "unit.budget": "项目预算合计", "unit.fiscal": "财政资金合计", "unit.other": "其他资金合计",
}
_ROW_PATH = re.compile(r"^d?ind\d+\.(?P<field>\w+)$")
_GOAL_PATH = re.compile(r"^goal\d+\.(?P<field>name|goal)$")


def column_name(path: str) -> str:
    """The Chinese column name of a location path (``ind3.value`` → 指标值, ``plan.12月底`` → 支出计划-12月底)."""
    if match := _ROW_PATH.match(path):
        return INDICATOR_FIELD_NAMES.get(match["field"], match["field"])
    if match := _GOAL_PATH.match(path):
        return "分项名称" if match["field"] == "name" else "分项绩效目标"
    if path.startswith("plan."):
        return f"支出计划-{path[5:]}"
    return _SHEET_FIELDS.get(path, path)


_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def cell_span(cells: Iterable[str]) -> str:
    """Cells as one A1 reference: runs of adjacent rows in a column joined (``I11``, ``I12``, ``I13``, ``I15`` →
    ``I11:I13,I15``); a reference that is not a plain cell is kept as it is."""
    columns: dict[str, list[int]] = {}
    odd: list[str] = []
    for cell in cells:
        match = _A1.match(cell.upper())
        if match:
            columns.setdefault(match[1], []).append(int(match[2]))
        elif cell not in odd:
            odd.append(cell)
    parts: list[str] = []
    for column, rows in columns.items():
        rows = sorted(set(rows))
        start = previous = rows[0]
        for row in rows[1:] + [None]:
            if row is not None and row == previous + 1:
                previous = row
                continue
            parts.append(f"{column}{start}" if start == previous else f"{column}{start}:{column}{previous}")
            if row is not None:
                start = previous = row
    return ",".join(parts + odd)


@dataclass(frozen=True)
class CheckedSheet:
    """One sheet under check: where its values were read, its notes, and whom its findings belong to."""

    config: RuleConfig
    sheet: str
    locations: Mapping[str, Location]
    notes: Mapping[str, tuple[str, ...]]
    project_code: str = ""
    unit_code: str = ""
    budget: Decimal | None = None

    def finding(self, code: str, message: str, path: str = "", *, value: str = "", expected: str = "",
                field_name: str = "", severity: str | None = None, over: Sequence[str] = ()) -> Finding:
        """A finding of rule ``code`` located at ``path``, or, for a finding about several cells (a total,
        a share), at the cells of the paths ``over`` (``I11:I17``); the sheet only when none was found."""
        where = self.locations.get(path) if path else self.span(over)
        fields = {
            "rule": code, "severity": self.config.severity(code, severity), "message": message,
            "unit_code": self.unit_code, "project_code": self.project_code, "sheet": self.sheet,
            "field": field_name or column_name(path), "expected": expected,
            "value": where.raw if where is not None and where.raw else value,
        }
        return Finding(**locate(fields, where))

    def span(self, paths: Iterable[str]) -> Location | None:
        """The cells of ``paths`` as one reference (``I11:I17``, ``J2:J4,J9``) on the sheet of the first."""
        found = [where for path in paths if (where := self.locations.get(path)) is not None and where.cell]
        if not found:
            return None
        cells = [where.cell for where in found if where.sheet == found[0].sheet]
        return replace(found[0], cell=cell_span(cells), raw="")

    def at(self, code: str, row: "IndicatorRow", field_key: str, message: str, expected: str = "",
           severity: str | None = None) -> Finding:
        """A finding at one cell of an indicator row."""
        return self.finding(code, message, row.path(field_key), value=row.text(field_key), expected=expected,
                            severity=severity)

