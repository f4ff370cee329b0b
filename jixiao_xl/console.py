"""What the CLI prints: finding lines, summaries and a progress bar that stays quiet when piped."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterable, Iterator

import click

from .findings import SEVERITY_ZH, Finding, count_by_severity


def finding_line(f: Finding) -> str:
    """One finding as a single Chinese line: severity, place, rule and message."""
    place = "!".join(part for part in (f.sheet, f.cell) if part)
    where = f" {place}" if place else ""
    return f"[{SEVERITY_ZH[f.severity]}]{where} {f.rule}：{f.message}"


def echo_findings(findings: Iterable[Finding], limit: int | None = None) -> None:
    """Print findings one per line, errors first; with ``limit``, say how many were left out."""
    ordered = sorted(findings, key=lambda f: ("error", "warning", "info").index(f.severity))
    shown = ordered if limit is None else ordered[:limit]
    for f in shown:
        click.echo(finding_line(f))
    if len(ordered) > len(shown):
        click.echo(f"……另有 {len(ordered) - len(shown)} 条未显示，请查看报告文件。")


def severity_summary(findings: Iterable[Finding]) -> str:
    """'错误 2 条，警告 5 条，提示 1 条'."""
    counts = count_by_severity(findings)
    return "，".join(f"{SEVERITY_ZH[s]} {n} 条" for s, n in counts.items())


def is_interactive() -> bool:
    """True when stderr is a terminal (progress bars are shown only then)."""
    return sys.stderr.isatty()


@contextmanager
def progress(total: int, label: str) -> Iterator["Progress"]:
    """A progress bar on a terminal; silent when output is piped or redirected."""
    if is_interactive() and total > 1:
        with click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
            yield Progress(bar.update)
    else:
        yield Progress(lambda n: None)


class Progress:
    """Advance a progress bar by finished items."""

    def __init__(self, update) -> None:
        self._update = update

    def advance(self, n: int = 1) -> None:
        """Mark ``n`` more items as done."""
        self._update(n)
