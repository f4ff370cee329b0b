"""The returns consolidation reads: each counted import with its :class:`~jixiao_xl.digest.Digest`, and the
person to call for each. A digest the ledger cannot decode is rebuilt from the stored submission, or the
return is left out, with an L-LEDGER-DIGEST finding either way (:mod:`.integrity`)."""

from __future__ import annotations

import json
from typing import Iterable, Iterator

from ..digest import Digest, digest, digest_from_json
from ..findings import Finding
from ..submission import Footer
from .imports import ImportQueries
from .integrity import UNDECODABLE, digest_problem
from .rows import AcceptedReturn


class Returns(ImportQueries):
    """Digests and contacts of the counted returns."""

    def digest_of(self, import_id: int) -> Digest:
        """The consolidation digest of a completed import (computed from the full submission when it has none)."""
        values = self._db.execute("SELECT digest_json FROM digests WHERE import_id = ?", (import_id,)).fetchone()
        if values is None:
            return digest(self.submission_of(import_id, indicator_locations=False))
        return digest_from_json(values[0])

    def accepted_returns(self, problems: list[Finding] | None = None) -> Iterator[AcceptedReturn]:
        """Every accepted import (as :meth:`latest_by_unit` picks them), oldest first, with its digest: one
        query for all of them, decoded one at a time.

        A digest that cannot be decoded is rebuilt from the stored submission; when that fails too, the
        import is left out. Either way an L-LEDGER-DIGEST finding naming the import is appended to
        ``problems`` (when given; otherwise the decoding error is raised).
        """
        digests = "d.digest_json" if self.has_table("digests") else "NULL"
        join = " LEFT JOIN digests AS d ON d.import_id = i.id" if digests != "NULL" else ""
        rows = self._db.execute(
            f"SELECT i.id, i.unit_code, i.file_name, i.sha256, {digests} FROM imports AS i{join}"
            " WHERE i.id IN (SELECT value FROM json_each(?)) ORDER BY i.id", (self._counted_json(),))
        for import_id, unit_code, file_name, sha256, text in rows:
            try:
                found = self._stored_digest(import_id, text, problems, file_name, unit_code)
            except UNDECODABLE as exc:
                if problems is None:
                    raise
                problems.append(digest_problem(import_id, file_name, unit_code, exc, recovered=False))
                continue
            yield AcceptedReturn(import_id, unit_code, file_name, sha256, found)

    def contacts(self, import_ids: Iterable[int]) -> dict[int, Footer]:
        """The person to call (填表人, 联系电话, 填报日期) of each of these imports (the counted ones, as a rule),
        by import id, in one query.

        The contact is read out of each digest by SQLite (no digest is decoded here: 20,000 units are one
        query). An import whose digest predates contacts, or is damaged, has it taken from its stored
        submission; an import whose submission cannot be read either gets an empty contact (consolidation
        reports the damage as L-LEDGER-DIGEST).
        """
        wanted = sorted(set(import_ids))
        if not self.has_table("digests"):
            return {import_id: self._contact_from_submission(import_id) for import_id in wanted}
        rows = self._db.execute(
            "SELECT c.value, json_type(d.j, '$.contact'), json_extract(d.j, '$.contact.filler'),"
            " json_extract(d.j, '$.contact.phone'), json_extract(d.j, '$.contact.date'),"
            " json_extract(d.j, '$.contact.date_raw')"
            " FROM json_each(?) AS c LEFT JOIN (SELECT import_id,"
            " CASE WHEN json_valid(digest_json) THEN digest_json END AS j FROM digests) AS d ON d.import_id = c.value",
            (json.dumps(wanted),))
        found = {}
        for import_id, kind, *texts in rows:
            if kind == "object":
                found[import_id] = Footer(*(str(text or "") for text in texts))
            else:
                found[import_id] = self._contact_from_submission(import_id)
        return found

    def _contact_from_submission(self, import_id: int) -> Footer:
        """The contact of an import read from its whole stored submission (empty when that cannot be read)."""
        try:
            return self.submission_of(import_id, indicator_locations=False).contact
        except UNDECODABLE:
            return Footer()

    def _stored_digest(self, import_id: int, text: str | None, problems: list[Finding] | None, file_name: str,
                       unit_code: str) -> Digest:
        """The digest stored as ``text``; rebuilt from the submission when there is none or it is damaged."""
        if text is None:
            return digest(self.submission_of(import_id, indicator_locations=False))
        try:
            return digest_from_json(text)
        except UNDECODABLE as exc:
            if problems is None:
                raise
            rebuilt = digest(self.submission_of(import_id, indicator_locations=False))
            problems.append(digest_problem(import_id, file_name, unit_code, exc, recovered=True))
            return rebuilt
