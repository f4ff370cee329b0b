"""The import stage, top to bottom: intake → ledger → read → rules → reconcile → reports → 退回修改.

DESIGN §9 order: every file is recorded in the ledger with its sha256 before it is parsed, and its
submission and findings are written in one transaction once it has been checked. Parsing and checking
run in worker processes (``--jobs``); the ledger is written only from this process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .errors import InputError
from .findings import Finding, has_errors
from .intake import collect_files, detect_kind, sha256_file
from .ledger import Ledger
from .model import Master
from .parallel import make_executor, run_all
from .read import read_file
from .reconcile import outstanding_findings, reconcile_batch, reconcile_submission, same_file_finding
from .report import ReportPaths, write_reports
from .rules import RuleConfig, check_submission
from .sendback import write_sendbacks
from .submission import Submission
from .template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, FormSpec, builtin_template, load_spec


@dataclass(frozen=True)
class ImportOptions:
    """What the user chose on the command line."""

    paths: tuple[Path, ...]
    out_dir: Path
    ledger_path: Path
    jobs: int = 1
    project_template: Path | None = None
    dept_template: Path | None = None
    rules_path: Path | None = None
    password: str = "jixiao"
    sendbacks: bool = True


@dataclass
class ImportResult:
    """What one run of `import` did."""

    files: int = 0
    duplicates: int = 0
    submissions: list[Submission] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reports: ReportPaths | None = None
    sendbacks: list[Path] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.findings)


@dataclass(frozen=True)
class _Checked:
    """A worker's answer for one file."""

    path: Path
    import_id: int
    submission: Submission
    findings: tuple[Finding, ...]


_WORKER: dict = {}


def _init_worker(master: Master, specs: tuple[FormSpec, FormSpec], config: RuleConfig) -> None:
    _WORKER.update(master=master, specs=specs, config=config)


def _check_one(task: tuple[Path, int]) -> _Checked:
    """Read one file (isolated), run the rules and reconcile it with the master."""
    path, import_id = task
    master, specs, config = _WORKER["master"], _WORKER["specs"], _WORKER["config"]
    sub = read_file(path, master.settings.money_unit, specs)
    findings = list(sub.findings)
    if sub.readable:
        findings += check_submission(sub, config)
        findings += reconcile_submission(sub, master, (specs[0].template_id, specs[0].version))
    return _Checked(path, import_id, sub, tuple(findings))


def guard_output(options: ImportOptions) -> None:
    """Refuse to write reports or the ledger inside a folder of returns being read (DESIGN §9)."""
    for source in options.paths:
        source = Path(source).resolve()
        if not source.is_dir():
            continue
        for target, what in ((options.out_dir, "输出文件夹"), (options.ledger_path, "台账文件")):
            if Path(target).resolve().is_relative_to(source):
                raise InputError(f"{what} {target} 位于报回文件所在的文件夹 {source} 之内；请用 --out/--ledger 指定该文件夹以外的位置，"
                                 "以免把报告当作报回文件读取或改动报回文件。")


def run_import(master: Master, options: ImportOptions,
               on_file: Callable[[Path], None] = lambda path: None) -> ImportResult:
    """Import every file of ``options.paths``; returns what was found and written."""
    missing = [str(p) for p in options.paths if not Path(p).exists()]
    if missing:
        raise InputError(f"找不到 {'、'.join(missing)}。请检查路径。")
    guard_output(options)
    specs = (load_spec(options.project_template or builtin_template(PROJECT_TEMPLATE)),
             load_spec(options.dept_template or builtin_template(DEPARTMENT_TEMPLATE)))
    config = RuleConfig.from_settings(master.settings, options.rules_path)
    files = collect_files(options.paths)
    result = ImportResult(files=len(files))
    with Ledger.open(options.ledger_path) as ledger:
        tasks = _receive(ledger, files, result, on_file)
        executor = make_executor(min(options.jobs, max(len(tasks), 1)), _init_worker, (master, specs, config))
        try:
            for checked in run_all(executor, _check_one, tasks):
                _complete(ledger, checked, result)
                on_file(checked.path)
        finally:
            executor.shutdown()
        result.submissions.sort(key=lambda s: files.index(Path(s.file)) if Path(s.file) in files else len(files))
        result.findings += reconcile_batch(result.submissions, master)
        result.findings += outstanding_findings(ledger.latest_by_unit(), master)
    result.reports = write_reports(options.out_dir, result.findings, result.submissions, master)
    if options.sendbacks:
        result.sendbacks = write_sendbacks(options.out_dir / "退回修改", master, result.submissions, result.findings,
                                           *specs, password=options.password)
    return result


def _receive(ledger: Ledger, files: Sequence[Path], result: ImportResult,
             on_file: Callable[[Path], None]) -> list[tuple[Path, int]]:
    """Record every file as received (sha256 first); duplicates of finished imports are skipped."""
    tasks = []
    batch: dict[str, Path] = {}
    for path in files:
        try:
            digest, size, kind = sha256_file(path), path.stat().st_size, detect_kind(path).value
        except OSError as exc:
            result.findings.append(Finding("I-UNREADABLE", "error", f"无法打开文件（{exc.strerror or type(exc).__name__}）；请检查文件权限或重新拷贝。",
                                           file=str(path)))
            on_file(path)
            continue
        if digest in batch:
            # The same bytes twice in one batch: read once, so the ledger row, its findings and its
            # submission all name the first file (otherwise whichever worker finished first would).
            result.duplicates += 1
            result.findings.append(same_file_finding(path, batch[digest], digest))
            on_file(path)
            continue
        batch[digest] = path
        received = ledger.record_received(digest, path, size, kind)
        if received.duplicate:
            result.duplicates += 1
            row = ledger.get(received.import_id)
            result.findings.append(Finding("L-DUPLICATE", "info",
                                           f"与 {row.received_at if row else '之前'} 导入的“{row.file_name if row else ''}”内容完全相同，本次不重复导入。",
                                           file=str(path), sha256=digest, unit_code=row.unit_code if row else ""))
            on_file(path)
            continue
        tasks.append((path, received.import_id))
    return tasks


def _complete(ledger: Ledger, checked: _Checked, result: ImportResult) -> None:
    sub = checked.submission
    recorded = ledger.complete(checked.import_id, sub, checked.findings, "parsed" if sub.readable else "failed")
    result.submissions.append(sub)
    result.findings += list(checked.findings) + list(recorded.notes)
