"""Small defences shared by every writer: formula injection, safe file names, atomic writes."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Iterable

# The document time written into every workbook whose content does not depend on when it was written:
# identical inputs must give byte-identical files.
FIXED_DOCUMENT_TIME = datetime(2000, 1, 1)

# Half-width and full-width characters that make a spreadsheet treat a cell as a formula or command.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_WINDOWS_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could run ``text`` as a formula (DESIGN §9)."""
    return bool(text) and text.startswith(FORMULA_TRIGGERS)


def neutralise_formula(text: str) -> str:
    """Prefix an apostrophe to text that a spreadsheet would run as a formula (for CSV output)."""
    return "'" + text if looks_like_formula(text) else text


def safe_file_stem(name: str, limit: int = 100) -> str:
    """A file name stem safe on Windows and unable to leave its folder, whatever ``name`` holds."""
    stem = _WINDOWS_FORBIDDEN.sub("_", name).strip().strip(".")
    stem = stem.replace("..", "_")
    if not stem or stem.upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return stem[:limit].rstrip(". ") or "_"


def write_atomic(path: Path, data: bytes | str, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    A reader never sees a half-written file, and a crash leaves the old file (or none) in place.
    ``durable=False`` leaves out the fsync before the rename, for batches that call
    :func:`flush_to_disk` once at the end instead of paying one disk flush per file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.chmod(tmp, _default_mode())
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_target(path: Path) -> Path:
    """A temporary sibling path for a writer that must write to a file name itself (e.g. xlsxwriter).

    Call :func:`commit_atomic` with both paths once the writer has closed the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _default_mode())
    return Path(tmp)


def commit_atomic(tmp: Path, path: Path) -> None:
    """Flush ``tmp`` to disk and rename it over ``path``."""
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def flush_to_disk(paths: Iterable[Path]) -> None:
    """Make files written with ``durable=False`` durable, in one go where the system allows it.

    On POSIX one ``sync()`` flushes every pending write, which costs about what a single fsync does;
    elsewhere each file is fsynced. Call it before anything records that the files exist (a manifest,
    the ledger), so that a power cut never leaves a record pointing at an empty file.
    """
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())


def _default_mode() -> int:
    # mkstemp creates 0600 files; outputs are ordinary documents, so honour the user's umask instead.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def sweep_stale_temporaries(folder: Path, older_than_seconds: float = 600) -> list[Path]:
    """Delete the ``.tmp-*`` files an interrupted run left in ``folder`` (not recursive).

    Only files older than ``older_than_seconds`` go: an atomic write lasts milliseconds, so an older
    temporary belongs to a run that was killed, never to one still writing.
    """
    import time

    folder = Path(folder)
    if not folder.is_dir():
        return []
    cutoff = time.time() - older_than_seconds
    removed = []
    for path in folder.glob(".tmp-*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed
