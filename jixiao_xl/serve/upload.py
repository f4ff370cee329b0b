"""A unit's upload, from the bytes received to its findings: the same intake, rules and reconciliation as
``jixiao-xl import`` (:func:`importer.run_import` on the one saved file, in the isolated workers).

Order (DESIGN §9): the bytes are written to a name of our own choosing in 收件/ (never the client's name: it
is only shown, escaped) and flushed; the upload is recorded as received in the ledger with its sha256; then
it is imported with ``expected_unit`` set to the link's unit, so a return of another unit is refused and
recorded against nobody; last the upload row is completed. A crash between the steps leaves a "received"
upload that :func:`resume_unfinished` imports again when the server starts.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from ..findings import Finding
from ..importer import X_OTHER_UNIT, ImportOptions, run_import

from ..master import load_master
from ..model import Master
from ..workspace import Workspace
from .store import Store, Upload

# The file kinds intake reads; any other name gets ".bin" (intake then says what the bytes are).
KNOWN_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".et", ".csv")
UPLOAD_FOLDER = "网上报送"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class UploadOutcome:
    """What one upload gave: its findings as the ledger holds them and the 退回修改 workbook, if any."""

    upload_id: int
    import_id: int | None
    refused: bool
    findings: tuple[Finding, ...]
    sendback: str


class MasterCache:
    """The workspace's master, loaded once and again only when its file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._master: Master | None = None

    def get(self) -> Master:
        stat = self._path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if self._master is None or stamp != self._seen:
                self._master, self._seen = load_master(self._path), stamp
            return self._master


def suffix_of(client_name: str) -> str:
    """The suffix the stored file gets: the client's, when it is one intake reads, else ``.bin``."""
    suffix = Path(client_name.replace("\\", "/")).suffix.lower()
    return suffix if suffix in KNOWN_SUFFIXES else ".bin"


def stored_name(unit_code: str, client_name: str) -> str:
    """A fresh name in 收件/ for an upload: unit, time and randomness; only the suffix comes from the client."""
    unit = re.sub(r"[^0-9A-Za-z_-]", "_", unit_code)[:40] or "unit"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{UPLOAD_FOLDER}-{unit}-{stamp}-{secrets.token_hex(4)}{suffix_of(client_name)}"


def save_upload(workspace: Workspace, unit_code: str, client_name: str, source: BinaryIO) -> tuple[Path, str, int]:
    """Copy the uploaded bytes into 收件/ under :func:`stored_name`, durably; returns (path, sha256, size).

    The bytes are written beside the workspace first and renamed into 收件/ complete, so an ``import`` of
    收件/ running at the same time never sees half a file.
    """
    staging = workspace.root / ".jixiao-serve-tmp"
    staging.mkdir(exist_ok=True)
    target = workspace.inbox / stored_name(unit_code, client_name)
    temporary = staging / (target.name + ".part")
    digest, size = hashlib.sha256(), 0
    with open(temporary, "xb") as handle:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    workspace.inbox.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, target)
    folder = os.open(workspace.inbox, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return target, digest.hexdigest(), size


def import_options(workspace: Workspace, path: Path, upload_id: int, unit_code: str) -> ImportOptions:
    """The options ``jixiao-xl import`` would use in this workspace, for one uploaded file of ``unit_code``;
    the unit's 退回修改 is written, the bureau's reports are not (the site builds them on demand)."""
    return ImportOptions(paths=(path,), out_dir=workspace.checked / UPLOAD_FOLDER / f"{upload_id:06d}",
                         ledger_path=workspace.ledger, jobs=1, project_template=workspace.project_template,
                         dept_template=workspace.dept_template, rules_path=workspace.rules_path,
                         password=workspace.password, manifest_path=workspace.manifest,
                         originals_dir=workspace.originals, deadline=workspace.deadline, followups=False,
                         workspace=workspace, expected_unit=unit_code, reports=False, rebuild_unreported=False)


def import_upload(workspace: Workspace, master: Master, upload_id: int, unit_code: str, path: Path,
                  sha256: str) -> UploadOutcome:
    """Import a recorded upload and complete its row; the outcome shows only what belongs to ``unit_code``."""
    result = run_import(master, import_options(workspace, path, upload_id, unit_code))
    with Store.connect(workspace.ledger) as store:
        row = store.by_sha256(sha256)
        findings = tuple(store.findings_of(row.id)) if row is not None else ()
        refused = any(f.rule == X_OTHER_UNIT.code for f in findings)
        if refused and any(f.rule == X_OTHER_UNIT.code and f.value == unit_code for f in findings):
            # This unit's own file, which another unit uploaded first and which was refused then: the same bytes
            # are never imported twice, so the unit must save the file once more (new bytes) and upload that.
            findings = (Finding(X_OTHER_UNIT.code, X_OTHER_UNIT.severity,
                                "该文件此前被其他单位误传并已拒收，同一文件不会重复导入。请用 Excel 或 WPS 打开该文件、另存一次后重新上传。",
                                file=path.name, sha256=sha256, unit_code=unit_code),)
        if row is not None and row.unit_code not in ("", unit_code):
            # The same bytes were already imported as another unit's return: say so, show nothing of it.
            refused, findings = True, (other_unit_finding(unit_code, path.name, sha256),)
        sendback = str(result.sendbacks[0]) if result.sendbacks and not refused else ""
        # The upload points at its import only when that import is this unit's or nobody's.
        import_id = row.id if row is not None and row.unit_code in ("", unit_code) else None
        if not sendback and not refused:
            sendback = _earlier_sendback(store, unit_code, sha256)
        store.finish_upload(upload_id, import_id, refused, sendback)
    return UploadOutcome(upload_id, import_id, refused, findings, sendback)


def stored_outcome(workspace: Workspace, upload: Upload) -> UploadOutcome:
    """What an earlier upload gave, read back from the ledger (for the unit's upload history)."""
    findings: tuple[Finding, ...] = ()
    if upload.import_id is not None:
        with Store.connect(workspace.ledger) as store:
            findings = tuple(store.findings_of(upload.import_id))
    if upload.refused:
        findings = tuple(f for f in findings if f.rule == X_OTHER_UNIT.code) or (
            other_unit_finding(upload.unit_code, Path(upload.stored_path).name, upload.sha256),)
    return UploadOutcome(upload.id, upload.import_id, upload.refused, findings, upload.sendback)


def other_unit_finding(unit_code: str, file_name: str, sha256: str) -> Finding:
    """The finding a unit gets for a file that is another unit's return."""
    return Finding(X_OTHER_UNIT.code, X_OTHER_UNIT.severity,
                   f"该文件不是本单位（{unit_code}）的绩效目标表，而是其他单位已报送的文件。本次上传不予接收；请上传下发给本单位的工作簿。",
                   file=file_name, sha256=sha256, unit_code=unit_code, expected=unit_code)


def _earlier_sendback(store: Store, unit_code: str, sha256: str) -> str:
    """The 退回修改 workbook of an earlier upload of the same bytes by the same unit (a re-upload)."""
    return next((u.sendback for u in store.uploads(unit_code) if u.sha256 == sha256 and u.sendback), "")


def receive(workspace: Workspace, master: Master, unit_code: str, client_name: str, source: BinaryIO) -> UploadOutcome:
    """Save, record and import one upload of ``unit_code`` (see the module docstring for the order)."""
    path, sha256, size = save_upload(workspace, unit_code, client_name, source)
    with Store.connect(workspace.ledger) as store:
        upload_id = store.record_upload(unit_code, client_name, path, sha256, size)
    return import_upload(workspace, master, upload_id, unit_code, path, sha256)


def resume_unfinished(workspace: Workspace, master: Master) -> int:
    """Import every upload a crash left at "received" (the file is in 收件/ already); returns how many."""
    with Store.connect(workspace.ledger) as store:
        pending = store.uploads(status="received")
    for upload in reversed(pending):
        path = Path(upload.stored_path)
        if path.is_file():
            import_upload(workspace, master, upload.id, upload.unit_code, path, upload.sha256)
        else:
            with Store.connect(workspace.ledger) as store:
                store.finish_upload(upload.id, None, False, "")
    return len(pending)
