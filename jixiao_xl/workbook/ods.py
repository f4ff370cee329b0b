"""What calamine does not give of an ods package: named ranges, user-defined properties, the generator, when
it was saved, formula cells, protection and merges (calamine reports no merges for ods)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from .cells import CellAddress, DefinedNames, parse_a1
from .xmlparts import NS, document_time, parse_xml

if TYPE_CHECKING:
    from .book import WorkbookData


def ods_extras(path: Path, data: WorkbookData) -> None:
    """Fill in what calamine does not give of an ods package: content.xml, then meta.xml."""
    with zipfile.ZipFile(path) as archive:
        members = set(archive.namelist())
        if "content.xml" in members:
            _ods_content(archive.read("content.xml"), data)
        if "meta.xml" in members:
            meta = parse_xml(archive.read("meta.xml"))
            for prop in meta.iter(f"{{{NS['meta']}}}user-defined"):
                data.properties[prop.get(f"{{{NS['meta']}}}name", "")] = prop.text or ""
            generator = meta.find(".//meta:generator", NS)
            data.producer = (generator.text or "").strip() if generator is not None else ""
            saved = meta.find(".//dc:date", NS)  # ODF: dc:date is the last modification
            data.saved_at = document_time(saved.text or "") if saved is not None else ""


def _ods_content(xml: bytes, data: WorkbookData) -> None:
    """Named ranges, protection, formula cells and merges of every table in content.xml."""
    root = parse_xml(xml)
    table_ns = NS["table"]
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
    """Zero-based cells of a table that hold a formula (a repeated cell counts for at most 1,024)."""
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
