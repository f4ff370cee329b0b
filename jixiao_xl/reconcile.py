"""Reconciliation: what the units returned, checked against the master their forms were issued from.

Three entry points:

- :func:`reconcile_submission` compares one return with the master: which unit it is, whether it was made
  from this batch's template and master, whether a locked (下发) value was changed (domain.md R-F3/R-F4),
  whether project sheets are missing, extra or duplicated, and — as information only — how the unit changed
  the pre-filled indicators and department goals (domain.md R-G3: approved goals are generally not adjusted).
- :func:`reconcile_batch` looks across all returns of a batch: the same unit twice, the same project in two
  units' files, identical files under two names, and (on request) the units that returned nothing.
- :func:`issued_view` gives the return with its locked values as issued, for the rules: an edited locked
  cell is one X-TAMPER here and nothing else there (DESIGN §10: issued values come from the master).

None of them raises on odd data: blank budgets, empty codes and projects without indicators are
compared as they are. Values in a :class:`~jixiao_xl.submission.Submission` are already in the master's
金额单位, so money is compared as exact Decimals.

Decisions worth knowing:

- Every code has one severity in the catalogue, so "the master changed since the form was issued" is its
  own info code, ``X-MASTER-CHANGED``, beside ``X-VERSION`` (warning, other template).
- An identity the return does not carry (empty template id, version or fingerprint) is not compared here;
  reading reports a lost ``_meta`` on its own.
- A unit that is missing or unknown stops the comparison: without the unit there is nothing to compare to.
- Indicator and department-goal changes are reported only where the master pre-filled something; when the
  master left a grid empty, filling it is the unit's job, not a change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from . import catalogue
from .findings import Finding
from .issued import LOCKED_DEPT_TOTALS, LOCKED_MONEY_FIELDS, LOCKED_PROJECT_FIELDS, LOCKED_TEXT_FIELDS, issued_project
from .model import DeptGoal, Master, Project, Unit
from .submission import Location, ReturnedDept, ReturnedProject, Submission, locate
from .taxonomy import canonical_level1, canonical_level2, canonical_unit, compact
from .values import parse_money

# Every row of every file folds the same few spellings (产出指标, ≥, %): remember each answer per process.
canonical_level1, canonical_level2, canonical_unit, compact = (
    lru_cache(maxsize=16384)(fold) for fold in (canonical_level1, canonical_level2, canonical_unit, compact))

_IDENTITY = catalogue.SOURCE_TOOL
_LOCKED = catalogue.SOURCE_TOOL  # issued values are locked by the tool; the units must not change them
_GOALS = f"{catalogue.SOURCE_88}：绩效目标确定后一般不予调整，确需调整的按预算调整流程报批"
_NOTE_G3 = "（仅作提示：已批准的绩效目标一般不作调整，确需调整的按预算调整程序办理。）"
_BLANK = "（空）"


def _define(code: str, severity: str, title: str, fix: str, source: str, audience: str = "unit") -> catalogue.Rule:
    """Register one reconciliation rule in the catalogue."""
    return catalogue.define(code, severity, title, fix, source, audience)


RULES = {
    rule.code: rule
    for rule in (
        _define("X-UNIT-MISSING", "error", "表格中没有单位编码，无法确定是哪个单位的表",
                "使用主管部门下发的本单位表格填报，不要新建表格或把内容复制到其他表格中。", _IDENTITY),
        _define("X-UNIT-UNKNOWN", "error", "单位编码不在主数据中",
                "使用主管部门下发的本单位表格填报；如单位编码确有变化，请联系主管部门更新主数据。", _IDENTITY),
        # For the bureau: the return is read with the template it records when the ledger keeps it, so the
        # unit has nothing to correct; whether to re-issue the current form is the bureau's call.
        _define("X-VERSION", "warning", "报回表格的模板与下发给该单位的不一致",
                "与该单位确认是否填报了往年或其他批次的表格；如需要，把本批次下发给该单位的表格重新发给它。", _IDENTITY,
                audience="bureau"),
        _define("X-MASTER-CHANGED", "info", "下发表格后主数据已更新",
                "单位无需处理；核对以当前主数据为准，如下发值有差异，由主管部门确认是否重新下发表格。", _IDENTITY),
        _define("X-TAMPER", "error", "锁定的下发内容被修改",
                "把项目编码、项目名称、预算数、财政资金、其他资金或单位名称恢复为下发值；如需调整，请联系主管部门。",
                _LOCKED),
        _define("X-PROJECT-MISSING", "error", "缺少下发项目的工作表",
                "使用下发的表格，补回该项目的工作表后重新提交；不要删除工作表。", _LOCKED),
        _define("X-PROJECT-EXTRA", "error", "表格中有不属于本单位的项目",
                "删除该工作表；如需新增项目，请联系主管部门更新主数据后重新下发表格。", _LOCKED),
        _define("X-PROJECT-DUP", "error", "同一项目编码在一个文件中出现多次",
                "每个项目只保留一张工作表，删除重复的工作表。", _LOCKED),
        _define("X-IND-ADDED", "info", "新增了绩效指标",
                "无需处理；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-IND-REMOVED", "info", "删除了下发的预填绩效指标",
                "确认删除无误；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-IND-CHANGED", "info", "修改了下发的预填绩效指标",
                "确认修改无误；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-DEPT-MISSING", "error", "缺少部门整体绩效目标表",
                "使用下发的表格，补回“部门整体绩效目标”工作表并填写后重新提交；不要删除工作表。", _LOCKED),
        _define("X-DEPT-CHANGED", "info", "部门整体绩效目标与下发内容不同",
                "确认修改无误；如属调整已批准的绩效目标，按预算调整程序办理。", _GOALS),
        _define("X-DUP-UNIT", "warning", "同一单位在本批次中提交了多个不同的文件",
                "与该单位确认以哪个文件为准；台账以较新的导入为准，较旧的文件保留不删。", _IDENTITY),
        _define("X-DUP-PROJECT", "error", "同一项目出现在不同单位的文件中",
                "项目只能由主数据中所属的单位填报；从其他单位的文件中删除该项目。", _IDENTITY),
        _define("X-SAME-FILE", "info", "内容完全相同的文件以不同文件名重复提交",
                "无需处理，只按一份文件导入。", _IDENTITY),
        _define("X-UNIT-NO-RETURN", "warning", "单位尚未报送",
                "请催报该单位。", _IDENTITY),
    )
}


# ---------------------------------------------------------------------------------------------------------
# Small helpers: findings and the way values are shown and compared


def _make(code: str, message: str, where: Location | None = None, **fields: str) -> Finding:
    """A finding of ``code`` with the catalogue's severity, located at ``where`` when known."""
    return Finding(rule=code, severity=RULES[code].severity, message=message, **locate(fields, where))


def _of(sub: Submission, code: str, message: str, where: Location | None = None, **fields: str) -> Finding:
    """A finding about one submission: file, sha256 and unit code come from ``sub``."""
    return _make(code, message, where, file=sub.file, sha256=sub.sha256, unit_code=_code(sub.unit_code), **fields)


def _code(value: object) -> str:
    """A code as text without surrounding white space ('' for None)."""
    return "" if value is None else str(value).strip()


def _is_blank(value: object) -> bool:
    """True for None and for text that is only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def _as_decimal(value: object) -> Decimal | None:
    """``value`` as a finite Decimal, or None when it is blank or not a number."""
    if isinstance(value, bool) or _is_blank(value):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(compact(str(value)).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _text(value: object) -> str:
    """A value as plain text for the value/expected columns ('' for None, Decimals without exponent)."""
    if value is None:
        return ""
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    return str(value)


def _shown(value: object) -> str:
    """A value as a message shows it: blank as （空）."""
    return _BLANK if _is_blank(value) else _text(value)


def _money(value: object) -> str:
    """An amount as a message shows it: at least two decimals (6 → 6.00), never rounded away."""
    number = _as_decimal(value)
    if number is None:
        return _shown(value)
    if number.as_tuple().exponent > -2:  # type: ignore[operator]  # finite, so the exponent is an int
        try:
            number = number.quantize(Decimal("0.01"))
        except InvalidOperation:
            pass
    return format(number, "f")


def same_money(issued: object, returned: object) -> bool:
    """True when a returned amount equals the issued one; blank and 0 differ only when the master has a value."""
    if _is_blank(issued):
        return _is_blank(returned) or _as_decimal(returned) == 0
    if _is_blank(returned):
        return False
    a, b = _as_decimal(issued), _as_decimal(returned)
    if a is None or b is None:
        return compact(_text(issued)) == compact(_text(returned))
    return a == b


def _same_value(issued: object, returned: object) -> bool:
    """True when two indicator values say the same (numbers compared as numbers, text compacted)."""
    if _is_blank(issued) or _is_blank(returned):
        return _is_blank(issued) and _is_blank(returned)
    a, b = _as_decimal(issued), _as_decimal(returned)
    if a is not None and b is not None:
        return a == b
    return compact(_text(issued)) == compact(_text(returned))


def _same_field(name: str, issued: object, returned: object) -> bool:
    """True when an indicator field is unchanged, compared the way the domain compares that field."""
    if name in ("value", "weight"):
        return _same_value(issued, returned)
    if name == "level1":
        return canonical_level1(_text(issued)) == canonical_level1(_text(returned))
    if name == "level2":
        return canonical_level2(_text(issued)) == canonical_level2(_text(returned))
    if name == "unit":
        return canonical_unit(_text(issued)) == canonical_unit(_text(returned))
    return compact(_text(issued)) == compact(_text(returned))


def _unit_label(master: Master, code: str) -> str:
    """'名称（编码 X）' for a unit of the master, or '编码 X' when it is not there."""
    unit = master.unit(code)
    return f"“{unit.name}”（编码 {code}）" if unit is not None else f"编码 {code}"


# ---------------------------------------------------------------------------------------------------------
# One return: identity


def _identity_findings(sub: Submission, master: Master, expected_template: tuple[str, str] | None) -> list[Finding]:
    """X-VERSION when the form is not this batch's template; X-MASTER-CHANGED when the master moved on."""
    findings = []
    if expected_template is not None:
        findings += _template_findings(sub, expected_template)
    issued, current = _code(sub.master_fingerprint), _code(master.fingerprint)
    if issued and current and issued != current:
        findings.append(_of(
            sub, "X-MASTER-CHANGED",
            f"下发此表后主数据已更新（表内记录的主数据指纹为 {issued[:12]}…，当前主数据为 {current[:12]}…）；"
            "已按当前主数据核对，如下发值与表内不一致，可能是主数据调整所致，而不是单位修改。",
            field="master_fingerprint", value=issued, expected=current))
    return findings


def _template_findings(sub: Submission, expected: tuple[str, str]) -> list[Finding]:
    """X-VERSION for a template id or version that differs from the one issued to the unit (or, when the ledger
    has no record of it, from this batch's)."""
    want_id, want_version = (_code(part) for part in expected)
    got_id, got_version = _code(sub.template_id), _code(sub.template_version)
    wrong_id = bool(got_id and want_id and got_id != want_id)
    wrong_version = bool(got_version and want_version and got_version != want_version)
    if not (wrong_id or wrong_version):
        return []
    what = "模板" if wrong_id else "模板版本"
    return [_of(
        sub, "X-VERSION",
        f"报回的表格使用的{what}为 {got_id or _BLANK}（版本 {got_version or _BLANK}），本批次下发给该单位的是 {want_id}"
        f"（版本 {want_version}）；该单位可能填报了往年或其他批次的表格。请与该单位确认，必要时把本批次的表格重新发给它。",
        field="template_id" if wrong_id else "template_version",
        value=f"{got_id} {got_version}".strip(), expected=f"{want_id} {want_version}".strip())]


def _unit_findings(sub: Submission, master: Master) -> tuple[Unit | None, list[Finding]]:
    """The unit the return belongs to, or None with X-UNIT-MISSING / X-UNIT-UNKNOWN."""
    code = _code(sub.unit_code)
    if not code:
        return None, [_of(sub, "X-UNIT-MISSING",
                          "表格中没有单位编码，无法确定是哪个单位的表；请使用主管部门下发的本单位表格填报，"
                          "不要新建表格或把内容复制到其他表格中。" + _owner_hint(sub, master),
                          field="unit_code")]
    unit = master.unit(code)
    if unit is None:
        return None, [_of(sub, "X-UNIT-UNKNOWN",
                          f"单位编码 {code} 不在主数据中；请使用主管部门下发的本单位表格填报。" + _owner_hint(sub, master),
                          field="unit_code", value=code)]
    return unit, []


def _owner_hint(sub: Submission, master: Master) -> str:
    """When every known project of the return belongs to one master unit: a sentence naming that unit."""
    codes = {_code(rp.project.code) for rp in sub.projects} - {""}
    owners = {p.unit_code for code in codes for p in master.projects_with_code(code)}
    if len(owners) != 1:
        return ""
    return f"表中的项目在主数据中属于单位{_unit_label(master, owners.pop())}，可能是该单位的表格。"


def _unit_name_findings(sub: Submission, unit: Unit) -> list[Finding]:
    """X-TAMPER when the return carries a unit name other than the master's."""
    if _is_blank(sub.unit_name) or compact(sub.unit_name) == compact(unit.name):
        return []
    return [_of(sub, "X-TAMPER", _tamper_message("单位名称", sub.unit_name, unit.name, "如单位名称有误，请联系主管部门。"),
                _unit_name_location(sub), field="unit_name", value=_text(sub.unit_name), expected=unit.name)]


def _unit_name_location(sub: Submission) -> Location | None:
    """Where the unit name was read (department sheet first, then the project sheets), if recorded."""
    holders = ([sub.dept] if sub.dept is not None else []) + list(sub.projects)
    for holder in holders:
        for path in ("unit_name", "unit.name"):
            where = holder.where(path)
            if where is not None:
                return where
    return None


def _tamper_message(label: str, returned: object, issued: object, advice: str, money: bool = False) -> str:
    """'预算数被改为 6.50，主数据（下发值）为 6.00；…请恢复为 6.00。' with a closing piece of advice."""
    show = _money if money else _shown
    changed = "被清空" if _is_blank(returned) else f"被改为 {show(returned)}"
    restore = "清空该单元格" if _is_blank(issued) else f"恢复为 {show(issued)}"
    return f"{label}{changed}，主数据（下发值）为 {show(issued)}；{label}由主管部门下发，不能修改，请{restore}。{advice}"


# ---------------------------------------------------------------------------------------------------------
# One return: which returned sheet is which master project


@dataclass
class _Matching:
    """Returned project sheets paired with the unit's master projects."""

    pairs: list[tuple[ReturnedProject, Project]] = field(default_factory=list)
    duplicates: list[tuple[ReturnedProject, ReturnedProject]] = field(default_factory=list)
    extra: list[ReturnedProject] = field(default_factory=list)
    missing: list[Project] = field(default_factory=list)


@dataclass
class ProjectPairing:
    """Returned projects (by position) paired with the unit's master projects; see :func:`pair_projects`."""

    pairs: list[tuple[int, Project]] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (position, position of the first)
    extra: list[int] = field(default_factory=list)
    missing: list[Project] = field(default_factory=list)


def pair_projects(returned: Sequence[tuple[object, object]], master: Master, unit_code: str) -> ProjectPairing:
    """Pair returned (项目编码, 项目名称) with the unit's master projects: by code first, then by name.

    A code seen a second time is a duplicate and takes no part in pairing. Name pairing is only tried for a
    code the master does not know: a code of another unit's project means the sheet belongs to that unit.
    The one pairing used by reconciliation, by the rules' view of the locked values and by consolidation.
    """
    result = ProjectPairing()
    issued = list(master.projects_of(unit_code))
    free = list(range(len(issued)))
    first: dict[str, int] = {}
    unpaired = []
    for k, (raw_code, _name) in enumerate(returned):
        code = _code(raw_code)
        if code and code in first:
            result.duplicates.append((k, first[code]))
            continue
        if code:
            first[code] = k
        hit = next((i for i in free if code and issued[i].code == code), None)
        if hit is None:
            unpaired.append(k)
            continue
        free.remove(hit)
        result.pairs.append((k, issued[hit]))
    for k in unpaired:
        raw_code, raw_name = returned[k]
        name = compact(_text(raw_name))
        hit = None
        if not _known_code(master, _code(raw_code)) and name:
            hit = next((i for i in free if compact(issued[i].name) == name), None)
        if hit is None:
            result.extra.append(k)
            continue
        free.remove(hit)
        result.pairs.append((k, issued[hit]))
    result.missing = [issued[i] for i in free]
    return result


def _match_projects(sub: Submission, master: Master, unit: Unit) -> _Matching:
    """The return's project sheets paired with the unit's master projects (:func:`pair_projects`)."""
    found = pair_projects([(rp.project.code, rp.project.name) for rp in sub.projects], master, unit.code)
    sheets = sub.projects
    return _Matching(pairs=[(sheets[k], issued) for k, issued in found.pairs],
                     duplicates=[(sheets[k], sheets[first]) for k, first in found.duplicates],
                     extra=[sheets[k] for k in found.extra], missing=found.missing)


def _known_code(master: Master, code: str) -> bool:
    """True when some master project has this (non-blank) 项目编码."""
    return _owner_of(master, code) is not None


def _owner_of(master: Master, code: str) -> Project | None:
    """The first master project with this (non-blank) 项目编码, or None."""
    held = master.projects_with_code(code) if code else ()
    return held[0] if held else None


def _project_findings(sub: Submission, master: Master, unit: Unit) -> list[Finding]:
    """Tampering, missing/extra/duplicate sheets and indicator changes for the unit's projects."""
    matching = _match_projects(sub, master, unit)
    findings = []
    for rp, issued in matching.pairs:
        findings += _tamper_findings(sub, rp, issued)
        findings += _indicator_findings(sub, rp, issued)
    findings += [_duplicate_finding(sub, rp, first) for rp, first in matching.duplicates]
    findings += [_extra_finding(sub, master, unit, rp) for rp in matching.extra]
    findings += [_missing_finding(sub, issued) for issued in matching.missing]
    return findings


def _where(rp: ReturnedProject, *paths: str) -> Location:
    """The first recorded location among ``paths``, or the project's sheet without a cell."""
    for path in paths:
        where = rp.where(path)
        if where is not None:
            return where
    return Location(sheet=rp.sheet, cell="", found_by="")


_LOCKED_TEXT = tuple((name, LOCKED_PROJECT_FIELDS[name]) for name in LOCKED_TEXT_FIELDS)
_LOCKED_MONEY = tuple((name, LOCKED_PROJECT_FIELDS[name]) for name in LOCKED_MONEY_FIELDS)


def _tamper_findings(sub: Submission, rp: ReturnedProject, issued: Project) -> list[Finding]:
    """X-TAMPER for each locked project field that differs from the master."""
    findings = []
    returned = rp.project
    for name, label in _LOCKED_TEXT:
        got, want = getattr(returned, name, None), getattr(issued, name, None)
        same = _code(got) == _code(want) if name == "code" else compact(_text(got)) == compact(_text(want))
        if not same:
            message = _tamper_message(label, got, want, "如确需更正，请联系主管部门。")
            findings.append(_of(sub, "X-TAMPER", message, _where(rp, name), project_code=issued.code, field=name,
                                value=_text(got), expected=_text(want)))
    for name, label in _LOCKED_MONEY:
        got, want = getattr(returned, name, None), getattr(issued, name, None)
        where = rp.where(name)
        if got is None and where is not None and where.raw.strip() and _as_decimal(where.raw) is None:
            got = where.raw  # text that is not an amount: say what was typed, not that the cell was cleared
        if not same_money(want, got):
            message = _tamper_message(label, got, want, "如需调整预算，请联系主管部门。", money=True)
            findings.append(_of(sub, "X-TAMPER", message, _where(rp, name), project_code=issued.code, field=name,
                                value=_text(got), expected=_text(want)))
    return findings


def _duplicate_finding(sub: Submission, rp: ReturnedProject, first: ReturnedProject) -> Finding:
    """X-PROJECT-DUP for a sheet whose 项目编码 an earlier sheet of the same file already has."""
    code = _code(rp.project.code)
    return _of(sub, "X-PROJECT-DUP",
               f"项目编码 {code} 在本文件中出现了多次（工作表“{first.sheet}”和“{rp.sheet}”）；每个项目只能填一张表，"
               "请删除重复的工作表。", _where(rp, "code"), project_code=code, field="code", value=code)


def _extra_finding(sub: Submission, master: Master, unit: Unit, rp: ReturnedProject) -> Finding:
    """X-PROJECT-EXTRA for a sheet whose project is not the unit's (saying whose it is, when known)."""
    code = _code(rp.project.code)
    name = _text(rp.project.name)
    owner = _owner_of(master, code)
    shown = f"项目“{name}”（编码 {code or _BLANK}）"
    if owner is not None and owner.unit_code != unit.code:
        message = (f"{shown}在主数据中属于单位{_unit_label(master, owner.unit_code)}，不是本单位"
                   f"{_unit_label(master, unit.code)}的项目；请从本表删除该工作表，由所属单位填报。")
        expected = owner.unit_code
    else:
        message = f"{shown}不在本单位的主数据中；本表格只能填报下发的项目，请删除该工作表。如需新增项目，请联系主管部门。"
        expected = ""
    return _of(sub, "X-PROJECT-EXTRA", message, _where(rp, "code", "name"), project_code=code, field="code",
               value=code, expected=expected)


def _missing_finding(sub: Submission, issued: Project) -> Finding:
    """X-PROJECT-MISSING for a master project of the unit that has no sheet in the return."""
    return _of(sub, "X-PROJECT-MISSING",
               f"缺少项目“{issued.name}”（编码 {issued.code or _BLANK}）的工作表；请使用下发的表格补回该项目的工作表，"
               "不要删除或改名工作表。", project_code=issued.code, field="code", expected=issued.code)


# ---------------------------------------------------------------------------------------------------------
# One return: indicator grids (pairing shared by project indicators and department indicators)

_IND_FIELDS = (
    ("level1", "一级指标"), ("level2", "二级指标"), ("name", "三级指标"), ("operator", "指标性质"),
    ("value", "指标值"), ("unit", "度量单位"), ("basis", "指标值确定依据"), ("description", "指标描述"),
    ("weight", "权重"),
)
_FILLED_FIELDS = ("name", "description", "operator", "value", "unit", "basis", "weight")

_Row = tuple[int, Any]


def _is_blank_row(row: object) -> bool:
    """True for an indicator row with nothing filled in but (possibly) its 一级/二级 dropdowns."""
    return all(_is_blank(getattr(row, name, None)) for name in _FILLED_FIELDS)


def _row_key(row: object) -> tuple:
    """The pairing key of an indicator row: canonical 一级, canonical 二级, compacted 三级 name."""
    return (canonical_level1(_text(getattr(row, "level1", ""))), canonical_level2(_text(getattr(row, "level2", ""))),
            compact(_text(getattr(row, "name", ""))))


def _pair_rows(issued: list[_Row], returned: list[_Row], key: Callable[[Any], tuple],
               group: Callable[[Any], object]) -> tuple[list[tuple[_Row, _Row]], list[_Row], list[_Row]]:
    """Pair rows by ``key``, then the rest in order of position within the same ``group``.

    Returns (pairs of (issued, returned), returned rows left over = added, issued rows left over = removed).
    """
    free = list(issued)
    pairs, unpaired = [], []
    keys = {id(item): key(item[1]) for item in [*issued, *returned]}  # each row's key once, not once per pair
    for row in returned:
        hit = next((item for item in free if keys[id(item)] == keys[id(row)]), None)
        if hit is None:
            unpaired.append(row)
            continue
        free = [item for item in free if item[0] != hit[0]]
        pairs.append((hit, row))
    added = []
    for row in unpaired:
        hit = next((item for item in free if group(item[1]) == group(row[1])), None)
        if hit is None:
            added.append(row)
            continue
        free = [item for item in free if item[0] != hit[0]]
        pairs.append((hit, row))
    return pairs, added, free


def _changed_fields(before: object, after: object) -> list[tuple[str, str]]:
    """(field name, Chinese label) of each indicator field that differs between two rows."""
    if before == after:  # an untouched pre-filled row: equal fields compare the same under every rule below
        return []
    return [(name, label) for name, label in _IND_FIELDS
            if hasattr(before, name) and not _same_field(name, getattr(before, name), getattr(after, name, None))]


def _summary(row: object) -> str:
    """A row in one line: '产出指标/数量指标/名称 ≥30个'."""
    levels = "/".join(_text(getattr(row, n, "")) for n in ("level1", "level2", "name"))
    operator, value, unit = (_text(getattr(row, n, "")) for n in ("operator", "value", "unit"))
    target = f"{operator}：{value}" if operator == "定性" else f"{operator}{value}{unit}"
    return f"{levels} {target}".strip()


def _label(row: object) -> str:
    """The name a message uses for an indicator row."""
    return _text(getattr(row, "name", "")) or _BLANK


@dataclass(frozen=True)
class _Grid:
    """How to report on one grid: the rule codes, the path prefix of its rows and how to place findings."""

    changed: str
    added: str
    removed: str
    prefix: str
    where: Callable[[str], Location | None]
    sheet: str
    context: Callable[[Any], str]
    # Where a row that is gone is reported when its own cells are not there any more: the project's 项目编码,
    # or the 分项目标 a department indicator belonged to.
    home: Callable[[Any], Location | None] = lambda row: None


def _grid_findings(sub: Submission, grid: _Grid, issued: Sequence[Any], returned: Sequence[Any], project_code: str,
                   group: Callable[[Any], object]) -> list[Finding]:
    """Changed, added and removed rows of one indicator grid against its pre-filled rows."""
    master_rows = [(k, row) for k, row in enumerate(issued) if not _is_blank_row(row)]
    if not master_rows:
        return []
    returned_rows = [(k, row) for k, row in enumerate(returned) if not _is_blank_row(row)]
    pairs, added, removed = _pair_rows(master_rows, returned_rows, lambda row: (group(row), *_row_key(row)), group)
    findings = []
    for (_, before), (k, after) in sorted(pairs, key=lambda pair: pair[1][0]):
        findings += _row_changes(sub, grid, before, after, k, project_code)
    for k, after in added:
        where = _first_where(grid, k, ("name", "level1", "value"))
        findings.append(_of(sub, grid.added, f"{grid.context(after)}新增指标“{_label(after)}”（{_summary(after)}）。"
                            + _NOTE_G3, where, project_code=project_code, field=f"{grid.prefix}{k}",
                            value=_summary(after)))
    elsewhere: dict[tuple[str, str], list[tuple[int, Any]]] = {}
    for k, before in removed:
        cleared = k < len(returned) and _is_blank_row(returned[k])
        where = _first_where(grid, k, ("name", "level1", "value")) if cleared else None
        if where is None:  # its row is gone: reported at the grid's home, one finding for all rows there
            home = grid.home(before) or _sheet_only(grid)
            elsewhere.setdefault((home.sheet, home.cell), []).append((k, before))
            continue
        findings.append(_removed_finding(sub, grid, [(k, before)], where, project_code))
    for rows in elsewhere.values():
        findings.append(_removed_finding(sub, grid, rows, grid.home(rows[0][1]) or _sheet_only(grid), project_code))
    return findings


def _removed_finding(sub: Submission, grid: _Grid, rows: Sequence[tuple[int, Any]], where: Location,
                     project_code: str) -> Finding:
    """One finding for the pre-filled rows ``rows`` (index, issued row) that were deleted, at ``where``."""
    if len(rows) == 1:
        before = rows[0][1]
        shown = f"“{_label(before)}”已被删除（原为 {_summary(before)}）"
    else:
        shown = "、".join(f"“{_label(before)}”（原为 {_summary(before)}）" for _, before in rows) + "已被删除"
    return _of(sub, grid.removed, f"{grid.context(rows[0][1])}下发的预填指标{shown}。" + _NOTE_G3, where,
               project_code=project_code, field=f"{grid.prefix}{rows[0][0]}",
               expected="；".join(_summary(before) for _, before in rows))


def _row_changes(sub: Submission, grid: _Grid, before: object, after: object, k: int,
                 project_code: str) -> list[Finding]:
    """One finding per changed field of a paired row, with the value before (expected) and after (value)."""
    findings = []
    for name, label in _changed_fields(before, after):
        old, new = getattr(before, name), getattr(after, name, None)
        path = f"{grid.prefix}{k}.{name}"
        findings.append(_of(sub, grid.changed,
                            f"{grid.context(after)}指标“{_label(before)}”的{label}由 {_shown(old)} 改为 {_shown(new)}。"
                            + _NOTE_G3, grid.where(path) or _sheet_only(grid), project_code=project_code, field=path,
                            value=_text(new), expected=_text(old)))
    return findings


def _first_where(grid: _Grid, k: int, names: Sequence[str]) -> Location:
    """The location of the first recorded field of row ``k``, or the grid's sheet."""
    for name in names:
        where = grid.where(f"{grid.prefix}{k}.{name}")
        if where is not None:
            return where
    return _sheet_only(grid)


def _sheet_only(grid: _Grid) -> Location:
    """A location naming only the grid's sheet."""
    return Location(sheet=grid.sheet, cell="", found_by="")


def _indicator_findings(sub: Submission, rp: ReturnedProject, issued: Project) -> list[Finding]:
    """X-IND-CHANGED / X-IND-ADDED / X-IND-REMOVED of a project against its pre-filled indicators."""
    grid = _Grid("X-IND-CHANGED", "X-IND-ADDED", "X-IND-REMOVED", "ind", rp.where, rp.sheet, lambda row: "",
                 home=lambda row: rp.where("code"))
    return _grid_findings(sub, grid, issued.indicators, rp.project.indicators, issued.code, group=lambda row: None)


# ---------------------------------------------------------------------------------------------------------
# One return: the department sheet


def _dept_findings(sub: Submission, master: Master, unit: Unit) -> list[Finding]:
    """X-DEPT-CHANGED for the overall goal, the 分项 goals and their indicators, where the master pre-filled them."""
    dept = sub.dept
    if dept is None:
        return [_of(sub, "X-DEPT-MISSING", f"文件中没有“部门整体绩效目标”工作表（单位 {unit.code} 的部门整体支出绩效目标表）；"
                    "请使用下发的表格补回该工作表并填写后重新提交。", None, field="dept")]
    goals = master.goals_of(unit.code)
    findings = _overall_goal_findings(sub, dept, goals)
    findings += _goal_findings(sub, dept, [g for g in goals if g.seq != 0])
    grid = _Grid("X-DEPT-CHANGED", "X-DEPT-CHANGED", "X-DEPT-CHANGED", "dind", dept.where, dept.sheet,
                 lambda row: f"部门整体绩效目标（分项目标 {_text(getattr(row, 'seq', ''))}）中",
                 home=lambda row: dept.where(f"goal{getattr(row, 'seq', '')}.goal") or dept.where("overall_goal"))
    findings += _grid_findings(sub, grid, master.dept_indicators_of(unit.code), dept.indicators, "",
                               group=lambda row: getattr(row, "seq", None))
    return findings


def _overall_goal_findings(sub: Submission, dept: ReturnedDept, goals: Sequence[DeptGoal]) -> list[Finding]:
    """X-DEPT-CHANGED when the 总体绩效目标 text differs from the pre-filled one."""
    issued = next((g.goal for g in goals if g.seq == 0), "")
    returned = dept.overall_goal or next((g.goal for g in dept.goals if g.seq == 0), "")
    if _is_blank(issued) or compact(_text(issued)) == compact(_text(returned)):
        return []
    change = "已被清空" if _is_blank(returned) else "已修改，与下发内容不同"
    where = dept.where("overall_goal") or Location(dept.sheet, "", "")
    return [_of(sub, "X-DEPT-CHANGED", f"部门整体绩效目标中的总体绩效目标{change}。" + _NOTE_G3, where,
                field="overall_goal", value=_text(returned), expected=_text(issued))]


def _goal_findings(sub: Submission, dept: ReturnedDept, issued: Sequence[DeptGoal]) -> list[Finding]:
    """X-DEPT-CHANGED for each 分项绩效目标 renamed, rewritten, removed or added (matched by 序号)."""
    if not issued:
        return []
    returned = {g.seq: g for g in dept.goals if g.seq != 0 and not (_is_blank(g.name) and _is_blank(g.goal))}
    findings = []
    for goal in issued:
        got = returned.pop(goal.seq, None)
        if got is None:
            findings.append(_of(sub, "X-DEPT-CHANGED", f"下发的分项绩效目标 {goal.seq}“{goal.name}”已被删除。" + _NOTE_G3,
                                Location(dept.sheet, "", ""), field=f"goal{goal.seq}", expected=goal.name))
            continue
        findings += _goal_changes(sub, dept, goal, got)
    for seq, got in sorted(returned.items()):
        where = dept.where(f"goal{seq}.name") or Location(dept.sheet, "", "")
        findings.append(_of(sub, "X-DEPT-CHANGED", f"新增分项绩效目标 {seq}“{_text(got.name)}”。" + _NOTE_G3, where,
                            field=f"goal{seq}", value=_text(got.name)))
    return findings


def _goal_changes(sub: Submission, dept: ReturnedDept, issued: DeptGoal, returned: DeptGoal) -> list[Finding]:
    """X-DEPT-CHANGED for the name and the text of one 分项绩效目标."""
    findings = []
    for name, label in (("name", "名称"), ("goal", "目标内容")):
        old, new = getattr(issued, name), getattr(returned, name)
        if compact(_text(old)) == compact(_text(new)):
            continue
        path = f"goal{issued.seq}.{name}"
        which = f"分项绩效目标 {issued.seq}" + ("" if name == "name" else f"“{issued.name}”")
        message = f"{which}的{label}由“{_shown(old)}”改为“{_shown(new)}”。" + _NOTE_G3
        findings.append(_of(sub, "X-DEPT-CHANGED", message, dept.where(path) or Location(dept.sheet, "", ""),
                            field=path, value=_text(new), expected=_text(old)))
    return findings


# ---------------------------------------------------------------------------------------------------------
# Public API


def reconcile_submission(sub: Submission, master: Master,
                         expected_template: tuple[str, str] | None = None) -> list[Finding]:
    """Findings of one return against the master (identity, tampering, project sheets, indicator changes).

    ``expected_template`` is the (template id, version) this master's batch was issued with; when given, a
    return made from another template gets X-VERSION. A file that could not be read as one of our forms gets
    nothing here: its reading findings already say why.
    """
    if not sub.readable:
        return []
    findings = _identity_findings(sub, master, expected_template)
    unit, unit_findings = _unit_findings(sub, master)
    findings += unit_findings
    if unit is None:
        return findings
    findings += _unit_name_findings(sub, unit)
    findings += _project_findings(sub, master, unit)
    findings += _dept_findings(sub, master, unit)
    return findings


def issued_view(sub: Submission, master: Master) -> Submission:
    """The return as the rules should see it: locked values as issued, the unit's entries as returned.

    Every project sheet paired with one of the unit's master projects (:func:`pair_projects`) carries the
    master's 项目编码, 项目名称, 预算数, 财政资金 and 其他资金 (:func:`~jixiao_xl.issued.issued_project`); an
    edit of those cells is reconciliation's X-TAMPER, reported once, and the rules that compare with the
    budget (R-F1, R-F5, R-C1, R-C2, R-F2 …) judge the unit's own entries against what was issued. The
    department sheet's totals are locked formulas over the project sheets: a total that only follows an
    edited cell is read as the issued total. A return of an unknown unit, and a sheet whose project the
    master does not have, are left as returned.
    """
    unit = master.unit(_code(sub.unit_code)) if sub.readable else None
    if unit is None:
        return sub
    found = pair_projects([(rp.project.code, rp.project.name) for rp in sub.projects], master, unit.code)
    if not found.pairs:
        return sub
    projects = list(sub.projects)
    for k, issued in found.pairs:
        projects[k] = replace(projects[k], project=issued_project(projects[k].project, issued))
    dept = sub.dept
    if dept is not None:
        dept = _issued_totals(dept, sub.projects, projects, master.settings.money_unit)
    return replace(sub, projects=tuple(projects), dept=dept)


def _issued_totals(dept: ReturnedDept, returned: Sequence[ReturnedProject], issued: Sequence[ReturnedProject],
                   money_unit: str) -> ReturnedDept:
    """The department sheet with each shown total that equals the returned projects' sum (a formula that
    followed an edited locked cell) read as the issued projects' sum instead."""
    locations = dict(dept.locations)
    for path, key in LOCKED_DEPT_TOTALS:
        where = locations.get(path)
        if where is None or not where.raw:
            continue
        try:
            shown, _ = parse_money(where.raw, target_unit=money_unit)
        except ValueError:
            continue
        as_returned = sum((getattr(rp.project, key) or Decimal(0) for rp in returned), Decimal(0))
        as_issued = sum((getattr(rp.project, key) or Decimal(0) for rp in issued), Decimal(0))
        if shown is not None and shown == as_returned != as_issued:
            locations[path] = replace(where, raw=format(as_issued, "f"))
    return replace(dept, locations=locations)


def one_finding_per_edit(read: Sequence[Finding], reconciled: Sequence[Finding]) -> list[Finding]:
    """The reading findings without the P-NUMBER/P-FORMULA at a locked cell that X-TAMPER reports: the one
    fix for an edited locked cell is to restore the issued value, not to type a number into it."""
    edited = {(f.sheet, f.cell) for f in reconciled if f.rule == "X-TAMPER" and f.cell}
    return [f for f in read if f.rule not in _SHADOWED_BY_TAMPER or (f.sheet, f.cell) not in edited]


_SHADOWED_BY_TAMPER = frozenset({"P-NUMBER", "P-FORMULA"})


def reconcile_batch(subs: Sequence[Submission], master: Master, report_outstanding: bool = False) -> list[Finding]:
    """Findings across the returns of one batch; with ``report_outstanding`` also the units that returned nothing."""
    distinct = _distinct(subs)
    findings = _same_file_findings(subs)
    findings += _dup_unit_findings(distinct, master)
    findings += _dup_project_findings(distinct, master)
    if report_outstanding:
        findings += _outstanding_findings(subs, master)
    return findings


# ---------------------------------------------------------------------------------------------------------
# The batch


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
    return _make("X-SAME-FILE", f"文件“{file}”与“{earlier}”内容完全相同（sha256 相同），按同一份文件处理，无需重复提交。",
                 file=str(file), sha256=sha256, unit_code=_code(unit_code), field="sha256", value=str(file),
                 expected=str(earlier))


def _dup_unit_findings(distinct: Sequence[Submission], master: Master) -> list[Finding]:
    """X-DUP-UNIT on every file of a unit that returned more than one different file in this batch."""
    by_unit: dict[str, list[Submission]] = defaultdict(list)
    for sub in distinct:
        if _code(sub.unit_code):
            by_unit[_code(sub.unit_code)].append(sub)
    findings = []
    for code, group in by_unit.items():
        if len(group) < 2:
            continue
        names = "、".join(f"“{s.file}”" for s in group)
        for sub in group:
            others = "、".join(s.file for s in group if s is not sub)
            findings.append(_of(sub, "X-DUP-UNIT",
                                f"单位{_unit_label(master, code)}在本批次中提交了 {len(group)} 个内容不同的文件：{names}；"
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
        if not _code(sub.unit_code):
            continue
        for rp in sub.projects:
            if _code(rp.project.code):
                by_code[_code(rp.project.code)].append((sub, rp))
    findings = []
    for code, places in by_code.items():
        units = {_code(sub.unit_code) for sub, _ in places}
        if len(units) < 2:
            continue
        first = _owner_of(master, code)
        owner = first.unit_code if first is not None else None
        wrong = [(sub, rp) for sub, rp in places if _code(sub.unit_code) != owner] if owner in units else places
        findings += [_dup_project_finding(sub, rp, code, places, owner, master) for sub, rp in wrong]
    return findings


def _dup_project_finding(sub: Submission, rp: ReturnedProject, code: str,
                         places: Sequence[tuple[Submission, ReturnedProject]], owner: str | None,
                         master: Master) -> Finding:
    """One X-DUP-PROJECT, naming every unit and file that returned the project and its owner in the master."""
    seen = "、".join(f"单位{_unit_label(master, _code(s.unit_code))}（文件“{s.file}”）" for s, _ in places)
    whose = f"主数据中该项目属于单位{_unit_label(master, owner)}" if owner is not None else "主数据中没有该项目"
    return _of(sub, "X-DUP-PROJECT",
               f"项目 {code}“{_text(rp.project.name)}”同时出现在 {seen} 中；{whose}。请从不属于该单位的文件中删除该项目。",
               _where(rp, "code"), project_code=code, field="code", value=_code(sub.unit_code), expected=owner or "")


def _outstanding_findings(subs: Sequence[Submission], master: Master) -> list[Finding]:
    """X-UNIT-NO-RETURN for each master unit with no file in the batch."""
    returned = {_code(sub.unit_code) for sub in subs}
    findings = []
    for unit in master.units:
        if unit.code in returned:
            continue
        count = len(master.projects_of(unit.code))
        findings.append(_make("X-UNIT-NO-RETURN",
                              f"单位{_unit_label(master, unit.code)}本批次尚未报送绩效目标表（下发项目 {count} 个）；请催报。",
                              unit_code=unit.code, field="unit_code", expected=unit.code))
    return findings


def outstanding_findings(returned_codes: Iterable[str], master: Master) -> list[Finding]:
    """X-UNIT-NO-RETURN for each master unit whose code is not among ``returned_codes`` (e.g. from the ledger)."""
    stand_ins = [Submission(file="", sha256="", kind="", unit_code=code) for code in returned_codes]
    return _outstanding_findings(stand_ins, master)
