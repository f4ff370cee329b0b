"""The domain model: frozen dataclasses for a batch of 绩效目标表.

Money is always a :class:`~decimal.Decimal` in the master's 金额单位 (万元 or 元); nothing here is a float.
Every stage of the cycle (master, fill, read, rules, reconcile, consolidate) speaks in these types.

The classes a master holds by the hundred thousand (units, projects, plan points, indicators) have
``__slots__``: a province-sized master is a million of them, and a per-instance ``__dict__`` would double
its memory. :class:`Master` itself keeps its ``__dict__`` for its cached indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any, Callable, Mapping

DEFAULT_PLAN_NODES = ("3月底", "6月底", "10月底", "12月底")
DEFAULT_SPARE_ROWS = 3


def _reduce_to_constructor(self):
    """Pickle a slotted model object as its constructor call with the fields in order.

    Twice as fast to pickle and unpickle as the slot state dataclasses write by default, for what
    crosses between the parent and the worker processes.
    """
    return type(self), tuple(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class Settings:
    """The 设置 sheet of a master: one batch's parameters."""

    year: int
    money_unit: str = "万元"
    framework: str = "2015"
    plan_nodes: tuple[str, ...] = DEFAULT_PLAN_NODES
    weight_total: Decimal | None = None
    spare_rows: int = DEFAULT_SPARE_ROWS
    department_name: str = ""

    @property
    def uses_weights(self) -> bool:
        """True when the batch scores indicators with 权重 (设置: 权重合计 is not blank)."""
        return self.weight_total is not None


@dataclass(frozen=True, slots=True)
class Unit:
    """A budget unit (预算单位) that receives one workbook."""

    code: str
    name: str
    parent_code: str = ""
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Indicator:
    """One 三级 row of an indicator grid.

    ``value`` is a ``Decimal`` for a quantitative operator (≥ ＞ ＝ ＜ ≤) when the value is numeric,
    and the text as written otherwise (定性 values, or a malformed entry the rules will flag).
    """

    level1: str
    level2: str
    name: str
    description: str = ""
    operator: str = ""
    value: Decimal | str | None = None
    unit: str = ""
    basis: str = ""
    weight: Decimal | None = None

    @property
    def is_qualitative(self) -> bool:
        """True for a 定性 indicator."""
        return self.operator == "定性"


@dataclass(frozen=True, slots=True)
class PlanPoint:
    """The cumulative amount planned to be spent by one 支出计划节点 (blank when not filled)."""

    node: str
    amount: Decimal | None


@dataclass(frozen=True, slots=True)
class Project:
    """A project (项目支出) with its funding, spending plan, goal and indicators."""

    unit_code: str
    code: str
    name: str
    budget: Decimal | None
    fiscal: Decimal | None = None
    other: Decimal | None = None
    purpose: str = ""
    annual_goal: str = ""
    plan: tuple[PlanPoint, ...] = ()
    indicators: tuple[Indicator, ...] = ()

    def plan_amount(self, node: str) -> Decimal | None:
        """The cumulative amount planned for ``node``, or None when blank or unknown."""
        for point in self.plan:
            if point.node == node:
                return point.amount
        return None


@dataclass(frozen=True, slots=True)
class DeptGoal:
    """One goal of the 部门整体绩效目标: 序号 0 is the 总体绩效目标, 1.. are the 分项绩效目标."""

    unit_code: str
    seq: int
    name: str
    goal: str


@dataclass(frozen=True, slots=True)
class DeptIndicator:
    """An indicator of a 分项绩效目标 in the 部门整体绩效目标表 (linked by ``seq``).

    ``seq`` is None only for a returned row typed without a 序号: it is kept, with its finding, not dropped.
    """

    unit_code: str
    seq: int | None
    level1: str
    level2: str
    name: str
    operator: str = ""
    value: Decimal | str | None = None
    unit: str = ""
    basis: str = ""


@dataclass(frozen=True, slots=True)
class DeptMeasure:
    """One numbered item of 三、工作保障措施 in the published document: a heading and its paragraph."""

    unit_code: str
    seq: int
    title: str
    text: str = ""


for _slotted in (Settings, Unit, Indicator, PlanPoint, Project, DeptGoal, DeptIndicator, DeptMeasure):
    _slotted.__reduce__ = _reduce_to_constructor
del _slotted


@dataclass(frozen=True)
class Master:
    """A whole master dataset: settings, units, projects and the department-level goals."""

    settings: Settings
    units: tuple[Unit, ...] = ()
    projects: tuple[Project, ...] = ()
    dept_goals: tuple[DeptGoal, ...] = ()
    dept_indicators: tuple[DeptIndicator, ...] = ()
    dept_measures: tuple[DeptMeasure, ...] = ()
    fingerprint: str = field(default="", compare=False)

    def unit(self, code: str) -> Unit | None:
        """The unit with ``code``, or None."""
        return self._units_by_code.get(code)

    def projects_of(self, unit_code: str) -> tuple[Project, ...]:
        """The projects of one unit, in master order."""
        return self._projects_by_unit.get(unit_code, ())

    def projects_with_code(self, code: str) -> tuple[Project, ...]:
        """The projects whose 项目编码 is exactly ``code``, in master order (normally one, or none)."""
        found = self._projects_by_code.get(code)
        if found is None:
            return ()
        return found if isinstance(found, tuple) else (found,)

    def goals_of(self, unit_code: str) -> tuple[DeptGoal, ...]:
        """The department-level goals of one unit, ordered by 序号."""
        return tuple(sorted(self._goals_by_unit.get(unit_code, ()), key=lambda g: g.seq))

    def dept_indicators_of(self, unit_code: str) -> tuple[DeptIndicator, ...]:
        """The department-level indicators of one unit, in master order."""
        return self._dept_indicators_by_unit.get(unit_code, ())

    def measures_of(self, unit_code: str) -> tuple[DeptMeasure, ...]:
        """The 工作保障措施 of one unit, ordered by 序号."""
        return tuple(sorted(self._measures_by_unit.get(unit_code, ()), key=lambda m: m.seq))

    # Indexes, built on first use: a province-sized master has tens of thousands of units, and looking
    # each unit's rows up by scanning would make every stage quadratic.
    @cached_property
    def _units_by_code(self) -> dict[str, Unit]:
        index: dict[str, Unit] = {}
        for unit in self.units:
            index.setdefault(unit.code, unit)
        return index

    @cached_property
    def _projects_by_unit(self) -> dict[str, tuple[Project, ...]]:
        return _group(self.projects)

    @cached_property
    def _projects_by_code(self) -> dict[str, Project | tuple[Project, ...]]:
        # A code held by one project maps to it directly: a province has 100,000 codes, and a tuple for
        # each would cost every process that builds the index several megabytes more.
        index: dict[str, Project | tuple[Project, ...]] = {}
        for project in self.projects:
            held = index.get(project.code)
            if held is None:
                index[project.code] = project
            else:
                index[project.code] = (*held, project) if isinstance(held, tuple) else (held, project)
        return index

    @cached_property
    def _goals_by_unit(self) -> dict[str, tuple[DeptGoal, ...]]:
        return _group(self.dept_goals)

    @cached_property
    def _dept_indicators_by_unit(self) -> dict[str, tuple[DeptIndicator, ...]]:
        return _group(self.dept_indicators)

    @cached_property
    def _measures_by_unit(self) -> dict[str, tuple[DeptMeasure, ...]]:
        return _group(self.dept_measures)

    def unit_budget(self, unit_code: str) -> Decimal:
        """The sum of the unit's project 预算数 (blank budgets count as zero)."""
        return sum((p.budget or Decimal(0) for p in self.projects_of(unit_code)), Decimal(0))


def _group(rows) -> dict:
    """Rows grouped by their ``unit_code``, each group in the original order."""
    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(row.unit_code, []).append(row)
    return {code: tuple(items) for code, items in groups.items()}


@lru_cache(maxsize=None)
def field_names(cls: type) -> tuple[str, ...]:
    """The field names of a dataclass, in declaration order (cached per class)."""
    return tuple(f.name for f in fields(cls))


def to_plain(value: Any, decimal: Callable[[Decimal], Any] = lambda d: d) -> Any:
    """Dataclasses as dicts, mappings as dicts, sequences as lists, Decimals through ``decimal``.

    One pass, without ``dataclasses.asdict``'s deep copies (which dominate on 100,000 projects).
    """
    if isinstance(value, Decimal):
        return decimal(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if is_dataclass(value) and not isinstance(value, type):
        return {name: to_plain(getattr(value, name), decimal) for name in field_names(type(value))}
    if isinstance(value, Mapping):
        return {k: to_plain(v, decimal) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, decimal) for v in value]
    return value
