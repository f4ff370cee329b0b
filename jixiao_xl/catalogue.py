"""The rule catalogue: every finding code the tool can emit, with its Chinese description.

Each stage registers its codes at import time with :func:`define`; ``jixiao-xl rules`` lists them all.
Codes are stable: users filter reports on them and `rules.toml` switches them on and off.
"""

from __future__ import annotations

from dataclasses import dataclass

# Prefixes group the codes by stage: M master, I intake, X reconciliation/tampering, G generation,
# T template, R domain rules, L ledger/consolidation.
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


# What a rule's 依据 may cite: a public document a bureau can look up, or the tool's own convention (file
# intake, ledger, templates, workspace, the master's layout). The sources in the catalogue use these texts.
SOURCE_TOOL = "本工具约定"
SOURCE_88 = "财预〔2015〕88号《预算绩效目标管理暂行办法》"
SOURCE_101 = "财预〔2021〕101号《中央部门项目支出核心绩效目标和指标设置及取值指引（试行）》"
SOURCE_10 = "财预〔2020〕10号《项目支出绩效评价管理办法》"
PUBLIC_SOURCES = (SOURCE_88, SOURCE_101, SOURCE_10)


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
    """The rule registered under ``code`` (KeyError for a code no module registers)."""
    if code not in _RULES:
        _load_all()
    return _RULES[code]


def for_bureau_only(code: str) -> bool:
    """True for a code whose findings are shown to the bureau but never sent back to the unit."""
    if code not in _RULES:
        _load_all()
    rule = _RULES.get(code)
    return rule is not None and rule.audience == "bureau"


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by code."""
    _load_all()
    return sorted(_RULES.values(), key=lambda r: (r.code.split("-")[0], r.code))


_loaded = False


def _load_all() -> None:
    """Import every module of the package, which registers every code (each module defines its own).

    A walk rather than a list of modules: a module added later is included without anyone remembering to
    list it. Done once, and only when a code is asked for that is not registered yet or the whole catalogue
    is listed: a report looks a code up for every finding, and the modules that emitted them are loaded.
    """
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil

    package = importlib.import_module(__package__ or "jixiao_xl")
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if module.name.rsplit(".", 1)[-1] != "__main__":  # importing __main__ would run the command line
            importlib.import_module(module.name)
    _loaded = True
