"""`jixiao-xl import`, `jixiao-xl status` and `jixiao-xl consolidate`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..console import echo_findings, progress
from ..errors import EXIT_FINDINGS, EXIT_OK, InputError
from ..findings import has_errors
from ..runtime import default_jobs
from .common import (DEFAULT_MANIFEST, LEDGER_OPTION, MASTER_OPTION, active_workspace, chinese, examples, existing_ledger,
                     ledger_or_default, master_or_default, pick)


@chinese.command("import", epilog=examples(
    ("在工作区中：导入 收件/ 中的全部报回，报告和退回修改表写到 核对/", "cd 2026年绩效目标 && jixiao-xl import"),
    ("只导入收到的一个文件", "cd 2026年绩效目标 && jixiao-xl import 收件/435001-巨鹿县行政审批局本级.xlsx"),
    ("在工作区外：指定报回文件夹、主数据、报告文件夹和台账",
     "jixiao-xl import 报回 --master 主数据.xlsx --out 核对 --ledger ledger.sqlite")))
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@MASTER_OPTION
@click.option("--out", "out_dir", default=None, type=click.Path(path_type=Path),
              help="核对报告、退回修改表、退回通知和催报名单放在这个文件夹（默认：工作区的 核对/，工作区外为 output/核对；"
                   "未指定时每次导入在其中新建一个文件夹；已有报告的文件夹从不覆盖）。")
@LEDGER_OPTION
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="并行进程数（默认等于 CPU 核数）。")
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path),
              help="下发时使用的自定义项目表模板（台账记有下发时所用模板的单位，按台账中的模板读取）。")
@click.option("--dept-template", type=click.Path(dir_okay=False, path_type=Path),
              help="下发时使用的自定义部门整体表模板（同上）。")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="规则配置 rules.toml：停用某些规则或调整严重程度（默认：工作区配置的规则文件）。")
@click.option("--password", default=None, help="退回修改表的工作表保护密码（默认：工作区配置的密码，否则 jixiao）。")
@click.option("--no-sendback", is_flag=True, help="不生成退回修改表。")
@click.option("--manifest", "manifest_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="下发清单 manifest.csv：据此识别原样退回的空白表，概览中的下发状态也据此判断"
                   "（默认：工作区的 下发/manifest.csv，工作区外为 output/下发/manifest.csv）。")
@click.option("--originals", "originals_dir", type=click.Path(file_okay=False, path_type=Path),
              help="把收到的每个文件原样保存到这个文件夹（按 sha256 命名，相同内容只存一份；默认：工作区的 原件/）。")
@click.option("--deadline", default=None, help="报送截止时间，写入退回通知和催报名单（默认：工作区配置的截止日期）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def import_command(paths, master_path, out_dir, ledger_path, jobs, template, dept_template, rules_path, password,
                   no_sendback, manifest_path, originals_dir, deadline) -> int:
    """导入报回的表格（文件或文件夹）：逐格核对，写出核对报告、退回修改表、退回通知和催报名单，并记入台账。

    \b
    在工作区内（jixiao-xl init 建立）不需要任何参数：导入 收件/ 中的全部文件，每个文件先原样存入 原件/，
    报告写到 核对/ 下本次导入自己的文件夹，记入工作区的台账。在工作区外指定 PATHS 和 --master、--out、--ledger 等参数。
    每份报回按下发给该单位时所用的模板读取和退回（模板保存在台账中，原模板文件移走或修改也不影响）。
    """
    from ..importer import ImportOptions, run_import
    from ..intake import collect_files
    from ..master import load_master

    workspace = active_workspace()
    if not paths:
        if workspace is None:
            raise InputError("请指定要导入的报回文件或文件夹；或在工作区（jixiao-xl init 建立）中运行，默认导入 收件/。")
        paths = (workspace.inbox,)
    explicit_out = out_dir
    out_dir = pick(out_dir, lambda ws: ws.checked, Path("output/核对"))
    ledger_path = ledger_or_default(ledger_path)
    master = load_master(master_or_default(master_path))
    options = ImportOptions(paths=tuple(paths), out_dir=out_dir, ledger_path=ledger_path, jobs=jobs or default_jobs(),
                            project_template=pick(template, lambda ws: ws.project_template, None),
                            dept_template=pick(dept_template, lambda ws: ws.dept_template, None),
                            rules_path=pick(rules_path, lambda ws: ws.rules_path, None),
                            password=pick(password, lambda ws: ws.password, "jixiao"), sendbacks=not no_sendback,
                            manifest_path=pick(manifest_path, lambda ws: ws.manifest, DEFAULT_MANIFEST),
                            originals_dir=pick(originals_dir, lambda ws: ws.originals, None),
                            deadline=pick(deadline, lambda ws: ws.deadline, ""),
                            run_folders=explicit_out is None, workspace=workspace)
    total = len(collect_files([p for p in paths if p.exists()]))
    with progress(total, "核对") as bar:
        result = run_import(master, options, on_file=lambda path: bar.advance())
    from .report_cmd import echo_run

    failed = echo_run(result)
    click.echo(f"台账：{ledger_path}")
    return EXIT_FINDINGS if failed else EXIT_OK


@chinese.command("status", epilog=examples(
    ("在工作区中：各单位的报送情况和填表人", "cd 2026年绩效目标 && jixiao-xl status"),
    ("以 JSON 输出，供脚本使用", "cd 2026年绩效目标 && jixiao-xl status --json"),
    ("在工作区外：指定主数据、台账和下发清单",
     "jixiao-xl status --master 主数据.xlsx --ledger ledger.sqlite --manifest 下发/manifest.csv")))
@MASTER_OPTION
@LEDGER_OPTION
@click.option("--manifest", "manifest_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="下发清单（generate 写出的 manifest.csv；默认：工作区的 下发/manifest.csv，工作区外为 output/下发/manifest.csv）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出，供脚本使用。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def status_command(master_path, ledger_path, manifest_path, as_json) -> int:
    """各单位的下发、报送和问题情况：谁已报送、谁还没有报送、还有多少错误。

    \b
    在工作区内（jixiao-xl init 建立）不需要任何参数：读取工作区的主数据、下发清单和台账。
    只读取台账，从不新建台账：找不到台账时说明查找的位置并退出（退出码 2）。
    """
    from ..generate import read_manifest
    from ..ledger import Ledger
    from ..master import load_master
    from ..status import render_status_table, status_json, unit_status

    ledger_path = existing_ledger(ledger_path)
    manifest_path = pick(manifest_path, lambda ws: ws.manifest, Path("output/下发/manifest.csv"))
    master = load_master(master_or_default(master_path))
    with Ledger.open_readonly(ledger_path) as ledger:
        rows = unit_status(master, ledger, read_manifest(manifest_path))
        problems = ledger.inconsistencies()
    if as_json:
        click.echo(json.dumps(status_json(rows, problems), ensure_ascii=False, indent=1))
    else:
        click.echo(render_status_table(rows))
        echo_findings(problems)
    return EXIT_FINDINGS if has_errors(problems) else EXIT_OK


@chinese.command("consolidate", epilog=examples(
    ("在工作区中：汇总到 汇总/汇总表.xlsx", "cd 2026年绩效目标 && jixiao-xl consolidate"),
    ("只汇总已报送的单位，输出为 CSV 文件夹", "cd 2026年绩效目标 && jixiao-xl consolidate --only-returned --format csv"),
    ("在工作区外：指定主数据、台账和汇总表文件",
     "jixiao-xl consolidate --master 主数据.xlsx --ledger output/ledger.sqlite --out 汇总表.xlsx")))
@MASTER_OPTION
@LEDGER_OPTION
@click.option("--out", "out_path", default=None, type=click.Path(path_type=Path),
              help="汇总表文件（csv 格式时为文件夹名；默认：工作区的 汇总/汇总表.xlsx，工作区外为 output/汇总/汇总表.xlsx）。")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), default="xlsx", show_default=True,
              help="输出格式。")
@click.option("--only-returned", is_flag=True, help="只汇总已报送的单位（默认未报送单位按主数据计入并标明）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def consolidate_command(master_path, ledger_path, out_path, fmt, only_returned) -> int:
    """按各单位最新一次有效报送汇总：总表、支出计划、绩效指标、明细（每个数字注明来源单元格）。

    \b
    在工作区内（jixiao-xl init 建立）不需要任何参数：读取工作区的主数据和台账，汇总表写到 汇总/。
    只读取台账，从不新建台账：找不到台账时说明查找的位置并退出（退出码 2）。
    """
    from ..consolidate import consolidate, write_consolidation
    from ..ledger import Ledger
    from ..master import load_master

    ledger_path = existing_ledger(ledger_path)
    out_path = pick(out_path, lambda ws: ws.consolidated / "汇总表.xlsx", Path("output/汇总/汇总表.xlsx"))
    master = load_master(master_or_default(master_path))
    if fmt != "xlsx" and out_path.suffix == ".xlsx":
        out_path = out_path.with_suffix("" if fmt == "csv" else ".json")
    with Ledger.open_readonly(ledger_path) as ledger:
        result = consolidate(master, ledger, include_unreturned=not only_returned)
    written = write_consolidation(result, out_path, fmt)
    total = result.grand_total
    click.echo(f"汇总完成：{written}")
    click.echo(f"预算数合计 {total} {master.settings.money_unit}。")
    edits = sum(len(unit.edits) for unit in result.units)
    if edits:
        click.echo(f"报送表中有 {edits} 处锁定的下发数被改动，已按主数据的下发数汇总；表内填报的数见汇总表“核对”页。")
    echo_findings(result.findings)
    return EXIT_FINDINGS if has_errors(result.findings) else EXIT_OK
