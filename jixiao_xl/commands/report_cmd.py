"""`jixiao-xl report`: the check report of the year as it stands, or of one import run, from the ledger alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from ..errors import EXIT_FINDINGS, EXIT_OK, InputError
from ..runtime import default_jobs
from .common import DEFAULT_MANIFEST, LEDGER_OPTION, MASTER_OPTION, chinese, examples, existing_ledger, master_or_default, pick

STATE_LABEL = "当前状态"


def echo_run(result) -> bool:
    """Print what a run (and every earlier run it completed) found and wrote; True when any has errors."""
    failed = False
    for done in result.rebuilt:
        if done.rebuild_error:
            click.echo(f"第 {done.run_id} 次导入的核对报告上次未完成，这次也未能补做（{done.rebuild_error}）；"
                       f"请确认 {done.out_dir} 可以写入后运行 jixiao-xl report --run {done.run_id}。")
            continue
        click.echo(f"第 {done.run_id} 次导入的核对报告上次未完成，已根据台账补做：{done.out_dir}")
        failed = _echo_one(done) or failed
    if result.rebuilt:
        click.echo(f"本次（第 {result.run_id} 次）：" if result.run_id is not None else "本次：")
    return _echo_one(result) or failed


def _echo_one(result) -> bool:
    from ..report import summary_lines

    for line in summary_lines(result.findings, result.submissions, result.reports):
        click.echo(line)
    if result.blanks:
        click.echo(f"其中 {result.blanks} 个文件是未填写的下发表，不算报送（见核对报告，仅供主管部门参考）。")
    if result.duplicates:
        click.echo(f"其中 {result.duplicates} 个文件与已导入的文件完全相同，未重复导入。")
    if result.sendbacks:
        click.echo(f"退回修改表 {len(result.sendbacks)} 份：{result.out_dir / '退回修改'}")
    notices = [p for p in result.followups if p.parent.name == "退回通知"]
    if notices:
        click.echo(f"退回通知 {len(notices)} 份：{result.out_dir / '退回通知'}")
    reminders = [p for p in result.followups if p.name == "催报.xlsx"]
    if reminders:
        click.echo(f"催报名单：{reminders[0]}")
    return result.has_errors


@chinese.command("report", epilog=examples(
    ("在工作区中：按台账生成当前状态的核对报告、退回修改表和催报名单，放到 核对/ 下的新文件夹", "cd 2026年绩效目标 && jixiao-xl report"),
    ("重新生成第 3 次导入的核对报告", "cd 2026年绩效目标 && jixiao-xl report --run 3"),
    ("在工作区外：指定主数据、台账和报告文件夹",
     "jixiao-xl report --master 主数据.xlsx --ledger output/ledger.sqlite --out 核对/当前状态")))
@click.option("--run", "run_id", type=click.IntRange(min=1), default=None,
              help="重新生成第 N 次导入的核对报告（默认：按台账中各单位当前计入的报送生成报告）。")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="报告放在这个文件夹（默认：--run 时为该次导入原来的文件夹，否则在工作区的 核对/"
                   "（工作区外为 output/核对）下新建一个文件夹）。")
@MASTER_OPTION
@LEDGER_OPTION
@click.option("--manifest", "manifest_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="下发清单 manifest.csv（默认：工作区的 下发/manifest.csv，工作区外为 output/下发/manifest.csv）。")
@click.option("--deadline", default=None, help="报送截止时间，写入退回通知和催报名单（默认：工作区配置的截止日期）。")
@click.option("--password", default=None, help="退回修改表的工作表保护密码（默认：工作区配置的密码，否则 jixiao）。")
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path), help="下发时使用的自定义项目表模板。")
@click.option("--dept-template", type=click.Path(dir_okay=False, path_type=Path), help="下发时使用的自定义部门整体表模板。")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="并行进程数（默认等于 CPU 核数）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def report_command(run_id, out_dir, master_path, ledger_path, manifest_path, deadline, password, template,
                   dept_template, jobs) -> int:
    """不导入文件，按台账生成核对报告、退回修改表、退回通知和催报名单；--run N 重新生成某次导入的报告。

    \b
    在工作区内（jixiao-xl init 建立）不需要任何参数。报告的“概览”与 jixiao-xl status 完全一致。
    找不到台账时说明查找的位置并退出（退出码 2），不会新建空台账。
    """
    from ..importer import ImportOptions, open_report_pool, rebuild_run, report_state
    from ..ledger import Ledger
    from ..master import load_master

    ledger_path = existing_ledger(ledger_path)
    master = load_master(master_or_default(master_path))
    checked = pick(None, lambda ws: ws.checked, Path("output/核对"))
    with Ledger.open(ledger_path) as ledger:
        if run_id is not None:
            run = ledger.run(run_id)
            if run is None:
                known = "、".join(str(r.id) for r in ledger.runs()) or "无"
                raise InputError(f"台账中没有第 {run_id} 次导入（已有：{known}）。请用 --run 指定其中之一。")
            target = Path(out_dir) if out_dir is not None else Path(run.out_dir or checked)
        else:
            target = _state_folder(Path(out_dir) if out_dir is not None else checked)
        options = ImportOptions(paths=(), out_dir=target, ledger_path=ledger_path, jobs=jobs or default_jobs(),
                                password=pick(password, lambda ws: ws.password, "jixiao"),
                                manifest_path=pick(manifest_path, lambda ws: ws.manifest, DEFAULT_MANIFEST),
                                deadline=pick(deadline, lambda ws: ws.deadline, ""),
                                project_template=pick(template, lambda ws: ws.project_template, None),
                                dept_template=pick(dept_template, lambda ws: ws.dept_template, None))
        pool = open_report_pool(master, options, ledger)
        try:
            if run_id is not None:
                result = rebuild_run(pool, ledger, master, options, run_id)
                if ledger.run(run_id).reported_at is None and out_dir is None:
                    ledger.mark_reported(run_id)
            else:
                result = report_state(pool, ledger, master, options)
        finally:
            pool.shutdown()
    failed = echo_run(result)
    return EXIT_FINDINGS if failed else EXIT_OK


def _state_folder(base: Path) -> Path:
    """A new folder under ``base`` for a report of the current state (never one an earlier report used)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target, n = base / f"{stamp}-{STATE_LABEL}", 2
    while target.exists():
        target, n = base / f"{stamp}-{STATE_LABEL}({n})", n + 1
    return target
