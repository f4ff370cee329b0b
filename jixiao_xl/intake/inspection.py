"""Inspecting one received file: size limit, sha256, zip guard and sniffing in one read, as an :class:`Intake`.

:func:`inspect_file` never raises, whatever the file holds: every refusal is a finding whose Chinese message
names the detected type and says how to fix it. :func:`collect_files` lists the files of the paths named.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..findings import Finding, has_errors
from ..safety import display_name
from .codes import HEAD_BYTES, WORKBOOK_KINDS, FileKind, Limits, MiB, corrupt_finding, intake_finding, mb, unreadable_finding
from .sniff import ZIP_MAGICS, Probe, classify, describe, probe_source, sniff
from .zipguard import check_zip_source

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
        return _intake(path, file, name, 0, "", FileKind.OTHER, [unreadable_finding(file, exc)])
    try:
        return _inspect(path, file, name, size, limits)
    except OSError as exc:
        return _intake(path, file, name, size, "", FileKind.OTHER, [unreadable_finding(file, exc)])
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"; say why instead
        return _intake(path, file, name, size, "", FileKind.OTHER, [corrupt_finding(type(exc).__name__)])


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
        zip_findings, opened = check_zip_source(file, source, limits)
        findings.extend(zip_findings)
    try:
        probe = probe_source(source, len(data), not has_errors(findings), opened)
    finally:
        if opened is not None:
            opened.close()
    kind = classify(probe)
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


def _kind_findings(kind: FileKind, probe: Probe, name: str) -> list[Finding]:
    """The findings that follow from the detected kind alone."""
    what = describe(kind, probe)
    ext = _extension(name)
    resave = "请在 Excel 中打开后另存为 .xlsx 再提交。"
    if kind is FileKind.EMPTY:
        return [intake_finding("I-EMPTY", "文件为空（0 字节），可能是复制或下载未完成。请重新保存表格，确认能正常打开后再提交。",
                         value=kind.value)]
    if kind is FileKind.ENCRYPTED:
        return [intake_finding("I-ENCRYPTED",
                         "文件已加密（设置了打开密码），无法读取。请在 Excel/WPS 中打开，取消文件打开密码后另存为 .xlsx 重新提交"
                         "（工作表保护可以保留）。", value=kind.value)]
    if kind is FileKind.XLSM or (kind is FileKind.XLS and "_vba_project_cur" in (probe.ole_names or ())):
        return [intake_finding("I-MACRO", f"文件是{what}，{_macro_note(probe)}；已忽略宏，仅读取数据。"
                                    "请另存为不含宏的 .xlsx 工作簿后再提交。", value=kind.value)]
    if kind is FileKind.XLS and probe.ole_names is None:
        return [corrupt_finding("ole-directory", "OLE 复合文档目录无法读取")]
    if kind is FileKind.HTML:
        return [intake_finding("I-HTML", f"文件实际是{what}格式，只是扩展名为 {ext}；{resave}", value=kind.value)]
    if kind is FileKind.SPREADSHEETML:
        return [intake_finding("I-SPREADSHEETML", f"文件实际是{what}格式，扩展名为 {ext}，本工具不读取该格式；{resave}",
                         value=kind.value)]
    if kind in (FileKind.CSV, FileKind.TEXT):
        return [intake_finding("I-CSV", f"文件是{what}（扩展名为 {ext}），不是下发的表格，无法核对。"
                                  f"请在下发的 .xlsx 表格中填报后提交，不要另存为 CSV 或文本。", value=kind.value)]
    if kind in (FileKind.ZIP_OTHER, FileKind.OTHER):
        return [intake_finding("I-NOT-WORKBOOK", f"文件实际是{what}（扩展名为 {ext}），不是 Excel 表格。"
                                           f"请提交下发的 .xlsx 表格（在 Excel/WPS 中填报并保存为 .xlsx）。",
                         value=kind.value)]
    return []


def _macro_note(probe: Probe) -> str:
    """Whether the macro project itself is present, or only the macro-enabled format."""
    names = {n.lower() for n in probe.zip_names or ()} | set(probe.ole_names or ())
    return "含有宏" if {"xl/vbaproject.bin", "_vba_project_cur"} & names else "是启用宏的格式，可能含有宏"


def _too_big(size: int, limits: Limits) -> Finding:
    """I-TOOBIG for a file over the size limit."""
    return intake_finding(
        "I-TOOBIG",
        f"文件大小为 {mb(size)}，超过上限 {mb(limits.max_file_bytes)}，未读取。正常的绩效目标表只有几百 KB；"
        f"请删除多余的工作表、图片或空白行后另存为 .xlsx 再提交。",
        value=str(size), expected=f"≤ {mb(limits.max_file_bytes)}")


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

