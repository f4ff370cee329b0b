"""The import's worker side: what runs in the isolated workers for each returned file and each 退回修改 workbook.

The parent starts the workers with :func:`init_worker` (the batch's master, templates and rule configuration,
sent once); :func:`check_for_ledger` reads one accepted file, runs the rules and reconciles it with the master;
:func:`sendback_one` renders one unit's 退回修改 workbook. Under spawn everything here is pickled, so it stays
top-level functions and frozen data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from .findings import Finding, one_per_cell
from .intake import Intake
from .digest import Encoded, encode
from .model import Master
from .read import read_intake
from .reconcile import issued_view, one_finding_per_edit, reconcile_submission
from .rules import RuleConfig, check_submission
from .sendback import write_sendbacks
from .submission import Submission, submission_from_dict
from .template import FormSpec, TemplateSet, as_template_set
from .unfilled import NO_INPUT_CHANGED, blank_finding, is_unfilled


@dataclass(frozen=True)
class Checked:
    """A worker's answer for one file (``encoded``: the ledger's JSON of the submission, made in the worker)."""

    submission: Submission
    findings: tuple[Finding, ...]
    encoded: Encoded | None = None
    blank: bool = False


_WORKER: dict = {}


def init_worker(master: Master, templates: TemplateSet | tuple[FormSpec, FormSpec], config: RuleConfig,
                recognise_blanks: bool = False) -> None:
    """Keep the batch's shared inputs in this worker (run once per worker, by the pool)."""
    _WORKER.update(master=master, templates=as_template_set(templates), config=config,
                   recognise_blanks=recognise_blanks)


def check_one(intake: Intake) -> Checked:
    """Read one accepted file, run the rules and reconcile it with the master (inside an isolated worker).

    With ``recognise_blanks`` (the bureau said what it issued), a form in which no cell differs from what was
    issued is not checked: its only finding is X-BLANK, for the bureau.
    """
    master, templates, config = _WORKER["master"], _WORKER["templates"], _WORKER["config"]
    sub = read_intake(intake, master.settings.money_unit, templates)
    if _WORKER.get("recognise_blanks") and is_unfilled(sub, master):
        return Checked(sub, (blank_finding(sub.file, sub.sha256, sub.unit_code, NO_INPUT_CHANGED),), blank=True)
    return Checked(sub, check(sub, master, templates, config))


def check_for_ledger(intake: Intake) -> Checked:
    """:func:`check_one`, plus the ledger's JSON of the submission, made here rather than in the parent.

    Only the light submission travels back with it: a JSON text crosses the process boundary far more
    cheaply than the object tree it describes, and the parent needs nothing else.
    """
    checked = check_one(intake)
    return Checked(light(checked.submission), checked.findings, encode(checked.submission), checked.blank)


def check(sub: Submission, master: Master, templates: TemplateSet | tuple[FormSpec, FormSpec],
          config: RuleConfig) -> tuple[Finding, ...]:
    """The findings of a read submission: its reading notes, the rules on its values as issued, and its
    reconciliation with the master (one finding per cell)."""
    findings = list(sub.findings)
    if sub.readable:
        reconciled = reconcile_submission(sub, master, as_template_set(templates).expected(sub.unit_code))
        findings = one_finding_per_edit(findings, reconciled)
        findings += check_submission(issued_view(sub, master), config)  # locked values as issued
        findings += reconciled
    return tuple(one_per_cell(findings))


@dataclass(frozen=True)
class SendbackJob:
    """What a worker needs to render one unit's 退回修改 workbook (the full submission's ledger JSON, read by
    the parent)."""

    submission_json: str
    problems: tuple[Finding, ...]
    out_dir: Path
    password: str
    failure: str = ""  # the stored submission could not be read: the worker reports this instead


def sendback_one(job: SendbackJob) -> list[Path]:
    """Render one unit's 退回修改 workbook (inside a worker)."""
    master, templates = _WORKER["master"], _WORKER["templates"]
    if job.failure:
        raise LookupError(f"台账中该报送的内容无法读取：{job.failure}")
    submission = submission_from_dict(json.loads(job.submission_json))
    specs = templates.for_sendback(submission.unit_code, (submission.template_id, submission.template_version))
    return write_sendbacks(job.out_dir, master, [submission], job.problems, *specs, password=job.password,
                           durable=False)


def light(sub: Submission) -> Submission:
    """The submission without its indicators and cell locations: what reports need, a fraction of the memory."""
    projects = tuple(replace(rp, project=replace(rp.project, indicators=(), plan=()), locations={}, notes={})
                     for rp in sub.projects)
    dept = replace(sub.dept, goals=(), indicators=(), locations={}, notes={}) if sub.dept is not None else None
    return replace(sub, projects=projects, dept=dept)
