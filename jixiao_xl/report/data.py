"""findings.json and findings.csv: the check's findings for scripts, in the contract columns (DESIGN §7)."""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable

from ..findings import COLUMNS, Finding
from ..safety import neutralise_formula


def to_json(findings: Iterable[Finding]) -> str:
    """Findings as a JSON array of objects with the contract columns (UTF-8, not ASCII-escaped)."""
    return json.dumps([f.as_row() for f in findings], ensure_ascii=False, indent=1)


def to_csv(findings: Iterable[Finding]) -> str:
    """Findings as CSV text with a header row; cells that a spreadsheet would run as formulas are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for f in findings:
        row = f.as_row()
        writer.writerow([neutralise_formula(row[c]) for c in COLUMNS])
    return buffer.getvalue()
