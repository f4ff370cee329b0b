"""The ``read`` command's JSON: a submission with each value's raw text, cell and how it was found."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from ..submission import Location, ReturnedDept, ReturnedProject, Submission
from .context import FOOTER_FIELDS


def _json_value(value) -> object:
    """A value as JSON holds it (Decimal as text)."""
    if isinstance(value, Decimal):
        return str(value)
    return value


def _field(value, location: Location | None) -> dict:
    """One field as `read` prints it: value, and raw text, cell and how it was found when located."""
    entry = {"value": _json_value(value)}
    if location is not None:
        entry.update(raw=location.raw, cell=f"{location.sheet}!{location.cell}", found_by=location.found_by)
    return entry


def submission_report(sub: Submission) -> dict:
    """A submission as the `read` command prints it: each value with raw text, cell and how it was found."""
    projects = []
    for rp in sub.projects:
        p = rp.project
        fields = {name: _field(getattr(p, name), rp.where(name))
                  for name in ("code", "name", "budget", "fiscal", "other", "purpose", "annual_goal")}
        fields.update({f"支出计划-{pt.node}": _field(pt.amount, rp.where(f"plan.{pt.node}")) for pt in p.plan})
        indicators = [
            {part: _field(getattr(ind, part), rp.where(f"ind{k}.{part}")) for part in
             ("level1", "level2", "name", "description", "operator", "value", "unit", "basis", "weight")}
            | ({"notes": list(rp.notes[f"ind{k}.value"])} if f"ind{k}.value" in rp.notes else {})
            for k, ind in enumerate(p.indicators)
        ]
        fields.update(_footer_fields(rp))
        projects.append({"key": rp.key, "sheet": rp.sheet, "fields": fields, "indicators": indicators})
    dept = None
    if sub.dept is not None:
        d = sub.dept
        dept = {
            "sheet": d.sheet,
            "overall_goal": _field(d.overall_goal, d.where("overall_goal")),
            "measures": _field(d.where("measures").raw if d.where("measures") else "", d.where("measures"))
            | {"items": [{"seq": m.seq, "title": m.title, "text": m.text} for m in d.measures]},
            "goals": [{"seq": g.seq, "name": _field(g.name, d.where(f"goal{g.seq}.name")),
                       "goal": _field(g.goal, d.where(f"goal{g.seq}.goal"))} for g in d.goals],
            "indicators": [{"seq": i.seq} | {part: _field(getattr(i, part), d.where(f"dind{k}.{part}")) for part in
                                             ("level1", "level2", "name", "operator", "value", "unit", "basis")}
                           for k, i in enumerate(d.indicators)],
            "fields": _footer_fields(d),
        }
    return {
        "file": sub.file, "sha256": sub.sha256, "kind": sub.kind, "unit_code": sub.unit_code, "unit_name": sub.unit_name,
        "template_id": sub.template_id, "template_version": sub.template_version,
        "master_fingerprint": sub.master_fingerprint, "producer": sub.producer, "saved_at": sub.saved_at,
        "projects": projects, "department": dept, "findings": [f.as_row() for f in sub.findings],
        "contact": asdict(sub.contact),
        "other_content": [asdict(item) for item in sub.other_content],
    }


def _footer_fields(sheet: ReturnedProject | ReturnedDept) -> dict:
    """The footer (填表人, 联系电话, 填报日期 with the date as ISO) and the extra fields of one sheet, as `read` prints them."""
    fields = {}
    footer = sheet.footer
    if footer is not None:
        for path, value in zip(FOOTER_FIELDS, (footer.filler, footer.phone, footer.date or footer.date_raw)):
            fields[path] = _field(value, sheet.where(path))
    fields.update({f"extra.{name}": _field(text, sheet.where(f"extra.{name}")) for name, text in sheet.extras.items()})
    return fields
