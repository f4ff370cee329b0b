"""The rule catalogue: every finding code the tool can emit, with its Chinese description.

Each stage registers its codes at import time with :func:`define`; ``jixiao-xl rules`` lists them all.
Codes are stable: users filter reports on them and `rules.toml` switches them on and off.
"""

from __future__ import annotations

from dataclasses import dataclass

# Prefixes group the codes by stage: M master, I intake, X reconciliation/tampering, G generation,
# T template, R domain rules (domain.md §1d), L ledger/consolidation.
CATEGORIES = {
    "M": "主数据检查",
    "I": "文件接收",
    "T": "模板检查",
    "G": "表格生成",
    "P": "表格读取",
    "R": "填报规则",
    "X": "与主数据核对",
    "L": "台账与汇总",
}


# Who a finding is for: the unit that filled the form (it reaches 退回修改 and the unit's notices), or only
# the bureau (an issued blank returned unfilled, a form from another template batch): the unit cannot act on it.
AUDIENCES = ("unit", "bureau")


@dataclass(frozen=True)
class Rule:
    """A finding code: what it means, how to fix it, where the rule comes from, and who it is for."""

    code: str
    severity: str
    title: str
    fix: str = ""
    source: str = ""
    audience: str = "unit"

    @property
    def category(self) -> str:
        """The Chinese name of the rule's stage."""
        return CATEGORIES.get(self.code.split("-")[0], "其他")


_RULES: dict[str, Rule] = {}


def define(code: str, severity: str, title: str, fix: str = "", source: str = "", audience: str = "unit") -> Rule:
    """Register a rule code (idempotent for an identical definition) and return it."""
    if audience not in AUDIENCES:
        raise ValueError(f"rule {code}: audience must be one of {AUDIENCES}, not {audience!r}")
    rule = Rule(code, severity, title, fix, source, audience)
    existing = _RULES.get(code)
    if existing is not None and existing != rule:
        raise ValueError(f"rule {code} defined twice with different texts")
    _RULES[code] = rule
    return rule


def get(code: str) -> Rule:
    """The rule registered under ``code``."""
    _load_all()
    return _RULES[code]


def for_bureau_only(code: str) -> bool:
    """True for a code whose findings are shown to the bureau but never sent back to the unit."""
    _load_all()
    rule = _RULES.get(code)
    return rule is not None and rule.audience == "bureau"


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by code."""
    _load_all()
    return sorted(_RULES.values(), key=lambda r: (r.code.split("-")[0], r.code))


_loaded = False


def _load_all() -> None:
    # Importing the stage modules registers their codes; imported lazily to keep start-up light. Once
    # done it is not repeated: a report looks a code up for every finding, and import_module is not free.
    global _loaded
    if _loaded:
        return
    import importlib

    for module in ("master", "intake", "template", "fill", "read", "rules", "reconcile", "ledger", "consolidate",
                   "unfilled", "importer", "followup"):
        try:
            importlib.import_module(f"jixiao_xl.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"jixiao_xl.{module}":
                raise
    _loaded = True
