"""`jixiao-xl read`: parse returned files only (no rules): a short summary per file, the whole result as JSON on request."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from ..console import progress
from ..errors import EXIT_OK, InputError
from ..findings import FOUND_BY_ZH, SEVERITIES, SEVERITY_ZH
from ..safety import display_name, write_atomic
from .common import active_workspace, chinese, examples, pick


@chinese.command("read", epilog=examples(
    ("在工作区中：读取 收件/ 中的全部文件，每个文件打印一段摘要", "cd 2026年绩效目标 && jixiao-xl read"),
    ("把一个文件的完整读取结果保存为 JSON", "cd 2026年绩效目标 && jixiao-xl read 收件/435001-巨鹿县行政审批局本级.xlsx --json 读取结果.json"),
    ("在工作区外：读取一个文件夹，完整结果打印到屏幕，金额换算为元", "jixiao-xl read 报回 --json - --money-unit 元")))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="把完整结果（每个值的原文、规范化结果、单元格、定位方式）写入这个 JSON 文件；“-”表示打印到屏幕。")
@click.option("--money-unit", type=click.Choice(["万元", "元"]), default="万元", show_default=True,
              help="金额换算到的单位。")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="并行进程数（默认等于 CPU 核数）。")
@click.option("--ledger", "ledger_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="台账：按其中记录的下发模板读取各单位的表格（默认：工作区的台账；没有台账时按自带模板读取）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def read_command(paths: tuple[Path, ...], json_path: Path | None, money_unit: str, jobs: int | None,
                 ledger_path: Path | None) -> int:
    """只读取报回的表格（文件或文件夹），输出每个值的原文、规范化结果、所在单元格和定位方式，不做规则检查。

    \b
    在工作区内（jixiao-xl init 建立）不指定 PATHS 时读取 收件/ 中的全部文件，并按台账中记录的、
    下发给各单位时所用的模板读取。只读取台账，从不新建台账。
    """
    from .. import __version__
    from ..intake import collect_files, inspect_file
    from ..runtime import IsolatedPool, default_jobs
    from ..read import default_specs, read_intake, submission_report, unreadable

    from ..template import ledger_templates

    if not paths:
        workspace = active_workspace()
        if workspace is None:
            raise InputError("请指定要读取的报回文件或文件夹；或在工作区（jixiao-xl init 建立）中运行，默认读取 收件/。")
        paths = (workspace.inbox,)
    missing = [display_name(p) for p in paths if not p.exists()]
    if missing:
        raise InputError(f"找不到 {'、'.join(missing)}。请检查路径。")
    files = collect_files(paths)
    specs = ledger_templates(default_specs(), pick(ledger_path, lambda ws: ws.ledger, None))
    intakes = [inspect_file(path) for path in files]
    reports, subs = [], []
    pool = IsolatedPool(min(jobs or default_jobs(), max(len(files), 1)))
    try:
        futures = [pool.submit(read_intake, intake, money_unit, specs) if intake.readable else None for intake in intakes]
        with progress(len(files), "读取") as bar:
            for intake, future in zip(intakes, futures):
                outcome = future.result() if future is not None else None
                if outcome is None:
                    sub = unreadable(intake)
                else:
                    sub = outcome.value if outcome.ok else unreadable(intake, outcome.finding)
                reports.append(submission_report(sub))
                subs.append(sub)
                bar.advance()
    finally:
        pool.shutdown()
    document = {"tool": "jixiao-xl", "version": __version__, "files": len(files), "submissions": reports}
    if json_path is not None and str(json_path) == "-":
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
        return EXIT_OK
    for sub in subs:
        for line in summary_lines(sub):
            click.echo(line)
    if json_path is not None:
        write_atomic(json_path, json.dumps(document, ensure_ascii=False, indent=1) + "\n")
        click.echo(f"完整结果（每个值的原文、单元格和定位方式）已写入 {json_path}")
    else:
        click.echo("加 --json 文件名 可保存完整结果（--json - 打印到屏幕）。")
    return EXIT_OK




def summary_lines(sub) -> list[str]:
    """What `read` prints for one file: unit, projects and indicators, how fields were found, findings."""
    name = Path(sub.file).name
    if not sub.readable:
        reason = sub.findings[0].message if sub.findings else "无法作为绩效目标表读取"
        return [f"{name}：未能读取。{reason}"]
    indicators = sum(len(rp.project.indicators) for rp in sub.projects)
    dept = f"，部门整体指标 {len(sub.dept.indicators)} 条" if sub.dept is not None else ""
    ways = Counter(loc.found_by for rp in sub.projects for loc in rp.locations.values())
    if sub.dept is not None:
        ways.update(loc.found_by for loc in sub.dept.locations.values())
    found = "、".join(f"{FOUND_BY_ZH.get(way, way)} {n}" for way, n in ways.most_common()) or "无"
    counts = Counter(f.severity for f in sub.findings)
    problems = "、".join(f"{SEVERITY_ZH[key]} {counts[key]}" for key in SEVERITIES if counts[key]) or "无"
    unit = f"{sub.unit_code} {sub.unit_name}".strip() or "（未识别单位）"
    return [f"{name}：{unit}，项目 {len(sub.projects)} 个，绩效指标 {indicators} 条{dept}",
            f"    定位方式：{found}；读取问题：{problems}"]
