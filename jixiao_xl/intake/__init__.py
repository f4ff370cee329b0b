"""Intake: what a returned file really is and whether it is safe to read (DESIGN §6.1).

Departments return forms by mail or USB stick, saved by Excel, WPS or LibreOffice — or not a workbook at
all: web pages and XML 2003 files named ``.xls``, CSV named ``.xlsx``, encrypted workbooks, Word files,
truncated downloads, hostile zips. This package decides from the bytes (never the extension), in rooms:

* :mod:`.codes` — the vocabulary: :class:`FileKind`, :class:`Limits`, the I- rule codes and their findings;
* :mod:`.sniff` (with :mod:`.ole` for compound files) — :func:`sniff` / :func:`detect_kind`, the real kind;
* :mod:`.zipguard` — :func:`check_zip`: entry count, uncompressed sizes, compression ratios and member paths,
  read from the zip central directory only, before anything is decompressed;
* :mod:`.inspection` — :func:`inspect_file`: all of the above plus size limit and sha256, as an :class:`Intake`
  with findings; it never raises, whatever the file holds.

Reading an accepted file happens elsewhere, in a worker process under a memory limit and a timeout
(:mod:`jixiao_xl.runtime`). Every refusal is a :class:`~jixiao_xl.findings.Finding` whose Chinese message
names the detected type and says how to fix it.
"""

from .codes import GiB, HEAD_BYTES, KIND_ZH, MiB, RULES, WORKBOOK_KINDS, FileKind, Limits
from .inspection import Intake, collect_files, inspect_file, sha256_file
from .sniff import detect_kind, sniff
from .zipguard import check_zip

__all__ = ["GiB", "HEAD_BYTES", "KIND_ZH", "MiB", "RULES", "WORKBOOK_KINDS", "FileKind", "Intake", "Limits", "check_zip",
           "collect_files", "detect_kind", "inspect_file", "sha256_file", "sniff"]
