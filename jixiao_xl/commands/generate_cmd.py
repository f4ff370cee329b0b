"""`jixiao-xl generate` and `jixiao-xl template check`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import click

from ..console import echo_findings, progress, severity_summary
from ..errors import EXIT_FINDINGS, EXIT_OK
from ..findings import Finding, has_errors
from ..runtime import default_jobs
from .common import active_workspace, chinese, examples, master_or_default, pick

if TYPE_CHECKING:
    from ..precheck import IssueCheck

SHOWN_ISSUED_FINDINGS = 200  # errors in the issued data printed one by one; `master check` lists them all


@chinese.command("generate", epilog=examples(
    ("在工作区中：先检查主数据，再为全部单位生成表格，放到 下发/", "cd 2026年绩效目标 && jixiao-xl generate"),
    ("只为单位 435001 重新生成", "cd 2026年绩效目标 && jixiao-xl generate --unit 435001"),
    ("在工作区外：指定主数据、输出文件夹和报送截止日期",
     "jixiao-xl generate --master 主数据.xlsx --out 下发 --deadline 2026年3月15日")))
@click.option("--master", "master_path", default=None, type=click.Path(path_type=Path),
              help="主数据文件（.xlsx、CSV 文件夹或 .json）。默认：工作区的主数据；工作区外为当前文件夹的 主数据.xlsx 或 master.xlsx。")
@click.option("--template", "template", type=click.Path(dir_okay=False, path_type=Path),
              help="自定义的项目支出绩效目标表模板（默认：工作区配置的模板，否则自带模板）。")
@click.option("--dept-template", "dept_template", type=click.Path(dir_okay=False, path_type=Path),
              help="自定义的部门整体支出绩效目标表模板（默认：工作区配置的模板，否则自带模板）。")
@click.option("--out", "out_dir", default=None, type=click.Path(path_type=Path),
              help="生成的工作簿、通知和 manifest.csv 放在这个文件夹（默认：工作区的 下发/；工作区外为 output/下发）。")
@click.option("--ledger", "ledger_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="记录每份下发工作簿及其模板的台账（默认：工作区的台账；工作区外为输出文件夹旁的 ledger.sqlite）。")
@click.option("--unit", "units", multiple=True, help="只为这个单位编码生成，可重复填写多个。")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="并行进程数（默认等于 CPU 核数）。")
@click.option("--password", default=None, help="工作表保护密码（默认：工作区配置的密码，否则 jixiao）。")
@click.option("--deadline", default=None, help="报送截止日期，写入填报说明和通知，例如 “2025年3月15日”（默认：工作区配置的日期）。")
@click.option("--force", is_flag=True,
              help="主数据中下发给单位的内容（单位、项目编码和名称、预算数、资金来源）有错误时仍然生成，并在 manifest.csv 和台账中标明。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def generate_command(master_path: Path | None, template: Path | None, dept_template: Path | None,
                     out_dir: Path | None, ledger_path: Path | None, units: tuple[str, ...], jobs: int | None,
                     password: str | None, deadline: str | None, force: bool) -> int:
    """先检查主数据，再按模板为每个单位生成绩效目标表工作簿（已锁定、带下拉框和即时校验）。

    \b
    在工作区内（jixiao-xl init 建立）不需要任何参数：读取工作区的主数据和模板，写到 下发/，
    并把每份工作簿和所用模板记入工作区的台账。在工作区外用 --master、--out 等参数指定路径。

    主数据中下发给单位、表内锁定的内容（单位、项目编码和名称、预算数、财政资金、其他资金、设置）有错误时不生成任何文件，
    退出码 1；预填的绩效指标、支出计划、绩效目标中的问题由单位填报时改正，只汇总提示，不影响下发。
    """
    from ..generate import GenerateOptions, generate
    from ..master import load_master
    from ..precheck import check_before_issue

    master_path = master_or_default(master_path)
    out_dir = pick(out_dir, lambda ws: ws.issued, Path("output/下发"))
    master = load_master(master_path)
    check = check_before_issue(master_path, master, units)
    _echo_issue_check(check, master_path)
    if check.blocks and not force:
        click.echo(f"主数据 {master_path} 中下发给单位的内容有 {check.issued_errors} 处错误，未生成任何文件。"
                   "请按上面列出的单元格改正主数据后重新运行；确需先下发的，加 --force 强制生成。")
        return EXIT_FINDINGS
    options = GenerateOptions(
        out_dir=out_dir, project_template=pick(template, lambda ws: ws.project_template, None),
        dept_template=pick(dept_template, lambda ws: ws.dept_template, None), units=units,
        jobs=jobs or default_jobs(), password=pick(password, lambda ws: ws.password, "jixiao"),
        deadline=pick(deadline, lambda ws: ws.deadline, ""),
        ledger_path=pick(ledger_path, lambda ws: ws.ledger, out_dir.parent / "ledger.sqlite"), force=check.blocks,
        links=_notice_links(master, units))
    count = len(units) if units else len(master.units)
    with progress(count, "生成工作簿") as bar:
        issued = generate(master, master_path, options, on_done=lambda item: bar.advance())
    projects = sum(item.projects for item in issued)
    click.echo(f"已为 {len(issued)} 个单位生成工作簿（共 {projects} 个项目表），保存在：{out_dir}")
    click.echo(f"下发清单：{out_dir / 'manifest.csv'}")
    click.echo(f"已记入台账：{options.ledger_path}")
    if options.force:
        click.echo(f"注意：已按 --force 强制下发，主数据中下发内容仍有 {check.issued_errors} 处错误；"
                   "下发清单的“强制下发”列已标为“是”，台账也已记录。改正主数据后请重新生成并下发。")
    return EXIT_OK


def _echo_issue_check(check: IssueCheck, master_path: Path) -> None:
    """Print the errors in the issued data one by one, and what the units will be asked to fix as counts by rule."""
    if check.issued:
        click.echo(f"主数据 {master_path} 中下发给单位、表内锁定的内容有问题：")
        echo_findings(check.issued, limit=SHOWN_ISSUED_FINDINGS)
    if check.for_units:
        click.echo(f"单位填报部分（预填的绩效指标、支出计划、绩效目标等）有 {len(check.for_units)} 处问题"
                   f"（{severity_summary(check.for_units)}），不影响下发，单位报回后核对时会要求改正"
                   f"（逐条查看：jixiao-xl master check {master_path}）：")
        for line in _rule_counts(check.for_units):
            click.echo(f"  {line}")


def _rule_counts(findings: Iterable[Finding]) -> list[str]:
    """'R-C3 成本指标…：6 处' per rule, most frequent first."""
    from .. import catalogue

    counts = Counter(f.rule for f in findings)
    return [f"{code} {catalogue.get(code).title}：{n} 处" for code, n in
            sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _notice_links(master, units: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each unit's upload link for its notice, when the workspace names its site (``[serve] base_url``)."""
    from ..serve.links import unit_links

    workspace = active_workspace()
    if workspace is None or not workspace.base_url:
        return ()
    codes = units or tuple(unit.code for unit in master.units)
    return tuple(unit_links(workspace, [code for code in codes if code in {u.code for u in master.units}]).items())


@chinese.group("template", epilog=examples(
    ("检查自定义的项目支出绩效目标表模板", "jixiao-xl template check 项目表模板.xlsx"),
    ("检查自定义的部门整体支出绩效目标表模板", "jixiao-xl template check 部门整体表模板.xlsx")))
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def template_group() -> None:
    """模板：检查自定义的表格模板。"""


@template_group.command("check", epilog=examples(
    ("在工作区中：检查工作区里的项目表模板，通过后把文件名填入 jixiao.toml 的 project_template",
     "cd 2026年绩效目标 && jixiao-xl template check 项目表模板.xlsx"),
    ("检查部门整体支出绩效目标表模板（通过后在 jixiao.toml 的 dept_template 中填写）",
     "jixiao-xl template check 部门整体表模板.xlsx")))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def template_check(path: Path) -> int:
    """检查模板 PATH：未知字段、缺少明细行、占位符写在合并单元格内部等。"""
    from ..template import check_template, compile_template, is_extra

    findings = check_template(path)
    if not findings:
        spec = compile_template(path)
        kind = "项目支出绩效目标表" if spec.kind == "project" else "部门整体支出绩效目标表"
        click.echo(f"模板 {path} 检查通过：{kind}模板，{len(spec.fields)} 个字段，明细行在第 {spec.repeat_row + 1} 行。")
        extras = [name.split(".", 1)[1] for name in spec.fields if is_extra(name)]
        if extras:
            click.echo(f"附加填写项 {len(extras)} 个：{'、'.join(extras)}（生成后为浅黄色、可填写，回收时读回）。")
        return EXIT_OK
    echo_findings(findings)
    click.echo(f"模板 {path}：{severity_summary(findings)}。")
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK
