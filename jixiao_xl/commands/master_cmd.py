"""`jixiao-xl master init|check`: create and check the master dataset (DESIGN §3)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import chinese as cli, examples
from ..console import echo_findings, severity_summary
from ..errors import EXIT_FINDINGS, EXIT_OK, InputError
from ..findings import has_errors, one_per_cell


@cli.group(epilog=examples(
    ("在工作区中：检查工作区的 主数据.xlsx", "cd 2026年绩效目标 && jixiao-xl master check"),
    ("在工作区外：写出空白主数据表", "jixiao-xl master init 主数据.xlsx")))
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def master() -> None:
    """主数据：建立空白主数据表，或检查已填好的主数据（在工作区内默认为工作区的 主数据.xlsx）。"""


@master.command("init", epilog=examples(
    ("写出空白主数据表（工作区的 主数据.xlsx 已由 jixiao-xl init 写出，不需要本命令）", "jixiao-xl master init 主数据.xlsx"),
    ("写出自带的示例数据，作为填写的参照", "jixiao-xl master init 示例主数据.xlsx --sample"),
    ("覆盖已有的文件", "jixiao-xl master init 主数据.xlsx --force")))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sample", is_flag=True, help="写入自带的示例数据（巨鹿县行政审批局本级，六个项目），而不是空表。")
@click.option("--force", is_flag=True, help="文件已存在时覆盖它（默认拒绝覆盖，以免误删数据）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def master_init(path: Path, sample: bool, force: bool) -> int:
    """在 PATH 写出主数据工作簿（含表头、下拉框和“说明”页）。

    \b
    使用工作区时不需要本命令：jixiao-xl init 已在工作区中写出 主数据.xlsx（加 --sample 为示例数据）。
    """
    from ..master import load_sample, write_master

    if path.exists() and not force:
        raise InputError(f"文件 {path} 已存在。为避免覆盖已有数据，请换一个文件名，或加 --force 确认覆盖。")
    write_master(path, load_sample() if sample else None)
    what = "示例主数据" if sample else "空白主数据"
    click.echo(f"已写出{what}：{path}")
    click.echo(f"下一步：填好后运行 “jixiao-xl master check {path}” 检查。")
    return EXIT_OK


@master.command("check", epilog=examples(
    ("在工作区中：检查工作区的主数据，并对预填的绩效指标运行填报规则", "cd 2026年绩效目标 && jixiao-xl master check"),
    ("只检查主数据结构，不运行填报规则", "cd 2026年绩效目标 && jixiao-xl master check --no-rules"),
    ("在工作区外：检查指定的主数据文件", "jixiao-xl master check 主数据.xlsx")))
@click.argument("path", required=False, default=None, type=click.Path(path_type=Path))
@click.option("--no-rules", is_flag=True, help="只检查主数据结构（工作表、列、设置、编码），不运行填报规则（资金、支出计划、绩效指标等）。")
@click.option("--errors-only", is_flag=True, help="只列出错误，不列警告和提示（退出码不变：有错误时为 1）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def master_check(path: Path | None, no_rules: bool, errors_only: bool) -> int:
    """检查主数据 PATH：编码重复、金额不平、支出计划不到位、指标层级不符等，
    并对预填的绩效指标运行填报规则（成本超预算、指标性质用反等），以免错误随表格下发。

    \b
    在工作区内（jixiao-xl init 建立）不指定 PATH 时检查工作区的主数据；
    工作区外默认检查当前文件夹的 主数据.xlsx 或 master.xlsx。
    """
    from .. import master as master_module
    from ..precheck import check_master_with_rules
    from .common import master_or_default

    path = master_or_default(path)

    findings = master_module.check_master(path) if no_rules else check_master_with_rules(path)
    unreadable = [f for f in findings if f.rule == "M-UNREADABLE"]
    if unreadable:
        raise InputError(unreadable[0].message)
    findings = one_per_cell(findings)
    if not findings:
        click.echo(f"主数据 {path} 检查通过，未发现问题。")
        return EXIT_OK
    shown = [f for f in findings if f.severity == "error"] if errors_only else findings
    echo_findings(shown)
    click.echo(f"主数据 {path}：{severity_summary(findings)}。")
    if errors_only and len(shown) < len(findings):
        click.echo(f"（按 --errors-only 只列出了错误；另有 {len(findings) - len(shown)} 条警告和提示未列出。）")
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK
