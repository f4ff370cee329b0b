"""report.xlsx: 概览, 问题清单, a sheet per unit, 附加填写项 and 规则说明, for people (DESIGN §7, §9).

Given the ledger's state of every unit (``units``, from :func:`jixiao_xl.status.unit_status`), the 概览
shows it first — the same states and counts as ``status`` — and this run's own files below it, apart.
A failure while writing one unit's sheet becomes a finding for that unit (``failure``), not the end.
Nothing a user typed reaches the workbook as a formula: every text is written with ``write_string``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Sequence

from .. import catalogue
from ..findings import COLUMNS, FOUND_BY_ZH, SEVERITIES, SEVERITY_ZH, Finding
from ..ledger import display_time
from ..model import Master
from ..safety import FIXED_DOCUMENT_TIME, atomic_target, commit_atomic, sheet_name
from ..status import UnitStatus
from ..status import summary as state_summary
from ..submission import Submission
from ..xlsx import new_workbook
from ..xlsx.sheetwriter import print_as_list, wrapped_row_height
from .overview import FILES_TITLE, UNITS_TITLE, OverviewRow, findings_by_unit, rule_of, rule_title, unit_names

# (单位编码, 哪一部分, the exception) → the finding that says that part is missing
FailureHandler = Callable[[str, str, BaseException], Finding]

# Fixed document date: the report's bytes depend on its inputs only.
FIXED_CREATED = FIXED_DOCUMENT_TIME

HEADERS_ZH = dict(zip(COLUMNS, ("文件", "sha256", "单位编码", "项目编码", "工作表", "单元格", "字段", "规则",
                                "严重程度", "问题说明", "填报值", "应为", "定位方式")))
# Sized so the 13 columns print on one landscape A4 page wide at close to 100 % (texts wrap, nothing is cut);
# the sha256 column shows its first characters (the whole value is in the cell, for filters and scripts).
COLUMN_WIDTHS = dict(zip(COLUMNS, (16, 9, 9, 14, 14, 6, 10, 8, 6, 44, 12, 12, 6)))
LINE_HEIGHT = 13.0  # points per wrapped line at the report's 10-point font
SEVERITY_FILL = {"error": "#FFC7CE", "warning": "#FFEB9C", "info": "#DDEBF7"}
SEVERITY_FONT = {"error": "#9C0006", "warning": "#7F6000", "info": "#1F4E78"}

OVERVIEW_SHEET = "概览"
FINDINGS_SHEET = "问题清单"
RULES_SHEET = "规则说明"
UNKNOWN_UNIT_SHEET = "单位未识别"
# Above this many units with findings, report.xlsx gets no sheet per unit: thousands of sheets make the
# workbook slow to open and to page through; 问题清单's filter on 单位编码 does the same job.
UNIT_SHEET_LIMIT = 200

UNIT_HEADERS = ("单位编码", "单位名称", "状态", "报送文件", "报送时间", "错误", "警告", "填表人", "联系电话", "填报日期",
                "审核", "审核意见")


def write_xlsx_atomic(path: Path, findings, overview, submissions, master, units=None, failure=None,
                      failures: list[Finding] | None = None) -> None:
    """:func:`write_xlsx` to a temporary file beside ``path``, then put in its place (nothing left on failure)."""
    tmp = atomic_target(path)
    try:
        write_xlsx(tmp, findings, overview, submissions, master, units, failure, failures)
        commit_atomic(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_xlsx(path: Path, findings: Sequence[Finding], overview: Sequence[OverviewRow],
               submissions: Sequence[Submission], master: Master | None,
               units: Sequence[UnitStatus] | None = None, failure: FailureHandler | None = None,
               failures: list[Finding] | None = None) -> None:
    """Write report.xlsx: 概览, 问题清单, one sheet per unit, 规则说明 (user text only via write_string).

    With ``failure``, a unit sheet that cannot be written is left out and ``failure``'s finding for it is
    appended to ``failures``."""
    # constant_memory: each sheet is streamed to disk row by row, so a province's findings never sit in memory
    # as cell objects (every sheet here is written top to bottom, which is all the mode asks).
    wb = new_workbook(path, constant_memory=True)
    wb.set_properties({"title": "绩效目标表核对报告", "author": "jixiao-xl", "created": FIXED_CREATED})
    styles = _Styles(wb)
    groups = _unit_groups(findings, submissions)
    overview_sheet = wb.add_worksheet(OVERVIEW_SHEET)
    first = _write_unit_states(overview_sheet, units, styles) if units is not None else 0
    _write_overview(overview_sheet, overview, styles, first_row=first,
                    note="" if len(groups) <= UNIT_SHEET_LIMIT else
                    f"有问题的单位超过 {UNIT_SHEET_LIMIT} 个，未按单位分表；请在“{FINDINGS_SHEET}”中按单位编码筛选。")
    _write_findings_table(wb.add_worksheet(FINDINGS_SHEET), findings, styles)
    if len(groups) <= UNIT_SHEET_LIMIT:
        names = unit_names(submissions, master)
        sheet_names = unit_sheet_names([(code, names.get(code, "")) for code in groups if code])
        for code, mine in groups.items():
            try:
                sheet = wb.add_worksheet(sheet_names[code] if code else UNKNOWN_UNIT_SHEET)
            except Exception as exc:  # noqa: BLE001 - one unit's sheet must not cost the whole report
                if failure is None or failures is None:
                    raise
                failures.append(failure(code, "核对报告分表", exc))
                continue
            _write_findings_table(sheet, mine, styles)
    extras = extra_field_rows(submissions)
    if extras:
        _write_extras(wb.add_worksheet(EXTRAS_SHEET), extras, styles)
    _write_rules(wb.add_worksheet(RULES_SHEET), findings, styles)
    wb.close()


EXTRAS_SHEET = "附加填写项"
EXTRAS_HEADERS = ("单位编码", "单位名称", "文件", "工作表", "项目编码", "填写项", "填写内容")


def extra_field_rows(submissions: Sequence[Submission]) -> list[tuple[str, ...]]:
    """What units typed into the template's extra fields ({{ extra.名称 }}), one row per field and sheet, in
    the order of the files (empty fields left out)."""
    rows = []
    for sub in submissions:
        sheets = [(rp.sheet, rp.project.code, rp.extras) for rp in sub.projects]
        if sub.dept is not None:
            sheets.append((sub.dept.sheet, "", sub.dept.extras))
        for sheet, project_code, extras in sheets:
            rows += [(sub.unit_code, sub.unit_name, sub.file, sheet, project_code, name, str(value))
                     for name, value in (extras or {}).items() if str(value or "").strip()]
    return rows


def _write_extras(ws, rows: Sequence[tuple[str, ...]], styles: _Styles) -> None:
    """附加填写项: the values of the template's extra fields (项目负责人 …) in this report's files."""
    widths = (12, 24, 30, 20, 22, 14, 40)
    _header(ws, EXTRAS_HEADERS, widths, styles)
    for r, row in enumerate(rows, start=1):
        ws.set_row(r, wrapped_row_height(row, widths, LINE_HEIGHT))
        for col, text in enumerate(row):
            ws.write_string(r, col, text, styles.wrap)
    ws.autofilter(0, 0, max(len(rows), 1), len(EXTRAS_HEADERS) - 1)
    print_as_list(ws)


def _unit_groups(findings: Sequence[Finding], submissions: Sequence[Submission]) -> dict[str, list[Finding]]:
    """The findings of each unit that sent files in this run (and of files whose unit is unknown).

    A unit that only appears as outstanding (X-UNIT-NO-RETURN) is listed on 概览 and 问题清单 only — a
    province has thousands of those.
    """
    returned = {s.unit_code for s in submissions}
    return {code: mine for code, mine in findings_by_unit(findings).items() if code in returned or not code}


class _Styles:
    """The report's formats, created once per workbook."""

    def __init__(self, wb) -> None:
        base = {"font_name": "宋体", "font_size": 10, "valign": "top", "border": 1, "border_color": "#BFBFBF"}
        self.head = wb.add_format({**base, "bold": True, "bg_color": "#D9E1F2", "text_wrap": True})
        self.text = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True})
        self.number = wb.add_format({**base, "num_format": "0"})
        self.total = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2"})
        self.total_number = wb.add_format({**base, "bold": True, "bg_color": "#F2F2F2", "num_format": "0"})
        self.severity = {s: wb.add_format({**base, "bg_color": SEVERITY_FILL[s], "font_color": SEVERITY_FONT[s]})
                         for s in SEVERITIES}
        self.severity_wrap = {s: wb.add_format({**base, "text_wrap": True, "bg_color": SEVERITY_FILL[s],
                                                "font_color": SEVERITY_FONT[s]}) for s in SEVERITIES}


def _header(ws, titles: Sequence[str], widths: Sequence[float], styles: _Styles, row: int = 0,
            set_widths: bool = True) -> None:
    """A header row at ``row`` (frozen when it is the first row), setting the column widths unless told not."""
    for col, (title, width) in enumerate(zip(titles, widths)):
        ws.write_string(row, col, title, styles.head)
        if set_widths:
            ws.set_column(col, col, width)
    if row == 0:
        ws.freeze_panes(1, 0)


OVERVIEW_HEADERS = ("单位编码", "单位名称", "文件", "错误", "警告", "提示", "状态")


def _write_unit_states(ws, units: Sequence[UnitStatus], styles: _Styles) -> int:
    """概览's first part: every unit's state as ``status`` gives it, then the count of each state. Returns
    the row where the file part starts."""
    ws.write_string(0, 0, UNITS_TITLE, styles.total)
    _header(ws, UNIT_HEADERS, (12, 28, 20, 48, 18, 8, 8, 10, 16, 12, 8, 30), styles, row=1)
    for r, unit in enumerate(units, start=2):
        texts = (unit.code, unit.name, unit.state, unit.return_file, display_time(unit.received_at))
        for col, text in enumerate(texts):
            ws.write_string(r, col, text, styles.text)
        ws.write_number(r, 5, unit.errors, styles.number)
        ws.write_number(r, 6, unit.warnings, styles.number)
        for col, text in enumerate((unit.contact_name, unit.contact_phone, unit.filled_on, unit.review,
                                    unit.review_reason), start=7):
            ws.write_string(r, col, text, styles.wrap if col == 11 else styles.text)
    r = len(units) + 2
    ws.write_string(r, 0, "合计", styles.total)
    ws.write_string(r, 1, f"{len(units)} 个单位", styles.total)
    ws.write_string(r, 2, "，".join(f"{state} {n}" for state, n in state_summary(units).items()), styles.total)
    ws.write_string(r + 2, 0, FILES_TITLE, styles.total)
    return r + 3


def _write_overview(ws, rows: Sequence[OverviewRow], styles: _Styles, note: str = "", first_row: int = 0) -> None:
    """概览: one line per returned file or outstanding unit, then the totals (and ``note`` below them),
    from ``first_row`` down."""
    _header(ws, OVERVIEW_HEADERS, (12, 28, 48, 8, 8, 8, 20), styles, row=first_row, set_widths=first_row == 0)
    for r, row in enumerate(rows, start=first_row + 1):
        for col, text in enumerate((row.unit_code, row.unit_name, row.file)):
            ws.write_string(r, col, text, styles.text)
        for col, count in enumerate((row.errors, row.warnings, row.infos), start=3):
            ws.write_number(r, col, count, styles.number)
        ws.write_string(r, 6, row.status, styles.text)
    files = sum(1 for row in rows if row.file)
    total = first_row + len(rows) + 1
    ws.write_string(total, 0, "合计", styles.total)
    ws.write_string(total, 1, f"{len({row.unit_code for row in rows if row.unit_code and row.file})} 个单位", styles.total)
    ws.write_string(total, 2, f"{files} 个文件", styles.total)
    for col, attr in enumerate(("errors", "warnings", "infos"), start=3):
        ws.write_number(total, col, sum(getattr(row, attr) for row in rows), styles.total_number)
    ws.write_string(total, 6, "", styles.total)
    if note:
        ws.write_string(total + 2, 0, note)
    print_as_list(ws)
    ws.activate()


def _display(row: dict[str, str], column: str) -> str:
    """The text shown in a report cell: severity and found_by in Chinese, everything else as recorded."""
    value = row[column]
    if column == "severity":
        return SEVERITY_ZH[value]
    if column == "found_by":
        return FOUND_BY_ZH.get(value, value)
    return value


def _write_findings_table(ws, findings: Sequence[Finding], styles: _Styles) -> None:
    """The 13 contract columns with Chinese headers, one coloured row per finding, filter and frozen header."""
    _header(ws, [HEADERS_ZH[c] for c in COLUMNS], [COLUMN_WIDTHS[c] for c in COLUMNS], styles)
    widths = [COLUMN_WIDTHS[c] for c in COLUMNS]
    for r, f in enumerate(findings, start=1):
        row = f.as_row()
        shown = [_display(row, column) for column in COLUMNS]
        ws.set_row(r, wrapped_row_height([text if column != "sha256" else "" for text, column in zip(shown, COLUMNS)],
                                         widths, LINE_HEIGHT))
        for col, column in enumerate(COLUMNS):
            fmt = styles.severity[f.severity] if column == "sha256" else styles.severity_wrap[f.severity]
            ws.write_string(r, col, shown[col], fmt)
    ws.autofilter(0, 0, max(len(findings), 1), len(COLUMNS) - 1)
    print_as_list(ws)


def unit_sheet_names(units: Sequence[tuple[str, str]]) -> dict[str, str]:
    """单位编码 → a valid, unique (case-insensitive) sheet name of at most 31 characters from code and name."""
    used = [OVERVIEW_SHEET, FINDINGS_SHEET, RULES_SHEET, UNKNOWN_UNIT_SHEET]
    names = {}
    for code, name in units:
        names[code] = sheet_name(f"{code} {name}".strip(), used, fallback="单位")
        used.append(names[code])
    return names


RULE_HEADERS = ("规则", "类别", "默认严重程度", "规则说明", "修改方法", "出现次数")


def _write_rules(ws, findings: Sequence[Finding], styles: _Styles) -> None:
    """规则说明: every rule code used in this report with its catalogue title and fix."""
    widths = (14, 12, 12, 40, 60, 10)
    _header(ws, RULE_HEADERS, widths, styles)
    used = Counter(f.rule for f in findings)
    for r, code in enumerate(sorted(used), start=1):
        rule = rule_of(code)
        category = rule.category if rule else catalogue.CATEGORIES.get(code.split("-")[0], "其他")
        cells = (code, category, SEVERITY_ZH.get(rule.severity, "") if rule else "", rule_title(code),
                 rule.fix if rule else "")
        ws.set_row(r, wrapped_row_height(cells, widths, LINE_HEIGHT))
        for col, text in enumerate(cells):
            ws.write_string(r, col, text, styles.wrap if col >= 3 else styles.text)
        ws.write_number(r, 5, used[code], styles.number)
    print_as_list(ws)
