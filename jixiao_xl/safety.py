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
_WINDOWS_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\ud800-\udfff]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
# A generated file's stem stays within this many UTF-8 bytes: file systems limit a name to 255 bytes, and
# the rest is left for what is added to the stem ("-通知.txt", "-退回修改(2).xlsx", the ".tmp-" temporary).
FILE_STEM_BYTES = 180
# Excel's limit on a sheet name, counted in UTF-16 code units (a character beyond the BMP counts twice).
SHEET_NAME_LIMIT = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\ud800-\udfff]")
RESERVED_SHEET_NAME = "History"  # Excel keeps it for its change tracking
# How Python hands over the bytes of a file name that is not UTF-8 (PEP 383).
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could run ``text`` as a formula (DESIGN §9)."""
    return bool(text) and text.startswith(FORMULA_TRIGGERS)


def neutralise_formula(text: str) -> str:
    """A CSV cell of ``text`` that no spreadsheet runs: an apostrophe before text that would be a formula.

    Text that already starts with apostrophes before a trigger gets one more, so that
    :func:`restore_formula_text` gives back exactly what was written.
    """
    return "'" + text if looks_like_formula(text.lstrip("'")) else text


def restore_formula_text(cell: str) -> str:
    """The text :func:`neutralise_formula` made ``cell`` from (for reading our own CSV files back)."""
    return cell[1:] if cell.startswith("'") and looks_like_formula(cell.lstrip("'")) else cell


def safe_file_stem(name: str, max_bytes: int = FILE_STEM_BYTES) -> str:
    """A file name stem safe on Windows and Linux and unable to leave its folder, whatever ``name`` holds.

    Forbidden characters become "_", ".." cannot remain, the stem is cut to ``max_bytes`` bytes of UTF-8
    (never inside a character), trailing dots and spaces go, and reserved device names (CON, NUL …) and
    the empty name get a leading "_".
    """
    stem = _WINDOWS_FORBIDDEN.sub("_", name).replace("..", "_").strip().lstrip(".")
    stem = stem.encode("utf-8")[:max_bytes].decode("utf-8", "ignore").rstrip(". ")
    if not stem or stem.split(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return stem


def sheet_name(text: str, taken: Iterable[str] = (), fallback: str = "_") -> str:
    """A valid Excel sheet name made from ``text``, different (ignoring case) from every name in ``taken``.

    Cut to Excel's 31 characters first, then cleaned, so that the cut can never leave what the cleaning
    removed (a trailing apostrophe): forbidden characters []:*?/\\ become "_", apostrophes and spaces at
    either end go; an empty result becomes ``fallback`` and the reserved "History" gets a "_". A name
    already taken gets "(2)", "(3)" … in place of its end.
    """
    used = {t.lower() for t in taken}
    base = _clean_sheet_name(cut_utf16(text, SHEET_NAME_LIMIT)) or _clean_sheet_name(fallback) or "_"
    name, n = base, 2
    while name.lower() in used:
        suffix = f"({n})"
        name, n = _clean_sheet_name(cut_utf16(base, SHEET_NAME_LIMIT - len(suffix))) + suffix, n + 1
    return name


def _clean_sheet_name(text: str) -> str:
    name = _SHEET_FORBIDDEN.sub("_", text).strip(" '")
    return name + "_" if name.lower() == RESERVED_SHEET_NAME.lower() else name


def cut_utf16(text: str, limit: int) -> str:
    """The longest start of ``text`` that is at most ``limit`` UTF-16 code units long."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def display_name(path: str | os.PathLike[str]) -> str:
    """``path`` as text that can be shown and stored, whatever encoding its name was written in.

    On Linux a name that is not UTF-8 (GBK names from Windows zips and USB sticks) reaches Python with
    surrogate escapes; each such part of the path is read as GB18030 (a superset of GBK), else as UTF-8 with
    replacement characters. Open the file with the original path, never with this text.
    """
    text = os.fspath(path)
    if not _SURROGATES.search(text):
        return text
    return os.sep.join(_readable(part) for part in text.split(os.sep))


def display_names(paths: Iterable[str | os.PathLike[str]]) -> dict[str, str]:
    """The :func:`display_name` of each path, kept distinct: when a non-UTF-8 name reads the same as
    another path, its undecodable bytes are shown as \\x escapes instead."""
    paths = [os.fspath(p) for p in paths]
    shown = {p: display_name(p) for p in paths}
    readings: dict[str, int] = {}
    for text in shown.values():
        readings[text] = readings.get(text, 0) + 1
    for path, text in shown.items():
        if readings[text] > 1 and text != path:
            shown[path] = os.fsencode(path).decode("utf-8", "backslashreplace")
    return shown


def raw_name(path: str | os.PathLike[str]) -> bytes:
    """The bytes of ``path`` as the file system holds them (for the ledger)."""
    return os.fsencode(path)


def _readable(part: str) -> str:
    """One part of a path as text: unchanged when it is UTF-8, else read as GB18030, else with U+FFFD."""
    if not _SURROGATES.search(part):
        return part
    raw = os.fsencode(part)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


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
