"""Consolidation: bureau-wide totals from the latest return of every unit (``jixiao-xl consolidate``).

For each unit of the master the return that counts (:mod:`.counting`, the rule status, the import report and
退回修改 use too; read through :meth:`~jixiao_xl.ledger.Ledger.accepted_returns`) is used — its
:class:`~jixiao_xl.ledger.Digest`, a couple of kilobytes per unit — and a unit that has not returned
contributes the master's values, marked 来源 = 主数据（未报送） (or is left out with
``include_unreturned=False``). Five tables come out — 总表, 支出计划, 绩效指标, 明细, 核对 — and every
number in 明细 names the file, sheet and cell it was read from; so does every extra field a template declares
(``{{ extra.<名称> }}``, e.g. 项目负责人), one 明细 column each with its cell beside it.

Locked means locked: a returned project paired with the master (:func:`~jixiao_xl.reconcile.pair_projects`)
counts the master's 项目编码, 项目名称, 预算数, 财政资金 and 其他资金 (:mod:`jixiao_xl.issued`), read from the
master at consolidation time, and the return's own entries (支出计划, indicators). A locked amount the
return holds changed is not summed: 核对 lists it (表内填报 vs 下发数, with its cell) and 明细 says so in its
cell column. A project the master does not have counts as returned.

Every amount is a :class:`~decimal.Decimal` and every total is an exact Decimal sum (:func:`exact_sum`
refuses to round). Each unit's 预算数合计 is checked against the master's; a difference (a missing or an
extra project sheet) is an ``L-TOTAL-MISMATCH`` error in :attr:`Consolidation.findings` and on 核对.

:func:`write_consolidation` writes the tables as one .xlsx (xlsxwriter in constant-memory mode, rows
rendered in bulk by :class:`~jixiao_xl.tablesheet.TableSheet`; atomic, byte-identical for identical inputs,
native charts), as a folder of CSV files, or as one JSON document.
"""

from __future__ import annotations

import csv
import gc
import io
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import (MAX_PREC, ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact, InvalidOperation,
                     Overflow, Rounded)
from functools import cached_property, lru_cache, partial, reduce
from itertools import chain, groupby
from operator import is_not
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from . import catalogue, taxonomy
from .digest import DigestProject, ExtraFields, IndicatorTally, tally_indicators
from .errors import InputError
from .findings import SEVERITY_ZH, Finding
from .issued import LOCKED_MONEY_FIELDS, LOCKED_PROJECT_FIELDS
from .ledger import AcceptedReturn, Ledger
from .model import Master, Project, Unit
from .reconcile import RULES as RECONCILE_RULES, pair_projects, same_money
from .safety import (FIXED_DOCUMENT_TIME, atomic_target, commit_atomic, neutralise_formula, safe_file_stem, sheet_name,
                     write_atomic)
from .counting import unit_state
from .status import display_width
from .tablesheet import TableSheet, TableWorkbook
from .sheetwriter import print_as_list

MASTER_ORIGIN = "主数据（未报送）"
MASTER_SOURCE = "主数据"
RETURN_ORIGIN = "报送"
TOTAL_LABEL = "合计"
FORMATS = ("xlsx", "csv", "json")
# Fixed document creation time: the workbook's bytes depend on its inputs only.
FIXED_CREATED = FIXED_DOCUMENT_TIME

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
_PLAN_START = 3  # ProjectFigures.numbers: 预算数, 财政资金, 其他资金, then the plan
_DETAIL_FIRST_NUMBER = 8  # 明细: the column of 预算数


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
def _count_share(part: int, whole: int) -> Decimal | None:
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
    (一级, 二级, 指标性质) as :func:`~jixiao_xl.ledger.tally_indicators` counts them."""

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
        return sum(1 for p in self.projects for value in p.numbers[_PLAN_START:] if value is None)


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


# ---------------------------------------------------------------------------------------------------------
# Gathering


def number_paths(nodes: Sequence[str]) -> tuple[str, ...]:
    """The digest paths of a project's numbers, in 明细's order: 预算数, 财政资金, 其他资金, each 支出计划节点."""
    return ("budget", "fiscal", "other", *(f"plan.{node}" for node in nodes))


def _returned_figures(project: DigestProject, paths: tuple[str, ...]) -> ProjectFigures:
    if project.paths == paths:  # the form has exactly the master's plan nodes, as generated
        return ProjectFigures(project.code, project.name, project.sheet, project.values, project.cells,
                              project.extras)
    found = [project.number(path) for path in paths]
    return ProjectFigures(project.code, project.name, project.sheet, tuple(v for v, _ in found),
                          tuple(c for _, c in found), project.extras)


def _master_figures(project: Project, nodes: Sequence[str]) -> ProjectFigures:
    numbers = (project.budget, project.fiscal, project.other, *(project.plan_amount(node) for node in nodes))
    return ProjectFigures(project.code, project.name, MASTER_SOURCE, numbers)


def _returned_unit(master: Master, unit: Unit, accepted: AcceptedReturn, paths: tuple[str, ...],
                   counts: Mapping[str, int]) -> UnitSource:
    """A returned unit: the unit's entries (plan) from its return, the locked figures from the master."""
    digested = accepted.digest.projects
    issued = dict(pair_projects([(p.code, p.name) for p in digested], master, unit.code).pairs)
    projects, edits = [], []
    for k, project in enumerate(digested):
        figures = _returned_figures(project, paths)
        if k in issued:
            figures, changed = _as_issued(figures, issued[k])
            edits += changed
        projects.append(figures)
    return UnitSource(accepted.unit_code, unit.name or accepted.unit_name, True, tuple(projects),
                      accepted.digest.indicators, accepted.file_name, accepted.sha256, accepted.id,
                      counts.get("error", 0), counts.get("warning", 0), tuple(edits), accepted.digest.dept_extras)


def _as_issued(figures: ProjectFigures, issued: Project) -> tuple[ProjectFigures, list[LockedEdit]]:
    """The returned figures with code, name and the locked amounts (预算数, 财政资金, 其他资金) as issued;
    each amount the return changed becomes a :class:`LockedEdit` and its cell says so."""
    wanted = (issued.budget, issued.fiscal, issued.other)
    if figures.numbers[:3] == wanted and (figures.code, figures.name) == (issued.code, issued.name):
        return figures, []  # the usual case, and a province has 100,000 projects
    numbers, cells = list(figures.numbers), list(figures.cells or ("",) * len(figures.numbers))
    edits = []
    for k, name in enumerate(LOCKED_MONEY_FIELDS):
        returned, wanted = numbers[k], getattr(issued, name)
        if not same_money(wanted, returned):
            edit = LockedEdit(issued.code, issued.name, LOCKED_PROJECT_FIELDS[name], figures.sheet, cells[k], returned,
                              wanted)
            edits.append(edit)
            cells[k] = f"{MASTER_SOURCE}（表内 {edit.cell or UNKNOWN_CELL} 填报 {_amount(returned)}）"
        numbers[k] = wanted
    return ProjectFigures(issued.code, issued.name, figures.sheet, tuple(numbers), tuple(cells), figures.extras), edits


def _amount(value: Decimal | None) -> str:
    """An amount as 核对 and 明细 show it in text: blank as （空）."""
    return "（空）" if value is None else format(value, "f")


def _master_unit(master: Master, code: str, name: str, sent: bool) -> UnitSource:
    projects = master.projects_of(code)
    nodes = master.settings.plan_nodes
    return UnitSource(code, name, False, tuple(_master_figures(p, nodes) for p in projects),
                      tally_indicators(i for p in projects for i in p.indicators), sent=sent)


def gather(master: Master, ledger: Ledger, problems: list[Finding] | None = None
           ) -> tuple[list[UnitSource], list[AcceptedReturn]]:
    """Every master unit with the values to use, and the accepted returns of units the master lacks.

    With ``problems``, a return whose stored digest cannot be read becomes an L-LEDGER-DIGEST finding there
    (see :meth:`Ledger.accepted_returns`) instead of an error."""
    paths = number_paths(master.settings.plan_nodes)
    latest = {accepted.unit_code: accepted for accepted in ledger.accepted_returns(problems)}
    counts = ledger.accepted_open_counts()
    issued = ledger.issued_latest()
    units = [_returned_unit(master, u, latest[u.code], paths, counts.get(latest[u.code].id, {})) if u.code in latest
             else _master_unit(master, u.code, u.name, u.code in issued) for u in master.units]
    return units, [latest[code] for code in sorted(latest) if master.unit(code) is None]


def _mismatch(unit: UnitSource, master_total: Decimal, returned_total: Decimal, money_unit: str) -> Finding:
    difference = returned_total - master_total
    message = (f"{unit.name}（{unit.code}）报送的预算数合计为 {returned_total} {money_unit}，主数据为 {master_total} "
               f"{money_unit}，相差 {difference} {money_unit}；请核对各项目预算数后重新报送，或先更正主数据。")
    return Finding(RULE_TOTAL_MISMATCH.code, RULE_TOTAL_MISMATCH.severity, message, file=unit.file,
                   sha256=unit.sha256, unit_code=unit.code, field="预算数合计", value=str(returned_total),
                   expected=str(master_total))


def _stranger(row: AcceptedReturn) -> Finding:
    message = (f"台账中第 {row.id} 号导入（{row.file_name}）的单位编码 {row.unit_code} 不在主数据中，未计入汇总；"
               "请确认单位编码是否填错，或先把该单位加入主数据。")
    return Finding(RULE_UNKNOWN_UNIT.code, RULE_UNKNOWN_UNIT.severity, message, file=row.file_name,
                   sha256=row.sha256, unit_code=row.unit_code, field="单位编码", value=row.unit_code)


def reconcile_totals(master: Master, units: Sequence[UnitSource], money_unit: str) -> list[Finding]:
    """An L-TOTAL-MISMATCH finding for every returned unit whose Σ 预算数 differs from the master's."""
    findings = []
    for unit in units:
        if not unit.returned:
            continue
        expected, got = master.unit_budget(unit.code), unit.budget()
        if expected != got:
            findings.append(_mismatch(unit, expected, got, money_unit))
    return findings


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of a bulk step.

    Consolidation allocates millions of small acyclic objects (tuples, Decimals, XML strings); the
    collections they trigger would walk the whole master again and again (7 s of 45 s at 100,000
    projects), and find nothing: none of it refers back to itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _promote_survivors()
            gc.enable()


def _promote_survivors() -> None:
    """Move what the paused step kept (the tables) to the collector's oldest generation without scanning it.

    Otherwise the first collection after the pause walks every one of those objects once more (0.3 s at
    100,000 projects). Skipped when something is already frozen: unfreezing would release that too.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def consolidate(master: Master, ledger: Ledger, include_unreturned: bool = True) -> Consolidation:
    """Consolidate the latest accepted return of every unit (master values for the others)."""
    with _collector_paused():
        return _consolidate(master, ledger, include_unreturned)


def _consolidate(master: Master, ledger: Ledger, include_unreturned: bool) -> Consolidation:
    settings = master.settings
    problems = ledger.inconsistencies()
    units, strangers = gather(master, ledger, problems)
    findings = reconcile_totals(master, units, settings.money_unit) + [_stranger(r) for r in strangers]
    included = [u for u in units if u.returned or include_unreturned]
    tables = (
        summary_table(included, settings.money_unit),
        plan_table(included, settings.plan_nodes),
        indicator_table(included, settings.framework),
        detail_table(included, settings.plan_nodes),
        checks_table(master, units, strangers, findings, include_unreturned, problems),
    )
    return Consolidation(settings.year, settings.money_unit, tuple(settings.plan_nodes), tuple(units), tables,
                         tuple(problems + findings), include_unreturned)


# ---------------------------------------------------------------------------------------------------------
# Tables


def summary_table(units: Sequence[UnitSource], money_unit: str) -> Table:
    """总表: one row per unit with its money totals, project count, return state and open errors."""
    columns = (Column("单位编码"), Column("单位名称"), Column("预算数", "money"), Column("财政资金", "money"),
               Column("其他资金", "money"), Column("项目数", "int"), Column("报送状态"), Column("未解决错误数", "int"),
               Column("来源"), Column("来源文件"))
    rows = tuple(
        (u.code, u.name, u.budget(), u.total(1), u.total(2), len(u.projects), u.state, u.errors, u.origin,
         u.file if u.returned else MASTER_SOURCE)
        for u in units)
    totals = ((TOTAL_LABEL, f"{len(units)} 个单位", *(exact_sum(r[i] for r in rows) for i in (2, 3, 4)),
               sum(r[5] for r in rows), "", sum(r[7] for r in rows), "", ""),)
    notes = {name: f"金额单位：{money_unit}" for name in ("预算数", "财政资金", "其他资金")}
    return Table(SUMMARY, columns, rows, totals, notes=notes)


def plan_table(units: Sequence[UnitSource], nodes: Sequence[str]) -> Table:
    """支出计划: per unit the cumulative planned amount at every node and its share of 预算数."""
    columns = (Column("单位编码"), Column("单位名称"), Column("预算数", "money"),
               *(Column(node, "money") for node in nodes), *(Column(f"{node}占预算数%", "percent") for node in nodes),
               Column("空白节点数", "int"))
    rows = []
    for u in units:
        budget = u.budget()
        amounts = [u.total(_PLAN_START + k) for k in range(len(nodes))]
        rows.append((u.code, u.name, budget, *amounts, *(percent(a, budget) for a in amounts), u.blank_plan_nodes()))
    budget_total = exact_sum(r[2] for r in rows)
    node_totals = [exact_sum(r[3 + i] for r in rows) for i in range(len(nodes))]
    totals = ((TOTAL_LABEL, f"{len(units)} 个单位", budget_total, *node_totals,
               *(percent(a, budget_total) for a in node_totals), sum(r[-1] for r in rows)),)
    return Table(PLAN, columns, tuple(rows), totals)


def _level_order(framework: str) -> dict[tuple[str, str], int]:
    order: dict[tuple[str, str], int] = {}
    for level1 in taxonomy.level1_names(framework):
        for level2 in taxonomy.level2_names(framework, level1):
            order[(level1, level2)] = len(order)
    return order


def _kind_index(operator: str) -> int:
    """Where an indicator is counted: 0 定量, 1 定性, 2 未填指标性质 (or an operator the taxonomy does not know)."""
    if operator in taxonomy.QUANTITATIVE_OPERATORS:
        return 0
    return 1 if operator == "定性" else 2


def _by_level(tallies: Iterable[IndicatorTally], order: Mapping[tuple[str, str], int]) -> list[tuple[tuple, list]]:
    """((一级, 二级), [定量, 定性, 未填]) of the tallies: the framework's levels in its order, then any others in
    the order first seen."""
    groups: dict[tuple[str, str], list[int]] = {}
    for tally in tallies:
        for level1, level2, operator, n in tally:
            key = (level1 or "（未填）", level2 or "（未填）")
            counts = groups.get(key)
            if counts is None:
                counts = groups[key] = [0, 0, 0]
            counts[_kind_index(operator)] += n
    unknown = len(order)
    return sorted(groups.items(), key=lambda item: order.get(item[0], unknown))  # stable: first seen stays first


def _indicator_row(code: str, name: str, level1: str, level2: str, counts: Sequence[int]) -> tuple:
    quantitative, qualitative, unknown = counts
    total = quantitative + qualitative + unknown
    return (code, name, level1, level2, total, quantitative, qualitative, unknown,
            _count_share(quantitative, total), _count_share(qualitative, total))


def _overall(groups: Iterable[Sequence[int]]) -> list[int]:
    return [sum(column) for column in zip(*groups)] or [0, 0, 0]


def indicator_table(units: Sequence[UnitSource], framework: str) -> Table:
    """绩效指标: per unit and 一级/二级 the number of indicators, 定量 vs 定性, and their shares."""
    columns = (Column("单位编码"), Column("单位名称"), Column("一级指标"), Column("二级指标"), Column("指标数", "int"),
               Column("定量", "int"), Column("定性", "int"), Column("未填指标性质", "int"),
               Column("定量占比%", "percent"), Column("定性占比%", "percent"))
    order = _level_order(framework)
    rows = []
    for u in units:
        groups = _by_level((u.indicators,), order)
        rows += [_indicator_row(u.code, u.name, l1, l2, counts) for (l1, l2), counts in groups]
        rows.append(_indicator_row(u.code, u.name, "小计", "", _overall(counts for _, counts in groups)))
    groups = _by_level((u.indicators for u in units), order)
    totals = [_indicator_row(TOTAL_LABEL, "全部单位", l1, l2, counts) for (l1, l2), counts in groups]
    totals.append(_indicator_row(TOTAL_LABEL, "全部单位", "合计", "", _overall(counts for _, counts in groups)))
    return Table(INDICATORS, columns, tuple(rows), tuple(totals))


def _number_columns(nodes: Sequence[str]) -> list[str]:
    """The column name of every number of a project, in :attr:`ProjectFigures.numbers` order."""
    return ["预算数", "财政资金", "其他资金", *(f"支出计划-{node}" for node in nodes)]


def _cell_shown(value: Decimal | None, cell: str) -> str:
    if cell:
        return cell
    return "" if value is None else UNKNOWN_CELL


def _shown_cells(u: UnitSource, p: ProjectFigures) -> Sequence[str]:
    if not u.returned:
        return (MASTER_CELL,) * len(p.numbers)
    if "" not in p.cells:
        return p.cells
    return [_cell_shown(value, cell) for value, cell in zip(p.numbers, p.cells)]


def _detail_row(u: UnitSource, p: ProjectFigures) -> tuple:
    return (u.code, u.name, p.code, p.name, u.origin, u.file if u.returned else MASTER_SOURCE, u.import_id, p.sheet,
            *chain.from_iterable(zip(p.numbers, _shown_cells(u, p))))


def extra_field_names(units: Iterable[UnitSource]) -> list[str]:
    """The names of the extra fields the units' returns have (a template's ``{{ extra.<名称> }}``), in the
    order first met: each project sheet's, then the department sheet's."""
    names: dict[str, None] = {}
    for u in units:
        for p in u.projects:
            names.update((name, None) for name, _, _ in p.extras)
        names.update((name, None) for name, _, _ in u.dept_extras)
    return list(names)


def _extra_cells(u: UnitSource, p: ProjectFigures, names: Sequence[str]) -> list[str]:
    """明细's extra-field cells of one project: each value followed by its cell, taken from the project's sheet,
    else from the unit's department sheet (a unit-wide field such as 绩效联系人), else blank."""
    own = {name: (value, cell) for name, value, cell in (*u.dept_extras, *p.extras)}
    return list(chain.from_iterable(own.get(name, ("", "")) for name in names))


def _extra_column_name(name: str, taken: Sequence[str]) -> str:
    """The 明细 column of an extra field: its own name, unless a fixed column already has it."""
    return name if name not in taken and f"{name}-单元格" not in taken else f"附加填写项-{name}"


def detail_table(units: Sequence[UnitSource], nodes: Sequence[str]) -> Table:
    """明细: one row per project with the file and sheet it came from, and every number followed by its cell;
    then one column per extra field of the returns (with its cell beside it), blank where a return has none."""
    names = _number_columns(nodes)
    columns = [Column("单位编码"), Column("单位名称"), Column("项目编码"), Column("项目名称"), Column("来源"),
               Column("来源文件"), Column("导入编号", "int"), Column("工作表")]
    for name in names:
        columns += [Column(name, "money"), Column(f"{name}-单元格")]
    extras = extra_field_names(units)
    taken = [column.name for column in columns]
    for name in extras:
        shown = _extra_column_name(name, taken)
        columns += [Column(shown), Column(f"{shown}-单元格")]
    if extras:
        rows = tuple((*_detail_row(u, p), *_extra_cells(u, p, extras)) for u in units for p in u.projects)
    else:
        rows = tuple(_detail_row(u, p) for u in units for p in u.projects)
    totals = [TOTAL_LABEL, f"{len(rows)} 个项目", "", "", "", "", None, ""]
    for k in range(len(names)):
        totals += [exact_sum(r[_DETAIL_FIRST_NUMBER + 2 * k] for r in rows), ""]
    totals += ["", ""] * len(extras)
    return Table(DETAIL, tuple(columns), rows, (tuple(totals),))


_EDIT_COLUMNS = (Column("项目编码"), Column("字段"), Column("单元格"), Column("表内填报", "money"), Column("下发数", "money"))
EDITED_RESULT = "表内填报与下发数不同（按下发数汇总）"


def checks_table(master: Master, units: Sequence[UnitSource], strangers: Sequence[AcceptedReturn],
                 findings: Sequence[Finding], include_unreturned: bool, ledger_problems: Sequence[Finding] = ()
                 ) -> Table:
    """核对: every unit's returned Σ 预算数 against the master's, with the finding that explains a difference;
    below a unit, one row per locked amount its return changed (表内填报 vs 下发数, with the cell); a unit left
    out because of an inconsistent ledger row shows that row's L-LEDGER finding."""
    columns = (Column("单位编码"), Column("单位名称"), Column("主数据预算数", "money"), Column("报送预算数", "money"),
               Column("差额", "money"), Column("结果"), Column("规则"), Column("严重程度"), Column("说明"),
               Column("来源文件"), *_EDIT_COLUMNS)
    blank_edit = ("",) * 3 + (None, None)
    by_unit = {f.unit_code: f for f in findings}
    ledger_by_unit = {f.unit_code: f for f in ledger_problems if f.unit_code}
    rows, highlight = [], set()
    for u in units:
        expected = master.unit_budget(u.code)
        finding = by_unit.get(u.code)
        if not u.returned:
            result = "未报送（使用主数据）" if include_unreturned else "未报送（未计入汇总）"
            problem = ledger_by_unit.get(u.code)
            if problem is not None:
                highlight.add(len(rows))
                rows.append((u.code, u.name, expected, None, None, f"台账记录不一致，{result}", problem.rule,
                             _severity(problem), problem.message, MASTER_SOURCE, *blank_edit))
                continue
            rows.append((u.code, u.name, expected, None, None, result, "", "", "", MASTER_SOURCE, *blank_edit))
            continue
        got = u.budget()
        if finding is not None:
            highlight.add(len(rows))
        rows.append((u.code, u.name, expected, got, got - expected, "不一致" if finding else "一致",
                     finding.rule if finding else "", _severity(finding), finding.message if finding else "", u.file,
                     *blank_edit))
        for edit in u.edits:
            highlight.add(len(rows))
            rows.append(_edit_row(u, edit))
    for row in strangers:
        finding = by_unit[row.unit_code]
        highlight.add(len(rows))
        rows.append((row.unit_code, row.unit_name, None, None, None, "主数据中无此单位", finding.rule,
                     _severity(finding), finding.message, row.file_name, *blank_edit))
    totals = ((TOTAL_LABEL, "", exact_sum(r[2] for r in rows), exact_sum(r[3] for r in rows),
               exact_sum(r[4] for r in rows), f"{len(highlight)} 项需处理", "", "", "", "", *blank_edit),)
    return Table(CHECKS, columns, tuple(rows), totals, frozenset(highlight))


def _edit_row(u: UnitSource, edit: LockedEdit) -> tuple:
    """A 核对 row for one locked amount the unit's return changed (the rule is reconciliation's X-TAMPER)."""
    rule = RECONCILE_RULES["X-TAMPER"]
    message = (f"项目“{edit.project_name}”（{edit.project_code}）的{edit.field}在表内 {edit.place} 填报为 "
               f"{_amount(edit.returned)}，下发数为 {_amount(edit.issued)}；锁定的下发数以主数据为准，汇总按下发数计算。")
    return (u.code, u.name, None, None, None, EDITED_RESULT, rule.code, SEVERITY_ZH[rule.severity], message, u.file,
            edit.project_code, edit.field, edit.place, edit.returned, edit.issued)


def _severity(finding: Finding | None) -> str:
    return SEVERITY_ZH.get(finding.severity, finding.severity) if finding else ""


# ---------------------------------------------------------------------------------------------------------
# Writing


def write_consolidation(c: Consolidation, path: Path, fmt: str = "xlsx") -> Path:
    """Write the consolidation as ``fmt`` (xlsx, csv or json); returns the file (or, for csv, folder) written."""
    with _collector_paused():
        return _write_consolidation(c, Path(path), fmt)


def _write_consolidation(c: Consolidation, path: Path, fmt: str) -> Path:
    if fmt == "xlsx":
        _write_xlsx(c, path)
        return path
    if fmt == "csv":
        return _write_csv(c, path)
    if fmt == "json":
        write_atomic(path, json.dumps(consolidation_json(c), ensure_ascii=False, indent=1) + "\n")
        return path
    raise InputError(f"不支持的汇总输出格式“{fmt}”，请使用 xlsx、csv 或 json。")


def _plain(value: object) -> object:
    """A cell as JSON: Decimals as strings, None as null, everything else as is."""
    if isinstance(value, Decimal):
        return str(value)
    return value


def _text(value: object) -> str:
    """A cell as CSV text (blank for None)."""
    return "" if value is None else str(value)


def consolidation_json(c: Consolidation) -> dict:
    """The consolidation as one JSON-ready document (amounts as strings, so they stay exact)."""
    def rows(table: Table, totals: bool) -> list[dict]:
        return [{k: _plain(v) for k, v in record.items()} for record in table.records(totals)]

    return {
        "预算年度": c.year,
        "金额单位": c.money_unit,
        "支出计划节点": list(c.plan_nodes),
        "包含未报送单位": c.include_unreturned,
        "预算数总计": str(c.grand_total),
        "tables": {t.name: {"columns": list(t.headers), "rows": rows(t, False), "totals": rows(t, True)}
                   for t in c.tables},
        "findings": [f.as_row() for f in c.findings],
    }


def table_csv(table: Table) -> str:
    """One table as CSV text: header, data rows, total rows; formula-like text neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_formula(h) for h in table.headers])
    for row in (*table.rows, *table.totals):
        writer.writerow([neutralise_formula(_text(v)) for v in row])
    return buffer.getvalue()


def _write_csv(c: Consolidation, path: Path) -> Path:
    folder = path.parent / path.stem
    folder.mkdir(parents=True, exist_ok=True)
    for table in c.tables:
        write_atomic(folder / f"{safe_file_stem(table.name)}.csv", table_csv(table).encode("utf-8-sig"))
    return folder


class _Formats:
    """The workbook's cell formats, by column kind and row role (header, data, total, highlighted)."""

    NUMBER = {"money": "#,##0.00", "int": "0", "percent": '0.00"%"', "text": "@"}

    def __init__(self, workbook) -> None:
        base = {"font_name": "宋体", "font_size": 10, "border": 1, "valign": "vcenter"}
        self.header = workbook.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "align": "center",
                                           "text_wrap": True})
        self._cells = {}
        for role, extra in (("data", {}), ("total", {"bold": True, "bg_color": "#F2F2F2"}),
                            ("highlight", {"bg_color": "#FCE4D6", "font_color": "#9C0006"})):
            for kind, num_format in self.NUMBER.items():
                self._cells[(role, kind)] = workbook.add_format({**base, **extra, "num_format": num_format})

    def cell(self, role: str, kind: str):
        """The format of a cell of ``kind`` in a row of ``role``."""
        return self._cells[(role, kind)]

    def row(self, role: str, columns: Sequence[Column]) -> list:
        """The format of every cell of a row of ``role``."""
        return [self._cells[(role, column.kind)] for column in columns]


def _column_width(table: Table, col: int, sample: int = 500) -> float:
    # The first rows and the totals show how wide a column needs to be; scanning 100,000 rows does not pay.
    # The header may wrap over two lines (its row is made tall enough), so a long header such as
    # 支出计划-12月底-单元格 does not widen a column of short cell references and shrink the printed page.
    texts = [_text(r[col]) for r in (*table.rows[:sample], *table.totals)]
    header = -(-display_width(table.headers[col]) // HEADER_LINES)
    return min(50, max(6, header, *(display_width(t) for t in texts)) + 2)


def _runs(table: Table) -> Iterator[tuple[str, Iterable[tuple]]]:
    """The data rows in runs of one role (data or highlight), in order."""
    if not table.highlight:
        yield "data", table.rows
        return
    for role, run in groupby(enumerate(table.rows), key=lambda item: "highlight" if item[0] in table.highlight
                             else "data"):
        yield role, [values for _, values in run]


def _write_table(ws: TableSheet, table: Table, formats: _Formats) -> None:
    if len(table.rows) + len(table.totals) >= ws.xls_rowmax:
        raise InputError(f"汇总表“{table.name}”有 {len(table.rows):,} 行，超过 Excel 工作表的行数上限"
                         f"（{ws.xls_rowmax:,} 行）；请改用 --format csv 或 json 输出。")
    ws.set_row(0, HEADER_LINES * 13.5 + 3)
    for col, column in enumerate(table.columns):
        ws.write_string(0, col, column.name, formats.header)
        if column.name in table.notes:
            ws.write_comment(0, col, table.notes[column.name])
        ws.set_column(col, col, _column_width(table, col))
    numeric = [column.kind != "text" for column in table.columns]
    next_row = 1
    for role, rows in _runs(table):
        next_row = ws.append_rows(next_row, rows, formats.row(role, table.columns), numeric)
    ws.append_rows(next_row, table.totals, formats.row("total", table.columns), numeric)
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, max(len(table.rows), 1), len(table.columns) - 1)
    print_as_list(ws)




def _summary_chart(workbook, ws, table: Table, money_unit: str):
    """A column chart 各单位预算数 of 总表's budgets (None when there are no units)."""
    n = len(table.rows)
    if not n:
        return None
    name_col, budget_col = table.index("单位名称"), table.index("预算数")
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"name": "预算数", "categories": [SUMMARY, 1, name_col, n, name_col],
                      "values": [SUMMARY, 1, budget_col, n, budget_col], "data_labels": {"value": True}})
    chart.set_title({"name": "各单位预算数"})
    chart.set_y_axis({"name": f"金额（{money_unit}）", "num_format": "#,##0.00"})
    chart.set_legend({"none": True})
    return chart


def _plan_chart(workbook, ws, table: Table, nodes: Sequence[str], formats: _Formats, money_unit: str):
    """A line chart 累计支出计划与预算: the total row across the nodes, against the total budget (None when
    there is nothing to draw).

    The budget line needs one value per node, so a labelled helper row below the table repeats it.
    """
    if not table.rows or not nodes:
        return None
    first, last = table.index(nodes[0]), table.index(nodes[-1])
    total_row = len(table.rows) + 1
    helper_row = total_row + 2
    budget_total = table.totals[0][table.index("预算数")]
    ws.write_string(helper_row, 1, "预算数合计（图表用）", formats.cell("data", "text"))
    for col in range(first, last + 1):
        ws.write_number(helper_row, col, float(budget_total), formats.cell("data", "money"))
    chart = workbook.add_chart({"type": "line"})
    categories = [PLAN, 0, first, 0, last]
    chart.add_series({"name": "累计支出计划", "categories": categories, "values": [PLAN, total_row, first, total_row, last],
                      "marker": {"type": "circle"}, "data_labels": {"value": True}})
    chart.add_series({"name": "预算数", "categories": categories, "values": [PLAN, helper_row, first, helper_row, last],
                      "line": {"dash_type": "dash"}})
    chart.set_title({"name": "累计支出计划与预算"})
    chart.set_y_axis({"name": f"金额（{money_unit}）", "num_format": "#,##0.00"})
    chart.set_legend({"position": "bottom"})
    return chart


def _write_xlsx(c: Consolidation, path: Path) -> None:
    tmp = atomic_target(path)
    try:
        workbook = TableWorkbook(str(tmp), {"constant_memory": True, "strings_to_numbers": False,
                                                  "strings_to_formulas": False,
                                                  "strings_to_urls": False})
        workbook.set_properties({"title": f"{c.year}年度绩效目标汇总表", "author": "jixiao-xl",
                                 "comments": "由 jixiao-xl 根据台账和主数据汇总生成", "created": FIXED_CREATED})
        formats = _Formats(workbook)
        charts = []
        for table in c.tables:
            ws = workbook.add_worksheet(sheet_name(table.name), worksheet_class=TableSheet)
            _write_table(ws, table, formats)
            if table.name == SUMMARY:
                charts.append((SUMMARY_CHART, _summary_chart(workbook, ws, table, c.money_unit)))
            elif table.name == PLAN:
                charts.append((PLAN_CHART, _plan_chart(workbook, ws, table, c.plan_nodes, formats, c.money_unit)))
        # Each chart on a sheet of its own, after the tables: beside a table it made the printed page twice
        # as wide and every table page unreadably small.
        for name, chart in charts:
            if chart is not None:
                sheet = workbook.add_chartsheet(name)
                sheet.set_chart(chart)
                sheet.set_paper(9)
                sheet.set_landscape()
        workbook.close()
        commit_atomic(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
