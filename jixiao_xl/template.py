"""Compile an .xlsx form template into a :class:`FormSpec` that both the renderer and the reader use.

A template is a workbook a person drew in Excel or WPS. Cells hold static labels or jinja2 placeholders
(``{{ project.code }}``). A cell that holds exactly one placeholder is a *bound field*: it is written from
the data and read back from the return. One row of placeholders (``ind.*`` or ``dind.*``) is the
repeating indicator row; one cell of ``plan.*`` placeholders repeats to the right, once per 支出计划节点.
The authoring rules are in xltemplates/README.md; :func:`check_template` explains what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from dataclasses import asdict, dataclass, field, replace
from typing import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from .catalogue import define
from .errors import InputError
from .findings import Finding
from .workbook import ValueBook
from .templateguard import (MAX_CELL_CHARS, MAX_TEMPLATE_COLUMNS, MAX_TEMPLATE_ROWS, T_CODE, T_RANGE, T_UNREADABLE,
                            ALLOWED_ZH, cell_syntax, clip, outside_bounds, outside_findings, package_findings)

PROJECT_TEMPLATE = "项目支出绩效目标表.xlsx"
DEPARTMENT_TEMPLATE = "部门整体支出绩效目标表.xlsx"

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_SINGLE = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}\s*$")
# ``{{ extra.项目负责人 }}``: a field the master does not know, declared by the template (any name but
# white space, dots, braces and quotes).
_EXTRA = re.compile(r"^extra\.[^\s.{}'\"]+$")
_SINGLE_EXTRA = re.compile(r"^\s*\{\{\s*(extra\.[^\s.{}'\"]+)\s*\}\}\s*$")

COMMON_FIELDS = frozenset({
    "year", "money_unit", "department_name", "unit.code", "unit.name", "unit.contact", "unit.phone",
    "footer.filler", "footer.phone", "footer.date",
})
PROJECT_FIELDS = COMMON_FIELDS | {
    "project.code", "project.name", "project.budget", "project.fiscal", "project.other", "project.purpose",
    "project.annual_goal", "project.index", "check.funds", "check.plan", "check.order",
}
DEPARTMENT_FIELDS = COMMON_FIELDS | {
    "unit.budget", "unit.project_count", "unit.fiscal", "unit.other", "dept.overall_goal",
    "dept.measures",
}
INDICATOR_FIELDS = ("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight")
PROJECT_ROW_FIELDS = frozenset(f"ind.{name}" for name in INDICATOR_FIELDS)
DEPARTMENT_ROW_FIELDS = frozenset({"goal.seq", "goal.name", "goal.goal"} | {
    f"dind.{name}" for name in ("level1", "level2", "name", "operator", "value", "unit", "basis")})
PLAN_FIELDS = frozenset({"plan.node", "plan.amount", "plan.percent"})

T_SYNTAX = define("T-SYNTAX", "error", "模板占位符写法有误", "占位符应写成 {{ 字段名 }}，花括号成对出现。", "本工具约定")
T_UNKNOWN = define("T-UNKNOWN-FIELD", "error", "模板引用了不存在的字段", "按 xltemplates/README.md 中的字段表改正字段名。",
                   "本工具约定")
T_NO_ROW = define("T-NO-REPEAT-ROW", "error", "模板缺少指标明细行", "在指标表头下方放一行 {{ ind.level1 }} … 占位符。",
                  "本工具约定")
T_ROWS = define("T-REPEAT-ROWS", "error", "指标明细占位符分布在多行", "同一模板只能有一行明细占位符。", "本工具约定")
T_COVERED = define("T-MERGED-COVERED", "error", "占位符写在合并单元格的被覆盖部分",
                   "把占位符移到合并区域左上角的单元格，或取消合并。", "本工具约定")
T_REPEAT_MERGE = define("T-REPEAT-MERGE", "error", "明细行参与了跨行合并", "明细行的合并只能在同一行内（横向合并）。",
                        "本工具约定")
T_MIXED = define("T-MIXED-KIND", "error", "模板同时含有项目表和部门整体表的字段", "项目表用 ind.*，部门整体表用 goal.*/dind.*，不要混用。",
                 "本工具约定")
T_PLAN = define("T-PLAN", "error", "支出计划占位符有误", "plan.node / plan.amount / plan.percent 应写在同一列、上下相邻的单元格中。",
                "本工具约定")
T_SHEETS = define("T-SHEETS", "warning", "模板有多个工作表", "只使用第一个工作表，其余忽略。", "本工具约定")
T_HEADER = define("T-NO-HEADER", "error", "明细行上方没有表头行", "在明细占位符行的上一行写表头（一级指标、二级指标……）。",
                  "本工具约定")
T_EXTRA_ROW = define("T-EXTRA-IN-ROW", "error", "附加字段写在了指标明细行中",
                     "附加字段 {{ extra.名称 }} 只能写在明细行以外（表头或表尾），每个工作表一个单元格。", "本工具约定")
T_LOCKED_LABEL = define("T-LOCKED-BESIDE-LABEL", "warning", "标签右边是空白单元格，生成后锁定、无法填写",
                        "如需单位填写，在该单元格写 {{ extra.名称 }}（如 {{ extra.项目负责人 }}）；只有写了字段的单元格才可填写。",
                        "本工具约定")
T_REQUIRED = define("T-MISSING-FIELD", "warning", "模板缺少常用字段", "一般应包含该字段，否则生成的表中不会出现，回收时也读不到。",
                    "本工具约定")


@dataclass(frozen=True)
class Style:
    """The look of one cell, in terms both openpyxl and xlsxwriter understand."""

    font_name: str = "宋体"
    font_size: float = 10
    bold: bool = False
    italic: bool = False
    font_color: str = ""
    fill: str = ""
    align: str = ""
    valign: str = ""
    wrap: bool = False
    borders: tuple[int, int, int, int] = (0, 0, 0, 0)
    num_format: str = ""

    def as_format(self) -> dict:
        """The xlsxwriter format properties for this style."""
        props: dict = {"font_name": self.font_name, "font_size": self.font_size}
        if self.bold:
            props["bold"] = True
        if self.italic:
            props["italic"] = True
        if self.font_color:
            props["font_color"] = "#" + self.font_color
        if self.fill:
            props.update(pattern=1, bg_color="#" + self.fill)
        if self.align:
            props["align"] = self.align
        if self.valign:
            props["valign"] = "vcenter" if self.valign == "center" else self.valign
        if self.wrap:
            props["text_wrap"] = True
        for key, value in zip(("left", "right", "top", "bottom"), self.borders):
            if value:
                props[key] = value
        if self.num_format and self.num_format != "General":
            props["num_format"] = self.num_format
        return props


@dataclass(frozen=True)
class CellSpec:
    """A template cell: static text, a bound field (``field``) or mixed text with placeholders."""

    row: int
    col: int
    style: Style
    text: str = ""
    field: str = ""
    mixed: bool = False

    @property
    def is_placeholder(self) -> bool:
        """True when the cell is filled from data (bound or mixed)."""
        return bool(self.field) or self.mixed


@dataclass(frozen=True)
class PrintSetup:
    """Page setup copied from the template."""

    landscape: bool = True
    paper: int = 9
    fit_width: int = 1
    fit_height: int = 0
    repeat_rows: tuple[int, int] | None = (0, 1)
    margins: tuple[float, float, float, float] = (0.5, 0.5, 0.6, 0.6)
    center_horizontally: bool = True


@dataclass(frozen=True)
class FormSpec:
    """A compiled template: everything needed to draw a form and to find its fields again."""

    template_id: str
    version: str
    kind: str
    title: str
    cells: tuple[CellSpec, ...]
    merges: tuple[tuple[int, int, int, int], ...]
    col_widths: tuple[tuple[int, float], ...]
    row_heights: tuple[tuple[int, float], ...]
    print_setup: PrintSetup
    repeat_row: int
    plan_cell: tuple[int, int] | None = None
    plan_span: int = 0
    fields: dict = field(default_factory=dict)

    @property
    def header_row(self) -> int:
        """The indicator grid's header row (just above the repeating row)."""
        return self.repeat_row - 1

    @property
    def width(self) -> int:
        """How many columns the form uses."""
        return max(c.col for c in self.cells) + 1

    def row_cells(self) -> tuple[CellSpec, ...]:
        """The cells of the repeating row, left to right."""
        return tuple(sorted((c for c in self.cells if c.row == self.repeat_row), key=lambda c: c.col))

    def label_left_of(self, row: int, col: int) -> str:
        """The static label nearest to the left of a cell in the same row (the reader's label anchor)."""
        labels = [c for c in self.cells if c.row == row and c.col < col and c.text and not c.is_placeholder]
        return max(labels, key=lambda c: c.col).text.strip() if labels else ""


_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9]")


def defined_name(path: str) -> str:
    """The ``JX_`` defined name of a field path (``p01.budget`` → ``JX_P01_BUDGET``).

    Characters other than ASCII letters and digits become ``_``, except that a non-ASCII one (the 名称 of
    ``extra.项目负责人``) is spelled by its code point (``U9879``), so that two extra fields whose names
    have the same length never share a defined name.
    """
    return "JX_" + _NAME_UNSAFE.sub(lambda m: "_" if m.group() < "\x80" else f"U{ord(m.group()):X}", path).upper()


def is_extra(name: str) -> bool:
    """True for a field the template declares itself, ``extra.<名称>`` (one name, no dots or spaces)."""
    return _EXTRA.match(name) is not None


def builtin_template(name: str) -> Path:
    """The path of a template shipped with the package (in the wheel or the source tree)."""
    from .resources import form_templates_dir

    return form_templates_dir() / name


def compile_template(path: Path) -> FormSpec:
    """Read a template once with openpyxl and compile it; raises InputError when it is unusable."""
    spec, findings = _compile(Path(path))
    errors = [f for f in findings if f.severity == "error"]
    if spec is None or errors:
        lines = "".join(f"\n  {'!'.join(p for p in (f.sheet, f.cell) if p)} {f.rule}：{f.message}" for f in errors[:10])
        more = f"\n  ……另有 {len(errors) - 10} 条" if len(errors) > 10 else ""
        raise InputError(f"模板 {path} 有误，不能使用：{lines}{more}\n请修改模板后重试；jixiao-xl template check {path} 列出全部问题。")
    return spec


@lru_cache(maxsize=8)
def cached_template(path: str, mtime_ns: int) -> FormSpec:
    """:func:`compile_template`, memoised per file version (workers compile each template once).

    A shipped template comes with its compiled form beside it (``*.spec.json``, see :func:`write_compiled`);
    it is used when it was compiled from exactly these bytes by this compiler, which spares every command
    the openpyxl import and parse. Only the package's own templates are trusted that way: a sidecar sent
    along with someone's template could hold anything, so every other template is compiled and checked.
    """
    compiled = read_compiled(Path(path)) if is_shipped(Path(path)) else None
    return compiled if compiled is not None else compile_template(Path(path))


def is_shipped(path: Path) -> bool:
    """True for a template in the package's own template folder."""
    from .resources import form_templates_dir

    return Path(path).resolve().parent == form_templates_dir().resolve()


def load_spec(path: Path) -> FormSpec:
    """The compiled spec of a template file, compiled at most once per process and file version."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到模板文件 {path}。请检查 --template 参数。")
    return cached_template(str(path.resolve()), path.stat().st_mtime_ns)


def spec_from_bytes(content: bytes, file_name: str) -> FormSpec:
    """Compile a template kept as bytes (in the ledger) under its original file name; InputError when unusable."""
    spec, findings = _compile(Path(file_name), content)
    if spec is None or any(f.severity == "error" for f in findings):
        raise InputError(f"台账中保存的模板 {file_name} 无法使用。")
    return spec


# ---------------------------------------------------------------------------------------------------------
# The templates a batch was issued with

TemplateKey = tuple[str, str]  # (template id, version), as a form records them in _meta and its properties


def template_key(spec: FormSpec) -> TemplateKey:
    """The identity a form made from ``spec`` records."""
    return spec.template_id, spec.version


@dataclass(frozen=True)
class TemplateSet:
    """The templates returns are read and sent back with (DESIGN §10, issue 13 item 7).

    ``default`` is the pair used when nothing better is known (the command line's or the shipped templates);
    ``known`` every template whose bytes the ledger keeps, by the identity a form records; ``issued`` the
    identities of the pair last issued to each unit. A return is read with the template it says it was made
    from when that one is known, else with the pair its unit was issued, else with the default; it is sent
    back with the pair its unit was issued.
    """

    default: tuple[FormSpec, FormSpec]
    known: Mapping[TemplateKey, FormSpec] = field(default_factory=dict)
    issued: Mapping[str, tuple[TemplateKey, TemplateKey]] = field(default_factory=dict)

    def _spec(self, key: TemplateKey | None, kind: str) -> FormSpec | None:
        spec = self.known.get(key) if key else None
        return spec if spec is not None and spec.kind == kind else None

    def issued_to(self, unit_code: str) -> tuple[FormSpec, FormSpec] | None:
        """The pair of templates last issued to the unit, when the ledger keeps both."""
        keys = self.issued.get(unit_code)
        if keys is None:
            return None
        project, dept = self._spec(keys[0], "project"), self._spec(keys[1], "department")
        return (project, dept) if project is not None and dept is not None else None

    def for_return(self, unit_code: str, project_key: TemplateKey | None,
                   dept_key: TemplateKey | None) -> tuple[FormSpec, FormSpec]:
        """The pair to read a return with, given the unit and the template identities it records."""
        fallback = self.issued_to(unit_code) or self.default
        return (self._spec(project_key, "project") or fallback[0],
                self._spec(dept_key, "department") or fallback[1])

    def for_sendback(self, unit_code: str, project_key: TemplateKey | None) -> tuple[FormSpec, FormSpec]:
        """The pair a unit's 退回修改 is rendered with: the pair it was issued, else the one its return was read with."""
        issued = self.issued_to(unit_code)
        if issued is not None:
            return issued
        return self._spec(project_key, "project") or self.default[0], self.default[1]

    def expected(self, unit_code: str) -> TemplateKey:
        """The (template id, version) a return of the unit should record: what it was issued, else the default's."""
        keys = self.issued.get(unit_code)
        return keys[0] if keys is not None else template_key(self.default[0])


def as_template_set(specs: "tuple[FormSpec, FormSpec] | TemplateSet") -> TemplateSet:
    """``specs`` as a :class:`TemplateSet` (a plain pair becomes one that always answers that pair)."""
    return specs if isinstance(specs, TemplateSet) else TemplateSet(tuple(specs))


def template_set(default: tuple[FormSpec, FormSpec], blobs: Iterable, issued: Iterable) -> TemplateSet:
    """A :class:`TemplateSet` from the ledger's template blobs and latest issued rows (``Ledger.template_blobs``,
    ``Ledger.issued_latest().values()``). A stored template that the default pair already is, is not compiled
    again; one that no longer compiles is left out (its returns fall back as if it were unknown)."""
    known: dict[TemplateKey, FormSpec] = {template_key(spec): spec for spec in default}
    for blob in blobs:
        if (blob.template_id, blob.version) in known:
            continue
        try:
            spec = spec_from_bytes(blob.content, blob.file_name)
        except InputError:
            continue
        known[template_key(spec)] = spec
    units = {row.unit_code: ((row.template_id, row.template_version), (row.dept_template_id, row.dept_template_version))
             for row in issued}
    return TemplateSet(default, known, units)


def ledger_templates(default: tuple[FormSpec, FormSpec], ledger_path: Path | None) -> TemplateSet:
    """:func:`template_set` from the ledger at ``ledger_path``; just the default pair when there is no ledger."""
    if ledger_path is None or not Path(ledger_path).is_file():
        return TemplateSet(default)
    from .ledger import Ledger

    with Ledger.open(ledger_path) as ledger:
        return template_set(default, ledger.template_blobs(), ledger.issued_latest().values())


# ---------------------------------------------------------------------------------------------------------
# Compiled templates on disk

# Bump when compilation changes what a FormSpec holds: sidecars of an older compiler are then ignored.
COMPILER_VERSION = 1


def compiled_path(template: Path) -> Path:
    """Where the compiled form of ``template`` is kept (``项目支出绩效目标表.spec.json``)."""
    return Path(template).with_suffix(".spec.json")


def write_compiled(template: Path) -> Path:
    """Compile ``template`` and store the result beside it, keyed by the template's sha256."""
    template = Path(template)
    spec = compile_template(template)
    document = {"compiler": COMPILER_VERSION, "sha256": hashlib.sha256(template.read_bytes()).hexdigest(),
                "spec": _spec_to_plain(spec)}
    target = compiled_path(template)
    target.write_text(json.dumps(document, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return target


def read_compiled(template: Path) -> FormSpec | None:
    """The stored compiled form of ``template`` when it matches the template's bytes and this compiler."""
    sidecar = compiled_path(template)
    if not sidecar.is_file():
        return None
    try:
        document = json.loads(sidecar.read_text(encoding="utf-8"))
        if document.get("compiler") != COMPILER_VERSION:
            return None
        if document.get("sha256") != hashlib.sha256(Path(template).read_bytes()).hexdigest():
            return None
        return _spec_from_plain(document["spec"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged sidecar only costs a compile


def _spec_to_plain(spec: FormSpec) -> dict:
    plain = {name: getattr(spec, name) for name in ("template_id", "version", "kind", "title", "merges", "col_widths",
                                                    "row_heights", "repeat_row", "plan_cell", "plan_span")}
    plain["print_setup"] = asdict(spec.print_setup)
    plain["cells"] = [{**asdict(cell), "style": asdict(cell.style)} for cell in spec.cells]
    return plain


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _spec_from_plain(plain: dict) -> FormSpec:
    cells = tuple(CellSpec(**{**cell, "style": Style(**{k: _tuples(v) for k, v in cell["style"].items()})})
                  for cell in plain["cells"])
    setup = PrintSetup(**{k: _tuples(v) for k, v in plain["print_setup"].items()})
    plan_cell = plain["plan_cell"]
    return FormSpec(
        template_id=plain["template_id"], version=plain["version"], kind=plain["kind"], title=plain["title"],
        cells=cells, merges=_tuples(plain["merges"]), col_widths=_tuples(plain["col_widths"]),
        row_heights=_tuples(plain["row_heights"]), print_setup=setup, repeat_row=plain["repeat_row"],
        plan_cell=tuple(plan_cell) if plan_cell is not None else None, plan_span=plain["plan_span"],
        fields=field_positions(cells),
    )


def check_template(path: Path) -> list[Finding]:
    """Everything wrong with a template, as findings with the template cell (empty list when fine)."""
    _, findings = _compile(Path(path))
    return findings


# ---------------------------------------------------------------------------------------------------------
# Compilation


def _guard(path: Path, content: bytes | None) -> list[Finding]:
    """templateguard's findings for the file at ``path``, or for ``content`` (a template kept in the ledger),
    checked as a file of its own so that both pass the same guard."""
    if content is None:
        return package_findings(path)
    with tempfile.TemporaryDirectory(prefix="jixiao-template-") as folder:
        copy = Path(folder) / "template.xlsx"
        copy.write_bytes(content)
        return [replace(f, file=str(path)) for f in package_findings(copy)]


def _compile(path: Path, content: bytes | None = None) -> tuple[FormSpec | None, list[Finding]]:
    """Compile the template at ``path``, or the template bytes ``content`` under the name ``path`` (its stem is
    the template id). The file is guarded first (templateguard), then read within the bounds."""
    refused = _guard(path, content)
    if refused:
        return None, refused
    try:
        from openpyxl import load_workbook

        data = path.read_bytes() if content is None else content
        wb = load_workbook(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any unreadable template becomes a finding
        return None, [Finding(T_UNREADABLE.code, "error", f"模板无法打开（{type(exc).__name__}）：请确认是未加密的 .xlsx 文件。",
                              file=str(path))]
    findings: list[Finding] = []
    if len(wb.worksheets) > 1:
        findings.append(_finding(T_SHEETS, path, wb.worksheets[0].title, "", "模板有多个工作表，只使用第一个。"))
    ws = wb.worksheets[0]
    used_rows, used_cols, beyond = outside_bounds(ws)
    findings += outside_findings(path, ws.title, beyond)
    covered = _covered_cells(ws)
    if not beyond:  # calamine would allocate the whole rectangle up to the farthest value
        _check_covered(path, ws.title, covered, findings)
    cells = []
    for spec in _rectangle_specs(ws, used_rows, used_cols, covered, path, findings):
        if spec is not None:
            cells.append(spec)
    kind = _kind(cells, path, ws.title, findings)
    row_fields = PROJECT_ROW_FIELDS if kind == "project" else DEPARTMENT_ROW_FIELDS
    allowed = (PROJECT_FIELDS | PLAN_FIELDS if kind == "project" else DEPARTMENT_FIELDS) | row_fields
    _check_fields(cells, allowed, path, ws.title, findings)
    repeat_row = _repeat_row(cells, row_fields, path, ws.title, findings)
    merges = tuple(sorted((r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1) for r in ws.merged_cells.ranges))
    if repeat_row is not None:
        _check_repeat(cells, merges, repeat_row, path, ws.title, findings)
        _check_extras(cells, repeat_row, path, ws.title, findings)
        _check_locked_labels(cells, merges, repeat_row, path, ws.title, findings)
    plan_cell, plan_span = _plan_block(cells, kind, path, ws.title, findings)
    _check_required(cells, kind, path, ws.title, findings)
    if repeat_row is None or any(f.severity == "error" for f in findings):
        return None, findings
    spec = FormSpec(
        template_id=path.stem,
        version=hashlib.sha256(data).hexdigest()[:12],
        kind=kind,
        title=ws.title,
        cells=tuple(cells),
        merges=merges,
        col_widths=_col_widths(ws),
        row_heights=tuple(sorted((i - 1, d.height) for i, d in ws.row_dimensions.items()
                                 if d.height and i <= MAX_TEMPLATE_ROWS)),
        print_setup=_print_setup(ws),
        repeat_row=repeat_row,
        plan_cell=plan_cell,
        plan_span=plan_span,
        fields=field_positions(cells),
    )
    return spec, findings


def field_positions(cells) -> dict[str, tuple[int, int]]:
    """Bound field → its (row, col) in the template (what :attr:`FormSpec.fields` holds)."""
    return {c.field: (c.row, c.col) for c in cells if c.field}


def _finding(rule, path: Path, sheet: str, cell: str, message: str, value: str = "") -> Finding:
    return Finding(rule.code, rule.severity, message, file=str(path), sheet=sheet, cell=cell, value=value)


def _covered_cells(ws) -> set[tuple[int, int]]:
    covered = set()
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered.add((r, c))
    return covered


def _check_covered(path: Path, sheet: str, covered: set[tuple[int, int]], findings: list[Finding]) -> None:
    """Placeholders hidden under a merge: openpyxl drops covered values on load, calamine keeps them."""
    try:
        rows = ValueBook(path).first_sheet_grid()
    except Exception:  # noqa: BLE001 - openpyxl already opened the file; nothing more to learn here
        return
    for r, c in sorted(covered):
        if r - 1 < len(rows) and c - 1 < len(rows[r - 1]):
            text = str(rows[r - 1][c - 1] or "")
            if "{{" in text:
                ref = _a1(r - 1, c - 1)
                findings.append(_finding(T_COVERED, path, sheet, ref, f"单元格 {ref} 在合并区域内但不是左上角，"
                                         "占位符写在这里不会显示，请移到合并区域左上角。", text))


def _rectangle_specs(ws, rows: int, cols: int, covered, path: Path, findings: list[Finding]):
    """The spec of every position of the used rectangle (bounded), row by row.

    Empty positions become cells too, as they always have (their style is written into the form); they all
    look like a new cell of this workbook, so that look is computed once instead of once per position.
    """
    from openpyxl.cell import Cell

    blank = _style(Cell(ws))
    # openpyxl keeps the cells it read in ``_cells``; ``iter_rows`` would create every empty one.
    existing = ws._cells
    for row in range(1, rows + 1):
        for col in range(1, cols + 1):
            cell = existing.get((row, col))
            if cell is not None:
                yield _cell_spec(cell, covered, path, ws.title, findings)
            elif blank != Style():
                yield CellSpec(row - 1, col - 1, blank)


def _cell_spec(cell, covered, path: Path, sheet: str, findings: list[Finding]) -> CellSpec | None:
    value = cell.value
    text = "" if value is None else str(value)
    style = _style(cell)
    if (cell.row, cell.column) in covered:
        return CellSpec(cell.row - 1, cell.column - 1, style) if style != Style() else None
    if not text and style == Style():
        return None
    if len(text) > MAX_CELL_CHARS:
        findings.append(_finding(T_RANGE, path, sheet, cell.coordinate, f"单元格 {cell.coordinate} 有 {len(text)} 个字符，"
                                 f"超过 Excel 单元格上限 {MAX_CELL_CHARS} 个字符；请缩短这段文字。", clip(text)))
        return CellSpec(cell.row - 1, cell.column - 1, style)
    if text.count("{{") != text.count("}}"):
        findings.append(_finding(T_SYNTAX, path, sheet, cell.coordinate, f"单元格 {cell.coordinate} 的花括号不成对：{text}", text))
        return CellSpec(cell.row - 1, cell.column - 1, style, text=text)
    _check_syntax(text, cell.coordinate, path, sheet, findings)
    single = _SINGLE.match(text) or _SINGLE_EXTRA.match(text)
    if single:
        return CellSpec(cell.row - 1, cell.column - 1, style, text=text, field=single.group(1))
    return CellSpec(cell.row - 1, cell.column - 1, style, text=text, mixed=bool(_PLACEHOLDER.search(text)))


def _check_syntax(text: str, ref: str, path: Path, sheet: str, findings: list[Finding]) -> None:
    """T-CODE / T-SYNTAX for whatever in a cell is not static text or a ``{{ name.attr }}`` placeholder."""
    for code, segment, what in cell_syntax(text).problems:
        quoted = clip(segment)
        if code == T_CODE.code:
            findings.append(_finding(T_CODE, path, sheet, ref, f"单元格 {ref} 中的“{quoted}”是{what}，不允许使用：{ALLOWED_ZH}。"
                                     "请删除它。", quoted))
        else:
            findings.append(_finding(T_SYNTAX, path, sheet, ref, f"单元格 {ref} 的占位符“{quoted}”写法有误：只能写字段名"
                                     "（字母、数字、下划线和点），如 {{ unit.name }}。", quoted))


def _style(cell) -> Style:
    font, fill, align, border = cell.font, cell.fill, cell.alignment, cell.border
    fill_color = ""
    if fill is not None and fill.fill_type == "solid" and fill.fgColor is not None and fill.fgColor.type == "rgb":
        fill_color = str(fill.fgColor.rgb)[-6:]
    font_color = ""
    if font is not None and font.color is not None and font.color.type == "rgb":
        rgb = str(font.color.rgb)[-6:]
        font_color = "" if rgb == "000000" else rgb
    return Style(
        font_name=(font.name if font is not None and font.name else "宋体"),
        font_size=float(font.sz) if font is not None and font.sz else 10,
        bold=bool(font is not None and font.b),
        italic=bool(font is not None and font.i),
        font_color=font_color,
        fill=fill_color,
        align=(align.horizontal or "") if align is not None else "",
        valign=(align.vertical or "") if align is not None else "",
        wrap=bool(align is not None and align.wrap_text),
        borders=tuple(_border_code(side) for side in (border.left, border.right, border.top, border.bottom)),
        num_format=cell.number_format or "",
    )


_BORDER_CODES = {"thin": 1, "medium": 2, "dashed": 3, "dotted": 4, "thick": 5, "double": 6, "hair": 7}


def _border_code(side) -> int:
    return _BORDER_CODES.get(getattr(side, "style", None) or "", 0)


def _placeholders(cell: CellSpec) -> tuple[str, ...]:
    """The field names of a cell's well-formed placeholders (the others are reported by _check_syntax)."""
    return cell_syntax(cell.text).names


def _kind(cells, path: Path, sheet: str, findings: list[Finding]) -> str:
    names = {p for c in cells for p in _placeholders(c)}
    is_project = any(n.startswith(("ind.", "plan.", "project.")) for n in names)
    is_dept = any(n.startswith(("dind.", "goal.", "dept.")) for n in names)
    if is_project and is_dept:
        findings.append(_finding(T_MIXED, path, sheet, "", "模板里既有项目表字段（ind./project.），又有部门整体表字段（dind./goal.）。"))
    return "department" if is_dept and not is_project else "project"


def _check_fields(cells, allowed, path: Path, sheet: str, findings: list[Finding]) -> None:
    for cell in cells:
        for name in _placeholders(cell):
            ref = _a1(cell.row, cell.col)
            if is_extra(name):
                continue
            if name not in allowed:
                hint = _closest(name, allowed)
                findings.append(_finding(T_UNKNOWN, path, sheet, ref, f"{ref} 引用了未知字段 “{name}”{hint}。"
                                         f"{EXTRA_HINT}", name))


# What creates an input cell, said with every unknown field (a person reading it wants to add one).
EXTRA_HINT = ("只有写了字段的单元格才会生成为可填写（浅黄色、未锁定）并在回收时读回；主数据没有的填写项"
              "（如项目负责人、绩效联系人）请写成附加字段 {{ extra.名称 }}，例如 {{ extra.项目负责人 }}。")


def _check_extras(cells, repeat_row: int, path: Path, sheet: str, findings: list[Finding]) -> None:
    """T-EXTRA-IN-ROW: an extra field repeats with the indicator rows, which nothing could read back."""
    for cell in cells:
        if cell.row == repeat_row and is_extra(cell.field):
            ref = _a1(cell.row, cell.col)
            findings.append(_finding(T_EXTRA_ROW, path, sheet, ref, f"{ref} 的附加字段 “{cell.field}” 写在指标明细行中；"
                                     "请移到明细行以外的单元格。", cell.field))


def _check_locked_labels(cells, merges, repeat_row: int, path: Path, sheet: str, findings: list[Finding]) -> None:
    """T-LOCKED-BESIDE-LABEL: a label outside the grid whose right-hand cell is blank and holds no field.

    Such a cell is generated locked and white: whoever drew it meant it to be filled in.
    """
    occupied = {(c.row, c.col) for c in cells if c.text or c.is_placeholder}
    merge_end = {(r1, c1): c2 for r1, c1, _r2, c2 in merges}
    covered = {(r, c) for r1, c1, r2, c2 in merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
               if (r, c) != (r1, c1)}
    width = max((c.col for c in cells if c.text or c.is_placeholder), default=0)
    for cell in cells:
        if not cell.text or cell.is_placeholder or cell.row in (repeat_row, repeat_row - 1) or cell.row == 0:
            continue
        right = (cell.row, merge_end.get((cell.row, cell.col), cell.col) + 1)
        if right[1] > width or right in occupied or right in covered or not _looks_like_label(cell.text):
            continue
        ref, label = _a1(*right), cell.text.strip()
        findings.append(_finding(T_LOCKED_LABEL, path, sheet, ref,
                                 f"“{label}”右边的 {ref} 是空白单元格，没有写字段，生成后会被锁定、单位无法填写；如需单位填写，"
                                 f"请在 {ref} 写 {{{{ extra.{_extra_name(label)} }}}}。", label))


def _looks_like_label(text: str) -> bool:
    """A short caption (项目负责人, 联系电话：), not a sentence or a note."""
    text = text.strip().rstrip(":：")
    return 0 < len(text) <= 12 and not any(mark in text for mark in "，。；、（(")


def _extra_name(label: str) -> str:
    return re.sub(r"[\s.{}'\"：:]", "", label) or "名称"


def _closest(name: str, allowed) -> str:
    import difflib

    match = difflib.get_close_matches(name, sorted(allowed), n=1)
    return f"，是否应为 “{match[0]}”" if match else ""


def _repeat_row(cells, row_fields, path: Path, sheet: str, findings: list[Finding]) -> int | None:
    rows = sorted({c.row for c in cells for name in _placeholders(c) if name in row_fields})
    if not rows:
        example = "{{ ind.name }}" if "ind.name" in row_fields else "{{ dind.name }}"
        findings.append(_finding(T_NO_ROW, path, sheet, "", f"模板中没有指标明细行（例如 {example}）。"))
        return None
    if len(rows) > 1:
        refs = "、".join(str(r + 1) for r in rows)
        findings.append(_finding(T_ROWS, path, sheet, "", f"指标明细占位符出现在第 {refs} 行，只能在同一行。"))
    if rows[0] == 0 or not any(c.row == rows[0] - 1 and c.text and not c.is_placeholder for c in cells):
        findings.append(_finding(T_HEADER, path, sheet, _a1(rows[0], 0), "明细行上一行应为表头（一级指标、二级指标……）。"))
    return rows[0]


def _check_repeat(cells, merges, repeat_row: int, path: Path, sheet: str, findings: list[Finding]) -> None:
    for r1, c1, r2, c2 in merges:
        if r1 <= repeat_row <= r2 and r1 != r2:
            ref = f"{_a1(r1, c1)}:{_a1(r2, c2)}"
            findings.append(_finding(T_REPEAT_MERGE, path, sheet, ref, f"合并区域 {ref} 跨越了明细行，生成时无法逐行复制。"))


def _plan_block(cells, kind: str, path: Path, sheet: str, findings: list[Finding]):
    plan = {c.field: (c.row, c.col) for c in cells if c.field in PLAN_FIELDS}
    if kind != "project":
        return None, 0
    if "plan.amount" not in plan:
        findings.append(_finding(T_PLAN, path, sheet, "", "模板中没有 {{ plan.amount }}（资金支出计划金额），无法填写支出计划。"))
        return None, 0
    row, col = plan["plan.amount"]
    expected = {"plan.node": (row - 1, col), "plan.percent": (row + 1, col)}
    for name, place in expected.items():
        if name in plan and plan[name] != place:
            findings.append(_finding(T_PLAN, path, sheet, _a1(*plan[name]), f"{name} 应写在 {_a1(*place)}（与 plan.amount 同列相邻）。"))
    return (row, col), _plan_span(cells, row, col)


def _plan_span(cells, row: int, col: int) -> int:
    """How many columns the plan block may use: up to the next occupied cell to the right."""
    rows = {row - 1, row, row + 1}
    blockers = [c.col for c in cells if c.row in rows and c.col > col and (c.text or c.is_placeholder)]
    return (min(blockers) if blockers else col + 12) - col


def _check_required(cells, kind: str, path: Path, sheet: str, findings: list[Finding]) -> None:
    present = {c.field for c in cells if c.field}
    wanted = ("project.code", "project.name", "project.budget") if kind == "project" else ("unit.name",)
    for name in wanted:
        if name not in present:
            findings.append(_finding(T_REQUIRED, path, sheet, "", f"模板没有字段 {name}：生成的表里不会显示它，回收时也无法核对。"))


def _col_widths(ws) -> tuple[tuple[int, float], ...]:
    from openpyxl.utils import column_index_from_string

    widths = []
    for letter, dim in ws.column_dimensions.items():
        if dim.width:
            first = column_index_from_string(letter) - 1
            last = min(max(first, (dim.max or first + 1) - 1), MAX_TEMPLATE_COLUMNS - 1)
            for col in range(first, last + 1):
                widths.append((col, float(dim.width)))
    return tuple(sorted(set(widths)))


def _print_setup(ws) -> PrintSetup:
    setup = ws.page_setup
    repeat = None
    if ws.print_title_rows:
        first, _, last = ws.print_title_rows.replace("$", "").partition(":")
        repeat = (int(first) - 1, int(last or first) - 1)
    margins = ws.page_margins
    return PrintSetup(
        landscape=setup.orientation != "portrait",
        paper=int(setup.paperSize or 9),
        fit_width=int(setup.fitToWidth if setup.fitToWidth is not None else 1),
        fit_height=int(setup.fitToHeight if setup.fitToHeight is not None else 0),
        repeat_rows=repeat,
        margins=(margins.left, margins.right, margins.top, margins.bottom),
        center_horizontally=bool(ws.print_options.horizontalCentered),
    )


def _a1(row: int, col: int) -> str:
    from .xlsx import cell_name as xl_rowcol_to_cell

    return xl_rowcol_to_cell(row, col)
