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

Rooms: :mod:`.receiving` takes the files in and records them (and each file's completion); :mod:`.checking`
is what the workers run; this module orders the stages and writes the run's outputs. Files are completed in
the order they were received, whichever worker finishes first, so the ledger's supersessions and every
report are the same from run to run.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from .catalogue import define
from .checking import Checked, SendbackJob, check_for_ledger, init_worker, sendback_one
from .errors import InputError, note_progress
from .findings import Finding
from .intake import Limits, collect_files
from .followup import write_followups
from .generate import read_manifest
from .ledger import Ledger, RunRow
from .model import Master
from .read import unreadable
from .receiving import ImportResult, ReceiveContext, Task, add_from_ledger, complete, duplicate_finding, receive_files
from .reconcile import outstanding_findings, reconcile_batch
from .report import CSV_NAME, HTML_NAME, JSON_NAME, XLSX_NAME, write_reports
from .rules import RuleConfig
from .runtime import Isolated, IsolatedPool, in_window, process_running, shared_objects_frozen
from .safety import display_name, display_names, flush_to_disk, sweep_stale_temporaries
from .sendback import findings_of as sendback_findings_of
from .sendback import needs_sendback
from .status import unit_status
from .submission import Submission
from .template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, TemplateSet, builtin_template, load_spec, template_set
from .unfilled import RULE_BLANK, manifest_units
from .workspace import Workspace


SENDBACK_FOLDER = "退回修改"
G_SENDBACK = define("G-SENDBACK", "warning", "退回修改表未能生成", "按核对报告中的问题清单通知单位修改；如反复出现，请把报回文件和 --debug 输出发给维护人员。",
                    "本工具约定")
G_REPORT = define("G-REPORT", "warning", "该单位的核对报告部分未能生成",
                  "其余单位的报告不受影响；请用 jixiao-xl report 重新生成，如反复出现，请把报回文件和 --debug 输出发给维护人员。",
                  "本工具约定", audience="bureau")
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
        context = ReceiveContext(run.id, issued, options.originals_dir, issued_units)
        note_progress("已记入台账的文件都是完整的（台账按批提交）", "其余文件的核对和记录，以及核对报告",
                      options.ledger_path)
        tasks = receive_files(ledger, files, result, on_file, limits, context)
        with shared_objects_frozen():
            pool = IsolatedPool(min(options.jobs, max(len(tasks), 1)), limits, init_worker,
                                (master, templates, config, bool(issued)))
            try:
                with ledger.batch() as batch:
                    for task, future in in_window(pool, check_for_ledger, tasks, 4 * max(1, options.jobs),
                                                  argument=lambda task: task.intake, ordered=True):
                        outcome = _for_unit(_outcome(task, future.result()), options.expected_unit)
                        complete(ledger, task, outcome, result)
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
    if run.host != socket.gethostname() or run.pid == os.getpid():
        return False
    return process_running(run.pid)


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
            result.findings.append(duplicate_finding(Path(met.path), row))
        else:
            add_from_ledger(ledger, row, result)
    _report(pool, ledger, master, options, result)
    return result


def report_state(pool: IsolatedPool, ledger: Ledger, master: Master, options: ImportOptions) -> ImportResult:
    """The report of the year as it stands: every unit's counted return with its findings (no import)."""
    result = ImportResult(out_dir=Path(options.out_dir))
    for import_id in ledger.counted_ids().values():
        row = ledger.get(import_id)
        if row is not None:
            result.files += 1
            add_from_ledger(ledger, row, result)
    _report(pool, ledger, master, options, result)
    return result


def open_report_pool(master: Master, options: ImportOptions, ledger: Ledger) -> IsolatedPool:
    """The worker pool :func:`rebuild_run` and :func:`report_state` render 退回修改 with."""
    return IsolatedPool(max(1, options.jobs), Limits(), init_worker,
                        (master, _templates(options, ledger), RuleConfig.from_settings(master.settings, options.rules_path)))


def _outcome(task: Task, isolated: Isolated) -> Checked:
    """The worker's answer, or — when the file killed, hung or crashed its worker — an unreadable one."""
    if isolated.ok:
        return isolated.value
    sub = unreadable(task.intake, isolated.finding)
    return Checked(sub, sub.findings)


def _for_unit(checked: Checked, expected_unit: str) -> Checked:
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
    return Checked(refused, (refusal,))


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

    def job(item: tuple) -> SendbackJob:
        _light_sub, import_id, problems = item
        try:
            return SendbackJob(ledger.submission_json_of(import_id), problems, out_dir, options.password)
        except Exception as exc:  # noqa: BLE001 - one unit's stored return must not end the run
            return SendbackJob("", problems, out_dir, options.password, failure=f"{type(exc).__name__}: {exc}")

    written: list[Path] = []
    for (light, _import_id, _problems), future in in_window(pool, sendback_one, todo, 2 * max(1, options.jobs), job):
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
