"""The check reports: findings.json/.csv for scripts, report.xlsx and report.html for people (DESIGN §7, §9).

Every file is written atomically. Findings appear in one stable order everywhere (unit, file, project,
severity, sheet, cell), so identical inputs give byte-identical reports. Nothing a user typed reaches a
spreadsheet as a formula (``write_string`` only, CSV cells neutralised) or the HTML page as
markup (jinja2 autoescape, no ``|safe``).

Given the ledger's state of every unit (``units``, from :func:`jixiao_xl.status.unit_status`), the 概览
shows it first — the same states and counts as ``status`` — and this run's own files below it, apart.
A failure while writing one unit's sheet becomes a finding for that unit (``failure``), not the end.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import jinja2

from . import catalogue
from .findings import COLUMNS, FOUND_BY_ZH, SEVERITIES, SEVERITY_ZH, Finding, count_by_severity, to_csv, to_json
from .model import Master
from .resources import text_templates_dir
from .safety import FIXED_DOCUMENT_TIME, atomic_target, commit_atomic, sheet_name, write_atomic
from .xlsx import new_workbook
from .xlsx.sheetwriter import print_as_list, wrapped_row_height
from .ledger import display_time
from .status import UnitStatus
from .status import summary as state_summary
from .submission import Submission

# (单位编码, 哪一部分, the exception) → the finding that says that part is missing
FailureHandler = Callable[[str, str, BaseException], Finding]

JSON_NAME = "findings.json"
CSV_NAME = "findings.csv"
XLSX_NAME = "report.xlsx"
HTML_NAME = "report.html"
HTML_TEMPLATE = "report.html.j2"

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
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

OVERVIEW_SHEET = "概览"
FINDINGS_SHEET = "问题清单"
RULES_SHEET = "规则说明"
UNKNOWN_UNIT_SHEET = "单位未识别"
# Above this many units with findings, report.xlsx gets no sheet per unit: thousands of sheets make the
# workbook slow to open and to page through; 问题清单's filter on 单位编码 does the same job.
UNIT_SHEET_LIMIT = 200

STATUS_UNREAD = "无法读取"
STATUS_ERRORS = "有错误，需退回修改"
STATUS_WARNINGS = "有警告，需退回修改"
STATUS_OK = "通过"
STATUS_MISSING = "未报送"
STATUS_BLANK = "未填写的下发表，不算报送"
BLANK_RULE = "X-BLANK"
UNITS_TITLE = "各单位当前状态（与 jixiao-xl status 一致）"
FILES_TITLE = "本次核对的文件"
UNIT_HEADERS = ("单位编码", "单位名称", "状态", "报送文件", "报送时间", "错误", "警告", "填表人", "联系电话", "填报日期",
                "审核", "审核意见")


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_reports` put each report."""

    out_dir: Path
    json: Path
    csv: Path
    xlsx: Path
    html: Path


@dataclass(frozen=True)
class OverviewRow:
    """One line of the 概览: a returned file (or an outstanding unit) with its finding counts."""

    unit_code: str
    unit_name: str
    file: str
    status: str
    errors: int = 0
    warnings: int = 0
    infos: int = 0


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
    _write_xlsx_atomic(paths.xlsx, ordered, overview, submissions, master, units, failure, failures)
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


# ---------------------------------------------------------------------------------------------------------
# Ordering and grouping


def cell_order(cell: str) -> tuple[int, int, str]:
    """Sort key of an A1 reference: row first, then column (``F9`` before ``F14``); odd text sorts last."""
    match = re.fullmatch(r"\$?([A-Za-z]{1,3})\$?(\d+)", cell.split(",")[0].split(":")[0].strip())
    if not match:
        return (1 << 30, 0, cell)
    col = 0
    for char in match.group(1).upper():
        col = col * 26 + ord(char) - 64
    return (int(match.group(2)), col, "")


def _finding_key(f: Finding) -> tuple:
    return (f.unit_code == "", f.unit_code, f.file, f.project_code, _SEVERITY_RANK[f.severity], f.sheet,
            cell_order(f.cell), f.rule, f.field, f.message)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in report order: by unit, file, project, severity, sheet and cell (unknown unit last)."""
    return sorted(findings, key=_finding_key)


def rule_of(code: str) -> catalogue.Rule | None:
    """The catalogue entry of a rule code, or None for a code nobody registered."""
    try:
        return catalogue.get(code)
    except KeyError:
        return None


def rule_title(code: str) -> str:
    """The Chinese title of a rule code (a placeholder when the code is not in the catalogue)."""
    rule = rule_of(code)
    return rule.title if rule is not None else "（规则目录中没有此代码）"


def unit_names(submissions: Sequence[Submission], master: Master | None) -> dict[str, str]:
    """单位编码 → 单位名称: the master's name, else the name read from the returned file."""
    names = {s.unit_code: s.unit_name for s in submissions if s.unit_code and s.unit_name}
    if master is not None:
        names.update({u.code: u.name for u in master.units})
    return names


def project_names(submissions: Sequence[Submission], master: Master | None) -> dict[str, str]:
    """项目编码 → 项目名称: the master's name, else the name read from a returned file."""
    names = {rp.project.code: rp.project.name for s in submissions for rp in s.projects if rp.project.code}
    if master is not None:
        names.update({p.code: p.name for p in master.projects})
    return names


def _status(sub: Submission | None, counts: dict[str, int], blank: bool = False) -> str:
    if blank:
        return STATUS_BLANK
    if sub is not None and not sub.readable:
        return STATUS_UNREAD
    if counts["error"]:
        return STATUS_ERRORS
    if counts["warning"]:
        return STATUS_WARNINGS
    return STATUS_OK


def overview_rows(findings: Sequence[Finding], submissions: Sequence[Submission],
                  master: Master | None, outstanding: bool = True) -> list[OverviewRow]:
    """One row per returned file (and per file only findings mention), plus — with ``outstanding`` — the
    master's units that sent no file in this run."""
    by_file = {s.file: s for s in submissions}
    groups: dict[tuple[str, str], list[Finding]] = {(s.unit_code, s.file): [] for s in submissions}
    for f in findings:
        sub = by_file.get(f.file)
        key = (sub.unit_code, sub.file) if sub is not None else (f.unit_code, f.file)
        groups.setdefault(key, []).append(f)
    names = unit_names(submissions, master)
    rows = []
    for (code, file), mine in groups.items():
        counts = count_by_severity(mine)
        blank = any(f.rule == BLANK_RULE for f in mine)
        rows.append(OverviewRow(code, names.get(code, ""), file, _status(by_file.get(file), counts, blank),
                                counts["error"], counts["warning"], counts["info"]))
    returned = {code for code, _ in groups}
    if master is not None and outstanding:
        rows += [OverviewRow(u.code, u.name, "", STATUS_MISSING) for u in master.units if u.code not in returned]
    return sorted(rows, key=lambda r: (r.unit_code == "", r.unit_code, r.file))


# ---------------------------------------------------------------------------------------------------------
# report.xlsx


def _write_xlsx_atomic(path: Path, findings, overview, submissions, master, units=None, failure=None,
                       failures: list[Finding] | None = None) -> None:
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
    return {code: mine for code, mine in _findings_by_unit(findings).items() if code in returned or not code}


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


def _findings_by_unit(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    """Findings grouped by 单位编码 in report order; the empty code (unit unknown) comes last."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.unit_code, []).append(f)
    return dict(sorted(groups.items(), key=lambda item: (item[0] == "", item[0])))


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


# ---------------------------------------------------------------------------------------------------------
# report.html


@dataclass(frozen=True)
class ProjectGroup:
    """Findings of one project (or of the file / department sheet when ``code`` is empty)."""

    code: str
    name: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class UnitGroup:
    """Findings of one unit, grouped by project."""

    code: str
    name: str
    counts: dict[str, int]
    projects: tuple[ProjectGroup, ...]


def unit_groups(findings: Sequence[Finding], submissions: Sequence[Submission],
                master: Master | None) -> list[UnitGroup]:
    """Findings grouped by unit, then by project, in report order."""
    units, projects = unit_names(submissions, master), project_names(submissions, master)
    groups = []
    for code, mine in _findings_by_unit(findings).items():
        by_project: dict[str, list[Finding]] = {}
        for f in mine:
            by_project.setdefault(f.project_code, []).append(f)
        project_groups = tuple(ProjectGroup(p, projects.get(p, ""), tuple(fs)) for p, fs in sorted(by_project.items()))
        groups.append(UnitGroup(code, units.get(code, ""), count_by_severity(mine), project_groups))
    return groups


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(text_templates_dir())), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_html(findings: Sequence[Finding], overview: Sequence[OverviewRow], submissions: Sequence[Submission],
                master: Master | None, units: Sequence[UnitStatus] | None = None) -> str:
    """The self-contained HTML report (inline CSS and script, every value escaped by jinja2)."""
    counts = count_by_severity(findings)
    title = "绩效目标表核对报告"
    if master is not None:
        title = f"{master.settings.year}年度{title}"
    return _environment().get_template(HTML_TEMPLATE).render(
        title=title, counts=counts, severities=SEVERITIES, severity_zh=SEVERITY_ZH,
        files=len(submissions), units=len({s.unit_code for s in submissions if s.unit_code}),
        overview=overview, groups=unit_groups(findings, submissions, master), rule_title=rule_title,
        found_by_zh=FOUND_BY_ZH, unit_states=units, unit_state_counts=_state_counts(units),
        units_title=UNITS_TITLE, files_title=FILES_TITLE, display_time=display_time,
    )


def _state_counts(units: Sequence[UnitStatus] | None) -> dict[str, int]:
    return state_summary(units) if units is not None else {}
