"""report.html: the self-contained page of a check (inline CSS and script, every value escaped by jinja2).

Nothing a user typed reaches the page as markup: jinja2 autoescape, no ``|safe``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import jinja2

from ..findings import FOUND_BY_ZH, SEVERITIES, SEVERITY_ZH, Finding, count_by_severity
from ..ledger import display_time
from ..model import Master
from ..resources import text_templates_dir
from ..status import UnitStatus
from ..status import summary as state_summary
from ..submission import Submission
from .overview import FILES_TITLE, UNITS_TITLE, OverviewRow, findings_by_unit, project_names, rule_title, unit_names

HTML_TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class ProjectGroup:
    """Findings of one project (or of the file / department sheet when ``code`` is empty)."""

    code: str
    name: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class UnitGroup:
    """Findings of one unit, grouped by project."""

    code: str
    name: str
    counts: dict[str, int]
    projects: tuple[ProjectGroup, ...]


def unit_groups(findings: Sequence[Finding], submissions: Sequence[Submission],
                master: Master | None) -> list[UnitGroup]:
    """Findings grouped by unit, then by project, in report order."""
    units, projects = unit_names(submissions, master), project_names(submissions, master)
    groups = []
    for code, mine in findings_by_unit(findings).items():
        by_project: dict[str, list[Finding]] = {}
        for f in mine:
            by_project.setdefault(f.project_code, []).append(f)
        project_groups = tuple(ProjectGroup(p, projects.get(p, ""), tuple(fs)) for p, fs in sorted(by_project.items()))
        groups.append(UnitGroup(code, units.get(code, ""), count_by_severity(mine), project_groups))
    return groups


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(text_templates_dir())), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_html(findings: Sequence[Finding], overview: Sequence[OverviewRow], submissions: Sequence[Submission],
                master: Master | None, units: Sequence[UnitStatus] | None = None) -> str:
    """The self-contained HTML report (inline CSS and script, every value escaped by jinja2)."""
    counts = count_by_severity(findings)
    title = "绩效目标表核对报告"
    if master is not None:
        title = f"{master.settings.year}年度{title}"
    return _environment().get_template(HTML_TEMPLATE).render(
        title=title, counts=counts, severities=SEVERITIES, severity_zh=SEVERITY_ZH,
        files=len(submissions), units=len({s.unit_code for s in submissions if s.unit_code}),
        overview=overview, groups=unit_groups(findings, submissions, master), rule_title=rule_title,
        found_by_zh=FOUND_BY_ZH, unit_states=units, unit_state_counts=_state_counts(units),
        units_title=UNITS_TITLE, files_title=FILES_TITLE, display_time=display_time,
    )


def _state_counts(units: Sequence[UnitStatus] | None) -> dict[str, int]:
    return state_summary(units) if units is not None else {}

