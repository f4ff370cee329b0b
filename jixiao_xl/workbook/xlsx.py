"""What calamine does not give of an xlsx/xlsm package: defined names, custom properties, the producing
application, when it was saved, which cells hold formulas, sheet protection."""

from __future__ import annotations

import html
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from .cells import DefinedNames, parse_a1
from .xmlparts import NS, document_time, is_plain_xml, parse_xml, xml_text

if TYPE_CHECKING:
    from .book import WorkbookData

_FORMULA_START = re.compile(rb"<f[ >/]")
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}\d+)"[^>]*?>')
# xsd:boolean: Excel writes sheet="1", LibreOffice writes sheet="true".
_XLSX_PROTECTED = re.compile(rb'<sheetProtection\b[^>]*?\bsheet="(?:1|true)"')


def xlsx_extras(path: Path, data: WorkbookData) -> None:
    """Fill in what calamine does not give of an xlsx package: names, properties, producer, saved time, formulas."""
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        workbook_xml, references = _xlsx_defined_names(archive.read("xl/workbook.xml"))
        workbook = parse_xml(workbook_xml)
        if references is None:  # not the plain layout the fast path reads: take the names from the tree
            references = {defined.get("name", ""): defined.text
                          for defined in workbook.iterfind("m:definedNames/m:definedName", NS)
                          if defined.get("localSheetId") is None and defined.text}
        data.names = DefinedNames(references)
        rels = _xlsx_rels(archive, members)
        sheet_files = {}
        for sheet in workbook.iterfind("m:sheets/m:sheet", NS):
            name = sheet.get("name", "")
            target = rels.get(sheet.get(f"{{{NS['r']}}}id", ""), "")
            sheet_files[name] = target
        data.properties = _xlsx_custom(archive, members)
        data.producer = _xlsx_app(archive, members)
        data.saved_at = _xlsx_saved_at(archive, members)
        for name, target in sheet_files.items():
            if target not in members:
                continue
            if data.visible.get(name, True):
                scan_worksheet(data, name, archive.read(target))
            else:  # _lists, _meta: the reader seldom asks, so their (large) parts are left packed
                data.scan_later(name, path, target)


def scan_worksheet(data: WorkbookData, name: str, xml: bytes) -> None:
    """Record a worksheet part's formula cells and whether the sheet is protected."""
    data.formula_cells[name] = _formula_cells(xml)
    if _XLSX_PROTECTED.search(xml):
        data.protected_sheets.add(name)


# One <definedName> as Excel and xlsxwriter write it: the name first, then any other attributes, then text.
_DEFINED_NAME = re.compile(r'<definedName name="([^"]*)"((?: [A-Za-z]+="[^"]*")*)>([^<]*)</definedName>')


def _xlsx_defined_names(xml: bytes) -> tuple[bytes, dict[str, str] | None]:
    """Take the ``<definedNames>`` block out of workbook.xml: (the rest, {name: reference}).

    xlsx files keep hundreds of names in a flat, regular block; reading it with a pattern costs a fraction
    of building a tree. Any other layout (a prefix, a comment, other attribute order) gives (xml, None):
    the caller parses it as XML.
    """
    if not is_plain_xml(xml):
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


def _formula_cells(xml: bytes) -> set[tuple[int, int]]:
    """Zero-based cells of a worksheet part whose ``<c>`` element starts with a formula (``<f>``)."""
    cells = set()
    for formula in _FORMULA_START.finditer(xml):
        cell = _CELL_START.match(xml, max(xml.rfind(b"<c ", 0, formula.start()), 0))
        if cell is not None and cell.end() == formula.start():
            cells.add(parse_a1(cell.group(1).decode()))
    return cells


def _xlsx_rels(archive: zipfile.ZipFile, members: set[str]) -> dict[str, str]:
    """Relationship id → package part of the workbook's sheets."""
    part = "xl/_rels/workbook.xml.rels"
    if part not in members:
        return {}
    rels = {}
    for rel in parse_xml(archive.read(part)).iterfind("rel:Relationship", NS):
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        rels[rel.get("Id", "")] = target
    return rels


def _xlsx_custom(archive: zipfile.ZipFile, members: set[str]) -> dict[str, str]:
    """The custom document properties (name → text)."""
    if "docProps/custom.xml" not in members:
        return {}
    props = {}
    for prop in parse_xml(archive.read("docProps/custom.xml")).iterfind("cp:property", NS):
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
    if found is not None and b"<!" not in head[:found.start()] and is_plain_xml(head):
        return xml_text(found.group(1)).strip()
    node = parse_xml(archive.read("docProps/app.xml")).find("ep:Application", NS)
    return (node.text or "").strip() if node is not None else ""


def _xlsx_saved_at(archive: zipfile.ZipFile, members: set[str]) -> str:
    """When the package was last saved: ``dcterms:modified`` of docProps/core.xml, as :func:`document_time`."""
    if "docProps/core.xml" not in members:
        return ""
    node = parse_xml(archive.read("docProps/core.xml")).find("dcterms:modified", NS)
    return document_time(node.text or "") if node is not None else ""
