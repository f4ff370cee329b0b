"""`jixiao-xl rules`: the rule catalogue in Chinese, with codes."""

from __future__ import annotations

import json

import click

from ..catalogue import Rule, all_rules
from ..findings import SEVERITY_ZH
from .common import chinese, examples


@chinese.command("rules", epilog=examples(
    ("列出全部检查规则（在工作区内外都一样）", "jixiao-xl rules"),
    ("保存为文本文件，供查阅或打印", "jixiao-xl rules > 检查规则.txt"),
    ("以 JSON 输出，供脚本使用", "jixiao-xl rules --json")))
@click.option("--json", "as_json", is_flag=True,
              help="以 JSON 输出（每条规则含 code、severity、category、title、fix、source、audience），供脚本使用。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def rules(as_json: bool) -> int:
    """列出全部检查规则：编码、严重程度、说明、修改方法和依据。"""
    if as_json:
        click.echo(json.dumps([_as_dict(rule) for rule in all_rules()], ensure_ascii=False, indent=1))
        return 0
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


def _as_dict(rule: Rule) -> dict[str, str]:
    """One rule as the JSON listing gives it."""
    return {"code": rule.code, "severity": rule.severity, "category": rule.category, "title": rule.title,
            "fix": rule.fix, "source": rule.source, "audience": rule.audience}
