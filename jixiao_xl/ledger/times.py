"""Time as the ledger records it (ISO 8601 with the zone, to the second) and as people read it."""

from __future__ import annotations

from datetime import datetime


def now_iso() -> str:
    """The current local time as ISO 8601 with its UTC offset, to the second."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def as_iso(value: datetime | str | None) -> str:
    """``value`` as the ledger stores a time: now when None, a datetime in ISO 8601, a text as it is."""
    if value is None:
        return now_iso()
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value)


def display_time(iso: str) -> str:
    """An ISO timestamp as people read it: ``2024-05-01 10:30``."""
    return iso[:16].replace("T", " ")


def local_time(iso: str) -> str:
    """An ISO timestamp with its zone as people here read it, in this computer's time, to the second:
    ``2024-05-01 18:30:05`` (the text itself when it is not a timestamp)."""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso
