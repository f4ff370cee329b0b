"""Opening a workbook with python-calamine (the one module that imports it): the values of xlsx, xls and ods,
with what the package parts add (:mod:`.xlsx`, :mod:`.ods`), and :class:`ValueBook` for readers that need
only the values."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook

from .cells import Address, DefinedNames, Sheet
from .ods import ods_extras
from .xlsx import scan_worksheet, xlsx_extras


@dataclass
class WorkbookData:
    """What a returned file holds, independent of its format."""

    kind: str
    sheet_names: list[str]
    visible: dict[str, bool]
    names: Mapping[str, Address | None]
    properties: dict[str, str]
    producer: str
    formula_cells: dict[str, set[tuple[int, int]]]
    protected_sheets: set[str]
    _book: CalamineWorkbook
    _sheets: dict[str, Sheet] = field(default_factory=dict)
    # Merges read from the package when calamine reports none (it gives None for every ods sheet).
    package_merges: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    # Worksheet parts of hidden sheets, scanned for formulas and protection only when asked about.
    _unscanned: dict[str, str] = field(default_factory=dict)
    _package: Path | None = None
    # When the file itself says it was last saved (ISO 8601, UTC); "" when it does not say (xls) or not readably.
    saved_at: str = ""

    def formulas(self, name: str) -> set[tuple[int, int]]:
        """Zero-based cells of a sheet that hold a formula."""
        self._scan(name)
        return self.formula_cells.get(name, set())

    def is_protected(self, name: str) -> bool:
        """True when the sheet is protected."""
        self._scan(name)
        return name in self.protected_sheets

    def scan_later(self, name: str, package: Path, part: str) -> None:
        """Leave the worksheet part of sheet ``name`` packed in ``package`` until its formulas or protection
        are asked about."""
        self._package = package
        self._unscanned[name] = part

    def _scan(self, name: str) -> None:
        """Scan a hidden sheet's worksheet part for formulas and protection the first time it is asked about."""
        part = self._unscanned.pop(name, None)
        if part is not None and self._package is not None:
            with zipfile.ZipFile(self._package) as archive:
                scan_worksheet(self, name, archive.read(part))

    def sheet(self, name: str) -> Sheet:
        """A sheet's values and merges, read on first use."""
        if name not in self._sheets:
            cal = self._book.get_sheet_by_name(name)
            rows = cal.to_python(skip_empty_area=False)
            try:
                merges = [(a[0], a[1], b[0], b[1]) for a, b in (cal.merged_cell_ranges or [])]
            except Exception:  # noqa: BLE001 - merges are a help, not a requirement
                merges = []
            if not merges:
                merges = self.package_merges.get(name, [])
            self._sheets[name] = Sheet(name, rows, merges, self.visible.get(name, True))
        return self._sheets[name]


def open_workbook(path: Path, kind: str) -> WorkbookData:
    """Open an xlsx/xlsm/xls/ods file for reading (raises on a file calamine cannot read)."""
    book = _calamine(path)
    names = list(book.sheet_names)
    visible = {m.name: str(m.visible).endswith("Visible") for m in book.sheets_metadata}
    data = WorkbookData(kind, names, visible, DefinedNames(), {}, "", {}, set(), book)
    if kind in ("xlsx", "xlsm"):
        xlsx_extras(path, data)
    elif kind == "ods":
        ods_extras(path, data)
    return data


def _calamine(path: Path) -> CalamineWorkbook:
    """The workbook at ``path`` opened by calamine, also when its name is not UTF-8 (calamine takes only UTF-8
    paths; such a name reaches Python with surrogate escapes, and the file is then handed over opened)."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        with open(path, "rb") as handle:
            return CalamineWorkbook.from_filelike(handle)
    return CalamineWorkbook.from_path(text)


class ValueBook:
    """Just the cell values of a workbook, sheet by sheet, for readers that need nothing else: the master
    loader and the template check. Opening raises what calamine raises on a file it cannot read."""

    def __init__(self, path: Path) -> None:
        self._book = _calamine(path)

    @property
    def sheet_names(self) -> list[str]:
        """The sheet names in workbook order."""
        return list(self._book.sheet_names)

    def rows_from_a1(self, name: str) -> Iterator[list]:
        """The rows of sheet ``name`` from A1; the sheet is parsed now, its grid lives with the iterator.

        calamine's ``iter_rows`` pads the blank rows above the used area but not the blank columns left of
        it, so those are added.
        """
        sheet = self._book.get_sheet_by_name(name)
        if sheet.start is None:
            return iter(())  # no cells at all
        left = [""] * sheet.start[1]
        return map(left.__add__, sheet.iter_rows()) if left else sheet.iter_rows()

    def first_sheet_grid(self) -> list[list]:
        """The first sheet's values as a rectangle from A1, blank cells included."""
        return self._book.get_sheet_by_index(0).to_python(skip_empty_area=False)
