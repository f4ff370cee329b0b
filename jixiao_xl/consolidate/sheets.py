"""汇总表.xlsx: the consolidation's tables as one workbook, with native charts on sheets of their own.

xlsxwriter in constant-memory mode, rows rendered in bulk by :class:`~jixiao_xl.xlsx.tablesheet.TableSheet`;
atomic, byte-identical for identical inputs.
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import InputError
from ..safety import FIXED_DOCUMENT_TIME, atomic_target, commit_atomic, sheet_name
from ..xlsx import TEXT_AS_TEXT
from ..xlsx.sheetwriter import display_width, print_as_list
from ..xlsx.tablesheet import TableSheet, TableWorkbook
from .figures import HEADER_LINES, PLAN, PLAN_CHART, SUMMARY, SUMMARY_CHART, Column, Consolidation, Table, cell_text

# Fixed document creation time: the workbook's bytes depend on its inputs only.
FIXED_CREATED = FIXED_DOCUMENT_TIME


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
    texts = [cell_text(r[col]) for r in (*table.rows[:sample], *table.totals)]
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


def write_xlsx(c: Consolidation, path: Path) -> None:
    """The tables as one workbook at ``path`` (written beside it, then put in place), 总表 and 支出计划 charted."""
    tmp = atomic_target(path)
    try:
        workbook = TableWorkbook(str(tmp), {"constant_memory": True, **TEXT_AS_TEXT})
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

