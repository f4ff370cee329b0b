"""Read a returned workbook into a :class:`~jixiao_xl.submission.Submission` (DESIGN §6).

Every field is located by, in order: its ``JX_`` defined name, the ``_meta`` field map, a label anchor
(the cell right of 项目编码, the row of 支出计划节点, the indicator header and the 填表人 footer), and finally
the template's own coordinates. Each value keeps its raw text, its cell and how it was found. The
indicator grid is read from its header row to its footer, whatever its length. Problems in reading
become findings with P- codes; nothing here raises for a bad file.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from . import taxonomy, values
from .catalogue import define
from .findings import Finding
from .intake import Intake, Limits, inspect_file
from .measures import parse_measures
from .model import DeptGoal, DeptIndicator, Indicator, PlanPoint, Project
from .runtime import run_isolated
from .submission import Footer, Location, ReturnedDept, ReturnedProject, Submission
from .template import (DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, FormSpec, TemplateKey, TemplateSet, as_template_set,
                       builtin_template, defined_name, is_extra, load_spec)
from .unbound import SheetRead, other_content
from .workbook import CellAddress, Sheet, WorkbookData, col_letter, open_workbook, parse_a1

P_NOT_FORM = define("P-NOT-FORM", "error", "不是下发的绩效目标表", "请使用主管部门下发的工作簿填写后报送，不要另建表格。", "本工具约定")
P_NO_META = define("P-NO-META", "info", "隐藏的 _meta 工作表已丢失", "已按单元格名称和表头文字定位，无需处理；如有疑问请使用下发的原文件填写。",
                   "本工具约定")
P_NAMES = define("P-NAMES-LOST", "info", "单元格名称已丢失", "已按表头文字和模板位置读取；请核对读取结果。", "本工具约定")
P_MOVED = define("P-MOVED", "info", "字段位置与下发时不同", "已按表头文字找到该字段，请确认没有误改表格结构。", "本工具约定")
P_ROWS = define("P-ROWS-CHANGED", "info", "指标区行数与下发时不同", "已读取表头与“填表人”之间的全部行；以后请使用预留的空白行，不要插入或删除行。",
                "本工具约定")
P_NUMBER = define("P-NUMBER", "error", "金额或数值不是数字", "请只填写数字（如 6.00），单位已在表头注明。", "本工具约定")
P_FORMULA = define("P-FORMULA", "warning", "填写单元格中是公式", "请直接填写数值或文字，不要填写公式。", "本工具约定")
P_FILLDOWN = define("P-FILLDOWN", "info", "一级/二级指标为空，已沿用上一行", "如属于其他一级/二级指标，请在该行选择正确的指标。", "本工具约定")
P_PROTECTION = define("P-PROTECTION-REMOVED", "warning", "工作表保护已被取消", "锁定的下发数据仍会逐项核对；请勿修改锁定内容。", "本工具约定")
P_SHEET = define("P-SHEET-RENAMED", "info", "工作表名称已改动", "已按单元格名称找到该项目，请勿改动工作表名称。", "本工具约定")
P_SEQ = define("P-DEPT-SEQ", "error", "部门整体指标未注明所属分项", "在“序号”列填写该指标所属分项绩效目标的序号。", "本工具约定")
P_UNIT = define("P-UNIT-UNKNOWN", "warning", "无法确定报送单位", "请使用下发的工作簿填写；文件中应有单位编码。", "本工具约定")
P_MEASURES = define("P-MEASURES", "info", "工作保障措施无法按序号分条", "每条措施单独一段，以 1、2、3 顺序编号（如“1、措施名称。措施内容”）。",
                    "本工具约定")
P_DATE = define("P-DATE", "info", "填报日期无法识别为日期", "填报日期请写成 2025-03-15 或 2025年3月15日 这样的日期。", "本工具约定")

# The same few 一级/二级 names and units recur in every grid row: fold each spelling once per process.
_canonical_level1 = lru_cache(maxsize=4096)(taxonomy.canonical_level1)
_canonical_level2 = lru_cache(maxsize=4096)(taxonomy.canonical_level2)
_canonical_unit = lru_cache(maxsize=4096)(taxonomy.canonical_unit)
# … and the same few values (95.0, "≥", "%"). typed: True and 1 are equal keys but do not read the same.
_split_indicator_value = lru_cache(maxsize=4096, typed=True)(values.split_indicator_value)

FOOTER_FIELDS = ("footer.filler", "footer.phone", "footer.date")
PROJECT_SCALARS = ("project.code", "project.name", "project.budget", "project.fiscal", "project.other",
                   "project.purpose", "project.annual_goal", "footer.filler", "footer.phone", "footer.date")
MONEY_FIELDS = {"budget", "fiscal", "other"}
DEPT_SHEET_NAME = "部门整体绩效目标"


@dataclass
class _Context:
    """Per-file reading state shared by the locate helpers."""

    data: WorkbookData
    file: str
    sha256: str
    money_unit: str
    findings: list[Finding] = field(default_factory=list)
    sheets: list[SheetRead] = field(default_factory=list)  # what each form sheet gave, for unbound.other_content

    def add(self, rule, message: str, **where) -> None:
        self.findings.append(Finding(rule.code, rule.severity, message, file=self.file, sha256=self.sha256, **where))


@dataclass(frozen=True)
class Meta:
    """What the hidden ``_meta`` sheet says (empty when it is gone).

    ``fields`` is the field map as written: a field path → ``sheet!A1``, and a grid column
    (``p01.i*.value``) → ``sheet!F11:F20``, the k-th cell of the range being grid row k (``p01.i03.value`` is
    its third cell). Workbooks issued before the compact field map list every grid cell on its own.
    """

    values: dict[str, str]
    projects: list[tuple[str, str, str]]
    fields: dict[str, str]

    def cell(self, path: str) -> tuple[int, int] | None:
        """Zero-based (row, col) of a field path, scalar or grid row; None when the map does not have it."""
        ref = self.fields.get(path)
        if ref is not None:
            return parse_a1(ref.rpartition("!")[2]) if "!" in ref else None
        match = _GRID_ROW_PATH.match(path)
        column = self.column(f"{match[1]}*.{match[3]}") if match else None
        if column is None:
            return None
        _sheet, first, last, col = column
        row = first + int(match[2]) - 1
        return (row, col) if row <= last else None

    def column(self, path: str) -> tuple[str, int, int, int] | None:
        """(sheet, first row, last row, col) of a grid column such as ``p01.i*.value``; None when not in the map."""
        ref = self.fields.get(path)
        if ref is None:
            return None
        sheet, _, cells = ref.rpartition("!")
        first, _, last = cells.partition(":")
        top, bottom = parse_a1(first), parse_a1(last or first)
        if top is None or bottom is None or top[1] != bottom[1] or bottom[0] < top[0]:
            return None
        return sheet, top[0], bottom[0], top[1]

    def grid_rows(self, key: str) -> int:
        """How many rows the grid of ``key`` (``p01``, ``d``) was issued with; 0 when the map does not say."""
        for path in (f"{key}.i*.name", f"{key}.r*.name"):
            column = self.column(path)
            if column is not None:
                return column[2] - column[1] + 1
        pattern = re.compile(rf"^{re.escape(key)}\.[ir]\d+\.name$")  # a workbook issued before the compact map
        return sum(1 for path in self.fields if pattern.match(path))

    def field_cells(self) -> dict[str, str]:
        """Every field path with its ``sheet!A1``, grid columns expanded row by row."""
        cells = {}
        for path, ref in self.fields.items():
            column = self.column(path) if "*" in path else None
            if column is None:
                cells[path] = ref
                continue
            sheet, first, last, col = column
            for k in range(1, last - first + 2):
                cells[path.replace("*", f"{k:02d}", 1)] = f"{sheet}!{col_letter(col)}{first + k}"
        return cells


# A grid row's field path: ``p01.i03.value``, ``d.r12.goal_seq`` (see fill.field_map).
_GRID_ROW_PATH = re.compile(r"^(.+\.[a-z])(\d+)\.([^.]+)$")


# ---------------------------------------------------------------------------------------------------------
# Entry points


def default_specs() -> tuple[FormSpec, FormSpec]:
    """The compiled shipped templates (project form, department form)."""
    return load_spec(builtin_template(PROJECT_TEMPLATE)), load_spec(builtin_template(DEPARTMENT_TEMPLATE))


def read_file(path: Path, money_unit: str = "万元", specs: tuple[FormSpec, FormSpec] | None = None,
              limits: Limits = Limits(), isolate: bool = True) -> Submission:
    """Intake, then read one returned file; any problem becomes a finding (never raises for file content)."""
    intake = inspect_file(Path(path), limits)
    if not intake.readable:
        return unreadable(intake)
    specs = specs or default_specs()
    if not isolate:
        return read_intake(intake, money_unit, specs)
    result = run_isolated(read_intake, intake, money_unit, specs, limits=limits)
    return result.value if result.ok else unreadable(intake, result.finding)


def unreadable(intake: Intake, failure: Finding | None = None) -> Submission:
    """The submission of a file that could not be read: its identity and the findings that say why."""
    extra = ()
    if failure is not None:
        extra = (Finding(failure.rule, failure.severity, failure.message, file=intake.file, sha256=intake.sha256,
                         value=failure.value),)
    return Submission(file=intake.file, sha256=intake.sha256, kind=intake.kind.value,
                      findings=tuple(intake.findings) + extra)


def read_intake(intake: Intake, money_unit: str, specs: tuple[FormSpec, FormSpec] | TemplateSet) -> Submission:
    """Read a file that intake accepted (not isolated: call it inside run_isolated or an IsolatedPool).

    ``specs`` is the pair of templates to read with, or a :class:`TemplateSet` that picks the pair from what
    the return records (the template it was made from, its unit).
    """
    try:
        data = open_workbook(Path(intake.path), intake.kind.value)
    except Exception as exc:  # noqa: BLE001 - a file calamine cannot open is a finding, not a crash
        finding = Finding("I-CORRUPT", "error", f"文件已损坏或格式异常，无法读取（{type(exc).__name__}）；请在 Excel/WPS 中打开后另存为 .xlsx 再提交。",
                          file=intake.file, sha256=intake.sha256, value=type(exc).__name__)
        return unreadable(intake, finding)
    templates = as_template_set(specs)
    sub = read_workbook(data, intake.file, intake.sha256, money_unit, *templates.default, templates=templates)
    return Submission(**{**sub.__dict__, "findings": tuple(intake.findings) + sub.findings})


def read_workbook(data: WorkbookData, file: str, sha256: str, money_unit: str, project_spec: FormSpec,
                  dept_spec: FormSpec, templates: TemplateSet | None = None) -> Submission:
    """Read an opened workbook: identity, every project sheet and the department sheet.

    With ``templates``, the pair it picks for this return replaces ``project_spec`` and ``dept_spec``.
    """
    ctx = _Context(data, file, sha256, money_unit)
    meta = read_meta(data)
    unit_code, unit_name = _identity(data, meta)
    template_id, template_version = _recorded_project_template(data, meta)
    if templates is not None:
        project_spec, dept_spec = templates.for_return(unit_code, *recorded_templates(data, meta))
    projects = [_read_project(ctx, meta, key, sheet, project_spec) for key, sheet in _project_sheets(ctx, meta, project_spec)]
    dept = _read_dept(ctx, meta, dept_spec)
    if not projects and dept is None:
        ctx.findings = []
        ctx.add(P_NOT_FORM, "文件中找不到任何项目支出绩效目标表或部门整体绩效目标表（没有“项目编码”等表头），不是下发的表格。")
    else:
        _note_lost_identity(ctx, meta, unit_code)
    findings = [replace_unit(f, unit_code) for f in ctx.findings]
    other = other_content(data, ctx.sheets, meta.field_cells) if projects or dept is not None else ()
    return Submission(
        other_content=other,
        file=file, sha256=sha256, kind=data.kind, unit_code=unit_code, unit_name=unit_name,
        template_id=template_id, template_version=template_version,
        master_fingerprint=meta.values.get("master_fingerprint") or data.properties.get("jixiao_master", ""),
        producer=data.producer, saved_at=data.saved_at, projects=tuple(projects), dept=dept, findings=tuple(findings),
    )


def recorded_templates(data: WorkbookData, meta: Meta) -> tuple[TemplateKey | None, TemplateKey | None]:
    """The (template id, version) of the project form and of the department form a workbook says it was made
    from (``_meta``, else the document properties, which name the project form only); None where unknown."""
    project = _recorded_project_template(data, meta)
    dept = (meta.values.get("dept_template_id", ""), meta.values.get("dept_template_version", ""))
    return (project if all(project) else None), (dept if all(dept) else None)


def _recorded_project_template(data: WorkbookData, meta: Meta) -> tuple[str, str]:
    return (meta.values.get("template_id") or data.properties.get("jixiao_template", ""),
            meta.values.get("template_version") or data.properties.get("jixiao_version", ""))


def _note_lost_identity(ctx: _Context, meta: Meta, unit_code: str) -> None:
    data = ctx.data
    if not meta.values and "_meta" not in data.sheet_names:
        ctx.add(P_NO_META, "隐藏的 _meta 工作表已被删除或丢失，已按单元格名称、表头文字定位各字段。", sheet="_meta")
    if not any(n.startswith("JX_") and data.names[n] is not None for n in data.names) and \
            data.kind in ("xlsx", "xlsm", "ods"):
        ctx.add(P_NAMES, "工作簿中的 JX_ 单元格名称已全部丢失，已按表头文字和模板位置读取。")
    if not unit_code:
        ctx.add(P_UNIT, "文件中找不到单位编码（_meta、文档属性和表头都没有），无法确定是哪个单位报送的。")


def replace_unit(finding: Finding, unit_code: str) -> Finding:
    """The finding attributed to the unit (reading findings are made before the unit is known)."""
    return replace(finding, unit_code=finding.unit_code or unit_code)


# ---------------------------------------------------------------------------------------------------------
# Identity and _meta


def read_meta(data: WorkbookData) -> Meta:
    """The identity, project list and field map of the hidden ``_meta`` sheet (an empty Meta when it is gone)."""
    if "_meta" not in data.sheet_names:
        return Meta({}, [], {})
    try:
        sheet = data.sheet("_meta")
    except Exception:  # noqa: BLE001 - a broken _meta is the same as none
        return Meta({}, [], {})
    values_, projects, fields, section = {}, [], {}, "values"
    for row in sheet.rows:
        a, b = _meta_text(row, 0), _meta_text(row, 1)
        if not a:
            continue
        if a in ("project", "field") and b in ("project_code", "cell"):
            section = a
        elif section == "values" and a != "项目":
            values_[a] = b
        elif section == "project":
            projects.append((a, b, _meta_text(row, 2)))
        elif section == "field":
            fields[a] = b
    return Meta(values_, projects, fields)


def _meta_text(row: list[object], col: int) -> str:
    # _meta is ours and holds only text, so plain str() (not clean_text) is enough and much cheaper.
    value = row[col] if col < len(row) else None
    return "" if value is None else str(value).strip()


def _identity(data: WorkbookData, meta: Meta) -> tuple[str, str]:
    code = meta.values.get("unit_code") or data.properties.get("jixiao_unit", "")
    name = meta.values.get("unit_name", "")
    if code and name:
        return values.normalise_code(code), name
    for sheet_name in data.sheet_names:
        if sheet_name.startswith("_"):
            continue
        try:
            sheet = data.sheet(sheet_name)
        except Exception:  # noqa: BLE001
            continue
        for r in range(min(sheet.height, 4)):
            text = values.clean_text(sheet.value(r, 0))
            found_code, found_name = values.split_code_name(text) if text else ("", "")
            if found_code and found_code.isdigit():
                return values.normalise_code(code or found_code), name or found_name
    return values.normalise_code(code) if code else "", name


# ---------------------------------------------------------------------------------------------------------
# Finding the project sheets


def _project_sheets(ctx: _Context, meta: Meta, spec: FormSpec) -> list[tuple[str, str]]:
    """(key, sheet) for every project sheet: by defined name, by _meta, then by the 项目编码 label."""
    data = ctx.data
    found: dict[str, str] = {}
    for name in data.names.matching(r"JX_P.*_CODE"):
        address = data.names[name]
        if isinstance(address, CellAddress) and address.sheet in data.sheet_names:
            found["p" + name[4:-5].lower()] = address.sheet
    for key, _code, sheet in meta.projects:
        if key not in found and sheet in data.sheet_names:
            found[key] = sheet
    label = spec.label_left_of(*spec.fields["project.code"]) if "project.code" in spec.fields else "项目编码"
    taken = set(found.values())
    extra = 0
    for sheet_name in data.sheet_names:
        if sheet_name in taken or sheet_name.startswith("_"):
            continue
        try:
            sheet = data.sheet(sheet_name)
        except Exception:  # noqa: BLE001
            continue
        if label and sheet.find_text(label, range(min(sheet.height, 12))):
            extra += 1
            code = _code_right_of_label(sheet, label)
            key = next((k for k, c, _s in meta.projects if c and c == code and k not in found), None)
            found[key or f"x{extra:02d}"] = sheet_name
    expected = {key: sheet for key, _code, sheet in meta.projects}
    for key, sheet in found.items():
        if key in expected and expected[key] != sheet:
            ctx.add(P_SHEET, f"项目表“{expected[key]}”被改名为“{sheet}”，已找到并读取。", sheet=sheet)
    return sorted(found.items(), key=lambda item: data.sheet_names.index(item[1]))


def _code_right_of_label(sheet: Sheet, label: str) -> str:
    for r, c in sheet.find_text(label, range(min(sheet.height, 12))):
        cell = _right_of(sheet, r, c)
        if cell is not None:
            return values.normalise_code(sheet.value(*cell))
    return ""


def _right_of(sheet: Sheet, row: int, col: int) -> tuple[int, int] | None:
    """The first cell right of a label (skipping the label's own merge)."""
    _, end_col = sheet.merge_end(row, col)
    return row, end_col + 1


# ---------------------------------------------------------------------------------------------------------
# Locating one field


@dataclass(frozen=True)
class _Spot:
    row: int
    col: int
    found_by: str


class _Locator:
    """Finds the cells of one form sheet (project or department) by name, _meta, label or template."""

    def __init__(self, ctx: _Context, meta: Meta, spec: FormSpec, sheet: Sheet, name_prefix: str, meta_prefix: str):
        self.ctx, self.meta, self.spec, self.sheet = ctx, meta, spec, sheet
        self.name_prefix, self.meta_prefix = name_prefix, meta_prefix
        self.grid_shift = 0

    def by_name(self, path: str) -> _Spot | None:
        address = self.ctx.data.names.get(self.name_prefix + path.replace(".", "_").upper())
        if isinstance(address, CellAddress) and address.sheet == self.sheet.name:
            return _Spot(address.row, address.col, "name")
        return None

    def by_meta(self, path: str, template_field: str) -> _Spot | None:
        cell = self.meta.cell(self.meta_prefix + path)
        if cell is None:
            return None
        label = self._template_label(template_field)
        if label and not self._label_left_matches(cell[0], cell[1], label):
            return None
        return _Spot(cell[0], cell[1], "meta")

    def by_label(self, template_field: str) -> _Spot | None:
        label = self._template_label(template_field)
        if not label:
            return None
        row, col = self.spec.fields[template_field]
        hits = self.sheet.find_text(label)
        if not hits:
            return None
        # Prefer the occurrence nearest to where the template put it.
        r, c = min(hits, key=lambda h: (abs(h[0] - row - (self.grid_shift if row > self.spec.repeat_row else 0)),
                                        abs(h[1] - col)))
        right = _right_of(self.sheet, r, c)
        return _Spot(right[0], right[1], "label") if right else None

    def by_template(self, template_field: str) -> _Spot | None:
        place = self.spec.fields.get(template_field)
        if place is None:
            return None
        row, col = place
        if row > self.spec.repeat_row:
            row += self.grid_shift
        return _Spot(row, col, "template")

    def by_extra_name(self, key: str, path: str) -> _Spot | None:
        """An extra field by its defined name (``JX_P01_EXTRA_U9879…``, see template.defined_name)."""
        address = self.ctx.data.names.get(defined_name(f"{key}.{path}"))
        if isinstance(address, CellAddress) and address.sheet == self.sheet.name:
            return _Spot(address.row, address.col, "name")
        return None

    def find(self, path: str, template_field: str) -> _Spot | None:
        """The cell of a field: by its name, else the _meta field map, its label, the template's position."""
        return (self.by_name(path) or self.by_meta(path, template_field) or self.by_label(template_field)
                or self.by_template(template_field))

    def _template_label(self, template_field: str) -> str:
        place = self.spec.fields.get(template_field)
        return self.spec.label_left_of(*place) if place else ""

    def _label_left_matches(self, row: int, col: int, label: str) -> bool:
        target = taxonomy.compact(label)
        for c in range(col - 1, -1, -1):
            text = self.sheet.text(row, c)
            if text:
                return taxonomy.compact(text) == target  # NFKC both sides: 其中：财政资金 vs 其中:财政资金
        return False

    def location(self, spot: _Spot) -> Location:
        raw = values.clean_text(self.sheet.value(spot.row, spot.col))
        return Location(self.sheet.name, col_letter(spot.col) + str(spot.row + 1), spot.found_by, raw)


# ---------------------------------------------------------------------------------------------------------
# Project sheet


def _read_project(ctx: _Context, meta: Meta, key: str, sheet_name: str, spec: FormSpec) -> ReturnedProject:
    sheet = ctx.data.sheet(sheet_name)
    prefix = key.upper() + "_" if key.startswith("p") else "__NONE__"
    loc = _Locator(ctx, meta, spec, sheet, f"JX_{prefix}", f"{key}.")
    grid = _Grid.locate(ctx, sheet, spec, loc, key)
    loc.grid_shift = grid.footer_row - (spec.repeat_row + 1) if grid.footer_row is not None else 0
    locations: dict[str, Location] = {}
    notes: dict[str, tuple[str, ...]] = {}
    fields: dict[str, object] = {}
    for template_field in PROJECT_SCALARS:
        if template_field not in spec.fields:
            continue
        short = template_field.split(".", 1)[1] if template_field.startswith("project.") else template_field
        spot = loc.find(short, template_field)
        if spot is None:
            continue
        location = loc.location(spot)
        locations[short] = location
        fields[short] = _scalar(ctx, short, location, sheet, spot)
        _note_moved(ctx, spec, template_field, spot, location, grid.row_delta)
    plan = _read_plan(ctx, meta, spec, sheet, loc, locations)
    extras = _read_extras(ctx, loc, spec, key, locations)
    indicators = grid.read_indicators(locations, notes)
    ctx.sheets.append(grid.sheet_read(locations))
    project = Project(
        unit_code="", code=values.normalise_code(fields.get("code") or ""), name=str(fields.get("name") or ""),
        budget=fields.get("budget"), fiscal=fields.get("fiscal"), other=fields.get("other"),
        purpose=str(fields.get("purpose") or ""), annual_goal=str(fields.get("annual_goal") or ""),
        plan=plan, indicators=indicators,
    )
    _note_protection(ctx, sheet_name, project.code)
    # Findings made while reading the sheet are attributed to its project once the code is known.
    ctx.findings = [replace(f, project_code=project.code) if f.sheet == sheet_name and not f.project_code else f
                    for f in ctx.findings]
    return ReturnedProject(key, sheet_name, project, locations, notes, _footer(ctx, sheet, locations), extras)


def _footer(ctx: _Context, sheet: Sheet, locations: dict[str, Location]) -> Footer | None:
    """填表人, 联系电话 and 填报日期 from their located cells, the date normalised (None without a footer)."""
    if not any(path in locations for path in FOOTER_FIELDS):
        return None
    texts = {path: locations[path].raw if path in locations else "" for path in FOOTER_FIELDS}
    date_raw, date = texts["footer.date"], ""
    if date_raw:
        where = locations["footer.date"]
        place = parse_a1(where.cell)
        try:
            parsed = values.parse_date(sheet.value(*place) if place else date_raw)
        except (ValueError, TypeError, OverflowError):
            parsed = None
        if parsed is None:
            ctx.add(P_DATE, f"填报日期“{date_raw}”无法识别为日期，已按原文保留；请写成 2025-03-15 或 2025年3月15日。",
                    sheet=where.sheet, cell=where.cell, field="填报日期", value=date_raw, found_by=where.found_by)
        date = parsed.isoformat() if parsed is not None else ""
    return Footer(filler=texts["footer.filler"], phone=texts["footer.phone"], date=date, date_raw=date_raw)


def _read_extras(ctx: _Context, loc: "_Locator", spec: FormSpec, key: str,
                 locations: dict[str, Location]) -> dict[str, str]:
    """The template's own fields (``{{ extra.<名称> }}``): 名称 → the text typed, each located like any field."""
    extras = {}
    for template_field in spec.fields:
        if not is_extra(template_field):
            continue
        spot = loc.by_extra_name(key, template_field) or loc.find(template_field, template_field)
        if spot is None:
            continue
        location = loc.location(spot)
        _note_formula(ctx, location.sheet, spot, template_field)
        locations[template_field] = location
        extras[template_field.split(".", 1)[1]] = location.raw
    return extras


def _scalar(ctx: _Context, field_name: str, location: Location, sheet: Sheet, spot: _Spot):
    _note_formula(ctx, sheet.name, spot, field_name)
    if field_name in MONEY_FIELDS:
        return _money(ctx, sheet.value(spot.row, spot.col), location, field_name)
    return location.raw  # the cell's clean_text, as Location holds it


_FIELD_ZH = {"code": "项目编码", "name": "项目名称", "budget": "预算数", "fiscal": "财政资金", "other": "其他资金",
             "purpose": "预算规模及资金用途", "annual_goal": "年度绩效目标", "footer.filler": "填表人",
             "footer.phone": "联系电话", "footer.date": "填报日期"}


def _money(ctx: _Context, raw_value, location: Location, label: str) -> Decimal | None:
    try:
        amount, _note = values.parse_money(raw_value, ctx.money_unit, ctx.money_unit)
        return values.as_money(amount)
    except (ValueError, TypeError):
        ctx.add(P_NUMBER, f"{_FIELD_ZH.get(label, label)}“{location.raw}”不是数字，请填写以{ctx.money_unit}为单位的金额（如 6.00）。",
                sheet=location.sheet, cell=location.cell, field=_FIELD_ZH.get(label, label), value=location.raw,
                found_by=location.found_by)
        return None


def _note_formula(ctx: _Context, sheet_name: str, spot: _Spot, field_name: str) -> None:
    if (spot.row, spot.col) in ctx.data.formulas(sheet_name):
        cell = col_letter(spot.col) + str(spot.row + 1)
        ctx.add(P_FORMULA, f"{cell} 填写的是公式，已按其计算结果读取；请直接填写数值或文字。", sheet=sheet_name, cell=cell,
                field=_FIELD_ZH.get(field_name, field_name))


def _note_moved(ctx: _Context, spec: FormSpec, template_field: str, spot: _Spot, location: Location, delta: int) -> None:
    if spot.found_by != "label":
        return
    row, col = spec.fields[template_field]
    expected = (row + (delta if row > spec.repeat_row else 0), col)
    if (spot.row, spot.col) != expected:
        was = col_letter(col) + str(expected[0] + 1)
        ctx.add(P_MOVED, f"“{spec.label_left_of(row, col)}”不在下发时的 {was}，已在 {location.cell} 找到。", sheet=location.sheet,
                cell=location.cell, found_by="label")


def _note_protection(ctx: _Context, sheet_name: str, code: str) -> None:
    if ctx.data.kind in ("xlsx", "xlsm", "ods") and not ctx.data.is_protected(sheet_name):
        ctx.add(P_PROTECTION, f"工作表“{sheet_name}”的保护已被取消；锁定的下发数据仍会与主数据逐项核对。", sheet=sheet_name,
                project_code=code)


def _read_plan(ctx: _Context, meta: Meta, spec: FormSpec, sheet: Sheet, loc: _Locator,
               locations: dict[str, Location]) -> tuple[PlanPoint, ...]:
    if spec.plan_cell is None:
        return ()
    nodes = _plan_nodes(meta, sheet, spec)
    points = []
    for k, node in enumerate(nodes, start=1):
        spot = loc.by_name(f"plan{k}.amount") or loc.by_meta(f"plan{k}.amount", "") or _plan_by_label(sheet, spec, node)
        if spot is None:
            row, col = spec.plan_cell
            spot = _Spot(row, col + k - 1, "template")
        location = loc.location(spot)
        locations[f"plan.{node}"] = location
        _note_formula(ctx, sheet.name, spot, f"支出计划-{node}")
        points.append(PlanPoint(node, _money(ctx, sheet.value(spot.row, spot.col), location, f"支出计划-{node}")))
    return tuple(points)


def _plan_nodes(meta: Meta, sheet: Sheet, spec: FormSpec) -> list[str]:
    nodes = [n for n in meta.values.get("plan_nodes", "").split(",") if n]
    if nodes:
        return nodes
    row, col = spec.plan_cell
    found = []
    for c in range(col, col + spec.plan_span):
        text = values.clean_text(sheet.value(row - 1, c))
        if text:
            found.append(text)
    return found


def _plan_by_label(sheet: Sheet, spec: FormSpec, node: str) -> _Spot | None:
    row, _ = spec.plan_cell
    for r, c in sheet.find_text(node, range(max(0, row - 3), min(sheet.height, row + 3))):
        return _Spot(r + 1, c, "label")
    return None


# ---------------------------------------------------------------------------------------------------------
# Indicator grid


@dataclass
class _Grid:
    """The indicator grid of one sheet: header row, footer row, and a column per field."""

    ctx: _Context
    sheet: Sheet
    spec: FormSpec
    header_row: int
    footer_row: int | None
    columns: dict[str, int]
    found_by: str
    key: str
    meta: Meta
    unread: dict[tuple[int, int], str] = field(default_factory=dict)  # grid cells seen but not taken, and why
    issued: set[tuple[int, int]] = field(default_factory=set)  # grid cells not taken because still as issued

    @property
    def row_delta(self) -> int:
        """How many rows the grid grew (+) or shrank (−) against the template's single row."""
        if self.footer_row is None:
            return 0
        return self.footer_row - (self.spec.repeat_row + 1)

    @classmethod
    def locate(cls, ctx: _Context, sheet: Sheet, spec: FormSpec, loc: _Locator, key: str) -> "_Grid":
        layout = _grid_layout(spec)
        header_row, found_by = _find_header(ctx, sheet, spec, key, layout.header_targets)
        columns = {part: _header_column(sheet, header_row, layout.header_targets.get(col, ""), col)
                   for part, col in layout.row_fields}
        footer_row = None
        if layout.footer_label:
            hits = sheet.find_text(layout.footer_label, range(header_row + 1, sheet.height))
            footer_row = hits[0][0] if hits else None
        return cls(ctx, sheet, spec, header_row, footer_row, columns, found_by, key, loc.meta)

    def rows(self) -> range:
        end = self.footer_row if self.footer_row is not None else self.sheet.height
        return range(self.header_row + 1, end)

    def row_values(self, row: int) -> dict[str, tuple[object, str]]:
        """Each column's value and its text (values.clean_text) in one grid row."""
        shown, clean = self.sheet.shown_row(row), values.clean_text
        found = {}
        for part, col in self.columns.items():
            value = shown[col] if col < len(shown) else None
            found[part] = (value, clean(value))
        return found

    def cells(self, row: int, row_values: dict[str, tuple[object, str]]) -> dict[str, tuple[object, Location]]:
        """Each column's value and location in one grid row (``row_values`` from :meth:`row_values`)."""
        sheet, names, number = self.sheet.name, self.ctx.data.names, str(row + 1)
        # A cell with no name of its own (a row inserted into a named grid) is found between the header and
        # the footer by the header's labels: "label", whatever found the grid.
        unnamed = "label" if self.found_by == "name" else self.found_by
        named = names.named_columns(sheet, row, self.columns.values())
        return {part: (value, Location(sheet, col_letter(col) + number, "name" if col in named else unnamed, text))
                for (part, col), (value, text) in zip(self.columns.items(), row_values.values())}

    def read_indicators(self, locations: dict[str, Location], notes: dict[str, tuple[str, ...]]) -> tuple[Indicator, ...]:
        indicators: list[Indicator] = []
        previous: Indicator | None = None
        issued_rows = self._issued_rows()
        for row in self.rows():
            row_values = self.row_values(row)
            if not any(text for part, (_value, text) in row_values.items() if part not in ("level1", "level2")):
                self._levels_only(row, row_values)
                continue
            cells = self.cells(row, row_values)
            k = len(indicators)
            indicator, row_notes = self._indicator(cells, row, previous, k)
            for part, (_raw, location) in cells.items():
                locations[f"ind{k}.{part}"] = location
            for part, items in row_notes.items():
                notes[f"ind{k}.{part}"] = items
            indicators.append(indicator)
            previous = indicator
        if issued_rows is not None and len(self.rows()) != issued_rows:
            self.ctx.add(P_ROWS, f"指标区下发时有 {issued_rows} 行，现为 {len(self.rows())} 行（有插入或删除行），已全部读取。",
                         sheet=self.sheet.name, cell=f"A{self.header_row + 2}")
        return tuple(indicators)

    def _levels_only(self, row: int, row_values: dict[str, tuple[object, str]]) -> None:
        """A row with only 一级/二级: an untouched row of the issued skeleton, or else something typed that
        is no indicator (kept for the 其他填写内容 list)."""
        cells = [(row, self.columns[part]) for part in ("level1", "level2") if row_values.get(part, (None, ""))[1]]
        if not cells:
            return
        pair = tuple(taxonomy.compact(row_values.get(part, (None, ""))[1]) for part in ("level1", "level2"))
        if pair in _skeleton_pairs(row - self.header_row - 1):
            self.issued.update(cells)
            return
        for cell in cells:
            self.unread[cell] = "这一行只有一级/二级指标，没有三级指标，未作为指标读入；新增指标请填写三级指标名称、指标性质和指标值"

    def sheet_read(self, locations: dict[str, Location]) -> SheetRead:
        """What the scan for other content needs to know about this sheet once it has been read."""
        end = self.footer_row if self.footer_row is not None else self.sheet.height
        return SheetRead(self.sheet.name, self.spec, locations, (self.header_row, end, tuple(self.columns.values())),
                         self.unread, self.issued)

    def _issued_rows(self) -> int | None:
        """How many grid rows were issued, from _meta's field map or else from the surviving names."""
        count = self.meta.grid_rows(self.key)
        if not count:
            names = self.ctx.data.names
            count = sum(1 for name in names.matching(rf"JX_{re.escape(self.key.upper())}_[IR]\d+_NAME")
                        if isinstance(names[name], CellAddress))
        return count or None

    def _indicator(self, cells, row: int, previous: Indicator | None,
                   k: int) -> tuple[Indicator, dict[str, tuple[str, ...]]]:
        text = {part: location.raw for part, (_raw, location) in cells.items()}
        row_notes: dict[str, tuple[str, ...]] = {}
        for level in ("level1", "level2"):
            if not text.get(level) and previous is not None and any(text.get(p) for p in ("name", "value")):
                text[level] = getattr(previous, level)
                location = cells[level][1]
                self.ctx.add(P_FILLDOWN, f"{location.cell} 的{'一级' if level == 'level1' else '二级'}指标为空，已沿用上一行的“{text[level]}”。",
                             sheet=location.sheet, cell=location.cell, field="一级指标" if level == "level1" else "二级指标",
                             found_by=location.found_by)
        raw_value = cells["value"][0] if "value" in cells else None
        parsed = _split_indicator_value(raw_value if raw_value is not None else "", text.get("operator", ""),
                                        text.get("unit", ""))
        if parsed.notes:
            row_notes["value"] = parsed.notes
        operator = parsed.operator or values.normalise_operator(text.get("operator", "")) or text.get("operator", "")
        weight = None
        if text.get("weight"):
            try:
                weight = values.parse_number(cells["weight"][0])
            except ValueError:
                location = cells["weight"][1]
                self.ctx.add(P_NUMBER, f"权重“{location.raw}”不是数字。", sheet=location.sheet, cell=location.cell, field="权重",
                             value=location.raw, found_by=location.found_by)
        formulas = self.ctx.data.formulas(self.sheet.name)
        for part, col in self.columns.items() if formulas else ():
            if (row, col) in formulas:
                _note_formula(self.ctx, self.sheet.name, _Spot(row, col, cells[part][1].found_by), part)
        indicator = Indicator(
            level1=_canonical_level1(text.get("level1", "")) if text.get("level1") else "",
            level2=_canonical_level2(text.get("level2", "")) if text.get("level2") else "",
            name=text.get("name", ""), description=text.get("description", ""), operator=operator,
            value=parsed.value, unit=parsed.unit or _canonical_unit(text.get("unit", "")),
            basis=text.get("basis", ""), weight=weight,
        )
        return indicator, row_notes


@lru_cache(maxsize=64)
def _skeleton_pairs(offset: int) -> frozenset[tuple[str, str]]:
    """The (一级, 二级) a grid row at ``offset`` holds in a form issued without indicators (fill's skeleton)."""
    pairs = set()
    for framework in taxonomy.FRAMEWORKS.values():
        flat = [(level1, level2) for level1, children in framework.items() for level2 in children]
        if 0 <= offset < len(flat):
            pairs.add(flat[offset])
    return frozenset(pairs)


@dataclass(frozen=True)
class _GridLayout:
    """What the reader needs of a template's indicator grid, worked out once per template."""

    header_targets: dict[int, str]  # template column → its header label, compacted (taxonomy.compact)
    row_fields: tuple[tuple[str, int], ...]  # (part, template column) of each field of the repeating row
    footer_label: str  # the first static text below the grid (填表人)


_LAYOUTS: dict[int, tuple[FormSpec, _GridLayout]] = {}


def _grid_layout(spec: FormSpec) -> _GridLayout:
    cached = _LAYOUTS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    labels = {c.col: c.text.strip() for c in spec.cells if c.row == spec.header_row and c.text}
    fields = tuple((cell.field.split(".", 1)[1] if cell.field.startswith(("ind.", "dind.")) else cell.field, cell.col)
                   for cell in spec.row_cells() if cell.field)
    layout = _GridLayout({col: taxonomy.compact(text) for col, text in labels.items() if text}, fields,
                         _footer_label(spec))
    _LAYOUTS[id(spec)] = (spec, layout)
    return layout


def _find_header(ctx: _Context, sheet: Sheet, spec: FormSpec, key: str, targets: dict[int, str]) -> tuple[int, str]:
    address = ctx.data.names.get(f"JX_{key.upper()}_GRID") if key.startswith("p") else ctx.data.names.get("JX_D_GRID")
    if isinstance(address, tuple) and address[0].sheet == sheet.name:
        return address[0].row, "name"
    wanted = set(targets.values())
    best, best_hits = None, 0
    for r in range(sheet.height):
        hits = sum(1 for c in range(len(sheet.rows[r])) if sheet.text(r, c) in wanted)
        if hits > best_hits:
            best, best_hits = r, hits
    if best is not None and best_hits >= max(2, len(wanted) // 2):
        return best, "label"
    return spec.header_row, "template"


def _header_column(sheet: Sheet, header_row: int, target: str, template_col: int) -> int:
    if not target:
        return template_col
    if sheet.text(header_row, template_col) == target:
        return template_col
    for c in range(len(sheet.rows[header_row]) if header_row < sheet.height else 0):
        if sheet.text(header_row, c) == target:
            return c
    return template_col


def _footer_label(spec: FormSpec) -> str:
    below = sorted((c for c in spec.cells if c.row > spec.repeat_row and c.text and not c.is_placeholder),
                   key=lambda c: (c.row, c.col))
    return below[0].text.strip() if below else ""


# ---------------------------------------------------------------------------------------------------------
# Department sheet


def _read_dept(ctx: _Context, meta: Meta, spec: FormSpec) -> ReturnedDept | None:
    sheet_name = _dept_sheet_name(ctx, spec)
    if sheet_name is None:
        return None
    sheet = ctx.data.sheet(sheet_name)
    loc = _Locator(ctx, meta, spec, sheet, "JX_D_", "d.")
    grid = _Grid.locate(ctx, sheet, spec, loc, "d")
    loc.grid_shift = grid.row_delta
    locations: dict[str, Location] = {}
    notes: dict[str, tuple[str, ...]] = {}
    overall = ""
    if "dept.overall_goal" in spec.fields:
        spot = loc.find("overall_goal", "dept.overall_goal")
        if spot is not None:
            location = loc.location(spot)
            locations["overall_goal"] = location
            overall = location.raw
    measures = _read_measures(ctx, loc, spec, locations)
    for total in ("unit.budget", "unit.fiscal", "unit.other", *FOOTER_FIELDS):
        if total in spec.fields:
            spot = loc.find(total, total)
            if spot is not None:
                locations[total] = loc.location(spot)
    extras = _read_extras(ctx, loc, spec, "d", locations)
    goals: dict[int, DeptGoal] = {}
    indicators: list[DeptIndicator] = []
    seq = None
    for row in grid.rows():
        row_values = grid.row_values(row)
        if not any(text for _value, text in row_values.values()):
            continue
        cells = grid.cells(row, row_values)
        text = {part: text for part, (_value, text) in row_values.items()}
        seq_text = text.get("goal.seq", "")
        if seq_text:
            try:
                seq = int(values.parse_number(cells["goal.seq"][0]) or 0)
            except (ValueError, TypeError):
                seq = None
        if seq is None:
            location = cells.get("goal.seq", cells[next(iter(cells))])[1]
            ctx.add(P_SEQ, f"第 {row + 1} 行的部门整体指标没有填写所属分项序号，已按原样读入；请在“序号”列填写它所属分项绩效目标的序号。",
                    sheet=sheet_name, cell=location.cell, field="序号", value=seq_text)
        _dept_goal(grid, cells, text, seq, goals, locations)
        if any(text.get(p) for p in ("level1", "level2", "name", "operator", "value", "unit", "basis")):
            k = len(indicators)
            parsed = _split_indicator_value(cells["value"][0] if cells.get("value") and cells["value"][0] is not None
                                            else "", text.get("operator", ""), text.get("unit", ""))
            if parsed.notes:
                notes[f"dind{k}.value"] = parsed.notes
            indicators.append(DeptIndicator(
                unit_code="", seq=seq,
                level1=_canonical_level1(text.get("level1", "")) if text.get("level1") else "",
                level2=_canonical_level2(text.get("level2", "")) if text.get("level2") else "",
                name=text.get("name", ""),
                operator=parsed.operator or values.normalise_operator(text.get("operator", "")) or text.get("operator", ""),
                value=parsed.value, unit=parsed.unit or _canonical_unit(text.get("unit", "")),
                basis=text.get("basis", ""),
            ))
            for part in ("level1", "level2", "name", "operator", "value", "unit", "basis"):
                if part in cells:
                    locations[f"dind{k}.{part}"] = cells[part][1]
            if seq is None and "goal.seq" in cells:
                locations[f"dind{k}.seq"] = cells["goal.seq"][1]  # where P-DEPT-SEQ is marked in 退回修改
    issued = grid._issued_rows()
    if issued is not None and len(grid.rows()) != issued:
        ctx.add(P_ROWS, f"部门整体指标区下发时有 {issued} 行，现为 {len(grid.rows())} 行，已全部读取。", sheet=sheet_name)
    ctx.sheets.append(grid.sheet_read(locations))
    return ReturnedDept(sheet_name, overall, tuple(goals[s] for s in sorted(goals)), tuple(indicators), locations, notes,
                        _footer(ctx, sheet, locations), extras, measures)


def _read_measures(ctx: _Context, loc: "_Locator", spec: FormSpec, locations: dict[str, Location]) -> tuple:
    """The 工作保障措施 of the form's text field as numbered items (none when the form has no such field).

    A text whose numbering cannot be followed is kept whole as one measure, with P-MEASURES telling the unit.
    """
    if "dept.measures" not in spec.fields:
        return ()
    spot = loc.find("measures", "dept.measures")
    if spot is None:
        return ()
    location = loc.location(spot)
    locations["measures"] = location
    measures, followed = parse_measures(location.raw)
    if not followed:
        ctx.add(P_MEASURES, "工作保障措施的序号有重复或前后颠倒，无法分条读取，已整段作为一条措施读入；"
                "请每条措施单独一段，按 1、2、3 的顺序编号。",
                sheet=location.sheet, cell=location.cell, field="工作保障措施", value=location.raw[:200])
    return measures


def _dept_goal(grid: "_Grid", cells, text: dict[str, str], seq: int | None, goals: dict[int, DeptGoal],
               locations: dict[str, Location]) -> None:
    """Take the 分项 of a grid row: the first row of a 序号 gives its name and goal. Goal text that cannot be
    taken (no 序号, or a 序号 whose 分项 is already read with other text) is left to the 其他填写内容 list."""
    parts = [part for part in ("name", "goal") if f"goal.{part}" in cells]
    if seq is not None and seq not in goals:
        goals[seq] = DeptGoal("", seq, text.get("goal.name", ""), text.get("goal.goal", ""))
        for part in parts:
            locations[f"goal{seq}.{part}"] = cells[f"goal.{part}"][1]
        if "goal.seq" in cells:  # where the 序号 was read: not content typed outside a field
            locations[f"goal{seq}.seq"] = cells["goal.seq"][1]
        return
    for part in parts:
        typed = text.get(f"goal.{part}", "")
        if not typed or (seq is not None and typed == getattr(goals[seq], part)):
            continue
        place = parse_a1(cells[f"goal.{part}"][1].cell)
        grid.unread[place] = ("没有填写序号，这里的分项内容未作为分项绩效目标读入；请填写序号" if seq is None else
                              f"序号 {seq} 的分项已在上方读入，这里另写的内容未读入；新增分项请填写新的序号")


def _dept_sheet_name(ctx: _Context, spec: FormSpec) -> str | None:
    address = ctx.data.names.get("JX_D_OVERALL_GOAL")
    if isinstance(address, CellAddress) and address.sheet in ctx.data.sheet_names:
        return address.sheet
    if DEPT_SHEET_NAME in ctx.data.sheet_names:
        return DEPT_SHEET_NAME
    place = spec.fields.get("dept.overall_goal")
    label = spec.label_left_of(*place) if place else "总体绩效目标"
    for name in ctx.data.sheet_names:
        if name.startswith("_"):
            continue
        try:
            if ctx.data.sheet(name).find_text(label, range(12)):
                return name
        except Exception:  # noqa: BLE001
            continue
    return None


# ---------------------------------------------------------------------------------------------------------
# The `read` command's JSON


def _json_value(value) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _field(value, location: Location | None) -> dict:
    entry = {"value": _json_value(value)}
    if location is not None:
        entry.update(raw=location.raw, cell=f"{location.sheet}!{location.cell}", found_by=location.found_by)
    return entry


def submission_report(sub: Submission) -> dict:
    """A submission as the `read` command prints it: each value with raw text, cell and how it was found."""
    projects = []
    for rp in sub.projects:
        p = rp.project
        fields = {name: _field(getattr(p, name), rp.where(name))
                  for name in ("code", "name", "budget", "fiscal", "other", "purpose", "annual_goal")}
        fields.update({f"支出计划-{pt.node}": _field(pt.amount, rp.where(f"plan.{pt.node}")) for pt in p.plan})
        indicators = [
            {part: _field(getattr(ind, part), rp.where(f"ind{k}.{part}")) for part in
             ("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight")}
            | ({"notes": list(rp.notes[f"ind{k}.value"])} if f"ind{k}.value" in rp.notes else {})
            for k, ind in enumerate(p.indicators)
        ]
        fields.update(_footer_fields(rp))
        projects.append({"key": rp.key, "sheet": rp.sheet, "fields": fields, "indicators": indicators})
    dept = None
    if sub.dept is not None:
        d = sub.dept
        dept = {
            "sheet": d.sheet,
            "overall_goal": _field(d.overall_goal, d.where("overall_goal")),
            "measures": _field(d.where("measures").raw if d.where("measures") else "", d.where("measures"))
            | {"items": [{"seq": m.seq, "title": m.title, "text": m.text} for m in d.measures]},
            "goals": [{"seq": g.seq, "name": _field(g.name, d.where(f"goal{g.seq}.name")),
                       "goal": _field(g.goal, d.where(f"goal{g.seq}.goal"))} for g in d.goals],
            "indicators": [{"seq": i.seq} | {part: _field(getattr(i, part), d.where(f"dind{k}.{part}")) for part in
                                             ("level1", "level2", "name", "operator", "value", "unit", "basis")}
                           for k, i in enumerate(d.indicators)],
            "fields": _footer_fields(d),
        }
    return {
        "file": sub.file, "sha256": sub.sha256, "kind": sub.kind, "unit_code": sub.unit_code, "unit_name": sub.unit_name,
        "template_id": sub.template_id, "template_version": sub.template_version,
        "master_fingerprint": sub.master_fingerprint, "producer": sub.producer, "saved_at": sub.saved_at,
        "projects": projects, "department": dept, "findings": [f.as_row() for f in sub.findings],
        "contact": asdict(sub.contact),
        "other_content": [asdict(item) for item in sub.other_content],
    }


def _footer_fields(sheet: ReturnedProject | ReturnedDept) -> dict:
    """The footer (填表人, 联系电话, 填报日期 with the date as ISO) and the extra fields of one sheet, as `read` prints them."""
    fields = {}
    footer = sheet.footer
    if footer is not None:
        for path, value in zip(FOOTER_FIELDS, (footer.filler, footer.phone, footer.date or footer.date_raw)):
            fields[path] = _field(value, sheet.where(path))
    fields.update({f"extra.{name}": _field(text, sheet.where(f"extra.{name}")) for name, text in sheet.extras.items()})
    return fields
