"""What a return adds up to: the consolidation digest of a submission (DESIGN §9).

A :class:`Digest` keeps of one return only what consolidation reads — the unit's name, every project's
numbers with the cells they came from, the indicators counted by (一级, 二级, 指标性质), the extra fields and
the person to call — a couple of kilobytes instead of the whole form. The ledger stores it beside the
submission (:func:`encode`, run in the import's worker processes) and :mod:`.consolidate` reads it back
(:func:`digest_from_json`); neither the digest's shape nor its JSON depends on how it is stored.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Iterable, NamedTuple

from .model import Indicator
from .submission import Footer, Submission, submission_json

IndicatorTally = tuple[tuple[str, str, str, int], ...]
ExtraFields = tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class DigestProject:
    """One project of a :class:`Digest`: code, name, the sheet it was read from, and its numbers.

    ``paths`` names each number (``budget``, ``fiscal``, ``other``, ``plan.<节点>``); ``values`` holds them
    (None when blank) and ``cells`` the cell each was read from: ``B4`` on the project's sheet, ``表名!B4``
    on another, "" when the form did not have the field. ``extras`` holds the sheet's extra fields (a template's
    ``{{ extra.<名称> }}``) as (名称, value, cell), in the order the template declares them.
    """

    code: str
    name: str
    sheet: str
    paths: tuple[str, ...]
    values: tuple[Decimal | None, ...]
    cells: tuple[str, ...]
    extras: ExtraFields = ()

    def number(self, path: str) -> tuple[Decimal | None, str]:
        """The value at ``path`` and its cell; (None, "") when the project has no such number."""
        if path not in self.paths:
            return None, ""
        k = self.paths.index(path)
        return self.values[k], self.cells[k]


@dataclass(frozen=True)
class Digest:
    """What consolidation needs of one return: the unit's name as returned, every project's numbers and
    their cells, and the indicators counted by (一级, 二级, 指标性质) in the order first seen (indicator rows
    left entirely blank are not counted). Texts and indicator values are left out; of the department sheet only
    its extra fields are kept (cells as ``表名!B4``). ``contact`` is the person to call (:attr:`Submission.contact`);
    ``contact`` None means a digest stored before contacts were digested (see :meth:`.ledger.Ledger.contacts`)."""

    unit_name: str
    projects: tuple[DigestProject, ...]
    indicators: IndicatorTally = ()
    dept_extras: ExtraFields = ()
    contact: Footer | None = None


def tally_indicators(indicators: Iterable[Indicator]) -> IndicatorTally:
    """How many filled indicators there are of each (一级, 二级, 指标性质), in the order first seen."""
    counts: dict[tuple[str, str, str], int] = {}
    for i in indicators:
        if i.level1 or i.level2 or i.name:
            key = (i.level1, i.level2, i.operator)
            counts[key] = counts.get(key, 0) + 1
    return tuple((*key, n) for key, n in counts.items())


def _cell_of(rp, path: str) -> str:
    """Where a project's number was read: ``B4`` on its own sheet, ``表名!B4`` on another, "" when unknown."""
    where = rp.locations.get(path)
    if where is None:
        return ""
    return where.cell if where.sheet == rp.sheet else f"{where.sheet}!{where.cell}"


def _extra_fields(sheet, qualify: bool) -> ExtraFields:
    """A sheet's extra fields as (名称, value, cell); the cell as ``表名!B4`` when ``qualify``."""
    fields = []
    for name, value in sheet.extras.items():
        where = sheet.locations.get(f"extra.{name}")
        if where is None:
            cell = ""
        elif qualify or where.sheet != sheet.sheet:
            cell = f"{where.sheet}!{where.cell}"
        else:
            cell = where.cell
        fields.append((name, value, cell))
    return tuple(fields)


def _digest_project(rp) -> DigestProject:
    """One returned project as the digest keeps it: its money and plan, each with its cell, and its extras."""
    p = rp.project
    numbers = [("budget", p.budget), ("fiscal", p.fiscal), ("other", p.other),
               *((f"plan.{point.node}", point.amount) for point in p.plan)]
    return DigestProject(p.code, p.name, rp.sheet, tuple(path for path, _ in numbers),
                         tuple(value for _, value in numbers), tuple(_cell_of(rp, path) for path, _ in numbers),
                         _extra_fields(rp, qualify=False))


def digest(sub: Submission) -> Digest:
    """The consolidation digest of a submission (see :class:`Digest`)."""
    return Digest(sub.unit_name, tuple(_digest_project(rp) for rp in sub.projects),
                  tally_indicators(i for rp in sub.projects for i in rp.project.indicators),
                  _extra_fields(sub.dept, qualify=True) if sub.dept is not None else (), sub.contact)


def digest_json(d: Digest) -> str:
    """The digest as the ledger stores it: compact JSON, amounts as exact decimal text."""
    projects = [{"code": p.code, "name": p.name, "sheet": p.sheet, "paths": p.paths,
                 "values": [None if value is None else str(value) for value in p.values], "cells": p.cells,
                 **({"extras": p.extras} if p.extras else {})}
                for p in d.projects]
    document = {"unit_name": d.unit_name, "projects": projects, "indicators": d.indicators}
    if d.dept_extras:
        document["dept_extras"] = d.dept_extras
    if d.contact is not None:
        document["contact"] = asdict(d.contact)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _decimals(texts: list[str | None]) -> tuple[Decimal | None, ...]:
    """Stored amounts back as Decimals (None stays None)."""
    if None in texts:
        return tuple(None if text is None else Decimal(text) for text in texts)
    return tuple(map(Decimal, texts))


def digest_from_json(text: str) -> Digest:
    """A digest stored by :func:`digest_json` (raises ValueError, KeyError … when the text is damaged)."""
    data = json.loads(text)
    # Every project repeats the same few paths, cells and sheet names; one copy of each saves memory.
    projects = tuple(
        DigestProject(p["code"], p["name"], sys.intern(p["sheet"]), tuple(map(sys.intern, p["paths"])),
                      _decimals(p["values"]), tuple(map(sys.intern, p["cells"])),
                      tuple(map(tuple, p.get("extras", ()))))
        for p in data["projects"])
    contact = data.get("contact")
    return Digest(data["unit_name"], projects, tuple(map(tuple, data["indicators"])),
                  tuple(map(tuple, data.get("dept_extras", ()))), None if contact is None else Footer(**contact))


class Encoded(NamedTuple):
    """A submission as the ledger stores it: the whole submission and its consolidation digest, as JSON."""

    payload: str
    digest: str


def encode(sub: Submission) -> Encoded:
    """The JSON texts :meth:`.ledger.Ledger.complete` stores for ``sub`` (workers call this so the parent need not)."""
    return Encoded(submission_json(sub), digest_json(digest(sub)))
