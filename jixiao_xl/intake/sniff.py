"""Sniffing: what a returned file really is, decided from its bytes (never its extension).

:func:`sniff` and :func:`detect_kind` give the :class:`~.codes.FileKind`; :func:`probe_source` gathers the facts
(zip member names and small parts, OLE stream names, the decoded start of a text) that :func:`classify` decides
from and :func:`describe` names in Chinese. Zip parts are inflated only within small bounds (the two parts that
name the format, at most 1 MiB each).
"""

from __future__ import annotations

import codecs
import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import IO, Sequence

from .codes import HEAD_BYTES, KIND_ZH, FileKind, Limits, MiB
from .ole import OLE_MAGIC, Cfb, OleError, biff_encrypted
from .zipguard import MAX_DIRECTORY_BYTES_PER_ENTRY, read_end_record

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"

# Bounded reads of small zip parts used to tell workbook kinds apart (never more than this is inflated).
_SMALL_PART_BYTES = 1 * MiB
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_EXCEL_PROGID = re.compile(r"progid\s*=\s*[\"']excel\.sheet")


@dataclass
class Probe:
    """Facts gathered about a file, from which its kind is decided."""

    head: bytes
    complete: bool
    zip_names: tuple[str, ...] | None = None
    zip_encrypted: bool = False
    zip_readable: bool = True
    content_types: bytes | None = None
    mimetype: bytes | None = None
    ole_names: frozenset[str] | None = None
    biff_encrypted: bool = False


def sniff(head: bytes, zip_names: Sequence[str] | None = None) -> FileKind:
    """The kind of a file whose first bytes are ``head``, decided from the bytes only.

    ``zip_names`` are the names in a zip's central directory when the caller has read them; otherwise
    ``head`` is taken as (possibly the start of) the whole file: its zip directory or OLE directory is
    read from it when complete, else zip names come from the local headers in ``head``. An OLE file
    whose directory is not in ``head`` is reported as XLS (the usual OLE return); use
    :func:`detect_kind` on the path to tell encrypted files and Word documents apart.
    """
    return classify(_probe_bytes(bytes(head), zip_names))


def detect_kind(path: str | os.PathLike[str]) -> FileKind:
    """The kind of the file at ``path``, from its bytes (raises ``OSError`` only if it cannot be read)."""
    return classify(_probe_path(path, may_inflate=True))


def _probe_bytes(data: bytes, zip_names: Sequence[str] | None) -> Probe:
    """Facts about a file given as bytes (the whole file or its start)."""
    probe = Probe(head=data, complete=False)
    if data.startswith(ZIP_MAGICS):
        probe.mimetype = _stored_mimetype(data)
        if zip_names is not None:
            probe.zip_names = tuple(zip_names)
        else:
            _probe_zip(io.BytesIO(data), probe, may_inflate=True)
    elif data.startswith(OLE_MAGIC):
        _probe_ole(io.BytesIO(data), len(data), probe)
    return probe


def _probe_path(path: str | os.PathLike[str], may_inflate: bool) -> Probe:
    """Facts about the file at ``path``; zip parts are inflated (bounded) only when ``may_inflate``."""
    with open(path, "rb") as fh:
        return probe_source(fh, os.fstat(fh.fileno()).st_size, may_inflate)


def probe_source(fh: IO[bytes], size: int, may_inflate: bool, opened: zipfile.ZipFile | None = None) -> Probe:
    """Facts about a whole file open as ``fh`` (``size`` bytes); ``opened``: its zip directory, when the
    caller has already read it from the same bytes."""
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    probe = Probe(head=head, complete=len(head) >= size)
    if head.startswith(ZIP_MAGICS):
        probe.mimetype = _stored_mimetype(head)
        _probe_zip(fh, probe, may_inflate, opened)
    elif head.startswith(OLE_MAGIC):
        _probe_ole(fh, size, probe)
    return probe


def classify(probe: Probe) -> FileKind:
    """Decide the kind from gathered facts."""
    head = probe.head
    if not head:
        return FileKind.EMPTY
    if head.startswith(ZIP_MAGICS):
        return _zip_kind(probe)
    if head.startswith(OLE_MAGIC):
        return _ole_kind(probe)
    if head.startswith(tuple(magic for magic, _ in _OTHER_MAGICS)):
        return FileKind.OTHER  # a PDF or RTF may well decode as text; its signature says what it is
    text = _decode_text(head, probe.complete)
    if text is not None:
        return _text_kind(text, probe.complete)
    return FileKind.OTHER


# --- zip ------------------------------------------------------------------------------------------


def _zip_kind(probe: Probe) -> FileKind:
    """XLSX, XLSM, ODS, ENCRYPTED or ZIP_OTHER from a zip's member names and small parts."""
    names = {n.lower().lstrip("/") for n in probe.zip_names or ()}
    content_types = (probe.content_types or b"").lower()
    workbook_part = "xl/workbook.xml" in names or any(
        marker in content_types for marker in (b"spreadsheetml.sheet.main", b"sheet.macroenabled.main")
    )
    is_ooxml = "[content_types].xml" in names and workbook_part
    if is_ooxml:
        if probe.zip_encrypted:
            return FileKind.ENCRYPTED
        if "xl/vbaproject.bin" in names or b"macroenabled" in content_types:
            return FileKind.XLSM
        return FileKind.XLSX
    if probe.mimetype is not None and probe.mimetype.strip().startswith(ODS_MIME):
        return FileKind.ENCRYPTED if probe.zip_encrypted else FileKind.ODS
    return FileKind.ZIP_OTHER


def _probe_zip(source: IO[bytes], probe: Probe, may_inflate: bool, opened: zipfile.ZipFile | None = None) -> None:
    """Fill in zip facts from the central directory; fall back to local headers if it is unreadable.

    The directory is parsed only when its end record promises a size within the default limits;
    ``opened`` is that directory already parsed from the same bytes (it is not parsed again).
    """
    try:
        if not _directory_within_limits(source):
            raise zipfile.BadZipFile("directory missing or over the limits")
        with opened or zipfile.ZipFile(source) as zf:
            infos = zf.infolist()
            probe.zip_names = tuple(i.filename for i in infos)
            probe.zip_encrypted = any(i.flag_bits & 0x1 for i in infos)
            if may_inflate and not probe.zip_encrypted:
                _read_small_parts(zf, infos, probe)
    except Exception:  # noqa: BLE001 - any defect in an untrusted zip means "directory unreadable"
        probe.zip_readable = False
        probe.zip_names = tuple(_scan_local_names(probe.head))


def _directory_within_limits(source: IO[bytes]) -> bool:
    """True when the zip end record exists and announces a directory within the default limits."""
    size = source.seek(0, io.SEEK_END)
    directory = read_end_record(source, size)
    if directory is None:
        return False
    limits = Limits()
    count, directory_bytes = directory
    return count <= limits.max_entries and directory_bytes <= limits.max_entries * MAX_DIRECTORY_BYTES_PER_ENTRY


def _read_small_parts(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], probe: Probe) -> None:
    """Read ``[Content_Types].xml`` and ``mimetype`` when they are small (bounded inflation)."""
    for info in infos:
        name = info.filename.lower().lstrip("/")
        if name == "[content_types].xml":
            probe.content_types = _read_small(zf, info)
        elif name == "mimetype" and probe.mimetype is None:
            probe.mimetype = _read_small(zf, info)


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """The content of a zip member if it is at most 1 MiB compressed and uncompressed, else None."""
    if info.file_size > _SMALL_PART_BYTES or info.compress_size > _SMALL_PART_BYTES:
        return None
    try:
        with zf.open(info) as member:
            return member.read(_SMALL_PART_BYTES)
    except Exception:  # noqa: BLE001 - a damaged part just leaves the fact unknown
        return None


def _stored_mimetype(head: bytes) -> bytes | None:
    """The content of an ODF ``mimetype`` member stored first in the zip, read from the head."""
    if len(head) < 30 or head[30:38] != b"mimetype":
        return None
    method, = struct.unpack_from("<H", head, 8)
    csize, _, name_len, extra_len = struct.unpack_from("<IIHH", head, 18)
    if method != 0 or name_len != 8:
        return None
    start = 30 + name_len + extra_len
    return head[start : start + min(csize, 256)]


def _scan_local_names(head: bytes, limit: int = 10000) -> list[str]:
    """Member names from the zip local file headers found in ``head`` (for truncated zips)."""
    names = []
    for match in re.finditer(re.escape(b"PK\x03\x04"), head):
        start = match.start()
        if start + 30 > len(head) or len(names) >= limit:
            break
        flags, = struct.unpack_from("<H", head, start + 6)
        name_len, = struct.unpack_from("<H", head, start + 26)
        raw = head[start + 30 : start + 30 + name_len]
        if 0 < name_len <= 1024 and len(raw) == name_len:
            names.append(raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace"))
    return names


# --- OLE (compound file) --------------------------------------------------------------------------


def _ole_kind(probe: Probe) -> FileKind:
    """XLS, ENCRYPTED or OTHER from the stream names of a compound file."""
    names = probe.ole_names
    if names is None:
        return FileKind.XLS
    if "encryptedpackage" in names:
        return FileKind.ENCRYPTED
    if "workbook" in names or "book" in names:
        return FileKind.ENCRYPTED if probe.biff_encrypted else FileKind.XLS
    return FileKind.OTHER


def _probe_ole(fh: IO[bytes], size: int, probe: Probe) -> None:
    """Fill in OLE facts: entry names, and whether the BIFF workbook stream is encrypted (FILEPASS)."""
    try:
        cfb = Cfb(fh, size)
        entries = cfb.entries()
        probe.ole_names = frozenset(e.name.lower() for e in entries)
        books = [e for e in entries if e.kind == 2 and e.name.lower() in ("workbook", "book")]
        if books:
            probe.biff_encrypted = biff_encrypted(cfb.read_stream(books[0], 8192))
    except (OleError, struct.error, OSError, ValueError, OverflowError, MemoryError):
        probe.ole_names = None



# --- text -----------------------------------------------------------------------------------------


def _decode_text(head: bytes, complete: bool) -> str | None:
    """``head`` as text (UTF-8 with or without BOM, UTF-16, GBK/GB18030), or None when it is binary."""
    for encoding, data in _text_candidates(head):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data, final=complete)
        except (UnicodeDecodeError, LookupError):
            continue
        if not _CONTROL_CHARS.search(text):
            return text
    return None


def _text_candidates(head: bytes) -> list[tuple[str, bytes]]:
    """The encodings worth trying on ``head``, each with the bytes to decode (BOM removed)."""
    if head.startswith(codecs.BOM_UTF8):
        return [("utf-8", head[3:])]
    if head.startswith(codecs.BOM_UTF16_LE):
        return [("utf-16-le", head[2:])]
    if head.startswith(codecs.BOM_UTF16_BE):
        return [("utf-16-be", head[2:])]
    sample = head[:512]
    if len(sample) >= 4:
        odd_nuls = sample[1::2].count(0) / len(sample[1::2])
        even_nuls = sample[0::2].count(0) / len(sample[0::2])
        if odd_nuls > 0.4 and even_nuls < 0.05:
            return [("utf-16-le", head)]
        if even_nuls > 0.4 and odd_nuls < 0.05:
            return [("utf-16-be", head)]
    return [("utf-8", head), ("gb18030", head)]


def _text_kind(text: str, complete: bool) -> FileKind:
    """HTML, SPREADSHEETML, CSV or TEXT for decoded text."""
    start = text.lstrip("\ufeff \t\r\n")
    low = start[:8192].lower()
    if low.startswith("mime-version"):
        return FileKind.HTML
    if low.startswith("<?xml"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in low or _EXCEL_PROGID.search(low):
            return FileKind.SPREADSHEETML
        return FileKind.HTML if "<html" in low else FileKind.TEXT
    if low.startswith(("<html", "<!doctype html", "<table")):
        return FileKind.HTML
    if low.startswith("<") and ("<html" in low or "<table" in low):
        return FileKind.HTML
    return FileKind.CSV if _looks_delimited(start, complete) else FileKind.TEXT


def _looks_delimited(text: str, complete: bool) -> bool:
    """True when most lines of ``text`` are split by commas, tabs or semicolons."""
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    lines = [line for line in lines if line.strip()][:50]
    if not lines:
        return False
    for delimiter in (",", "\t", ";"):
        hits = sum(1 for line in lines if delimiter in line)
        if hits >= 0.8 * len(lines):
            return True
    return False


# --- descriptions ---------------------------------------------------------------------------------

_OTHER_MAGICS = (
    (b"%PDF", "PDF 文档"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"{\\rtf", "RTF 文档"),
)


def describe(kind: FileKind, probe: Probe) -> str:
    """A Chinese name for what the file is, more precise than :data:`KIND_ZH` where the bytes allow."""
    if kind is FileKind.ZIP_OTHER:
        return _describe_zip(probe)
    if kind is FileKind.OTHER:
        return _describe_other(probe)
    if kind is FileKind.HTML and probe.head.lstrip()[:12].lower().startswith(b"mime-version"):
        return "单个文件网页（MHT）"
    if kind is FileKind.TEXT and probe.head.lstrip(b"\xef\xbb\xbf \t\r\n")[:5].lower() == b"<?xml":
        return "XML 文本"
    return KIND_ZH[kind]


def _describe_zip(probe: Probe) -> str:
    """What a zip that is not a workbook holds: docx, pptx, xlsb, other OpenDocument, or a plain zip."""
    names = {n.lower().lstrip("/") for n in probe.zip_names or ()}
    if "word/document.xml" in names:
        return "Word 文档（.docx）"
    if "ppt/presentation.xml" in names:
        return "PowerPoint 演示文稿（.pptx）"
    if "xl/workbook.bin" in names:
        return "Excel 二进制工作簿（.xlsb）"
    if probe.mimetype and probe.mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "OpenDocument 文档（不是表格）"
    return "普通 zip 压缩包"


def _describe_other(probe: Probe) -> str:
    """What an unrecognised file looks like: Word/PowerPoint 97-2003, PDF, image, archive, or unknown."""
    names = probe.ole_names or frozenset()
    if "worddocument" in names:
        return "Word 97-2003 文档（.doc）"
    if "powerpoint document" in names:
        return "PowerPoint 97-2003 演示文稿（.ppt）"
    if probe.head.startswith(OLE_MAGIC):
        return "其他 Office 复合文档"
    for magic, description in _OTHER_MAGICS:
        if probe.head.startswith(magic):
            return description
    return KIND_ZH[FileKind.OTHER]

