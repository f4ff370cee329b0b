"""`jixiao-xl demo`: a year's workspace on the bundled sample, two import rounds, 汇总 and 公开."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import EXIT_FINDINGS, EXIT_OK
from .common import chinese, examples


@chinese.command("demo", epilog=examples(
    ("用自带示例建立一个演示工作区并走一遍一年的流程，输出到 output/演示", "jixiao-xl demo"),
    ("输出到指定的文件夹", "jixiao-xl demo --out 演示")))
@click.option("--out", "out_dir", default=Path("output/演示"), show_default=True, type=click.Path(path_type=Path),
              help="演示工作区所在的文件夹（重新运行时清空上一次的演示；不是演示建立的文件夹不会被清空）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def demo_command(out_dir: Path) -> int:
    """用自带示例走一遍一年的流程：建立工作区 → 生成下发表格 → 两轮报回和核对 → 汇总 → 预算公开。

    \b
    第一轮的收件中有一份填好的报送、一份擅自改了预算数的报送和一份原样发回的空白表；
    第二轮是改正后的重新报送。每轮之后把 jixiao-xl status 与该轮核对报告的“概览”逐个单位比对。
    演示结束后可以进入该文件夹，直接运行 jixiao-xl status、report、serve 等命令。
    """
    from ..demo import run_demo

    click.echo("jixiao-xl 演示：巨鹿县行政审批局本级（原始文件）及两个演示单位")
    demo = run_demo(out_dir, say=click.echo)
    if not demo.agrees:
        click.echo("注意：核对报告的“概览”与 status 不一致（见上面的“不一致”），这是程序的问题，请报告。")
        return EXIT_FINDINGS
    return EXIT_OK
