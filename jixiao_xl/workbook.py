"""Raw access to a returned workbook, whatever wrote it: values, merges, names, properties, formulas.

python-calamine gives the cell values of xlsx, xls and ods; a small defusedxml parse of the package
parts gives what calamine does not (defined names, custom properties, the producing application, when
the file itself was last saved, which cells hold formulas, sheet protection). Nothing here knows about
绩效目标表; :mod:`read` does.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

from defusedxml import ElementTree as SafeET
from python_calamine import CalamineWorkbook

_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
_SPACE = re.compile(r"\s+")
_FORMULA_START = re.compile(rb"<f[ >/]")
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}\d+)"[^>]*?>')
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
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
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
    _shown_rows: dict[int, list[object]] = field(default_factory=dict, repr=False)

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
        if anchor is not None:
            row, col = anchor
        if 0 <= row < len(self.rows):  # raw(), inlined: this is called for every cell the reader reads
            cells = self.rows[row]
            if 0 <= col < len(cells):
                value = cells[col]
                return None if value == "" else value
        return None

    def shown_row(self, row: int) -> list[object]:
        """Every value shown along a row, as :meth:`value` gives it cell by cell (for reading a row whole)."""
        shown = self._shown_rows.get(row)
        if shown is None:
            cells = self.rows[row] if 0 <= row < len(self.rows) else []
            shown = [None if value == "" else value for value in cells]
            if self._anchor:
                for col in range(len(shown)):
                    if (row, col) in self._anchor:
                        shown[col] = self.value(row, col)
            self._shown_rows[row] = shown
        return shown

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
        return "" if value is None else _SPACE.sub("", str(value))

    def find_text(self, text: str, rows: range | None = None) -> list[tuple[int, int]]:
        """Cells whose compacted text equals ``text`` (covered cells excluded)."""
        target = _SPACE.sub("", text)
        hits = []
        for r in rows if rows is not None else range(len(self.rows)):
            if r >= len(self.rows):
                break
            for c, value in enumerate(self.rows[r]):
                if value is None or value == "":
                    continue
                value = value if isinstance(value, str) else str(value)
                # Cheap tests first: dropping white space only shortens a text, and keeps its other characters.
                if len(value) >= len(target) and target[:1] in value and _SPACE.sub("", value) == target \
                        and not self.is_covered(r, c):
                    hits.append((r, c))
        return hits


Address = CellAddress | tuple[CellAddress, CellAddress]
_UNPARSED = object()


class DefinedNames(Mapping[str, "Address | None"]):
    """Workbook-scoped defined names, each reference parsed when it is first looked up.

    A generated workbook has ~730 names and a reader looks up only some of them, so the references are kept
    as text until then. A name whose reference is not a cell or a range (a formula, ``#REF!``) maps to None.
    """

    def __init__(self, references: dict[str, str] | None = None,
                 parse: Callable[[str], Address | None] | None = None) -> None:
        self._references = references or {}
        self._parse = parse or _parse_reference
        self._parsed: dict[str, Address | None] = {}
        self._texts: set[str] | None = None
        self._cells: set[tuple[str, int, int]] | None = None
        self._joined: str | None = None

    def __getitem__(self, name: str) -> Address | None:
        # Most names are looked up once: a miss is the common case, so no KeyError is raised for it.
        address = self._parsed.get(name, _UNPARSED)
        if address is _UNPARSED:
            address = self._parsed[name] = self._parse(self._references[name])
        return address

    def get(self, name: str, default: Address | None = None) -> Address | None:
        """The address a name refers to; ``default`` when there is no such name (None when it is not a cell)."""
        return self[name] if name in self._references else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._references)

    def __len__(self) -> int:
        return len(self._references)

    def matching(self, pattern: str) -> list[str]:
        """The names a regular expression matches in full, found in one pass over all of them."""
        if self._joined is None:
            self._joined = "\n".join(self._references)
        found = (m.group() for m in re.finditer(f"^(?:{pattern})$", self._joined, re.MULTILINE))
        return [name for name in found if name in self._references]  # not a piece of a name holding a newline

    def named_columns(self, sheet: str, row: int, cols: Iterable[int]) -> set[int]:
        """The columns among ``cols`` whose cell in ``row`` some name refers to exactly."""
        if self._texts is None:
            self._texts = set(self._references.values())
        texts, number = self._texts, f"${row + 1}"
        quoted, plain = "'" + sheet.replace("'", "''") + "'!$", sheet + "!$"
        named = set()
        for col in cols:
            # Excel, LibreOffice and xlsxwriter spell a reference 'Sheet'!$C$11 (or Sheet!$C$11): look it up …
            letters = col_letter(col)
            if quoted + letters + number in texts or plain + letters + number in texts:
                named.add(col)
            elif (sheet, row, col) in self._cells_referred():  # … and parse every reference only for the others
                named.add(col)
        return named

    def _cells_referred(self) -> set[tuple[str, int, int]]:
        if self._cells is None:
            self._cells = {(a.sheet, a.row, a.col) for a in self.values() if isinstance(a, CellAddress)}
        return self._cells


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

    def _scan(self, name: str) -> None:
        part = self._unscanned.pop(name, None)
        if part is not None and self._package is not None:
            with zipfile.ZipFile(self._package) as archive:
                _scan_worksheet(self, name, archive.read(part))

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


@cache
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
    book = _calamine(path)
    names = list(book.sheet_names)
    visible = {m.name: str(m.visible).endswith("Visible") for m in book.sheets_metadata}
    data = WorkbookData(kind, names, visible, DefinedNames(), {}, "", {}, set(), book)
    if kind in ("xlsx", "xlsm"):
        _xlsx_extras(path, data)
    elif kind == "ods":
        _ods_extras(path, data)
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


# ---------------------------------------------------------------------------------------------------------
# xlsx


def _xlsx_extras(path: Path, data: WorkbookData) -> None:
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        workbook_xml, references = _xlsx_defined_names(archive.read("xl/workbook.xml"))
        workbook = parse_xml(workbook_xml)
        if references is None:  # not the plain layout the fast path reads: take the names from the tree
            references = {defined.get("name", ""): defined.text
                          for defined in workbook.iterfind("m:definedNames/m:definedName", _NS)
                          if defined.get("localSheetId") is None and defined.text}
        data.names = DefinedNames(references)
        rels = _xlsx_rels(archive, members)
        sheet_files = {}
        for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
            name = sheet.get("name", "")
            target = rels.get(sheet.get(f"{{{_NS['r']}}}id", ""), "")
            sheet_files[name] = target
        data.properties = _xlsx_custom(archive, members)
        data.producer = _xlsx_app(archive, members)
        data.saved_at = _xlsx_saved_at(archive, members)
        data._package = path
        for name, target in sheet_files.items():
            if target not in members:
                continue
            if data.visible.get(name, True):
                _scan_worksheet(data, name, archive.read(target))
            else:  # _lists, _meta: the reader seldom asks, so their (large) parts are left packed
                data._unscanned[name] = target


def _scan_worksheet(data: WorkbookData, name: str, xml: bytes) -> None:
    """Record a worksheet part's formula cells and whether the sheet is protected."""
    data.formula_cells[name] = _formula_cells(xml)
    if _XLSX_PROTECTED.search(xml):
        data.protected_sheets.add(name)


def parse_xml(xml: bytes) -> ElementTree.Element:
    """Parse an untrusted package part, refusing entity declarations and external references like defusedxml.

    A part without a DTD cannot declare an entity, so when it has none (and is UTF-8, where a DTD cannot
    hide behind another encoding's bytes) the standard library's C parser reads it, several times faster
    than defusedxml's Python-level parser; anything else goes to defusedxml, which raises on entities.
    """
    return ElementTree.fromstring(xml) if _plain(xml) else SafeET.fromstring(xml)


_XML_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"']")


def _plain(xml: bytes) -> bool:
    """True for a part with no DTD that starts with markup and declares no encoding other than UTF-8."""
    if xml.startswith(b"\xef\xbb\xbf"):
        xml = xml[3:]
    if not xml.startswith(b"<") or b"<!DOCTYPE" in xml:
        return False
    declared = _XML_DECLARATION.match(xml)
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


# One <definedName> as Excel and xlsxwriter write it: the name first, then any other attributes, then text.
_DEFINED_NAME = re.compile(r'<definedName name="([^"]*)"((?: [A-Za-z]+="[^"]*")*)>([^<]*)</definedName>')


def _xlsx_defined_names(xml: bytes) -> tuple[bytes, dict[str, str] | None]:
    """Take the ``<definedNames>`` block out of workbook.xml: (the rest, {name: reference}).

    xlsx files keep hundreds of names in a flat, regular block; reading it with a pattern costs a fraction
    of building a tree. Any other layout (a prefix, a comment, other attribute order) gives (xml, None):
    the caller parses it as XML.
    """
    if not _plain(xml):
        return xml, None
    start, end = xml.find(b"<definedNames>"), xml.find(b"</definedNames>")
    if start < 0 or end < start:
        return xml, None if b"definedName" in xml else {}
    text = xml[start + len(b"<definedNames>"):end].decode("utf-8")
    rest = xml[:start] + xml[end + len(b"</definedNames>"):]
    rows = _DEFINED_NAME.findall(text)
    # Each element read has exactly two "<": any other markup (a comment, another layout) leaves some over.
    if text.count("<") != 2 * len(rows) or b"<definedName" in rest:
        return xml, None
    if "&" in text:
        rows = [(html.unescape(name), attributes, html.unescape(reference)) for name, attributes, reference in rows]
    return rest, {name: reference for name, attributes, reference in rows
                  if reference and " localSheetId=" not in attributes}


def _xml_text(raw: bytes) -> str:
    """Character data as XML defines it: UTF-8, with entity and character references resolved."""
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def _formula_cells(xml: bytes) -> set[tuple[int, int]]:
    """Zero-based cells of a worksheet part whose ``<c>`` element starts with a formula (``<f>``)."""
    cells = set()
    for formula in _FORMULA_START.finditer(xml):
        cell = _CELL_START.match(xml, max(xml.rfind(b"<c ", 0, formula.start()), 0))
        if cell is not None and cell.end() == formula.start():
            cells.add(parse_a1(cell.group(1).decode()))
    return cells


def _xlsx_rels(archive: zipfile.ZipFile, members: set[str]) -> dict[str, str]:
    part = "xl/_rels/workbook.xml.rels"
    if part not in members:
        return {}
    rels = {}
    for rel in parse_xml(archive.read(part)).iterfind("rel:Relationship", _NS):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        rels[rel.get("Id", "")] = target
    return rels


def _xlsx_custom(archive: zipfile.ZipFile, members: set[str]) -> dict[str, str]:
    if "docProps/custom.xml" not in members:
        return {}
    props = {}
    for prop in parse_xml(archive.read("docProps/custom.xml")).iterfind("cp:property", _NS):
        value = next(iter(prop), None)
        props[prop.get("name", "")] = (value.text or "") if value is not None else ""
    return props


_APPLICATION = re.compile(rb"<Application>([^<]*)</Application>")


def _xlsx_app(archive: zipfile.ZipFile, members: set[str]) -> str:
    """The producing application, from the head of app.xml when it is plain (the part goes on to list every name)."""
    if "docProps/app.xml" not in members:
        return ""
    with archive.open("docProps/app.xml") as part:
        head = part.read(4096)
    # A DTD comes before the root element: with no "<!" before <Application>, the part has none.
    found = _APPLICATION.search(head)
    if found is not None and b"<!" not in head[:found.start()] and _plain(head):
        return _xml_text(found.group(1)).strip()
    node = parse_xml(archive.read("docProps/app.xml")).find("ep:Application", _NS)
    return (node.text or "").strip() if node is not None else ""


def _xlsx_saved_at(archive: zipfile.ZipFile, members: set[str]) -> str:
    """When the package was last saved: ``dcterms:modified`` of docProps/core.xml, as :func:`document_time`."""
    if "docProps/core.xml" not in members:
        return ""
    node = parse_xml(archive.read("docProps/core.xml")).find("dcterms:modified", _NS)
    return document_time(node.text or "") if node is not None else ""


_DOCUMENT_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
                            r"(Z|[+-]\d{2}:?\d{2})?")


def document_time(text: str) -> str:
    """A document's date-time (W3CDTF / ISO 8601, as core.xml and meta.xml hold it) as ISO 8601 UTC text to the
    second (``2026-03-01T08:30:00+00:00``); "" when it is not a date-time.

    A time without a zone (LibreOffice writes ODF dates so) is taken as this computer's local time: the
    file was most likely saved where the bureau works.
    """
    found = _DOCUMENT_TIME.fullmatch(text.strip())
    if found is None:
        return ""
    year, month, day, hour, minute, second, zone = found.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        moment = moment.astimezone() if zone is None else moment.replace(tzinfo=_zone(zone))
        return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):  # 2026-02-30, 25:00, +99:00, year 1 in a zone east of UTC …
        return ""


def _zone(text: str) -> timezone:
    """The UTC offset of a W3CDTF zone designator (``Z``, ``+08:00``, ``-0500``)."""
    if text == "Z":
        return timezone.utc
    hours, minutes = int(text[1:3]), int(text[-2:])
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


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
            meta = parse_xml(archive.read("meta.xml"))
            for prop in meta.iter(f"{{{_NS['meta']}}}user-defined"):
                data.properties[prop.get(f"{{{_NS['meta']}}}name", "")] = prop.text or ""
            generator = meta.find(".//meta:generator", _NS)
            data.producer = (generator.text or "").strip() if generator is not None else ""
            saved = meta.find(".//dc:date", _NS)  # ODF: dc:date is the last modification
            data.saved_at = document_time(saved.text or "") if saved is not None else ""


def _ods_content(xml: bytes, data: WorkbookData) -> None:
    root = parse_xml(xml)
    table_ns = _NS["table"]
    references = {named.get(f"{{{table_ns}}}name", ""): named.get(f"{{{table_ns}}}cell-range-address", "")
                  for named in root.iter(f"{{{table_ns}}}named-range")}
    data.names = DefinedNames(references, _ods_reference)
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
