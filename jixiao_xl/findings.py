"""Findings: every problem the tool sees, as data with a location (DESIGN §7).

A finding is never printed and forgotten: stages return lists of :class:`Finding`, the reports render
them (:mod:`jixiao_xl.report`, findings.json/.csv included), the ledger stores them. The column order of
:data:`COLUMNS` is a contract.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

COLUMNS = (
    "file",
    "sha256",
    "unit_code",
    "project_code",
    "sheet",
    "cell",
    "field",
    "rule",
    "severity",
    "message",
    "value",
    "expected",
    "found_by",
)

SEVERITIES = ("error", "warning", "info")
SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
# How a value was located (the found_by column), in the words reports and the terminal show.
FOUND_BY_ZH = {"name": "定义名称", "meta": "字段表", "label": "标签定位", "template": "模板坐标"}


@dataclass(frozen=True)
class Finding:
    """One problem, located as precisely as the input allows."""

    rule: str
    severity: str
    message: str
    file: str = ""
    sha256: str = ""
    unit_code: str = ""
    project_code: str = ""
    sheet: str = ""
    cell: str = ""
    field: str = ""
    value: str = ""
    expected: str = ""
    found_by: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def with_source(self, file: str, sha256: str) -> "Finding":
        """The same finding, attributed to a file."""
        return replace(self, file=file, sha256=sha256)

    def as_row(self) -> dict[str, str]:
        """The finding as an ordered dict of the contract columns, every value a string."""
        return {name: _text(getattr(self, name)) for name in COLUMNS}


def _text(value: object) -> str:
    return "" if value is None else str(value)


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each severity (all three keys are always present)."""
    counts = {s: 0 for s in SEVERITIES}
    for f in findings:
        counts[f.severity] += 1
    return counts


def one_per_cell(findings: Iterable[Finding]) -> list[Finding]:
    """The findings with one per file, sheet, cell and rule, keeping the first, in their order.

    Findings that name no cell (a file that cannot be opened) are only dropped when they say the same.
    """
    seen: set[tuple[str, ...]] = set()
    kept: list[Finding] = []
    for f in findings:
        key = (f.file, f.sheet, f.cell, f.rule) if f.cell else (f.file, f.sheet, f.rule, f.project_code, f.message)
        if key not in seen:
            seen.add(key)
            kept.append(f)
    return kept


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding has severity error."""
    return any(f.severity == "error" for f in findings)

