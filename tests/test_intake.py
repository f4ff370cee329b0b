"""Tests for jixiao_xl.intake. Every input is built here from code; no binary fixture is committed."""

from __future__ import annotations

import io
import multiprocessing
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao_xl import catalogue
from jixiao_xl.intake import (
    GiB,
    MiB,
    FileKind,
    Intake,
    Limits,
    check_zip,
    detect_kind,
    inspect_file,
    sha256_file,
    sniff,
)
from jixiao_xl.runtime import Isolated, run_isolated

# --------------------------------------------------------------------------------------------------
# Builders: workbooks and look-alikes made in code
# --------------------------------------------------------------------------------------------------


def xlsx_bytes() -> bytes:
    """A small real .xlsx written by xlsxwriter."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("统一着装经费")
    sheet.write_row(0, 0, ["项目名称", "预算数"])
    sheet.write_row(1, 0, ["统一着装经费", 12.5])
    workbook.close()
    return buffer.getvalue()


def rezip(data: bytes, add: dict[str, bytes] | None = None, edit=None) -> bytes:
    """Copy a zip, passing each member through ``edit(name, bytes)`` and appending ``add``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info.filename, edit(info.filename, content) if edit else content)
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


VBA_DEFAULT = b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'


def xlsm_bytes() -> bytes:
    """An .xlsx turned into .xlsm: a vbaProject.bin part and the macroEnabled content type."""
    def edit(name: str, content: bytes) -> bytes:
        """Patch the content types."""
        if name == "[Content_Types].xml":
            content = content.replace(
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            ).replace(b"</Types>", VBA_DEFAULT + b"</Types>")
        return content

    return rezip(xlsx_bytes(), add={"xl/vbaProject.bin": build_cfb({"dir": b"\x01" * 64})}, edit=edit)


def macro_content_type_only() -> bytes:
    """An .xlsm saved without macros: macroEnabled content type but no vbaProject.bin."""
    def edit(name: str, content: bytes) -> bytes:
        """Patch the content types."""
        if name == "[Content_Types].xml":
            return content.replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml")
        return content

    return rezip(xlsx_bytes(), edit=edit)


ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row>'
    '<table:table-cell office:value-type="string"><text:p>项目名称</text:p></table:table-cell>'
    '<table:table-cell office:value-type="float" office:value="12.5"><text:p>12.5</text:p></table:table-cell>'
    "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
).encode("utf-8")

ODS_MANIFEST = b"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def ods_bytes() -> bytes:
    """A minimal valid ODS: ``mimetype`` stored first, then content.xml and the manifest."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("content.xml", ODS_CONTENT, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", ODS_MANIFEST, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def plain_zip(members: dict[str, bytes]) -> bytes:
    """A zip with the given members."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def docx_zip() -> bytes:
    """A .docx-shaped zip (Word document parts)."""
    return plain_zip({
        "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": "<w:document>绩效目标</w:document>".encode(),
    })


def encrypted_xlsx() -> bytes:
    """An .xlsx encrypted with a password to open, by msoffcrypto-tool (an OLE EncryptedPackage)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx_bytes())).encrypt("1234", out)
    return out.getvalue()


# --- a compound file (OLE) writer, enough for .xls/.doc look-alikes -------------------------------

_END, _FREE, _FATSECT, _NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
_SS = 512


def _pad(data: bytes, size: int) -> bytes:
    """``data`` zero-padded to a multiple of ``size``."""
    return data + b"\0" * (-len(data) % size)


def _dirent(name: str, kind: int, start: int, size: int, child: int = _NOSTREAM, right: int = _NOSTREAM) -> bytes:
    """One 128-byte compound-file directory entry."""
    raw = (name + "\0").encode("utf-16-le") if name else b""
    return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1) + struct.pack("<III", _NOSTREAM, right, child)
            + b"\0" * 36 + struct.pack("<IQ", start, size))


def build_cfb(streams: dict[str, bytes]) -> bytes:
    """A version-3 compound file holding ``streams`` (small ones in the mini stream), as Office writes."""
    sectors: list[bytes] = []
    fat: list[int] = []

    def alloc(data: bytes) -> int:
        """Append ``data`` as a sector chain; its first sector id."""
        if not data:
            return _END
        start = len(sectors)
        chunks = [data[i : i + _SS] for i in range(0, len(data), _SS)]
        for k, chunk in enumerate(chunks):
            sectors.append(_pad(chunk, _SS))
            fat.append(start + k + 1 if k + 1 < len(chunks) else _END)
        return start

    mini, minifat, entries = b"", [], []
    for name, data in streams.items():
        if len(data) >= 4096:
            entries.append((name, alloc(data), len(data)))
            continue
        count = -(-len(data) // 64)
        start = len(mini) // 64 if data else _END
        minifat.extend(start + k + 1 if k + 1 < count else _END for k in range(count))
        mini += _pad(data, 64)
        entries.append((name, start, len(data)))
    root_start = alloc(mini)
    minifat_start = alloc(struct.pack(f"<{len(minifat)}I", *minifat)) if minifat else _END
    dirs = [_dirent("Root Entry", 5, root_start, len(mini), child=1 if entries else _NOSTREAM)]
    for i, (name, start, size) in enumerate(entries, 1):
        dirs.append(_dirent(name, 2, start, size, right=i + 1 if i < len(entries) else _NOSTREAM))
    dirs.extend(_dirent("", 0, 0, 0) for _ in range(-len(dirs) % 4))
    dir_start = alloc(b"".join(dirs))
    n_fat = 1
    while (len(sectors) + n_fat) * 4 > n_fat * _SS:
        n_fat += 1
    fat_ids = list(range(len(sectors), len(sectors) + n_fat))
    fat.extend([_FATSECT] * n_fat)
    fat.extend([_FREE] * (n_fat * _SS // 4 - len(fat)))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<9I", 0, n_fat, dir_start, 0, 4096, minifat_start, 1 if minifat else 0, _END, 0)
              + struct.pack("<109I", *(fat_ids + [_FREE] * (109 - n_fat))))
    return header + b"".join(sectors) + struct.pack(f"<{len(fat)}I", *fat)


def _record(rtype: int, body: bytes = b"") -> bytes:
    """One BIFF record."""
    return struct.pack("<HH", rtype, len(body)) + body


def biff8(rows: list[tuple[str, float]], encrypted: bool = False, pad_to: int = 0) -> bytes:
    """A BIFF8 workbook stream with one sheet of (text, number) rows; FILEPASS after BOF if ``encrypted``."""
    bof = struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x06)
    globals_ = [_record(0x0809, bof)]
    if encrypted:
        globals_.append(_record(0x002F, struct.pack("<HHH", 1, 1, 1) + b"\0" * 48))
    globals_.append(_record(0x0042, struct.pack("<H", 1200)))
    sheet_name = b"Sheet1"
    globals_len = sum(map(len, globals_)) + 4 + 8 + len(sheet_name) + 4
    globals_.append(_record(0x0085, struct.pack("<IBBBB", globals_len, 0, 0, len(sheet_name), 0) + sheet_name))
    globals_.append(_record(0x000A))
    sheet = [_record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x06)),
             _record(0x0200, struct.pack("<IIHHH", 0, len(rows), 0, 2, 0))]
    for r, (text, number) in enumerate(rows):
        sheet.append(_record(0x0204, struct.pack("<HHHHB", r, 0, 0, len(text), 1) + text.encode("utf-16-le")))
        sheet.append(_record(0x0203, struct.pack("<HHHd", r, 1, 0, number)))
    sheet.append(_record(0x000A))
    data = b"".join(globals_) + b"".join(sheet)
    return data + b"\0" * max(0, pad_to - len(data))


ROWS = [("项目名称", 12.5), ("预算数", 30.0)]


def xls_bytes(encrypted: bool = False, pad_to: int = 0, extra: dict[str, bytes] | None = None) -> bytes:
    """A real .xls (BIFF8 in a compound file) that python-calamine reads."""
    streams = {"Workbook": biff8(ROWS, encrypted, pad_to), "\x05SummaryInformation": b"\0" * 200}
    return build_cfb({**streams, **(extra or {})})


HTML_XLS = """<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>
<body><table><tr><td>项目名称</td><td>统一着装经费</td></tr></table></body></html>"""

SPREADSHEETML = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">
<Worksheet ss:Name="Sheet1"><Table><Row><Cell><Data ss:Type="String">项目名称</Data></Cell></Row></Table></Worksheet>
</Workbook>"""

MHT = ("MIME-Version: 1.0\r\nX-Document-Type: Workbook\r\n"
       "Content-Type: multipart/related; boundary=\"----=_NextPart\"\r\n\r\n"
       "------=_NextPart\r\nContent-Type: text/html; charset=\"utf-8\"\r\n\r\n<html><table></table></html>\r\n")

CSV_TEXT = "单位编码,项目名称,预算数\r\n435001,统一着装经费,12.5\r\n435001,办公经费,30\r\n"


# --------------------------------------------------------------------------------------------------
# Detection of every kind, end to end
# --------------------------------------------------------------------------------------------------

CASES = {
    # id: (file name, bytes builder, kind, rule codes, readable)
    "empty": ("空.xlsx", lambda: b"", FileKind.EMPTY, {"I-EMPTY"}, False),
    "random": ("乱码.xlsx", lambda: bytes(range(256)) * 40 + os.urandom(4096), FileKind.OTHER, {"I-NOT-WORKBOOK"}, False),
    "xlsx": ("435001.xlsx", xlsx_bytes, FileKind.XLSX, set(), True),
    "xlsx-renamed-xls": ("435001.xls", xlsx_bytes, FileKind.XLSX, set(), True),
    "xlsm": ("435001.xlsm", xlsm_bytes, FileKind.XLSM, {"I-MACRO"}, True),
    "xlsm-content-type": ("435001.xlsx", macro_content_type_only, FileKind.XLSM, {"I-MACRO"}, True),
    "ods": ("435001.ods", ods_bytes, FileKind.ODS, set(), True),
    "xls-mini-stream": ("435001.xls", xls_bytes, FileKind.XLS, set(), True),
    "xls-regular-stream": ("435001.xls", lambda: xls_bytes(pad_to=6000), FileKind.XLS, set(), True),
    # (the writer makes only streams, so _VBA_PROJECT_CUR is a stream here; in Excel files it is a storage)
    "xls-macro": ("435001.xls", lambda: xls_bytes(extra={"_VBA_PROJECT_CUR": b"\0" * 64}),
                  FileKind.XLS, {"I-MACRO"}, True),
    "xls-encrypted-mini": ("435001.xls", lambda: xls_bytes(encrypted=True), FileKind.ENCRYPTED, {"I-ENCRYPTED"}, False),
    "xls-encrypted": ("435001.xls", lambda: xls_bytes(encrypted=True, pad_to=6000),
                      FileKind.ENCRYPTED, {"I-ENCRYPTED"}, False),
    "xlsx-encrypted": ("435001.xlsx", encrypted_xlsx, FileKind.ENCRYPTED, {"I-ENCRYPTED"}, False),
    "doc": ("435001.xls", lambda: build_cfb({"WordDocument": b"\xec\xa5" + b"\0" * 5000, "1Table": b"\0" * 100}),
            FileKind.OTHER, {"I-NOT-WORKBOOK"}, False),
    "docx-renamed": ("435001.xlsx", docx_zip, FileKind.ZIP_OTHER, {"I-NOT-WORKBOOK"}, False),
    "plain-zip": ("435001.zip", lambda: plain_zip({"435001.xlsx": xlsx_bytes(), "说明.txt": "附件".encode()}),
                  FileKind.ZIP_OTHER, {"I-NOT-WORKBOOK"}, False),
    "truncated-xlsx": ("435001.xlsx", lambda: xlsx_bytes()[: len(xlsx_bytes()) // 2],
                       FileKind.XLSX, {"I-ZIP-CORRUPT"}, False),
    "html-xls": ("435001.xls", lambda: HTML_XLS.encode("utf-8"), FileKind.HTML, {"I-HTML"}, False),
    "html-gbk": ("435001.xls", lambda: ("<!DOCTYPE html>" + HTML_XLS).encode("gbk"), FileKind.HTML, {"I-HTML"}, False),
    "mht": ("435001.xls", lambda: MHT.encode(), FileKind.HTML, {"I-HTML"}, False),
    "spreadsheetml": ("435001.xls", lambda: SPREADSHEETML.encode("utf-8"),
                      FileKind.SPREADSHEETML, {"I-SPREADSHEETML"}, False),
    "csv-utf8": ("435001.xlsx", lambda: CSV_TEXT.encode("utf-8"), FileKind.CSV, {"I-CSV"}, False),
    "csv-utf8-bom": ("435001.xlsx", lambda: CSV_TEXT.encode("utf-8-sig"), FileKind.CSV, {"I-CSV"}, False),
    "csv-gbk": ("435001.xlsx", lambda: CSV_TEXT.encode("gbk"), FileKind.CSV, {"I-CSV"}, False),
    "tsv-utf16": ("435001.xls", lambda: CSV_TEXT.replace(",", "\t").encode("utf-16"), FileKind.CSV, {"I-CSV"}, False),
    "text-utf16": ("说明.xls", lambda: "请填写绩效目标表\r\n谢谢".encode("utf-16"), FileKind.TEXT, {"I-CSV"}, False),
    "text-utf16le-no-bom": ("readme.xls", lambda: "please fill in the form\r\nthanks".encode("utf-16-le"),
                            FileKind.TEXT, {"I-CSV"}, False),
    "pdf": ("435001.xlsx", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + os.urandom(2000),
            FileKind.OTHER, {"I-NOT-WORKBOOK"}, False),
}


@pytest.fixture(params=sorted(CASES), ids=sorted(CASES))
def case(request, tmp_path):
    """(path, expected kind, expected rule codes, expected readable) for one built input."""
    name, build, kind, codes, readable = CASES[request.param]
    path = tmp_path / name
    path.write_bytes(build())
    return path, kind, codes, readable


def test_detect_kind(case):
    path, kind, _, _ = case
    assert detect_kind(path) is kind


def test_inspect_file_kind_codes_and_attribution(case):
    path, kind, codes, readable = case
    result = inspect_file(path)
    assert isinstance(result, Intake)
    assert result.kind is kind
    assert {f.rule for f in result.findings} == codes
    assert result.readable is readable
    assert result.size == path.stat().st_size
    assert result.sha256 == sha256_file(path)
    assert result.name == path.name and result.path == str(path)
    for finding in result.findings:
        assert finding.file == str(path) and finding.sha256 == result.sha256
        assert finding.severity == catalogue.get(finding.rule).severity


def test_sniff_on_the_whole_file_agrees(case):
    path, kind, _, _ = case
    assert sniff(path.read_bytes()) is kind


def test_fixture_workbooks_are_real():
    """The built xls and ods are real workbooks: python-calamine reads the values back."""
    from python_calamine import CalamineWorkbook

    for data in (xls_bytes(), xls_bytes(pad_to=6000)):
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
        assert rows == [list(r) for r in ROWS]
    rows = CalamineWorkbook.from_filelike(io.BytesIO(ods_bytes())).get_sheet_by_index(0).to_python()
    assert rows == [["项目名称", 12.5]]


def test_sniff_uses_given_zip_names_not_the_extension():
    head = xlsx_bytes()[:64]
    assert sniff(head, ["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"]) is FileKind.XLSX
    assert sniff(head, ["[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin"]) is FileKind.XLSM
    assert sniff(head, ["[Content_Types].xml", "word/document.xml"]) is FileKind.ZIP_OTHER
    assert sniff(ods_bytes()[:100], ["mimetype", "content.xml"]) is FileKind.ODS


def test_sniff_on_heads_only():
    """Only the first bytes: local headers name the zip parts, an unparsable OLE directory means XLS."""
    assert sniff(xlsx_bytes()[:2000]) is FileKind.XLSX
    assert sniff(ods_bytes()[:120]) is FileKind.ODS
    assert sniff(xls_bytes(pad_to=6000)[:512]) is FileKind.XLS
    assert sniff(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100) is FileKind.XLS
    assert sniff(b"") is FileKind.EMPTY
    assert sniff("<TABLE border=1><tr><td>1</td></tr>".encode()) is FileKind.HTML
    xml2003 = b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
    assert sniff(xml2003) is FileKind.SPREADSHEETML
    assert sniff(b'<?xml version="1.0"?><root/>') is FileKind.TEXT
    # A head cut in the middle of a multi-byte character is still text.
    assert sniff(CSV_TEXT.encode("utf-8")[:-1] + "经".encode("utf-8")[:2]) is FileKind.CSV


def test_messages_are_chinese_and_name_the_detected_type(tmp_path):
    def message(name: str, data: bytes) -> str:
        """The one finding message for ``data`` saved as ``name``."""
        path = tmp_path / name
        path.write_bytes(data)
        findings = inspect_file(path).findings
        assert len(findings) == 1
        return findings[0].message

    assert "HTML" in message("a.xls", HTML_XLS.encode()) and ".xls" in message("a.xls", HTML_XLS.encode())
    assert "另存为 .xlsx" in message("b.xls", HTML_XLS.encode())
    assert "XML 2003" in message("c.xls", SPREADSHEETML.encode())
    assert "CSV" in message("d.xlsx", CSV_TEXT.encode("gbk"))
    assert "Word 文档（.docx）" in message("e.xlsx", docx_zip())
    assert "Word 97-2003" in message("f.xls", build_cfb({"WordDocument": b"\0" * 5000}))
    assert "PDF" in message("g.xlsx", b"%PDF-1.4\n" + b"\x00\x01" * 10)
    assert "普通 zip" in message("h.xlsx", plain_zip({"a.txt": b"x"}))
    assert "（无扩展名）" in message("noext", HTML_XLS.encode())
    assert "密码" in message("i.xlsx", encrypted_xlsx())
    assert "宏" in message("j.xlsm", xlsm_bytes())


# --------------------------------------------------------------------------------------------------
# Zip checks: directory only, nothing inflated
# --------------------------------------------------------------------------------------------------


def forbid_inflating(monkeypatch) -> None:
    """From now on, any attempt to read (or write) a zip member's content fails the test."""
    def refuse(*args, **kwargs):
        """Fail the test."""
        raise AssertionError("zip member content was read")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "read", refuse)


@pytest.fixture
def no_inflate(monkeypatch):
    """Forbid inflating zip members for the whole test (inputs must be built beforehand)."""
    forbid_inflating(monkeypatch)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """An xlsx-shaped zip whose sheet inflates to 300 MB of zeros (about 300 KB on disk), streamed."""
    path = tmp_path_factory.mktemp("bomb") / "炸弹.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * MiB
            for _ in range(300):
                member.write(chunk)
    return path


def test_zip_bomb_is_refused_from_the_directory(bomb, no_inflate):
    assert bomb.stat().st_size < 2 * MiB
    findings = check_zip(bomb, Limits())
    assert [f.rule for f in findings] == ["I-ZIPBOMB", "I-ZIPBOMB"]  # entry size, ratio
    assert all(f.severity == "error" and f.file == str(bomb) for f in findings)
    assert "300.0 MB" in findings[0].message and "压缩比" in findings[1].message
    assert findings[0].value == "xl/worksheets/sheet1.xml"


def test_inspect_file_on_a_zip_bomb_never_inflates(bomb, no_inflate):
    result = inspect_file(bomb)
    assert result.kind is FileKind.XLSX
    assert {f.rule for f in result.findings} == {"I-ZIPBOMB"}
    assert not result.readable


def test_total_uncompressed_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "many.xlsx"
    path.write_bytes(plain_zip({f"xl/part{i}.xml": b"<a/>" * 100_000 for i in range(4)}))  # 4 × 400 KB
    forbid_inflating(monkeypatch)
    limits = Limits(max_total_bytes=1 * MiB)
    findings = check_zip(path, limits)
    assert [f.rule for f in findings] == ["I-ZIPBOMB"]
    assert "共 1.5 MB" in findings[0].message


def test_ratio_applies_from_the_floor(tmp_path, monkeypatch):
    path = tmp_path / "styles.xlsx"
    path.write_bytes(plain_zip({"xl/styles.xml": b"<xf/>" * 100_000}))  # 500 KB, ratio in the hundreds
    forbid_inflating(monkeypatch)
    assert check_zip(path, Limits()) == []  # below the 1 MiB floor: harmless
    assert [f.rule for f in check_zip(path, Limits(ratio_floor_bytes=0))] == ["I-ZIPBOMB"]


def test_too_many_entries_refused_before_the_directory_is_parsed(tmp_path, monkeypatch):
    path = tmp_path / "entries.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("xl/workbook.xml", b"<workbook/>")
        for i in range(4998):
            zf.writestr(f"xl/e{i}.xml", b"")
    forbid_inflating(monkeypatch)

    def refuse(self):
        """Fail the test."""
        raise AssertionError("central directory was parsed")

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", refuse)
    findings = check_zip(path, Limits())
    assert [f.rule for f in findings] == ["I-ZIPBOMB"]
    assert findings[0].value == "5000" and "5000" in findings[0].message
    result = inspect_file(path)
    assert {f.rule for f in result.findings} == {"I-ZIPBOMB"} and not result.readable


def test_unsafe_member_paths(tmp_path, monkeypatch):
    path = tmp_path / "slip.xlsx"
    path.write_bytes(rezip(xlsx_bytes(), add={"../../etc/evil.txt": b"x", "/abs.txt": b"y", "C:/win.txt": b"z"}))
    forbid_inflating(monkeypatch)
    findings = check_zip(path, Limits())
    assert [f.rule for f in findings] == ["I-ZIP-PATH"]
    assert "共 3 个" in findings[0].message
    result = inspect_file(path)
    assert result.kind is FileKind.XLSX and not result.readable


def test_truncated_zip_is_corrupt(tmp_path):
    data = xlsx_bytes()
    for cut in (10, len(data) // 2, len(data) - 5):
        path = tmp_path / f"cut{cut}.xlsx"
        path.write_bytes(data[:cut])
        assert [f.rule for f in check_zip(path, Limits())] == ["I-ZIP-CORRUPT"]
        assert not inspect_file(path).readable


def test_damaged_central_directory_is_corrupt(tmp_path):
    data = bytearray(xlsx_bytes())
    directory = data.rfind(b"PK\x01\x02")
    data[directory : directory + 4] = b"XX\x01\x02"
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(bytes(data))
    findings = check_zip(path, Limits())
    assert [f.rule for f in findings] == ["I-ZIP-CORRUPT"]
    assert findings[0].value == "BadZipFile"


def test_real_xlsx_passes_check_zip(tmp_path, monkeypatch):
    path = tmp_path / "ok.xlsx"
    path.write_bytes(xlsx_bytes())
    forbid_inflating(monkeypatch)
    assert check_zip(path, Limits()) == []


# --------------------------------------------------------------------------------------------------
# Paths, sizes, hashes
# --------------------------------------------------------------------------------------------------


def test_unreadable_paths(tmp_path):
    for path in (tmp_path / "missing.xlsx", tmp_path):
        result = inspect_file(path)
        assert [f.rule for f in result.findings] == ["I-UNREADABLE"]
        assert result.findings[0].file == str(path) and not result.readable
    assert [f.rule for f in check_zip(tmp_path / "missing.xlsx", Limits())] == ["I-UNREADABLE"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path):
    path = tmp_path / "locked.xlsx"
    path.write_bytes(xlsx_bytes())
    path.chmod(0)
    try:
        assert [f.rule for f in inspect_file(path).findings] == ["I-UNREADABLE"]
    finally:
        path.chmod(0o644)


def test_too_big_is_refused_without_hashing(tmp_path, monkeypatch):
    path = tmp_path / "big.xlsx"
    path.write_bytes(xlsx_bytes())
    monkeypatch.setattr("jixiao_xl.intake.inspection.sha256_file", lambda *a, **k: pytest.fail("hashed an oversized file"))
    result = inspect_file(path, Limits(max_file_bytes=1000))
    assert [f.rule for f in result.findings] == ["I-TOOBIG"]
    assert result.sha256 == "" and result.kind is FileKind.XLSX and not result.readable


def test_a_workbook_is_read_and_its_zip_directory_parsed_once(tmp_path, monkeypatch):
    """Intake hashes, checks and probes one in-memory copy: one read of the file, one zip directory parse."""
    path = tmp_path / "435001.xlsx"
    path.write_bytes(xlsx_bytes())
    parsed = []

    class CountingZipFile(zipfile.ZipFile):
        def __init__(self, *args, **kwargs):
            parsed.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", CountingZipFile)
    result = inspect_file(path)
    assert result.readable and result.kind is FileKind.XLSX and not result.findings
    assert len(parsed) == 1


def test_permission_error_while_reading_is_a_finding(tmp_path, monkeypatch):
    path = tmp_path / "435001.xlsx"
    path.write_bytes(xlsx_bytes())

    def denied(*args, **kwargs):
        """Fail like a file locked by another program."""
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("jixiao_xl.intake.inspection._file_bytes", denied)
    result = inspect_file(path)
    assert [f.rule for f in result.findings] == ["I-UNREADABLE"] and not result.readable
    assert "Permission denied" in result.findings[0].message


def test_ole_directory_matches_olefile(tmp_path):
    """White-box: the minimal compound-file reader lists the same streams as olefile."""
    import olefile

    from jixiao_xl.intake.ole import Cfb

    for data in (xls_bytes(), xls_bytes(pad_to=6000), encrypted_xlsx(), build_cfb({"WordDocument": b"\0" * 5000})):
        mine = {e.name for e in Cfb(io.BytesIO(data), len(data)).entries() if e.kind == 2}
        theirs = {"/".join(p) for p in olefile.OleFileIO(io.BytesIO(data)).listdir()}
        assert {n.split("/")[-1] for n in theirs} == mine


def test_sha256_is_streamed_and_correct(tmp_path):
    import hashlib

    data = os.urandom(3 * MiB + 7)
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk_size=1000) == hashlib.sha256(data).hexdigest()


def test_returned_file_is_not_modified(tmp_path):
    path = tmp_path / "435001.xlsx"
    path.write_bytes(xlsx_bytes())
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    inspect_file(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# --------------------------------------------------------------------------------------------------
# Never raises
# --------------------------------------------------------------------------------------------------

PREFIXES = [b"", b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            b"\xef\xbb\xbf", b"\xff\xfe", b"<html"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=3000))
def test_never_raises_on_arbitrary_bytes(prefix, body):
    data = prefix + body
    assert isinstance(sniff(data), FileKind)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.xls"
        path.write_bytes(data)
        result = inspect_file(path)
        assert isinstance(result.kind, FileKind)
        assert result.readable == (result.kind in {FileKind.XLSX, FileKind.XLSM, FileKind.XLS, FileKind.ODS}
                                   and not any(f.severity == "error" for f in result.findings))


SEEDS = {"xlsx": xlsx_bytes(), "xls": xls_bytes(pad_to=6000), "ods": ods_bytes(), "enc": encrypted_xlsx()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(sorted(SEEDS)), data=st.data())
def test_never_raises_on_damaged_workbooks(seed, data):
    blob = bytearray(SEEDS[seed])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(blob) - 1))
        blob[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(blob)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.xlsx"
        path.write_bytes(bytes(blob[:cut]))
        assert isinstance(inspect_file(path), Intake)
        assert isinstance(detect_kind(path), FileKind)


def test_ole_loops_and_bad_sectors_do_not_hang(tmp_path):
    data = bytearray(xls_bytes(pad_to=6000))
    struct.pack_into("<I", data, 0x30, 0)  # directory chain starts at sector 0 ...
    fat_sector = struct.unpack_from("<I", data, 0x4C)[0]
    struct.pack_into("<I", data, 512 + fat_sector * 512, 0)  # ... which points at itself
    path = tmp_path / "loop.xls"
    path.write_bytes(bytes(data))
    result = inspect_file(path)
    assert result.kind is FileKind.XLS and [f.rule for f in result.findings] == ["I-CORRUPT"]


# --------------------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------------------

EXPECTED_SEVERITIES = {
    "I-EMPTY": "error", "I-TOOBIG": "error", "I-ZIPBOMB": "error", "I-ZIP-CORRUPT": "error", "I-ZIP-PATH": "error",
    "I-ENCRYPTED": "error", "I-MACRO": "warning", "I-HTML": "error", "I-SPREADSHEETML": "error", "I-CSV": "error",
    "I-NOT-WORKBOOK": "error", "I-UNREADABLE": "error", "I-TIMEOUT": "error", "I-MEMORY": "error", "I-CORRUPT": "error",
}


def test_rule_codes_are_registered():
    registered = {r.code: r for r in catalogue.all_rules() if r.code.startswith("I-")}
    assert set(registered) == set(EXPECTED_SEVERITIES)
    for code, severity in EXPECTED_SEVERITIES.items():
        rule = registered[code]
        assert rule.severity == severity and rule.source == "本工具约定" and rule.category == "文件接收"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rule.title + rule.fix)


def test_file_kind_values():
    assert [k.value for k in FileKind] == [
        "xlsx", "xlsm", "xls", "ods", "encrypted", "html", "spreadsheetml",
        "csv", "text", "empty", "zip_other", "other"]
    assert FileKind("xlsx") is FileKind.XLSX and FileKind.XLSX == "xlsx"


def test_limit_defaults():
    limits = Limits()
    assert (limits.max_file_bytes, limits.max_entries, limits.max_entry_bytes, limits.max_total_bytes) == (
        50 * MiB, 2000, 200 * MiB, 500 * MiB)
    assert (limits.max_ratio, limits.timeout_seconds, limits.memory_bytes) == (200, 60, 1 * GiB)


# --------------------------------------------------------------------------------------------------
# LibreOffice-made files (optional)
# --------------------------------------------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_libreoffice_saved_xls_and_ods(tmp_path):
    source = tmp_path / "src.xlsx"
    source.write_bytes(xlsx_bytes())
    profile = (tmp_path / "profile").as_uri()
    for target, kind in (("xls", FileKind.XLS), ("ods", FileKind.ODS)):
        subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
                        "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
        result = inspect_file(tmp_path / f"src.{target}")
        assert result.kind is kind and result.findings == () and result.readable


# --------------------------------------------------------------------------------------------------
# run_isolated (top-level functions so that they also work with 'spawn')
# --------------------------------------------------------------------------------------------------


def add(a, b, *, c=0):
    """Return a value."""
    return a + b + c


def raise_value_error():
    """Fail like a parser on bad data."""
    raise ValueError("坏数据")


def sleep_forever(pid_file):
    """Record the pid, then hang."""
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(60)


def allocate(size):
    """Allocate ``size`` bytes."""
    return len(bytearray(size))


def unpicklable():
    """Return something that cannot be sent back."""
    return lambda: None


def exit_without_answer():
    """Die without sending a result."""
    os._exit(3)


def kill_self():
    """Die as if killed by the OOM killer."""
    os.kill(os.getpid(), signal.SIGKILL)


def parse_with_calamine(path):
    """Read the first sheet, as the reader would."""
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()


def test_isolated_returns_the_value():
    outcome = run_isolated(add, 1, 2, c=3)
    assert outcome == Isolated(True, 6, None)


def test_isolated_exception_is_corrupt():
    outcome = run_isolated(raise_value_error)
    assert not outcome.ok and outcome.value is None
    assert outcome.finding.rule == "I-CORRUPT" and outcome.finding.severity == "error"
    assert outcome.finding.value == "ValueError"
    assert "文件已损坏或格式异常，无法读取" in outcome.finding.message and "另存为 .xlsx" in outcome.finding.message


def test_isolated_timeout_kills_the_child(tmp_path):
    pid_file = tmp_path / "pid"
    outcome = run_isolated(sleep_forever, str(pid_file), limits=Limits(timeout_seconds=1))
    assert not outcome.ok and outcome.finding.rule == "I-TIMEOUT"
    assert "1 秒" in outcome.finding.message
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped: no such process, not even a zombie
    assert multiprocessing.active_children() == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced on Linux")
def test_isolated_memory_limit():
    outcome = run_isolated(allocate, 2 * GiB, limits=Limits(memory_bytes=512 * MiB))
    assert not outcome.ok and outcome.finding.rule == "I-MEMORY"
    assert run_isolated(allocate, 64 * MiB, limits=Limits(memory_bytes=512 * MiB)).value == 64 * MiB


def test_isolated_odd_endings():
    assert run_isolated(unpicklable).finding.rule == "I-CORRUPT"
    died = run_isolated(exit_without_answer).finding
    assert died.rule == "I-CORRUPT" and died.value == "exitcode=3"
    assert run_isolated(kill_self).finding.rule == "I-MEMORY"


def test_isolated_reads_a_workbook(tmp_path):
    path = tmp_path / "435001.xls"
    path.write_bytes(xls_bytes())
    assert run_isolated(parse_with_calamine, str(path)).value == [list(r) for r in ROWS]
    path.write_bytes(xlsx_bytes()[:900])
    outcome = run_isolated(parse_with_calamine, str(path))
    assert outcome.finding.rule == "I-CORRUPT" and outcome.finding.value


def _open_fds() -> int:
    """The number of open file descriptors of this process (0 where unknown)."""
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_isolated_many_calls_leave_no_children_or_descriptors():
    run_isolated(add, 0, 0)  # warm up lazily created resources
    before = _open_fds()
    for i in range(30):
        assert run_isolated(add, i, 1).value == i + 1
    run_isolated(raise_value_error)
    assert multiprocessing.active_children() == []
    assert _open_fds() == before
