"""Intake: what a returned file really is, whether it is safe to read, and a sandbox to read it in (DESIGN §6.1).

Departments return forms by mail or USB stick, saved by Excel, WPS or LibreOffice — or not a workbook at
all: web pages and XML 2003 files named ``.xls``, CSV named ``.xlsx``, encrypted workbooks, Word files,
truncated downloads, hostile zips. This module decides from the bytes (never the extension):

* :func:`sniff` / :func:`detect_kind` — the real :class:`FileKind`;
* :func:`check_zip` — entry count, uncompressed sizes, compression ratios and member paths, read from the
  zip central directory only, before anything is decompressed;
* :func:`inspect_file` — all of the above plus size limit and sha256, as an :class:`Intake` with findings;
  it never raises, whatever the file holds;
* :func:`run_isolated` — runs a parser in a child process under a memory limit and a wall-clock timeout.

Every refusal is a :class:`~jixiao_xl.findings.Finding` whose Chinese message names the detected type and
says how to fix it.
"""

from __future__ import annotations

import codecs
import collections
import enum
import faulthandler
import hashlib
import io
import multiprocessing
import os
import queue
import re
import signal
import struct
import sys
import threading
import zipfile
from concurrent.futures import Executor, Future
from multiprocessing.reduction import ForkingPickler
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Sequence

from . import catalogue
from .findings import Finding, has_errors
from .safety import display_name
from .parallel import WorkersStopped, bind_to_parent, stopping as workers_stopped

MiB = 1024 * 1024
GiB = 1024 * MiB

# How much of the start of a file the sniffer looks at.
HEAD_BYTES = 64 * 1024


# --------------------------------------------------------------------------------------------------
# Kinds and limits
# --------------------------------------------------------------------------------------------------


class FileKind(str, enum.Enum):
    """What a file really is, decided from its bytes."""

    XLSX = "xlsx"
    XLSM = "xlsm"
    XLS = "xls"
    ODS = "ods"
    ENCRYPTED = "encrypted"
    HTML = "html"
    SPREADSHEETML = "spreadsheetml"
    CSV = "csv"
    TEXT = "text"
    EMPTY = "empty"
    ZIP_OTHER = "zip_other"
    OTHER = "other"


# Kinds the reader can parse (given no error finding).
WORKBOOK_KINDS = frozenset({FileKind.XLSX, FileKind.XLSM, FileKind.XLS, FileKind.ODS})

KIND_ZH = {
    FileKind.XLSX: "Excel 工作簿（.xlsx）",
    FileKind.XLSM: "启用宏的 Excel 工作簿（.xlsm）",
    FileKind.XLS: "Excel 97-2003 工作簿（.xls）",
    FileKind.ODS: "OpenDocument 表格（.ods）",
    FileKind.ENCRYPTED: "加密的 Office 文件",
    FileKind.HTML: "网页（HTML）",
    FileKind.SPREADSHEETML: "XML 2003 表格（SpreadsheetML）",
    FileKind.CSV: "CSV 文本",
    FileKind.TEXT: "纯文本",
    FileKind.EMPTY: "空文件",
    FileKind.ZIP_OTHER: "不是表格的压缩包",
    FileKind.OTHER: "无法识别的文件",
}


@dataclass(frozen=True)
class Limits:
    """Resource limits for untrusted files.

    Defaults:

    * ``max_file_bytes`` = 50 MiB — larger files are refused without being hashed or parsed;
    * ``max_entries`` = 2000 zip entries;
    * ``max_entry_bytes`` = 200 MiB uncompressed per zip entry;
    * ``max_total_bytes`` = 500 MiB uncompressed over all entries;
    * ``max_ratio`` = 200 — uncompressed/compressed size per entry, checked for entries of at least
      ``ratio_floor_bytes`` = 1 MiB uncompressed (small parts of real workbooks compress very well and
      are harmless whatever their ratio);
    * ``timeout_seconds`` = 60 wall-clock seconds for an isolated parse;
    * ``memory_bytes`` = 1 GiB of address space an isolated parse may add to what the child process
      inherits at start (``RLIMIT_AS`` = inherited + ``memory_bytes``; see :func:`run_isolated`).
    """

    max_file_bytes: int = 50 * MiB
    max_entries: int = 2000
    max_entry_bytes: int = 200 * MiB
    max_total_bytes: int = 500 * MiB
    max_ratio: float = 200
    timeout_seconds: float = 60
    memory_bytes: int = 1 * GiB
    ratio_floor_bytes: int = 1 * MiB


# --------------------------------------------------------------------------------------------------
# Rule codes (DESIGN §7)
# --------------------------------------------------------------------------------------------------

_SOURCE = catalogue.SOURCE_TOOL
_RESAVE = "请在 Excel/WPS 中打开后另存为 .xlsx 再提交。"


def _define(code: str, severity: str, title: str, fix: str) -> catalogue.Rule:
    """Register one intake rule in the catalogue."""
    return catalogue.define(code, severity, title, fix, source=_SOURCE)


RULES = {
    rule.code: rule
    for rule in (
        _define("I-EMPTY", "error", "文件为空", "重新保存表格，确认文件完整后再提交。"),
        _define("I-TOOBIG", "error", "文件过大", "删除多余的工作表、图片和空白行后另存为 .xlsx 再提交。"),
        _define("I-ZIPBOMB", "error", "压缩包解压后过大，疑似恶意文件", _RESAVE),
        _define("I-ZIP-CORRUPT", "error", "文件不完整或已损坏（压缩包目录无法读取）", "重新复制原文件，或" + _RESAVE),
        _define("I-ZIP-PATH", "error", "压缩包内含有不安全的路径，疑似恶意文件", _RESAVE),
        _define("I-ENCRYPTED", "error", "文件已加密，请取消密码后重新提交", "在 Excel/WPS 中取消文件打开密码后另存为 .xlsx 再提交。"),
        _define("I-MACRO", "warning", "文件含有宏，已忽略宏，仅读取数据", "另存为不含宏的 .xlsx 工作簿后再提交。"),
        _define("I-HTML", "error", "文件实际是网页（HTML）格式，不是 Excel 表格", "请在 Excel 中打开后另存为 .xlsx 再提交。"),
        _define("I-SPREADSHEETML", "error", "文件实际是 XML 2003 表格格式", "请在 Excel 中打开后另存为 .xlsx 再提交。"),
        _define("I-CSV", "error", "文件是 CSV/文本，不是下发的表格", "在下发的 .xlsx 表格中填报后提交，不要另存为 CSV 或文本。"),
        _define("I-NOT-WORKBOOK", "error", "文件不是 Excel 表格（压缩包、Word 文档或其他文件）", "提交下发的 .xlsx 表格。"),
        _define("I-UNREADABLE", "error", "无法打开文件", "检查文件是否存在、是否被占用、是否有读取权限后重新提交。"),
        _define("I-TIMEOUT", "error", "读取文件超时", "删除多余的工作表和空白行后" + _RESAVE),
        _define("I-MEMORY", "error", "读取文件所需内存过大", "删除多余的工作表、图片和空白行后" + _RESAVE),
        _define("I-CORRUPT", "error", "文件已损坏或格式异常，无法读取", _RESAVE),
    )
}


def _finding(code: str, message: str, **fields: str) -> Finding:
    """A finding for intake rule ``code`` with the rule's severity."""
    return Finding(rule=code, severity=RULES[code].severity, message=message, **fields)


def _mb(n: float) -> str:
    """A byte count for a Chinese message, in MB (or GB from 1 GiB) with one decimal."""
    return f"{n / GiB:.1f} GB" if n >= GiB else f"{n / MiB:.1f} MB"


def _clip(name: str, limit: int = 80) -> str:
    """A zip member name shortened for a message."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------------

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"

# Bounded reads of small zip parts used to tell workbook kinds apart (never more than this is inflated).
_SMALL_PART_BYTES = 1 * MiB
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_EXCEL_PROGID = re.compile(r"progid\s*=\s*[\"']excel\.sheet")


@dataclass
class _Probe:
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
    return _classify(_probe_bytes(bytes(head), zip_names))


def detect_kind(path: str | os.PathLike[str]) -> FileKind:
    """The kind of the file at ``path``, from its bytes (raises ``OSError`` only if it cannot be read)."""
    return _classify(_probe_path(path, may_inflate=True))


def _probe_bytes(data: bytes, zip_names: Sequence[str] | None) -> _Probe:
    """Facts about a file given as bytes (the whole file or its start)."""
    probe = _Probe(head=data, complete=False)
    if data.startswith(ZIP_MAGICS):
        probe.mimetype = _stored_mimetype(data)
        if zip_names is not None:
            probe.zip_names = tuple(zip_names)
        else:
            _probe_zip(io.BytesIO(data), probe, may_inflate=True)
    elif data.startswith(OLE_MAGIC):
        _probe_ole(io.BytesIO(data), len(data), probe)
    return probe


def _probe_path(path: str | os.PathLike[str], may_inflate: bool) -> _Probe:
    """Facts about the file at ``path``; zip parts are inflated (bounded) only when ``may_inflate``."""
    with open(path, "rb") as fh:
        return _probe_source(fh, os.fstat(fh.fileno()).st_size, may_inflate)


def _probe_source(fh: IO[bytes], size: int, may_inflate: bool, opened: zipfile.ZipFile | None = None) -> _Probe:
    """Facts about a whole file open as ``fh`` (``size`` bytes); ``opened``: its zip directory, when the
    caller has already read it from the same bytes."""
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    probe = _Probe(head=head, complete=len(head) >= size)
    if head.startswith(ZIP_MAGICS):
        probe.mimetype = _stored_mimetype(head)
        _probe_zip(fh, probe, may_inflate, opened)
    elif head.startswith(OLE_MAGIC):
        _probe_ole(fh, size, probe)
    return probe


def _classify(probe: _Probe) -> FileKind:
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


def _zip_kind(probe: _Probe) -> FileKind:
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


def _probe_zip(source: IO[bytes], probe: _Probe, may_inflate: bool, opened: zipfile.ZipFile | None = None) -> None:
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
    directory = _read_end_record(source, size)
    if directory is None:
        return False
    limits = Limits()
    count, directory_bytes = directory
    return count <= limits.max_entries and directory_bytes <= limits.max_entries * _MAX_DIRECTORY_BYTES_PER_ENTRY


def _read_small_parts(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], probe: _Probe) -> None:
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

_MAXREGSECT = 0xFFFFFFFA
_NOSTREAM = 0xFFFFFFFF
_BIFF_FILEPASS = 0x002F
_BIFF_EOF = 0x000A


class _OleError(Exception):
    """The compound file directory cannot be read."""


@dataclass(frozen=True)
class _OleEntry:
    """One directory entry of a compound file."""

    name: str
    kind: int
    start: int
    size: int


def _ole_kind(probe: _Probe) -> FileKind:
    """XLS, ENCRYPTED or OTHER from the stream names of a compound file."""
    names = probe.ole_names
    if names is None:
        return FileKind.XLS
    if "encryptedpackage" in names:
        return FileKind.ENCRYPTED
    if "workbook" in names or "book" in names:
        return FileKind.ENCRYPTED if probe.biff_encrypted else FileKind.XLS
    return FileKind.OTHER


def _probe_ole(fh: IO[bytes], size: int, probe: _Probe) -> None:
    """Fill in OLE facts: entry names, and whether the BIFF workbook stream is encrypted (FILEPASS)."""
    try:
        cfb = _Cfb(fh, size)
        entries = cfb.entries()
        probe.ole_names = frozenset(e.name.lower() for e in entries)
        books = [e for e in entries if e.kind == 2 and e.name.lower() in ("workbook", "book")]
        if books:
            probe.biff_encrypted = _biff_encrypted(cfb.read_stream(books[0], 8192))
    except (_OleError, struct.error, OSError, ValueError, OverflowError, MemoryError):
        probe.ole_names = None


def _biff_encrypted(data: bytes) -> bool:
    """True when the BIFF globals substream holds a FILEPASS record (a password to open)."""
    pos = 0
    for _ in range(64):
        if pos + 4 > len(data):
            break
        rtype, rlen = struct.unpack_from("<HH", data, pos)
        if rtype == _BIFF_FILEPASS:
            return True
        if rtype == _BIFF_EOF:
            break
        pos += 4 + rlen
    return False


class _Cfb:
    """Just enough of [MS-CFB] to list directory entries and read the start of a stream.

    Every chain is bounded by the file size and checked for loops, so a hostile file raises
    :class:`_OleError` instead of looping or allocating without bound.
    """

    def __init__(self, fh: IO[bytes], size: int) -> None:
        """Read the header and the FAT of the compound file ``fh`` of ``size`` bytes."""
        self._fh = fh
        header = self._read(0, 512)
        if header[:8] != OLE_MAGIC:
            raise _OleError("not a compound file")
        shift, mini_shift = struct.unpack_from("<HH", header, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise _OleError("bad sector size")
        self._ss = 1 << shift
        self._nsect = max(0, (size + self._ss - 1) // self._ss - 1)
        n_fat, self._first_dir = struct.unpack_from("<II", header, 0x2C)
        self._cutoff, self._first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from("<IIIII", header, 0x38)
        self._v3 = shift == 9
        self._fat = self._load_fat(header, n_fat, first_difat, n_difat)
        self._minifat: list[int] | None = None
        self._root: _OleEntry | None = None

    def _read(self, offset: int, length: int) -> bytes:
        """Exactly ``length`` bytes at ``offset``, or :class:`_OleError` if the file is shorter."""
        self._fh.seek(offset)
        data = self._fh.read(length)
        if len(data) != length:
            raise _OleError("truncated compound file")
        return data

    def _sector(self, sid: int) -> bytes:
        """The content of regular sector ``sid``."""
        if sid >= self._nsect:
            raise _OleError("sector out of range")
        return self._read((sid + 1) * self._ss, self._ss)

    def _words(self, data: bytes) -> tuple[int, ...]:
        """A sector's content as little-endian 32-bit words."""
        return struct.unpack(f"<{len(data) // 4}I", data)

    def _load_fat(self, header: bytes, n_fat: int, first_difat: int, n_difat: int) -> list[int]:
        """The file allocation table, located through the header DIFAT and the DIFAT chain."""
        if n_fat > self._nsect + 1:
            raise _OleError("too many FAT sectors")
        ids = list(struct.unpack_from("<109I", header, 0x4C))[:n_fat]
        sid, hops = first_difat, 0
        while len(ids) < n_fat and sid <= _MAXREGSECT:
            if hops > min(n_difat, self._nsect):
                raise _OleError("DIFAT chain too long")
            words = self._words(self._sector(sid))
            ids.extend(words[:-1])
            sid, hops = words[-1], hops + 1
        fat: list[int] = []
        for fat_sid in ids[:n_fat]:
            fat.extend(self._words(self._sector(fat_sid)))
        return fat

    def _chain(self, start: int, table: list[int], max_len: int) -> list[int]:
        """Sector ids of a chain through ``table``, at most ``max_len`` of them, loop-checked."""
        chain: list[int] = []
        seen: set[int] = set()
        sid = start
        while sid <= _MAXREGSECT and len(chain) < max_len:
            if sid in seen or sid >= len(table):
                raise _OleError("broken chain")
            seen.add(sid)
            chain.append(sid)
            sid = table[sid]
        return chain

    def _read_chain(self, start: int, limit: int) -> bytes:
        """The first ``limit`` bytes of a regular chain."""
        count = min(self._nsect, -(-limit // self._ss))
        return b"".join(self._sector(s) for s in self._chain(start, self._fat, count))[:limit]

    def entries(self) -> list[_OleEntry]:
        """All allocated directory entries (storages, streams, root), in directory order."""
        found = []
        for sid in self._chain(self._first_dir, self._fat, self._nsect):
            data = self._sector(sid)
            for pos in range(0, len(data), 128):
                entry = self._parse_entry(data[pos : pos + 128])
                if entry is not None:
                    found.append(entry)
        self._root = next((e for e in found if e.kind == 5), None)
        return found

    def _parse_entry(self, raw: bytes) -> _OleEntry | None:
        """One 128-byte directory entry, or None for an unused slot."""
        name_len, kind = struct.unpack_from("<HB", raw, 64)
        if kind not in (1, 2, 5):
            return None
        name = raw[: min(name_len, 64)].decode("utf-16-le", errors="replace").rstrip("\x00")
        start, size = struct.unpack_from("<IQ", raw, 116)
        if self._v3:
            size &= 0xFFFFFFFF
        return _OleEntry(name, kind, start, size)

    def read_stream(self, entry: _OleEntry, limit: int) -> bytes:
        """The first ``limit`` bytes of a stream, from regular sectors or the mini stream."""
        limit = min(limit, entry.size)
        if entry.size >= self._cutoff:
            return self._read_chain(entry.start, limit)
        return self._read_mini(entry.start, limit)

    def _read_mini(self, start: int, limit: int) -> bytes:
        """The first ``limit`` bytes of a stream kept in the mini stream (64-byte mini sectors)."""
        if self._root is None:
            raise _OleError("no root entry")
        if self._minifat is None:
            raw = b"".join(self._sector(s) for s in self._chain(self._first_minifat, self._fat, self._nsect))
            self._minifat = list(self._words(raw))
        mini_ids = self._chain(start, self._minifat, -(-limit // 64))
        container = self._read_chain(self._root.start, min(self._root.size, (max(mini_ids, default=0) + 1) * 64))
        data = b"".join(container[m * 64 : m * 64 + 64] for m in mini_ids)
        return data[:limit]


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


def _describe(kind: FileKind, probe: _Probe) -> str:
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


def _describe_zip(probe: _Probe) -> str:
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


def _describe_other(probe: _Probe) -> str:
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


# --------------------------------------------------------------------------------------------------
# Hashing and zip checks
# --------------------------------------------------------------------------------------------------


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 * MiB) -> str:
    """The hex sha256 of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_bytes(path: str | os.PathLike[str]) -> bytes:
    """The whole content of the file at ``path``."""
    with open(path, "rb") as fh:
        return fh.read()


# A central directory larger than this per allowed entry is refused before zipfile parses it.
_MAX_DIRECTORY_BYTES_PER_ENTRY = 1024


def check_zip(path: str | os.PathLike[str], limits: Limits = Limits()) -> list[Finding]:
    """Findings about a zip, from its central directory only: nothing is decompressed.

    Checks, in order: the end-of-central-directory record (missing → truncated → I-ZIP-CORRUPT), the
    entry count and directory size (before the directory is parsed), then per entry the uncompressed
    size and compression ratio, the total uncompressed size (I-ZIPBOMB), and member paths that are
    absolute or contain ``..`` (I-ZIP-PATH). Sizes are those the directory declares; the parse that
    follows runs under :func:`run_isolated` in case they lie.
    """
    file = str(path)
    try:
        with open(path, "rb") as fh:
            directory = _read_end_record(fh, os.fstat(fh.fileno()).st_size)
            # A directory that fails to parse is reported as a corrupt zip (inside), not as I-UNREADABLE.
            findings, opened = _check_zip_directory(file, fh, directory, limits)
    except OSError as exc:
        return [_unreadable(file, exc)]
    if opened is not None:
        opened.close()
    return findings


def _check_zip_source(file: str, source: IO[bytes], limits: Limits) -> tuple[list[Finding], zipfile.ZipFile | None]:
    """:func:`check_zip` of a whole file open as ``source``, and its zip directory when it was parsed."""
    return _check_zip_directory(file, source, _read_end_record(source, source.seek(0, io.SEEK_END)), limits)


def _check_zip_directory(file: str, source: IO[bytes], directory: tuple[int, int] | None,
                         limits: Limits) -> tuple[list[Finding], zipfile.ZipFile | None]:
    """The checks of :func:`check_zip` given the end record, and the zip directory (still open) once parsed."""
    if directory is None:
        return [_zip_corrupt(file, "找不到压缩包目录")], None
    count, directory_bytes = directory
    if count > limits.max_entries:
        return [_bomb_entries(file, count, limits)], None
    if directory_bytes > max(limits.max_entries, 1) * _MAX_DIRECTORY_BYTES_PER_ENTRY:
        return [_bomb_directory(file, directory_bytes)], None
    try:
        zf = zipfile.ZipFile(source)
        infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - any defect in the directory means "unreadable"
        return [_zip_corrupt(file, type(exc).__name__)], None
    if len(infos) > limits.max_entries:
        zf.close()
        return [_bomb_entries(file, len(infos), limits)], None
    return [f.with_source(file, "") for f in _size_findings(infos, limits) + _path_findings(infos)], zf


def _read_end_record(fh: IO[bytes], size: int) -> tuple[int, int] | None:
    """(entry count, central directory bytes) from the end-of-central-directory record, or None."""
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        return None
    count, directory_bytes, offset = struct.unpack_from("<HII", tail, pos + 10)
    if count == 0xFFFF or directory_bytes == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        zip64 = _read_zip64_end_record(fh, size - tail_len + pos)
        if zip64 is not None:
            return zip64
    return count, directory_bytes


def _read_zip64_end_record(fh: IO[bytes], end_record_pos: int) -> tuple[int, int] | None:
    """(entry count, central directory bytes) from the zip64 end record, or None if absent."""
    if end_record_pos < 20:
        return None
    fh.seek(end_record_pos - 20)
    locator = fh.read(20)
    if len(locator) != 20 or locator[:4] != b"PK\x06\x07":
        return None
    record_pos, = struct.unpack_from("<Q", locator, 8)
    fh.seek(record_pos)
    record = fh.read(56)
    if len(record) != 56 or record[:4] != b"PK\x06\x06":
        return None
    count, directory_bytes = struct.unpack_from("<QQ", record, 32)
    return count, directory_bytes


def _size_findings(infos: list[zipfile.ZipInfo], limits: Limits) -> list[Finding]:
    """I-ZIPBOMB findings for entry sizes, compression ratios and the total size."""
    found = []
    big = [i for i in infos if i.file_size > limits.max_entry_bytes]
    if big:
        worst = max(big, key=lambda i: i.file_size)
        found.append(_finding(
            "I-ZIPBOMB",
            f"压缩包条目「{_clip(worst.filename)}」解压后为 {_mb(worst.file_size)}，超过单个条目上限 "
            f"{_mb(limits.max_entry_bytes)}（共 {len(big)} 个条目超限），疑似恶意文件（压缩炸弹），已拒绝读取。"
            f"正常的绩效目标表只有几 MB；{_RESAVE}",
            value=worst.filename, expected=f"≤ {_mb(limits.max_entry_bytes)}"))
    steep = [i for i in infos if i.file_size >= limits.ratio_floor_bytes and _ratio(i) > limits.max_ratio]
    if steep:
        worst = max(steep, key=_ratio)
        found.append(_finding(
            "I-ZIPBOMB",
            f"压缩包条目「{_clip(worst.filename)}」的压缩比为 {_ratio(worst):.0f}:1，超过上限 {limits.max_ratio:g}:1，"
            f"疑似恶意文件（压缩炸弹），已拒绝读取。{_RESAVE}",
            value=worst.filename, expected=f"≤ {limits.max_ratio:g}:1"))
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        found.append(_finding(
            "I-ZIPBOMB",
            f"压缩包解压后共 {_mb(total)}，超过上限 {_mb(limits.max_total_bytes)}，疑似恶意文件（压缩炸弹），"
            f"已拒绝读取。{_RESAVE}",
            value=str(total), expected=f"≤ {_mb(limits.max_total_bytes)}"))
    return found


def _ratio(info: zipfile.ZipInfo) -> float:
    """Uncompressed over compressed size of a zip entry."""
    return info.file_size / max(info.compress_size, 1)


def _path_findings(infos: list[zipfile.ZipInfo]) -> list[Finding]:
    """One I-ZIP-PATH finding when any member path is absolute or climbs out with ``..``."""
    bad = [i.filename for i in infos if _unsafe_member(i.filename)]
    if not bad:
        return []
    return [_finding(
        "I-ZIP-PATH",
        f"压缩包内条目「{_clip(bad[0])}」使用了绝对路径或“..”（共 {len(bad)} 个），正常的 Excel 文件不会这样。"
        f"本工具读取时不会把条目解压到磁盘，但为安全起见拒绝该文件；{_RESAVE}",
        value=bad[0])]


_DRIVE = re.compile(r"[A-Za-z]:")


def _unsafe_member(name: str) -> bool:
    """True for a zip member name that is absolute (``/x``, ``C:x``) or contains a ``..`` segment."""
    normal = name.replace("\\", "/")
    return normal.startswith("/") or bool(_DRIVE.match(normal)) or ".." in normal.split("/")


def _bomb_entries(file: str, count: int, limits: Limits) -> Finding:
    """I-ZIPBOMB for too many entries."""
    return _finding(
        "I-ZIPBOMB",
        f"压缩包内有 {count} 个条目，超过上限 {limits.max_entries} 个，疑似恶意文件，已拒绝读取。"
        f"正常的绩效目标表只有几十个条目；{_RESAVE}",
        file=file, value=str(count), expected=f"≤ {limits.max_entries}")


def _bomb_directory(file: str, directory_bytes: int) -> Finding:
    """I-ZIPBOMB for a central directory too large for the allowed number of entries."""
    return _finding(
        "I-ZIPBOMB",
        f"压缩包目录大小为 {_mb(directory_bytes)}，远超正常表格，疑似恶意文件，已拒绝读取。{_RESAVE}",
        file=file, value=str(directory_bytes))


def _zip_corrupt(file: str, reason: str) -> Finding:
    """I-ZIP-CORRUPT: the zip directory cannot be read (typically a truncated copy or download)."""
    return _finding(
        "I-ZIP-CORRUPT",
        f"文件不完整或已损坏（{reason}，常见于下载或拷贝中断），无法读取。"
        f"请重新从原文件复制一份，或在 Excel/WPS 中打开后另存为 .xlsx 再提交。",
        file=file, value=reason)


def _unreadable(file: str, exc: BaseException) -> Finding:
    """I-UNREADABLE: the path cannot be opened."""
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return _finding(
        "I-UNREADABLE",
        f"无法打开文件（{reason}）。请检查文件是否存在、是否被其他程序占用、是否有读取权限，然后重新提交。",
        file=file, value=type(exc).__name__)


# --------------------------------------------------------------------------------------------------
# Inspecting a file
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    """What intake learnt about one file; ``readable`` means the reader may go on.

    ``path`` is what opens the file; ``file`` and ``name`` are its path and name as shown and stored (the
    same text unless the name is not UTF-8, see :func:`jixiao_xl.safety.display_name`).
    """

    path: str
    file: str
    name: str
    size: int
    sha256: str
    kind: FileKind
    findings: tuple[Finding, ...]
    readable: bool


def inspect_file(path: str | os.PathLike[str], limits: Limits = Limits(), shown: str | None = None) -> Intake:
    """Sniff, size-check, hash and zip-check one file; never raises, whatever the file holds.

    A file over ``limits.max_file_bytes`` is refused (I-TOOBIG) and not hashed (``sha256`` is empty).
    Every finding carries the sha256 and ``file``: ``shown``, else the path's
    :func:`~jixiao_xl.safety.display_name`.
    """
    file = display_name(path) if shown is None else shown
    name = os.path.basename(file)
    try:
        size = _regular_file_size(path)
    except OSError as exc:
        return _intake(path, file, name, 0, "", FileKind.OTHER, [_unreadable(file, exc)])
    try:
        return _inspect(path, file, name, size, limits)
    except OSError as exc:
        return _intake(path, file, name, size, "", FileKind.OTHER, [_unreadable(file, exc)])
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"; say why instead
        return _intake(path, file, name, size, "", FileKind.OTHER, [_corrupt(type(exc).__name__)])


def _regular_file_size(path: str | os.PathLike[str]) -> int:
    """The size of a regular file; ``OSError`` for a missing path or a directory."""
    st = os.stat(path)
    if not os.path.isfile(path):
        raise IsADirectoryError(21, "不是普通文件", str(path))
    return st.st_size


def _inspect(path: str | os.PathLike[str], file: str, name: str, size: int, limits: Limits) -> Intake:
    """The body of :func:`inspect_file` (may raise; the caller turns exceptions into findings)."""
    if size > limits.max_file_bytes:
        with open(path, "rb") as fh:
            kind = sniff(fh.read(HEAD_BYTES))
        return _intake(path, file, name, size, "", kind, [_too_big(size, limits)])
    # One read of the whole file (at most max_file_bytes) serves the hash, the zip checks and the probe.
    data = _file_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    source = io.BytesIO(data)
    findings: list[Finding] = []
    opened = None
    if data[:4] in ZIP_MAGICS:
        zip_findings, opened = _check_zip_source(file, source, limits)
        findings.extend(zip_findings)
    try:
        probe = _probe_source(source, len(data), not has_errors(findings), opened)
    finally:
        if opened is not None:
            opened.close()
    kind = _classify(probe)
    findings.extend(_kind_findings(kind, probe, name))
    return _intake(path, file, name, size, sha, kind, findings)


def _intake(path: str | os.PathLike[str], file: str, name: str, size: int, sha: str, kind: FileKind,
            findings: list[Finding]) -> Intake:
    """An :class:`Intake` with every finding attributed to the file (by its shown name)."""
    attributed = tuple(f.with_source(file, sha) for f in findings)
    readable = kind in WORKBOOK_KINDS and not has_errors(attributed)
    return Intake(path=os.fspath(path), file=file, name=name, size=size, sha256=sha, kind=kind, findings=attributed,
                  readable=readable)


def _extension(name: str) -> str:
    """The extension of ``name`` for a message, or a note that it has none."""
    suffix = Path(name).suffix
    return suffix if suffix else "（无扩展名）"


def _kind_findings(kind: FileKind, probe: _Probe, name: str) -> list[Finding]:
    """The findings that follow from the detected kind alone."""
    what = _describe(kind, probe)
    ext = _extension(name)
    resave = "请在 Excel 中打开后另存为 .xlsx 再提交。"
    if kind is FileKind.EMPTY:
        return [_finding("I-EMPTY", "文件为空（0 字节），可能是复制或下载未完成。请重新保存表格，确认能正常打开后再提交。",
                         value=kind.value)]
    if kind is FileKind.ENCRYPTED:
        return [_finding("I-ENCRYPTED",
                         "文件已加密（设置了打开密码），无法读取。请在 Excel/WPS 中打开，取消文件打开密码后另存为 .xlsx 重新提交"
                         "（工作表保护可以保留）。", value=kind.value)]
    if kind is FileKind.XLSM or (kind is FileKind.XLS and "_vba_project_cur" in (probe.ole_names or ())):
        return [_finding("I-MACRO", f"文件是{what}，{_macro_note(probe)}；已忽略宏，仅读取数据。"
                                    "请另存为不含宏的 .xlsx 工作簿后再提交。", value=kind.value)]
    if kind is FileKind.XLS and probe.ole_names is None:
        return [_corrupt("ole-directory", "OLE 复合文档目录无法读取")]
    if kind is FileKind.HTML:
        return [_finding("I-HTML", f"文件实际是{what}格式，只是扩展名为 {ext}；{resave}", value=kind.value)]
    if kind is FileKind.SPREADSHEETML:
        return [_finding("I-SPREADSHEETML", f"文件实际是{what}格式，扩展名为 {ext}，本工具不读取该格式；{resave}",
                         value=kind.value)]
    if kind in (FileKind.CSV, FileKind.TEXT):
        return [_finding("I-CSV", f"文件是{what}（扩展名为 {ext}），不是下发的表格，无法核对。"
                                  f"请在下发的 .xlsx 表格中填报后提交，不要另存为 CSV 或文本。", value=kind.value)]
    if kind in (FileKind.ZIP_OTHER, FileKind.OTHER):
        return [_finding("I-NOT-WORKBOOK", f"文件实际是{what}（扩展名为 {ext}），不是 Excel 表格。"
                                           f"请提交下发的 .xlsx 表格（在 Excel/WPS 中填报并保存为 .xlsx）。",
                         value=kind.value)]
    return []


def _macro_note(probe: _Probe) -> str:
    """Whether the macro project itself is present, or only the macro-enabled format."""
    names = {n.lower() for n in probe.zip_names or ()} | set(probe.ole_names or ())
    return "含有宏" if {"xl/vbaproject.bin", "_vba_project_cur"} & names else "是启用宏的格式，可能含有宏"


def _too_big(size: int, limits: Limits) -> Finding:
    """I-TOOBIG for a file over the size limit."""
    return _finding(
        "I-TOOBIG",
        f"文件大小为 {_mb(size)}，超过上限 {_mb(limits.max_file_bytes)}，未读取。正常的绩效目标表只有几百 KB；"
        f"请删除多余的工作表、图片或空白行后另存为 .xlsx 再提交。",
        value=str(size), expected=f"≤ {_mb(limits.max_file_bytes)}")


def _corrupt(value: str, detail: str = "") -> Finding:
    """I-CORRUPT: the file is damaged or malformed; ``value`` is what failed (e.g. an exception type)."""
    return _finding(
        "I-CORRUPT",
        f"文件已损坏或格式异常，无法读取（{detail or value}）。请在 Excel/WPS 中打开后另存为 .xlsx 再提交。",
        value=value)


# --------------------------------------------------------------------------------------------------
# Isolation
# --------------------------------------------------------------------------------------------------

# Seconds to wait for a child to exit after it has answered, or after it was killed.
_REAP_SECONDS = 5.0
# Signals that mean "killed for memory": SIGKILL from the OOM killer, SIGABRT from a native allocator
# (Rust, as in python-calamine, aborts when an allocation fails under RLIMIT_AS).
_MEMORY_SIGNALS = {getattr(signal, "SIGKILL", 9), getattr(signal, "SIGABRT", 6)}
# Held from creating a child's pipe until the parent has closed the child's end, so that a child forked
# concurrently by another thread never inherits that end (which would hide the first child's death).
_START_LOCK = threading.Lock()


@dataclass(frozen=True)
class Isolated:
    """The outcome of :func:`run_isolated`: ``value`` when ``ok``, else a ``finding`` saying why not.

    The finding has no file attached; attribute it with :meth:`Finding.with_source`.
    """

    ok: bool
    value: Any
    finding: Finding | None


def run_isolated(func: Callable[..., Any], *args: Any, limits: Limits = Limits(), **kwargs: Any) -> Isolated:
    """Call ``func(*args, **kwargs)`` in a child process under a memory limit and a wall-clock timeout.

    ``func`` must be a top-level (picklable) function and its result picklable. The child uses the
    'fork' start method on Linux and 'spawn' elsewhere, and sets ``RLIMIT_AS`` where the platform has
    it, to the address space it inherited plus ``limits.memory_bytes`` (an absolute limit would starve
    every child of a parent that already maps a lot, e.g. after importing pandas). Outcomes: the value;
    I-TIMEOUT (the child is killed after ``limits.timeout_seconds``); I-MEMORY (``MemoryError``, or the
    child killed by SIGKILL/SIGABRT, as the OOM killer and native allocators do); I-CORRUPT for any other
    exception (its type name in the finding's ``value``) or a child that died without answering.
    The parent never waits longer than the timeout plus a few seconds, and reaps the child every time.
    """
    if workers_stopped():
        raise WorkersStopped
    context = _mp_context()
    with _START_LOCK:
        receiver, sender = context.Pipe(duplex=False)
        child_args = (sender, func, args, kwargs, limits.memory_bytes, os.getpid())
        process = context.Process(target=_child_main, args=child_args, daemon=True)
        try:
            process.start()
        finally:
            sender.close()
    try:
        return _await_outcome(receiver, process, limits)
    finally:
        receiver.close()
        _reap(process)


def _mp_context() -> multiprocessing.context.BaseContext:
    """The multiprocessing context: 'fork' on Linux (fast, no re-import), 'spawn' elsewhere."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def _await_outcome(receiver: Any, process: Any, limits: Limits) -> Isolated:
    """Wait for the child's answer (or its death) at most ``limits.timeout_seconds``."""
    if not receiver.poll(limits.timeout_seconds):
        process.kill()
        return Isolated(False, None, _timeout(limits))
    try:
        message = receiver.recv()
    except (EOFError, OSError):
        process.join(_REAP_SECONDS)
        return Isolated(False, None, _died(process.exitcode, limits))
    except Exception as exc:  # noqa: BLE001 - an answer the parent cannot unpickle
        return Isolated(False, None, _corrupt(type(exc).__name__))
    return _outcome_from_message(message, limits)


def _outcome_from_message(message: tuple[Any, ...], limits: Limits) -> Isolated:
    """Turn the child's ``(status, ...)`` message into an :class:`Isolated`."""
    status = message[0]
    if status == "ok":
        return Isolated(True, message[1], None)
    if status == "memory":
        return Isolated(False, None, _memory(limits))
    return Isolated(False, None, _corrupt(message[1]))


def _reap(process: Any) -> None:
    """Make sure the child is gone and its resources released (no zombie, no open descriptors)."""
    if getattr(process, "_popen", None) is None:
        return  # never started
    process.join(_REAP_SECONDS)
    if process.is_alive():
        process.kill()
        process.join(_REAP_SECONDS)
    if not process.is_alive():
        process.close()


def _child_main(
    sender: Any, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], memory_bytes: int,
    parent_pid: int,
) -> None:
    """Child process body: limit memory, run ``func``, send one ``(status, ...)`` message."""
    bind_to_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it reaps us
    _silence_stderr()
    try:
        _limit_memory(memory_bytes)
        message = _answer(func, args, kwargs)
    except MemoryError:
        message = ("memory",)
    try:
        _send(sender, message)
    finally:
        sender.close()


def _answer(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Run ``func`` and describe the outcome as a ``(status, ...)`` message."""
    try:
        return ("ok", func(*args, **kwargs))
    except MemoryError:
        return ("memory",)
    except BaseException as exc:  # noqa: BLE001 - report everything, including SystemExit
        return ("error", type(exc).__name__)


def _send(connection: Any, message: tuple[Any, ...]) -> None:
    """Send ``message``; if it cannot be pickled or sent, send why instead."""
    try:
        connection.send(message)
    except MemoryError:
        connection.send(("memory",))
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
        connection.send(("error", type(exc).__name__))


def _silence_stderr() -> None:
    """Point the child's file descriptor 2 at the null device and turn off faulthandler.

    Native parsers write to it directly when they fail: Rust prints "memory allocation of N bytes
    failed" (and a stack backtrace under RUST_BACKTRACE) before aborting, and a panic prints its
    message; faulthandler (PYTHONFAULTHANDLER, pytest) dumps every thread's stack on the abort. Those
    would reach the user's terminal; the parent reports the outcome as a finding instead.
    """
    faulthandler.disable()
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, 2)
    except OSError:
        pass
    finally:
        os.close(devnull)


def _limit_memory(memory_bytes: int) -> None:
    """Set ``RLIMIT_AS`` to the current address space plus ``memory_bytes``, where supported."""
    try:
        import resource
    except ImportError:  # Windows
        return
    limit = _address_space_bytes() + memory_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS
        pass


def _address_space_bytes() -> int:
    """The current process's virtual address space in bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _timeout(limits: Limits) -> Finding:
    """I-TIMEOUT for a parse that ran past the limit."""
    return _finding(
        "I-TIMEOUT",
        f"读取文件超过 {limits.timeout_seconds:g} 秒仍未完成，已中止。文件可能过大或结构异常；"
        f"请删除多余的工作表和空白行后在 Excel/WPS 中另存为 .xlsx 再提交。",
        value=f"{limits.timeout_seconds:g}s", expected=f"≤ {limits.timeout_seconds:g} 秒")


def _memory(limits: Limits) -> Finding:
    """I-MEMORY for a parse that needed more memory than allowed."""
    return _finding(
        "I-MEMORY",
        f"读取文件所需内存超过上限（{_mb(limits.memory_bytes)}），已中止。文件可能过大、含有大量空白格式行，"
        f"或是恶意构造的文件；请删除多余内容后在 Excel/WPS 中另存为 .xlsx 再提交。",
        expected=f"≤ {_mb(limits.memory_bytes)}")


def _died(exitcode: int | None, limits: Limits) -> Finding:
    """The finding for a child that died without answering: I-MEMORY if killed as for memory, else I-CORRUPT."""
    if exitcode is not None and exitcode < 0 and -exitcode in _MEMORY_SIGNALS:
        return _memory(limits)
    return _corrupt(f"exitcode={exitcode}", f"读取进程异常退出，退出码 {exitcode}")


def collect_files(paths: Sequence[Path]) -> list[Path]:
    """Every file named, with folders walked recursively in name order.

    Office and LibreOffice lock files (``~$报表.xlsx``, ``.~lock.报表.xlsx#``) are skipped: they are left
    behind by an open editor and are never a department's return.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and not _is_lock_file(p))
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def _is_lock_file(path: Path) -> bool:
    return path.name.startswith("~$") or (path.name.startswith(".~lock.") and path.name.endswith("#"))


# --- a pool of isolated workers ---------------------------------------------------------------------


class IsolatedPool(Executor):
    """Parse untrusted files in long-lived worker processes, each under the same limits as run_isolated.

    Forking a child per file costs more than reading a small form, so each worker serves file after file.
    A task that overruns ``limits.timeout_seconds`` gets its worker killed; a worker that dies (memory
    limit, native crash) or reports MemoryError is replaced. Every future resolves to an
    :class:`Isolated` — never an exception — so one hostile file cannot take the batch down.
    ``initializer(*initargs)`` runs once in each worker (the shared read-only inputs of a batch).
    """

    def __init__(self, workers: int, limits: Limits = Limits(), initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        self._limits = limits
        self._initializer, self._initargs = initializer, initargs
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._supervise, daemon=True) for _ in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _supervise(self) -> None:
        _Feeder(self).run()

    def _spawn(self) -> tuple[Any, Any]:
        if workers_stopped():
            raise WorkersStopped
        context = _mp_context()
        with _START_LOCK:
            parent_end, child_end = context.Pipe(duplex=True)
            process = context.Process(target=_pool_worker_main, daemon=True,
                                      args=(child_end, self._initializer, self._initargs, self._limits.memory_bytes,
                                            os.getpid()))
            try:
                process.start()
            finally:
                child_end.close()
        return parent_end, process

    def _run(self, worker: tuple[Any, Any], fn: Callable[..., Any], args: tuple, kwargs: dict) -> Isolated:
        connection, process = worker
        try:
            connection.send((fn, args, kwargs))
        except (OSError, ValueError):
            process.join(_REAP_SECONDS)
            return Isolated(False, None, _died(process.exitcode, self._limits))
        return _await_outcome(connection, process, self._limits)


# Tasks waiting in a worker's pipe, the one it works on included. Two keep it busy while the parent unpacks
# an answer; only small tasks are queued, so a task can never fill the pipe while the worker writes an answer.
_IN_FLIGHT = 2
_PIPELINE_BYTES = 16 * 1024


class _Feeder:
    """One supervisor thread of an :class:`IsolatedPool`: its worker and the tasks sent to it, oldest first.

    The worker answers tasks in order and stops after a failed one, so when a task fails (timeout, death,
    memory, an exception) the tasks queued behind it never ran: they are sent again to a fresh worker.
    """

    def __init__(self, pool: IsolatedPool) -> None:
        self.pool = pool
        self.worker: tuple[Any, Any] | None = None
        self.sent: collections.deque = collections.deque()
        self.resend: collections.deque = collections.deque()
        self.stopping = False

    def run(self) -> None:
        try:
            while not workers_stopped():
                self._fill()
                if not self.sent:
                    if self.stopping and not self.resend:
                        return
                    continue
                self._collect_oldest()
            self._abandon()
        except WorkersStopped:
            self._abandon()
        finally:
            if self.worker is not None:
                _retire(self.worker)

    def _abandon(self) -> None:
        """The command is being stopped (SIGTERM, Ctrl-C): fail what was sent instead of starting workers."""
        for item in (*self.sent, *self.resend):
            if not item[0].done():
                item[0].set_exception(WorkersStopped())
        self.sent.clear()
        self.resend.clear()

    def _fill(self) -> None:
        while len(self.sent) < _IN_FLIGHT:
            item = self._next(block=not self.sent)
            if item is None:
                return
            payload = _pickled_task(item)
            if payload is None or len(payload) > _PIPELINE_BYTES:
                if self.sent:
                    self.resend.appendleft(item)  # sent alone once the worker is idle
                    return
                item[0].set_result(self._run_alone(item))
                continue
            self.worker = self.worker or self.pool._spawn()
            self.sent.append(item)
            if not _send_bytes(self.worker[0], payload):
                return  # the worker is gone: waiting for the answer reports why

    def _collect_oldest(self) -> None:
        future = self.sent[0][0]
        outcome = _await_outcome(self.worker[0], self.worker[1], self.pool._limits)
        self.sent.popleft()
        if not outcome.ok:
            self._retire()
            self.resend.extendleft(reversed(self.sent))
            self.sent.clear()
        future.set_result(outcome)

    def _next(self, block: bool) -> tuple | None:
        """The next task (one to send again first); None when there is none now, or there will be none."""
        if self.resend:
            return self.resend.popleft()
        while not self.stopping:
            try:
                item = self.pool._queue.get(block=block)
            except queue.Empty:
                return None
            if item is None:
                self.stopping = True
            elif item[0].set_running_or_notify_cancel():
                return item
        return None

    def _run_alone(self, item: tuple) -> Isolated:
        _future, fn, args, kwargs = item
        self.worker = self.worker or self.pool._spawn()
        outcome = self.pool._run(self.worker, fn, args, kwargs)
        if not outcome.ok:
            self._retire()
        return outcome

    def _retire(self) -> None:
        if self.worker is not None:
            _retire(self.worker)
            self.worker = None


def _pickled_task(item: tuple) -> bytes | None:
    _future, fn, args, kwargs = item
    try:
        return bytes(ForkingPickler.dumps((fn, args, kwargs)))
    except Exception:  # noqa: BLE001 - sent alone through connection.send, which reports it
        return None


def _send_bytes(connection: Any, payload: bytes) -> bool:
    """Send a pickled task; False when the worker is gone (its death is reported by the wait that follows)."""
    try:
        connection.send_bytes(payload)
        return True
    except (OSError, ValueError):
        return False


def _retire(worker: tuple[Any, Any]) -> None:
    """Stop a worker (politely when it is idle, by force otherwise) and release its resources."""
    connection, process = worker
    try:
        connection.send(None)
    except (OSError, ValueError):
        pass
    connection.close()
    process.join(0.5)
    _reap(process)


def _pool_worker_main(connection: Any, initializer: Callable[..., None] | None, initargs: tuple[Any, ...],
                      memory_bytes: int, parent_pid: int) -> None:
    """A pool worker: set up once, then answer ``(status, ...)`` for each task until told to stop."""
    bind_to_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _silence_stderr()
    if initializer is not None:
        initializer(*initargs)
    _limit_memory(memory_bytes)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        fn, args, kwargs = task
        message = _answer(fn, args, kwargs)
        _send(connection, message)
        if message[0] != "ok":
            return  # the heap may be damaged: the supervisor starts a fresh worker
