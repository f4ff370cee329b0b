"""The import stage, top to bottom: intake → ledger → read → rules → reconcile → reports → 退回修改.

DESIGN §9 order: every file is recorded in the ledger with its sha256 before it is parsed, and its
submission and findings are written in one transaction once it has been checked. Parsing and checking
run in worker processes (``--jobs``); the ledger is written only from this process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from .catalogue import define
from .errors import InputError
from .findings import Finding, has_errors
from .intake import Intake, Isolated, IsolatedPool, Limits, collect_files, inspect_file, sha256_file
from .ledger import Encoded, Ledger, encode
from .model import Master
from .parallel import freeze_shared_objects, in_window
from .read import read_intake, unreadable
from .reconcile import outstanding_findings, reconcile_batch, reconcile_submission, same_file_finding
from .report import ReportPaths, write_reports
from .rules import RuleConfig, check_submission
from .safety import display_name, display_names, flush_to_disk, sweep_stale_temporaries
from .sendback import findings_of as sendback_findings_of
from .sendback import latest_per_unit, needs_sendback, write_sendbacks
from .submission import Submission, submission_from_dict
from .template import (DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, FormSpec, TemplateSet, as_template_set, builtin_template,
                       load_spec, template_set)
from .workspace import Workspace


SENDBACK_FOLDER = "退回修改"
G_SENDBACK = define("G-SENDBACK", "warning", "退回修改表未能生成", "按核对报告中的问题清单通知单位修改；如反复出现，请把报回文件和 --debug 输出发给维护人员。",
                    "DESIGN §1")
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
    workspace: Workspace | None = None  # the workspace the run belongs to (its folders: 原件/, 核对/ …), if any
    # The only unit the files may be for (a unit uploading through ``serve``): a return of any other unit is
    # refused and recorded against nobody, so it never supersedes that unit's return. Empty: any unit.
    expected_unit: str = ""
    reports: bool = True  # write report.xlsx/html and findings.json/csv into out_dir (serve builds them on demand)


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

    @property
    def has_errors(self) -> bool:
        return has_errors(self.findings)


@dataclass(frozen=True)
class _Checked:
    """A worker's answer for one file (``encoded``: the ledger's JSON of the submission, made in the worker)."""

    submission: Submission
    findings: tuple[Finding, ...]
    encoded: Encoded | None = None


@dataclass(frozen=True)
class _Task:
    """A received file waiting to be read: its intake and its ledger row."""

    intake: Intake
    import_id: int


_WORKER: dict = {}


def _init_worker(master: Master, templates: TemplateSet | tuple[FormSpec, FormSpec], config: RuleConfig) -> None:
    _WORKER.update(master=master, templates=as_template_set(templates), config=config)


def _check_one(intake: Intake) -> _Checked:
    """Read one accepted file, run the rules and reconcile it with the master (inside an isolated worker)."""
    master, templates, config = _WORKER["master"], _WORKER["templates"], _WORKER["config"]
    sub = read_intake(intake, master.settings.money_unit, templates)
    return _Checked(sub, _check(sub, master, templates, config))


def _check_for_ledger(intake: Intake) -> _Checked:
    """:func:`_check_one`, plus the ledger's JSON of the submission, made here rather than in the parent.

    Only the light submission travels back with it: a JSON text crosses the process boundary far more
    cheaply than the object tree it describes, and the parent needs nothing else.
    """
    checked = _check_one(intake)
    return _Checked(_light(checked.submission), checked.findings, encode(checked.submission))


def _check(sub: Submission, master: Master, templates: TemplateSet | tuple[FormSpec, FormSpec],
           config: RuleConfig) -> tuple[Finding, ...]:
    findings = list(sub.findings)
    if sub.readable:
        findings += check_submission(sub, config)
        findings += reconcile_submission(sub, master, as_template_set(templates).expected(sub.unit_code))
    return tuple(findings)


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
    missing = [display_name(p) for p in options.paths if not Path(p).exists()]
    if missing:
        raise InputError(f"找不到 {'、'.join(missing)}。请检查路径。")
    guard_output(options)
    default = (load_spec(options.project_template or builtin_template(PROJECT_TEMPLATE)),
               load_spec(options.dept_template or builtin_template(DEPARTMENT_TEMPLATE)))
    config = RuleConfig.from_settings(master.settings, options.rules_path)
    limits = Limits()
    files = collect_files(options.paths)
    result = ImportResult(files=len(files))
    with Ledger.open(options.ledger_path) as ledger:
        # Each return is read, checked and sent back with the templates its unit was issued (kept in the ledger).
        templates = template_set(default, ledger.template_blobs(), ledger.issued_latest().values())
        tasks = _receive(ledger, files, result, on_file, limits)
        freeze_shared_objects()
        pool = IsolatedPool(min(options.jobs, max(len(tasks), 1)), limits, _init_worker, (master, templates, config))
        try:
            with ledger.batch() as batch:
                for task, future in in_window(pool, _check_for_ledger, tasks, 4 * max(1, options.jobs),
                                          argument=lambda task: task.intake):
                    _complete(ledger, task, _for_unit(_outcome(task, future.result()), options.expected_unit), result)
                    batch.done()
                    on_file(Path(task.intake.path))
            order = {shown: n for n, shown in enumerate(display_names(files).values())}
            result.submissions.sort(key=lambda s: order.get(s.file, len(order)))
            result.findings += reconcile_batch(result.submissions, master)
            result.findings += outstanding_findings(ledger.accepted_unit_codes(), master)
            for folder in (options.out_dir, options.out_dir / SENDBACK_FOLDER):
                sweep_stale_temporaries(folder)
            if options.sendbacks:
                result.sendbacks = _write_sendbacks(pool, ledger, options, result)
        finally:
            pool.shutdown()
        if options.reports:
            result.reports = write_reports(options.out_dir, result.findings, result.submissions, master)
    return result


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


def _write_sendbacks(pool: IsolatedPool, ledger: Ledger, options: ImportOptions, result: ImportResult) -> list[Path]:
    """One 退回修改 workbook per unit whose latest return of this run has errors or warnings.

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
    for light in latest_per_unit(result.submissions):
        problems = sendback_findings_of(light, by_file.get(light.file, ()))
        import_id = result.import_ids.get(light.file)
        if needs_sendback(problems) and import_id is not None:
            todo.append((light, import_id, tuple(problems)))
    out_dir = options.out_dir / SENDBACK_FOLDER

    def job(item: tuple) -> _SendbackJob:
        _light_sub, import_id, problems = item
        return _SendbackJob(ledger.submission_json_of(import_id), problems, out_dir, options.password)

    written: list[Path] = []
    for (light, _import_id, _problems), future in in_window(pool, _sendback_one, todo, 2 * max(1, options.jobs), job):
        outcome = future.result()
        if outcome.ok:
            written.extend(outcome.value)
        else:
            result.findings.append(Finding(G_SENDBACK.code, G_SENDBACK.severity,
                                           f"未能为该单位生成退回修改表（{outcome.finding.message}）；请根据核对报告中的问题清单通知单位修改。",
                                           file=light.file, sha256=light.sha256, unit_code=light.unit_code))
    flush_to_disk(written)  # the workers wrote them without one fsync each
    order = {light.unit_code: n for n, light in enumerate(result.submissions)}
    return sorted(written, key=lambda path: (order.get(path.name.split("-", 1)[0], len(order)), path.name))


@dataclass(frozen=True)
class _SendbackJob:
    """What a worker needs to render one unit's 退回修改 workbook (the full submission's ledger JSON, read by
    the parent)."""

    submission_json: str
    problems: tuple[Finding, ...]
    out_dir: Path
    password: str


def _sendback_one(job: _SendbackJob) -> list[Path]:
    """Render one unit's 退回修改 workbook (inside a worker)."""
    master, templates = _WORKER["master"], _WORKER["templates"]
    submission = submission_from_dict(json.loads(job.submission_json))
    specs = templates.for_sendback(submission.unit_code, (submission.template_id, submission.template_version))
    return write_sendbacks(job.out_dir, master, [submission], job.problems, *specs, password=job.password,
                           durable=False)


def _receive(ledger: Ledger, files: Sequence[Path], result: ImportResult, on_file: Callable[[Path], None],
             limits: Limits) -> list[_Task]:
    """Intake and record every file as received (sha256 first); duplicates of finished imports are skipped.

    A file that intake refuses (encrypted, a bomb, not a workbook …) is completed at once, unread.
    """
    tasks = []
    seen: dict[str, str] = {}
    shown = display_names(files)
    # Every "received" row is committed before any file is parsed: the workers start after this returns.
    with ledger.batch(max_records=256) as group:
        for path in files:
            task = _receive_one(ledger, path, shown[str(path)], seen, result, limits)
            if task is not None and task.intake.readable:
                tasks.append(task)
            else:
                if task is not None:
                    _complete(ledger, task, _Checked(unreadable(task.intake), tuple(task.intake.findings)), result)
                on_file(path)
            group.done()
    return tasks


def _receive_one(ledger: Ledger, path: Path, shown: str, seen: dict[str, str], result: ImportResult,
                 limits: Limits) -> _Task | None:
    """Intake one file (``shown``: its path as reports show it) and record it as received; None when there is
    nothing to read (already reported)."""
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
    if received.duplicate:
        result.duplicates += 1
        row = ledger.get(received.import_id)
        result.findings.append(Finding("L-DUPLICATE", "info",
                                       f"与 {row.received_at if row else '之前'} 导入的“{row.file_name if row else ''}”内容完全相同，本次不重复导入。",
                                       file=shown, sha256=digest, unit_code=row.unit_code if row else ""))
        return None
    return _Task(intake, received.import_id)


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
    recorded = ledger.complete(task.import_id, sub, checked.findings, "parsed" if sub.readable else "failed",
                               checked.encoded)
    result.import_ids[sub.file] = task.import_id
    result.submissions.append(sub if checked.encoded is not None else _light(sub))  # workers send light ones
    result.findings += list(checked.findings) + list(recorded.notes)


def _light(sub: Submission) -> Submission:
    """The submission without its indicators and cell locations: what reports need, a fraction of the memory."""
    projects = tuple(replace(rp, project=replace(rp.project, indicators=(), plan=()), locations={}, notes={})
                     for rp in sub.projects)
    dept = replace(sub.dept, goals=(), indicators=(), locations={}, notes={}) if sub.dept is not None else None
    return replace(sub, projects=projects, dept=dept)
