"""What consolidation counts and produces: exact Decimal arithmetic, the figures of a unit and its
projects, the tables and the :class:`Consolidation` that holds them.

Every amount is a :class:`~decimal.Decimal` and every total is an exact Decimal sum (:func:`exact_sum`
refuses to round). A project's numbers are kept in 明细's order — 预算数, 财政资金, 其他资金, then one per
支出计划节点 — each with the cell it was read from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import (MAX_PREC, ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact, InvalidOperation,
                     Overflow, Rounded)
from functools import cached_property, lru_cache, partial, reduce
from operator import is_not
from typing import Iterable, Mapping

from .. import catalogue
from ..counting import unit_state
from ..findings import Finding
from ..digest import ExtraFields, IndicatorTally

MASTER_ORIGIN = "主数据（未报送）"
MASTER_SOURCE = "主数据"
RETURN_ORIGIN = "报送"
TOTAL_LABEL = "合计"
FORMATS = ("xlsx", "csv", "json")

_SOURCE = "本工具约定"
RULE_TOTAL_MISMATCH = catalogue.define(
    "L-TOTAL-MISMATCH", "error", "报送的预算数合计与主数据不一致",
    "核对该单位各项目的预算数，按主数据改正后重新报送，或先更正主数据", _SOURCE)
RULE_UNKNOWN_UNIT = catalogue.define(
    "L-UNKNOWN-UNIT", "warning", "台账中有主数据没有的单位",
    "确认单位编码是否填错；如确属新单位，先把它加入主数据的“单位”表", _SOURCE)

SUMMARY, PLAN, INDICATORS, DETAIL, CHECKS = "总表", "支出计划", "绩效指标", "明细", "核对"
SHEETS = (SUMMARY, PLAN, INDICATORS, DETAIL, CHECKS)
SUMMARY_CHART, PLAN_CHART = "图表-各单位预算数", "图表-累计支出计划"
HEADER_LINES = 2  # lines a column header may wrap over
UNKNOWN_CELL = "（位置未知）"  # 明细: a returned value whose cell the reader did not record
MASTER_CELL = "—"  # 明细: a master value has no cell
PLAN_START = 3  # ProjectFigures.numbers: 预算数, 财政资金, 其他资金, then the plan
DETAIL_FIRST_NUMBER = 8  # 明细: the column of 预算数


# ---------------------------------------------------------------------------------------------------------
# Exact arithmetic


# Contexts used through their methods: cheaper than entering a local context for every sum.
_EXACT = Context(prec=MAX_PREC, traps=[Inexact, Rounded, InvalidOperation, DivisionByZero, Overflow])
_PERCENT = Context(prec=60)
_CENT = Decimal("0.01")
_NOT_BLANK = partial(is_not, None)


def exact_sum(values: Iterable[Decimal | None]) -> Decimal:
    """The exact sum of the given amounts (blank counts as zero); raises rather than round."""
    return reduce(_EXACT.add, filter(_NOT_BLANK, values), Decimal(0))


def percent(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """``part`` as a percentage of ``whole`` to two decimals (half up), or None when ``whole`` is 0 or blank."""
    if part is None or not whole:
        return None
    share = _PERCENT.divide(_PERCENT.multiply(part, 100), whole)
    return share.quantize(_CENT, rounding=ROUND_HALF_UP, context=_PERCENT)


@lru_cache(maxsize=4096)
def count_share(part: int, whole: int) -> Decimal | None:
    """:func:`percent` of two counts (the same few pairs recur on every unit's indicator rows)."""
    return percent(Decimal(part), Decimal(whole))


# ---------------------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class Column:
    """A table column; ``kind`` is text, money, int or percent (how it is formatted)."""

    name: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """One output table: data rows, then total rows; ``highlight`` marks data rows that need attention."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]
    totals: tuple[tuple, ...] = ()
    highlight: frozenset[int] = frozenset()
    notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> tuple[str, ...]:
        """The column names."""
        return tuple(c.name for c in self.columns)

    def index(self, name: str) -> int:
        """The position of a column."""
        return self.headers.index(name)

    def records(self, totals: bool = False) -> list[dict[str, object]]:
        """The data rows (or the total rows) as dicts keyed by column name."""
        return [dict(zip(self.headers, row)) for row in (self.totals if totals else self.rows)]


@dataclass(frozen=True, slots=True)
class ProjectFigures:
    """One project as consolidation counts it: code, name, the sheet its numbers came from, the numbers in
    明细's order (预算数, 财政资金, 其他资金, then one per 支出计划节点; None when blank) and the cell of each
    ("" when the form did not have it; for the master's values, ``sheet`` is 主数据 and no cells), and the
    sheet's extra fields (名称, value, cell) as the digest keeps them."""

    code: str
    name: str
    sheet: str
    numbers: tuple[Decimal | None, ...]
    cells: tuple[str, ...] = ()
    extras: ExtraFields = ()


@dataclass(frozen=True, slots=True)
class LockedEdit:
    """A locked (issued) amount a return holds changed: consolidation counts the master's ``issued`` and
    shows the ``returned`` one beside it on 核对, with the sheet and cell it was read from."""

    project_code: str
    project_name: str
    field: str
    sheet: str
    cell: str
    returned: Decimal | None
    issued: Decimal | None

    @property
    def place(self) -> str:
        """``工作表!单元格`` (or as much of it as is known)."""
        return "!".join(part for part in (self.sheet, self.cell) if part) or UNKNOWN_CELL


@dataclass(frozen=True)
class UnitSource:
    """What consolidation uses for one unit: its projects' figures and its indicators, counted by
    (一级, 二级, 指标性质) as :func:`~jixiao_xl.digest.tally_indicators` counts them."""

    code: str
    name: str
    returned: bool
    projects: tuple[ProjectFigures, ...]
    indicators: IndicatorTally = ()
    file: str = ""
    sha256: str = ""
    import_id: int | None = None
    errors: int = 0
    warnings: int = 0
    edits: tuple["LockedEdit", ...] = ()
    dept_extras: ExtraFields = ()  # the department sheet's extra fields (cells as 表名!B4)
    sent: bool = True  # the ledger recorded a workbook issued to the unit

    @property
    def state(self) -> str:
        """报送状态 as shown on 总表: the unit's state as ``status`` names it (:func:`.counting.unit_state`)."""
        return unit_state(self.sent, self.returned, self.errors, self.warnings)

    @property
    def origin(self) -> str:
        """来源: 报送 or 主数据（未报送）."""
        return RETURN_ORIGIN if self.returned else MASTER_ORIGIN

    @cached_property
    def _sums(self) -> tuple[Decimal, ...]:
        width = max((len(p.numbers) for p in self.projects), default=0)
        return tuple(exact_sum(p.numbers[k] for p in self.projects) for k in range(width))

    def total(self, index: int) -> Decimal:
        """The exact sum over the unit's projects of the number at ``index`` of :attr:`ProjectFigures.numbers`."""
        return self._sums[index] if index < len(self._sums) else Decimal(0)

    def budget(self) -> Decimal:
        """The exact sum of the unit's 预算数."""
        return self.total(0)

    def blank_plan_nodes(self) -> int:
        """How many 支出计划 amounts the unit's projects left blank."""
        return sum(1 for p in self.projects for value in p.numbers[PLAN_START:] if value is None)


@dataclass(frozen=True)
class Consolidation:
    """The consolidated tables, the units they came from and the reconciliation findings."""

    year: int
    money_unit: str
    plan_nodes: tuple[str, ...]
    units: tuple[UnitSource, ...]
    tables: tuple[Table, ...]
    findings: tuple[Finding, ...]
    include_unreturned: bool = True

    def table(self, name: str) -> Table:
        """The table called ``name`` (总表, 支出计划, 绩效指标, 明细 or 核对)."""
        return next(t for t in self.tables if t.name == name)

    @property
    def included(self) -> tuple[UnitSource, ...]:
        """The units counted in the totals."""
        return tuple(u for u in self.units if u.returned or self.include_unreturned)

    @property
    def grand_total(self) -> Decimal:
        """Σ 预算数 of every unit counted in the totals (exact)."""
        return exact_sum(u.budget() for u in self.included)


def amount_text(value: Decimal | None) -> str:
    """An amount as 核对 and 明细 show it in text: blank as （空）."""
    return "（空）" if value is None else format(value, "f")


def cell_text(value: object) -> str:
    """A table cell as text (blank for None), as CSV and column widths take it."""
    return "" if value is None else str(value)
