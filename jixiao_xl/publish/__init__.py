"""The publish stage: the 预算公开 document of each unit (部门整体绩效目标 and 预算项目绩效目标), as published.

The document has the seed's structure: 第一部分 部门整体绩效目标 (一、总体绩效目标, 二、分项绩效目标 each with its
绩效目标 and a 绩效指标 sentence, 三、工作保障措施 with numbered measures) and 第二部分 预算项目绩效目标 (one
"N.项目名称绩效目标表" per project).

The data step (:func:`publication_data`) turns the unit's counted return (the values the unit typed, with
the issued locked values — codes, names, budgets, fund sources — taken from the master) or, where the unit
did not return, the master itself into a :class:`Publication`: every number already formatted as the seed
prints it (6.00; ≥30 个; ≤10%), every merged cell of the indicator grid already spanned. The renderers
(:mod:`.as_html`, :mod:`.as_pdf`, :mod:`.as_docx`) only lay that out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from ..findings import Finding
from ..model import DeptIndicator, Indicator, Master, Project
from ..safety import safe_file_stem

FORMATS = ("docx", "pdf", "html")
OVERALL_SEQ = 0
CHINESE_ORDINALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class GridRow:
    """One printed 三级 row; ``level1_span``/``level2_span`` are the rows the merged cell covers (0: covered)."""

    level1: str
    level2: str
    name: str
    description: str
    value: str
    basis: str
    level1_span: int = 1
    level2_span: int = 1


@dataclass(frozen=True)
class Cell:
    """One cell of the table's head: its text, how many grid columns and rows it covers, label or value."""

    text: str
    colspan: int = 1
    rowspan: int = 1
    label: bool = False


GRID_HEADER = ("一级指标", "二级指标", "三级指标", "绩效指标描述", "指标值", "指标值确定依据")
COLUMNS = len(GRID_HEADER)
PLAN_LABEL = "资金支出计划（%）"


@dataclass(frozen=True)
class ProjectTable:
    """One 项目支出绩效目标表 with every cell as printed."""

    number: int
    code: str
    name: str
    budget: str
    fiscal: str
    other: str
    purpose: str
    annual_goal: str
    plan: tuple[tuple[str, str], ...]
    rows: tuple[GridRow, ...]

    @property
    def title(self) -> str:
        """'1.光纤租赁和短信机费用绩效目标表'."""
        return f"{self.number}.{self.name}绩效目标表"

    def head_rows(self) -> list[list[Cell]]:
        """The rows above the indicator grid, on the grid's six columns, with the seed's merged cells."""
        rows = [
            [Cell("项目编码", label=True), Cell(self.code, 2), Cell("项目名称", label=True), Cell(self.name, 2)],
            [Cell("预算数", label=True), Cell(self.budget), Cell("其中：财政资金", label=True), Cell(self.fiscal),
             Cell("其他资金", label=True), Cell(self.other)],
            [Cell("预算规模及资金用途", label=True), Cell(self.purpose, COLUMNS - 1)],
        ]
        chunks = self.plan_chunks()
        for k, chunk in enumerate(chunks):
            label = [Cell(PLAN_LABEL, rowspan=2 * len(chunks), label=True)] if k == 0 else []
            rows.append(label + [Cell(node, span, label=True) for node, _, span in chunk])
            rows.append([Cell(amount, span) for _, amount, span in chunk])
        rows.append([Cell("绩效目标", label=True), Cell(self.annual_goal, COLUMNS - 1)])
        return rows

    def plan_chunks(self) -> list[list[tuple[str, str, int]]]:
        """The 支出计划 nodes in rows of at most five (node, amount, colspan); the last node of a row fills it."""
        width = COLUMNS - 1
        points = list(self.plan) or [("", "")]
        chunks = [points[k:k + width] for k in range(0, len(points), width)]
        return [[(node, amount, 1 if k < len(chunk) - 1 else width - k) for k, (node, amount) in enumerate(chunk)]
                for chunk in chunks]


@dataclass(frozen=True)
class SubGoal:
    """One 分项绩效目标 with its 绩效指标 sentence."""

    seq: int
    name: str
    goal: str
    indicators: str


@dataclass(frozen=True)
class Measure:
    """One numbered 工作保障措施."""

    seq: int
    title: str
    text: str


@dataclass(frozen=True)
class Publication:
    """Everything one unit's document shows, plus where it came from and the open errors of that source."""

    unit_code: str
    unit_name: str
    year: int
    money_unit: str
    overall_goal: str
    sub_goals: tuple[SubGoal, ...]
    measures: tuple[Measure, ...]
    projects: tuple[ProjectTable, ...]
    source: str
    import_id: int | None = None
    open_errors: tuple[Finding, ...] = ()

    @property
    def unit_line(self) -> str:
        """'435001 巨鹿县行政审批局本级'."""
        return f"{self.unit_code} {self.unit_name}"

    @property
    def money_label(self) -> str:
        """'单位：万元'."""
        return f"单位：{self.money_unit}"

    @property
    def has_part_one(self) -> bool:
        """True when the unit has any 部门整体 text to print."""
        return bool(self.overall_goal or self.sub_goals or self.measures)

    def heading_number(self, section: str) -> str:
        """'一、' … for the sections of 第一部分 that are printed ('overall', 'sub', 'measures')."""
        present = [name for name, shown in (("overall", bool(self.overall_goal)), ("sub", bool(self.sub_goals)),
                                            ("measures", bool(self.measures))) if shown]
        return CHINESE_ORDINALS[present.index(section)] + "、"


# ---------------------------------------------------------------------------------------------------------
# Which return counts


def counted_returns(ledger) -> dict[str, int]:
    """The import id of each unit's counted return (the one the document is made from), by unit code.

    Exactly the ledger's counted rule (:meth:`Ledger.counted_ids`, i.e. :func:`.counting.counted_return` with
    the bureau's 审核 decisions), the one ``status``, the reports and ``consolidate`` use: a return the bureau
    passed (通过) is published until a later return is passed too.
    """
    return ledger.counted_ids()


# ---------------------------------------------------------------------------------------------------------
# The data of one document


def publication_data(master: Master, ledger, unit_code: str, counted: Mapping[str, int] | None = None) -> Publication:
    """The document of ``unit_code``: from its counted return when it returned one, else from the master.

    ``counted`` is :func:`counted_returns` of the ledger (computed here when not given); ``ledger`` may be
    None, then the master alone is published.
    """
    unit = master.unit(unit_code)
    if unit is None:
        raise KeyError(unit_code)
    if counted is None:
        counted = counted_returns(ledger) if ledger is not None else {}
    import_id = counted.get(unit_code)
    source, errors, data = "主数据", (), master
    if ledger is not None and import_id is not None:
        sub = ledger.submission_of(import_id, indicator_locations=False)
        data = returned_data(master, sub, unit_code)
        errors = tuple(f for f in ledger.findings_of(import_id) if f.severity == "error")
        source = f"报送文件 {sub.file}（台账第 {import_id} 号导入）"
    else:
        import_id = None
    return _publication(data, unit_code, unit.name, source, import_id, errors)


def returned_data(master: Master, sub, unit_code: str) -> Master:
    """The master with this unit's projects, department goals and 工作保障措施 as its return states them
    (the measures stay the master's when the returned form had no field for them).

    The issued locked values (代码, 名称, 预算数, 财政资金, 其他资金) and the project order stay the master's;
    a master project the return lacks keeps the master's values; returned projects unknown to the master
    are left out (reconciliation reports them).
    """
    from ..sendback import returned_master

    unit = master.unit(unit_code)
    merged = returned_master(master, unit, sub)
    typed = {p.code: p for p in merged.projects}
    projects = tuple(_with_locked_values(typed.get(p.code, p), p) for p in master.projects_of(unit.code))
    return dataclasses.replace(merged, projects=projects)


def _with_locked_values(typed: Project, issued: Project) -> Project:
    return dataclasses.replace(typed, unit_code=issued.unit_code, code=issued.code, name=issued.name,
                               budget=issued.budget, fiscal=issued.fiscal, other=issued.other)


def _publication(master: Master, unit_code: str, unit_name: str, source: str, import_id: int | None,
                 errors: tuple[Finding, ...]) -> Publication:
    goals = master.goals_of(unit_code)
    indicators = master.dept_indicators_of(unit_code)
    overall = next((g.goal for g in goals if g.seq == OVERALL_SEQ), "")
    return Publication(
        unit_code=unit_code,
        unit_name=unit_name,
        year=master.settings.year,
        money_unit=master.settings.money_unit,
        overall_goal=overall,
        sub_goals=tuple(SubGoal(g.seq, g.name, g.goal, indicator_sentence([i for i in indicators if i.seq == g.seq]))
                        for g in goals if g.seq != OVERALL_SEQ),
        measures=tuple(Measure(m.seq, m.title, m.text) for m in master.measures_of(unit_code)),
        projects=tuple(project_table(n, p) for n, p in enumerate(master.projects_of(unit_code), start=1)),
        source=source,
        import_id=import_id,
        open_errors=errors,
    )


# ---------------------------------------------------------------------------------------------------------
# Numbers and cells as the seed prints them


def money_text(amount: Decimal | None) -> str:
    """An amount with two decimals (6 → '6.00'); blank when None."""
    if amount is None:
        return ""
    return format(amount.quantize(Decimal("0.01")), "f")


def number_text(value: Decimal | str | None) -> str:
    """A 指标值 number as typed (30 → '30', 7.9 → '7.9'), never in exponent notation; text as it is."""
    if value is None:
        return ""
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def value_text(operator: str, value: Decimal | str | None, unit: str) -> str:
    """The printed 指标值 cell: '≥30 个', '≤10%', '≥90%'; a 定性 value as written."""
    number = number_text(value)
    if operator == "定性" or not number:
        return number
    amount = f"{operator}{number}"
    if not unit:
        return amount
    return f"{amount}{unit}" if unit in ("%", "％", "‰") else f"{amount} {unit}"


_SENTENCE_VERBS = {"＝": ("达到 ", ""), "≥": ("达到 ", "以上"), "＞": ("超过 ", ""), "≤": ("不超过 ", ""),
                   "＜": ("低于 ", "")}


def indicator_phrase(indicator: DeptIndicator) -> str:
    """'业务处理及时率达到 100%', '服装使用年限达到 2 年以上', '非正常停机率接近于 0' (定性: name + value)."""
    number = number_text(indicator.value)
    if indicator.operator == "定性" or indicator.operator not in _SENTENCE_VERBS:
        return f"{indicator.name}{number}"
    verb, tail = _SENTENCE_VERBS[indicator.operator]
    unit = indicator.unit
    quantity = f"{number}{unit}" if unit in ("%", "％", "‰", "") else f"{number} {unit}"
    return f"{indicator.name}{verb}{quantity}{tail}"


def indicator_sentence(indicators: Sequence[DeptIndicator]) -> str:
    """The 绩效指标 sentence of a 分项绩效目标: the phrases joined by '，', ending with '。' ('' for none)."""
    return "，".join(map(indicator_phrase, indicators)) + "。" if indicators else ""


def project_table(number: int, project: Project) -> ProjectTable:
    """The printed table of one project."""
    return ProjectTable(
        number=number,
        code=project.code,
        name=project.name,
        budget=money_text(project.budget),
        fiscal=money_text(project.fiscal),
        other=money_text(project.other),
        purpose=project.purpose,
        annual_goal=project.annual_goal,
        plan=tuple((point.node, money_text(point.amount)) for point in project.plan),
        rows=grid_rows(project.indicators),
    )


def grid_rows(indicators: Iterable[Indicator]) -> tuple[GridRow, ...]:
    """The indicator rows with the merged 一级/二级 cells of the seed: a run of equal values is one cell."""
    items = list(indicators)
    level1 = _spans([i.level1 or None for i in items])
    level2 = _spans([(i.level1, i.level2) if i.level2 else None for i in items])
    return tuple(
        GridRow(i.level1, i.level2, i.name, i.description, value_text(i.operator, i.value, i.unit), i.basis,
                level1[k], level2[k])
        for k, i in enumerate(items)
    )


def _spans(keys: list) -> list[int]:
    """For each position, the length of the run of equal keys it starts (0 inside a run); None never merges."""
    spans = [0] * len(keys)
    start = 0
    for k in range(1, len(keys) + 1):
        if k == len(keys) or keys[k] is None or keys[k] != keys[start]:
            spans[start] = k - start
            start = k
    return spans


# ---------------------------------------------------------------------------------------------------------
# Writing the documents


def document_stem(publication: Publication) -> str:
    """'435001-巨鹿县行政审批局本级-绩效目标公开' (safe as a file name)."""
    return safe_file_stem(f"{publication.unit_code}-{publication.unit_name}-{publication.year}年绩效目标公开")


def renderer(fmt: str, docx_template: Path | None = None) -> Callable[[Publication], bytes]:
    """The renderer of one format: a function from a publication to the document's bytes."""
    if fmt == "html":
        from .as_html import render_html

        return lambda pub: render_html(pub).encode("utf-8")
    if fmt == "pdf":
        from .as_pdf import render_pdf

        return render_pdf
    if fmt == "docx":
        from .as_docx import render_docx

        return lambda pub: render_docx(pub, docx_template)
    raise ValueError(fmt)


def write_documents(publication: Publication, out_dir: Path, formats: Sequence[str],
                    docx_template: Path | None = None) -> list[Path]:
    """Write the unit's document in every format into ``out_dir`` (atomically); the paths written."""
    from ..safety import write_atomic

    written = []
    for fmt in formats:
        path = Path(out_dir) / f"{document_stem(publication)}.{fmt}"
        write_atomic(path, renderer(fmt, docx_template)(publication))
        written.append(path)
    return written


@dataclass
class PublishResult:
    """What one publish run did: the documents written per unit, and the units refused for open errors."""

    written: dict[str, list[Path]] = dataclasses.field(default_factory=dict)
    refused: dict[str, Publication] = dataclasses.field(default_factory=dict)
    forced: dict[str, Publication] = dataclasses.field(default_factory=dict)
    sources: dict[str, str] = dataclasses.field(default_factory=dict)
    missing_characters: dict[str, str] = dataclasses.field(default_factory=dict)


def publish_units(master: Master, ledger, unit_codes: Sequence[str], out_dir: Path, formats: Sequence[str],
                  force: bool = False, docx_template: Path | None = None,
                  on_unit: Callable[[Publication, list[Path]], None] | None = None) -> PublishResult:
    """Write the documents of ``unit_codes``; a unit whose counted return has open errors is refused unless
    ``force`` (then it is published and listed in ``forced``)."""
    result = PublishResult()
    counted = counted_returns(ledger) if ledger is not None else {}
    for code in unit_codes:
        publication = publication_data(master, ledger, code, counted)
        result.sources[code] = publication.source
        if publication.open_errors and not force:
            result.refused[code] = publication
            continue
        if publication.open_errors:
            result.forced[code] = publication
        if "pdf" in formats:
            from .as_pdf import missing_characters

            if missing := missing_characters(publication):
                result.missing_characters[code] = missing
        result.written[code] = write_documents(publication, out_dir, formats, docx_template)
        if on_unit is not None:
            on_unit(publication, result.written[code])
    return result
