"""The templates a batch was issued with: which :class:`~.spec.FormSpec` reads and sends back each unit's return.

A bureau may change its templates between batches; the ledger keeps every template's bytes, and a return is
read with the template it was made from (DESIGN §10, issue 13 item 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import InputError
from .compiler import spec_from_bytes
from .spec import FormSpec

TemplateKey = tuple[str, str]  # (template id, version), as a form records them in _meta and its properties


def template_key(spec: FormSpec) -> TemplateKey:
    """The identity a form made from ``spec`` records."""
    return spec.template_id, spec.version


@dataclass(frozen=True)
class TemplateSet:
    """The templates returns are read and sent back with (DESIGN §10, issue 13 item 7).

    ``default`` is the pair used when nothing better is known (the command line's or the shipped templates);
    ``known`` every template whose bytes the ledger keeps, by the identity a form records; ``issued`` the
    identities of the pair last issued to each unit. A return is read with the template it says it was made
    from when that one is known, else with the pair its unit was issued, else with the default; it is sent
    back with the pair its unit was issued.
    """

    default: tuple[FormSpec, FormSpec]
    known: Mapping[TemplateKey, FormSpec] = field(default_factory=dict)
    issued: Mapping[str, tuple[TemplateKey, TemplateKey]] = field(default_factory=dict)

    def _spec(self, key: TemplateKey | None, kind: str) -> FormSpec | None:
        spec = self.known.get(key) if key else None
        return spec if spec is not None and spec.kind == kind else None

    def issued_to(self, unit_code: str) -> tuple[FormSpec, FormSpec] | None:
        """The pair of templates last issued to the unit, when the ledger keeps both."""
        keys = self.issued.get(unit_code)
        if keys is None:
            return None
        project, dept = self._spec(keys[0], "project"), self._spec(keys[1], "department")
        return (project, dept) if project is not None and dept is not None else None

    def for_return(self, unit_code: str, project_key: TemplateKey | None,
                   dept_key: TemplateKey | None) -> tuple[FormSpec, FormSpec]:
        """The pair to read a return with, given the unit and the template identities it records."""
        fallback = self.issued_to(unit_code) or self.default
        return (self._spec(project_key, "project") or fallback[0],
                self._spec(dept_key, "department") or fallback[1])

    def for_sendback(self, unit_code: str, project_key: TemplateKey | None) -> tuple[FormSpec, FormSpec]:
        """The pair a unit's 退回修改 is rendered with: the pair it was issued, else the one its return was read with."""
        issued = self.issued_to(unit_code)
        if issued is not None:
            return issued
        return self._spec(project_key, "project") or self.default[0], self.default[1]

    def expected(self, unit_code: str) -> TemplateKey:
        """The (template id, version) a return of the unit should record: what it was issued, else the default's."""
        keys = self.issued.get(unit_code)
        return keys[0] if keys is not None else template_key(self.default[0])


def as_template_set(specs: "tuple[FormSpec, FormSpec] | TemplateSet") -> TemplateSet:
    """``specs`` as a :class:`TemplateSet` (a plain pair becomes one that always answers that pair)."""
    return specs if isinstance(specs, TemplateSet) else TemplateSet(tuple(specs))


def template_set(default: tuple[FormSpec, FormSpec], blobs: Iterable, issued: Iterable) -> TemplateSet:
    """A :class:`TemplateSet` from the ledger's template blobs and latest issued rows (``Ledger.template_blobs``,
    ``Ledger.issued_latest().values()``). A stored template that the default pair already is, is not compiled
    again; one that no longer compiles is left out (its returns fall back as if it were unknown)."""
    known: dict[TemplateKey, FormSpec] = {template_key(spec): spec for spec in default}
    for blob in blobs:
        if (blob.template_id, blob.version) in known:
            continue
        try:
            spec = spec_from_bytes(blob.content, blob.file_name)
        except InputError:
            continue
        known[template_key(spec)] = spec
    units = {row.unit_code: ((row.template_id, row.template_version), (row.dept_template_id, row.dept_template_version))
             for row in issued}
    return TemplateSet(default, known, units)


def ledger_templates(default: tuple[FormSpec, FormSpec], ledger_path: Path | None) -> TemplateSet:
    """:func:`template_set` from the ledger at ``ledger_path``; just the default pair when there is no ledger."""
    if ledger_path is None or not Path(ledger_path).is_file():
        return TemplateSet(default)
    from ..ledger import Ledger

    with Ledger.open(ledger_path) as ledger:
        return template_set(default, ledger.template_blobs(), ledger.issued_latest().values())
