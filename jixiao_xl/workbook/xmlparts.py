"""Package parts as XML: the namespaces the reader uses, a safe and fast parse of untrusted parts, and
document date-times (core.xml, meta.xml) as UTC text."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

from defusedxml import ElementTree as SafeET

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    "cp": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
    "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes",
    "ep": "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}


def parse_xml(xml: bytes) -> ElementTree.Element:
    """Parse an untrusted package part, refusing entity declarations and external references like defusedxml.

    A part without a DTD cannot declare an entity, so when it has none (and is UTF-8, where a DTD cannot
    hide behind another encoding's bytes) the standard library's C parser reads it, several times faster
    than defusedxml's Python-level parser; anything else goes to defusedxml, which raises on entities.
    """
    return ElementTree.fromstring(xml) if is_plain_xml(xml) else SafeET.fromstring(xml)


_XML_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._-]+)[\"']")


def is_plain_xml(xml: bytes) -> bool:
    """True for a part with no DTD that starts with markup and declares no encoding other than UTF-8."""
    if xml.startswith(b"\xef\xbb\xbf"):
        xml = xml[3:]
    if not xml.startswith(b"<") or b"<!DOCTYPE" in xml:
        return False
    declared = _XML_DECLARATION.match(xml)
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


def xml_text(raw: bytes) -> str:
    """Character data as XML defines it: UTF-8, with entity and character references resolved."""
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


_DOCUMENT_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
                            r"(Z|[+-]\d{2}:?\d{2})?")


def document_time(text: str) -> str:
    """A document's date-time (W3CDTF / ISO 8601, as core.xml and meta.xml hold it) as ISO 8601 UTC text to the
    second (``2026-03-01T08:30:00+00:00``); "" when it is not a date-time.

    A time without a zone (LibreOffice writes ODF dates so) is taken as this computer's local time: the
    file was most likely saved where the bureau works.
    """
    found = _DOCUMENT_TIME.fullmatch(text.strip())
    if found is None:
        return ""
    year, month, day, hour, minute, second, zone = found.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        moment = moment.astimezone() if zone is None else moment.replace(tzinfo=_zone(zone))
        return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):  # 2026-02-30, 25:00, +99:00, year 1 in a zone east of UTC …
        return ""


def _zone(text: str) -> timezone:
    """The UTC offset of a W3CDTF zone designator (``Z``, ``+08:00``, ``-0500``)."""
    if text == "Z":
        return timezone.utc
    hours, minutes = int(text[1:3]), int(text[-2:])
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)
