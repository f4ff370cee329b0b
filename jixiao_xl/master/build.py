"""Building the model from a master: :func:`build_master` from read tables, :func:`load_master` streaming.

:func:`build_master` turns the tables into the frozen model and never fails on a bad value: it keeps the
text (or None) and leaves the complaint to the checks. :func:`load_master`, which every command runs first,
builds the same model without the tables: it reads one sheet at a time and turns each row into model
objects as it streams past, so that a province-sized master (100,000 projects, 700,000 indicators) loads
in a few hundred MB.
"""

from __future__ import annotations

import dataclasses
import gc
import operator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from .. import taxonomy
from ..model import DeptGoal, DeptIndicator, DeptMeasure, Indicator, Master, PlanPoint, Project, Settings, Unit
from ..runtime.memory import return_freed_memory
from ..values import parse_number
from .fingerprint import compute_fingerprint
from .format import COLUMNS, MasterError, project_columns
from .settings import canonical_operator, money_of, seq_of, settings_of
from .sources import open_source
from .tables import Tables, data_rows, missing_sheets_message, read_table, split_header


def build_master(tables: Tables) -> Master:
    """Turn raw tables into a :class:`~jixiao_xl.model.Master` with its fingerprint.

    Values that cannot be interpreted stay as text (指标值) or None (money, weights); rows whose 序号 is not
    an integer are left out of the department goals. Raises :class:`MasterError` only when a required
    sheet is missing.
    """
    if tables.missing():
        raise MasterError(
            f"主数据缺少工作表：{'、'.join(tables.missing())}；请按 jixiao-xl master init 生成的模板补齐。"
        )

    def rows_of(sheet: str, fields: tuple[str, ...]) -> Iterator[list[str]]:
        table = tables.table(sheet)
        return ([row.get(f) for f in fields] for row in table.rows) if table else iter(())

    return _assemble(settings_of(tables.table("设置")), rows_of)


def load_master(path: str | Path) -> Master:
    """Read and build the master at ``path`` (.xlsx, CSV folder or .json); :class:`MasterError` if unreadable.

    The same master as ``build_master(read_tables(path))``, built sheet by sheet as the rows stream in,
    so that neither every grid nor every row's cells are held at once.
    """
    path = Path(path)
    source = open_source(path)
    if source.missing():
        raise MasterError(missing_sheets_message(path, source.missing()))
    settings = settings_of(read_table("设置", source.rows("设置"), source.texts))

    def rows_of(sheet: str, fields: tuple[str, ...]) -> Iterator[list[str]]:
        _, layout, below = split_header(sheet, source.rows(sheet))
        return map(operator.itemgetter(1), data_rows(layout, below, fields, source.texts))

    with _collector_paused():
        master = _assemble(settings, rows_of)
    return_freed_memory()  # the reader's grids are freed by now
    return master


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Run the block without the cyclic garbage collector, then hand what it built to the oldest generation.

    Building a province-sized master allocates millions of small objects and no reference cycles, so
    the collector would only rescan the growing master again and again (measured: a fifth of the load
    time). Switched back on, its first young collection would still walk all of them once (0.3 s at
    100,000 projects); freezing and at once unfreezing moves them to the oldest generation without that
    walk. That is skipped when someone else has frozen objects, which unfreezing would thaw.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


_RowsOf = Callable[[str, tuple[str, ...]], Iterable[list[str]]]


def _assemble(settings: Settings, rows_of: _RowsOf) -> Master:
    """The master from its rows: ``rows_of(sheet, fields)`` gives each non-blank row's texts under ``fields``.

    The sheets are asked for one after the other, 绩效指标 first: it is the biggest, and read while
    little else is held.
    """
    build = _Builder(settings)
    indicators = build.indicators_by_project(rows_of("绩效指标", COLUMNS["绩效指标"]))
    projects = tuple(build.project(cells, indicators) for cells in rows_of("项目", project_columns(settings.plan_nodes)))
    del indicators
    master = Master(
        settings=settings,
        units=tuple(build.unit(cells) for cells in rows_of("单位", COLUMNS["单位"])),
        projects=projects,
        dept_goals=tuple(g for g in map(build.dept_goal, rows_of("部门整体目标", COLUMNS["部门整体目标"])) if g),
        dept_indicators=tuple(
            i for i in map(build.dept_indicator, rows_of("部门整体指标", COLUMNS["部门整体指标"])) if i
        ),
        dept_measures=tuple(m for m in map(build.dept_measure, rows_of("保障措施", COLUMNS["保障措施"])) if m),
    )
    return dataclasses.replace(master, fingerprint=compute_fingerprint(master))


class _Builder:
    """Turns rows of cell texts (in the sheet's :data:`COLUMNS` order) into model objects.

    Equal texts give one shared value: a master repeats the same amounts, 指标值, 序号 and 指标性质
    spellings many times over, and parsing each once saves both the time and the memory of a
    ``Decimal`` per cell. (The model is immutable, so sharing is safe.)
    """

    def __init__(self, settings: Settings) -> None:
        self.plan_nodes = settings.plan_nodes
        self.money = _Memo(money_of).__getitem__
        self.operator = _Memo(canonical_operator).__getitem__
        self.seq = _Memo(seq_of).__getitem__
        self.number = _Memo(_number_or_text).__getitem__
        money = self.money  # not self: a memo holding its builder would be a reference cycle
        self.plan_point = _Memo(lambda key: PlanPoint(key[0], money(key[1]))).__getitem__

    def indicator_value(self, operator: str, text: str) -> Decimal | str | None:
        """A 指标值: a Decimal under a quantitative operator when numeric, else the text; None when blank."""
        if not text:
            return None
        return self.number(text) if operator in taxonomy.QUANTITATIVE_OPERATORS else text

    def unit(self, cells: list[str]) -> Unit:
        code, name, parent_code, contact, phone = cells
        return Unit(code=code, name=name, parent_code=parent_code, contact=contact, phone=phone)

    def project(self, cells: list[str], indicators: Mapping[str, list[Indicator]]) -> Project:
        unit_code, code, name, budget, fiscal, other, purpose, annual_goal, *plan = cells
        money = self.money
        return Project(
            unit_code=unit_code,
            code=code,
            name=name,
            budget=money(budget),
            fiscal=money(fiscal),
            other=money(other),
            purpose=purpose,
            annual_goal=annual_goal,
            plan=tuple(map(self.plan_point, zip(self.plan_nodes, plan))),
            indicators=tuple(indicators.get(code, ())) if code else (),
        )

    def indicators_by_project(self, rows: Iterable[list[str]]) -> dict[str, list[Indicator]]:
        grouped: dict[str, list[Indicator]] = {}
        for cells in rows:
            grouped.setdefault(cells[0], []).append(self.indicator(cells))
        return grouped

    def indicator(self, cells: list[str]) -> Indicator:
        _, level1, level2, name, description, operator_text, value, unit, basis, weight = cells
        operator = self.operator(operator_text)
        return Indicator(
            level1=level1,
            level2=level2,
            name=name,
            description=description,
            operator=operator,
            value=self.indicator_value(operator, value),
            unit=unit,
            basis=basis,
            weight=self.money(weight),
        )

    def dept_goal(self, cells: list[str]) -> DeptGoal | None:
        unit_code, seq_text, name, goal = cells
        seq = self.seq(seq_text)
        if seq is None:
            return None
        return DeptGoal(unit_code=unit_code, seq=seq, name=name, goal=goal)

    def dept_indicator(self, cells: list[str]) -> DeptIndicator | None:
        unit_code, seq_text, level1, level2, name, operator_text, value, unit, basis = cells
        seq = self.seq(seq_text)
        if seq is None:
            return None
        operator = self.operator(operator_text)
        return DeptIndicator(
            unit_code=unit_code,
            seq=seq,
            level1=level1,
            level2=level2,
            name=name,
            operator=operator,
            value=self.indicator_value(operator, value),
            unit=unit,
            basis=basis,
        )

    def dept_measure(self, cells: list[str]) -> DeptMeasure | None:
        unit_code, seq_text, title, text = cells
        seq = self.seq(seq_text)
        if seq is None:
            return None
        return DeptMeasure(unit_code=unit_code, seq=seq, title=title, text=text)


class _Memo(dict):
    """``memo[key]`` is ``func(key)``, computed on the first lookup of each distinct key."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        super().__init__()
        self._func = func

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self._func(key)
        return value


def _number_or_text(text: str) -> Decimal | str | None:
    """A quantitative 指标值: the number, or the text as written when it is not one."""
    try:
        return parse_number(text)
    except ValueError:
        return text
