"""Templates are untrusted input: what a template file and its cells may contain, checked before use.

A template is an .xlsx that colleagues and provinces pass around, so it gets the care a returned file gets:

* :func:`package_findings` runs before openpyxl sees the file: its size, the zip directory guard the intake
  applies to returns (entry count, sizes, ratios, member paths), and the ranges openpyxl expands cell by
  cell when it loads a sheet (merged areas, hyperlink ranges), which must lie inside the template bounds;
* :data:`MAX_TEMPLATE_ROWS` × :data:`MAX_TEMPLATE_COLUMNS` is the area a form may use; content beyond it
  is reported with its cell (:func:`outside_bounds`) instead of being iterated over;
* :func:`cell_syntax` allows a cell static text and ``{{ name.attr }}`` placeholders and nothing else,
  decided on jinja2's own lexer and parser; the renderer checks every cell again and renders it in
  jinja2's immutable sandbox (:func:`cell_environment`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..catalogue import define
from ..findings import Finding, has_errors
from ..workbook import col_letter

# The area a form may use (A1:GR2000): real forms need about ten columns and a few dozen rows.
MAX_TEMPLATE_ROWS = 2000
MAX_TEMPLATE_COLUMNS = 200
# Excel's limit for the text of one cell, for template cells and for the text rendered from them.
MAX_CELL_CHARS = 32767
# Zip limits for a template file (real ones are a few dozen KB): tighter than those for returns.
MAX_TEMPLATE_FILE_BYTES = 10 * 1024 * 1024
MAX_TEMPLATE_ENTRIES = 500
MAX_TEMPLATE_ENTRY_BYTES = 32 * 1024 * 1024
MAX_TEMPLATE_TOTAL_BYTES = 64 * 1024 * 1024

_SOURCE = "本工具约定"


BOUNDS_REF = f"A1:{col_letter(MAX_TEMPLATE_COLUMNS - 1)}{MAX_TEMPLATE_ROWS}"
_BOUNDS_ZH = f"{BOUNDS_REF}（{MAX_TEMPLATE_COLUMNS} 列 × {MAX_TEMPLATE_ROWS} 行）"
ALLOWED_ZH = "模板单元格只能写文字和 {{ 字段名 }} 占位符（如 {{ unit.name }}），不能写 {% %} 语句、{# #} 注释、函数调用、过滤器、下标或以下划线开头的名称"

T_UNREADABLE = define("T-UNREADABLE", "error", "模板文件无法打开", "确认文件是 Excel 的 .xlsx 格式且没有加密。", "本工具约定")
T_CODE = define("T-CODE", "error", "模板单元格含有占位符以外的代码", ALLOWED_ZH + "。删除这些内容后重新检查。", _SOURCE)
T_RANGE = define("T-RANGE", "error", "模板内容超出允许的范围",
                 f"模板只画表格本身：内容、合并区域和超链接都应在 {_BOUNDS_ZH} 之内，每个单元格不超过 {MAX_CELL_CHARS} 个字符。"
                 "删除范围以外的内容后重新检查。", _SOURCE)
T_UNSAFE = define("T-UNSAFE-FILE", "error", "模板文件过大或结构异常，疑似恶意文件，已拒绝打开",
                  "向模板提供方索取正常的 .xlsx 文件，或在 Excel/WPS 中打开后另存为 .xlsx 再检查。", "本工具约定")


# ---------------------------------------------------------------------------------------------------------
# Cell text


@dataclass(frozen=True)
class CellSyntax:
    """What a cell's text holds: the field names of its placeholders and what is not allowed in it.

    ``problems`` are (rule code, the offending text as written, what it is in Chinese).
    """

    names: tuple[str, ...] = ()
    problems: tuple[tuple[str, str, str], ...] = ()


_JINJA_MARKS = ("{{", "{%", "{#")


@lru_cache(maxsize=1)
def cell_environment():
    """The jinja2 environment that parses and renders template cells: the immutable sandbox."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(autoescape=False, undefined=jinja2.ChainableUndefined)


@lru_cache(maxsize=4096)
def cell_syntax(text: str) -> CellSyntax:
    """Check a cell's text against the whitelist: static text and ``{{ name.attr }}`` placeholders only.

    The text is split by jinja2's lexer; a statement, comment or raw block is refused as it stands, and
    each ``{{ … }}`` is parsed by jinja2's parser and must be a dotted name (no calls, filters, subscripts,
    operators, constants, whitespace control or names starting with an underscore).
    """
    if not any(mark in text for mark in _JINJA_MARKS):
        return CellSyntax()
    from jinja2 import TemplateSyntaxError

    env = cell_environment()
    try:
        segments = _segments(env, text)
    except TemplateSyntaxError:
        return CellSyntax(problems=(("T-SYNTAX", text, "写法有误"),))
    names, problems = [], []
    for kind, raw in segments:
        if kind == "other":
            problems.append((T_CODE.code, raw, "注释" if raw.startswith("{#") else "语句"))
        elif kind == "variable":
            name, problem = _placeholder(env, raw)
            if name:
                names.append(name)
            else:
                problems.append(problem)
    if not problems and not _parses_to_placeholders(env, text):
        problems.append((T_CODE.code, text, "不允许的写法"))  # the lexer and the parser disagree: refuse
    return CellSyntax(tuple(names), tuple(problems))


def _segments(env, text: str) -> list[tuple[str, str]]:
    """The text as (kind, raw text) pieces: ``data``, ``variable`` (``{{ … }}``) or ``other`` (``{% %}`` …)."""
    pieces, raw, kind = [], [], ""
    for _, token, value in env.lex(text):
        if not kind:
            if token == "data":
                pieces.append(("data", value))
            else:
                kind, raw = ("variable" if token == "variable_begin" else "other"), [value]
            continue
        raw.append(value)
        if token == "variable_end" or (kind == "other" and token.endswith("_end")):
            pieces.append((kind, "".join(raw)))
            kind = ""
    if kind:
        pieces.append((kind, "".join(raw)))
    return pieces


def _placeholder(env, raw: str) -> tuple[str, tuple[str, str, str]]:
    """The dotted field name of one ``{{ … }}``, or ("", the problem) when it is anything else."""
    from jinja2 import TemplateSyntaxError, nodes

    if raw[2:3] in ("-", "+") or raw[-3:-2] in ("-", "+"):
        return "", (T_CODE.code, raw, "空白控制符")
    try:
        body = env.parse(raw).body
    except TemplateSyntaxError:
        return "", ("T-SYNTAX", raw, "写法有误")
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return "", ("T-SYNTAX", raw, "写法有误")
    expression = body[0].nodes[0]
    name = _dotted_name(expression)
    return (name, ("", "", "")) if name else ("", (T_CODE.code, raw, _describe(expression)))


def _dotted_name(expression) -> str:
    """``unit.name`` for a chain of attribute lookups on a name, "" for any other expression."""
    from jinja2 import nodes

    parts = []
    while isinstance(expression, nodes.Getattr):
        parts.append(expression.attr)
        expression = expression.node
    if not isinstance(expression, nodes.Name) or expression.ctx != "load":
        return ""
    parts.append(expression.name)
    if any(part.startswith("_") for part in parts):
        return ""
    return ".".join(reversed(parts))


def _describe(expression) -> str:
    """What a refused expression is, in Chinese, naming the first construct that is not allowed."""
    from jinja2 import nodes

    kinds = ((nodes.Call, "函数调用"), (nodes.Filter, "过滤器（|）"), (nodes.Test, "测试（is）"),
             ((nodes.Getitem, nodes.Slice), "下标（[ ]）"))
    for node_type, label in kinds:
        if isinstance(expression, node_type) or expression.find(node_type) is not None:
            return label
    for node in (expression, *expression.find_all((nodes.Name, nodes.Getattr))):
        label = node.name if isinstance(node, nodes.Name) else node.attr if isinstance(node, nodes.Getattr) else ""
        if label.startswith("_"):
            return "以下划线开头的名称"
    if isinstance(expression, nodes.Literal):
        return "常量"
    return "运算或表达式"


def _parses_to_placeholders(env, text: str) -> bool:
    """True when jinja2 parses the whole cell to output only: static text and dotted names."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = env.parse(text)
    except TemplateSyntaxError:
        return False
    return all(isinstance(statement, nodes.Output)
               and all(isinstance(n, nodes.TemplateData) or _dotted_name(n) for n in statement.nodes)
               for statement in tree.body)


# ---------------------------------------------------------------------------------------------------------
# The file, before openpyxl opens it


def package_findings(path: Path) -> list[Finding]:
    """Why the template file must not be opened: size, zip directory, expanded ranges (empty when fine)."""
    file = str(path)
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        return [Finding(T_UNREADABLE.code, "error", f"模板无法打开（{type(exc).__name__}）：请确认文件存在且可以读取。", file=file)]
    if size > MAX_TEMPLATE_FILE_BYTES:
        return [Finding(T_UNSAFE.code, "error", f"模板文件有 {size / 1024 / 1024:.1f} MB，超过上限 "
                        f"{MAX_TEMPLATE_FILE_BYTES // 1024 // 1024} MB（正常的模板只有几十 KB），已拒绝打开。",
                        file=file, value=str(size))]
    from ..intake import Limits, check_zip

    limits = Limits(max_file_bytes=MAX_TEMPLATE_FILE_BYTES, max_entries=MAX_TEMPLATE_ENTRIES,
                    max_entry_bytes=MAX_TEMPLATE_ENTRY_BYTES, max_total_bytes=MAX_TEMPLATE_TOTAL_BYTES)
    refused = [_as_template_finding(f, file) for f in check_zip(path, limits) if f.severity == "error"]
    if has_errors(refused):
        return refused
    return _expanded_range_findings(Path(path))


def _as_template_finding(finding: Finding, file: str) -> Finding:
    """An intake zip finding restated for a template: a corrupt zip is unreadable, the rest unsafe."""
    if finding.rule in ("I-ZIP-CORRUPT", "I-UNREADABLE"):
        return Finding(T_UNREADABLE.code, "error", f"模板无法打开（{finding.value or '不是 .xlsx 文件'}）：请确认是未加密的 .xlsx 文件。",
                       file=file, value=finding.value)
    return Finding(T_UNSAFE.code, "error", f"模板文件已拒绝打开（与接收报表相同的安全检查）：{finding.message}",
                   file=file, value=finding.value, expected=finding.expected)


# Elements whose ``ref`` openpyxl expands into one object per cell when it loads a sheet.
_EXPANDED = frozenset({"mergeCell", "hyperlink"})


@dataclass
class _PackageScan:
    """What the scan of a package collects: expanded ranges per member, and what names the sheets."""

    ranges: list[tuple[str, str, str]] = field(default_factory=list)  # (member, element, ref)
    sheets: dict[str, dict[str, str]] = field(default_factory=dict)  # member → relationship id → sheet name
    relations: dict[str, dict[str, str]] = field(default_factory=dict)  # .rels member → id → target

    def sheet_of(self, member: str) -> str:
        """The sheet name of a worksheet part, through the workbook's relationships ("" when unknown)."""
        for workbook, names in self.sheets.items():
            folder, _, file = workbook.rpartition("/")
            targets = self.relations.get(f"{folder}/_rels/{file}.rels".lstrip("/"), {})
            for relation, name in names.items():
                target = targets.get(relation, "")
                if target.startswith("/"):
                    resolved = target.lstrip("/")
                else:
                    resolved = posixpath.normpath(posixpath.join(folder, target))
                if resolved == member:
                    return name
        return ""


def _expanded_range_findings(path: Path) -> list[Finding]:
    """T-RANGE for merged areas and hyperlink ranges beyond the bounds or larger than the whole area.

    Every member of the package is scanned (a worksheet part may have any name), as a stream: memory stays
    constant whatever the size. Members that are not XML are skipped; openpyxl reports them if it needs them.
    """
    import zipfile

    scan = _PackageScan()
    try:
        with zipfile.ZipFile(path) as package:
            for info in package.infolist():
                if info.is_dir():
                    continue
                with package.open(info) as stream:
                    problem = _scan_member(stream, info.filename, scan)
                if problem:
                    return [Finding(T_UNSAFE.code, "error", f"模板文件的 {info.filename} 含有 {problem}，正常的 .xlsx "
                                    "不会这样，已拒绝打开。", file=str(path), value=info.filename)]
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError) as exc:
        return [Finding(T_UNREADABLE.code, "error", f"模板无法打开（{type(exc).__name__}）：请确认是未加密的 .xlsx 文件。",
                        file=str(path))]
    return _range_findings(path, scan)


def _scan_member(stream, member: str, scan: _PackageScan) -> str:
    """Collect what :class:`_PackageScan` holds from one package member; a refusal reason, or ""."""
    from xml.sax import SAXParseException
    from xml.sax.handler import ContentHandler

    import defusedxml
    import defusedxml.sax

    class Collector(ContentHandler):
        def startElement(self, name, attrs):  # noqa: N802 - the SAX interface
            local = name.rpartition(":")[2]
            if local in _EXPANDED:
                scan.ranges.append((member, local, attrs.get("ref", "")))
            elif local == "sheet":
                relation = next((attrs[key] for key in attrs.keys() if key.rpartition(":")[2] == "id"), "")
                scan.sheets.setdefault(member, {})[relation] = attrs.get("name", "")
            elif local == "Relationship":
                scan.relations.setdefault(member, {})[attrs.get("Id", "")] = attrs.get("Target", "")

    try:
        defusedxml.sax.parse(stream, Collector())
    except SAXParseException:
        return ""  # not XML (an image, a binary part) or broken: nothing openpyxl could expand
    except defusedxml.DefusedXmlException:
        return "XML 实体或文档类型声明"
    return ""


def _range_findings(path: Path, scan: _PackageScan) -> list[Finding]:
    from openpyxl.utils.cell import range_boundaries

    findings, area, outside = [], 0, []
    for member, element, ref in scan.ranges:
        for part in ref.split():
            try:
                min_col, min_row, max_col, max_row = range_boundaries(part)
            except (ValueError, TypeError):
                continue  # openpyxl cannot expand what it cannot read; it reports the sheet itself
            whole_rows_or_columns = None in (min_col, min_row, max_col, max_row)
            if whole_rows_or_columns or max_col > MAX_TEMPLATE_COLUMNS or max_row > MAX_TEMPLATE_ROWS:
                outside.append((member, element, part))
            else:
                area += (max_col - min_col + 1) * (max_row - min_row + 1)
    what = {"mergeCell": "合并区域", "hyperlink": "超链接范围"}
    for member, element, part in outside[:5]:
        findings.append(Finding(T_RANGE.code, "error", f"{what[element]} {part} 超出模板允许的范围 {_BOUNDS_ZH}，"
                                f"模板未打开；请取消该{what[element]}或把它缩小到表格本身。" + _more(outside),
                                file=str(path), sheet=scan.sheet_of(member), cell=part, value=part))
    if not outside and area > MAX_TEMPLATE_ROWS * MAX_TEMPLATE_COLUMNS:
        findings.append(Finding(T_RANGE.code, "error", f"合并区域和超链接范围合计 {area} 个单元格，超过模板整个允许范围"
                                f" {_BOUNDS_ZH}，说明它们大量重叠，正常的表格不会这样；模板未打开。",
                                file=str(path), value=str(area)))
    return findings


def _more(items: list) -> str:
    return f"（共 {len(items)} 处，只列出前 5 处）" if len(items) > 5 else ""


# ---------------------------------------------------------------------------------------------------------
# The sheet, once opened


def outside_bounds(ws) -> tuple[int, int, list[tuple[int, int, str]]]:
    """(rows, columns) of the used range inside the bounds (0, 0 for an empty sheet), and the 1-based
    (row, column, text) of every cell with a value beyond them.

    Only the cells the sheet really holds are looked at: ``ws.iter_rows()`` would create every position of
    the rectangle up to the farthest cell (one cell at XFD1048576 makes that 17 billion).
    """
    rows = cols = 0
    beyond = []
    # openpyxl keeps a sheet's cells in ``_cells`` keyed by (row, column); it has no public way to list
    # the existing cells without materialising the empty ones.
    for (row, col), cell in ws._cells.items():
        if row <= MAX_TEMPLATE_ROWS and col <= MAX_TEMPLATE_COLUMNS:
            rows, cols = max(rows, row), max(cols, col)
        elif cell.value is not None and str(cell.value) != "":
            beyond.append((row, col, str(cell.value)))
    return rows, cols, sorted(beyond)


def outside_findings(path: Path, sheet: str, beyond: list[tuple[int, int, str]]) -> list[Finding]:
    """T-RANGE for the first few cells with a value beyond the bounds, each naming its cell."""
    from openpyxl.utils import get_column_letter

    findings = []
    for row, col, text in beyond[:5]:
        ref = f"{get_column_letter(col)}{row}"
        findings.append(Finding(T_RANGE.code, "error", f"单元格 {ref} 有内容“{clip(text)}”，超出模板允许的范围 {_BOUNDS_ZH}，"
                                "未读取；模板只需画出表格本身，请删除该单元格的内容。" + _more(beyond),
                                file=str(path), sheet=sheet, cell=ref, value=clip(text)))
    return findings


def clip(text: str, limit: int = 80) -> str:
    """Text shortened for a message (long offending text is quoted by its start)."""
    return text if len(text) <= limit else text[:limit] + "……"
