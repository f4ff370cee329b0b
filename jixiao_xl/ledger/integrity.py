"""Rows no import could have written — an unknown status, a supersede cycle or a reference to a missing
import, an undecodable digest, a dropped table — found and reported as L-LEDGER findings for the bureau,
never crashes or silent states."""

from __future__ import annotations

import decimal

from .. import catalogue
from ..findings import Finding
from .connection import LedgerError, LedgerFile
from .schema import DIGESTS_VERSION, STATUSES

_CHECK_SOURCE = "本工具约定"
_CHECK_FIX = "台账可能被手工修改过或已损坏；请恢复台账的备份，或把台账文件交给维护人员检查"
RULE_LEDGER_STATUS = catalogue.define(
    "L-LEDGER-STATUS", "error", "台账中的导入状态无法识别", _CHECK_FIX, _CHECK_SOURCE, audience="bureau")
RULE_LEDGER_SUPERSEDE = catalogue.define(
    "L-LEDGER-SUPERSEDE", "error", "台账中的替代关系不一致（循环或指向不存在的导入）", _CHECK_FIX, _CHECK_SOURCE,
    audience="bureau")
RULE_LEDGER_DIGEST = catalogue.define(
    "L-LEDGER-DIGEST", "error", "台账中某次导入的汇总摘要无法读取", _CHECK_FIX, _CHECK_SOURCE, audience="bureau")
RULE_LEDGER_DIGEST_REBUILT = catalogue.define(
    "L-LEDGER-DIGEST-REBUILT", "warning", "台账中某次导入的汇总摘要已损坏，已从完整报送数据重建", _CHECK_FIX,
    _CHECK_SOURCE, audience="bureau")
RULE_LEDGER_TABLE = catalogue.define(
    "L-LEDGER-TABLE", "warning", "台账缺少数据表", _CHECK_FIX, _CHECK_SOURCE, audience="bureau")


class Integrity(LedgerFile):
    """The ledger's checks of itself."""

    def inconsistencies(self) -> list[Finding]:
        """L-LEDGER findings for rows no import could have written: a missing digests table, a status the
        tool does not know, and units whose returns supersede each other in a cycle or point at an import
        that does not exist (the unit would otherwise silently have no accepted return)."""
        problems = []
        if self.schema_version >= DIGESTS_VERSION and not self.has_table("digests"):
            problems.append(Finding(
                RULE_LEDGER_TABLE.code, RULE_LEDGER_TABLE.severity,
                f"台账 {self.path} 缺少汇总摘要表（digests），汇总改为从各次导入的完整报送数据读取，结果不受影响但较慢。"
                f"{RULE_LEDGER_TABLE.fix}。", file=str(self.path), field="digests"))
        rows = self._db.execute("SELECT id, file_name, unit_code, status, superseded_by FROM imports ORDER BY id")
        chain: dict[int, tuple[str, str, str, int | None]] = {}
        for import_id, file_name, unit_code, status, superseded_by in rows:
            chain[import_id] = (file_name, unit_code, status, superseded_by)
            if status not in STATUSES:
                problems.append(_status_problem(import_id, file_name, unit_code, status))
        problems += _supersede_problems(chain)
        return problems

    def integrity_ok(self) -> bool:
        """True when SQLite's own integrity check passes."""
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# What a damaged digest or submission text raises when decoded.
UNDECODABLE = (ValueError, KeyError, TypeError, IndexError, AttributeError, decimal.InvalidOperation, LedgerError)


def digest_problem(import_id: int, file_name: str, unit_code: str, exc: BaseException, recovered: bool) -> Finding:
    """L-LEDGER-DIGEST (the return was left out) or L-LEDGER-DIGEST-REBUILT (``recovered`` from the submission)
    for the damaged digest of one import."""
    rule = RULE_LEDGER_DIGEST_REBUILT if recovered else RULE_LEDGER_DIGEST
    outcome = ("已改从该次导入的完整报送数据读取，汇总结果不受影响" if recovered
               else "完整报送数据也无法读取，该单位按未报送处理（使用主数据数值）")
    return Finding(rule.code, rule.severity,
                   f"台账中第 {import_id} 号导入（{file_name}）的汇总摘要已损坏（{type(exc).__name__}），{outcome}。"
                   f"{rule.fix}。", file=file_name, unit_code=unit_code, field="digest_json", value=str(import_id))


def _status_problem(import_id: int, file_name: str, unit_code: str, status: object) -> Finding:
    """L-LEDGER-STATUS for an import whose status the tool does not know."""
    return Finding(RULE_LEDGER_STATUS.code, RULE_LEDGER_STATUS.severity,
                   f"台账中第 {import_id} 号导入（{file_name}）的状态为“{status}”，本工具无法识别，"
                   f"该导入未计入报送状态和汇总。{RULE_LEDGER_STATUS.fix}。",
                   file=file_name, unit_code=unit_code, field="status", value=str(status),
                   expected="、".join(STATUSES))


def _supersede_problems(chain: dict[int, tuple[str, str, str, int | None]]) -> list[Finding]:
    """One L-LEDGER-SUPERSEDE finding per unit whose parsed returns all lead, through ``superseded_by``, into
    a cycle or to an import that does not exist."""
    units: dict[str, list[int]] = {}
    for import_id, (_file, unit_code, status, superseded_by) in chain.items():
        if status == "parsed" and unit_code:
            units.setdefault(unit_code, []).append(import_id)
    problems = []
    for unit_code, ids in units.items():
        if any(chain[i][3] is None for i in ids):
            continue  # the unit has an accepted return
        ends = {_chain_end(chain, i) for i in ids}
        broken = sorted(end for end in ends if end is not None)
        if not broken:
            continue  # every chain ends at an import that is not parsed (e.g. failed): a state, not an error
        newest = max(ids)
        cause = "的替代关系构成循环" if any(b in chain for b in broken) else f"被标为由不存在的第 {broken[0]} 号导入替代"
        problems.append(Finding(
            RULE_LEDGER_SUPERSEDE.code, RULE_LEDGER_SUPERSEDE.severity,
            f"台账中单位 {unit_code} 的报送（第 {'、'.join(map(str, sorted(ids)))} 号导入）{cause}，"
            f"无法确定最新一次报送，该单位未计入报送状态和汇总。{RULE_LEDGER_SUPERSEDE.fix}。",
            file=chain[newest][0], unit_code=unit_code, field="superseded_by", value=str(newest)))
    return problems


def _chain_end(chain: dict[int, tuple[str, str, str, int | None]], start: int) -> int | None:
    """Follow ``superseded_by`` from ``start``: None when it ends at a row that is not parsed, else the id
    where it went wrong (an id seen twice: a cycle; an id not in the ledger: a dangling reference)."""
    seen = set()
    current: int | None = start
    while current is not None:
        if current in seen or current not in chain:
            return current
        seen.add(current)
        _file, _unit, status, superseded_by = chain[current]
        if status != "parsed":
            return None
        current = superseded_by
    return None
