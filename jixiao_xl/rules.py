"""The domain review rules of docs/domain.md §1d (R-S1 … R-F5), run on what a unit returned.

Public API:

* :class:`RuleConfig` — what the rules need to know about the batch (framework, money unit, year, plan
  nodes, weight total), built from the master's :class:`~jixiao_xl.model.Settings` plus an optional
  ``rules.toml`` that switches rules off and changes severities;
* :func:`check_project` — one project sheet (:class:`~jixiao_xl.submission.ReturnedProject`);
* :func:`check_dept` — the 部门整体绩效目标 sheet (:class:`~jixiao_xl.submission.ReturnedDept`);
* :func:`check_submission` — both, plus the cross-project boilerplate check R-R6, attributed to the file;
* :func:`catalogue_rules` — the R- rules as registered in :mod:`jixiao_xl.catalogue`.

Each finding carries the rule code, a Chinese message that names the value, says what is wrong and how
to fix it, and the sheet/cell where the value was read (``submission.locate``).

Severity: a finding takes its rule's catalogue severity, except for the lighter variants the spec names
(R-S3 for a missing 满意度指标, R-S7 for a placeholder goal, R-V2 for 定性 with a unit or an unlisted
unit, R-R4 for 覆盖率). A ``rules.toml`` override replaces the severity of every finding of that rule;
informational notes (info, e.g. R-S1 "名称已按标准读作…") always stay info.

Rules that cannot apply to the data our forms hold are registered with a title that says so and never
emit a finding: R-W2 (no 二级/一级 weights to compare with), R-D1 (no 指标方向 column), R-F3/R-F4 (checked
against the master during reconciliation, X-TAMPER). R-R5 checks only the budget year (no 项目期), R-F2
only the department sheet's totals against the projects (no 收入性质/支出性质 split).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from . import catalogue
from .errors import InputError
from .findings import SEVERITIES, Finding
from .issued import LOCKED_DEPT_TOTALS
from .model import DeptIndicator, Indicator, Project, Settings
from .submission import Location, ReturnedDept, ReturnedProject, Submission, locate
from .taxonomy import (
    DIRECTION,
    FRAMEWORK_NAMES,
    FRAMEWORKS,
    MONEY_UNITS,
    OPERATORS,
    QUANTITATIVE_OPERATORS,
    canonical_level1,
    canonical_level2,
    canonical_unit,
    compact,
    is_cost_level2,
    is_known_unit,
    parent_of,
)
from .values import Note, normalise_operator, parse_money, parse_number, split_indicator_value, to_money_unit

# Every row of every file folds the same few spellings (产出指标, ≥, %): remember each answer per process.
canonical_level1, canonical_level2, canonical_unit, compact, is_known_unit, normalise_operator = (
    lru_cache(maxsize=16384)(fold) for fold in (canonical_level1, canonical_level2, canonical_unit, compact,
                                                  is_known_unit, normalise_operator))

# --------------------------------------------------------------------------------------------------
# The catalogue: the review rules, each with the public document it rests on (or 本工具约定)
# --------------------------------------------------------------------------------------------------

_TOOL, _88, _101, _10 = catalogue.SOURCE_TOOL, catalogue.SOURCE_88, catalogue.SOURCE_101, catalogue.SOURCE_10
_QUANTIFIED = f"{_88}：绩效指标尽量定量表述，不能以量化形式表述的可以采用定性表述"
_RULES: dict[str, catalogue.Rule] = {
    rule.code: rule
    for rule in (
        # Structure
        catalogue.define(
            "R-S1", "error", "一级指标不在指标体系中，或二级指标不属于其一级指标（名称变体按标准名称读取并提示）",
            "从下拉列表选择一级指标，再选择该一级指标下的二级指标（指标体系见主数据“设置”）",
            f"{_88}、{_101}：绩效指标体系的一级、二级指标名称"),
        catalogue.define(
            "R-S2", "error", "三级指标的名称、指标性质或指标值为空，或指标性质无法识别",
            "每行三级指标都要填写名称，从下拉列表选择指标性质（≥ ＞ ＝ ＜ ≤ 定性），再填写指标值",
            f"{_88}：绩效指标应细化、量化，每项指标有明确的指标值；逐项必填为{_TOOL}"),
        catalogue.define(
            "R-S3", "error", "某个一级指标下没有三级指标（缺少满意度指标时为警告）",
            "在指标体系的每个一级指标下至少填写一个三级指标；确无直接服务对象的项目可不设满意度指标",
            f"{_88}：绩效指标包括产出、效益和满意度指标（{_101} 另设成本指标）"),
        catalogue.define(
            "R-S4", "warning", "二级指标下没有填写三级指标（只有一级、二级的空行）",
            "在该行填写三级指标的名称、指标性质和指标值，或清空这一行", f"{_TOOL}：只有一级、二级而没有三级的行不构成指标"),
        catalogue.define(
            "R-S5", "warning", "三级指标名称与二级指标相同或只是指标类别名称，过于笼统",
            "三级指标写具体的考核内容，如“培训人次”“设备故障率”", f"{_88}：绩效目标应指向明确、细化量化；笼统名称的判断为{_TOOL}"),
        catalogue.define(
            "R-S6", "warning", "同一项目中三级指标名称重复", "合并重复的指标，或改成能够区分的名称", _TOOL),
        catalogue.define(
            "R-S7", "error",
            "年度绩效目标为空（仍是模板占位文字时为警告；表中没有项目期，多年项目的中期目标无法检查）",
            "写明本年度要完成的产出和达到的效果，如“完成……，实现……”", f"{_88}：项目须设定年度绩效目标（绩效目标申报表“年度目标”栏）"),
        # Value form
        catalogue.define(
            "R-V1", "error", "定量指标（≥ ＞ ＝ ＜ ≤）的指标值不是数值，或超过 3 位小数",
            "指标值只填数字（至多 3 位小数），符号选在指标性质列、单位选在度量单位列；无法量化的改选“定性”",
            f"{_QUANTIFIED}；至多 3 位小数为{_TOOL}"),
        catalogue.define(
            "R-V2", "error", "定量指标缺少度量单位（定性指标填了单位、或单位不在常用单位表中时为警告）",
            "定量指标从下拉列表选择度量单位；定性指标的度量单位留空", f"{_TOOL}：定量指标须有度量单位才能考核，定性指标不填单位"),
        catalogue.define(
            "R-V3", "error", "指标值是占位符（含 *、_、XX 等）", "把占位符换成实际的目标值", _TOOL),
        catalogue.define(
            "R-V4", "warning", "指标值中夹带了符号或单位，或与指标性质、度量单位列不一致",
            "指标值只填数字，符号选在指标性质列，单位选在度量单位列", _TOOL),
        catalogue.define(
            "R-V5", "warning", "指标值中的单位与度量单位不一致", "核对指标值和度量单位，改成一致", _TOOL),
        catalogue.define(
            "R-V6", "warning", "一个指标值中填写了多个目标", "每个目标单列一行三级指标", f"{_88}：绩效指标应细化；一个指标只填一个目标值为{_TOOL}"),
        catalogue.define(
            "R-V7", "warning", "定性指标过多，或满意度、数量、比率类指标用了定性",
            "能量化的指标改为定量：选择 ≥、≤ 等指标性质，填写数值和度量单位", _QUANTIFIED),
        # Value range / sign
        catalogue.define(
            "R-R1", "error", "百分比或比率类指标的指标值不在 0～100 之间",
            "百分比填写 0 到 100 之间的数（95 表示 95%）", _TOOL),
        catalogue.define(
            "R-R2", "warning", "满意度指标应使用“≥”、单位为 %、目标值一般在 80～100 之间",
            "满意度指标选择“≥”，度量单位选 %，目标值填 80～100，如 ≥90%", f"{_TOOL}：满意度指标是越高越好的百分比"),
        catalogue.define(
            "R-R3", "warning", "故障率、破损率、投诉率等负向指标应使用“≤”或“＜”",
            "负向指标（越低越好）选择“≤”，填写可接受的上限，如 ≤2%", f"{_TOOL}：故障率等负向指标越低越好"),
        catalogue.define(
            "R-R4", "warning", "数量指标使用了百分比单位（覆盖率类含义不清，也给出警告）",
            "数量指标填写实际数量，单位用个、台、人次等；比例类指标放到质量指标下", _TOOL),
        catalogue.define(
            "R-R5", "warning", "时效指标中的日期不在预算年度内（表中没有项目期，只按预算年度检查）",
            "把完成时间改在预算年度之内，如“12月底前”", f"{_88}：年度绩效目标是预算资金在一个预算年度内预期达到的产出和效果"),
        catalogue.define(
            "R-R6", "warning", "多个项目的效益指标完全相同或全部为“≥95%”，疑似套用模板（每份报表只提示一次）",
            "按每个项目的实际效果分别设置效益指标和目标值", f"{_88}：绩效目标应与项目内容相关、指向明确；套用模板的判断为{_TOOL}"),
        # Cost
        catalogue.define(
            "R-C1", "error", "成本指标高于项目预算数（元与万元换算后比较）",
            "成本指标不超过预算数，指标性质选“≤”", f"{_101}：成本指标按预算支出标准设定；不超过项目预算数为{_TOOL}"),
        catalogue.define(
            "R-C2", "warning", "成本指标应使用“≤”或“＜”（等于预算数时可用“＝”）",
            "成本指标的指标性质选“≤”", f"{_101}：成本指标按预算支出标准设定，是不应超出的上限"),
        catalogue.define(
            "R-C3", "warning", "成本指标的指标值确定依据应为“预算支出标准”或“计划标准”",
            "从下拉列表选择“预算支出标准”或“计划标准”，文件依据可写在绩效指标描述中",
            f"{_101}：成本指标的指标值依据预算支出标准设定"),
        catalogue.define(
            "R-C4", "warning", "社会成本、生态环境成本指标使用了“≥”或“＞”（这类指标一般为定性，2021 指标体系）",
            "社会成本、生态环境成本指标一般选“定性”，如“减少”，或用“≤”设上限", f"{_101}：成本指标分经济成本、社会成本、生态环境成本；“≥”的判断为{_TOOL}"),
        catalogue.define(
            "R-C5", "warning", "成本指标用百分比表示", "成本指标用金额（万元、元）或单位成本（元/人等）表示",
            f"{_TOOL}：成本以金额或单位成本表示"),
        # Weights
        catalogue.define(
            "R-W1", "error", "权重为空或不大于 0（仅在主数据设置了权重合计时检查）",
            "每个三级指标填写大于 0 的权重", f"{_10} 附件 项目支出绩效自评表（各项指标赋予权重）；权重大于 0 为{_TOOL}"),
        catalogue.define(
            "R-W2", "error",
            "二级/一级指标下的三级权重合计应等于上级设置数（不检查：本系统表格只在三级指标上填权重，没有上级权重可比）",
            "", f"{_TOOL}：上级指标的权重等于其下级指标权重之和"),
        catalogue.define(
            "R-W3", "error", "全部三级指标的权重合计不等于设置的权重合计（仅在设置了权重合计时检查）",
            "调整各三级指标的权重，使合计等于主数据“设置”中的权重合计", f"{_10} 附件 项目支出绩效自评表：预算执行率 10%，其余由绩效指标分配；合计以主数据“设置”的权重合计为准"),
        catalogue.define(
            "R-W4", "warning",
            "一级指标权重分配与常用比例不符（产出 50、效益 30、满意度 10；2021 体系成本 0～20、产出 40～50；"
            "仅在权重合计为 90 时检查）",
            "按常用比例调整一级指标下的权重合计", f"{_10} 附件 项目支出绩效自评表：一级指标权重原则上为产出 50%、效益 30%、服务对象满意度 10%（预算执行率 10%）"),
        # Direction
        catalogue.define(
            "R-D1", "error", "指标方向与指标性质不一致（不检查：本系统表格没有“指标方向”列，方向由指标性质决定）",
            "", f"{_TOOL}：≥、＞ 为正向指标，≤、＜ 为反向指标"),
        # Funds
        catalogue.define(
            "R-F1", "error", "预算数不等于财政资金与其他资金之和，或金额为空、为负",
            "核对预算数、财政资金和其他资金，使 财政资金 + 其他资金 = 预算数；资金由主管部门下发，如有出入请联系主管部门",
            f"{_88} 附件 项目支出绩效目标申报表：资金总额 = 财政拨款 + 其他资金"),
        catalogue.define(
            "R-F2", "error",
            "部门整体表的资金合计不等于各项目之和（表中没有按收入性质、支出性质的分项，只核对项目预算、财政资金、其他资金合计）",
            "部门整体表的合计由程序计算，请不要改动；如有出入请联系主管部门重新下发", f"{_88} 附件 部门（单位）整体支出绩效目标申报表：金额合计"),
        catalogue.define(
            "R-F3", "error", "预算数与主数据不一致（在与主数据核对时检查，见 X-TAMPER）", "", f"{_88}：绩效目标应与预算确定的资金量相匹配；与主数据核对为{_TOOL}"),
        catalogue.define(
            "R-F4", "error", "项目名称、项目编码与主数据不一致（在与主数据核对时检查，见 X-TAMPER）", "",
            _TOOL),
        catalogue.define(
            "R-F5", "error", "资金支出计划为空、为负、比上一节点少、超过预算数，或最后节点不等于预算数",
            "各节点填写截至该节点的累计支出金额，逐期不减少，最后一个节点等于预算数", f"{_TOOL}：按本地填报要求设有资金支出计划时检查"),
    )
}


def catalogue_rules() -> list[catalogue.Rule]:
    """The R- rules of docs/domain.md §1d, in the order of the spec."""
    return list(_RULES.values())


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------

_TOML_SECTIONS = {"rules": ("disabled", "enabled"), "severity": ()}


@dataclass(frozen=True)
class RuleConfig:
    """What the rules need to know about the batch, and which rules run at which severity.

    ``enabled`` None runs every rule; otherwise only the codes listed. ``severity_overrides`` maps a rule
    code to error, warning or info. Raises :class:`~jixiao_xl.errors.InputError` for an unknown
    framework, money unit, rule code or severity.
    """

    framework: str
    weight_total: Decimal | None
    money_unit: str
    year: int
    plan_nodes: tuple[str, ...]
    enabled: frozenset[str] | None = None
    severity_overrides: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
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
        natural = natural or _RULES[code].severity
        if natural == "info":
            return natural
        return self.severity_overrides.get(code, natural)


def _check_code(code: object, where: str) -> None:
    """Raise InputError unless ``code`` is one of the R- rules."""
    if code not in _RULES:
        known = "、".join(_RULES)
        raise InputError(f"规则配置 {where} 中的规则编码“{code}”不存在；这里只能使用填报规则的编码：{known}。")


def _check_severity(code: str, severity: object, where: str) -> None:
    """Raise InputError unless ``severity`` is error, warning or info."""
    if severity not in SEVERITIES:
        raise InputError(f"规则配置 {where} 中“{code}”的严重程度“{severity}”无效，应为 error、warning 或 info。")


def _toml_module() -> Any:
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
    toml = _toml_module()
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
    enabled = _code_list(listed, "[rules] enabled") if listed is not None else frozenset(_RULES)
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


# --------------------------------------------------------------------------------------------------
# Where findings go
# --------------------------------------------------------------------------------------------------

_INDICATOR_FIELDS = {
    "level1": "一级指标", "level2": "二级指标", "name": "三级指标", "description": "绩效指标描述",
    "operator": "指标性质", "value": "指标值", "unit": "度量单位", "basis": "指标值确定依据", "weight": "权重",
}
_SHEET_FIELDS = {
    "code": "项目编码", "name": "项目名称", "budget": "预算数", "fiscal": "财政资金", "other": "其他资金",
    "purpose": "预算规模及资金用途", "annual_goal": "年度绩效目标", "overall_goal": "总体绩效目标",
    "unit.budget": "项目预算合计", "unit.fiscal": "财政资金合计", "unit.other": "其他资金合计",
}
_ROW_PATH = re.compile(r"^d?ind\d+\.(?P<field>\w+)$")
_GOAL_PATH = re.compile(r"^goal\d+\.(?P<field>name|goal)$")


def _field_name(path: str) -> str:
    """The Chinese column name of a location path (``ind3.value`` → 指标值, ``plan.12月底`` → 支出计划-12月底)."""
    if match := _ROW_PATH.match(path):
        return _INDICATOR_FIELDS.get(match["field"], match["field"])
    if match := _GOAL_PATH.match(path):
        return "分项名称" if match["field"] == "name" else "分项绩效目标"
    if path.startswith("plan."):
        return f"支出计划-{path[5:]}"
    return _SHEET_FIELDS.get(path, path)


_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")


def cell_span(cells: Iterable[str]) -> str:
    """Cells as one A1 reference: runs of adjacent rows in a column joined (``I11``, ``I12``, ``I13``, ``I15`` →
    ``I11:I13,I15``); a reference that is not a plain cell is kept as it is."""
    columns: dict[str, list[int]] = {}
    odd: list[str] = []
    for cell in cells:
        match = _A1.match(cell.upper())
        if match:
            columns.setdefault(match[1], []).append(int(match[2]))
        elif cell not in odd:
            odd.append(cell)
    parts: list[str] = []
    for column, rows in columns.items():
        rows = sorted(set(rows))
        start = previous = rows[0]
        for row in rows[1:] + [None]:
            if row is not None and row == previous + 1:
                previous = row
                continue
            parts.append(f"{column}{start}" if start == previous else f"{column}{start}:{column}{previous}")
            if row is not None:
                start = previous = row
    return ",".join(parts + odd)


@dataclass(frozen=True)
class _Sheet:
    """One sheet under check: where its values were read, its notes, and whom its findings belong to."""

    config: RuleConfig
    sheet: str
    locations: Mapping[str, Location]
    notes: Mapping[str, tuple[str, ...]]
    project_code: str = ""
    unit_code: str = ""
    budget: Decimal | None = None

    def finding(self, code: str, message: str, path: str = "", *, value: str = "", expected: str = "",
                field_name: str = "", severity: str | None = None, over: Sequence[str] = ()) -> Finding:
        """A finding of rule ``code`` located at ``path``, or, for a finding about several cells (a total,
        a share), at the cells of the paths ``over`` (``I11:I17``); the sheet only when none was found."""
        where = self.locations.get(path) if path else self.span(over)
        fields = {
            "rule": code, "severity": self.config.severity(code, severity), "message": message,
            "unit_code": self.unit_code, "project_code": self.project_code, "sheet": self.sheet,
            "field": field_name or _field_name(path), "expected": expected,
            "value": where.raw if where is not None and where.raw else value,
        }
        return Finding(**locate(fields, where))

    def span(self, paths: Iterable[str]) -> Location | None:
        """The cells of ``paths`` as one reference (``I11:I17``, ``J2:J4,J9``) on the sheet of the first."""
        found = [where for path in paths if (where := self.locations.get(path)) is not None and where.cell]
        if not found:
            return None
        cells = [where.cell for where in found if where.sheet == found[0].sheet]
        return replace(found[0], cell=cell_span(cells), raw="")

    def at(self, code: str, row: "_Row", field_key: str, message: str, expected: str = "",
           severity: str | None = None) -> Finding:
        """A finding at one cell of an indicator row."""
        return self.finding(code, message, row.path(field_key), value=row.text(field_key), expected=expected,
                            severity=severity)


# --------------------------------------------------------------------------------------------------
# Indicator rows
# --------------------------------------------------------------------------------------------------

_SATISFACTION_L1, _SATISFACTION_L2 = "满意度指标", "服务对象满意度指标"
_EFFECT_L1 = "效益指标"
_ALL_LEVEL1 = frozenset(l1 for fw in FRAMEWORKS.values() for l1 in fw)
_ALL_LEVEL2 = frozenset(l2 for fw in FRAMEWORKS.values() for l2s in fw.values() for l2 in l2s)
_TOTAL_COST_L2 = frozenset(l2 for l2 in _ALL_LEVEL2 if any(is_cost_level2(fw, l2) for fw in FRAMEWORKS))
_OTHER_COST_L2 = frozenset({"社会成本指标", "生态环境成本指标"})


@dataclass(frozen=True)
class _Row:
    """An indicator row (project or department) with its levels read as canonical names."""

    prefix: str
    index: int
    raw_level1: str
    raw_level2: str
    level1: str
    level2: str
    name: str
    operator: str
    value: Decimal | str | None
    unit: str
    basis: str
    weight: Decimal | None
    description: str = ""

    def path(self, field_key: str) -> str:
        """The location path of one of the row's fields (``ind3.value``)."""
        return f"{self.prefix}{self.index}.{field_key}"

    def text(self, field_key: str) -> str:
        """A field as text, for a finding's value."""
        raw = {"level1": self.raw_level1, "level2": self.raw_level2}.get(field_key)
        return raw if raw is not None else _text(getattr(self, field_key))

    @property
    def number(self) -> Decimal | None:
        """The value when it is a number."""
        return self.value if isinstance(self.value, Decimal) else None

    @property
    def label(self) -> str:
        """How messages name the row: 三级指标“名称”, or its position when it has no name."""
        return f"三级指标“{self.name}”" if self.name else f"第 {self.index + 1} 个指标"

    @property
    def has_content(self) -> bool:
        """True when anything beyond the 一级/二级 is filled in."""
        return any((self.name, self.operator, _text(self.value), self.unit, self.basis, self.weight is not None))

    @property
    def shown(self) -> str:
        """Operator, value and unit as a person would write them ("≥90%", "≤6 万元")."""
        return _shown(self.operator, self.value, self.unit)


def _text(value: object) -> str:
    """A model value as text: Decimals in plain notation as given ("5.00"), None as ""."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def _plain(number: Decimal) -> str:
    """A Decimal without trailing zeros and never in exponent notation (100, 7.9)."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _shown(operator: str, value: object, unit: str) -> str:
    """"≥90%", "≤6 万元", "定性“良好”"."""
    if operator == "定性":
        return f"定性“{_text(value)}”"
    number = _plain(value) if isinstance(value, Decimal) else _text(value)
    gap = "" if unit in ("", "%") else " "
    return f"{operator}{number}{gap}{unit}"


def _effective_levels(level1: str, level2: str) -> tuple[str, str]:
    """Canonical 一级/二级; satisfaction filed as a 二级 of 效益 (older forms) moves to 满意度指标."""
    l1, l2 = canonical_level1(level1), canonical_level2(level2)
    if l1 == _EFFECT_L1 and l2 == _SATISFACTION_L2:
        l1 = _SATISFACTION_L1
    return l1, l2


def _as_value(value: Decimal | str | None) -> Decimal | str | None:
    """The value, with numeric text ("30") read as a Decimal."""
    if isinstance(value, str):
        try:
            number = parse_number(value)
        except ValueError:
            return value.strip()
        return value.strip() if number is None else number
    return value


def _row(prefix: str, index: int, ind: Indicator | DeptIndicator) -> _Row:
    """One indicator as a row under check."""
    level1, level2 = _effective_levels(ind.level1, ind.level2)
    operator = (ind.operator or "").strip()
    return _Row(
        prefix=prefix, index=index, raw_level1=(ind.level1 or "").strip(), raw_level2=(ind.level2 or "").strip(),
        level1=level1, level2=level2, name=(ind.name or "").strip(),
        operator=normalise_operator(operator) or operator, value=_as_value(ind.value),
        unit=canonical_unit(ind.unit or ""), basis=(ind.basis or "").strip(),
        weight=ind.weight if isinstance(ind, Indicator) else None,
        description=(getattr(ind, "description", "") or "").strip(),
    )


# What an indicator says it measures, whatever 二级 it is filed under (domain.md §1d: the category rules
# are about the measure, and the 三级 name is sometimes a goal while the 绩效指标描述 names the measure).
_SATISFACTION_WORDS = ("满意度", "满意率")
_COST_WORDS = ("成本",)
_QUANTITY_ENDINGS = ("数量", "人数", "次数", "个数", "户数", "台数", "件数", "套数", "人次")


def _said_by(row: _Row, test: Callable[[str], bool]) -> str:
    """Which text shows the measure: "name", "description" (the 绩效指标描述), or "" when neither does."""
    if row.name and test(row.name):
        return "name"
    if row.description and test(row.description):
        return "description"
    return ""


def _mentions_satisfaction(text: str) -> bool:
    return any(word in text for word in _SATISFACTION_WORDS)


def _is_satisfaction(row: _Row) -> bool:
    """Satisfaction: filed under 服务对象满意度指标, or a 三级 name or 绩效指标描述 that states …满意度/…满意率."""
    return row.level2 == _SATISFACTION_L2 or bool(_said_by(row, _mentions_satisfaction))


def _looks_like_cost(text: str) -> bool:
    return any(word in text for word in _COST_WORDS)


def _is_total_cost(row: _Row) -> bool:
    """A total cost: filed under 成本指标 (2015) / 经济成本指标 (2021), or a money amount whose name or
    绩效指标描述 says 成本, wherever it is filed."""
    if row.level2 in _TOTAL_COST_L2:
        return True
    return row.unit in MONEY_UNITS and bool(_said_by(row, _looks_like_cost))


def _looks_like_quantity(text: str) -> bool:
    return text.endswith(_QUANTITY_ENDINGS)


def _is_quantity(row: _Row) -> bool:
    """A count: filed under 数量指标, or a name or 绩效指标描述 ending in 数量/人数/次数 …."""
    return row.level2 == "数量指标" or bool(_said_by(row, _looks_like_quantity))


def _is_rate(row: _Row) -> bool:
    """A ratio (…率, …比例, …满意度) by its name or its 绩效指标描述."""
    return bool(_said_by(row, _is_rate_name))


def _is_negative_row(row: _Row) -> bool:
    """A lower-is-better rate (故障率, 破损率 …) by its name or its 绩效指标描述."""
    return bool(_said_by(row, _is_negative))


_CATEGORY_HOME = {"满意度指标": (_SATISFACTION_L2,), "成本指标": tuple(sorted(_TOTAL_COST_L2)), "数量指标": ("数量指标",)}


def _as_kind(row: _Row, kind: str, test: Callable[[str], bool] | None = None) -> str:
    """How a message names a row of category ``kind``: 满意度指标“名称” when it is filed there and named so;
    otherwise the row, where it is filed and which text makes it look like one, e.g.
    三级指标“持续提高稳定性”（填在“效益指标/可持续影响指标”下，绩效指标描述为“电话及网络运行的满意率”，属满意度指标）."""
    if row.level2 in _CATEGORY_HOME.get(kind, ()):
        return f"{kind}“{row.name}”"
    said = _said_by(row, test) if test is not None else ""
    filed = "/".join(part for part in (row.raw_level1, row.raw_level2) if part) or "未填一级、二级指标"
    shown = f"，绩效指标描述为“{row.description}”" if said == "description" else ""
    return f"{row.label}（填在“{filed}”下{shown}，属{kind}）"


def _is_rate_name(name: str) -> bool:
    """Names of ratios that must lie in [0, 100]: …率, …比例, …满意度."""
    return name.endswith(("率", "比例", "满意度"))


_NEGATIVE_WORDS = (
    "事故率", "故障率", "投诉率", "差错率", "出错率", "失误率", "损失率", "发生率", "超支率", "结余率", "破损率",
    "损坏率", "不合格率", "停机率", "返工率", "流失率", "缺陷率", "违约率", "逾期率", "误差率", "失败率",
)


_NEGATIVE = re.compile("|".join(map(re.escape, _NEGATIVE_WORDS)))


def _is_negative(name: str) -> bool:
    """Negative-outcome indicators (lower is better): 故障率, 破损率, 投诉率 …."""
    return _NEGATIVE.search(name) is not None


# --------------------------------------------------------------------------------------------------
# Row checks: each yields the findings of one rule family for one indicator row
# --------------------------------------------------------------------------------------------------

RowCheck = Callable[[_Sheet, _Row], Iterable[Finding]]


def _check_levels(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-S1: 一级 in the framework, 二级 under its 一级; variants are accepted with an info note."""
    framework = FRAMEWORKS[ctx.config.framework]
    if not row.level1:
        parent = parent_of(ctx.config.framework, row.level2)
        hint = f"（二级指标“{row.level2}”属于“{parent}”）" if parent else ""
        yield ctx.at("R-S1", row, "level1", f"{row.label}的一级指标为空{hint}；请从下拉列表选择一级指标。",
                     expected=parent or _options(framework))
    elif row.level1 not in framework:
        yield ctx.at("R-S1", row, "level1",
                     f"{row.label}的一级指标“{row.raw_level1}”不在{FRAMEWORK_NAMES[ctx.config.framework]}中；"
                     f"请改为{_options(framework)}之一。", expected=_options(framework))
    elif row.level2 not in framework[row.level1]:
        yield _level2_finding(ctx, row, framework)
    else:
        yield from _normalised_levels(ctx, row)


def _options(names: Iterable[str]) -> str:
    """“产出指标”、“效益指标”、“满意度指标”: the names a message offers."""
    return "、".join(f"“{name}”" for name in names)


def _level2_finding(ctx: _Sheet, row: _Row, framework: Mapping[str, tuple[str, ...]]) -> Finding:
    """R-S1 for a blank 二级 or one that does not belong to its 一级."""
    options = "、".join(f"“{name}”" for name in framework[row.level1])
    if not row.level2:
        message = f"{row.label}的二级指标为空；请从“{row.level1}”下的{options}中选择。"
        return ctx.at("R-S1", row, "level2", message, expected=options)
    parent = parent_of(ctx.config.framework, row.level2)
    if parent:
        hint = f"，它属于“{parent}”"
    elif row.level2 in framework:
        hint = f"，在{FRAMEWORK_NAMES[ctx.config.framework]}中“{row.level2}”是一级指标"
    else:
        hint = ""
    message = f"{row.label}的二级指标“{row.raw_level2}”不属于一级指标“{row.level1}”{hint}；请改为{options}之一。"
    return ctx.at("R-S1", row, "level2", message, expected=options)


def _normalised_levels(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-S1 info: a variant name (环境效益指标) was read as its canonical name (生态效益指标)."""
    for key, raw, canonical in (("level1", row.raw_level1, row.level1), ("level2", row.raw_level2, row.level2)):
        if compact(raw) != canonical:
            message = (f"{row.label}的{_INDICATOR_FIELDS[key]}“{raw}”已按指标体系的标准名称读作“{canonical}”；"
                       f"今后请从下拉列表选择标准名称。")
            yield ctx.at("R-S1", row, key, message, expected=canonical, severity="info")


def _check_required(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-S2: name, operator and value are present, and the operator is one of the six."""
    if not row.name:
        yield ctx.at("R-S2", row, "name", f"{row.label}没有填写三级指标名称；请填写具体的考核内容。",
                     expected="非空")
    if row.operator not in OPERATORS:
        yield _operator_finding(ctx, row)
    if not _text(row.value):
        kind = "定性描述，如“明显提升”" if row.operator == "定性" else "目标值（数字）"
        yield ctx.at("R-S2", row, "value", f"{row.label}的指标值为空；请填写{kind}。", expected="非空")


def _operator_finding(ctx: _Sheet, row: _Row) -> Finding:
    """R-S2 for a blank or unrecognised 指标性质 (the raw cell text tells which)."""
    where = ctx.locations.get(row.path("operator"))
    written = (where.raw if where is not None else "") or row.operator
    options = " ".join(OPERATORS)
    if written:
        message = f"{row.label}的指标性质“{written}”无法识别；请从下拉列表选择 {options} 之一。"
    else:
        message = f"{row.label}没有选择指标性质；请先从下拉列表选择 {options} 之一，再填写指标值。"
    return ctx.at("R-S2", row, "operator", message, expected=options)


def _check_numeric(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-V1: a quantitative operator needs a number, with at most 3 decimals."""
    if row.operator not in QUANTITATIVE_OPERATORS or not _text(row.value):
        return
    if row.number is None:
        if "R-V3" in _row_note_rules(ctx, row):
            return  # a placeholder: R-V3 already says what to do
        yield ctx.at("R-V1", row, "value",
                     f"{row.label}的指标性质为“{row.operator}”（定量），指标值“{_text(row.value)}”却不是数值；"
                     f"请只填写数字，或把指标性质改为“定性”。", expected="数值")
    elif row.number.normalize().as_tuple().exponent < -3:  # type: ignore[operator]
        yield ctx.at("R-V1", row, "value",
                     f"{row.label}的指标值 {_plain(row.number)} 超过 3 位小数；请至多保留 3 位小数。",
                     expected="至多 3 位小数")


def _check_unit(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-V2: quantitative rows need a unit, 定性 rows none; units off the list are flagged."""
    if row.operator in QUANTITATIVE_OPERATORS and not row.unit:
        yield ctx.at("R-V2", row, "unit",
                     f"{row.label}是定量指标（{row.shown}），没有填写度量单位；请从下拉列表选择度量单位，如 %、个、万元。",
                     expected="度量单位")
    elif row.operator == "定性" and row.unit:
        yield ctx.at("R-V2", row, "unit",
                     f"{row.label}是定性指标，不应填写度量单位“{row.unit}”；请清空度量单位。",
                     expected="空", severity="warning")
    elif row.unit and not is_known_unit(row.unit):
        yield ctx.at("R-V2", row, "unit",
                     f"{row.label}的度量单位“{row.unit}”不在常用单位表中；请核对是否写错，常用单位见下拉列表。",
                     expected="常用单位", severity="warning")


# The value rules the reader's notes belong to, with what a finding adds to its notes ("": the note already
# says what to do). Notes of other codes (R-S2, an unknown 指标性质) are reported from the cell itself.
_NOTE_FIXES = {
    "R-V3": "",
    "R-V4": "指标值只填数字，符号选在指标性质列，单位选在度量单位列",
    "R-V5": "请核对指标值和度量单位，改成一致",
    "R-V6": "",
}
_DERIVED_NOTE_RULES = ("R-V3", "R-V6")


def _row_notes(ctx: _Sheet, row: _Row) -> list[tuple[str, Note]]:
    """(path, note) of the row: the reader's notes, else placeholders/several targets found in a text value."""
    prefix = row.path("")
    found = [(path, note) for path, notes in ctx.notes.items() if path.startswith(prefix) for note in notes]
    if found or not isinstance(row.value, str):
        return found
    parsed = split_indicator_value(row.value)
    return [(row.path("value"), note) for note in parsed.notes if note.code in _DERIVED_NOTE_RULES]


def _row_note_rules(ctx: _Sheet, row: _Row) -> set[str]:
    """The rule codes of the row's notes."""
    return {note.code for _, note in _row_notes(ctx, row)}


def _check_notes(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-V3/R-V4/R-V5/R-V6 from the notes made while splitting the value: one finding per rule and cell
    ("≥90%" has both a symbol and a unit in it: one R-V4 that says both)."""
    grouped: dict[tuple[str, str], list[Note]] = {}
    for path, note in _row_notes(ctx, row):
        if note.code in _NOTE_FIXES:
            grouped.setdefault((path, note.code), []).append(note)
    for (path, code), notes in grouped.items():
        fix = f"；{_NOTE_FIXES[code]}" if _NOTE_FIXES[code] else ""
        key = path.rsplit(".", 1)[-1]
        yield ctx.finding(code, f"{row.label}：{'；'.join(notes)}{fix}。", path, value=row.text(key))


def _check_qualitative(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-V7 (per row): satisfaction, quantity and rate indicators should be quantified."""
    if row.operator != "定性":
        return
    if _is_satisfaction(row):
        kind, example, test = "满意度指标", "≥90%", _mentions_satisfaction
    elif _is_quantity(row):
        kind, example, test = "数量指标", "≥30 个", _looks_like_quantity
    elif _is_rate(row):
        kind, example, test = "比率类指标", "≤5%" if _is_negative_row(row) else "≥95%", _is_rate_name
    else:
        return
    who = _as_kind(row, kind, test) if _said_by(row, test) == "description" or \
        (kind != "比率类指标" and row.level2 not in _CATEGORY_HOME[kind]) else f"{row.label}是{kind}"
    yield ctx.at("R-V7", row, "operator",
                 f"{who}，却用了定性（“{_text(row.value)}”）；请改为定量，如“{example}”。",
                 expected="定量")


def _check_percent_range(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-R1: a percentage (unit %, or a rate name without another unit) lies in [0, 100]."""
    number = row.number
    if number is None or row.operator not in QUANTITATIVE_OPERATORS:
        return
    if not (row.unit == "%" or (row.unit == "" and _is_rate(row))):
        return
    if number < 0:
        problem = "百分比不能为负数"
    elif number > 100:
        problem = "百分比不能超过 100"
    else:
        return
    yield ctx.at("R-R1", row, "value",
                 f"{row.label}的指标值为 {_plain(number)}%，{problem}；请改为 0～100 之间的数（如 100% 写 100）。",
                 expected="0～100")


def _check_satisfaction(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-R2: satisfaction uses ≥ (or ＞), unit %, and a target of 80–100."""
    if not _is_satisfaction(row) or row.operator not in QUANTITATIVE_OPERATORS:
        return
    if row.operator not in ("≥", "＞"):
        meaning = {"正向": "越高越好", "反向": "越低越好", "等于": "必须恰好等于"}[DIRECTION[row.operator]]
        yield ctx.at("R-R2", row, "operator",
                     f"{_as_kind(row, '满意度指标', _mentions_satisfaction)}的指标性质为“{row.operator}”（{row.shown}），“{row.operator}”表示{meaning}；"
                     f"满意度应写成“≥”，请把指标性质改为“≥”，如 ≥90%。", expected="≥")
    if row.unit and row.unit != "%":
        yield ctx.at("R-R2", row, "unit",
                     f"{_as_kind(row, '满意度指标', _mentions_satisfaction)}的度量单位为“{row.unit}”；满意度以百分比计，请把度量单位改为 %。",
                     expected="%")
    if row.number is not None and row.unit in ("", "%") and row.number < 80:
        yield ctx.at("R-R2", row, "value",
                     f"{_as_kind(row, '满意度指标', _mentions_satisfaction)}的目标值 {_plain(row.number)}% 偏低，满意度目标一般在 80%～100% 之间；"
                     f"请核对后改为 80～100 之间的数。", expected="80～100")


def _check_negative(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-R3: negative-outcome indicators (故障率, 破损率 …) use ≤ or ＜ (＝0 is accepted)."""
    if not _is_negative_row(row) or row.operator not in QUANTITATIVE_OPERATORS:
        return
    if row.operator in ("≤", "＜") or (row.operator == "＝" and row.number == 0):
        return
    shown = f"（绩效指标描述为“{row.description}”）" if _said_by(row, _is_negative) == "description" else ""
    yield ctx.at("R-R3", row, "operator",
                 f"{row.label}{shown}是越低越好的负向指标，指标性质却是“{row.operator}”（{row.shown}）；"
                 f"请把指标性质改为“≤”，并填写可以接受的上限，如 ≤2%。", expected="≤ 或 ＜")


def _check_count_unit(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-R4: a 数量指标 uses a count or physical unit, not %."""
    if row.unit != "%" or not _is_quantity(row):
        return
    if "覆盖" in row.name:
        message = (f"{_as_kind(row, '数量指标', _looks_like_quantity)}用百分比表示（{row.shown}），含义不清；如考核覆盖的数量，请改用个、人、户等单位；"
                   f"如考核覆盖比例，请把它放到质量指标下。")
    else:
        message = (f"{_as_kind(row, '数量指标', _looks_like_quantity)}的度量单位是 %（{row.shown}）；数量指标应使用个、台、人次等计数或实物单位，"
                   f"请改为实际数量和单位，如“≥60 台”。")
    yield ctx.at("R-R4", row, "unit", message, expected="计数或实物单位")


_YEAR = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})"
    r"(?:\s*年|\s*[.\-/／]\s*[0-9]{1,2}(?![0-9])|(?:0[1-9]|1[0-2])(?:[0-3][0-9])?(?![0-9])"
    r"|(?=\s*[-—–~～至到]\s*(?:19|20)[0-9]{2}))"
)


def _years(text: str) -> list[int]:
    """The years of the dates written in ``text`` ("2023.07-2024.01" → [2023, 2024], "202001" → [2020])."""
    return [int(match["y"]) for match in _YEAR.finditer(text)]


def _check_dates(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-R5: dates in a 时效指标 value fall inside the budget year (the forms carry no 项目期)."""
    if row.level2 != "时效指标" or isinstance(row.value, Decimal):
        return
    where = ctx.locations.get(row.path("value"))
    text = (where.raw if where is not None else "") or _text(row.value)
    outside = sorted({year for year in _years(text) if year != ctx.config.year})
    if outside:
        years = "、".join(f"{year} 年" for year in outside)
        yield ctx.at("R-R5", row, "value",
                     f"时效指标“{row.name}”的指标值“{text}”含有 {years}，不在预算年度 {ctx.config.year} 年内；"
                     f"请把完成时间改在 {ctx.config.year} 年之内，如“{ctx.config.year}年12月底前”。",
                     expected=f"{ctx.config.year} 年内")


def _check_generic_name(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-S5: a 三级 name that only repeats its 二级 or names a category."""
    if not row.name:
        return
    name = compact(row.name)
    if name in (compact(row.raw_level2), row.level2) or canonical_level2(name) in _ALL_LEVEL2 \
            or canonical_level1(name) in _ALL_LEVEL1:
        yield ctx.at("R-S5", row, "name",
                     f"三级指标名称“{row.name}”只是指标类别的名称，过于笼统；请写具体的考核内容，如“培训人次”“设备故障率”。",
                     expected="具体的考核内容")


# Cost rows (project sheets only: they need the project's budget).


def _budget_text(ctx: _Sheet) -> str:
    return f"{_text(ctx.budget)} {ctx.config.money_unit}"


def _cost_in_budget_unit(ctx: _Sheet, row: _Row) -> Decimal | None:
    """A money-valued cost in the batch's money unit, or None when it is not a money amount."""
    if row.number is None or row.unit not in MONEY_UNITS:
        return None
    return to_money_unit(row.number, row.unit, ctx.config.money_unit)


def _check_cost_cap(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-C1: a total-cost indicator in 万元/元 is at most the project's budget."""
    amount = _cost_in_budget_unit(ctx, row) if _is_total_cost(row) else None
    if amount is None or ctx.budget is None or amount <= ctx.budget:
        return
    shown = f"{_plain(row.number)} {row.unit}"  # type: ignore[arg-type]
    if row.unit != ctx.config.money_unit:
        shown += f"（合 {_plain(amount)} {ctx.config.money_unit}）"
    fix_operator = "" if row.operator in ("≤", "＜") else "并将指标性质改为“≤”"
    yield ctx.at("R-C1", row, "value",
                 f"{_as_kind(row, '成本指标', _looks_like_cost)}为 {shown}，高于项目预算数 {_budget_text(ctx)}；成本指标不应超过预算数，"
                 f"请改为不超过 {_budget_text(ctx)}{fix_operator}。", expected=f"≤ {_budget_text(ctx)}")


def _check_cost_operator(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-C2: cost indicators use ≤ or ＜; ＝ only when the amount equals the budget."""
    if not _is_total_cost(row) or row.operator not in QUANTITATIVE_OPERATORS or row.operator in ("≤", "＜"):
        return
    amount = _cost_in_budget_unit(ctx, row)
    if row.operator == "＝" and amount is not None and amount == ctx.budget:
        return
    yield ctx.at("R-C2", row, "operator",
                 f"{_as_kind(row, '成本指标', _looks_like_cost)}的指标性质为“{row.operator}”（{row.shown}）；成本是不应超出的上限，"
                 f"应使用“≤”（只有等于预算数时可用“＝”），请把指标性质改为“≤”。", expected="≤")


_COST_BASES = ("预算支出标准", "计划标准")


def _check_cost_basis(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-C3: the basis of a cost value is 预算支出标准 or 计划标准."""
    if not _is_total_cost(row) or any(basis in row.basis for basis in _COST_BASES):
        return
    written = f"为“{row.basis}”" if row.basis else "为空"
    yield ctx.at("R-C3", row, "basis",
                 f"{_as_kind(row, '成本指标', _looks_like_cost)}的指标值确定依据{written}；成本指标应依据“预算支出标准”或“计划标准”确定，"
                 f"请从下拉列表选择其一，文件依据可写在绩效指标描述中。", expected="预算支出标准 或 计划标准")


def _check_social_cost(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-C4: 社会成本/生态环境成本 rows with ≥ or ＞ are suspicious (usually 定性)."""
    if row.level2 not in _OTHER_COST_L2 or row.operator not in ("≥", "＞"):
        return
    yield ctx.at("R-C4", row, "operator",
                 f"{row.level2}“{row.name}”的指标性质为“{row.operator}”（{row.shown}），成本越高越好不合常理；"
                 f"这类指标一般为定性（如“减少”），请改为“定性”或用“≤”设上限。", expected="定性 或 ≤")


def _check_cost_percent(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-C5: a cost indicator is money or a unit cost, not a percentage."""
    if not (_is_total_cost(row) or row.level2 in _OTHER_COST_L2) or row.unit != "%":
        return
    yield ctx.at("R-C5", row, "unit",
                 f"{_as_kind(row, '成本指标', _looks_like_cost)}用百分比表示（{row.shown}）；成本指标应是金额或单位成本，"
                 f"请改用万元、元或元/人等单位填写。", expected="万元、元或单位成本")


def _check_weight(ctx: _Sheet, row: _Row) -> Iterator[Finding]:
    """R-W1: when weights are used, every 三级 weight is filled and > 0."""
    if ctx.config.weight_total is None:
        return
    if row.weight is None:
        where = ctx.locations.get(row.path("weight"))
        if where is not None and where.raw.strip():
            return  # text that is not a number: the reader (P-NUMBER) or the master check (M-NUMBER) says so
        yield ctx.at("R-W1", row, "weight", f"{row.label}没有填写权重；请填写大于 0 的权重。", expected="> 0")
    elif row.weight <= 0:
        yield ctx.at("R-W1", row, "weight",
                     f"{row.label}的权重为 {_plain(row.weight)}，权重必须大于 0；请改为大于 0 的数。", expected="> 0")


_GRID_CHECKS: tuple[RowCheck, ...] = (
    _check_levels, _check_required, _check_generic_name, _check_numeric, _check_unit, _check_notes,
    _check_qualitative, _check_percent_range, _check_satisfaction, _check_negative, _check_count_unit,
    _check_dates,
)
_PROJECT_ROW_CHECKS: tuple[RowCheck, ...] = _GRID_CHECKS + (
    _check_cost_cap, _check_cost_operator, _check_cost_basis, _check_social_cost, _check_cost_percent,
    _check_weight,
)


def _row_findings(ctx: _Sheet, rows: Sequence[_Row], checks: Sequence[RowCheck]) -> Iterator[Finding]:
    """Every row check on every filled row; rows with only 一级/二级 get R-S4; blank rows are skipped."""
    for row in rows:
        if row.has_content:
            for check in checks:
                yield from check(ctx, row)
        elif row.raw_level1 or row.raw_level2:
            yield ctx.at("R-S4", row, "level2" if row.raw_level2 else "level1",
                         f"“{row.raw_level2 or row.raw_level1}”这一行没有填写三级指标；"
                         f"请填写三级指标的名称、指标性质和指标值，或清空这一行。", expected="三级指标")


# --------------------------------------------------------------------------------------------------
# Project checks
# --------------------------------------------------------------------------------------------------

ProjectCheck = Callable[[_Sheet, Project, Sequence[_Row]], Iterable[Finding]]


def _check_coverage(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-S3: every 一级 of the framework has at least one 三级 (满意度 alone only a warning).

    One finding per project, at its 项目编码 cell (a missing 一级 has no cell of its own), naming every
    一级 that is missing."""
    present = {row.level1 for row in rows if row.name}
    missing = [level1 for level1 in FRAMEWORKS[ctx.config.framework] if level1 not in present]
    if not missing:
        return
    names = "、".join(f"“{level1}”" for level1 in missing)
    extra = "；确无直接服务对象的项目可不设满意度指标，但请在年度绩效目标中说明" if _SATISFACTION_L1 in missing else ""
    each = "各" if len(missing) > 1 else ""
    yield ctx.finding("R-S3", f"项目“{project.name}”没有{names}下的三级指标；请在{names}下{each}至少填写一个三级指标{extra}。",
                      "code", value="", field_name="一级指标", expected="、".join(missing),
                      severity="warning" if missing == [_SATISFACTION_L1] else None)


def _check_duplicates(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-S6: a 三级 name appears once per project."""
    first: dict[str, _Row] = {}
    for row in rows:
        if not row.name:
            continue
        key = compact(row.name)
        if key not in first:
            first[key] = row
            continue
        earlier = ctx.locations.get(first[key].path("name"))
        where = f"（与 {earlier.cell} 重复）" if earlier is not None and earlier.cell else ""
        yield ctx.at("R-S6", row, "name",
                     f"三级指标“{row.name}”在本项目中重复出现{where}；请合并重复的指标，或改成能够区分的名称。",
                     expected="不重复的名称")


_PLACEHOLDER_GOAL = re.compile(r"目标内容\s*\d*$")


def _goal_findings(ctx: _Sheet, text: str, path: str, what: str) -> Iterator[Finding]:
    """R-S7 for one goal text: blank is an error, a template placeholder ("1.目标内容 1") a warning."""
    goal = (text or "").strip()
    if not goal:
        yield ctx.finding("R-S7", f"{what}为空；请写明本年度要完成的产出和达到的效果，如“完成……，实现……”。",
                          path, expected="非空")
    elif _PLACEHOLDER_GOAL.search(goal):
        yield ctx.finding("R-S7", f"{what}“{goal}”像是没有改动的模板占位文字；请写明本年度要完成的产出和达到的效果。",
                          path, value=goal, expected="具体的绩效目标", severity="warning")


def _check_goal(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-S7: the project's 年度绩效目标 is filled in."""
    yield from _goal_findings(ctx, project.annual_goal, "annual_goal", "年度绩效目标")


def _check_qualitative_share(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-V7 (per project): more than half of the indicators (and at least 3) are 定性."""
    filled = [row for row in rows if row.has_content]
    qualitative = [row for row in filled if row.operator == "定性"]
    if len(qualitative) < 3 or 2 * len(qualitative) <= len(filled):
        return
    yield ctx.finding("R-V7", f"项目“{project.name}”的 {len(filled)} 个指标中有 {len(qualitative)} 个是定性指标，定性指标过多；"
                              f"请把能量化的指标改为定量（选择 ≥、≤ 等并填写数值和单位）。",
                      over=[row.path("operator") for row in qualitative], field_name="指标性质", value="定性",
                      expected="以定量指标为主")


def _check_weight_total(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-W3: the 三级 weights add up to the configured total."""
    weights = [row.weight for row in rows if row.has_content and row.weight is not None]
    target = ctx.config.weight_total
    if target is None or not weights:
        return
    total = sum(weights, Decimal(0))
    if total != target:
        yield ctx.finding("R-W3", f"项目“{project.name}”的三级指标权重合计为 {_plain(total)}，应为 {_plain(target)}；"
                                  f"请调整各指标的权重，使合计等于 {_plain(target)}。",
                          over=_weight_cells(ctx, [row for row in rows if row.has_content]),
                          field_name="权重", value=_plain(total), expected=_plain(target))


def _weight_cells(ctx: _Sheet, rows: Sequence[_Row]) -> list[str]:
    """The paths of the weight cells of ``rows``, or the project's 项目编码 when the sheet shows none."""
    paths = [row.path("weight") for row in rows]
    return paths if ctx.span(paths) is not None else ["code"]


# 一级 weight split for self-evaluation when 预算执行率 takes the other 10 (domain.md R-W4): (min, max).
_WEIGHT_SPLITS: dict[str, dict[str, tuple[int, int]]] = {
    "2015": {"产出指标": (50, 50), "效益指标": (30, 30), "满意度指标": (10, 10)},
    "2021": {"成本指标": (0, 20), "产出指标": (40, 50)},
}


def _check_weight_split(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-W4: the 一级 weight sums follow the usual split (checked only when the total is 90)."""
    if ctx.config.weight_total != 90:
        return
    for level1, (low, high) in _WEIGHT_SPLITS[ctx.config.framework].items():
        members = [row for row in rows if row.level1 == level1 and row.weight is not None]
        total = sum((row.weight for row in members), Decimal(0))  # type: ignore[misc]
        if low <= total <= high:
            continue
        usual = str(low) if low == high else f"{low}～{high}"
        message = (f"项目“{project.name}”中“{level1}”的权重合计为 {_plain(total)}，常用分配为 {usual}"
                   f"（产出 50、效益 30、满意度 10，预算执行率 10）；请核对后调整。")
        filed = [row for row in rows if row.level1 == level1 and row.has_content]
        yield ctx.finding("R-W4", message, over=_weight_cells(ctx, filed), field_name="权重", value=_plain(total),
                          expected=usual)


def _check_funds(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-F1: 预算数 = 财政资金 + 其他资金, none of them negative."""
    unit = ctx.config.money_unit
    if project.budget is None:
        yield ctx.finding("R-F1", "预算数为空；预算数由主管部门下发，请不要删除，或联系主管部门重新下发表格。",
                          "budget", expected="预算数")
        return
    for key, amount in (("budget", project.budget), ("fiscal", project.fiscal), ("other", project.other)):
        if amount is not None and amount < 0:
            yield ctx.finding("R-F1", f"{_field_name(key)}为 {_text(amount)} {unit}，金额不能为负数；请改正。",
                              key, value=_text(amount), expected="≥ 0")
    if project.fiscal is None and project.other is None:
        yield ctx.finding("R-F1", f"财政资金和其他资金都没有填写，无法与预算数 {_text(project.budget)} {unit} 核对；"
                                  f"请填写资金来源，使 财政资金 + 其他资金 = 预算数。", "fiscal", expected=_text(project.budget))
        return
    total = (project.fiscal or Decimal(0)) + (project.other or Decimal(0))
    if total != project.budget:
        yield ctx.finding(
            "R-F1",
            f"预算数 {_text(project.budget)} {unit}不等于财政资金 {_text(project.fiscal) or '0'} {unit}与其他资金 "
            f"{_text(project.other) or '0'} {unit}之和 {_text(total)} {unit}；请核对三项金额，使 财政资金 + 其他资金 = 预算数。",
            "budget", value=_text(project.budget), expected=_text(total))


def _check_plan(ctx: _Sheet, project: Project, rows: Sequence[_Row]) -> Iterator[Finding]:
    """R-F5: the cumulative spending plan is filled, ≥ 0, non-decreasing, within and ending at the budget."""
    nodes = ctx.config.plan_nodes
    previous: tuple[str, Decimal] | None = None
    for node in nodes:
        amount = project.plan_amount(node)
        if amount is None:
            yield _plan_blank(ctx, project, node, node == nodes[-1])
            continue
        yield from _plan_node(ctx, project, node, amount, previous)
        previous = (node, amount)
    last = project.plan_amount(nodes[-1]) if nodes else None
    if last is not None and project.budget is not None and 0 <= last < project.budget:
        yield ctx.finding("R-F5", f"支出计划最后一个节点“{nodes[-1]}”为 {_text(last)} {ctx.config.money_unit}，"
                                  f"应等于预算数 {_text(project.budget)} {ctx.config.money_unit}；请按全年支出完预算填写。",
                          f"plan.{nodes[-1]}", value=_text(last), expected=_text(project.budget))


def _plan_blank(ctx: _Sheet, project: Project, node: str, last: bool) -> Finding:
    """R-F5 for a blank plan node."""
    unit = ctx.config.money_unit
    tail = f"，最后一个节点应等于预算数 {_text(project.budget)} {unit}" if last and project.budget is not None else ""
    return ctx.finding("R-F5", f"支出计划“{node}”没有填写；请填写截至{node}的累计支出金额（{unit}）{tail}。",
                       f"plan.{node}", expected=_text(project.budget) if last else "累计支出金额")


def _plan_node(ctx: _Sheet, project: Project, node: str, amount: Decimal,
               previous: tuple[str, Decimal] | None) -> Iterator[Finding]:
    """R-F5 for one filled node: not negative, not below the previous node, not above the budget."""
    unit, path = ctx.config.money_unit, f"plan.{node}"
    if amount < 0:
        yield ctx.finding("R-F5", f"支出计划“{node}”为 {_text(amount)} {unit}，不能为负数；请填写累计支出金额。",
                          path, value=_text(amount), expected="≥ 0")
    elif previous is not None and amount < previous[1]:
        yield ctx.finding("R-F5", f"支出计划“{node}”为 {_text(amount)} {unit}，比“{previous[0]}”的 {_text(previous[1])} {unit}"
                                  f"还少；支出计划填写累计数，后一节点不能小于前一节点，请改正。",
                          path, value=_text(amount), expected=f"≥ {_text(previous[1])}")
    if project.budget is not None and amount > project.budget:
        yield ctx.finding("R-F5", f"支出计划“{node}”为 {_text(amount)} {unit}，超过预算数 {_text(project.budget)} {unit}；"
                                  f"累计支出计划不能超过预算数，请改正。",
                          path, value=_text(amount), expected=f"≤ {_text(project.budget)}")


_PROJECT_CHECKS: tuple[ProjectCheck, ...] = (
    _check_goal, _check_coverage, _check_duplicates, _check_qualitative_share, _check_weight_total,
    _check_weight_split, _check_funds, _check_plan,
)


# --------------------------------------------------------------------------------------------------
# Department checks
# --------------------------------------------------------------------------------------------------

_DEPT_TOTALS = LOCKED_DEPT_TOTALS


def _check_dept_goals(ctx: _Sheet, dept: ReturnedDept) -> Iterator[Finding]:
    """R-S7 on the department sheet: the 总体绩效目标 and every 分项绩效目标 are filled in."""
    yield from _goal_findings(ctx, dept.overall_goal, "overall_goal", "总体绩效目标")
    for goal in dept.goals:
        if goal.seq > 0:
            yield from _goal_findings(ctx, goal.goal, f"goal{goal.seq}.goal", f"分项绩效目标“{goal.name}”")


def _check_dept_totals(ctx: _Sheet, dept: ReturnedDept, projects: Sequence[ReturnedProject]) -> Iterator[Finding]:
    """R-F2: totals the department sheet shows (paths unit.budget/fiscal/other) equal Σ of the projects."""
    if not projects:
        return
    for path, key in _DEPT_TOTALS:
        where = dept.where(path)
        if where is None or not where.raw:
            continue
        expected = sum((getattr(rp.project, key) or Decimal(0) for rp in projects), Decimal(0))
        name, unit = _field_name(path), ctx.config.money_unit
        try:
            shown, _ = parse_money(where.raw, target_unit=unit)
        except ValueError:
            shown = None
        if shown is None or shown != expected:
            yield ctx.finding("R-F2", f"部门整体表的{name}为“{where.raw}”，各项目合计为 {_text(expected)} {unit}；"
                                      f"合计由程序计算，请不要改动，如有出入请联系主管部门重新下发表格。",
                              path, expected=_text(expected))


# --------------------------------------------------------------------------------------------------
# Submission checks
# --------------------------------------------------------------------------------------------------

_BOILERPLATE_PROJECTS = 3
_BOILERPLATE_SHOWN = 3  # groups named in the message; the rest are counted


def _effect_rows(projects: Sequence[ReturnedProject],
                 rows_of: Sequence[list[_Row]]) -> list[tuple[ReturnedProject, list[_Row]]]:
    """The filled 效益 rows of each project (``rows_of``: each project's rows, in the same order)."""
    return [(rp, [row for row in rows if row.level1 == _EFFECT_L1 and row.name]) for rp, rows in zip(projects, rows_of)]


def _repeated_effects(effects: list[tuple[ReturnedProject, list[_Row]]]) -> list[list[tuple[ReturnedProject, _Row]]]:
    """Groups of identical (name, operator, value, unit) effect indicators used in ≥3 projects."""
    owners: dict[tuple[str, str, str, str], list[tuple[ReturnedProject, _Row]]] = {}
    for rp, rows in effects:
        for row in rows:
            group = owners.setdefault((compact(row.name), row.operator, _text(row.value), row.unit), [])
            if all(other is not rp for other, _ in group):
                group.append((rp, row))
    return [group for group in owners.values() if len(group) >= _BOILERPLATE_PROJECTS]


def _all_95(effects: list[tuple[ReturnedProject, list[_Row]]]) -> bool:
    """True when ≥2 projects have effect indicators and every one of them is "≥95%"."""
    rows = [row for _, project_rows in effects for row in project_rows]
    with_effects = sum(1 for _, project_rows in effects if project_rows)
    return with_effects >= 2 and all(
        row.operator == "≥" and row.number == 95 and row.unit == "%" for row in rows)


def _check_boilerplate(projects: Sequence[ReturnedProject], config: RuleConfig,
                       rows_of: Sequence[list[_Row]]) -> list[Finding]:
    """R-R6: identical effect indicators in ≥3 projects, or all "≥95%" — one finding per submission."""
    effects = _effect_rows(projects, rows_of)
    repeated = _repeated_effects(effects)
    uniform = _all_95(effects)
    if not repeated and not uniform:
        return []
    reasons = []
    for group in repeated[:_BOILERPLATE_SHOWN]:
        names = "、".join(f"“{rp.project.name}”" for rp, _ in group)
        reasons.append(f"效益指标“{group[0][1].name}”（{group[0][1].shown}）在 {len(group)} 个项目（{names}）中完全相同")
    if len(repeated) > _BOILERPLATE_SHOWN:
        reasons.append(f"另有 {len(repeated) - _BOILERPLATE_SHOWN} 个效益指标也在多个项目中完全相同")
    if uniform:
        reasons.append("各项目的效益指标全部为“≥95%”")
    rp, row = repeated[0][0] if repeated else next((rp, rows[0]) for rp, rows in effects if rows)
    ctx = _project_sheet(rp, config)
    message = f"{'；'.join(reasons)}，疑似套用模板；请按每个项目的实际效果分别设置效益指标和目标值。"
    return [ctx.at("R-R6", row, "name", message, expected="按项目实际设置")]


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------


def _project_sheet(rp: ReturnedProject, config: RuleConfig) -> _Sheet:
    return _Sheet(config=config, sheet=rp.sheet, locations=rp.locations, notes=rp.notes,
                  project_code=rp.project.code, unit_code=rp.project.unit_code, budget=rp.project.budget)


def _project_rows(rp: ReturnedProject) -> list[_Row]:
    return [_row("ind", k, ind) for k, ind in enumerate(rp.project.indicators)]


def _enabled(findings: Iterable[Finding], config: RuleConfig) -> list[Finding]:
    return [f for f in findings if config.is_enabled(f.rule)]


def check_project(rp: ReturnedProject, config: RuleConfig) -> list[Finding]:
    """The findings of the R- rules for one returned project sheet.

    Args:
        rp: the project as read, with the location of every value (paths as in :mod:`jixiao_xl.submission`).
        config: the batch configuration (see :meth:`RuleConfig.from_settings`).

    Returns:
        Findings in sheet order (indicator rows first, then goal, coverage, weights, funds and plan),
        located at the cell the value was read from; rules disabled in ``config`` are left out.
    """
    return _check_project(rp, config, _project_rows(rp))


def _check_project(rp: ReturnedProject, config: RuleConfig, rows: Sequence[_Row]) -> list[Finding]:
    ctx = _project_sheet(rp, config)
    findings = list(_row_findings(ctx, rows, _PROJECT_ROW_CHECKS))
    for check in _PROJECT_CHECKS:
        findings.extend(check(ctx, rp.project, rows))
    return _enabled(findings, config)


def check_dept(dept: ReturnedDept, projects: Sequence[ReturnedProject], config: RuleConfig) -> list[Finding]:
    """The findings of the R- rules for the 部门整体绩效目标 sheet.

    The indicator rows get the same grid checks as a project's (R-S1, R-S2, R-S4, R-S5, R-V1–R-V7,
    R-R1–R-R5); the goals get R-S7; ``projects`` (the unit's returned projects) feed R-F2 when the sheet's
    totals were read (location paths ``unit.budget``, ``unit.fiscal``, ``unit.other``).
    """
    unit_code = next((rp.project.unit_code for rp in projects), "") or next(
        (ind.unit_code for ind in dept.indicators), "")
    ctx = _Sheet(config=config, sheet=dept.sheet, locations=dept.locations, notes=dept.notes, unit_code=unit_code)
    rows = [_row("dind", k, ind) for k, ind in enumerate(dept.indicators)]
    findings = list(_check_dept_goals(ctx, dept))
    findings.extend(_row_findings(ctx, rows, _GRID_CHECKS))
    findings.extend(_check_dept_totals(ctx, dept, projects))
    return _enabled(findings, config)


def check_submission(sub: Submission, config: RuleConfig) -> list[Finding]:
    """All R- findings of one returned file: every project, the department sheet and R-R6 across projects.

    Each finding is attributed to the file (``file``, ``sha256``) and to ``sub.unit_code`` when known.
    On an import, ``sub`` is :func:`jixiao_xl.reconcile.issued_view` of the return: the rules that compare
    with the budget see the issued 预算数/财政资金/其他资金, and an edited locked cell is left to X-TAMPER.
    """
    rows_of = [_project_rows(rp) for rp in sub.projects]
    findings = [f for rp, rows in zip(sub.projects, rows_of) for f in _check_project(rp, config, rows)]
    if sub.dept is not None:
        findings.extend(check_dept(sub.dept, sub.projects, config))
    findings.extend(_enabled(_check_boilerplate(sub.projects, config, rows_of), config))
    return [replace(f, file=sub.file, sha256=sub.sha256, unit_code=sub.unit_code or f.unit_code) for f in findings]
