"""What a returned workbook says: the data contract between reading and everything after it.

The reader turns a file into a :class:`Submission`: the returned values as domain-model objects (so rules,
reconciliation and consolidation reuse the master's types) plus, for every value, where it was found
(:class:`Location`: sheet, cell, how it was found and the raw text). Paths into ``locations`` are:

- project fields: ``code``, ``name``, ``budget``, ``fiscal``, ``other``, ``purpose``, ``annual_goal``,
  ``plan.<节点>`` (e.g. ``plan.12月底``), ``footer.filler``, ``footer.phone``, ``footer.date``;
- indicator fields: ``ind<k>.<field>`` with ``k`` the 0-based index into ``project.indicators`` and field one
  of level1, level2, name, description, operator, value, unit, basis, weight;
- department fields: ``overall_goal``, ``measures`` (the 工作保障措施 text), ``goal<seq>.name``, ``goal<seq>.goal``, ``dind<k>.<field>``, and the
  totals the sheet shows, ``unit.budget``, ``unit.fiscal``, ``unit.other`` (raw text in the Location), and
  ``footer.filler``, ``footer.phone``, ``footer.date``;
- on either kind of sheet, ``extra.<名称>`` for a field the template declares with ``{{ extra.<名称> }}``.

Besides the fields, a sheet keeps its :class:`Footer` (填表人, 联系电话, 填报日期 with the date normalised) and
its extra fields by name; a department indicator typed without a 序号 keeps ``seq`` None (and its P-DEPT-SEQ
finding). Whatever was typed where the form has no field at all is listed in ``Submission.other_content``
(:class:`OtherContent`: sheet, cell, text and a Chinese note), so that nothing a unit typed is lost.

Submissions serialise to plain JSON (:func:`submission_to_dict`) and back (:func:`submission_from_dict`),
so the ledger can keep every import and consolidation can run from the ledger alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, is_dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any, Callable, Mapping

from .findings import Finding
from .model import DeptGoal, DeptIndicator, DeptMeasure, Indicator, PlanPoint, Project, field_names, to_plain

FOUND_BY = ("name", "meta", "label", "template")
# Sheets of a 退回修改 workbook besides the form's own (a unit may send such a workbook back as its return).
GUIDE_SHEET = "填报说明"
PROBLEMS_SHEET = "问题清单"
OTHER_CONTENT_SHEET = "其他填写内容"


@dataclass(frozen=True)
class Location:
    """Where a value was read: sheet and A1 cell, how it was located, and the text as the cell held it."""

    sheet: str
    cell: str
    found_by: str
    raw: str = ""


@dataclass(frozen=True)
class Footer:
    """填表人, 联系电话 and 填报日期 as one sheet gives them: the texts as typed, the date also as ISO
    (YYYY-MM-DD, "" when blank or not a date)."""

    filler: str = ""
    phone: str = ""
    date: str = ""
    date_raw: str = ""

    @property
    def filled(self) -> bool:
        """True when any of the three was filled in."""
        return bool(self.filler or self.phone or self.date_raw)


@dataclass(frozen=True)
class OtherContent:
    """Something typed where the form has no field (below the grid, in an added column or sheet, in a
    locked cell whose protection was removed), with a Chinese note on where that is."""

    sheet: str
    cell: str
    text: str
    note: str = ""


@dataclass(frozen=True)
class ReturnedProject:
    """One project sheet of a return."""

    key: str
    sheet: str
    project: Project
    locations: Mapping[str, Location] = field(default_factory=dict)
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    footer: Footer | None = None
    extras: Mapping[str, str] = field(default_factory=dict)

    def where(self, path: str) -> Location | None:
        """The location of a field path, or None when the field was not found."""
        return self.locations.get(path)


@dataclass(frozen=True)
class ReturnedDept:
    """The 部门整体绩效目标 sheet of a return."""

    sheet: str
    overall_goal: str = ""
    goals: tuple[DeptGoal, ...] = ()
    indicators: tuple[DeptIndicator, ...] = ()
    locations: Mapping[str, Location] = field(default_factory=dict)
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    footer: Footer | None = None
    extras: Mapping[str, str] = field(default_factory=dict)
    # 工作保障措施 as read from the form's text field (its text is the Location ``measures``); () when the form
    # has no such field, or for a submission stored before it had one.
    measures: tuple[DeptMeasure, ...] = ()

    def where(self, path: str) -> Location | None:
        """The location of a field path, or None."""
        return self.locations.get(path)


@dataclass(frozen=True)
class Submission:
    """Everything read from one returned file (or, when unreadable, only its identity and findings)."""

    file: str
    sha256: str
    kind: str
    unit_code: str = ""
    unit_name: str = ""
    template_id: str = ""
    template_version: str = ""
    master_fingerprint: str = ""
    producer: str = ""
    # When the file itself says it was last saved (ISO 8601 UTC, "" when it does not say); the ledger decides
    # whether to believe it (see counting.credible_saved_at).
    saved_at: str = ""
    projects: tuple[ReturnedProject, ...] = ()
    dept: ReturnedDept | None = None
    findings: tuple[Finding, ...] = ()
    other_content: tuple[OtherContent, ...] = ()

    @property
    def readable(self) -> bool:
        """True when the file could be read as one of our forms."""
        return bool(self.projects) or self.dept is not None

    @property
    def contact(self) -> Footer:
        """The person to call about this return: each of 填表人, 联系电话, 填报日期 as first filled in, on
        the project sheets in order and then the department sheet (an empty Footer when none was)."""
        footers = [s.footer for s in (*self.projects, self.dept) if s is not None and s.footer is not None]
        dated = next((f for f in footers if f.date_raw), Footer())
        return Footer(filler=next((f.filler for f in footers if f.filler), ""),
                      phone=next((f.phone for f in footers if f.phone), ""), date=dated.date, date_raw=dated.date_raw)

    def project(self, code: str) -> ReturnedProject | None:
        """The returned project with this 项目编码, or None."""
        return next((p for p in self.projects if p.project.code == code), None)


# ---------------------------------------------------------------------------------------------------------
# JSON


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"decimal"}:
        return Decimal(value["decimal"])
    return value


def submission_to_dict(sub: Submission) -> dict:
    """A JSON-ready dict; Decimals become ``{"decimal": "6.00"}`` so they come back exact."""
    return to_plain(sub, lambda d: {"decimal": str(d)})


def submission_json(sub: Submission) -> str:
    """``json.dumps(submission_to_dict(sub))``, compact and not ASCII-escaped, to the same text.

    The JSON encoder walks the tree itself and asks :func:`_plain_default` only about dataclasses,
    Decimals and non-dict mappings, instead of a Python call for every value of the tree first.
    """
    return json.dumps(sub, default=_plain_default, ensure_ascii=False, separators=(",", ":"))


def _plain_default(value: Any) -> Any:
    """One level of :func:`~jixiao_xl.model.to_plain` for what the JSON encoder cannot write by itself."""
    convert = _CONVERTERS.get(type(value))
    if convert is None:
        convert = _CONVERTERS[type(value)] = _converter(type(value))
    return convert(value)


def _converter(cls: type) -> Callable[[Any], Any]:
    """How :func:`_plain_default` turns an instance of ``cls`` into something the JSON encoder writes."""
    if issubclass(cls, Decimal):
        return lambda value: {"decimal": str(value)}
    if is_dataclass(cls):
        names = field_names(cls)
        if len(names) == 1:  # attrgetter of one name gives the value, not a tuple
            return lambda value: {names[0]: getattr(value, names[0])}
        values = attrgetter(*names) if names else (lambda value: ())
        return lambda value: dict(zip(names, values(value)))
    if issubclass(cls, Mapping):
        return dict

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")

    return refuse


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


def _project_from(data: dict) -> Project:
    return Project(
        unit_code=data["unit_code"], code=data["code"], name=data["name"], budget=_typed(data["budget"]),
        fiscal=_typed(data["fiscal"]), other=_typed(data["other"]), purpose=data["purpose"],
        annual_goal=data["annual_goal"],
        plan=tuple(PlanPoint(p["node"], _typed(p["amount"])) for p in data["plan"]),
        indicators=tuple(Indicator(**{k: _typed(v) for k, v in i.items()}) for i in data["indicators"]),
    )


def _locations(data: dict, keep=lambda path: True) -> dict[str, Location]:
    return {path: Location(loc["sheet"], loc["cell"], loc["found_by"], loc["raw"]) for path, loc in data.items()
            if keep(path)}


def _not_indicator(path: str) -> bool:
    return not path.startswith(("ind", "dind"))


def _notes(data: dict) -> dict[str, tuple[str, ...]]:
    return {path: tuple(items) for path, items in data.items()}


def _footer(data: dict | None) -> Footer | None:
    """A Footer from its JSON (None for a sheet without one, or a submission stored before footers)."""
    return Footer(**data) if data else None


def submission_from_dict(data: dict, indicator_locations: bool = True) -> Submission:
    """Inverse of :func:`submission_to_dict`.

    With ``indicator_locations`` False the cells of indicator rows are left out (most of a submission's
    bulk), for callers such as consolidation that only trace money back to its cells.
    """
    keep = (lambda path: True) if indicator_locations else _not_indicator
    projects = tuple(
        ReturnedProject(p["key"], p["sheet"], _project_from(p["project"]), _locations(p["locations"], keep),
                        _notes(p["notes"]), _footer(p.get("footer")), dict(p.get("extras") or {}))
        for p in data["projects"]
    )
    dept = None
    if data.get("dept") is not None:
        d = data["dept"]
        dept = ReturnedDept(
            sheet=d["sheet"], overall_goal=d["overall_goal"],
            goals=tuple(DeptGoal(**g) for g in d["goals"]),
            indicators=tuple(DeptIndicator(**{k: _typed(v) for k, v in i.items()}) for i in d["indicators"]),
            locations=_locations(d["locations"], keep), notes=_notes(d["notes"]), footer=_footer(d.get("footer")),
            extras=dict(d.get("extras") or {}),
            measures=tuple(DeptMeasure(**m) for m in d.get("measures") or ()),
        )
    findings = tuple(Finding(**f) for f in data["findings"])
    scalars = {k: data[k] for k in ("file", "sha256", "kind", "unit_code", "unit_name", "template_id",
                                    "template_version", "master_fingerprint", "producer")}
    other = tuple(OtherContent(**item) for item in data.get("other_content") or ())
    return Submission(**scalars, saved_at=data.get("saved_at", ""), projects=projects, dept=dept, findings=findings,
                      other_content=other)


def locate(finding_fields: Mapping[str, Any], where: Location | None) -> dict[str, Any]:
    """Finding keyword arguments with sheet, cell and found_by taken from a location (when known)."""
    if where is None:
        return dict(finding_fields)
    return {**finding_fields, "sheet": where.sheet, "cell": where.cell, "found_by": where.found_by}
