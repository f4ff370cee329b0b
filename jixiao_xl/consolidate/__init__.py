"""Consolidation: bureau-wide totals from the latest return of every unit (``jixiao-xl consolidate``).

For each unit of the master the return that counts (:mod:`.counting`, the rule status, the import report and
退回修改 use too; read through :meth:`~jixiao_xl.ledger.Ledger.accepted_returns`) is used — its
:class:`~jixiao_xl.digest.Digest`, a couple of kilobytes per unit — and a unit that has not returned
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
refuses to round; :mod:`.figures`). Each unit's 预算数合计 is checked against the master's; a difference (a missing or an
extra project sheet) is an ``L-TOTAL-MISMATCH`` error in :attr:`Consolidation.findings` and on 核对.

:func:`consolidate` gathers (:mod:`.gather`) and builds the tables (:mod:`.tables`); :func:`write_consolidation`
writes them as one .xlsx (:mod:`.sheets`: xlsxwriter in constant-memory mode, rows rendered in bulk, atomic,
byte-identical for identical inputs, native charts), as a folder of CSV files or as one JSON document
(:mod:`.export`).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..ledger import Ledger
from ..model import Master
from .export import consolidation_json, table_csv, write_csv, write_json
from .figures import (CHECKS, DETAIL, FORMATS, HEADER_LINES, INDICATORS, MASTER_CELL, MASTER_ORIGIN, MASTER_SOURCE,
                      PLAN, PLAN_CHART, RETURN_ORIGIN, RULE_TOTAL_MISMATCH, RULE_UNKNOWN_UNIT, SHEETS, SUMMARY,
                      SUMMARY_CHART, TOTAL_LABEL, UNKNOWN_CELL, Column, Consolidation, LockedEdit, ProjectFigures,
                      Table, UnitSource, amount_text, cell_text, exact_sum, percent)
from .gather import build, gather, number_paths, reconcile_totals
from .sheets import FIXED_CREATED, write_xlsx
from .tables import (EDITED_RESULT, checks_table, detail_table, extra_field_names, indicator_table, number_columns,
                     plan_table, summary_table)

__all__ = [  # this package's own names and those of its rooms, importable from jixiao_xl.consolidate
    "consolidate", "write_consolidation",
    "consolidation_json", "table_csv", "write_csv", "write_json",
    "CHECKS", "DETAIL", "FORMATS", "HEADER_LINES", "INDICATORS", "MASTER_CELL", "MASTER_ORIGIN", "MASTER_SOURCE",
    "PLAN", "PLAN_CHART", "RETURN_ORIGIN", "RULE_TOTAL_MISMATCH", "RULE_UNKNOWN_UNIT", "SHEETS", "SUMMARY",
    "SUMMARY_CHART", "TOTAL_LABEL", "UNKNOWN_CELL", "Column", "Consolidation", "LockedEdit", "ProjectFigures",
    "Table", "UnitSource", "amount_text", "cell_text", "exact_sum", "percent",
    "build", "gather", "number_paths", "reconcile_totals",
    "FIXED_CREATED", "write_xlsx",
    "EDITED_RESULT", "checks_table", "detail_table", "extra_field_names", "indicator_table", "number_columns",
    "plan_table", "summary_table",
]


def consolidate(master: Master, ledger: Ledger, include_unreturned: bool = True) -> Consolidation:
    """Consolidate the latest accepted return of every unit (master values for the others)."""
    with _collector_paused():
        return build(master, ledger, include_unreturned)


def write_consolidation(c: Consolidation, path: Path, fmt: str = "xlsx") -> Path:
    """Write the consolidation as ``fmt`` (xlsx, csv or json); returns the file (or, for csv, folder) written."""
    with _collector_paused():
        return _write_consolidation(c, Path(path), fmt)


def _write_consolidation(c: Consolidation, path: Path, fmt: str) -> Path:
    if fmt == "xlsx":
        write_xlsx(c, path)
        return path
    if fmt == "csv":
        return write_csv(c, path)
    if fmt == "json":
        return write_json(c, path)
    raise InputError(f"不支持的汇总输出格式“{fmt}”，请使用 xlsx、csv 或 json。")


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
