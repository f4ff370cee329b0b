"""Raw access to a returned workbook, whatever wrote it: values, merges, names, properties, formulas.

python-calamine gives the cell values of xlsx, xls and ods; a small defusedxml parse of the package
parts gives what calamine does not (defined names, custom properties, the producing application,
which cells hold formulas, sheet protection). Nothing here knows about 绩效目标表; :mod:`read` does.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_XLSX_FORMULA_CELL = re.compile(rb'<c r="([A-Z]{1,3}\d+)"[^>]*?>(?:<f[ >/])')
# xsd:boolean: Excel writes sheet="1", LibreOffice writes sheet="true".
_XLSX_PROTECTED = re.compile(rb'<sheetProtection\b[^>]*?\bsheet="(?:1|true)"')
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    "ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
}


@dataclass(frozen=True)
class CellAddress:
    """A zero-based cell on a named sheet."""

    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        return col_letter(self.col) + str(self.row + 1)


@dataclass
class Sheet:
    """One sheet's values (a dense grid of Python values) and merged ranges."""

    name: str
    rows: list[list[object]]
    merges: list[tuple[int, int, int, int]]
    visible: bool = True
    _anchor: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for r1, c1, r2, c2 in self.merges:
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    if (r, c) != (r1, c1):
                        self._anchor[(r, c)] = (r1, c1)

    @property
    def height(self) -> int:
        return len(self.rows)

    def raw(self, row: int, col: int) -> object:
        """The value stored in a cell (None outside the used area)."""
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            value = self.rows[row][col]
            return None if value == "" else value
        return None

    def value(self, row: int, col: int) -> object:
        """The value shown in a cell: a covered cell of a merge shows its anchor's value."""
        anchor = self._anchor.get((row, col))
        return self.raw(*anchor) if anchor else self.raw(row, col)

    def is_covered(self, row: int, col: int) -> bool:
        """True for a cell inside a merge that is not its top-left anchor."""
        return (row, col) in self._anchor

    def merge_end(self, row: int, col: int) -> tuple[int, int]:
        """The bottom-right cell of the merge anchored at (row, col), or the cell itself."""
        for r1, c1, r2, c2 in self.merges:
            if (r1, c1) == (row, col):
                return r2, c2
        return row, col

    def text(self, row: int, col: int) -> str:
        """The shown value as compact text (for matching labels)."""
        value = self.value(row, col)
        return "" if value is None else re.sub(r"\s+", "", str(value))

    def find_text(self, text: str, rows: range | None = None) -> list[tuple[int, int]]:
        """Cells whose compacted text equals ``text`` (covered cells excluded)."""
        target = re.sub(r"\s+", "", text)
        hits = []
        for r in rows if rows is not None else range(len(self.rows)):
            if r >= len(self.rows):
                break
            for c, value in enumerate(self.rows[r]):
                if value not in (None, "") and not self.is_covered(r, c) and re.sub(r"\s+", "", str(value)) == target:
                    hits.append((r, c))
        return hits


@dataclass
class WorkbookData:
    """What a returned file holds, independent of its format."""

    kind: str
    sheet_names: list[str]
    visible: dict[str, bool]
    names: dict[str, CellAddress | tuple[CellAddress, CellAddress]]
    properties: dict[str, str]
    producer: str
    formula_cells: dict[str, set[tuple[int, int]]]
    protected_sheets: set[str]
    _book: CalamineWorkbook
    _sheets: dict[str, Sheet] = field(default_factory=dict)
    # Merges read from the package when calamine reports none (it gives None for every ods sheet).
    package_merges: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)

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


def col_letter(col: int) -> str:
    """Column letters of a zero-based column index."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def parse_a1(ref: str) -> tuple[int, int] | None:
    """Zero-based (row, col) of an A1 reference such as ``$B$4``; None when it is not one cell."""
    match = _REF.match(ref.strip())
    if not match:
        return None
    letters, digits = match.groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def open_workbook(path: Path, kind: str) -> WorkbookData:
    """Open an xlsx/xlsm/xls/ods file for reading (raises on a file calamine cannot read)."""
    book = CalamineWorkbook.from_path(str(path))
    names = list(book.sheet_names)
    visible = {m.name: str(m.visible).endswith("Visible") for m in book.sheets_metadata}
    data = WorkbookData(kind, names, visible, {}, {}, "", {}, set(), book)
    if kind in ("xlsx", "xlsm"):
        _xlsx_extras(path, data)
    elif kind == "ods":
        _ods_extras(path, data)
    return data


# ---------------------------------------------------------------------------------------------------------
# xlsx


def _xlsx_extras(path: Path, data: WorkbookData) -> None:
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        workbook = SafeET.fromstring(archive.read("xl/workbook.xml"))
        rels = _xlsx_rels(archive, members)
        sheet_files = {}
        for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
            name = sheet.get("name", "")
            target = rels.get(sheet.get(f"{{{_NS['r']}}}id", ""), "")
            sheet_files[name] = target
        for defined in workbook.iterfind("m:definedNames/m:definedName", _NS):
            if defined.get("localSheetId") is None and defined.text:
                address = _parse_reference(defined.text)
                if address is not None:
                    data.names[defined.get("name", "")] = address
        data.properties = _xlsx_custom(archive, members)
        data.producer = _xlsx_app(archive, members)
        for name, target in sheet_files.items():
            if target in members:
                xml = archive.read(target)
                data.formula_cells[name] = {parse_a1(ref.decode()) for ref in _XLSX_FORMULA_CELL.findall(xml)}
                if _XLSX_PROTECTED.search(xml):
                    data.protected_sheets.add(name)


def _xlsx_rels(archive: zipfile.ZipFile, members: set[str]) -> dict[str, str]:
    part = "xl/_rels/workbook.xml.rels"
    if part not in members:
        return {}
    rels = {}
    for rel in SafeET.fromstring(archive.read(part)).iterfind("rel:Relationship", _NS):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        rels[rel.get("Id", "")] = target
    return rels


def _xlsx_custom(archive: zipfile.ZipFile, members: set[str]) -> dict[str, str]:
    if "docProps/custom.xml" not in members:
        return {}
    props = {}
    for prop in SafeET.fromstring(archive.read("docProps/custom.xml")).iterfind("cp:property", _NS):
        value = next(iter(prop), None)
        props[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return props


def _xlsx_app(archive: zipfile.ZipFile, members: set[str]) -> str:
    if "docProps/app.xml" not in members:
        return ""
    node = SafeET.fromstring(archive.read("docProps/app.xml")).find("ep:Application", _NS)
    return (node.text or "").strip() if node is not None else ""


_SIMPLE_REFERENCE = re.compile(r"^=?'((?:[^']|'')+)'!\$([A-Z]{1,3})\$(\d+)$")


def _parse_reference(text: str) -> CellAddress | tuple[CellAddress, CellAddress] | None:
    """``'Sheet 1'!$B$4`` or ``Sheet!$A$10:$I$20`` → addresses; anything else (formulas, #REF!) → None."""
    simple = _SIMPLE_REFERENCE.match(text)
    if simple:  # the common case of a generated workbook: one quoted sheet, one absolute cell
        sheet, letters, digits = simple.groups()
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        return CellAddress(sheet.replace("''", "'"), int(digits) - 1, col - 1)
    text = text.strip().lstrip("=")
    if "!" not in text:
        return None
    sheet, _, ref = text.rpartition("!")
    if sheet.startswith("'") and sheet.endswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    parts = ref.split(":")
    cells = [parse_a1(p) for p in parts]
    if any(c is None for c in cells) or len(cells) > 2:
        return None
    addresses = [CellAddress(sheet, r, c) for r, c in cells]
    return addresses[0] if len(addresses) == 1 else (addresses[0], addresses[1])


# ---------------------------------------------------------------------------------------------------------
# ods


def _ods_extras(path: Path, data: WorkbookData) -> None:
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        if "content.xml" in members:
            _ods_content(archive.read("content.xml"), data)
        if "meta.xml" in members:
            meta = SafeET.fromstring(archive.read("meta.xml"))
            for prop in meta.iter(f"{{{_NS['meta']}}}user-defined"):
                data.properties[prop.get(f"{{{_NS['meta']}}}name", "")] = prop.text or ""
            generator = meta.find(".//meta:generator", _NS)
            data.producer = (generator.text or "").strip() if generator is not None else ""


def _ods_content(xml: bytes, data: WorkbookData) -> None:
    root = SafeET.fromstring(xml)
    table_ns = _NS["table"]
    for named in root.iter(f"{{{table_ns}}}named-range"):
        address = _ods_reference(named.get(f"{{{table_ns}}}cell-range-address", ""))
        if address is not None:
            data.names[named.get(f"{{{table_ns}}}name", "")] = address
    for table in root.iter(f"{{{table_ns}}}table"):
        name = table.get(f"{{{table_ns}}}name", "")
        if table.get(f"{{{table_ns}}}protected") == "true":
            data.protected_sheets.add(name)
        data.formula_cells[name] = _ods_formula_cells(table, table_ns)
        data.package_merges[name] = _ods_merges(table, table_ns)


def _ods_formula_cells(table, ns: str) -> set[tuple[int, int]]:
    cells = set()
    row = 0
    for row_node in table.iter(f"{{{ns}}}table-row"):
        repeat_rows = int(row_node.get(f"{{{ns}}}number-rows-repeated", "1"))
        col = 0
        for cell in row_node:
            if not cell.tag.endswith(("table-cell", "covered-table-cell")):
                continue
            repeat = int(cell.get(f"{{{ns}}}number-columns-repeated", "1"))
            if cell.get(f"{{{ns}}}formula"):
                cells.update((row, col + k) for k in range(min(repeat, 1024)))
            col += repeat
        row += min(repeat_rows, 1_048_576)
    return cells


def _ods_merges(table, ns: str) -> list[tuple[int, int, int, int]]:
    """(row1, col1, row2, col2) of every merge: a cell with number-rows/columns-spanned above 1."""
    merges = []
    row = 0
    for row_node in table.iter(f"{{{ns}}}table-row"):
        repeat_rows = min(int(row_node.get(f"{{{ns}}}number-rows-repeated", "1")), 1_048_576)
        col = 0
        for cell in row_node:
            if not cell.tag.endswith(("table-cell", "covered-table-cell")):
                continue
            repeat = min(int(cell.get(f"{{{ns}}}number-columns-repeated", "1")), 1024)
            rows = int(cell.get(f"{{{ns}}}number-rows-spanned", "1"))
            cols = int(cell.get(f"{{{ns}}}number-columns-spanned", "1"))
            if rows > 1 or cols > 1:
                for r in range(row, row + min(repeat_rows, 1024)):  # identical merged rows may be written once
                    merges.append((r, col, r + rows - 1, col + cols - 1))
            col += repeat
        row += repeat_rows
    return merges


def _ods_reference(text: str) -> CellAddress | tuple[CellAddress, CellAddress] | None:
    """``$'Sheet 1'.$B$4`` or ``$Sheet.$A$10:.$I$20`` → addresses."""
    parts = text.split(":")
    addresses = []
    sheet = ""
    for part in parts:
        head, dot, ref = part.rpartition(".")
        if not dot:
            return None
        if head:
            sheet = head.lstrip("$")
            if sheet.startswith("'") and sheet.endswith("'"):
                sheet = sheet[1:-1].replace("''", "'")
        cell = parse_a1(ref)
        if cell is None or not sheet:
            return None
        addresses.append(CellAddress(sheet, *cell))
    if len(addresses) == 1:
        return addresses[0]
    return (addresses[0], addresses[1]) if len(addresses) == 2 else None
