"""The year as pandas DataFrames, for analysts in a notebook (DESIGN §10).

Five functions read a year's ledger (and, where values must be completed from it, its master)::

    from jixiao_xl import frames
    frames.submissions(ws)    # every import, counted or not, with its state
    frames.projects(ws)       # one row per project: counted returns, the master for units not returned
    frames.indicators(ws)     # one row per filled 三级指标, chosen the same way
    frames.findings(ws)       # every finding of every import (the contract's columns plus import_id)
    frames.consolidation(ws)  # a 汇总表 sheet (总表 by default), data rows then its 合计 rows

``ws`` is a workspace folder or a ledger file; for a ledger file, functions that need the master take
``master=``. Money is an exact :class:`~decimal.Decimal` in object columns (blank is None), never a float;
counts and import ids are pandas' nullable ``Int64``. Every row says where it came from: 来源 (报送 or
主数据（未报送）), 导入编号, 来源文件, 工作表 and the cells, as 汇总表's 明细 does.

The ledger is opened read-only and never created: a missing one is an :class:`~jixiao_xl.errors.InputError`.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd

from .consolidate import (MASTER_CELL, MASTER_ORIGIN, MASTER_SOURCE, RETURN_ORIGIN, SHEETS, SUMMARY, UNKNOWN_CELL, Column,
                          consolidate, number_columns, number_paths)
from .errors import InputError
from .findings import COLUMNS as FINDING_COLUMNS
from .ledger import BUSY_TIMEOUT_MS, SCHEMA_VERSION, ImportRow, Ledger, LedgerError
from .master import COLUMNS as MASTER_COLUMNS, load_master
from .model import Indicator, Master, field_names
from .status import return_state
from .workspace import CONFIG_NAME, LEDGER_NAME, MASTER_CANDIDATES, Workspace, is_workspace, load_workspace

# Where a folder that is no workspace keeps them: a workspace's names, then the CLI's defaults outside one.
_LEDGER_GUESSES = (LEDGER_NAME, "output/ledger.sqlite")

# Column kinds (consolidate.Column's, plus bool and object) → pandas dtypes; text is left to pandas.
_DTYPES = {"money": object, "percent": object, "object": object, "int": "Int64", "bool": bool}
_STATE = {"received": "导入未完成", "failed": "无法读取"}
COUNTED, SUPERSEDED, NOT_COUNTED, NO_UNIT = "有效（计入）", "已被新报送替代", "未计入", "未识别单位"


# ---------------------------------------------------------------------------------------------------------
# Where the year is


@dataclass(frozen=True)
class _Year:
    """The ledger and (when known) the master of one year."""

    ledger: Path
    master: Path | None


def _locate(ws: str | Path, master: str | Path | None = None) -> _Year:
    """Resolve ``ws`` (a workspace folder, its jixiao.toml, or a ledger file); an explicit ``master`` wins."""
    path = Path(ws)
    if path.name == CONFIG_NAME and path.is_file():  # the workspace's settings file stands for its folder
        path = path.parent
    if path.is_dir():
        ledger, found = _folder_paths(path)
    elif path.is_file():
        ledger, found = path, None
    else:
        raise InputError(f"找不到工作区或台账 {path}；请给出工作区文件夹或台账文件（ledger.sqlite）的路径。")
    return _Year(ledger, Path(master) if master is not None else found)


def _folder_paths(folder: Path) -> tuple[Path, Path | None]:
    """(ledger, master) of a folder, as the command line would use them there.

    A workspace folder — or a folder inside one that holds no ledger of its own, as the CLI finds the
    workspace from the current folder — gives the paths its jixiao.toml names, read by
    :func:`.workspace.load_workspace` (relative paths against the workspace, the same checks and messages).
    Any other folder: the first of the usual names that exists.
    """
    own = None if is_workspace(folder) else next((folder / n for n in _LEDGER_GUESSES if (folder / n).is_file()), None)
    workspace = _enclosing_workspace(folder) if own is None else None
    if workspace is not None:
        return workspace.ledger, workspace.master
    master = next((folder / name for name in MASTER_CANDIDATES if (folder / name).exists()), None)
    return own or folder / LEDGER_NAME, master


def _enclosing_workspace(folder: Path) -> Workspace | None:
    """The workspace ``folder`` is or lies in (its nearest folder holding jixiao.toml), as
    :func:`.workspace.find_workspace` finds it from a current folder — but never from ``$JIXIAO_WORKSPACE``:
    the folder the caller named wins."""
    resolved = folder.resolve()
    return next((load_workspace(f) for f in (resolved, *resolved.parents) if is_workspace(f)), None)


def _master_of(year: _Year) -> Master:
    """The year's master; InputError when it cannot be found."""
    if year.master is None:
        raise InputError(f"找不到台账 {year.ledger} 对应的主数据；请用 master= 指定主数据文件（如 主数据.xlsx）。")
    return load_master(year.master)


@contextmanager
def _reading(path: Path) -> Iterator[Ledger]:
    """The ledger at ``path`` opened read-only; never creates one.

    A ledger of an older schema is opened (and so migrated) by :meth:`Ledger.open` like every command does.
    """
    if not path.is_file():
        raise InputError(f"找不到台账 {path}；请先用 jixiao-xl import 导入报回的表格，或给出正确的台账路径。")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    ledger = Ledger(connection, path)
    try:
        version = ledger.schema_version
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise LedgerError(f"无法读取台账 {path}（{exc}）；请给出 jixiao-xl import 写出的台账文件。") from None
    if version != SCHEMA_VERSION:
        connection.close()
        if version == 0:  # never a ledger: the first migration sets the version in its own transaction
            raise LedgerError(f"{path} 不是 jixiao-xl 台账文件；请给出 jixiao-xl import 写出的台账（ledger.sqlite）。")
        ledger = Ledger.open(path)  # older: migrated as every command does; newer: refused with the reason
    with ledger:
        yield ledger


def _counted(ledger: Ledger) -> dict[str, ImportRow]:
    """The return that counts for each unit, by unit code: :meth:`Ledger.latest_by_unit`, which goes through
    :meth:`Ledger.counted_ids` — :func:`.counting.counted_return` with the bureau's 审核 decisions — the one
    rule ``status``, the reports, ``consolidate`` and ``publish`` use (a return passed as 通过 keeps counting
    until a later one is passed too)."""
    return ledger.latest_by_unit()


# ---------------------------------------------------------------------------------------------------------
# Frames


def _frame(columns: Sequence[Column], rows: Iterable[Sequence]) -> pd.DataFrame:
    """A DataFrame of ``rows`` with each column's dtype from its kind: Decimals stay objects, never floats."""
    rows = list(rows)
    values = list(zip(*rows)) if rows else [()] * len(columns)
    return pd.DataFrame({c.name: pd.Series(v, dtype=_DTYPES.get(c.kind)) for c, v in zip(columns, values)},
                        columns=[c.name for c in columns])


_SUBMISSION_COLUMNS = (
    Column("导入编号", "int"), Column("单位编码"), Column("单位名称"), Column("文件"), Column("路径"), Column("sha256"),
    Column("大小", "int"), Column("格式"), Column("模板版本"), Column("接收时间"), Column("完成时间"), Column("台账状态"),
    Column("状态"), Column("计入", "bool"), Column("被替代为", "int"), Column("错误数", "int"), Column("警告数", "int"),
    Column("提示数", "int"), Column("报送状态"))


def _state(row: ImportRow, counted: bool) -> str:
    if row.status != "parsed":
        return _STATE[row.status]
    if counted:
        return COUNTED
    if row.superseded_by is not None and row.superseded_by > row.id:
        return SUPERSEDED  # a later return took its place; one kept out by an earlier passed return is 未计入
    return NOT_COUNTED if row.unit_code else NO_UNIT


def submissions(ws: str | Path) -> pd.DataFrame:
    """Every import in the ledger, oldest first, counted or not.

    计入 is True for the return that counts for its unit; 状态 says why another does not (已被新报送替代,
    无法读取, 导入未完成, 未识别单位) and 台账状态 is the ledger's own (parsed, failed, received).
    错误数/警告数/提示数 count the import's findings; 报送状态 is what they make of a readable return.
    """
    with _reading(_locate(ws).ledger) as ledger:
        counted = {row.id for row in _counted(ledger).values()}
        rows = []
        for r in ledger.history():
            n = ledger.open_counts(r.id)
            rows.append((r.id, r.unit_code, r.unit_name, r.file_name, r.original_path, r.sha256, r.size, r.kind,
                         r.template_version, r.received_at, r.completed_at or "", r.status, _state(r, r.id in counted),
                         r.id in counted, r.superseded_by, n["error"], n["warning"], n["info"],
                         return_state(n["error"], n["warning"]) if r.status == "parsed" else ""))
    return _frame(_SUBMISSION_COLUMNS, rows)


def findings(ws: str | Path) -> pd.DataFrame:
    """Every finding of every import, as recorded: import_id, then the findings contract's 13 columns (text)."""
    with _reading(_locate(ws).ledger) as ledger:
        rows = [(r.id, *f.as_row().values()) for r in ledger.history() for f in ledger.findings_of(r.id)]
    return _frame((Column("import_id", "int"), *map(Column, FINDING_COLUMNS)), rows)


@dataclass(frozen=True)
class _Source:
    """Where one unit's rows come from: its counted return, or the master."""

    code: str
    name: str
    row: ImportRow | None

    @property
    def origin(self) -> tuple[str, int | None, str]:
        """(来源, 导入编号, 来源文件)."""
        if self.row is None:
            return MASTER_ORIGIN, None, MASTER_SOURCE
        return RETURN_ORIGIN, self.row.id, self.row.file_name


def _sources(master: Master, ledger: Ledger, include_unreturned: bool) -> list[_Source]:
    """The master's units in order, each with its counted return; units the master lacks are left out."""
    counted = _counted(ledger)
    sources = [_Source(u.code, u.name, counted.get(u.code)) for u in master.units]
    return [s for s in sources if s.row is not None or include_unreturned]


def _project_rows(source: _Source, master: Master, ledger: Ledger, paths: Sequence[str]) -> Iterator[tuple]:
    head = (source.code, source.name)
    origin, import_id, file = source.origin
    if source.row is None:
        nodes = master.settings.plan_nodes
        for p in master.projects_of(source.code):
            numbers = (p.budget, p.fiscal, p.other, *(p.plan_amount(node) for node in nodes))
            yield (*head, p.code, p.name, origin, *numbers, import_id, file, MASTER_SOURCE,
                   *(MASTER_CELL,) * len(numbers))
        return
    for p in ledger.digest_of(source.row.id).projects:
        found = [p.number(path) for path in paths]
        cells = (cell or ("" if value is None else UNKNOWN_CELL) for value, cell in found)
        yield (*head, p.code, p.name, origin, *(v for v, _ in found), import_id, file, p.sheet, *cells)


def projects(ws: str | Path, *, master: str | Path | None = None, include_unreturned: bool = True) -> pd.DataFrame:
    """One row per project, as consolidation counts them: the counted return of each master unit, the
    master's values (来源 主数据（未报送）) for a unit that has not returned (left out with
    ``include_unreturned=False``). Money columns 预算数, 财政资金, 其他资金, 支出计划-<节点>, then where each
    number was read: 导入编号, 来源文件, 工作表 and ``<列>-单元格``, written as 明细 writes them (表名!B4 on
    another sheet, — for the master's values, （位置未知） for a value whose cell was not recorded)."""
    year = _locate(ws, master)
    data = _master_of(year)
    names = number_columns(data.settings.plan_nodes)  # 明细's names
    columns = (Column("单位编码"), Column("单位名称"), Column("项目编码"), Column("项目名称"), Column("来源"),
               *(Column(name, "money") for name in names), Column("导入编号", "int"), Column("来源文件"),
               Column("工作表"), *(Column(f"{name}-单元格") for name in names))
    paths = number_paths(data.settings.plan_nodes)
    with _reading(year.ledger) as ledger:
        rows = [row for s in _sources(data, ledger, include_unreturned) for row in _project_rows(s, data, ledger, paths)]
    return _frame(columns, rows)


# The master's 绩效指标 headers name Indicator's fields in order (项目编码 aside).
_INDICATOR_HEADERS = tuple(zip(field_names(Indicator), MASTER_COLUMNS["绩效指标"][1:]))
_INDICATOR_OBJECTS = ("value", "weight")  # a Decimal, text or None


def _indicator_row(head: tuple, k: int, i: Indicator, where: tuple) -> tuple | None:
    """One indicator's row, or None for a row left blank (consolidation does not count those either)."""
    if not (i.level1 or i.level2 or i.name):
        return None
    return (*head, k + 1, *(getattr(i, name) for name, _ in _INDICATOR_HEADERS), *where)


def _indicator_rows(source: _Source, master: Master, ledger: Ledger) -> Iterator[tuple | None]:
    origin, import_id, file = source.origin
    if source.row is None:
        for p in master.projects_of(source.code):
            head = (source.code, source.name, p.code, p.name, origin)
            for k, i in enumerate(p.indicators):
                yield _indicator_row(head, k, i, (import_id, file, MASTER_SOURCE, MASTER_CELL, MASTER_CELL))
        return
    for rp in ledger.submission_of(source.row.id).projects:
        head = (source.code, source.name, rp.project.code, rp.project.name, origin)
        for k, i in enumerate(rp.project.indicators):
            cells = [rp.where(f"ind{k}.{name}") for name in ("name", "value")]
            where = (import_id, file, rp.sheet, *(c.cell if c else "" for c in cells))
            yield _indicator_row(head, k, i, where)


def indicators(ws: str | Path, *, master: str | Path | None = None, include_unreturned: bool = True) -> pd.DataFrame:
    """One row per filled 三级指标 of every project :func:`projects` lists, with the master's 绩效指标
    headers (指标值 a Decimal for a numeric quantitative value, else the text; 权重 a Decimal), 序号 its
    place in the project's grid, and where it was read (工作表, the cells of 三级指标 and 指标值; — for
    the master's)."""
    year = _locate(ws, master)
    data = _master_of(year)
    columns = (Column("单位编码"), Column("单位名称"), Column("项目编码"), Column("项目名称"), Column("来源"),
               Column("序号", "int"), *(Column(header, "object" if name in _INDICATOR_OBJECTS else "text")
                                       for name, header in _INDICATOR_HEADERS),
               Column("导入编号", "int"), Column("来源文件"), Column("工作表"), Column("三级指标-单元格"),
               Column("指标值-单元格"))
    with _reading(year.ledger) as ledger:
        rows = [row for s in _sources(data, ledger, include_unreturned) for row in _indicator_rows(s, data, ledger)
                if row is not None]
    return _frame(columns, rows)


def consolidation(ws: str | Path, table: str = SUMMARY, *, master: str | Path | None = None,
                  include_unreturned: bool = True, totals: bool = True) -> pd.DataFrame:
    """One table of the 汇总表 (总表, 支出计划, 绩效指标, 明细 or 核对) exactly as ``jixiao-xl consolidate``
    writes it: its columns, its data rows, then its 合计 rows (leave those out with ``totals=False``)."""
    if table not in SHEETS:
        raise InputError(f"汇总表中没有“{table}”；可选：{'、'.join(SHEETS)}。")
    year = _locate(ws, master)
    data = _master_of(year)
    with _reading(year.ledger) as ledger:
        result = consolidate(data, ledger, include_unreturned=include_unreturned).table(table)
    return _frame(result.columns, (*result.rows, *(result.totals if totals else ())))
