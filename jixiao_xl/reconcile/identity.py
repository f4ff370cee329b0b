"""One return: which unit it is, and whether it was made from this batch's template and master.

A unit that is missing or unknown stops the comparison (:func:`find_unit` answers None): without the unit
there is nothing to compare to. An identity the return does not carry (empty template id, version or
fingerprint) is not compared here; reading reports a lost ``_meta`` on its own.
"""

from __future__ import annotations

from ..findings import Finding
from ..model import Master, Unit
from ..submission import Location, Submission
from .codes import finding_about, unit_label
from .compare import BLANK, as_text, code_text, compact, is_blank
from .locked import tamper_message


def identity_findings(sub: Submission, master: Master, expected_template: tuple[str, str] | None) -> list[Finding]:
    """X-VERSION when the form is not this batch's template; X-MASTER-CHANGED when the master moved on."""
    findings = []
    if expected_template is not None:
        findings += _template_findings(sub, expected_template)
    issued, current = code_text(sub.master_fingerprint), code_text(master.fingerprint)
    if issued and current and issued != current:
        findings.append(finding_about(
            sub, "X-MASTER-CHANGED",
            f"下发此表后主数据已更新（表内记录的主数据指纹为 {issued[:12]}…，当前主数据为 {current[:12]}…）；"
            "已按当前主数据核对，如下发值与表内不一致，可能是主数据调整所致，而不是单位修改。",
            field="master_fingerprint", value=issued, expected=current))
    return findings


def _template_findings(sub: Submission, expected: tuple[str, str]) -> list[Finding]:
    """X-VERSION for a template id or version that differs from the one issued to the unit (or, when the ledger
    has no record of it, from this batch's)."""
    want_id, want_version = (code_text(part) for part in expected)
    got_id, got_version = code_text(sub.template_id), code_text(sub.template_version)
    wrong_id = bool(got_id and want_id and got_id != want_id)
    wrong_version = bool(got_version and want_version and got_version != want_version)
    if not (wrong_id or wrong_version):
        return []
    what = "模板" if wrong_id else "模板版本"
    return [finding_about(
        sub, "X-VERSION",
        f"报回的表格使用的{what}为 {got_id or BLANK}（版本 {got_version or BLANK}），本批次下发给该单位的是 {want_id}"
        f"（版本 {want_version}）；该单位可能填报了往年或其他批次的表格。请与该单位确认，必要时把本批次的表格重新发给它。",
        field="template_id" if wrong_id else "template_version",
        value=f"{got_id} {got_version}".strip(), expected=f"{want_id} {want_version}".strip())]


def find_unit(sub: Submission, master: Master) -> tuple[Unit | None, list[Finding]]:
    """The unit the return belongs to, or None with X-UNIT-MISSING / X-UNIT-UNKNOWN."""
    code = code_text(sub.unit_code)
    if not code:
        return None, [finding_about(sub, "X-UNIT-MISSING",
                                    "表格中没有单位编码，无法确定是哪个单位的表；请使用主管部门下发的本单位表格填报，"
                                    "不要新建表格或把内容复制到其他表格中。" + _owner_hint(sub, master),
                                    field="unit_code")]
    unit = master.unit(code)
    if unit is None:
        return None, [finding_about(sub, "X-UNIT-UNKNOWN",
                                    f"单位编码 {code} 不在主数据中；请使用主管部门下发的本单位表格填报。" + _owner_hint(sub, master),
                                    field="unit_code", value=code)]
    return unit, []


def _owner_hint(sub: Submission, master: Master) -> str:
    """When every known project of the return belongs to one master unit: a sentence naming that unit."""
    codes = {code_text(rp.project.code) for rp in sub.projects} - {""}
    owners = {p.unit_code for code in codes for p in master.projects_with_code(code)}
    if len(owners) != 1:
        return ""
    return f"表中的项目在主数据中属于单位{unit_label(master, owners.pop())}，可能是该单位的表格。"


def unit_name_findings(sub: Submission, unit: Unit) -> list[Finding]:
    """X-TAMPER when the return carries a unit name other than the master's."""
    if is_blank(sub.unit_name) or compact(sub.unit_name) == compact(unit.name):
        return []
    message = tamper_message("单位名称", sub.unit_name, unit.name, "如单位名称有误，请联系主管部门。")
    return [finding_about(sub, "X-TAMPER", message, _unit_name_location(sub), field="unit_name",
                          value=as_text(sub.unit_name), expected=unit.name)]


def _unit_name_location(sub: Submission) -> Location | None:
    """Where the unit name was read (department sheet first, then the project sheets), if recorded."""
    holders = ([sub.dept] if sub.dept is not None else []) + list(sub.projects)
    for holder in holders:
        for path in ("unit_name", "unit.name"):
            where = holder.where(path)
            if where is not None:
                return where
    return None
