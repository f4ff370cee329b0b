"""The intake's vocabulary: what a file can be, the limits an untrusted file is held to, and the intake rule
codes (DESIGN §7) with the findings every intake room and the worker runtime make from them."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .. import catalogue
from ..findings import Finding

MiB = 1024 * 1024
GiB = 1024 * MiB

# How much of the start of a file the sniffer looks at.
HEAD_BYTES = 64 * 1024


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
      inherits at start (``RLIMIT_AS`` = inherited + ``memory_bytes``; see
      :func:`jixiao_xl.runtime.run_isolated`).
    """

    max_file_bytes: int = 50 * MiB
    max_entries: int = 2000
    max_entry_bytes: int = 200 * MiB
    max_total_bytes: int = 500 * MiB
    max_ratio: float = 200
    timeout_seconds: float = 60
    memory_bytes: int = 1 * GiB
    ratio_floor_bytes: int = 1 * MiB



# -- rule codes (DESIGN §7) ----------------------------------------------------------------------------

_SOURCE = catalogue.SOURCE_TOOL
RESAVE = "请在 Excel/WPS 中打开后另存为 .xlsx 再提交。"


def _define(code: str, severity: str, title: str, fix: str) -> catalogue.Rule:
    """Register one intake rule in the catalogue."""
    return catalogue.define(code, severity, title, fix, source=_SOURCE)


RULES = {
    rule.code: rule
    for rule in (
        _define("I-EMPTY", "error", "文件为空", "重新保存表格，确认文件完整后再提交。"),
        _define("I-TOOBIG", "error", "文件过大", "删除多余的工作表、图片和空白行后另存为 .xlsx 再提交。"),
        _define("I-ZIPBOMB", "error", "压缩包解压后过大，疑似恶意文件", RESAVE),
        _define("I-ZIP-CORRUPT", "error", "文件不完整或已损坏（压缩包目录无法读取）", "重新复制原文件，或" + RESAVE),
        _define("I-ZIP-PATH", "error", "压缩包内含有不安全的路径，疑似恶意文件", RESAVE),
        _define("I-ENCRYPTED", "error", "文件已加密，请取消密码后重新提交", "在 Excel/WPS 中取消文件打开密码后另存为 .xlsx 再提交。"),
        _define("I-MACRO", "warning", "文件含有宏，已忽略宏，仅读取数据", "另存为不含宏的 .xlsx 工作簿后再提交。"),
        _define("I-HTML", "error", "文件实际是网页（HTML）格式，不是 Excel 表格", "请在 Excel 中打开后另存为 .xlsx 再提交。"),
        _define("I-SPREADSHEETML", "error", "文件实际是 XML 2003 表格格式", "请在 Excel 中打开后另存为 .xlsx 再提交。"),
        _define("I-CSV", "error", "文件是 CSV/文本，不是下发的表格", "在下发的 .xlsx 表格中填报后提交，不要另存为 CSV 或文本。"),
        _define("I-NOT-WORKBOOK", "error", "文件不是 Excel 表格（压缩包、Word 文档或其他文件）", "提交下发的 .xlsx 表格。"),
        _define("I-UNREADABLE", "error", "无法打开文件", "检查文件是否存在、是否被占用、是否有读取权限后重新提交。"),
        _define("I-TIMEOUT", "error", "读取文件超时", "删除多余的工作表和空白行后" + RESAVE),
        _define("I-MEMORY", "error", "读取文件所需内存过大", "删除多余的工作表、图片和空白行后" + RESAVE),
        _define("I-CORRUPT", "error", "文件已损坏或格式异常，无法读取", RESAVE),
    )
}


def intake_finding(code: str, message: str, **fields: str) -> Finding:
    """A finding for intake rule ``code`` with the rule's severity."""
    return Finding(rule=code, severity=RULES[code].severity, message=message, **fields)


def mb(n: float) -> str:
    """A byte count for a Chinese message, in MB (or GB from 1 GiB) with one decimal."""
    return f"{n / GiB:.1f} GB" if n >= GiB else f"{n / MiB:.1f} MB"


def clip(name: str, limit: int = 80) -> str:
    """A zip member name shortened for a message."""
    return name if len(name) <= limit else name[: limit - 1] + "…"



# -- findings more than one room makes -------------------------------------------------------------------


def unreadable_finding(file: str, exc: BaseException) -> Finding:
    """I-UNREADABLE: the path cannot be opened."""
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return intake_finding(
        "I-UNREADABLE",
        f"无法打开文件（{reason}）。请检查文件是否存在、是否被其他程序占用、是否有读取权限，然后重新提交。",
        file=file, value=type(exc).__name__)


def corrupt_finding(value: str, detail: str = "") -> Finding:
    """I-CORRUPT: the file is damaged or malformed; ``value`` is what failed (e.g. an exception type)."""
    return intake_finding(
        "I-CORRUPT",
        f"文件已损坏或格式异常，无法读取（{detail or value}）。请在 Excel/WPS 中打开后另存为 .xlsx 再提交。",
        value=value)


def timeout_finding(limits: Limits) -> Finding:
    """I-TIMEOUT for a parse that ran past the limit."""
    return intake_finding(
        "I-TIMEOUT",
        f"读取文件超过 {limits.timeout_seconds:g} 秒仍未完成，已中止。文件可能过大或结构异常；"
        f"请删除多余的工作表和空白行后在 Excel/WPS 中另存为 .xlsx 再提交。",
        value=f"{limits.timeout_seconds:g}s", expected=f"≤ {limits.timeout_seconds:g} 秒")


def memory_finding(limits: Limits) -> Finding:
    """I-MEMORY for a parse that needed more memory than allowed."""
    return intake_finding(
        "I-MEMORY",
        f"读取文件所需内存超过上限（{mb(limits.memory_bytes)}），已中止。文件可能过大、含有大量空白格式行，"
        f"或是恶意构造的文件；请删除多余内容后在 Excel/WPS 中另存为 .xlsx 再提交。",
        expected=f"≤ {mb(limits.memory_bytes)}")
