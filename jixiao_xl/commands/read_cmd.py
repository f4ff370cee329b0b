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
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="把结果写入这个 JSON 文件（默认打印到屏幕）。")
@click.option("--money-unit", type=click.Choice(["万元", "元"]), default="万元", show_default=True,
              help="金额换算到的单位。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def read_command(paths: tuple[Path, ...], json_path: Path | None, money_unit: str) -> int:
    """只读取报回的表格（文件或文件夹），输出每个值的原文、规范化结果、所在单元格和定位方式，不做规则检查。"""
    from .. import __version__
    from ..intake import collect_files
    from ..read import default_specs, read_file, submission_report

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InputError(f"找不到 {'、'.join(missing)}。请检查路径。")
    files = collect_files(paths)
    specs = default_specs()
    reports = []
    with progress(len(files), "读取") as bar:
        for path in files:
            reports.append(submission_report(read_file(path, money_unit, specs)))
            bar.advance()
    document = {"tool": "jixiao-xl", "version": __version__, "files": len(files), "submissions": reports}
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if json_path is None:
        click.echo(text)
    else:
        write_atomic(json_path, text + "\n")
        readable = sum(1 for r in reports if r["projects"] or r["department"])
        click.echo(f"已读取 {len(files)} 个文件（{readable} 个是绩效目标表），结果写入 {json_path}")
    return EXIT_OK
