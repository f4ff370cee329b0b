"""Consolidation as data: the tables as a folder of CSV files, or the whole as one JSON document.

Amounts stay exact: JSON carries them as strings; CSV cells a spreadsheet would run as formulas are
neutralised.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

from ..safety import neutralise_formula, safe_file_stem, write_atomic
from .figures import Consolidation, Table, cell_text


def _plain(value: object) -> object:
    """A cell as JSON: Decimals as strings, None as null, everything else as is."""
    if isinstance(value, Decimal):
        return str(value)
    return value



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
        writer.writerow([neutralise_formula(cell_text(v)) for v in row])
    return buffer.getvalue()


def write_csv(c: Consolidation, path: Path) -> Path:
    """Each table as ``<name>.csv`` (UTF-8 with BOM, for Excel) in a folder named after ``path``'s stem."""
    folder = path.parent / path.stem
    folder.mkdir(parents=True, exist_ok=True)
    for table in c.tables:
        write_atomic(folder / f"{safe_file_stem(table.name)}.csv", table_csv(table).encode("utf-8-sig"))
    return folder



def write_json(c: Consolidation, path: Path) -> Path:
    """The consolidation as one JSON document at ``path``."""
    write_atomic(path, json.dumps(consolidation_json(c), ensure_ascii=False, indent=1) + "\n")
    return path
