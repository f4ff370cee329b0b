"""The ledger: every import, kept forever in one SQLite file (DESIGN §1, §9).

An import is recorded in two steps, each its own transaction (:mod:`.recording`): the file's identity before
anything is parsed, so even a file that crashes the reader leaves a trace (status ``received``); then what
was read — the submission as JSON and its consolidation :class:`~jixiao_xl.digest.Digest`, every finding,
the status ``parsed`` or ``failed`` — together with the supersession of the unit's earlier accepted return.
Re-importing identical bytes is a no-op (``duplicate``); a row left at ``received`` by a crash is completed by
the next import of the same file. Rows are never deleted (a trigger refuses it); a newer return of a unit
points the older one at itself through ``superseded_by``.

Which import counts for a unit is decided by :mod:`jixiao_xl.counting` alone: every "accepted" query
(:meth:`Ledger.latest_by_unit`, :meth:`Ledger.accepted_returns` …) goes through :meth:`Ledger.counted_ids`.
``superseded_by`` records what each import replaced when it came in; an issued workbook returned unfilled
(``receipts.blank``) replaces nothing and never counts, nor does a return saved before the counted one
(``receipts.saved_at``, the file's own save time when credible; it gets an L-OLDER finding for the bureau).
``receipts`` also links every import to its copy under 原件/, and ``runs``/``run_files`` record each import
run and whether its reports were completed.

The rooms, in the order a ledger is met:

- :mod:`.schema` — the tables: :data:`MIGRATIONS`, applied forward one transaction each, ``PRAGMA user_version``
  (the site's tables in :mod:`.site_schema`);
- :mod:`.connection` — opening safely (a file that is not a ledger is refused from its header, read-only
  opening for ``status`` and ``consolidate``), transactions, batches and waiting for other writers;
- :mod:`.rows` — the rows as Python sees them; :mod:`.times` — timestamps as stored and as shown;
- :mod:`.recording`, :mod:`.imports`, :mod:`.returns`, :mod:`.issuing`, :mod:`.runs` — what is written and
  read, one concern each, put together as :class:`Ledger`; :mod:`.reviews` — the bureau's 审核 decisions,
  which the counting rule weighs;
- :mod:`.integrity` — rows a hand edit left inconsistent become L-LEDGER findings, never crashes or silent
  states.
"""

from __future__ import annotations

from .connection import BUSY_NOTICE_MS, BUSY_TIMEOUT_MS, Batch, LedgerBusy, LedgerError, ledger_holders
from .integrity import Integrity
from .issuing import Issuing
from .recording import Recording
from .returns import Returns
from .reviews import Review, Reviews
from .rows import AcceptedReturn, ImportRow, IssuedRow, Received, RecordResult, RunFile, RunRow, TemplateBlob
from .runs import Runs
from .schema import DIGESTS_VERSION, MIGRATIONS, SCHEMA_VERSION, STATUSES, split_script
from .times import display_time, local_time, now_iso

__all__ = [
    "BUSY_NOTICE_MS", "BUSY_TIMEOUT_MS", "DIGESTS_VERSION", "MIGRATIONS", "SCHEMA_VERSION", "STATUSES",
    "AcceptedReturn", "Batch", "ImportRow", "IssuedRow", "Ledger", "LedgerBusy", "LedgerError", "Received",
    "RecordResult", "Review", "RunFile", "RunRow", "TemplateBlob", "display_time", "ledger_holders", "local_time", "now_iso",
    "split_script",
]


class Ledger(Recording, Returns, Issuing, Runs, Integrity, Reviews):
    """An open ledger file. Use :meth:`open` (or :meth:`open_readonly`), preferably as a context manager."""
