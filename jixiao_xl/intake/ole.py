"""Just enough of the compound file format ([MS-CFB]) to tell a real .xls from an encrypted one or a Word file.

Every read is bounded by the file size and every chain is loop-checked, so a hostile file raises
:class:`OleError` instead of looping or allocating without bound.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import IO

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_MAXREGSECT = 0xFFFFFFFA
_BIFF_FILEPASS = 0x002F
_BIFF_EOF = 0x000A


class OleError(Exception):
    """The compound file directory cannot be read."""


@dataclass(frozen=True)
class OleEntry:
    """One directory entry of a compound file."""

    name: str
    kind: int
    start: int
    size: int


def biff_encrypted(data: bytes) -> bool:
    """True when the BIFF globals substream holds a FILEPASS record (a password to open)."""
    pos = 0
    for _ in range(64):
        if pos + 4 > len(data):
            break
        rtype, rlen = struct.unpack_from("<HH", data, pos)
        if rtype == _BIFF_FILEPASS:
            return True
        if rtype == _BIFF_EOF:
            break
        pos += 4 + rlen
    return False


class Cfb:
    """Just enough of [MS-CFB] to list directory entries and read the start of a stream.

    Every chain is bounded by the file size and checked for loops, so a hostile file raises
    :class:`OleError` instead of looping or allocating without bound.
    """

    def __init__(self, fh: IO[bytes], size: int) -> None:
        """Read the header and the FAT of the compound file ``fh`` of ``size`` bytes."""
        self._fh = fh
        header = self._read(0, 512)
        if header[:8] != OLE_MAGIC:
            raise OleError("not a compound file")
        shift, mini_shift = struct.unpack_from("<HH", header, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise OleError("bad sector size")
        self._ss = 1 << shift
        self._nsect = max(0, (size + self._ss - 1) // self._ss - 1)
        n_fat, self._first_dir = struct.unpack_from("<II", header, 0x2C)
        self._cutoff, self._first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from("<IIIII", header, 0x38)
        self._v3 = shift == 9
        self._fat = self._load_fat(header, n_fat, first_difat, n_difat)
        self._minifat: list[int] | None = None
        self._root: OleEntry | None = None

    def _read(self, offset: int, length: int) -> bytes:
        """Exactly ``length`` bytes at ``offset``, or :class:`OleError` if the file is shorter."""
        self._fh.seek(offset)
        data = self._fh.read(length)
        if len(data) != length:
            raise OleError("truncated compound file")
        return data

    def _sector(self, sid: int) -> bytes:
        """The content of regular sector ``sid``."""
        if sid >= self._nsect:
            raise OleError("sector out of range")
        return self._read((sid + 1) * self._ss, self._ss)

    def _words(self, data: bytes) -> tuple[int, ...]:
        """A sector's content as little-endian 32-bit words."""
        return struct.unpack(f"<{len(data) // 4}I", data)

    def _load_fat(self, header: bytes, n_fat: int, first_difat: int, n_difat: int) -> list[int]:
        """The file allocation table, located through the header DIFAT and the DIFAT chain."""
        if n_fat > self._nsect + 1:
            raise OleError("too many FAT sectors")
        ids = list(struct.unpack_from("<109I", header, 0x4C))[:n_fat]
        sid, hops = first_difat, 0
        while len(ids) < n_fat and sid <= _MAXREGSECT:
            if hops > min(n_difat, self._nsect):
                raise OleError("DIFAT chain too long")
            words = self._words(self._sector(sid))
            ids.extend(words[:-1])
            sid, hops = words[-1], hops + 1
        fat: list[int] = []
        for fat_sid in ids[:n_fat]:
            fat.extend(self._words(self._sector(fat_sid)))
        return fat

    def _chain(self, start: int, table: list[int], max_len: int) -> list[int]:
        """Sector ids of a chain through ``table``, at most ``max_len`` of them, loop-checked."""
        chain: list[int] = []
        seen: set[int] = set()
        sid = start
        while sid <= _MAXREGSECT and len(chain) < max_len:
            if sid in seen or sid >= len(table):
                raise OleError("broken chain")
            seen.add(sid)
            chain.append(sid)
            sid = table[sid]
        return chain

    def _read_chain(self, start: int, limit: int) -> bytes:
        """The first ``limit`` bytes of a regular chain."""
        count = min(self._nsect, -(-limit // self._ss))
        return b"".join(self._sector(s) for s in self._chain(start, self._fat, count))[:limit]

    def entries(self) -> list[OleEntry]:
        """All allocated directory entries (storages, streams, root), in directory order."""
        found = []
        for sid in self._chain(self._first_dir, self._fat, self._nsect):
            data = self._sector(sid)
            for pos in range(0, len(data), 128):
                entry = self._parse_entry(data[pos : pos + 128])
                if entry is not None:
                    found.append(entry)
        self._root = next((e for e in found if e.kind == 5), None)
        return found

    def _parse_entry(self, raw: bytes) -> OleEntry | None:
        """One 128-byte directory entry, or None for an unused slot."""
        name_len, kind = struct.unpack_from("<HB", raw, 64)
        if kind not in (1, 2, 5):
            return None
        name = raw[: min(name_len, 64)].decode("utf-16-le", errors="replace").rstrip("\x00")
        start, size = struct.unpack_from("<IQ", raw, 116)
        if self._v3:
            size &= 0xFFFFFFFF
        return OleEntry(name, kind, start, size)

    def read_stream(self, entry: OleEntry, limit: int) -> bytes:
        """The first ``limit`` bytes of a stream, from regular sectors or the mini stream."""
        limit = min(limit, entry.size)
        if entry.size >= self._cutoff:
            return self._read_chain(entry.start, limit)
        return self._read_mini(entry.start, limit)

    def _read_mini(self, start: int, limit: int) -> bytes:
        """The first ``limit`` bytes of a stream kept in the mini stream (64-byte mini sectors)."""
        if self._root is None:
            raise OleError("no root entry")
        if self._minifat is None:
            raw = b"".join(self._sector(s) for s in self._chain(self._first_minifat, self._fat, self._nsect))
            self._minifat = list(self._words(raw))
        mini_ids = self._chain(start, self._minifat, -(-limit // 64))
        container = self._read_chain(self._root.start, min(self._root.size, (max(mini_ids, default=0) + 1) * 64))
        data = b"".join(container[m * 64 : m * 64 + 64] for m in mini_ids)
        return data[:limit]

