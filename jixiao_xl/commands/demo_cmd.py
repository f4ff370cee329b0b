"""`jixiao-xl demo`: the whole cycle on the bundled sample."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli import cli, examples
from ..errors import EXIT_OK


@cli.command("demo", epilog=examples(
    ("用自带示例走一遍完整流程，输出到 output/演示（不需要工作区）", "jixiao-xl demo"),
    ("输出到指定的文件夹", "jixiao-xl demo --out 演示")))
@click.option("--out", "out_dir", default=Path("output/演示"), show_default=True, type=click.Path(path_type=Path),
              help="演示输出文件夹（重新运行时会清空上一次的演示输出）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def demo_command(out_dir: Path) -> int:
    """用自带示例走一遍完整流程：主数据 → 生成下发表格 → 模拟各单位报回 → 核对 → 重新报送 → 汇总。"""
    from ..demo import run_demo

    click.echo("jixiao-xl 演示：巨鹿县行政审批局本级（原始文件）及两个演示单位")
    run_demo(out_dir, say=click.echo)
    click.echo(f"演示完成，全部输出在：{out_dir}")
    return EXIT_OK
