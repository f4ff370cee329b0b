"""The check reports: findings.json/.csv for scripts, report.xlsx and report.html for people (DESIGN §7, §9).

:func:`write_reports` writes all four, each atomically, in one stable order of findings (:mod:`.overview`):
report.xlsx in :mod:`.excel`, report.html in :mod:`.html`, findings.json/.csv in :mod:`.data`. Nothing a
user typed reaches a spreadsheet as a formula (``write_string`` only, CSV cells neutralised) or the HTML
page as markup (jinja2 autoescape, no ``|safe``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..findings import Finding, count_by_severity
from ..model import Master
from ..safety import write_atomic
from ..status import UnitStatus
from ..submission import Submission
from .data import to_csv, to_json
from .excel import (COLUMN_WIDTHS, EXTRAS_HEADERS, EXTRAS_SHEET, FINDINGS_SHEET, FIXED_CREATED, HEADERS_ZH,
                    LINE_HEIGHT, OVERVIEW_HEADERS, OVERVIEW_SHEET, RULE_HEADERS, RULES_SHEET, SEVERITY_FILL,
                    SEVERITY_FONT, UNIT_HEADERS, UNIT_SHEET_LIMIT, UNKNOWN_UNIT_SHEET, FailureHandler,
                    extra_field_rows, unit_sheet_names, write_xlsx, write_xlsx_atomic)
from .html import HTML_TEMPLATE, ProjectGroup, UnitGroup, render_html, unit_groups
from .overview import (BLANK_RULE, FILES_TITLE, STATUS_BLANK, STATUS_ERRORS, STATUS_MISSING, STATUS_OK, STATUS_UNREAD,
                       STATUS_WARNINGS, UNITS_TITLE, OverviewRow, cell_order, findings_by_unit, overview_rows,
                       project_names, rule_of, rule_title, sort_findings, unit_names)

__all__ = [  # this package's own names and those of its rooms, importable from jixiao_xl.report
    "CSV_NAME", "HTML_NAME", "JSON_NAME", "XLSX_NAME", "ReportPaths", "summary_lines", "write_reports",
    "to_csv", "to_json",
    "COLUMN_WIDTHS", "EXTRAS_HEADERS", "EXTRAS_SHEET", "FINDINGS_SHEET", "FIXED_CREATED", "HEADERS_ZH", "LINE_HEIGHT",
    "OVERVIEW_HEADERS", "OVERVIEW_SHEET", "RULE_HEADERS", "RULES_SHEET", "SEVERITY_FILL", "SEVERITY_FONT",
    "UNIT_HEADERS", "UNIT_SHEET_LIMIT", "UNKNOWN_UNIT_SHEET", "FailureHandler", "extra_field_rows",
    "unit_sheet_names", "write_xlsx", "write_xlsx_atomic",
    "HTML_TEMPLATE", "ProjectGroup", "UnitGroup", "render_html", "unit_groups",
    "BLANK_RULE", "FILES_TITLE", "STATUS_BLANK", "STATUS_ERRORS", "STATUS_MISSING", "STATUS_OK", "STATUS_UNREAD",
    "STATUS_WARNINGS", "UNITS_TITLE", "OverviewRow", "cell_order", "findings_by_unit", "overview_rows",
    "project_names", "rule_of", "rule_title", "sort_findings", "unit_names",
]

JSON_NAME = "findings.json"
CSV_NAME = "findings.csv"
XLSX_NAME = "report.xlsx"
HTML_NAME = "report.html"


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_reports` put each report."""

    out_dir: Path
    json: Path
    csv: Path
    xlsx: Path
    html: Path



def write_reports(out_dir: Path, findings: Sequence[Finding], submissions: Sequence[Submission],
                  master: Master | None, units: Sequence[UnitStatus] | None = None,
                  failure: FailureHandler | None = None) -> ReportPaths:
    """Write findings.json, findings.csv, report.xlsx and report.html into ``out_dir``; return their paths.

    ``units``: every unit's state from the ledger, shown first on 概览 (then 概览's file rows name only this
    run's files). ``failure``: turns a unit's sheet that could not be written into a finding (listed in
    findings.json/csv and on 问题清单 of report.html) instead of failing the whole report.
    """
    out_dir = Path(out_dir)
    paths = ReportPaths(out_dir, out_dir / JSON_NAME, out_dir / CSV_NAME, out_dir / XLSX_NAME, out_dir / HTML_NAME)
    ordered = sort_findings(findings)
    overview = overview_rows(ordered, submissions, master, outstanding=units is None)
    failures: list[Finding] = []
    write_xlsx_atomic(paths.xlsx, ordered, overview, submissions, master, units, failure, failures)
    if failures:
        ordered = sort_findings([*ordered, *failures])
    write_atomic(paths.html, render_html(ordered, overview, submissions, master, units))
    write_atomic(paths.json, to_json(ordered) + "\n")
    write_atomic(paths.csv, to_csv(ordered).encode("utf-8-sig"))
    return paths


def summary_lines(findings: Sequence[Finding], submissions: Sequence[Submission], paths: ReportPaths) -> list[str]:
    """A short Chinese summary for the terminal: what was checked, what was found, where the reports are."""
    counts = count_by_severity(findings)
    units = {s.unit_code for s in submissions if s.unit_code}
    blanks = {f.file for f in findings if f.rule == BLANK_RULE}
    unreadable = sum(1 for s in submissions if not s.readable and s.file not in blanks)
    lines = [f"核对文件 {len(submissions)} 个，涉及单位 {len(units)} 个" + (f"，其中无法读取 {unreadable} 个" if unreadable else "") + "。",
             f"发现错误 {counts['error']} 条，警告 {counts['warning']} 条，提示 {counts['info']} 条。"]
    if not findings:
        lines.append("未发现问题。")
    lines += [f"核对报告（Excel）：{paths.xlsx}", f"核对报告（网页）：{paths.html}",
              f"问题数据（JSON/CSV）：{paths.json}、{paths.csv}"]
    return lines
