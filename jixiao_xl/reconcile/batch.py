"""All returns of a batch at once: the same unit twice, the same project in two units' files, identical files
under two names, and (on request) the units that returned nothing."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

from ..findings import Finding
from ..model import Master
from ..submission import ReturnedProject, Submission
from .codes import finding_about, make_finding, unit_label
from .compare import as_text, code_text
from .matching import owner_of, project_where


def reconcile_batch(subs: Sequence[Submission], master: Master, report_outstanding: bool = False) -> list[Finding]:
    """Findings across the returns of one batch; with ``report_outstanding`` also the units that returned nothing."""
    distinct = _distinct(subs)
    findings = _same_file_findings(subs)
    findings += _dup_unit_findings(distinct, master)
    findings += _dup_project_findings(distinct, master)
    if report_outstanding:
        findings += _outstanding_findings(subs, master)
    return findings


def _content_key(sub: Submission) -> str:
    """What makes two files the same file: the sha256, or the file name when the hash is unknown."""
    return sub.sha256 or f"file:{sub.file}"


def _distinct(subs: Sequence[Submission]) -> list[Submission]:
    """One submission per content (the first of identical files)."""
    seen: dict[str, Submission] = {}
    for sub in subs:
        seen.setdefault(_content_key(sub), sub)
    return list(seen.values())


def _same_file_findings(subs: Sequence[Submission]) -> list[Finding]:
    """X-SAME-FILE for each file whose bytes an earlier file of the batch already has under another name."""
    first: dict[str, Submission] = {}
    findings = []
    for sub in subs:
        if not sub.sha256:
            continue
        earlier = first.setdefault(sub.sha256, sub)
        if earlier is sub or earlier.file == sub.file:
            continue
        findings.append(same_file_finding(sub.file, earlier.file, sub.sha256, sub.unit_code))
    return findings


def same_file_finding(file: object, earlier: object, sha256: str, unit_code: str = "") -> Finding:
    """X-SAME-FILE: ``file`` has the same bytes as ``earlier`` of the same batch (the import reads it once)."""
    return make_finding("X-SAME-FILE", f"文件“{file}”与“{earlier}”内容完全相同（sha256 相同），按同一份文件处理，无需重复提交。",
                        file=str(file), sha256=sha256, unit_code=code_text(unit_code), field="sha256", value=str(file),
                        expected=str(earlier))


def _dup_unit_findings(distinct: Sequence[Submission], master: Master) -> list[Finding]:
    """X-DUP-UNIT on every file of a unit that returned more than one different file in this batch."""
    by_unit: dict[str, list[Submission]] = defaultdict(list)
    for sub in distinct:
        if code_text(sub.unit_code):
            by_unit[code_text(sub.unit_code)].append(sub)
    findings = []
    for code, group in by_unit.items():
        if len(group) < 2:
            continue
        names = "、".join(f"“{s.file}”" for s in group)
        for sub in group:
            others = "、".join(s.file for s in group if s is not sub)
            findings.append(finding_about(sub, "X-DUP-UNIT",
                                          f"单位{unit_label(master, code)}在本批次中提交了 {len(group)} 个内容不同的文件：{names}；"
                                          "以哪个文件为准由台账决定（较新的导入取代较旧的，旧文件保留）。请与该单位确认最终版本。",
                                          field="unit_code", value=sub.file, expected=others))
    return findings


def _dup_project_findings(distinct: Sequence[Submission], master: Master) -> list[Finding]:
    """X-DUP-PROJECT for a project code that appears in files of two or more units.

    The finding goes on the files of the units that do not own the project; the owner's file is right and gets
    none (it is named in the message). When the owner is not among them, every file gets one.
    """
    by_code: dict[str, list[tuple[Submission, ReturnedProject]]] = defaultdict(list)
    for sub in distinct:
        if not code_text(sub.unit_code):
            continue
        for rp in sub.projects:
            if code_text(rp.project.code):
                by_code[code_text(rp.project.code)].append((sub, rp))
    findings = []
    for code, places in by_code.items():
        units = {code_text(sub.unit_code) for sub, _ in places}
        if len(units) < 2:
            continue
        first = owner_of(master, code)
        owner = first.unit_code if first is not None else None
        wrong = [(sub, rp) for sub, rp in places if code_text(sub.unit_code) != owner] if owner in units else places
        findings += [_dup_project_finding(sub, rp, code, places, owner, master) for sub, rp in wrong]
    return findings


def _dup_project_finding(sub: Submission, rp: ReturnedProject, code: str,
                         places: Sequence[tuple[Submission, ReturnedProject]], owner: str | None,
                         master: Master) -> Finding:
    """One X-DUP-PROJECT, naming every unit and file that returned the project and its owner in the master."""
    seen = "、".join(f"单位{unit_label(master, code_text(s.unit_code))}（文件“{s.file}”）" for s, _ in places)
    whose = f"主数据中该项目属于单位{unit_label(master, owner)}" if owner is not None else "主数据中没有该项目"
    return finding_about(sub, "X-DUP-PROJECT",
                         f"项目 {code}“{as_text(rp.project.name)}”同时出现在 {seen} 中；{whose}。请从不属于该单位的文件中删除该项目。",
                         project_where(rp, "code"), project_code=code, field="code", value=code_text(sub.unit_code),
                         expected=owner or "")


def _outstanding_findings(subs: Sequence[Submission], master: Master) -> list[Finding]:
    """X-UNIT-NO-RETURN for each master unit with no file in the batch."""
    returned = {code_text(sub.unit_code) for sub in subs}
    findings = []
    for unit in master.units:
        if unit.code in returned:
            continue
        count = len(master.projects_of(unit.code))
        findings.append(make_finding("X-UNIT-NO-RETURN",
                                     f"单位{unit_label(master, unit.code)}本批次尚未报送绩效目标表（下发项目 {count} 个）；请催报。",
                                     unit_code=unit.code, field="unit_code", expected=unit.code))
    return findings


def outstanding_findings(returned_codes: Iterable[str], master: Master) -> list[Finding]:
    """X-UNIT-NO-RETURN for each master unit whose code is not among ``returned_codes`` (e.g. from the ledger)."""
    stand_ins = [Submission(file="", sha256="", kind="", unit_code=code) for code in returned_codes]
    return _outstanding_findings(stand_ins, master)
