"""`jixiao-xl init`: a year's workspace, the folder every other command takes its default paths from (DESIGN §10)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import EXIT_OK
from .common import chinese, examples


@chinese.command("init", epilog=examples(
    ("用自带示例数据建立工作区（巨鹿县行政审批局本级），先走一遍流程", "jixiao-xl init 2026年绩效目标 --sample"),
    ("建立 2026 年度的空白工作区，之后填写其中的 主数据.xlsx", "jixiao-xl init 2026年绩效目标 --year 2026"),
    ("补建已有工作区中缺少的文件夹（已有的配置和主数据不会被覆盖）", "jixiao-xl init 2026年绩效目标 --force")))
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--sample", is_flag=True, help="写入自带的示例主数据（巨鹿县行政审批局本级，六个项目），而不是空白主数据。")
@click.option("--year", type=click.IntRange(2000, 2100), default=None, help="预算年度（默认：示例数据的年度，或明年）。")
@click.option("--force", is_flag=True, help="文件夹不是空的时也继续：只补建缺少的部分，已有的配置和主数据不会被覆盖。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def init_command(folder: Path, sample: bool, year: int | None, force: bool) -> int:
    """建立一年的工作区 FOLDER：配置、主数据、各文件夹和台账，以后的命令都不需要路径参数。

    \b
    FOLDER 中写出 jixiao.toml（配置）、主数据.xlsx（空白，或加 --sample 为示例数据）、
    下发/ 收件/ 原件/ 核对/ 汇总/ 公开/ 和台账 ledger.sqlite。
    之后在该文件夹（或其子文件夹）中运行 generate、import、status、consolidate 等命令，都不需要路径参数；
    也可以在别处用 --workspace FOLDER 或环境变量 JIXIAO_WORKSPACE 指定工作区。
    """
    from ..workspace import init_workspace

    result = init_workspace(folder, sample=sample, year=year, force=force)
    workspace = result.workspace
    if result.created:
        click.echo(f"已建立工作区 {workspace.root}（{workspace.year} 年度），新建：{'、'.join(result.created)}")
    else:
        click.echo(f"工作区 {workspace.root} 已完整，没有需要补建的内容。")
    click.echo(f"下一步：填好 {workspace.master.name} 后，在 {workspace.root} 中运行 “jixiao-xl master check”，"
               "再运行 “jixiao-xl generate”。")
    return EXIT_OK
