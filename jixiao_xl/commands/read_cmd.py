"""`jixiao-xl read`: parse returned files only (no rules) and print what was read, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..cli import cli
from ..console import progress
from ..errors import EXIT_OK, InputError
from ..safety import write_atomic


@cli.command("read")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="把结果写入这个 JSON 文件（默认打印到屏幕）。")
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
    from ..intake import IsolatedPool, collect_files, inspect_file
    from ..parallel import default_jobs
    from ..read import default_specs, read_intake, submission_report, unreadable

    from ..template import ledger_templates
    from .workspace_cmd import active_workspace, pick

    if not paths:
        workspace = active_workspace()
        if workspace is None:
            raise InputError("请指定要读取的报回文件或文件夹；或在工作区（jixiao-xl init 建立）中运行，默认读取 收件/。")
        paths = (workspace.inbox,)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InputError(f"找不到 {'、'.join(missing)}。请检查路径。")
    files = collect_files(paths)
    specs = ledger_templates(default_specs(), pick(ledger_path, lambda ws: ws.ledger, None))
    intakes = [inspect_file(path) for path in files]
    reports = []
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
                bar.advance()
    finally:
        pool.shutdown()
    document = {"tool": "jixiao-xl", "version": __version__, "files": len(files), "submissions": reports}
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if json_path is None:
        click.echo(text)
    else:
        write_atomic(json_path, text + "\n")
        readable = sum(1 for r in reports if r["projects"] or r["department"])
        click.echo(f"已读取 {len(files)} 个文件（{readable} 个是绩效目标表），结果写入 {json_path}")
    return EXIT_OK
