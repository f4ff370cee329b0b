"""The master's fingerprint: a sha256 over a canonical JSON serialisation, written by hand for speed.

Every issued workbook carries the fingerprint of the master it was made from, so that a return can be
matched with its master; the same master as .xlsx, CSV or JSON gives the same fingerprint.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import operator
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterator

from ..model import Master, to_plain
from .tables import tuple_getter

_FINGERPRINT_PREFIX = "jixiao-xl master 1\n"
# Master fields added after the fingerprint was first specified: left out of it while empty, so that a
# master without them keeps the fingerprint its issued workbooks carry.
LATER_FIELDS = frozenset({"dept_measures"})
_FINGERPRINT_CHUNK = 2000  # items of a top-level list serialised (and hashed) at a time


def compute_fingerprint(master: Master) -> str:
    """The sha256 hex of a canonical serialisation of ``master`` (its own fingerprint excluded).

    The serialisation is ``json.dumps(to_plain(master) without "fingerprint" (and without the
    :data:`LATER_FIELDS` that are empty), sort_keys=True,
    ensure_ascii=False, separators=(",", ":"))`` with every Decimal written as ``{"decimal": normal form}``
    (6.00 and 6 are the same amount), so the same master in .xlsx, CSV or JSON gives the same fingerprint.
    It is produced and hashed piece by piece (:class:`_CanonicalJson`): the whole text of a province-sized
    master would be a gigabyte.
    """
    digest = hashlib.sha256(_FINGERPRINT_PREFIX.encode("utf-8"))
    for piece in _CanonicalJson().master_pieces(master):
        digest.update(piece.encode("utf-8"))
    return digest.hexdigest()


_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a str


def _canonical_json(value: object) -> object:
    if isinstance(value, Decimal):
        # Tagged so that the number 30 and the text "30" stay different.
        return {"decimal": "0" if value == 0 else format(value.normalize(), "f")}
    raise TypeError(f"cannot serialise {type(value).__name__}")


class _CanonicalJson:
    """Writes model objects exactly as ``json.dumps`` writes their ``to_plain`` form (see compute_fingerprint).

    Dataclasses, tuples and lists, str, None, int and Decimal are written here; anything else goes
    through ``json.dumps`` itself. A master repeats its texts and amounts many times over, so the
    ``"field":value`` text of each distinct str and Decimal is made once per field and looked up after that.
    """

    def __init__(self) -> None:
        self._known: dict[type, tuple[_Shape, tuple[_Fragments, ...]] | None] = {}

    def master_pieces(self, master: Master) -> Iterator[str]:
        """The serialisation of ``master`` without its fingerprint, in pieces of bounded size."""
        names = [name for name in _sorted_fields(type(master))
                 if name != "fingerprint" and not (name in LATER_FIELDS and not getattr(master, name))]
        for position, name in enumerate(names):
            yield ("{" if position == 0 else ",") + _encode_str(name) + ":"
            value = getattr(master, name)
            if isinstance(value, (tuple, list)):
                yield from self._list_pieces(value)
            else:
                yield self.encode(value)
        yield "}" if names else "{}"

    def _list_pieces(self, items: tuple | list) -> Iterator[str]:
        yield "["
        for start in range(0, len(items), _FINGERPRINT_CHUNK):
            chunk = ",".join(map(self.encode, items[start:start + _FINGERPRINT_CHUNK]))
            yield chunk if start == 0 else "," + chunk
        yield "]"

    def encode(self, value: Any) -> str:
        """The canonical JSON text of one value."""
        kind = value.__class__
        if kind is tuple or kind is list:
            return "[" + ",".join(map(self.encode, value)) + "]"
        known = self._known.get(kind, _NOT_YET)
        if known is _NOT_YET:
            known = self._known[kind] = self._shape_of(kind)
        if known is not None:
            return self._object(value, *known)
        return _plain_json(value, self.encode)

    def _shape_of(self, kind: type) -> tuple[_Shape, tuple[_Fragments, ...]] | None:
        if not dataclasses.is_dataclass(kind):
            return None
        shape = _shape(kind)
        return shape, tuple(_Fragments(key) for key in shape.plain_keys)

    def _object(self, value: Any, shape: _Shape, fragments: tuple[_Fragments, ...]) -> str:
        try:
            parts = tuple(map(dict.__getitem__, fragments, shape.plain(value)))
        except TypeError:  # an unhashable value where the annotation promised a plain one
            parts = tuple(map(operator.add, shape.plain_keys, map(self.encode, shape.plain(value))))
        if shape.nested is not None:
            nested = map(operator.add, shape.nested_keys, map(self.encode, shape.nested(value)))
            parts = shape.in_key_order(parts + tuple(nested))
        return "{" + ",".join(parts) + "}"


_NOT_YET = object()


def _plain_json(value: Any, encode: Callable[[Any], str]) -> str:
    """The JSON of a value that is not a dataclass (containers inside it through ``encode``)."""
    kind = value.__class__
    if kind is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if kind is Decimal:
        return '{"decimal":' + _encode_str(_canonical_json(value)["decimal"]) + "}"  # type: ignore[index]
    if kind is int:
        return int.__repr__(value)
    if isinstance(value, (tuple, list)) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        return encode(value)
    return json.dumps(to_plain(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=_canonical_json)


def _encode_apart(value: Any) -> str:
    """A container found where a plain value was expected, written by a writer of its own.

    (Rare; a :class:`_Fragments` holding its writer's ``encode`` would make a reference cycle.)
    """
    return _CanonicalJson().encode(value)


class _Fragments(dict):
    """One field's value → its ``"field":value`` JSON text, made on first use.

    Only str and None are kept as keys, because a lookup matches by equality and Decimal("1") == 1 ==
    True must not share one text; Decimals are kept apart, by value (equal amounts have one normal form).
    """

    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key
        self._decimals: dict[Decimal, str] = {}

    def __missing__(self, value: Any) -> str:
        if value.__class__ is Decimal:
            try:
                return self._decimals[value]
            except KeyError:
                text = self._decimals[value] = self._key + _plain_json(value, _encode_apart)
                return text
            except TypeError:  # a signalling NaN cannot be hashed
                pass
        text = self._key + _plain_json(value, _encode_apart)
        if value is None or value.__class__ is str:
            self[value] = text
        return text


@dataclass(frozen=True)
class _Shape:
    """How to write one dataclass: its ``"field":value`` parts in key order, joined by commas.

    The fields annotated as plain values (str, int, Decimal, None) are fetched and looked up together;
    the others (tuples, other dataclasses) are encoded one by one and put back in key order.
    """

    plain_keys: tuple[str, ...]  # '"a":' for each plain field
    plain: Callable[[Any], tuple]
    nested_keys: tuple[str, ...]
    nested: Callable[[Any], tuple] | None
    in_key_order: Callable[[tuple], tuple]


_PLAIN_ANNOTATION = re.compile(r"^\s*(?:str|int|Decimal|None)(?:\s*\|\s*(?:str|int|Decimal|None))*\s*$")


@functools.lru_cache(maxsize=None)
def _shape(cls: type) -> _Shape:
    fields = sorted(dataclasses.fields(cls), key=lambda f: f.name)
    is_plain = [isinstance(f.type, str) and bool(_PLAIN_ANNOTATION.match(f.type)) for f in fields]
    plain = [f.name for f, p in zip(fields, is_plain) if p]
    nested = [f.name for f, p in zip(fields, is_plain) if not p]
    # (plain parts + nested parts)[position[k]] is the part of the k-th field in key order.
    position = {name: k for k, name in enumerate(plain + nested)}
    return _Shape(
        plain_keys=tuple(_encode_str(name) + ":" for name in plain),
        plain=tuple_getter(operator.attrgetter, plain),
        nested_keys=tuple(_encode_str(name) + ":" for name in nested),
        nested=tuple_getter(operator.attrgetter, nested) if nested else None,
        in_key_order=tuple_getter(operator.itemgetter, [position[f.name] for f in fields]),
    )


@functools.lru_cache(maxsize=None)
def _sorted_fields(cls: type) -> tuple[str, ...]:
    return tuple(sorted(f.name for f in dataclasses.fields(cls)))
