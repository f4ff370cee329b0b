"""`jixiao-xl generate` and `jixiao-xl template check`."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli import cli
from ..console import echo_findings, progress, severity_summary
from ..errors import EXIT_FINDINGS, EXIT_OK
from ..findings import has_errors
from ..parallel import default_jobs


@cli.command("generate")
@click.option("--master", "master_path", default="master.xlsx", show_default=True, type=click.Path(path_type=Path),
              help="主数据文件（.xlsx、CSV 文件夹或 .json）。")
@click.option("--template", "template", type=click.Path(dir_okay=False, path_type=Path),
              help="自定义的项目支出绩效目标表模板（默认使用自带模板）。")
@click.option("--dept-template", "dept_template", type=click.Path(dir_okay=False, path_type=Path),
              help="自定义的部门整体支出绩效目标表模板（默认使用自带模板）。")
@click.option("--out", "out_dir", default=Path("output/下发"), show_default=True, type=click.Path(path_type=Path),
              help="生成的工作簿、通知和 manifest.csv 放在这个文件夹。")
@click.option("--unit", "units", multiple=True, help="只为这个单位编码生成，可重复填写多个。")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="并行进程数（默认等于 CPU 核数）。")
@click.option("--password", default="jixiao", show_default=True, help="工作表保护密码。")
@click.option("--deadline", default="", help="报送截止日期，写入填报说明和通知，例如 “2025年3月15日”。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def generate_command(master_path: Path, template: Path | None, dept_template: Path | None, out_dir: Path,
                     units: tuple[str, ...], jobs: int | None, password: str, deadline: str) -> int:
    """按模板为每个单位生成绩效目标表工作簿（已锁定、带下拉框和即时校验）。"""
    from ..generate import GenerateOptions, generate
    from ..master import load_master

    master = load_master(master_path)
    options = GenerateOptions(out_dir=out_dir, project_template=template, dept_template=dept_template, units=units,
                              jobs=jobs or default_jobs(), password=password, deadline=deadline)
    count = len(units) if units else len(master.units)
    with progress(count, "生成工作簿") as bar:
        issued = generate(master, master_path, options, on_done=lambda item: bar.advance())
    projects = sum(item.projects for item in issued)
    click.echo(f"已为 {len(issued)} 个单位生成工作簿（共 {projects} 个项目表），保存在：{out_dir}")
    click.echo(f"下发清单：{out_dir / 'manifest.csv'}")
    return EXIT_OK


@cli.group("template")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def template_group() -> None:
    """模板：检查自定义的表格模板。"""


@template_group.command("check")
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
