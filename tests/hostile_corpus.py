"""A corpus of hostile and broken returns, built from code (no binary is ever committed).

Usage::

    python tests/hostile_corpus.py OUTDIR

writes ``OUTDIR/master.xlsx`` (the sample master plus units whose names attack file names and
spreadsheets), ``OUTDIR/issued/`` (the workbooks generated from it), ``OUTDIR/returns/`` (one file per
case) and ``OUTDIR/cases.json`` (each case's id, file name and expected outcome). Importable: the tests
call :func:`build_corpus`.

Every case starts from a workbook that ``generate`` really produced and damages it the way a person, a
program or an attacker would: at the byte level (truncation, random bytes, crafted zip directories and
deflate streams), at the package level (parts added, removed or rewritten), or through openpyxl where
openpyxl keeps the file consistent. A case names the rule codes that must appear for its file
(``expect``, all of them), or a set of acceptable refusals (``any_of``, at least one) where the exact
outcome depends on which defence catches the file first.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import random
import re
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable
from xml.etree import ElementTree

import openpyxl
import xlsxwriter
from openpyxl.packaging.custom import CustomPropertyList
from openpyxl.utils import get_column_letter, range_boundaries

from jixiao_xl.generate import GenerateOptions, generate, workbook_name
from jixiao_xl.master import load_master, load_sample, write_master
from jixiao_xl.model import Master
from jixiao_xl.template import PROJECT_TEMPLATE, builtin_template, load_spec

# --------------------------------------------------------------------------------------------------
# The units of the corpus master
# --------------------------------------------------------------------------------------------------

SAMPLE_UNIT = "435001"
# A unit whose name tries every character Windows forbids in file names, and climbs out with "..".
PATH_UNIT = "435099"
PATH_UNIT_NAME = '../..\\逃逸/单位:名*称?"<>|..'
PATH_PROJECT_NAME = '..\\..\\项目/名:称*?"<>|..'
# A unit whose name a spreadsheet would run as a formula (it never returns: it shows up as outstanding).
FORMULA_UNIT = "435098"
FORMULA_UNIT_NAME = '=HYPERLINK("http://evil.example/","点我")'
# Another bureau's unit, not in the corpus master.
OTHER_UNIT = "999001"

UNIFORM = "3.统一着装经费"
NETWORK = "5.政务外网费用"
DEPT = "部门整体绩效目标"

# Text that a spreadsheet would execute, in the half-width and full-width forms (DESIGN §9), and HTML.
FORMULA_PAYLOADS = (
    '=HYPERLINK("http://evil.example/","点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
)
HTML_PAYLOADS = (
    "<script>alert('jx-xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "</td></tr></table><script>alert(2)</script>",
)
# Template syntax in a name: rendered as data, never evaluated (no "49" instead of it).
TEMPLATE_PAYLOAD = "{{ 7*7 }}{% raw %}{{ config }}"
# What must never reach any output: the content of a file an external entity points at.
SECRET_MARKERS = ("root:x:0:0", "/bin/bash", "daemon:")
XXE_TARGET = "file:///etc/passwd"

BOMB_BYTES = 2 * 1024**3  # the zip bomb's sheet inflates to 2 GiB of zeros
_CHUNK = 16 * 1024**2
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad return: its file under ``returns/`` and what the import must say about it."""

    id: str
    file: str
    expect: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    forbid: tuple[str, ...] = ()
    readable: bool | None = None
    note: str = ""

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class Corpus:
    """Where the corpus was written and what each file is."""

    root: Path
    master: Path
    issued: Path
    returns: Path
    cases: list[Case] = field(default_factory=list)

    def path(self, case: Case) -> Path:
        return self.returns / case.file

    def case(self, case_id: str) -> Case:
        return next(c for c in self.cases if c.id == case_id)


# --------------------------------------------------------------------------------------------------
# Masters
# --------------------------------------------------------------------------------------------------


def _copy_unit(master: Master, source: str, code: str, name: str, project_names: dict[int, str],
               code_suffix: str) -> Master:
    """``master`` with a copy of unit ``source`` (projects, goals, indicators) as unit ``code``."""
    unit = master.unit(source)
    projects = []
    for index, project in enumerate(master.projects_of(source)):
        projects.append(dataclasses.replace(project, unit_code=code, code=project.code + code_suffix,
                                            name=project_names.get(index, project.name)))
    goals = [dataclasses.replace(g, unit_code=code) for g in master.goals_of(source)]
    indicators = [dataclasses.replace(i, unit_code=code) for i in master.dept_indicators_of(source)]
    return dataclasses.replace(
        master, units=master.units + (dataclasses.replace(unit, code=code, name=name),),
        projects=master.projects + tuple(projects), dept_goals=master.dept_goals + tuple(goals),
        dept_indicators=master.dept_indicators + tuple(indicators))


def corpus_master() -> Master:
    """The sample master plus a unit with a path-attacking name and one with a formula for a name."""
    sample = load_sample()
    master = _copy_unit(sample, SAMPLE_UNIT, PATH_UNIT, PATH_UNIT_NAME,
                        {0: PATH_PROJECT_NAME, 1: "＋cmd|' /C calc'!A0", 2: TEMPLATE_PAYLOAD}, "99")
    return _copy_unit(master, SAMPLE_UNIT, FORMULA_UNIT, FORMULA_UNIT_NAME, {0: "@SUM(1+1)"}, "98")


def other_bureau_master() -> Master:
    """The sample as if another bureau had issued it: same projects, a unit code our master lacks."""
    sample = load_sample()
    unit = sample.unit(SAMPLE_UNIT)
    return dataclasses.replace(
        sample, units=(dataclasses.replace(unit, code=OTHER_UNIT, name="某县其他局"),),
        projects=tuple(dataclasses.replace(p, unit_code=OTHER_UNIT) for p in sample.projects_of(SAMPLE_UNIT)),
        dept_goals=tuple(dataclasses.replace(g, unit_code=OTHER_UNIT) for g in sample.goals_of(SAMPLE_UNIT)),
        dept_indicators=tuple(dataclasses.replace(i, unit_code=OTHER_UNIT)
                              for i in sample.dept_indicators_of(SAMPLE_UNIT)))


# --------------------------------------------------------------------------------------------------
# Zip helpers
# --------------------------------------------------------------------------------------------------


def _zinfo(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def rezip(data: bytes, edit: Callable[[str, bytes], bytes | None] | None = None,
          add: dict[str, bytes] | None = None) -> bytes:
    """Copy a zip deterministically; ``edit(name, content)`` may change a member or drop it (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if edit is not None:
                content = edit(info.filename, content)
            if content is not None:
                dst.writestr(_zinfo(info.filename), content)
        for name, content in (add or {}).items():
            dst.writestr(_zinfo(name), content)
    return out.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    """Every member of a zip, in order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def sheet_part(data: bytes, sheet: str) -> str:
    """The package part (``xl/worksheets/sheetN.xml``) holding ``sheet`` of a workbook we generated."""
    parts = members(data)
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    book = ElementTree.fromstring(parts["xl/workbook.xml"])
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {rel.get("Id"): rel.get("Target") for rel in rels.iterfind("p:Relationship", ns)}
    for node in book.iterfind("m:sheets/m:sheet", ns):
        if node.get("name") == sheet:
            return "xl/" + targets[node.get(f"{{{ns['r']}}}id")].lstrip("/").removeprefix("xl/")
    raise KeyError(sheet)


_CELL = r'<c r="{ref}"(?P<attrs>(?: [^>]*?)?)(?:/>|>.*?</c>)'


def set_cell_xml(sheet_xml: bytes, ref: str, inner: bytes, cell_type: str | None = None) -> bytes:
    """Replace cell ``ref`` of a sheet part with ``<c ...>inner</c>`` (its style kept, its type set)."""
    pattern = re.compile(_CELL.format(ref=ref).encode(), re.S)
    match = pattern.search(sheet_xml)
    if match is None:
        raise KeyError(ref)
    attrs = re.sub(rb' t="[^"]*"', b"", match.group("attrs"))
    if cell_type:
        attrs += f' t="{cell_type}"'.encode()
    return sheet_xml[: match.start()] + f'<c r="{ref}"'.encode() + attrs + b">" + inner + b"</c>" + \
        sheet_xml[match.end():]


def inline_string(text: bytes) -> bytes:
    return b'<is><t xml:space="preserve">' + text + b"</t></is>"


@dataclass(frozen=True)
class RawEntry:
    """A zip member written byte for byte: its (already compressed) payload and what the headers declare."""

    name: str
    payload: bytes
    method: int
    crc: int
    compressed: int
    uncompressed: int


def raw_zip(entries: list[RawEntry]) -> bytes:
    """A zip written by hand, so that headers may declare whatever sizes a case needs."""
    out = io.BytesIO()
    directory = []
    for entry in entries:
        name = entry.name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0x800, entry.method, 0, 0x21, entry.crc,
                              entry.compressed, entry.uncompressed, len(name), 0))
        out.write(name)
        out.write(entry.payload)
        directory.append(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0x800, entry.method, 0, 0x21, entry.crc,
                                     entry.compressed, entry.uncompressed, len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    for record in directory:
        out.write(record)
    size = out.tell() - start
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries), size, start, 0))
    return out.getvalue()


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def raw_entries(data: bytes) -> list[RawEntry]:
    """The members of a zip as raw deflated entries with truthful headers."""
    return [RawEntry(name, _deflated(content), zipfile.ZIP_DEFLATED, zlib.crc32(content), len(_deflated(content)),
                     len(content)) for name, content in members(data).items()]


def zero_bomb(size: int = BOMB_BYTES) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes and its CRC-32, built cheaply.

    A block compressed and then fully flushed does not refer back to earlier data, so the same bytes
    repeated inflate to the same zeros again: one 16 MiB chunk is compressed once and repeated.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(_CHUNK)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = size // _CHUNK
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    return block * count + compressor.flush(zlib.Z_FINISH), crc


# --------------------------------------------------------------------------------------------------
# openpyxl helpers
# --------------------------------------------------------------------------------------------------


def with_openpyxl(data: bytes, edit: Callable[[openpyxl.Workbook], None]) -> bytes:
    """Load a workbook with openpyxl, ``edit`` it, save it (as a person editing in a tool would).

    openpyxl stamps the save time into docProps/core.xml; the import counts a unit's newest file by that time
    when it is credible, so the cases get one fixed save time (not credible: the files' order decides, as
    the corpus's file names say) instead of whatever second each happened to be built in.
    """
    wb = openpyxl.load_workbook(io.BytesIO(data))
    edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return _fixed_save_time(out.getvalue())


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fixed_save_time(data: bytes) -> bytes:
    """The workbook with ``dcterms:modified`` set to 2000-01-01 (every other member copied unchanged)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = source.read(info)
            if info.filename == "docProps/core.xml":
                member = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", member)
            target.writestr(info, member)
    return out.getvalue()


def put_text(ws, ref: str, text: str) -> None:
    """Store ``text`` as a string cell even when it starts with "=" (openpyxl would make it a formula)."""
    cell = ws[ref]
    cell.value = text
    cell.data_type = "s"


def _shift_reference(text: str, sheet: str, row: int, amount: int) -> str:
    """A defined name's reference after ``amount`` rows were inserted (>0) or deleted (<0) at ``row``."""
    prefix, bang, ref = text.rpartition("!")
    if not bang or prefix.strip("'").replace("''", "'") != sheet:
        return text
    cells = [(m.group(1), int(m.group(2))) for m in re.finditer(r"\$([A-Z]+)\$(\d+)", ref)]
    if not cells:
        return text
    moved = []
    for k, (col, r) in enumerate(cells):
        if amount > 0:
            moved.append((col, r + amount if r >= row else r))
        elif r > row:
            moved.append((col, r + amount))
        elif r == row and len(cells) == 2 and k == 1 and cells[0][1] < row:
            moved.append((col, r - 1))  # a range ending on the deleted row shrinks
        elif r == row and not (len(cells) == 2 and k == 0 and cells[1][1] > row):
            return f"{prefix}!#REF!"
        else:
            moved.append((col, r))
    return prefix + "!" + ":".join(f"${col}${r}" for col, r in moved)


def shift_rows(wb, ws, row: int, amount: int) -> None:
    """Insert (``amount`` > 0) or delete rows at 1-based ``row`` the way Excel does: merges and names follow."""
    merges = [str(r) for r in ws.merged_cells.ranges]
    for ref in merges:
        ws.unmerge_cells(ref)
    if amount > 0:
        ws.insert_rows(row, amount)
    else:
        ws.delete_rows(row, -amount)
    for ref in merges:
        c1, r1, c2, r2 = range_boundaries(ref)
        if amount > 0:
            r1, r2 = (r1 + amount if r1 >= row else r1), (r2 + amount if r2 >= row else r2)
        else:
            if r1 == r2 == row:
                continue
            r1, r2 = (r1 + amount if r1 > row else r1), (r2 + amount if r2 >= row else r2)
        if (r1, c1) != (r2, c2):
            ws.merge_cells(f"{get_column_letter(c1)}{r1}:{get_column_letter(c2)}{r2}")
    for name, defined in list(wb.defined_names.items()):
        defined.attr_text = _shift_reference(defined.attr_text, ws.title, row, amount)


# --------------------------------------------------------------------------------------------------
# Building blocks of the cases
# --------------------------------------------------------------------------------------------------


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(_zinfo("[Content_Types].xml"),
                    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.wordprocessingml.document.main+xml"/></Types>')
        zf.writestr(_zinfo("_rels/.rels"), '<?xml version="1.0"?><Relationships/>')
        zf.writestr(_zinfo("word/document.xml"),
                    '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                    '2006/main"><w:body><w:p><w:r><w:t>绩效目标表（Word 版）</w:t></w:r></w:p></w:body></w:document>')
    return out.getvalue()


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(_zinfo("说明.txt"), "请查收附件。".encode("utf-8"))
        zf.writestr(_zinfo("绩效目标表/readme.txt"), b"see attached")
    return out.getvalue()


def _encrypted(data: bytes) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("123456", out)
    return out.getvalue()


VBA_TYPE = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'


def _xlsm(data: bytes) -> bytes:
    def edit(name: str, content: bytes) -> bytes:
        if name == "[Content_Types].xml":
            content = content.replace(b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
            content = content.replace(b"</Types>", VBA_TYPE + b"</Types>")
        if name == "xl/_rels/workbook.xml.rels":
            content = content.replace(b"</Relationships>",
                                      b'<Relationship Id="rIdVBA" Type="http://schemas.microsoft.com/office/2006/'
                                      b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
        return content

    vba = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Attribute VB_Name = \"ThisWorkbook\"\r\nSub Auto_Open()\r\n" \
        b"Shell \"cmd /c calc\"\r\nEnd Sub\r\n" + bytes(512)
    return rezip(data, edit, add={"xl/vbaProject.bin": vba})


def _bomb(data: bytes, sheet: str, lie: bool) -> bytes:
    """The workbook with ``sheet``'s part replaced by 2 GiB of zeros; ``lie`` keeps the old sizes in the headers."""
    part = sheet_part(data, sheet)
    stream, crc = zero_bomb()
    entries = []
    for entry in raw_entries(data):
        if entry.name == part:
            if lie:
                entry = RawEntry(entry.name, stream, zipfile.ZIP_DEFLATED, entry.crc, len(stream), entry.uncompressed)
            else:
                entry = RawEntry(entry.name, stream, zipfile.ZIP_DEFLATED, crc, len(stream), BOMB_BYTES)
        entries.append(entry)
    return raw_zip(entries)


def _many_entries(data: bytes, count: int = 3000) -> bytes:
    return rezip(data, add={f"xl/media/pad{i:05d}.xml": b"<x/>" for i in range(count)})


def _path_traversal(data: bytes) -> bytes:
    return rezip(data, add={"../../../../tmp/jixiao-evil.txt": b"escaped", "/etc/cron.d/jixiao": b"* * * * * root id"})


LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                     for i in range(1, 10))
          + b"]>")


def _entity_bomb(data: bytes, part: str) -> bytes:
    """Billion laughs: nine levels of ten entity references declared in ``part`` and used in its text."""
    def edit(name: str, content: bytes) -> bytes:
        if name != part:
            return content
        head, sep, rest = content.partition(b"?>")
        content = head + sep + LAUGHS + rest
        if part == "xl/sharedStrings.xml":
            return content.replace("统一着装经费".encode(), b"&lol9;", 1)
        return content.replace(b'<sheet name="', b'<sheet name="&lol9;', 1)
    return rezip(data, edit)


def _xxe(data: bytes, part: str) -> bytes:
    """An external entity pointing at /etc/passwd, declared in ``part`` and used where a value is read."""
    dtd = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "{XXE_TARGET}">]>'.encode()

    def edit(name: str, content: bytes) -> bytes:
        if name != part:
            return content
        head, sep, rest = content.partition(b"?>")
        content = head + sep + dtd + rest
        if part == "xl/sharedStrings.xml":
            return content.replace("统一着装经费".encode(), b"&xxe;", 1)
        return content.replace(b"<vt:lpwstr>435001</vt:lpwstr>", b"<vt:lpwstr>&xxe;</vt:lpwstr>", 1)
    return rezip(data, edit)


HTML_XLS = """<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><meta charset="utf-8"><title>绩效目标表</title></head>
<body><table><tr><td>项目编码</td><td>13052922P005840107184</td></tr>
<tr><td>预算数</td><td>9</td></tr><tr><td><script>alert(1)</script></td></tr></table></body></html>
"""

MHT_XLS = """MIME-Version: 1.0
X-Document-Type: Workbook
Content-Type: multipart/related; boundary="----=_NextPart_01D"

------=_NextPart_01D
Content-Type: text/html; charset="utf-8"

<html><body><table><tr><td>项目编码</td></tr></table></body></html>
------=_NextPart_01D--
"""

SPREADSHEETML = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
 <Worksheet ss:Name="3.统一着装经费"><Table>
  <Row><Cell><Data ss:Type="String">项目编码</Data></Cell><Cell><Data ss:Type="String">13052922P005840107184</Data></Cell></Row>
  <Row><Cell><Data ss:Type="String">预算数</Data></Cell><Cell><Data ss:Type="Number">9</Data></Cell></Row>
 </Table></Worksheet>
</Workbook>
"""

CSV_TEXT = ("项目编码,项目名称,预算数,财政资金\r\n13052922P005840107184,统一着装经费,9,9\r\n"
            "13052922P00584010722A,政务外网费用,5,5\r\n=1+1,@SUM(1),+1,-1\r\n")

GBK_TEXT = "巨鹿县行政审批局本级\r\n统一着装经费 预算数 九万元\r\n请查收。\r\n"


def _unrelated_workbook() -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("Sheet1")
    for r, row in enumerate((("姓名", "部门", "电话"), ("张三", "办公室", "0319-1234567"), ("李四", "财务股", "13800000000"))):
        ws.write_row(r, 0, row)
    wb.close()
    return out.getvalue()


# --- edits through openpyxl ----------------------------------------------------------------------


def _delete_meta(wb) -> None:
    del wb["_meta"]


def _delete_names(wb) -> None:
    for name in list(wb.defined_names):
        del wb.defined_names[name]


def _delete_identity(wb) -> None:
    """No _meta, no custom properties, no names, and the unit line of every sheet blanked."""
    _delete_meta(wb)
    _delete_names(wb)
    wb.custom_doc_props = CustomPropertyList()
    for ws in wb.worksheets:
        if ws.title.startswith("_"):
            continue
        for row in ws.iter_rows(min_row=1, max_row=4):
            for cell in row:
                if isinstance(cell.value, str) and SAMPLE_UNIT in cell.value:
                    cell.value = None


def _rename_sheet(wb) -> None:
    wb[UNIFORM].title = "改了名字的表"


def _reorder_sheets(wb) -> None:
    wb.move_sheet(DEPT, offset=-(wb.sheetnames.index(DEPT)))
    wb.move_sheet(NETWORK, offset=-(wb.sheetnames.index(NETWORK)) + 1)
    wb.active = 0


def _delete_sheet(wb) -> None:
    del wb[UNIFORM]


def _delete_dept_sheet(wb) -> None:
    del wb[DEPT]


def _hide_sheets(wb) -> None:
    wb[NETWORK].sheet_state = "hidden"
    wb[UNIFORM].sheet_state = "veryHidden"


def _split_merges(wb) -> None:
    for ws in (wb[NETWORK], wb[DEPT]):
        for ref in [str(r) for r in ws.merged_cells.ranges]:
            ws.unmerge_cells(ref)


def _edit_budget(wb) -> None:
    ws = wb[UNIFORM]
    ws.protection.sheet = False
    ws["B4"] = 9.5
    ws["D4"] = 9.5


def _edit_code(wb) -> None:
    ws = wb[UNIFORM]
    ws.protection.sheet = False
    put_text(ws, "B3", "13052922P00000000000X")


def _budget_zero(wb) -> None:
    ws = wb[UNIFORM]
    ws.protection.sheet = False
    ws["B4"], ws["D4"], ws["F4"] = 0, 0, None
    ws["B7"], ws["C7"] = 0, 0


def _insert_rows(wb) -> None:
    ws = wb[UNIFORM]
    shift_rows(wb, ws, 15, 2)
    for col, value in zip("ABCDEFGH", ("效益指标", "社会效益指标", "窗口服务规范率", "窗口服务规范率", "≥", 95, "%", "调查问卷")):
        ws[f"{col}15"] = value


def _delete_rows(wb) -> None:
    ws = wb[UNIFORM]
    shift_rows(wb, ws, 20, -1)
    shift_rows(wb, ws, 19, -1)


def _formula_inputs(wb) -> None:
    ws = wb[UNIFORM]
    ws["B9"] = "=CONCATENATE(\"目标\",\"内容\")"
    ws["E7"] = "=B4"
    ws["F11"] = "=40+10"


def _text_in_numbers(wb) -> None:
    ws = wb[UNIFORM]
    ws["E7"] = "九万元整"
    ws["B7"] = "两万"
    ws["F11"] = "五十套"


def _negative(wb) -> None:
    ws = wb[UNIFORM]
    ws["C7"] = -5
    ws["E7"] = -9
    ws["F11"] = -50


def _enormous(wb) -> None:
    ws = wb[UNIFORM]
    ws["E7"] = 10**15
    ws["F11"] = 10**15
    ws["D7"] = 123456789012.345


def _float_max(wb) -> None:
    ws = wb[UNIFORM]
    ws["E7"] = 1e308
    ws["D7"] = -1e308
    ws["F11"] = 1e308
    ws["I11"] = 1e300


def _overflow_text(wb) -> None:
    ws = wb[UNIFORM]
    put_text(ws, "E7", "1e400")
    put_text(ws, "D7", "9" * 400)
    put_text(ws, "I11", "1e400")
    put_text(ws, "I12", "1e-999999999")
    put_text(ws, "F11", "1e99999")


def _nan_text(wb) -> None:
    ws = wb[UNIFORM]
    put_text(ws, "E7", "NaN")
    put_text(ws, "D7", "-Infinity")
    put_text(ws, "F11", "nan")
    put_text(ws, "I11", "inf")


def _dates_in_numbers(wb) -> None:
    ws = wb[UNIFORM]
    ws["E7"] = datetime(2022, 12, 31)
    ws["F11"] = datetime(2022, 6, 30, 12, 0)
    ws["I11"] = datetime(1900, 1, 1)


LONG_TEXT = ("很长的文字" * 2000)[:10000]


def _long_strings(wb) -> None:
    ws = wb[UNIFORM]
    ws["F3"] = LONG_TEXT  # the locked project name: X-TAMPER carries the whole value
    ws["B9"] = LONG_TEXT
    ws["C11"] = LONG_TEXT
    ws["D11"] = LONG_TEXT
    ws["B21"] = LONG_TEXT
    wb[DEPT]["C5"] = LONG_TEXT


def _formula_strings(wb) -> None:
    ws = wb[UNIFORM]
    put_text(ws, "F3", FORMULA_PAYLOADS[0])  # project name (locked): X-TAMPER's value is the payload
    put_text(ws, "B9", FORMULA_PAYLOADS[1])
    put_text(ws, "B5", FORMULA_PAYLOADS[2])
    for k, payload in enumerate(FORMULA_PAYLOADS):  # 三级指标 names, then 指标描述
        put_text(ws, f"C{11 + k}" if k < 7 else f"D{11 + k - 7}", payload)
    put_text(ws, "F11", "=1+1")  # a value under ≥: R-V1 shows it
    put_text(ws, "B12", "＝HYPERLINK(\"http://evil.example/\")")  # an unknown 二级指标: R-S1 shows it
    put_text(ws, "B21", "@SUM(1+1)")
    put_text(ws, "E21", "+86 0319-1234567")
    put_text(ws, "H21", "-2022-05-01")
    dept = wb[DEPT]
    put_text(dept, "C5", FORMULA_PAYLOADS[3])
    put_text(dept, "F7", FORMULA_PAYLOADS[4])
    put_text(wb[NETWORK], "F3", FORMULA_PAYLOADS[5])


def _html_strings(wb) -> None:
    ws = wb[UNIFORM]
    put_text(ws, "F3", HTML_PAYLOADS[0])
    put_text(ws, "C12", HTML_PAYLOADS[1])
    put_text(ws, "B13", HTML_PAYLOADS[2])
    put_text(wb[NETWORK], "F3", HTML_PAYLOADS[2])


HOSTILE_UNIT_CODE = "../../=cmd|' /C calc'!A0<img src=x onerror=alert(4)>"


def set_unit_identity(wb, code: str, name: str) -> None:
    """The unit code and name in _meta, and the code in the document properties, replaced."""
    meta = wb["_meta"]
    for row in meta.iter_rows(min_row=1, max_row=20):
        if row[0].value == "unit_code":
            put_text(meta, row[1].coordinate, code)
        if row[0].value == "unit_name":
            put_text(meta, row[1].coordinate, name)
    for prop in wb.custom_doc_props:
        if prop.name == "jixiao_unit":
            prop.value = code


def _hostile_unit_code(wb) -> None:
    """The unit code in _meta and in the document properties replaced by a path, a formula and markup."""
    set_unit_identity(wb, HOSTILE_UNIT_CODE, HTML_PAYLOADS[1] + FORMULA_PAYLOADS[0])


def _second_version(wb) -> None:
    ws = wb[UNIFORM]
    ws["E7"] = 9
    ws["B9"] = "完成 50 套服装采购"


# --- edits of package parts ---------------------------------------------------------------------


def _edit_part(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    return rezip(data, lambda name, content: change(content) if name == part else content)


def _other_version(data: bytes) -> bytes:
    version = load_spec(builtin_template(PROJECT_TEMPLATE)).version.encode()

    def edit(name: str, content: bytes) -> bytes:
        if name in ("xl/sharedStrings.xml", "docProps/custom.xml"):
            content = content.replace(version, b"0ld0ld0ld0ld"[: len(version)])
            content = content.replace("2022年度".encode(), "2021年度".encode()).replace(b"<t>2022</t>", b"<t>2021</t>")
        return content
    return rezip(data, edit)


def _strip_names(workbook_xml: bytes) -> bytes:
    return re.sub(rb"<definedNames>.*</definedNames>", b"", workbook_xml, flags=re.S)


def _remove_protection(data: bytes) -> bytes:
    return rezip(data, lambda name, content: re.sub(rb"<sheetProtection\b[^>]*/>", b"", content)
                 if name.startswith("xl/worksheets/") else content)


def _nan_float(data: bytes) -> bytes:
    part = sheet_part(data, UNIFORM)

    def change(xml: bytes) -> bytes:
        xml = set_cell_xml(xml, "E7", b"<v>NaN</v>")
        xml = set_cell_xml(xml, "D7", b"<v>-INF</v>")
        return set_cell_xml(xml, "F11", b"<v>nan</v>", "n")
    return _edit_part(data, part, change)


def _control_escaped(data: bytes) -> bytes:
    part = sheet_part(data, UNIFORM)
    name = "统一着装经费_x0007__x001B_[31m_x0000_\u202e反转\u200b\ufeff".encode()

    def change(xml: bytes) -> bytes:
        xml = set_cell_xml(xml, "F3", inline_string(name), "inlineStr")
        return set_cell_xml(xml, "B9", inline_string("目标_x0001_内容_x000B_\u2028分行".encode()), "inlineStr")
    return _edit_part(data, part, change)


def _control_raw(data: bytes) -> bytes:
    part = sheet_part(data, UNIFORM)

    def change(xml: bytes) -> bytes:
        xml = set_cell_xml(xml, "F3", inline_string("统一着装经费\x0b\x1b[31m\x01".encode()), "inlineStr")
        return set_cell_xml(xml, "B9", inline_string(b"\x07\x08\x0c"), "inlineStr")
    return _edit_part(data, part, change)


def _far_cell(data: bytes) -> bytes:
    """One cell at XFD1048576: a dense reader would allocate 17 billion cells."""
    part = sheet_part(data, UNIFORM)

    def change(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
        return xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                                            + inline_string(b"x") + b"</c></row></sheetData>")
    return _edit_part(data, part, change)


# --------------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------------

REFUSED_BY_ISOLATION = ("I-MEMORY", "I-TIMEOUT", "I-CORRUPT", "I-ZIPBOMB", "I-ZIP-CORRUPT")


def build_corpus(root: Path, seed: int = 20240501, symlink: bool = True) -> Corpus:
    """Write the master, the issued workbooks and every case under ``root``; return what was written."""
    root = Path(root)
    returns, issued, other = root / "returns", root / "issued", root / "issued-other"
    for folder in (returns, issued, other):
        folder.mkdir(parents=True, exist_ok=True)
    master_path = root / "master.xlsx"
    write_master(master_path, corpus_master())
    master = load_master(master_path)
    generate(master, master_path, GenerateOptions(out_dir=issued, jobs=1))
    generate(other_bureau_master(), None, GenerateOptions(out_dir=other, jobs=1))
    base = (issued / workbook_name(master.unit(SAMPLE_UNIT))).read_bytes()
    path_unit = (issued / workbook_name(master.unit(PATH_UNIT))).read_bytes()
    foreign = next(other.glob("*.xlsx")).read_bytes()
    rng = random.Random(seed)
    corpus = Corpus(root, master_path, issued, returns)

    def add(case_id: str, file: str, content: bytes | str, *, expect=(), any_of=(), forbid=(), readable=None,
            note: str = "", encoding: str = "utf-8") -> None:
        payload = content.encode(encoding) if isinstance(content, str) else content
        (returns / file).write_bytes(payload)
        corpus.cases.append(Case(case_id, file, tuple(expect), tuple(any_of), tuple(forbid), readable, note))

    # The untouched return (its seed defects are what the rules must find) and a copy under another name.
    add("valid", "01-原样报回.xlsx", base, expect=("R-C1", "R-F5"), readable=True)
    add("duplicate_copy", "01b-原样报回 - 副本.xlsx", base, any_of=("L-DUPLICATE", "X-SAME-FILE"),
        note="the same bytes under another name")
    add("same_unit_second_file", "02-第二次报送.xlsx", with_openpyxl(base, _second_version), expect=("X-DUP-UNIT",),
        readable=True, note="two different files for one unit")

    # Not a workbook at all.
    add("empty", "03-空文件.xlsx", b"", expect=("I-EMPTY",), readable=False)
    add("random_bytes", "04-乱码.xlsx", bytes(rng.getrandbits(8) for _ in range(4096)) + b"\x00\x01",
        expect=("I-NOT-WORKBOOK",), readable=False)
    add("truncated_xlsx", "05-下载中断.xlsx", base[: len(base) * 3 // 5], expect=("I-ZIP-CORRUPT",), readable=False)
    add("truncated_header", "06-只剩开头.xlsx", base[:100], expect=("I-ZIP-CORRUPT",), readable=False)
    add("zip_not_workbook", "07-压缩包.xlsx", _plain_zip(), expect=("I-NOT-WORKBOOK",), readable=False)
    add("docx_renamed", "08-Word改名.xlsx", _docx(), expect=("I-NOT-WORKBOOK",), readable=False)
    add("pdf_renamed", "09-PDF改名.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        expect=("I-NOT-WORKBOOK",), readable=False)
    add("encrypted_xlsx", "10-加密.xlsx", _encrypted(base), expect=("I-ENCRYPTED",), readable=False)
    add("html_as_xls", "11-网页另存.xls", HTML_XLS, expect=("I-HTML",), readable=False)
    add("mht_as_xls", "12-单个网页.xls", MHT_XLS, expect=("I-HTML",), readable=False)
    add("spreadsheetml_2003", "13-XML2003.xls", SPREADSHEETML, expect=("I-SPREADSHEETML",), readable=False)
    add("csv_as_xlsx", "14-CSV改名.xlsx", "\ufeff" + CSV_TEXT, expect=("I-CSV",), readable=False)
    add("gbk_text", "15-GBK文本.xlsx", GBK_TEXT, expect=("I-CSV",), readable=False, encoding="gbk")
    add("utf16_text", "16-UTF16文本.xls", "\ufeff" + CSV_TEXT.replace(",", "\t"), expect=("I-CSV",), readable=False,
        encoding="utf-16-le")

    # Hostile packages.
    add("xlsm_with_macro", "17-含宏.xlsm", _xlsm(base), expect=("I-MACRO", "R-C1"), readable=True,
        note="macros are never run: the data is read, the macro reported")
    add("zip_bomb", "18-压缩炸弹.xlsx", _bomb(base, UNIFORM, lie=False), expect=("I-ZIPBOMB",), readable=False,
        note="one sheet inflates to 2 GiB of zeros")
    add("zip_bomb_lying_sizes", "19-压缩炸弹-谎报大小.xlsx", _bomb(base, UNIFORM, lie=True),
        any_of=REFUSED_BY_ISOLATION, readable=False,
        note="the directory declares the old small size; the deflate stream still holds 2 GiB")
    add("zip_many_entries", "20-条目过多.xlsx", _many_entries(base), expect=("I-ZIPBOMB",), readable=False)
    add("zip_path_traversal", "21-路径穿越.xlsx", _path_traversal(base), expect=("I-ZIP-PATH",), readable=False)
    add("entity_bomb_shared_strings", "22-实体炸弹-共享字符串.xlsx", _entity_bomb(base, "xl/sharedStrings.xml"),
        expect=("I-CORRUPT",), readable=False)
    add("entity_bomb_workbook", "23-实体炸弹-workbook.xlsx", _entity_bomb(base, "xl/workbook.xml"),
        expect=("I-CORRUPT",), readable=False)
    add("xxe_shared_strings", "24-XXE-共享字符串.xlsx", _xxe(base, "xl/sharedStrings.xml"),
        expect=("I-CORRUPT",), readable=False)
    add("xxe_custom_properties", "25-XXE-文档属性.xlsx", _xxe(base, "docProps/custom.xml"),
        expect=("I-CORRUPT",), readable=False)
    add("far_cell", "26-远端单元格.xlsx", _far_cell(base), any_of=REFUSED_BY_ISOLATION, readable=False,
        note="a cell at XFD1048576 makes a dense reader allocate 17 billion cells")
    huge = returns / "27-超大文件.xlsx"
    with open(huge, "wb") as fh:  # sparse: 60 MiB that cost no disk
        fh.write(base[:4096])
        fh.truncate(60 * 1024 * 1024)
    corpus.cases.append(Case("too_big", huge.name, ("I-TOOBIG",), readable=False))

    # Somebody else's form, or ours from another batch.
    add("unrelated_workbook", "28-通讯录.xlsx", _unrelated_workbook(), expect=("P-NOT-FORM",), readable=False)
    add("other_bureau", "29-其他局的表.xlsx", foreign, expect=("X-UNIT-UNKNOWN",), readable=True)
    add("other_version", "30-往年的表.xlsx", _other_version(base), expect=("X-VERSION",), readable=True)

    # Structure damaged or changed.
    add("meta_deleted", "31-删除_meta.xlsx", with_openpyxl(base, _delete_meta), expect=("P-NO-META", "R-C1"),
        readable=True)
    add("names_deleted", "32-删除名称.xlsx", _edit_part(base, "xl/workbook.xml", _strip_names),
        expect=("P-NAMES-LOST", "R-C1"), readable=True)
    add("identity_deleted", "33-单位信息全删.xlsx", with_openpyxl(base, _delete_identity),
        expect=("X-UNIT-MISSING", "P-UNIT-UNKNOWN"), readable=True)
    add("sheet_renamed", "34-工作表改名.xlsx", with_openpyxl(base, _rename_sheet), expect=("P-SHEET-RENAMED",),
        forbid=("X-PROJECT-MISSING",), readable=True)
    add("sheets_reordered", "35-工作表换序.xlsx", with_openpyxl(base, _reorder_sheets), expect=("R-C1", "R-F5"),
        forbid=("X-PROJECT-MISSING",), readable=True)
    add("sheet_deleted", "36-删除工作表.xlsx", with_openpyxl(base, _delete_sheet), expect=("X-PROJECT-MISSING",),
        readable=True)
    add("dept_sheet_deleted", "37-删除部门整体表.xlsx", with_openpyxl(base, _delete_dept_sheet), expect=("X-DEPT-MISSING", "R-C1"),
        readable=True)
    add("sheets_hidden", "38-隐藏工作表.xlsx", with_openpyxl(base, _hide_sheets), expect=("R-C1", "R-F5"),
        forbid=("X-PROJECT-MISSING",), readable=True)
    add("merges_split", "39-取消合并.xlsx", with_openpyxl(base, _split_merges), expect=("R-C1",),
        forbid=("X-TAMPER",), readable=True)
    add("budget_edited", "40-改预算数.xlsx", with_openpyxl(base, _edit_budget),
        expect=("X-TAMPER", "P-PROTECTION-REMOVED"), readable=True)
    add("code_edited", "41-改项目编码.xlsx", with_openpyxl(base, _edit_code), expect=("X-TAMPER",), readable=True)
    add("budget_zero", "42-预算数为零.xlsx", with_openpyxl(base, _budget_zero), expect=("X-TAMPER",), readable=True)
    add("protection_removed", "43-取消保护.xlsx", _remove_protection(base), expect=("P-PROTECTION-REMOVED",),
        forbid=("X-TAMPER",), readable=True)
    add("rows_inserted", "44-插入行.xlsx", with_openpyxl(base, _insert_rows), expect=("P-ROWS-CHANGED",),
        readable=True)
    add("rows_deleted", "45-删除行.xlsx", with_openpyxl(base, _delete_rows), expect=("P-ROWS-CHANGED",),
        readable=True)

    # Values people (and programs) type.
    add("formulas_in_inputs", "46-填写公式.xlsx", with_openpyxl(base, _formula_inputs), expect=("P-FORMULA",),
        readable=True)
    add("text_in_numbers", "47-数字格写文字.xlsx", with_openpyxl(base, _text_in_numbers), expect=("P-NUMBER",),
        readable=True)
    add("negative_amounts", "48-负数.xlsx", with_openpyxl(base, _negative), expect=("R-F5",), readable=True)
    add("enormous_amounts", "49-巨大金额.xlsx", with_openpyxl(base, _enormous), expect=("R-F5",), readable=True)
    add("float_max", "50-1e308.xlsx", with_openpyxl(base, _float_max), expect=("P-NUMBER",), readable=True)
    add("overflow_text", "51-超长数字文本.xlsx", with_openpyxl(base, _overflow_text), expect=("P-NUMBER",),
        readable=True)
    add("nan_text", "52-NaN文本.xlsx", with_openpyxl(base, _nan_text), expect=("P-NUMBER",), readable=True)
    add("nan_float", "53-NaN数值.xlsx", _nan_float(base), expect=("P-NUMBER",), readable=True)
    add("dates_in_numbers", "54-日期填入金额.xlsx", with_openpyxl(base, _dates_in_numbers), expect=("P-NUMBER",),
        readable=True)
    add("long_strings", "55-一万字.xlsx", with_openpyxl(base, _long_strings), expect=("X-TAMPER",), readable=True)
    add("formula_strings", "59-公式注入.xlsx", with_openpyxl(base, _formula_strings), expect=("X-TAMPER", "R-V1"),
        readable=True, note="= + - @ and ＝ ＋ － ＠ in text inputs and in the locked project name")
    add("html_strings", "58-网页注入.xlsx", with_openpyxl(base, _html_strings), expect=("X-TAMPER",), readable=True)
    add("control_chars_escaped", "56-控制字符.xlsx", _control_escaped(base), expect=("X-TAMPER",), readable=True)
    add("control_chars_raw", "57-非法XML字符.xlsx", _control_raw(base), any_of=("X-TAMPER", "I-CORRUPT"))

    add("hostile_unit_code", "30b-单位编码注入.xlsx", with_openpyxl(base, _hostile_unit_code),
        expect=("X-UNIT-UNKNOWN",), readable=True, note="the unit code becomes a sheet name and an HTML text")
    # A return whose own file name carries markup, a formula and control characters.
    hostile_name = "62-=HYPERLINK(\"x\")<img src=x onerror=alert(3)>\t\x01名.xlsx"
    try:
        add("hostile_file_name", hostile_name, CSV_TEXT, expect=("I-CSV",), readable=False)
    except OSError:  # a file system that refuses such names
        pass
    # A unit whose name and project names attack file names.
    add("path_names", "60-" + workbook_name(master.unit(PATH_UNIT)), path_unit, expect=("R-C1",), readable=True,
        note="unit and project names with / \\ : * ? \" < > | and ..; its 退回修改 file must stay in the folder")

    if symlink and hasattr(Path, "symlink_to") and Path("/etc/passwd").is_file():
        link = returns / "61-链接到passwd.xlsx"
        try:
            link.symlink_to("/etc/passwd")
            corpus.cases.append(Case("symlink_passwd", link.name, any_of=("I-CSV", "I-NOT-WORKBOOK"), readable=False,
                                     note="a link to a system file: reported, its content never shown"))
        except OSError:
            pass
    (root / "cases.json").write_text(json.dumps([c.as_dict() for c in corpus.cases], ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the hostile-returns corpus.")
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    corpus = build_corpus(args.outdir)
    print(f"{len(corpus.cases)} cases in {corpus.returns}; master {corpus.master}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
