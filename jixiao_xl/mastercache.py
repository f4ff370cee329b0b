"""A cache of parsed master workbooks, so that the commands of one cycle parse a big master only once.

A province master (20,000 units, 100,000 projects) takes about 13 s to read and check, and every command
(generate, each import, status, consolidate) starts by reading it. The parsed master is pickled into the
user's cache folder, keyed by the sha256 of the master file's bytes and by everything that shapes the
parsed result (the jixiao-xl version, the model's fields, the Python version); loading the pickle takes
about 1.5 s. Any change to the file is a new key, so a stale entry is never used; an entry that cannot
be read is deleted and the master parsed again. Small masters (under :data:`MIN_BYTES`) parse in well
under a second and are not cached.

Where: ``$JIXIAO_XL_CACHE`` if set (``off`` turns the cache off), else ``$XDG_CACHE_HOME/jixiao-xl``,
else ``~/.cache/jixiao-xl``. The newest :data:`KEEP` entries are kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Callable

from . import __version__, model
from .safety import write_atomic

CACHE_ENV = "JIXIAO_XL_CACHE"
MIN_BYTES = 2_000_000
KEEP = 4
_PREFIX = "master-"
_SUFFIX = ".pickle"


def cache_dir() -> Path | None:
    """The folder of cached masters, or None when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured.lower() in ("off", "0", "no", "false"):
        return None
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "jixiao-xl"


def load_cached(path: Path, parse: Callable[[Path], model.Master]) -> model.Master:
    """The master parsed from the file ``path``: from the cache when it holds this file's bytes, else ``parse(path)``.

    Never fails because of the cache: an unreadable or unwritable cache falls back to parsing.
    """
    folder = cache_dir()
    if folder is None or not path.is_file() or path.stat().st_size < MIN_BYTES:
        return parse(path)
    entry = folder / f"{_PREFIX}{_key(path)}{_SUFFIX}"
    cached = _read(entry)
    if cached is not None:
        return cached
    master = parse(path)
    _write(entry, master)
    return master


def _key(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(_format_tag().encode())
    return digest.hexdigest()[:40]


def _format_tag() -> str:
    """What the parsed result depends on besides the file: a new version or model shape means new entries."""
    shapes = [f"{cls.__name__}({','.join(f.name for f in dataclasses.fields(cls))})" for cls in (
        model.Settings, model.Unit, model.Indicator, model.PlanPoint, model.Project, model.DeptGoal,
        model.DeptIndicator, model.Master)]
    return f"{__version__}|{sys.version_info[:2]}|{pickle.HIGHEST_PROTOCOL}|{';'.join(shapes)}"


def _read(entry: Path) -> model.Master | None:
    try:
        with open(entry, "rb") as handle:
            master = model.Master(*pickle.load(handle))
    except FileNotFoundError:
        return None
    except Exception:  # a truncated or foreign entry: drop it and parse the workbook instead
        _remove(entry)
        return None
    _touch(entry)
    return master


def _write(entry: Path, master: model.Master) -> None:
    fields = (master.settings, master.units, master.projects, master.dept_goals, master.dept_indicators,
              master.fingerprint)
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(entry, pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL), durable=False)
        _evict(entry.parent)
    except OSError:
        pass  # a read-only or full disk costs the next command its speed-up, nothing else


def _evict(folder: Path) -> None:
    entries = sorted(folder.glob(f"{_PREFIX}*{_SUFFIX}"), key=_mtime, reverse=True)
    for stale in entries[KEEP:]:
        _remove(stale)


def _mtime(entry: Path) -> float:
    try:
        return entry.stat().st_mtime
    except OSError:
        return 0.0


def _touch(entry: Path) -> None:
    try:
        os.utime(entry)
    except OSError:
        pass


def _remove(entry: Path) -> None:
    try:
        entry.unlink()
    except OSError:
        pass
