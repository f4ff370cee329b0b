"""Compile an .xlsx form template into a :class:`~.spec.FormSpec`: the one place that reads a template with openpyxl.

A template is a workbook a person drew in Excel or WPS; cells hold static labels or jinja2 placeholders
(``{{ project.code }}``). The file is guarded first (:mod:`.guard`: size, zip directory, expanded ranges),
then its first sheet is read within the template bounds into cells with their look, merges, column widths and
page setup; :func:`.checks.check_layout` finds the repeating row and the plan block. The authoring rules are
in xltemplates/README.md; :func:`check_template` explains what is wrong.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from ..errors import InputError
from ..findings import Finding
from ..workbook import ValueBook
from .checks import T_COVERED, T_SHEETS, T_SYNTAX, a1, check_layout, template_finding
from .guard import (ALLOWED_ZH, MAX_CELL_CHARS, MAX_TEMPLATE_COLUMNS, MAX_TEMPLATE_ROWS, T_CODE, T_RANGE, T_UNREADABLE,
                    cell_syntax, clip, outside_bounds, outside_findings, package_findings)
from .spec import CellSpec, FormSpec, PrintSetup, Style, field_positions

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_SINGLE = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}\s*$")
_SINGLE_EXTRA = re.compile(r"^\s*\{\{\s*(extra\.[^\s.{}'\"]+)\s*\}\}\s*$")  # see spec.is_extra


def compile_template(path: Path) -> FormSpec:
    """Read a template once with openpyxl and compile it; raises InputError when it is unusable."""
    spec, findings = _compile(Path(path))
    errors = [f for f in findings if f.severity == "error"]
    if spec is None or errors:
        lines = "".join(f"\n  {'!'.join(p for p in (f.sheet, f.cell) if p)} {f.rule}：{f.message}" for f in errors[:10])
        more = f"\n  ……另有 {len(errors) - 10} 条" if len(errors) > 10 else ""
        raise InputError(f"模板 {path} 有误，不能使用：{lines}{more}\n请修改模板后重试；jixiao-xl template check {path} 列出全部问题。")
    return spec


def spec_from_bytes(content: bytes, file_name: str) -> FormSpec:
    """Compile a template kept as bytes (in the ledger) under its original file name; InputError when unusable."""
    spec, findings = _compile(Path(file_name), content)
    if spec is None or any(f.severity == "error" for f in findings):
        raise InputError(f"台账中保存的模板 {file_name} 无法使用。")
    return spec


def check_template(path: Path) -> list[Finding]:
    """Everything wrong with a template, as findings with the template cell (empty list when fine)."""
    _, findings = _compile(Path(path))
    return findings


def _guard(path: Path, content: bytes | None) -> list[Finding]:
    """The guard's findings for the file at ``path``, or for ``content`` (a template kept in the ledger),
    checked as a file of its own so that both pass the same guard."""
    if content is None:
        return package_findings(path)
    with tempfile.TemporaryDirectory(prefix="jixiao-template-") as folder:
        copy = Path(folder) / "template.xlsx"
        copy.write_bytes(content)
        return [replace(f, file=str(path)) for f in package_findings(copy)]


def _compile(path: Path, content: bytes | None = None) -> tuple[FormSpec | None, list[Finding]]:
    """Compile the template at ``path``, or the template bytes ``content`` under the name ``path`` (its stem is
    the template id). The file is guarded first, then read within the bounds."""
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
        findings.append(template_finding(T_SHEETS, path, wb.worksheets[0].title, "", "模板有多个工作表，只使用第一个。"))
    ws = wb.worksheets[0]
    used_rows, used_cols, beyond = outside_bounds(ws)
    findings += outside_findings(path, ws.title, beyond)
    covered = _covered_cells(ws)
    if not beyond:  # calamine would allocate the whole rectangle up to the farthest value
        _check_covered(path, ws.title, covered, findings)
    cells = [spec for spec in _rectangle_specs(ws, used_rows, used_cols, covered, path, findings) if spec is not None]
    merges = tuple(sorted((r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1) for r in ws.merged_cells.ranges))
    layout = check_layout(cells, merges, path, ws.title, findings)
    if layout.repeat_row is None or any(f.severity == "error" for f in findings):
        return None, findings
    spec = FormSpec(
        template_id=path.stem,
        version=hashlib.sha256(data).hexdigest()[:12],
        kind=layout.kind,
        title=ws.title,
        cells=tuple(cells),
        merges=merges,
        col_widths=_col_widths(ws),
        row_heights=tuple(sorted((i - 1, d.height) for i, d in ws.row_dimensions.items()
                                 if d.height and i <= MAX_TEMPLATE_ROWS)),
        print_setup=_print_setup(ws),
        repeat_row=layout.repeat_row,
        plan_cell=layout.plan_cell,
        plan_span=layout.plan_span,
        fields=field_positions(cells),
    )
    return spec, findings


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
                ref = a1(r - 1, c - 1)
                findings.append(template_finding(T_COVERED, path, sheet, ref, f"单元格 {ref} 在合并区域内但不是左上角，"
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
        findings.append(template_finding(T_RANGE, path, sheet, cell.coordinate, f"单元格 {cell.coordinate} 有 {len(text)} 个字符，"
                                         f"超过 Excel 单元格上限 {MAX_CELL_CHARS} 个字符；请缩短这段文字。", clip(text)))
        return CellSpec(cell.row - 1, cell.column - 1, style)
    if text.count("{{") != text.count("}}"):
        findings.append(template_finding(T_SYNTAX, path, sheet, cell.coordinate,
                                         f"单元格 {cell.coordinate} 的花括号不成对：{text}", text))
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
            findings.append(template_finding(T_CODE, path, sheet, ref, f"单元格 {ref} 中的“{quoted}”是{what}，不允许使用："
                                             f"{ALLOWED_ZH}。请删除它。", quoted))
        else:
            findings.append(template_finding(T_SYNTAX, path, sheet, ref, f"单元格 {ref} 的占位符“{quoted}”写法有误："
                                             "只能写字段名（字母、数字、下划线和点），如 {{ unit.name }}。", quoted))


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
