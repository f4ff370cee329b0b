"""The master dataset (DESIGN §3): read it, turn it into the model, check it, write it.

A master is an .xlsx workbook, a folder of CSV files (one per sheet) or one JSON file holding the same
tables. The rooms, in data-flow order:

- :mod:`.format` — the layout contract: sheets, columns, header synonyms, setting keys;
- :mod:`.sources` — the rows of a workbook (through the reader), a CSV folder or a JSON file;
- :mod:`.tables` — the sheets as text with each value's cell (:func:`read_tables`);
- :mod:`.settings` — the 设置 sheet and the cell parsers shared by build and check;
- :mod:`.build` — the model (:func:`build_master`, the streaming :func:`load_master`);
- :mod:`.fingerprint` — the sha256 every issued workbook carries;
- :mod:`.check` — the structural checks with their M- codes (:func:`check_master`);
- :mod:`.sample` — the bundled sample master.

The blank master workbook is written by :mod:`jixiao_xl.xlsx.masterbook` (:func:`write_master`, imported
from there on first use, so that reading a master never loads xlsxwriter).
"""

from __future__ import annotations

from .build import build_master, load_master
from .check import check_master, check_tables, unreadable_finding
from .fingerprint import LATER_FIELDS, compute_fingerprint
from .format import (
    COLUMNS,
    OPTIONAL_SHEETS,
    PLAN_PREFIX,
    REQUIRED_COLUMNS,
    REQUIRED_SHEETS,
    SETTING_KEYS,
    SHEETS,
    MasterError,
    column_letter,
    columns_for,
    field_columns,
    plan_header,
    project_columns,
)
from .sample import load_sample, sample_dir
from .settings import canonical_operator, default_year
from .tables import Row, Table, Tables, read_tables

__all__ = [
    "COLUMNS", "LATER_FIELDS", "OPTIONAL_SHEETS", "PLAN_PREFIX", "REQUIRED_COLUMNS", "REQUIRED_SHEETS", "SETTING_KEYS",
    "SHEETS", "MasterError", "Row", "Table", "Tables", "build_master", "canonical_operator", "check_master",
    "check_tables", "column_letter", "columns_for", "compute_fingerprint", "default_year", "field_columns",
    "load_master", "load_sample", "plan_header", "project_columns", "read_tables", "sample_dir",
    "unreadable_finding", "write_master",
]


def __getattr__(name: str):
    """``write_master`` from :mod:`jixiao_xl.xlsx.masterbook`, imported when first asked for (PEP 562)."""
    if name == "write_master":
        from ..xlsx.masterbook import write_master

        return write_master
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
