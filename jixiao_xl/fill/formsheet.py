"""What project and department sheets share: template cells and styles, the repeating row, bound fields
with their marks and defined names, protection and print setup, and the sandboxed mixed-text cells."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from ..xlsx.sheetwriter import FormatCache, SheetCanvas, cell_ref, quote_sheet
from ..template import CellSpec, FormSpec, is_extra
from ..template.guard import ALLOWED_ZH, MAX_CELL_CHARS, cell_environment, cell_syntax, clip
from .request import INPUT_FILL, MARK_FILL, Placement, RenderBudget, RenderRefused, RenderRequest


def _protect(ws, password: str) -> None:
    ws.protect(password, {
        "select_locked_cells": True, "select_unlocked_cells": True, "format_cells": False,
        "format_columns": True, "format_rows": True, "insert_rows": False, "delete_rows": False,
        "insert_columns": False, "delete_columns": False, "sort": False, "autofilter": False,
    })


def _print(ws, spec: FormSpec, last_col: int) -> None:
    setup = spec.print_setup
    if setup.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_paper(setup.paper)
    ws.fit_to_pages(setup.fit_width, setup.fit_height)
    if setup.repeat_rows is not None:
        ws.repeat_rows(*setup.repeat_rows)
    left, right, top, bottom = setup.margins
    ws.set_margins(left=left, right=right, top=top, bottom=bottom)
    if setup.center_horizontally:
        ws.center_horizontally()


class FormSheet:
    """What project and department sheets share: template cells, styles, row mapping, names."""

    inputs: frozenset[str] = frozenset()

    def __init__(self, request: RenderRequest, spec: FormSpec, ws, sheet: str, formats: FormatCache, rows: int,
                 budget: RenderBudget):
        self.request = request
        self.budget = budget
        self.spec = spec
        self.ws = ws
        self.sheet = sheet
        self.formats = formats
        self.rows = max(rows, 1)
        self.canvas = SheetCanvas(ws)
        self.placements: list[Placement] = []

    # Layout helpers
    def out_row(self, template_row: int) -> int:
        """Where a template row lands once the repeating row became ``self.rows`` rows."""
        return template_row if template_row <= self.spec.repeat_row else template_row + self.rows - 1

    @property
    def first_grid_row(self) -> int:
        return self.spec.repeat_row

    @property
    def last_grid_row(self) -> int:
        return self.spec.repeat_row + self.rows - 1

    def fmt(self, cell: CellSpec, is_input: bool = False, extra: dict | None = None):
        # Keyed by identity: the compiled template's styles live as long as the batch.
        key = (id(cell.style), is_input, tuple(extra.items()) if extra else ())
        return self.formats.get_keyed(key, lambda: _format_props(cell.style, is_input, extra))

    def place(self, path: str, row: int, col: int, value, cell: CellSpec, extra: dict | None = None,
              markable: bool = True) -> None:
        """Write a bound field and remember where it went; a marked field is filled red with a comment.

        ``markable`` is False for the covered rows of a vertical merge, where a comment would be lost.
        """
        extra = self.marked(path, row, col, extra) if markable else extra
        if self.request.returned and self.is_input(cell.field):
            value = self.request.returned.get(self.mark_key(path), value)
        self.canvas.put(row, col, value, self.fmt(cell, self.is_input(cell.field), extra))
        self.placements.append(Placement(path, self.sheet, row, col))

    def marked(self, path: str, row: int, col: int, extra: dict | None) -> dict | None:
        """``extra`` with the red fill, and the cell commented, when a problem is marked at ``path``."""
        mark = self.request.marks.get(self.mark_key(path)) if self.request.marks else None
        if mark is None:
            return extra
        self.ws.write_comment(row, col, mark, {"x_scale": 2.5, "y_scale": 2, "author": "jixiao-xl"})
        return {**(extra or {}), "bg_color": "#" + MARK_FILL, "pattern": 1}

    def is_input(self, field_path: str) -> bool:
        """True for a field the unit fills in: the sheet's inputs and every extra field of the template."""
        return field_path in self.inputs or is_extra(field_path)

    def static_cells(self, context: dict, skip=lambda cell: False) -> None:
        """Template cells outside the repeating row: labels, mixed text, and single-field cells via ``bind``."""
        for cell in self.spec.cells:
            if cell.row == self.spec.repeat_row or skip(cell):
                continue
            self.budget.check(self.sheet)
            row = self.out_row(cell.row)
            if cell.field:
                self.bind(cell, row, cell.col)
            elif cell.mixed:
                self.canvas.put(row, cell.col, self.mixed_text(cell, row, context), self.fmt(cell))
            else:
                self.canvas.put(row, cell.col, cell.text or None, self.fmt(cell))

    def mixed_text(self, cell: CellSpec, row: int, context: dict) -> str:
        """A mixed cell rendered in the sandbox, refused beyond Excel's cell limit or the time budget.

        The output is collected piece by piece, so a cell that would grow without bound stops at the limit.
        """
        from jinja2.exceptions import SecurityError

        size, pieces = 0, []
        try:
            for piece in _cell_template(cell.text).generate(**context):
                size += len(piece)
                if size > MAX_CELL_CHARS:
                    raise RenderRefused(
                        f"单位 {self.request.unit.code} 的工作表 {self.sheet} 单元格 {cell_ref(row, cell.col)} 按模板生成的文字"
                        f"超过 Excel 单元格上限 {MAX_CELL_CHARS} 个字符，已停止生成。请减少模板该单元格中的文字或占位符，"
                        "或检查主数据中对应字段是否过长。")
                self.budget.check(self.sheet)
                pieces.append(piece)
        except SecurityError as exc:
            raise _refused_cell(cell.text) from exc
        return "".join(pieces)

    def static_merges(self) -> None:
        """Template merges, shifted below the repeating row; merges inside the row repeat per row."""
        for r1, c1, r2, c2 in self.spec.merges:
            if r1 == r2 == self.spec.repeat_row:
                for k in range(self.rows):
                    self.canvas.merge(r1 + k, c1, r2 + k, c2)
            else:
                self.canvas.merge(self.out_row(r1), c1, self.out_row(r2), c2)

    def layout(self) -> None:
        spec = self.spec
        hidden = self.hidden_columns()
        for col, width in spec.col_widths:
            self.ws.set_column(col, col, width, None, {"hidden": True} if col in hidden else None)
        for row, height in spec.row_heights:
            if row != spec.repeat_row:
                self.ws.set_row(self.out_row(row), height)
        _print(self.ws, spec, spec.width - 1)
        self.ws.hide_gridlines(2)

    def finish(self) -> list[Placement]:
        widths = dict(self.spec.col_widths)
        for row, height in self.canvas.fit_heights(self.first_grid_row, self.last_grid_row, widths).items():
            self.ws.set_row(row, height)
        self.canvas.flush()
        _protect(self.ws, self.request.password)
        return self.placements

    def grid_name(self) -> tuple[str, str]:
        """The defined name spanning the grid from its header row to its last row (it grows with inserted rows)."""
        name = Placement(self.grid_path(), self.sheet, 0, 0).name
        first, last = cell_ref(self.spec.header_row, 0, True), cell_ref(self.last_grid_row, self.spec.width - 1, True)
        return name, f"={quote_sheet(self.sheet)}!{first}:{last}"

    def grid_path(self) -> str:
        raise NotImplementedError

    def mark_key(self, path: str) -> tuple[str, str]:
        """The key of :attr:`RenderRequest.marks` that concerns the field written at ``path``."""
        raise NotImplementedError

    def hidden_columns(self) -> set[int]:
        """Columns the form hides (the 权重 column when the batch does not use weights)."""
        return set()

    def bind(self, cell: CellSpec, row: int, col: int) -> None:
        raise NotImplementedError


def _format_props(style, is_input: bool, extra: dict | None) -> dict:
    props = style.as_format()
    if is_input:
        props["locked"] = False
        props.setdefault("bg_color", "#" + INPUT_FILL)
        props.setdefault("pattern", 1)
    if extra:
        props.update(extra)
    return props


def list_validation(source: str, title: str, message: str, warning: bool = False) -> dict:
    dv = {"validate": "list", "source": source, "input_title": title, "input_message": message,
          "error_title": title, "error_message": "请从下拉列表中选择。" if not warning else "该值不在推荐列表中，确认要使用吗？"}
    if warning:
        dv["error_type"] = "warning"
    return dv


@lru_cache(maxsize=256)
def _cell_template(text: str) -> jinja2.Template:
    """A template cell's mixed text, compiled once per process (compiling dominates otherwise).

    Checked against the template whitelist again here, whatever produced the spec, and compiled in
    jinja2's immutable sandbox: a cell that is more than text and ``{{ name.attr }}`` is never run.
    """
    if cell_syntax(text).problems:
        raise _refused_cell(text)
    return cell_environment().from_string(text)


def _refused_cell(text: str) -> RenderRefused:
    return RenderRefused(f"模板单元格“{clip(text)}”含有不允许的写法，已停止生成：{ALLOWED_ZH}。"
                         "请用 jixiao-xl template check 检查并修改模板。")

