"""Receiving returned files: intake, 原件/ and the ledger's received row for each file, before any is parsed;
then each file's completion (submission and findings, one transaction) and a run's result as it grows.

DESIGN §9 order: every file is recorded in the ledger with its sha256 before it is parsed (and, with an
originals folder, its bytes are copied to 原件/ first). Files intake refuses, duplicates and issued workbooks
returned unchanged are completed at once, unread.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from .catalogue import define
from .checking import Checked, light
from .findings import Finding, has_errors
from .intake import Intake, Limits, inspect_file, sha256_file
from .ledger import ImportRow, Ledger
from .read import unreadable
from .reconcile import same_file_finding
from .report import ReportPaths
from .safety import display_names, write_atomic
from .submission import Submission
from .unfilled import SAME_BYTES, blank_finding

L_NOT_KEPT = define("L-NOT-KEPT", "info", "原件未存入“原件”文件夹",
                    "该文件超过接收大小上限（或读取时发生变化），未复制到 原件/；请另行保存这份文件。", "本工具约定",
                    audience="bureau")
L_UNFINISHED = define("L-UNFINISHED", "warning", "该文件的导入未完成",
                      "上次导入在解析这份文件时中断；请重新导入该文件。", "本工具约定", audience="bureau")


@dataclass
class ImportResult:
    """What one run of `import` did."""

    files: int = 0
    duplicates: int = 0
    submissions: list[Submission] = field(default_factory=list)  # light copies (see checking.light)
    findings: list[Finding] = field(default_factory=list)
    import_ids: dict[str, int] = field(default_factory=dict)
    reports: ReportPaths | None = None
    sendbacks: list[Path] = field(default_factory=list)
    run_id: int | None = None
    out_dir: Path | None = None
    blanks: int = 0
    followups: list[Path] = field(default_factory=list)
    rebuilt: list["ImportResult"] = field(default_factory=list)  # earlier runs whose reports this run completed
    rebuild_error: str = ""  # why an earlier run's reports could not be rebuilt (then it stays unreported)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.findings)


@dataclass(frozen=True)
class Task:
    """A received file waiting to be read: its intake and its ledger row."""

    intake: Intake
    import_id: int


@dataclass(frozen=True)
class ReceiveContext:
    """What receiving a file needs beyond the file: the run it belongs to, the sha256 of every issued
    workbook, and where originals are kept."""

    run_id: int
    issued: frozenset[str]
    originals_dir: Path | None
    issued_units: dict[str, str] = field(default_factory=dict)  # sha256 → 单位编码, from the ledger and manifest


def receive_files(ledger: Ledger, files: Sequence[Path], result: ImportResult, on_file: Callable[[Path], None],
                  limits: Limits, context: ReceiveContext) -> list[Task]:
    """Intake, keep and record every file as received (sha256 first); duplicates of finished imports are
    skipped, unless no run ever completed their report (then this run reports them from the ledger).

    A file that intake refuses (encrypted, a bomb, not a workbook …) and an issued workbook returned with
    the same bytes are completed at once, unread.
    """
    tasks = []
    seen: dict[str, str] = {}
    shown = display_names(files)
    # Every "received" row is committed before any file is parsed: the workers start after this returns.
    with ledger.batch(max_records=256) as group:
        for path in files:
            task = _receive_one(ledger, path, shown[str(path)], seen, result, limits, context)
            if task is not None and task.intake.readable and task.intake.sha256 not in context.issued:
                tasks.append(task)
            else:
                if task is not None:
                    complete(ledger, task, unread(task.intake, context), result)
                on_file(path)
            group.done()
    return tasks


def unread(intake: Intake, context: ReceiveContext) -> Checked:
    """The outcome of a file completed without being read: refused by intake, or the issued bytes."""
    if intake.sha256 in context.issued:
        unit_code = context.issued_units.get(intake.sha256) or _issued_unit(intake)
        sub = replace(unreadable(intake), findings=())
        return Checked(replace(sub, unit_code=unit_code),
                       (blank_finding(intake.file, intake.sha256, unit_code, SAME_BYTES),), blank=True)
    return Checked(unreadable(intake), tuple(intake.findings))


def _issued_unit(intake: Intake) -> str:
    """The unit an issued workbook was made for, from its file name (``<单位编码>-<单位名称>.xlsx``), when no
    manifest row names it."""
    match = re.match(r"([0-9A-Za-z]+)-", Path(intake.path).name)
    return match.group(1) if match else ""


def _receive_one(ledger: Ledger, path: Path, shown: str, seen: dict[str, str], result: ImportResult, limits: Limits,
                 context: ReceiveContext) -> Task | None:
    """Intake one file (``shown``: its path as reports show it), keep its bytes and record it as received; None
    when there is nothing to read."""
    intake = hashed(inspect_file(path, limits, shown))
    digest = intake.sha256
    if not digest:
        # Not even readable byte by byte (vanished, no permission): reported, nothing to record.
        result.submissions.append(light(unreadable(intake)))
        result.findings += intake.findings
        return None
    if digest in seen:
        # The same bytes twice in one batch: read once, so the ledger row, its findings and its
        # submission all name the first file (otherwise whichever worker finished first would).
        result.duplicates += 1
        result.findings.append(same_file_finding(shown, seen[digest], digest))
        return None
    seen[digest] = shown
    received = ledger.record_received(digest, path, intake.size, intake.kind.value, shown=shown)
    if context.originals_dir is not None:
        kept = keep_original(context.originals_dir, path, digest, intake.size, limits)
        ledger.record_original(received.import_id, kept)
        if not kept and not received.duplicate:
            result.findings.append(Finding(L_NOT_KEPT.code, L_NOT_KEPT.severity,
                                           f"文件大小 {intake.size} 字节，超过接收上限或读取时发生变化，原件未存入 {context.originals_dir}；请另行保存这份文件。",
                                           file=shown, sha256=digest))
    if received.duplicate:
        row = ledger.get(received.import_id)
        if row is not None and not ledger.reported(row.id):
            # An earlier run recorded this file but never finished its report: this run reports it.
            ledger.add_run_file(context.run_id, shown, row.id, duplicate=False)
            add_from_ledger(ledger, row, result)
            return None
        ledger.add_run_file(context.run_id, shown, received.import_id, duplicate=True)
        result.duplicates += 1
        if row is not None:
            result.findings.append(duplicate_finding(Path(shown), row))
        return None
    ledger.add_run_file(context.run_id, shown, received.import_id, duplicate=False)
    return Task(intake, received.import_id)


def keep_original(originals_dir: Path, path: Path, digest: str, size: int, limits: Limits) -> str:
    """Copy a received file's bytes to ``originals_dir/ab/<sha256><ext>`` (atomically, once per content) and
    return that path relative to ``originals_dir``; "" when the file is over the intake limit or its bytes
    no longer match ``digest`` (it changed while being received)."""
    suffix = Path(path).suffix.lower()
    relative = Path(digest[:2]) / f"{digest}{suffix if re.fullmatch(r'[.][a-z0-9]{1,8}', suffix) else ''}"
    target = Path(originals_dir) / relative
    if target.exists():
        return relative.as_posix()
    if size > limits.max_file_bytes:
        return ""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return ""
    if len(data) > limits.max_file_bytes or hashlib.sha256(data).hexdigest() != digest:
        return ""
    write_atomic(target, data)
    return relative.as_posix()


def hashed(intake: Intake) -> Intake:
    """The intake with its sha256 even when intake skipped hashing (a file over the size limit is still
    recorded in the ledger under its hash, so re-importing it is recognised)."""
    if intake.sha256:
        return intake
    try:
        digest = sha256_file(Path(intake.path))
    except OSError:
        return intake
    return replace(intake, sha256=digest, findings=tuple(replace(f, sha256=digest) for f in intake.findings))


def complete(ledger: Ledger, task: Task, checked: Checked, result: ImportResult) -> None:
    """Write the file's submission and findings to the ledger (one transaction) and keep a light copy."""
    sub = checked.submission
    status = "parsed" if sub.readable or checked.blank else "failed"
    recorded = ledger.complete(task.import_id, sub, checked.findings, status, checked.encoded, blank=checked.blank)
    result.import_ids[sub.file] = task.import_id
    result.blanks += checked.blank
    result.submissions.append(sub if checked.encoded is not None else light(sub))  # workers send light ones
    result.findings += list(checked.findings) + list(recorded.notes)


def add_from_ledger(ledger: Ledger, row: ImportRow, result: ImportResult) -> None:
    """Add a recorded import to a run's result as the run had it: light submission and stored findings."""
    if row.status == "received":
        sub = Submission(file=row.original_path, sha256=row.sha256, kind=row.kind)
        findings = [Finding(L_UNFINISHED.code, L_UNFINISHED.severity,
                            f"上次导入在解析这份文件时中断（第 {row.id} 号导入），没有核对结果；请重新导入该文件。",
                            file=row.original_path, sha256=row.sha256)]
    else:
        sub = light(ledger.submission_of(row.id, indicator_locations=False))
        findings = ledger.findings_of(row.id)
    result.submissions.append(sub)
    result.findings += findings
    result.import_ids[sub.file] = row.id
    if ledger.is_blank(row.id):
        result.blanks += 1


def duplicate_finding(path: Path, row: ImportRow) -> Finding:
    """L-DUPLICATE: the file's bytes were imported before (as ``row``); it is not imported again."""
    return Finding("L-DUPLICATE", "info", f"与 {row.received_at} 导入的“{row.file_name}”内容完全相同，本次不重复导入。",
                   file=str(path), sha256=row.sha256, unit_code=row.unit_code)
