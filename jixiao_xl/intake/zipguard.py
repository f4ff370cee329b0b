"""The zip guard: whether a zip is safe to open, judged from its central directory alone (nothing is inflated).

:func:`check_zip` refuses zip bombs (too many entries, too large or too steeply compressed members), member paths
that climb out of the archive, and zips whose directory cannot be read (a truncated copy or download). Sizes are
those the directory declares; the parse that follows runs in an isolated worker
(:mod:`jixiao_xl.runtime`) in case they lie.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
from typing import IO

from ..findings import Finding
from .codes import RESAVE, Limits, clip, intake_finding, mb, unreadable_finding

# A central directory larger than this per allowed entry is refused before zipfile parses it.
MAX_DIRECTORY_BYTES_PER_ENTRY = 1024


def check_zip(path: str | os.PathLike[str], limits: Limits = Limits()) -> list[Finding]:
    """Findings about a zip, from its central directory only: nothing is decompressed.

    Checks, in order: the end-of-central-directory record (missing → truncated → I-ZIP-CORRUPT), the
    entry count and directory size (before the directory is parsed), then per entry the uncompressed
    size and compression ratio, the total uncompressed size (I-ZIPBOMB), and member paths that are
    absolute or contain ``..`` (I-ZIP-PATH). Sizes are those the directory declares; the parse that
    follows runs under :func:`jixiao_xl.runtime.run_isolated` in case they lie.
    """
    file = str(path)
    try:
        with open(path, "rb") as fh:
            directory = read_end_record(fh, os.fstat(fh.fileno()).st_size)
            # A directory that fails to parse is reported as a corrupt zip (inside), not as I-UNREADABLE.
            findings, opened = _check_zip_directory(file, fh, directory, limits)
    except OSError as exc:
        return [unreadable_finding(file, exc)]
    if opened is not None:
        opened.close()
    return findings


def check_zip_source(file: str, source: IO[bytes], limits: Limits) -> tuple[list[Finding], zipfile.ZipFile | None]:
    """:func:`check_zip` of a whole file open as ``source``, and its zip directory when it was parsed."""
    return _check_zip_directory(file, source, read_end_record(source, source.seek(0, io.SEEK_END)), limits)


def _check_zip_directory(file: str, source: IO[bytes], directory: tuple[int, int] | None,
                         limits: Limits) -> tuple[list[Finding], zipfile.ZipFile | None]:
    """The checks of :func:`check_zip` given the end record, and the zip directory (still open) once parsed."""
    if directory is None:
        return [_zip_corrupt(file, "找不到压缩包目录")], None
    count, directory_bytes = directory
    if count > limits.max_entries:
        return [_bomb_entries(file, count, limits)], None
    if directory_bytes > max(limits.max_entries, 1) * MAX_DIRECTORY_BYTES_PER_ENTRY:
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


def read_end_record(fh: IO[bytes], size: int) -> tuple[int, int] | None:
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
        found.append(intake_finding(
            "I-ZIPBOMB",
            f"压缩包条目「{clip(worst.filename)}」解压后为 {mb(worst.file_size)}，超过单个条目上限 "
            f"{mb(limits.max_entry_bytes)}（共 {len(big)} 个条目超限），疑似恶意文件（压缩炸弹），已拒绝读取。"
            f"正常的绩效目标表只有几 MB；{RESAVE}",
            value=worst.filename, expected=f"≤ {mb(limits.max_entry_bytes)}"))
    steep = [i for i in infos if i.file_size >= limits.ratio_floor_bytes and _ratio(i) > limits.max_ratio]
    if steep:
        worst = max(steep, key=_ratio)
        found.append(intake_finding(
            "I-ZIPBOMB",
            f"压缩包条目「{clip(worst.filename)}」的压缩比为 {_ratio(worst):.0f}:1，超过上限 {limits.max_ratio:g}:1，"
            f"疑似恶意文件（压缩炸弹），已拒绝读取。{RESAVE}",
            value=worst.filename, expected=f"≤ {limits.max_ratio:g}:1"))
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        found.append(intake_finding(
            "I-ZIPBOMB",
            f"压缩包解压后共 {mb(total)}，超过上限 {mb(limits.max_total_bytes)}，疑似恶意文件（压缩炸弹），"
            f"已拒绝读取。{RESAVE}",
            value=str(total), expected=f"≤ {mb(limits.max_total_bytes)}"))
    return found


def _ratio(info: zipfile.ZipInfo) -> float:
    """Uncompressed over compressed size of a zip entry."""
    return info.file_size / max(info.compress_size, 1)


def _path_findings(infos: list[zipfile.ZipInfo]) -> list[Finding]:
    """One I-ZIP-PATH finding when any member path is absolute or climbs out with ``..``."""
    bad = [i.filename for i in infos if _unsafe_member(i.filename)]
    if not bad:
        return []
    return [intake_finding(
        "I-ZIP-PATH",
        f"压缩包内条目「{clip(bad[0])}」使用了绝对路径或“..”（共 {len(bad)} 个），正常的 Excel 文件不会这样。"
        f"本工具读取时不会把条目解压到磁盘，但为安全起见拒绝该文件；{RESAVE}",
        value=bad[0])]


_DRIVE = re.compile(r"[A-Za-z]:")


def _unsafe_member(name: str) -> bool:
    """True for a zip member name that is absolute (``/x``, ``C:x``) or contains a ``..`` segment."""
    normal = name.replace("\\", "/")
    return normal.startswith("/") or bool(_DRIVE.match(normal)) or ".." in normal.split("/")


def _bomb_entries(file: str, count: int, limits: Limits) -> Finding:
    """I-ZIPBOMB for too many entries."""
    return intake_finding(
        "I-ZIPBOMB",
        f"压缩包内有 {count} 个条目，超过上限 {limits.max_entries} 个，疑似恶意文件，已拒绝读取。"
        f"正常的绩效目标表只有几十个条目；{RESAVE}",
        file=file, value=str(count), expected=f"≤ {limits.max_entries}")


def _bomb_directory(file: str, directory_bytes: int) -> Finding:
    """I-ZIPBOMB for a central directory too large for the allowed number of entries."""
    return intake_finding(
        "I-ZIPBOMB",
        f"压缩包目录大小为 {mb(directory_bytes)}，远超正常表格，疑似恶意文件，已拒绝读取。{RESAVE}",
        file=file, value=str(directory_bytes))


def _zip_corrupt(file: str, reason: str) -> Finding:
    """I-ZIP-CORRUPT: the zip directory cannot be read (typically a truncated copy or download)."""
    return intake_finding(
        "I-ZIP-CORRUPT",
        f"文件不完整或已损坏（{reason}，常见于下载或拷贝中断），无法读取。"
        f"请重新从原文件复制一份，或在 Excel/WPS 中打开后另存为 .xlsx 再提交。",
        file=file, value=reason)
