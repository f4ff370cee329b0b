"""Type into an existing workbook and save it under another name: what a person does in Excel.

The demo uses it to play the departments filling in their issued forms (``jixiao-xl demo``); tests and tools
that need a return typed by hand can use it too. Only the cells given change; the rest of the workbook is
kept as openpyxl reads it, so the saved file is what another program re-saving the form would write (not the
bytes the form was issued with).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Mapping

from ..safety import write_atomic

SheetRef = str | int  # a sheet by its name, or by its position (0 is the first sheet)
CellValue = str | int | float | None  # text is typed as text, a number as a number; None empties the cell


def edit_workbook(source: Path, target: Path, values: Mapping[SheetRef, Mapping[str, CellValue]],
                  unprotect: Iterable[SheetRef] = ()) -> Path:
    """Open the .xlsx at ``source``, type ``values`` (sheet → A1 reference → value) and save it as ``target``.

    Each sheet in ``unprotect`` has its protection switched off first, as a person does through 审阅 →
    撤销工作表保护 before typing into a locked cell. ``source`` is left as it is; ``target`` is written
    atomically. Returns ``target``.
    """
    from openpyxl import load_workbook

    workbook = load_workbook(Path(source))
    for sheet in unprotect:
        _sheet(workbook, sheet).protection.sheet = False
    for sheet, cells in values.items():
        worksheet = _sheet(workbook, sheet)
        for reference, value in cells.items():
            worksheet[reference] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_atomic(Path(target), buffer.getvalue())
    return Path(target)


def _sheet(workbook, sheet: SheetRef):
    """The worksheet named ``sheet``, or at position ``sheet``."""
    return workbook.worksheets[sheet] if isinstance(sheet, int) else workbook[sheet]
