"""What the rules need to know about a batch, and which of them run at which severity.

:class:`RuleConfig` is built from the master's :class:`~jixiao_xl.model.Settings` plus an optional
``rules.toml`` (``[rules] disabled = [...]`` or ``enabled = [...]``, ``[severity] "R-S3" = "warning"``),
read and checked here; every problem with the file is an :class:`~jixiao_xl.errors.InputError` with a
Chinese message that says where and how to fix it. ``origin`` says whose data is under check: a unit's
return (the default) or the master itself (:mod:`jixiao_xl.precheck`), for the few messages that differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InputError
from ..findings import SEVERITIES, Finding
from ..model import Settings
from ..taxonomy import FRAMEWORKS, MONEY_UNITS
from .catalogue import RULES

# Whose data the rules check: what a unit returned, or the master the bureau keeps (precheck presents its
# projects as if returned). A message that sends a unit to the bureau reads differently on the master.
FROM_RETURN, FROM_MASTER = "return", "master"
ORIGINS = (FROM_RETURN, FROM_MASTER)

_TOML_SECTIONS = {"rules": ("disabled", "enabled"), "severity": ()}


@dataclass(frozen=True)
class RuleConfig:
    """What the rules need to know about the batch, and which rules run at which severity.

    ``enabled`` None runs every rule; otherwise only the codes listed. ``severity_overrides`` maps a rule
    code to error, warning or info. ``origin`` is :data:`FROM_RETURN` for a unit's return and
    :data:`FROM_MASTER` when the master itself is checked. Raises :class:`~jixiao_xl.errors.InputError` for
    an unknown framework, money unit, rule code or severity.
    """

    framework: str
    weight_total: Decimal | None
    money_unit: str
    year: int
    plan_nodes: tuple[str, ...]
    enabled: frozenset[str] | None = None
    severity_overrides: Mapping[str, str] = field(default_factory=dict)
    origin: str = FROM_RETURN

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, not {self.origin!r}")
        if self.framework not in FRAMEWORKS:
            raise InputError(f"指标体系“{self.framework}”无效，应为 {'或'.join(FRAMEWORKS)}；请在主数据“设置”表中改正。")
        if self.money_unit not in MONEY_UNITS:
            raise InputError(f"金额单位“{self.money_unit}”无效，应为 万元 或 元；请在主数据“设置”表中改正。")
        for code, severity in self.severity_overrides.items():
            _check_code(code, "severity_overrides")
            _check_severity(code, severity, "severity_overrides")
        for code in self.enabled or ():
            _check_code(code, "enabled")
        # A private copy: the caller's dict may change later. A plain dict (not a mappingproxy) so the
        # configuration pickles into worker processes.
        object.__setattr__(self, "severity_overrides", dict(self.severity_overrides))

    @classmethod
    def from_settings(cls, settings: Settings, overrides_path: Path | None = None) -> "RuleConfig":
        """The configuration of a batch: its settings plus, when given, the overrides of a rules.toml.

        The file looks like ``[rules] disabled = ["R-R6"]`` (or ``enabled = [...]`` to run only those)
        and ``[severity] "R-S3" = "warning"``. Raises :class:`~jixiao_xl.errors.InputError` with a Chinese
        message when the file is missing, is not valid TOML or names an unknown rule or severity.
        """
        enabled, severities = None, {}
        if overrides_path is not None:
            enabled, severities = _read_overrides(Path(overrides_path))
        return cls(
            framework=settings.framework, weight_total=settings.weight_total, money_unit=settings.money_unit,
            year=settings.year, plan_nodes=tuple(settings.plan_nodes), enabled=enabled,
            severity_overrides=severities,
        )

    def is_enabled(self, code: str) -> bool:
        """True when rule ``code`` runs under this configuration."""
        return self.enabled is None or code in self.enabled

    def severity(self, code: str, natural: str | None = None) -> str:
        """The severity of a finding of ``code``: the override, else ``natural``, else the catalogue's.

        Informational findings stay info whatever the override says.
        """
        natural = natural or RULES[code].severity
        if natural == "info":
            return natural
        return self.severity_overrides.get(code, natural)

    @property
    def on_master(self) -> bool:
        """True when the data under check is the master's, not a unit's return."""
        return self.origin == FROM_MASTER


def enabled_only(findings: Iterable[Finding], config: RuleConfig) -> list[Finding]:
    """The findings of the rules ``config`` runs."""
    return [f for f in findings if config.is_enabled(f.rule)]


def _check_code(code: object, where: str) -> None:
    """Raise InputError unless ``code`` is one of the R- rules."""
    if code not in RULES:
        known = "、".join(RULES)
        raise InputError(f"规则配置 {where} 中的规则编码“{code}”不存在；这里只能使用填报规则的编码：{known}。")


def _check_severity(code: str, severity: object, where: str) -> None:
    """Raise InputError unless ``severity`` is error, warning or info."""
    if severity not in SEVERITIES:
        raise InputError(f"规则配置 {where} 中“{code}”的严重程度“{severity}”无效，应为 error、warning 或 info。")


def toml_module() -> Any:
    """tomllib (Python 3.11+) or, on 3.10, the tomli package."""
    try:
        import tomllib
    except ModuleNotFoundError:
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise InputError("读取 rules.toml 需要 Python 3.11 以上版本或 tomli 包；请运行 pip install tomli 后重试。") from None
    return tomllib


def toml_error_position(exc: Exception) -> str:
    """Where a TOMLDecodeError happened, in Chinese (``第 3 行第 5 列``), or "" when it does not say."""
    where = re.search(r"line (\d+), column (\d+)", str(exc))
    return f"第 {where.group(1)} 行第 {where.group(2)} 列" if where else ""


def _load_toml(path: Path) -> dict[str, Any]:
    """The parsed rules.toml; InputError with a Chinese message when it is missing or malformed."""
    toml = toml_module()
    try:
        with path.open("rb") as handle:
            return toml.load(handle)
    except FileNotFoundError:
        raise InputError(f"找不到规则配置文件“{path}”；请检查路径，或不指定该文件。") from None
    except UnicodeDecodeError:
        raise InputError(f"规则配置文件“{path}”不是 UTF-8 编码；请用 UTF-8 编码另存后重试。") from None
    except toml.TOMLDecodeError as exc:
        raise InputError(f"规则配置文件“{path}”{toml_error_position(exc)}格式有误；请按 TOML 格式填写，"
                         f"例如 [rules] disabled = [\"R-R6\"] 和 [severity] \"R-S3\" = \"warning\"。") from None


def _read_overrides(path: Path) -> tuple[frozenset[str] | None, dict[str, str]]:
    """(enabled codes or None, severity overrides) from a rules.toml."""
    data = _load_toml(path)
    for section, value in data.items():
        if section not in _TOML_SECTIONS or not isinstance(value, dict):
            raise InputError(f"规则配置文件“{path}”中的“{section}”无法识别；只能有 [rules] 和 [severity] 两节。")
        for key in value if section == "rules" else ():
            if key not in _TOML_SECTIONS["rules"]:
                raise InputError(f"规则配置文件“{path}”的 [rules] 中的“{key}”无法识别；只能写 disabled 或 enabled。")
    switches = data.get("rules", {})
    disabled = _code_list(switches.get("disabled", []), "[rules] disabled")
    listed = switches.get("enabled")
    enabled = _code_list(listed, "[rules] enabled") if listed is not None else frozenset(RULES)
    severities = dict(data.get("severity", {}))
    for code, severity in severities.items():
        _check_code(code, "[severity]")
        _check_severity(code, severity, "[severity]")
    if listed is None and not disabled:
        return None, severities
    return enabled - disabled, severities


def _code_list(value: object, where: str) -> frozenset[str]:
    """A TOML list of rule codes, checked."""
    if not isinstance(value, list):
        raise InputError(f"规则配置 {where} 应写成列表，例如 [\"R-R6\"]。")
    for code in value:
        _check_code(code, where)
    return frozenset(value)

