"""What a unit typed where its form has no field: below the grid, in an added column or sheet, in a locked
cell whose protection was removed.

The reader (:mod:`read`) takes every field of a form sheet into the Submission; this stage looks at every
other non-empty cell of the return and compares it with what the form held when it was issued — the
template's static text (labels, and mixed text such as a title with the year), the bound cells (by their
``JX_`` names, the ``_meta`` field map and the template's own positions) and the cells the reader took.
What is left is listed as :class:`~jixiao_xl.submission.OtherContent` with its cell and a Chinese note, so
that it reaches the read result, the ledger and the 其他填写内容 sheet of 退回修改.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

from . import values
from .meta import META_SHEET
from .submission import GUIDE_SHEET, OTHER_CONTENT_SHEET, PROBLEMS_SHEET, Location, OtherContent
from .taxonomy import compact
from .template import FormSpec
from .workbook import CellAddress, Sheet, WorkbookData, col_letter, parse_a1

# Sheets of our own that hold no unit input: the hidden lists and identity, and what a 退回修改 adds.
_SKIPPED_SHEETS = frozenset({"_lists", META_SHEET, PROBLEMS_SHEET, OTHER_CONTENT_SHEET})
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")


@dataclass
class SheetRead:
    """One form sheet as the reader took it: the template it follows, the cells it read, its grid.

    ``grid`` is (header row, first row after the grid, grid columns) in the return's own rows; ``notes``
    names cells of the grid the reader saw but did not take (a row with only 一级/二级, a goal text
    under a 序号 that already has one) and why; ``issued`` holds cells that are still as issued although
    not read (the 一级/二级 of an untouched skeleton row).
    """

    name: str
    spec: FormSpec
    locations: Mapping[str, Location]
    grid: tuple[int, int, tuple[int, ...]]
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    issued: set[tuple[int, int]] = field(default_factory=set)


def other_content(data: WorkbookData, read: Iterable[SheetRead],
                  fields: Callable[[], Mapping[str, str]]) -> tuple[OtherContent, ...]:
    """Every non-empty cell of the return that no field accounts for, sheet by sheet in workbook order.

    ``fields`` gives the ``_meta`` field map expanded to single cells (path → ``sheet!A1``); it and the
    workbook's names are only looked at when a sheet has a cell nothing else accounts for (an untouched
    form has none, and parsing ~700 names would double the time a form takes to read).
    """
    forms = {sheet.name: sheet for sheet in read}
    bound_cells: list[dict[str, set[tuple[int, int]]]] = []

    def bound(sheet: str) -> set[tuple[int, int]]:
        if not bound_cells:
            bound_cells.append(_bound_cells(data, fields()))
        return bound_cells[0].get(sheet, set())

    found: list[OtherContent] = []
    for name in data.sheet_names:
        if name in _SKIPPED_SHEETS:
            continue
        try:
            sheet = data.sheet(name)
        except Exception:  # noqa: BLE001 - a sheet calamine cannot give has nothing to list
            continue
        if name in forms:
            found += _form_sheet(sheet, forms[name], lambda: bound(name))
        elif name == GUIDE_SHEET:
            found += _cells(sheet, lambda r, c: c > 0, lambda r, c: "填在“填报说明”工作表上（该表只有 A 列的说明文字）")
        else:
            note = "填在单位自行添加的工作表中" if sheet.visible else "填在隐藏的工作表中"
            found += _cells(sheet, lambda r, c: True, lambda r, c: note)
    return tuple(found)


def _bound_cells(data: WorkbookData, fields: Mapping[str, str]) -> dict[str, set[tuple[int, int]]]:
    """Cells bound to a field when the form was issued: by their JX_ names and by the _meta field map."""
    cells: dict[str, set[tuple[int, int]]] = {}
    for name in data.names.matching(r"JX_.*"):
        address = data.names[name]
        if isinstance(address, CellAddress):
            cells.setdefault(address.sheet, set()).add((address.row, address.col))
    for ref in fields.values():
        sheet, _, cell = ref.rpartition("!")
        place = parse_a1(cell)
        if place is not None:
            cells.setdefault(sheet, set()).add(place)
    return cells


def _cells(sheet: Sheet, wanted, note_of) -> list[OtherContent]:
    """The non-empty cells of a sheet (merge anchors only) that ``wanted`` keeps, with ``note_of``'s note."""
    found = []
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if value is None or value == "" or sheet.is_covered(r, c) or not wanted(r, c):
                continue
            text = values.clean_text(value)
            if text:
                found.append(OtherContent(sheet.name, col_letter(c) + str(r + 1), text, note_of(r, c)))
    return found


def _form_sheet(sheet: Sheet, form: SheetRead, bound: Callable[[], set[tuple[int, int]]]) -> list[OtherContent]:
    spec = form.spec
    header, end, columns = form.grid
    shift = end - (spec.repeat_row + 1)  # rows the grid grew by: the template's rows below it moved down
    taken = form.issued | _template_fields(spec, shift)
    for path, where in form.locations.items():
        if where.sheet == sheet.name and (place := parse_a1(where.cell)) is not None:
            taken.add(place)
            if path.startswith("plan."):  # the 节点 above an amount and the 占比 below it
                taken.update(((place[0] - 1, place[1]), (place[0] + 1, place[1])))
    statics, patterns = _template_texts(spec)
    last_row = max(c.row for c in spec.cells) + shift

    def wanted(r: int, c: int) -> bool:
        if (r, c) in form.notes:  # bound, but seen by the reader and not taken
            return True
        if (r, c) in taken:
            return False
        text = compact(values.clean_text(sheet.raw(r, c)))
        pattern = patterns.get((r - shift if r >= end else r, c))
        if text in statics or (pattern is not None and pattern.fullmatch(text)):
            return False
        return (r, c) not in bound()

    def note_of(r: int, c: int) -> str:
        if (r, c) in form.notes:
            return form.notes[(r, c)]
        if c >= spec.width:
            return f"填在表格右侧模板没有的 {col_letter(c)} 列，不是任何填写项，未读入"
        if r > last_row:
            return "填在表格下方（表尾以下），不是任何填写项，未读入"
        if header < r < end:
            return "填在指标区中不可填写的位置，未读入"
        return "填在表格中锁定（不可填写）的位置，与下发时的内容不同，未读入"

    return _cells(sheet, wanted, note_of)


_TEXTS: dict[int, tuple[FormSpec, frozenset[str], dict[tuple[int, int], re.Pattern]]] = {}


def _template_texts(spec: FormSpec) -> tuple[frozenset[str], dict[tuple[int, int], re.Pattern]]:
    """The template's static texts (compacted; accepted anywhere) and its mixed texts as patterns by template
    position (a placeholder matches any text, so a title with the year is accepted only where it stands),
    worked out once per compiled template (a FormSpec holds dicts, so it is cached by identity)."""
    cached = _TEXTS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1], cached[2]
    statics = frozenset(compact(c.text) for c in spec.cells if c.text and not c.is_placeholder)
    patterns = {(c.row, c.col): re.compile(".*?".join(re.escape(compact(part)) for part in _PLACEHOLDER.split(c.text)))
                for c in spec.cells if c.mixed}
    _TEXTS[id(spec)] = (spec, statics, patterns)
    return statics, patterns


def _template_fields(spec: FormSpec, shift: int) -> set[tuple[int, int]]:
    """The template positions of its bound fields in a return whose grid grew by ``shift``."""
    return {(cell.row + (shift if cell.row > spec.repeat_row else 0), cell.col)
            for cell in spec.cells if cell.field and cell.row != spec.repeat_row}
