"""`jixiao-xl rules`: the rule catalogue in Chinese, with codes."""

from __future__ import annotations

import click

from ..catalogue import all_rules
from ..cli import cli, examples
from ..findings import SEVERITY_ZH


@cli.command("rules", epilog=examples(
    ("列出全部检查规则（在工作区内外都一样）", "jixiao-xl rules"),
    ("保存为文本文件，供查阅或打印", "jixiao-xl rules > 检查规则.txt")))
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def rules() -> int:
    """列出全部检查规则：编码、严重程度、说明、修改方法和依据。"""
    category = None
    for rule in all_rules():
        if rule.category != category:
            category = rule.category
            click.echo(f"\n【{category}】")
        click.echo(f"{rule.code}\t{SEVERITY_ZH[rule.severity]}\t{rule.title}")
        if rule.fix:
            click.echo(f"\t\t修改方法：{rule.fix}")
        if rule.source:
            click.echo(f"\t\t依据：{rule.source}")
    return 0
