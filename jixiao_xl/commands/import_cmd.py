"""`jixiao-xl import`, `jixiao-xl status` and `jixiao-xl consolidate`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..cli import cli
from ..console import echo_findings, progress
from ..errors import EXIT_FINDINGS, EXIT_OK
from ..findings import has_errors
from ..parallel import default_jobs

DEFAULT_LEDGER = Path("output/ledger.sqlite")
MASTER_OPTION = click.option("--master", "master_path", default="master.xlsx", show_default=True,
                             type=click.Path(path_type=Path), help="主数据文件（.xlsx、CSV 文件夹或 .json）。")
LEDGER_OPTION = click.option("--ledger", "ledger_path", default=DEFAULT_LEDGER, show_default=True,
                             type=click.Path(dir_okay=False, path_type=Path), help="导入台账（SQLite 文件）。")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@MASTER_OPTION
@click.option("--out", "out_dir", default=Path("output/核对"), show_default=True, type=click.Path(path_type=Path),
              help="核对报告和退回修改表放在这个文件夹。")
@LEDGER_OPTION
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="并行进程数（默认等于 CPU 核数）。")
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path), help="下发时使用的自定义项目表模板。")
@click.option("--dept-template", type=click.Path(dir_okay=False, path_type=Path), help="下发时使用的自定义部门整体表模板。")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="规则配置 rules.toml：停用某些规则或调整严重程度。")
@click.option("--password", default="jixiao", show_default=True, help="退回修改表的工作表保护密码。")
@click.option("--no-sendback", is_flag=True, help="不生成退回修改表。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def import_command(paths, master_path, out_dir, ledger_path, jobs, template, dept_template, rules_path, password,
                   no_sendback) -> int:
    """导入报回的表格（文件或文件夹）：逐格核对，写出核对报告、退回修改表，并记入台账。"""
    from ..importer import ImportOptions, run_import
    from ..intake import collect_files
    from ..master import load_master
    from ..report import summary_lines

    master = load_master(master_path)
    options = ImportOptions(paths=tuple(paths), out_dir=out_dir, ledger_path=ledger_path, jobs=jobs or default_jobs(),
                            project_template=template, dept_template=dept_template, rules_path=rules_path,
                            password=password, sendbacks=not no_sendback)
    total = len(collect_files([p for p in paths if p.exists()]))
    with progress(total, "核对") as bar:
        result = run_import(master, options, on_file=lambda path: bar.advance())
    for line in summary_lines(result.findings, result.submissions, result.reports):
        click.echo(line)
    if result.duplicates:
        click.echo(f"其中 {result.duplicates} 个文件与已导入的文件完全相同，未重复导入。")
    if result.sendbacks:
        click.echo(f"退回修改表 {len(result.sendbacks)} 份：{out_dir / '退回修改'}")
    click.echo(f"台账：{ledger_path}")
    return EXIT_FINDINGS if result.has_errors else EXIT_OK


@cli.command("status")
@MASTER_OPTION
@LEDGER_OPTION
@click.option("--manifest", "manifest_path", default=Path("output/下发/manifest.csv"), show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="下发清单（generate 写出的 manifest.csv）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出，供脚本使用。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def status_command(master_path, ledger_path, manifest_path, as_json) -> int:
    """各单位的下发、报送和问题情况：谁已报送、谁还没有报送、还有多少错误。"""
    from ..generate import read_manifest
    from ..ledger import Ledger
    from ..master import load_master
    from ..status import render_status_table, status_json, unit_status

    master = load_master(master_path)
    with Ledger.open_readonly(ledger_path) as ledger:
        rows = unit_status(master, ledger, read_manifest(manifest_path))
        problems = ledger.inconsistencies()
    if as_json:
        document = status_json(rows)
        document["findings"] = [finding.as_row() for finding in problems]
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))
    else:
        click.echo(render_status_table(rows))
        echo_findings(problems)
    return EXIT_FINDINGS if has_errors(problems) else EXIT_OK


@cli.command("consolidate")
@MASTER_OPTION
@LEDGER_OPTION
@click.option("--out", "out_path", default=Path("output/汇总/汇总表.xlsx"), show_default=True,
              type=click.Path(path_type=Path), help="汇总表文件（csv 格式时为文件夹名）。")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), default="xlsx", show_default=True,
              help="输出格式。")
@click.option("--only-returned", is_flag=True, help="只汇总已报送的单位（默认未报送单位按主数据计入并标明）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def consolidate_command(master_path, ledger_path, out_path, fmt, only_returned) -> int:
    """按各单位最新一次有效报送汇总：总表、支出计划、绩效指标、明细（每个数字注明来源单元格）。"""
    from ..consolidate import consolidate, write_consolidation
    from ..ledger import Ledger
    from ..master import load_master

    master = load_master(master_path)
    if fmt != "xlsx" and out_path.suffix == ".xlsx":
        out_path = out_path.with_suffix("" if fmt == "csv" else ".json")
    with Ledger.open_readonly(ledger_path) as ledger:
        result = consolidate(master, ledger, include_unreturned=not only_returned)
    written = write_consolidation(result, out_path, fmt)
    total = result.grand_total
    click.echo(f"汇总完成：{written}")
    click.echo(f"预算数合计 {total} {master.settings.money_unit}。")
    echo_findings(result.findings)
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK
