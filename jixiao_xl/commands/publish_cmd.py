"""`jixiao-xl publish`: the 预算公开 documents (DOCX, PDF, HTML), one per unit (DESIGN §10)."""

from __future__ import annotations

from pathlib import Path

import click

from ..console import echo_findings
from ..errors import EXIT_FINDINGS, EXIT_OK, InputError
from .common import DEFAULT_LEDGER, MASTER_OPTION, chinese, examples, master_or_default, pick

DEFAULT_OUT = Path("output/公开")


def parse_formats(text: str) -> tuple[str, ...]:
    """'docx,pdf' → ('docx', 'pdf'); InputError naming the unknown ones."""
    from ..publish import FORMATS

    wanted = [part.strip().lower() for part in text.replace("，", ",").split(",") if part.strip()]
    unknown = [w for w in wanted if w not in FORMATS]
    if unknown or not wanted:
        raise InputError(f"不支持的格式：{'、'.join(unknown) or '（空）'}；--format 可填 docx、pdf、html 中的一个或几个，用逗号分隔。")
    return tuple(dict.fromkeys(wanted))


@chinese.command("publish", epilog=examples(
    ("在工作区中：按主数据和台账写出全部单位的公开文本，放到 公开/",
     "cd 2026年绩效目标 && jixiao-xl publish"),
    ("在工作区外：只公开单位 435001，只要 PDF，写到 output/公开",
     "jixiao-xl publish --master 主数据.xlsx --ledger ledger.sqlite --unit 435001 --format pdf"),
    ("只按主数据公开，使用自己的 Word 模板（在自带的 预算公开.docx 基础上修改）",
     "jixiao-xl publish --master 主数据.xlsx --docx-template 我的公开模板.docx --format docx")))
@click.option("--unit", "units", multiple=True, metavar="单位编码", help="只公开这个单位（可重复；默认全部单位）。")
@MASTER_OPTION
@click.option("--ledger", "ledger_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help=f"导入台账（只读取，从不新建）；报送过的单位按其有效报送公开。默认：工作区的台账；"
                   f"工作区外为 {DEFAULT_LEDGER}（若存在），否则只按主数据公开。")
@click.option("--out", "out_dir", default=None, type=click.Path(path_type=Path),
              help=f"公开文档写到这个文件夹（默认：工作区的 公开/，工作区外为 {DEFAULT_OUT}）。")
@click.option("--format", "format_text", default="docx,pdf,html", show_default=True,
              help="输出格式：docx、pdf、html，用逗号分隔。")
@click.option("--force", is_flag=True, help="报送仍有错误的单位也照样公开（默认拒绝并列出错误）。")
@click.option("--docx-template", type=click.Path(dir_okay=False, path_type=Path),
              help="自定义的 Word 模板（在内置模板 预算公开.docx 基础上修改）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def publish_command(units, master_path, ledger_path, out_dir, format_text, force, docx_template) -> int:
    """写出各单位的预算公开文本（部门整体绩效目标和预算项目绩效目标表），格式与公开的原件一致。

    \b
    在工作区内（jixiao-xl init 建立）不需要任何参数：读取工作区的主数据和台账，文档写到 公开/。
    报送过的单位按其有效报送公开（审核通过的报送优先，与 status、consolidate 相同）；未报送的单位按主数据公开。
    """
    from ..ledger import Ledger
    from ..master import load_master
    from ..publish import publish_units

    formats = parse_formats(format_text)
    master = load_master(master_or_default(master_path))
    codes = list(dict.fromkeys(units)) or [u.code for u in master.units]
    unknown = [c for c in codes if master.unit(c) is None]
    if unknown:
        raise InputError(f"主数据中没有单位 {'、'.join(unknown)}；请检查 --unit 的单位编码。")
    if docx_template is not None and not docx_template.is_file():
        raise InputError(f"找不到 Word 模板 {docx_template}；请检查 --docx-template 的路径。")
    if ledger_path is not None and not ledger_path.exists():
        raise InputError(f"找不到台账 {ledger_path}；请检查 --ledger 的路径，或不指定台账只按主数据公开。")
    out_dir = pick(out_dir, lambda ws: ws.public, DEFAULT_OUT)
    ledger_path = _ledger_to_read(ledger_path)
    if ledger_path is None:
        click.echo("未使用台账：全部单位按主数据公开。")

    def report(publication, paths) -> None:
        click.echo(f"{publication.unit_line}（数据来自{publication.source}）：{'、'.join(p.name for p in paths)}")

    if ledger_path is None:
        result = publish_units(master, None, codes, out_dir, formats, force, docx_template, report)
    else:
        with Ledger.open_readonly(ledger_path) as ledger:
            result = publish_units(master, ledger, codes, out_dir, formats, force, docx_template, report)
    for code, publication in result.forced.items():
        click.echo(f"注意：{publication.unit_line} 的报送仍有 {len(publication.open_errors)} 个错误，已按 --force 照样公开。")
    for code, missing in result.missing_characters.items():
        click.echo(f"注意：单位 {code} 的文本中有 PDF 字体没有的字：{missing}，这些字在 PDF 中显示为空白。"
                   "请安装含这些字的中文 TrueType 字体（如文泉驿正黑 fonts-wqy-zenhei）后重新公开，或使用 DOCX、HTML 版本。")
    for code, publication in result.refused.items():
        click.echo(f"未公开 {publication.unit_line}：其报送（{publication.source}）仍有 {len(publication.open_errors)} 个错误，"
                   "请先退回修改并重新导入，或加 --force 照样公开：")
        echo_findings(publication.open_errors, limit=20)
    if result.written:
        click.echo(f"已写出 {len(result.written)} 个单位的公开文档：{out_dir}")
    return EXIT_FINDINGS if result.refused else EXIT_OK


def _ledger_to_read(explicit: Path | None) -> Path | None:
    """The ledger publish reads: ``--ledger``, else the workspace's, else ``output/ledger.sqlite`` outside one;
    None when that default does not exist (then every unit is published from the master)."""
    chosen = pick(explicit, lambda ws: ws.ledger, DEFAULT_LEDGER)
    return chosen if explicit is not None or chosen.is_file() else None
