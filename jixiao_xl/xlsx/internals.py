"""What the speed layer shares about xlsxwriter's internals: its escaping, its XML capture and the guard.

The fast paths (:mod:`.formsheet`, :mod:`.formbook`, :mod:`.tablesheet`) write XML that xlsxwriter would
write; this module holds the pieces they share — which text xlsxwriter's escaping would change, escaping
exactly as xlsxwriter does (through the writer's own methods), capturing what a stock method writes,
standing a replacement in for a module attribute — and :func:`require_members`, with which each fast
module refuses to load when an xlsxwriter internal it relies on is gone. It imports nothing private
from xlsxwriter itself.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from io import StringIO
from typing import Iterable, Iterator

import xlsxwriter

TESTED_VERSIONS = ("3.3.",)  # version prefixes whose internals tests/test_fastxlsx.py was run against

# Text that xlsxwriter's data escaping (XML specials, control characters, _xHHHH_) would change.
DATA_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
ATTRIBUTE_SPECIAL = re.compile(r'["&<>\n]')


def fast_paths_supported(version: str | None = None) -> bool:
    """True when ``version`` (default: the installed xlsxwriter's) is one the fast paths were tested with."""
    version = xlsxwriter.__version__ if version is None else version
    return version.startswith(TESTED_VERSIONS)


def require_members(owner: type, names: Iterable[str]) -> None:
    """Raise AttributeError unless ``owner`` (an xlsxwriter class or module) has every one of ``names``.

    A fast module calls this at import time for the internals it overrides or calls, so that a renamed
    or removed internal makes it fall back to stock xlsxwriter instead of failing in the middle of a write.
    """
    missing = [name for name in names if not hasattr(owner, name)]
    if missing:
        raise AttributeError(f"xlsxwriter {xlsxwriter.__version__}: {owner.__name__} has no {', '.join(missing)}")


def captured(xml_writer, method, *args) -> str:
    """What ``method(*args)`` writes to ``xml_writer``'s file, captured instead of written."""
    target = xml_writer.fh
    xml_writer.fh = StringIO()
    try:
        method(*args)
        return xml_writer.fh.getvalue()
    finally:
        xml_writer.fh = target


def escaped_data(xml_writer, data) -> object:
    """``data`` escaped as xlsxwriter's ``_xml_data_element`` escapes it; plain text is returned as is."""
    if type(data) is str and DATA_SPECIAL.search(data) is None:
        return data
    return xml_writer._escape_control_characters(xml_writer._escape_data(data))


def escaped_attribute(xml_writer, value) -> object:
    """``value`` escaped as an XML attribute, as xlsxwriter escapes it."""
    if type(value) is str and ATTRIBUTE_SPECIAL.search(value) is None:
        return value
    return xml_writer._escape_attributes(value)


def all_plain(texts: list, special: re.Pattern) -> bool:
    """True when every one of ``texts`` is a str that ``special`` (one character or a run without spaces) misses."""
    try:
        return special.search(" ".join(texts)) is None
    except TypeError:  # not all texts are strings
        return False


def unchanged(text):
    """``text`` itself: the escaping of texts already known to need none."""
    return text


@contextmanager
def standing_in(module, name: str, replacement) -> Iterator[None]:
    """``module.name`` is ``replacement`` inside the block (writing a workbook is single-threaded per process)."""
    original = getattr(module, name)
    setattr(module, name, replacement)
    try:
        yield
    finally:
        setattr(module, name, original)
