"""The import stage, top to bottom: intake → 原件/ → ledger → read → rules → reconcile → reports → 退回修改.

DESIGN §9 order: every file is recorded in the ledger with its sha256 before it is parsed (and, with
``originals_dir``, its bytes are copied to 原件/ first), and its submission and findings are written in one
transaction once it has been checked. Parsing and checking run in worker processes (``--jobs``); the
ledger is written only from this process.

Every import is a *run* in the ledger (issue 18): the files it met (duplicates too), its output folder
(its own, never another run's) and whether its reports were completed. Reports are written from what the
run holds plus the ledger's state of every unit (:func:`.status.unit_status`), so they agree with
``status``. A file of a run whose reports were never completed (Ctrl-C, SIGTERM, a full disk, a crash) is
reported in full by the next run that meets it, and every such run's own folder is rebuilt from the ledger
(:func:`rebuild_run`, also used by ``jixiao-xl report``). A failure while rendering one unit's part is a
finding for that unit; the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from .catalogue import define
from .digest import Encoded, encode
from .errors import InputError, note_progress
from .findings import Finding, has_errors, one_per_cell
from .intake import Intake, Isolated, IsolatedPool, Limits, collect_files, inspect_file, sha256_file
from .followup import write_followups
from .generate import read_manifest
from .ledger import ImportRow, Ledger, RunRow
from .model import Master
from .parallel import freeze_shared_objects, in_window
from .read import read_intake, unreadable
from .reconcile import (issued_view, one_finding_per_edit, outstanding_findings, reconcile_batch, reconcile_submission,
                        same_file_finding)
from .report import CSV_NAME, HTML_NAME, JSON_NAME, XLSX_NAME, ReportPaths, write_reports
from .rules import RuleConfig, check_submission
from .safety import display_name, display_names, flush_to_disk, sweep_stale_temporaries, write_atomic
from .sendback import findings_of as sendback_findings_of
from .sendback import needs_sendback, write_sendbacks
from .status import unit_status
from .submission import Submission, submission_from_dict
from .template import (DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, FormSpec, TemplateSet, as_template_set, builtin_template,
                       load_spec, template_set)
from .unfilled import NO_INPUT_CHANGED, RULE_BLANK, SAME_BYTES, blank_finding, is_unfilled, manifest_units
from .workspace import Workspace


SENDBACK_FOLDER = "退回修改"
G_SENDBACK = define("G-SENDBACK", "warning", "退回修改表未能生成", "按核对报告中的问题清单通知单位修改；如反复出现，请把报回文件和 --debug 输出发给维护人员。",
                    "本工具约定")
G_REPORT = define("G-REPORT", "warning", "该单位的核对报告部分未能生成",
                  "其余单位的报告不受影响；请用 jixiao-xl report 重新生成，如反复出现，请把报回文件和 --debug 输出发给维护人员。",
                  "本工具约定", audience="bureau")
L_NOT_KEPT = define("L-NOT-KEPT", "info", "原件未存入“原件”文件夹",
                    "该文件超过接收大小上限（或读取时发生变化），未复制到 原件/；请另行保存这份文件。", "本工具约定",
                    audience="bureau")
L_UNFINISHED = define("L-UNFINISHED", "warning", "该文件的导入未完成",
                      "上次导入在解析这份文件时中断；请重新导入该文件。", "本工具约定", audience="bureau")
REPORT_FILES = (JSON_NAME, CSV_NAME, XLSX_NAME, HTML_NAME)
X_OTHER_UNIT = define("X-OTHER-UNIT", "error", "上传的文件属于其他单位", "请通过本单位的填报链接上传下发给本单位的工作簿；"
                      "其他单位的表格请由该单位自行报送。", "本工具约定")


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
    # A manifest.csv of issued workbooks, besides those the ledger's issued table records (generate writes
    # both): what was issued, so that a blank form returned unfilled is recognised.
    manifest_path: Path | None = None
    # Where every received file's bytes are kept (原件/, content-addressed); None keeps none.
    originals_dir: Path | None = None
    # True: each run writes into its own folder under ``out_dir`` (a workspace's 核对/<run>/). False: straight
    # into ``out_dir`` — unless an earlier run's outputs are there, which are never overwritten.
    run_folders: bool = False
    deadline: str = ""  # 报送截止时间, printed on 催报.xlsx
    followups: bool = True  # 退回通知 and 催报.xlsx
    workspace: Workspace | None = None  # the workspace the run belongs to (its folders: 原件/, 核对/ …), if any
    # The only unit the files may be for (a unit uploading through ``serve``): a return of any other unit is
    # refused and recorded against nobody, so it never supersedes that unit's return. Empty: any unit.
    expected_unit: str = ""
    # False: only the 退回修改 workbooks are written — no reports, no 退回通知 or 催报 (serve builds those on demand).
    reports: bool = True
    # False: earlier runs left unreported are not rebuilt by this run. serve imports uploads in threads of one
    # process, where another thread's run still in progress would look like a dead one.
    rebuild_unreported: bool = True


@dataclass
class ImportResult:
    """What one run of `import` did."""

    files: int = 0
    duplicates: int = 0
    submissions: list[Submission] = field(default_factory=list)  # light copies (see _light)
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
class _Checked:
    """A worker's answer for one file (``encoded``: the ledger's JSON of the submission, made in the worker)."""

    submission: Submission
    findings: tuple[Finding, ...]
    encoded: Encoded | None = None
    blank: bool = False


@dataclass(frozen=True)
class _Task:
    """A received file waiting to be read: its intake and its ledger row."""

    intake: Intake
    import_id: int


_WORKER: dict = {}


def _init_worker(master: Master, templates: TemplateSet | tuple[FormSpec, FormSpec], config: RuleConfig,
                 recognise_blanks: bool = False) -> None:
    _WORKER.update(master=master, templates=as_template_set(templates), config=config,
                   recognise_blanks=recognise_blanks)


def _check_one(intake: Intake) -> _Checked:
    """Read one accepted file, run the rules and reconcile it with the master (inside an isolated worker).

    With ``recognise_blanks`` (the bureau said what it issued), a form in which no cell differs from what was
    issued is not checked: its only finding is X-BLANK, for the bureau.
    """
    master, templates, config = _WORKER["master"], _WORKER["templates"], _WORKER["config"]
    sub = read_intake(intake, master.settings.money_unit, templates)
    if _WORKER.get("recognise_blanks") and is_unfilled(sub, master):
        return _Checked(sub, (blank_finding(sub.file, sub.sha256, sub.unit_code, NO_INPUT_CHANGED),), blank=True)
    return _Checked(sub, _check(sub, master, templates, config))


def _check_for_ledger(intake: Intake) -> _Checked:
    """:func:`_check_one`, plus the ledger's JSON of the submission, made here rather than in the parent.

    Only the light submission travels back with it: a JSON text crosses the process boundary far more
    cheaply than the object tree it describes, and the parent needs nothing else.
    """
    checked = _check_one(intake)
    return _Checked(_light(checked.submission), checked.findings, encode(checked.submission), checked.blank)


def _check(sub: Submission, master: Master, templates: TemplateSet | tuple[FormSpec, FormSpec],
           config: RuleConfig) -> tuple[Finding, ...]:
    findings = list(sub.findings)
    if sub.readable:
        reconciled = reconcile_submission(sub, master, as_template_set(templates).expected(sub.unit_code))
        findings = one_finding_per_edit(findings, reconciled)
        findings += check_submission(issued_view(sub, master), config)  # locked values as issued
        findings += reconciled
    return tuple(one_per_cell(findings))


def guard_output(options: ImportOptions) -> None:
    """Refuse to write reports or the ledger inside a folder of returns being read (DESIGN §9)."""
    for source in options.paths:
        source = Path(source).resolve()
        if not source.is_dir():
            continue
        targets = [(options.out_dir, "输出文件夹"), (options.ledger_path, "台账文件")]
        if options.originals_dir is not None:
            targets.append((options.originals_dir, "原件文件夹"))
        for target, what in targets:
            if Path(target).resolve().is_relative_to(source):
                raise InputError(f"{what} {target} 位于报回文件所在的文件夹 {source} 之内；请用 --out/--ledger/--originals "
                                 "指定该文件夹以外的位置，以免把报告或原件当作报回文件读取，或改动报回文件。")


def run_import(master: Master, options: ImportOptions,
               on_file: Callable[[Path], None] = lambda path: None) -> ImportResult:
    """Import every file of ``options.paths``; returns what was found and written.

    Earlier runs whose reports were never completed are rebuilt afterwards (``result.rebuilt``).
    """
    missing = [display_name(p) for p in options.paths if not Path(p).exists()]
    if missing:
        raise InputError(f"找不到 {'、'.join(missing)}。请检查路径。")
    guard_output(options)
    config = RuleConfig.from_settings(master.settings, options.rules_path)
    limits = Limits()
    files = collect_files(options.paths)
    result = ImportResult(files=len(files))
    with Ledger.open(options.ledger_path) as ledger:
        # Each return is read, checked and sent back with the templates its unit was issued (kept in the ledger).
        templates = _templates(options, ledger)
        issued_units = {**manifest_units(options.manifest_path), **ledger.issued_units()}  # sha256 → 单位编码
        issued = frozenset(issued_units)
        run = ledger.start_run(options.paths, socket.gethostname(), os.getpid())
        result.run_id, result.out_dir = run.id, run_folder(ledger, options.out_dir, run, options.run_folders)
        # Absolute (a later rebuild may run elsewhere) and resolved: _holds_outputs looks folders up by it.
        ledger.set_run_folder(run.id, _resolved(result.out_dir))
        context = _Intake(run.id, issued, options.originals_dir, issued_units)
        note_progress("已记入台账的文件都是完整的（台账按批提交）", "其余文件的核对和记录，以及核对报告",
                      options.ledger_path)
        tasks = _receive(ledger, files, result, on_file, limits, context)
        freeze_shared_objects()
        pool = IsolatedPool(min(options.jobs, max(len(tasks), 1)), limits, _init_worker,
                            (master, templates, config, bool(issued)))
        try:
            with ledger.batch() as batch:
                for task, future in in_window(pool, _check_for_ledger, tasks, 4 * max(1, options.jobs),
                                          argument=lambda task: task.intake):
                    _complete(ledger, task, _for_unit(_outcome(task, future.result()), options.expected_unit), result)
                    batch.done()
                    on_file(Path(task.intake.path))
            ledger.finish_run(run.id)
            order = {shown: n for n, shown in enumerate(display_names(files).values())}
            result.submissions.sort(key=lambda s: order.get(s.file, len(order)))
            note_progress(f"全部 {len(files)} 个文件已核对并记入台账（台账完好）", "核对报告和退回修改表",
                          result.out_dir)
            _report(pool, ledger, master, options, result)
            ledger.mark_reported(run.id)
            if options.rebuild_unreported:
                result.rebuilt = _rebuild_unreported(pool, ledger, master, options, run.id)
        finally:
            pool.shutdown()
    return result


def _templates(options: ImportOptions, ledger: Ledger) -> TemplateSet:
    """The templates every return is read and sent back with: each unit's issued ones (kept in the ledger),
    else ``--template``/``--dept-template``, else the built-in ones."""
    default = (load_spec(options.project_template or builtin_template(PROJECT_TEMPLATE)),
               load_spec(options.dept_template or builtin_template(DEPARTMENT_TEMPLATE)))
    return template_set(default, ledger.template_blobs(), ledger.issued_latest().values())


def run_folder(ledger: Ledger, out_dir: Path, run: RunRow, own_folder: bool) -> Path:
    """Where a run writes its outputs: ``out_dir/<时间>-第N次/`` (``own_folder``, or when ``out_dir`` already
    holds an earlier run's outputs — they are never overwritten), else ``out_dir`` itself."""
    out_dir = Path(out_dir)
    started = datetime.fromisoformat(run.started_at)
    named = out_dir / f"{started:%Y%m%d-%H%M%S}-第{run.id}次"
    if own_folder or _holds_outputs(ledger, out_dir):
        return named
    return out_dir


def _holds_outputs(ledger: Ledger, folder: Path) -> bool:
    """True when ``folder`` holds reports of some run (or some run recorded it as its folder).

    Runs record their folder resolved (ledgers written before that hold it absolute, as it was typed), so
    the folder is looked up by both spellings: one indexed query, not a resolve of every earlier run's
    folder — the site makes one run per upload.
    """
    if any((folder / name).exists() for name in REPORT_FILES):
        return True
    return ledger.folder_has_run((_resolved(folder), str(Path(folder).absolute())))


def _resolved(path: Path | str) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(Path(path).absolute())


def _report(pool: IsolatedPool, ledger: Ledger, master: Master, options: ImportOptions, result: ImportResult) -> None:
    """Everything a run writes, into ``result.out_dir``: 退回修改, follow-ups, then the reports.

    The reports' 概览 states come from :func:`.status.unit_status`, so they are the ones ``status`` shows.
    """
    folder = result.out_dir
    assert folder is not None
    blanks = {f.file for f in result.findings if f.rule == RULE_BLANK.code}
    result.findings += reconcile_batch([sub for sub in result.submissions if sub.file not in blanks], master)
    result.findings += outstanding_findings(ledger.accepted_unit_codes(), master)
    for where in (folder, folder / SENDBACK_FOLDER):
        sweep_stale_temporaries(where)
    counted = set(ledger.counted_ids().values())
    if options.sendbacks:
        result.sendbacks = _write_sendbacks(pool, ledger, options, result, counted)
    if not options.reports:
        return
    units = unit_status(master, ledger, read_manifest(options.manifest_path) if options.manifest_path else [])
    if options.followups:
        written, failures = write_followups(folder, master, units, result.findings, result.submissions,
                                            _counted_files(result, counted), options.deadline)
        result.followups, result.findings = written, result.findings + failures
    result.reports = write_reports(folder, result.findings, result.submissions, master, units=units,
                                   failure=_report_failure)


def _counted_files(result: ImportResult, counted: set[int]) -> set[str]:
    """The files of this run that are their unit's counted return."""
    return {file for file, import_id in result.import_ids.items() if import_id in counted}


def _report_failure(unit_code: str, part: str, error: BaseException) -> Finding:
    """G-REPORT: one unit's part of a report could not be written; the rest of the report is."""
    return Finding(G_REPORT.code, G_REPORT.severity,
                   f"未能生成该单位的{part}（{type(error).__name__}: {error}）；其余内容不受影响，请按问题清单处理。",
                   unit_code=unit_code)


def _rebuild_unreported(pool: IsolatedPool, ledger: Ledger, master: Master, options: ImportOptions,
                        current: int) -> list[ImportResult]:
    """Rebuild, each in its own folder, every earlier run whose reports were never completed (and that no
    live process on this machine is still running)."""
    rebuilt = []
    for run in ledger.runs():
        if run.id == current or run.reported_at is not None or not run.out_dir or _alive(run):
            continue
        try:
            result = rebuild_run(pool, ledger, master, replace(options, out_dir=Path(run.out_dir)), run.id)
        except OSError as exc:
            # Its folder cannot be written now (moved, read-only, disk full): the run stays unreported and
            # the next import or `jixiao-xl report --run` tries again; this run's own reports are complete.
            rebuilt.append(ImportResult(run_id=run.id, out_dir=Path(run.out_dir), rebuild_error=str(exc)))
            continue
        ledger.mark_reported(run.id)
        rebuilt.append(result)
    return rebuilt


def _alive(run: RunRow) -> bool:
    """True when the run's process is still running on this machine (a concurrent import)."""
    if run.host != socket.gethostname() or run.pid <= 0 or run.pid == os.getpid():
        return False
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def rebuild_run(pool: IsolatedPool, ledger: Ledger, master: Master, options: ImportOptions,
                run_id: int) -> ImportResult:
    """Write a run's reports again from the ledger alone, into ``options.out_dir`` (the returned files and
    their folder are not needed: the ledger holds every submission and finding)."""
    result = ImportResult(run_id=run_id, out_dir=Path(options.out_dir))
    for met in ledger.run_files(run_id):
        result.files += 1
        row = ledger.get(met.import_id)
        if row is None:
            continue
        if met.duplicate:
            result.duplicates += 1
            result.findings.append(_duplicate_finding(Path(met.path), row))
        else:
            _add_from_ledger(ledger, row, result)
    _report(pool, ledger, master, options, result)
    return result


def report_state(pool: IsolatedPool, ledger: Ledger, master: Master, options: ImportOptions) -> ImportResult:
    """The report of the year as it stands: every unit's counted return with its findings (no import)."""
    result = ImportResult(out_dir=Path(options.out_dir))
    for import_id in ledger.counted_ids().values():
        row = ledger.get(import_id)
        if row is not None:
            result.files += 1
            _add_from_ledger(ledger, row, result)
    _report(pool, ledger, master, options, result)
    return result


def open_report_pool(master: Master, options: ImportOptions, ledger: Ledger) -> IsolatedPool:
    """The worker pool :func:`rebuild_run` and :func:`report_state` render 退回修改 with."""
    return IsolatedPool(max(1, options.jobs), Limits(), _init_worker,
                        (master, _templates(options, ledger), RuleConfig.from_settings(master.settings, options.rules_path)))


def _add_from_ledger(ledger: Ledger, row: ImportRow, result: ImportResult) -> None:
    """Add a recorded import to a run's result as the run had it: light submission and stored findings."""
    if row.status == "received":
        sub = Submission(file=row.original_path, sha256=row.sha256, kind=row.kind)
        findings = [Finding(L_UNFINISHED.code, L_UNFINISHED.severity,
                            f"上次导入在解析这份文件时中断（第 {row.id} 号导入），没有核对结果；请重新导入该文件。",
                            file=row.original_path, sha256=row.sha256)]
    else:
        sub = _light(ledger.submission_of(row.id, indicator_locations=False))
        findings = ledger.findings_of(row.id)
    result.submissions.append(sub)
    result.findings += findings
    result.import_ids[sub.file] = row.id
    if ledger.is_blank(row.id):
        result.blanks += 1


def _duplicate_finding(path: Path, row: ImportRow) -> Finding:
    return Finding("L-DUPLICATE", "info", f"与 {row.received_at} 导入的“{row.file_name}”内容完全相同，本次不重复导入。",
                   file=str(path), sha256=row.sha256, unit_code=row.unit_code)


def _outcome(task: _Task, isolated: Isolated) -> _Checked:
    """The worker's answer, or — when the file killed, hung or crashed its worker — an unreadable one."""
    if isolated.ok:
        return isolated.value
    sub = unreadable(task.intake, isolated.finding)
    return _Checked(sub, sub.findings)


def _for_unit(checked: _Checked, expected_unit: str) -> _Checked:
    """``checked`` unchanged when it is for ``expected_unit`` (or any unit is allowed); otherwise a refused,
    unreadable submission (no unit code, so it is nobody's return) with one finding that says why."""
    sub = checked.submission
    if not expected_unit or not sub.readable or sub.unit_code == expected_unit:
        return checked
    found = f"单位编码 {sub.unit_code}（{sub.unit_name}）" if sub.unit_code else "无法识别单位编码"
    refusal = Finding(X_OTHER_UNIT.code, X_OTHER_UNIT.severity,
                      f"该文件不是本单位（{expected_unit}）的绩效目标表：文件中为{found}。本次上传不予接收，也不计入任何单位的报送；"
                      "请上传下发给本单位的工作簿。", file=sub.file, sha256=sub.sha256, unit_code=expected_unit,
                      value=sub.unit_code, expected=expected_unit)
    refused = replace(sub, unit_code="", unit_name="", projects=(), dept=None, findings=(refusal,))
    return _Checked(refused, (refusal,))


def _write_sendbacks(pool: IsolatedPool, ledger: Ledger, options: ImportOptions, result: ImportResult,
                     counted: set[int]) -> list[Path]:
    """One 退回修改 workbook per unit whose counted return (:mod:`.counting`) is a file of this run and has
    errors or warnings.

    Rendered in the workers. The parent reads each full submission's JSON from the ledger and keeps only a
    few in flight, so its memory stays flat; the worker decodes it (a JSON text crosses the process boundary
    far more cheaply than the object tree, and the parent's CPU is left to the workers). Workers never touch
    SQLite (a connection opened in a child forked while the parent was inside SQLite could deadlock). A
    workbook that cannot be rendered becomes a G-SENDBACK finding.
    """
    todo = []
    by_file: dict[str, list[Finding]] = {}  # one pass: a province's run has 20,000 files and as many findings
    for finding in result.findings:
        by_file.setdefault(finding.file, []).append(finding)
    for light in result.submissions:
        import_id = result.import_ids.get(light.file)
        problems = sendback_findings_of(light, by_file.get(light.file, ()))
        if import_id in counted and needs_sendback(problems):
            todo.append((light, import_id, tuple(problems)))
    assert result.out_dir is not None
    out_dir = result.out_dir / SENDBACK_FOLDER

    def job(item: tuple) -> _SendbackJob:
        _light_sub, import_id, problems = item
        try:
            return _SendbackJob(ledger.submission_json_of(import_id), problems, out_dir, options.password)
        except Exception as exc:  # noqa: BLE001 - one unit's stored return must not end the run
            return _SendbackJob("", problems, out_dir, options.password, failure=f"{type(exc).__name__}: {exc}")

    written: list[Path] = []
    for (light, _import_id, _problems), future in in_window(pool, _sendback_one, todo, 2 * max(1, options.jobs), job):
        outcome = future.result()
        if outcome.ok:
            written.extend(outcome.value)
        else:
            result.findings.append(sendback_failure(light, outcome.finding.message))
    flush_to_disk(written)  # the workers wrote them without one fsync each
    order = {light.unit_code: n for n, light in enumerate(result.submissions)}
    return sorted(written, key=lambda path: (order.get(path.name.split("-", 1)[0], len(order)), path.name))


def sendback_failure(light: Submission, reason: str) -> Finding:
    """G-SENDBACK: the unit's 退回修改 workbook could not be rendered; the run goes on."""
    return Finding(G_SENDBACK.code, G_SENDBACK.severity,
                   f"未能为该单位生成退回修改表（{reason}）；请根据核对报告中的问题清单通知单位修改。",
                   file=light.file, sha256=light.sha256, unit_code=light.unit_code)


@dataclass(frozen=True)
class _SendbackJob:
    """What a worker needs to render one unit's 退回修改 workbook (the full submission's ledger JSON, read by
    the parent)."""

    submission_json: str
    problems: tuple[Finding, ...]
    out_dir: Path
    password: str
    failure: str = ""  # the stored submission could not be read: the worker reports this instead


def _sendback_one(job: _SendbackJob) -> list[Path]:
    """Render one unit's 退回修改 workbook (inside a worker)."""
    master, templates = _WORKER["master"], _WORKER["templates"]
    if job.failure:
        raise LookupError(f"台账中该报送的内容无法读取：{job.failure}")
    submission = submission_from_dict(json.loads(job.submission_json))
    specs = templates.for_sendback(submission.unit_code, (submission.template_id, submission.template_version))
    return write_sendbacks(job.out_dir, master, [submission], job.problems, *specs, password=job.password,
                           durable=False)


@dataclass(frozen=True)
class _Intake:
    """What receiving a file needs beyond the file: the run it belongs to, the sha256 of every issued
    workbook, and where originals are kept."""

    run_id: int
    issued: frozenset[str]
    originals_dir: Path | None
    issued_units: dict[str, str] = field(default_factory=dict)  # sha256 → 单位编码, from the ledger and manifest


def _receive(ledger: Ledger, files: Sequence[Path], result: ImportResult, on_file: Callable[[Path], None],
             limits: Limits, context: _Intake) -> list[_Task]:
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
                    _complete(ledger, task, _unread(task.intake, context), result)
                on_file(path)
            group.done()
    return tasks


def _unread(intake: Intake, context: _Intake) -> _Checked:
    """The outcome of a file completed without being read: refused by intake, or the issued bytes."""
    if intake.sha256 in context.issued:
        unit_code = context.issued_units.get(intake.sha256) or _issued_unit(intake)
        sub = replace(unreadable(intake), findings=())
        return _Checked(replace(sub, unit_code=unit_code),
                        (blank_finding(intake.file, intake.sha256, unit_code, SAME_BYTES),), blank=True)
    return _Checked(unreadable(intake), tuple(intake.findings))


def _issued_unit(intake: Intake) -> str:
    """The unit an issued workbook was made for, from its file name (``<单位编码>-<单位名称>.xlsx``), when no
    manifest row names it."""
    match = re.match(r"([0-9A-Za-z]+)-", Path(intake.path).name)
    return match.group(1) if match else ""


def _receive_one(ledger: Ledger, path: Path, shown: str, seen: dict[str, str], result: ImportResult, limits: Limits,
                 context: _Intake) -> _Task | None:
    """Intake one file (``shown``: its path as reports show it), keep its bytes and record it as received; None
    when there is nothing to read."""
    intake = _hashed(inspect_file(path, limits, shown))
    digest = intake.sha256
    if not digest:
        # Not even readable byte by byte (vanished, no permission): reported, nothing to record.
        result.submissions.append(_light(unreadable(intake)))
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
            _add_from_ledger(ledger, row, result)
            return None
        ledger.add_run_file(context.run_id, shown, received.import_id, duplicate=True)
        result.duplicates += 1
        if row is not None:
            result.findings.append(_duplicate_finding(Path(shown), row))
        return None
    ledger.add_run_file(context.run_id, shown, received.import_id, duplicate=False)
    return _Task(intake, received.import_id)


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


def _hashed(intake: Intake) -> Intake:
    """The intake with its sha256 even when intake skipped hashing (a file over the size limit is still
    recorded in the ledger under its hash, so re-importing it is recognised)."""
    if intake.sha256:
        return intake
    try:
        digest = sha256_file(Path(intake.path))
    except OSError:
        return intake
    return replace(intake, sha256=digest, findings=tuple(replace(f, sha256=digest) for f in intake.findings))


def _complete(ledger: Ledger, task: _Task, checked: _Checked, result: ImportResult) -> None:
    """Write the file's submission and findings to the ledger (one transaction) and keep a light copy."""
    sub = checked.submission
    status = "parsed" if sub.readable or checked.blank else "failed"
    recorded = ledger.complete(task.import_id, sub, checked.findings, status, checked.encoded, blank=checked.blank)
    result.import_ids[sub.file] = task.import_id
    result.blanks += checked.blank
    result.submissions.append(sub if checked.encoded is not None else _light(sub))  # workers send light ones
    result.findings += list(checked.findings) + list(recorded.notes)


def _light(sub: Submission) -> Submission:
    """The submission without its indicators and cell locations: what reports need, a fraction of the memory."""
    projects = tuple(replace(rp, project=replace(rp.project, indicators=(), plan=()), locations={}, notes={})
                     for rp in sub.projects)
    dept = replace(sub.dept, goals=(), indicators=(), locations={}, notes={}) if sub.dept is not None else None
    return replace(sub, projects=projects, dept=dept)
