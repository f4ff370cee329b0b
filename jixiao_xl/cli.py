"""The `jixiao-xl` command line: Chinese help, one catch site, exit codes 0/1/2/130/143 (DESIGN §8).

The root group is lazy: :data:`SUBCOMMANDS` names, for every subcommand, the module under commands/ and the
attribute it lives in, with the summary ``jixiao-xl --help`` lists; a command's module is imported only when
that command runs or shows its own help. Command modules import what they share from :mod:`.commands.common`,
never this module.

SIGTERM and SIGINT stop the command together with every worker process it started: the handler kills the
workers first (a worker stuck in a template would otherwise keep the pools' shutdown waiting), then unwinds
the command (exit 143 for SIGTERM, 130 for SIGINT). Workers also die with the main process when it is
killed outright (see :func:`jixiao_xl.runtime.bind_to_parent`).
"""

from __future__ import annotations

import importlib
import signal
import sys
from pathlib import Path
import threading
from contextlib import contextmanager
from typing import Iterator, NamedTuple

import click

from . import __version__
from .commands.common import CONTEXT, ChineseGroup, examples
from .errors import (EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE, JixiaoError, Terminated,
                     clear_progress, os_fault_within)
from .runtime import allow_workers, stop_workers

_CLICK_MESSAGES = (
    ("No such option", "没有这个选项"),
    ("No such command", "没有这个命令"),
    ("Missing argument", "缺少参数"),
    ("Missing option", "缺少选项"),
    ("Invalid value for", "取值无效："),
    ("Got unexpected extra argument", "多余的参数"),
    ("Option '", "选项 '"),
    ("requires an argument", "需要一个值"),
    ("does not exist", "不存在"),
    ("is not a valid integer", "不是有效的整数"),
    ("Did you mean", "您是否想输入"),
)


class Subcommand(NamedTuple):
    """Where a subcommand lives (``module:attribute`` under jixiao_xl.commands) and the first paragraph of its
    help, which ``jixiao-xl --help`` shortens as click would (tests/test_cli.py checks the two agree)."""

    target: str
    summary: str

    def load(self) -> click.Command:
        """Import the command's module and return the command."""
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(f"{__package__}.commands.{module}"), attribute)


# In the order of the year (``jixiao-xl --help`` lists them alphabetically, as click always has).
SUBCOMMANDS: dict[str, Subcommand] = {
    "init": Subcommand("workspace_cmd:init_command", "建立一年的工作区 FOLDER：配置、主数据、各文件夹和台账，以后的命令都不需要路径参数。"),
    "master": Subcommand("master_cmd:master", "主数据：建立空白主数据表，或检查已填好的主数据（在工作区内默认为工作区的 主数据.xlsx）。"),
    "template": Subcommand("generate_cmd:template_group", "模板：检查自定义的表格模板。"),
    "generate": Subcommand("generate_cmd:generate_command",
                           "先检查主数据，再按模板为每个单位生成绩效目标表工作簿（已锁定、带下拉框和即时校验）。"),
    "read": Subcommand("read_cmd:read_command",
                       "只读取报回的表格（文件或文件夹），输出每个值的原文、规范化结果、所在单元格和定位方式，不做规则检查。"),
    "import": Subcommand("import_cmd:import_command",
                         "导入报回的表格（文件或文件夹）：逐格核对，写出核对报告、退回修改表、退回通知和催报名单，并记入台账。"),
    "status": Subcommand("import_cmd:status_command", "各单位的下发、报送和问题情况：谁已报送、谁还没有报送、还有多少错误。"),
    "report": Subcommand("report_cmd:report_command",
                         "不导入文件，按台账生成核对报告、退回修改表、退回通知和催报名单；--run N 重新生成某次导入的报告。"),
    "review": Subcommand("serve_cmd:review_command", "审核单位 UNIT 当前有效的报送：--pass 通过，或 --return 原因 退回。"),
    "consolidate": Subcommand("import_cmd:consolidate_command",
                              "按各单位最新一次有效报送汇总：总表、支出计划、绩效指标、明细（每个数字注明来源单元格）。"),
    "publish": Subcommand("publish_cmd:publish_command",
                          "写出各单位的预算公开文本（部门整体绩效目标和预算项目绩效目标表），格式与公开的原件一致。"),
    "serve": Subcommand("serve_cmd:serve_command",
                        "启动填报网站：各单位用专用链接上传报表、立即看到核对结果；主管部门登录后查看全部单位的报送情况。"),
    "links": Subcommand("serve_cmd:links_command", "列出各单位的专用填报链接（地址取自 jixiao.toml 的 [serve] base_url）。"),
    "user": Subcommand("serve_cmd:user_group", "主管部门工作人员的网站账号。"),
    "token": Subcommand("serve_cmd:token_group", "API 令牌：供脚本读取 /api/status。"),
    "rules": Subcommand("rules_cmd:rules", "列出全部检查规则：编码、严重程度、说明、修改方法和依据。"),
    "demo": Subcommand("demo_cmd:demo_command", "用自带示例走一遍一年的流程：建立工作区 → 生成下发表格 → 两轮报回和核对 → 汇总 → 预算公开。"),
}

# click >= 8.4 raises this for a mistyped command name and suggests close names; older click suggests none.
_NO_SUCH_COMMAND = getattr(click.exceptions, "NoSuchCommand", None)


class LazyChineseGroup(ChineseGroup):
    """The root group: its subcommands come from a table and are imported on first use (click's LazyGroup
    pattern); ``main`` goes through :func:`run_cli` (also under CliRunner)."""

    def __init__(self, *args, subcommands: dict[str, Subcommand], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.subcommands = subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.subcommands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = self.subcommands.get(cmd_name)
        return entry.load() if entry is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The 命令 section from the table's summaries, shortened as click shortens a command's help: listing
        the commands imports none of them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, click.Command(name, help=self.subcommands[name].summary).get_short_help_str(limit))
                for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """click's, suggesting close names from the whole table (click suggests from the commands it holds)."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            if _NO_SUCH_COMMAND is None or not isinstance(exc, _NO_SUCH_COMMAND):
                raise
            raise _NO_SUCH_COMMAND(exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        code = run_cli(list(sys.argv[1:] if args is None else args), standalone=standalone_mode)
        if standalone_mode:
            sys.exit(code)
        return code


def _help_option(func):
    return click.help_option("-h", "--help", help="显示本帮助并退出。")(func)


@click.group(cls=LazyChineseGroup, subcommands=SUBCOMMANDS, context_settings=CONTEXT, epilog=examples(
    ("建立一年的工作区（--sample 写入示例主数据），以后的命令都在其中运行", "jixiao-xl init 2026年绩效目标 --sample"),
    ("在工作区中：查看各单位的报送情况", "cd 2026年绩效目标 && jixiao-xl status"),
    ("不进入工作区：用 --workspace 指定工作区", "jixiao-xl --workspace 2026年绩效目标 status")))
@click.version_option(__version__, "--version", message="jixiao-xl %(version)s", help="显示版本号并退出。")
@click.option("--workspace", "workspace", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="工作区文件夹（默认：环境变量 JIXIAO_WORKSPACE，否则当前文件夹或其上级中含 jixiao.toml 的文件夹）。")
@click.option("--debug", is_flag=True, help="出错时显示完整的程序调用栈（供开发人员排查）。")
@_help_option
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None, debug: bool) -> None:
    """jixiao-xl：预算绩效目标表的下发、回收、核对与汇总工具。

    \b
    一年一个工作区：先用 “jixiao-xl init 文件夹” 建立，然后在该文件夹（或其子文件夹）中
    运行各个命令，不需要任何路径参数：
      1. init          建立工作区：jixiao.toml、主数据.xlsx、下发/ 收件/ 原件/ 核对/ 汇总/ 公开/ 和台账
      2. master check  填好 主数据.xlsx（单位、项目、绩效指标）后检查
      3. generate      按模板为每个单位生成已锁定、带下拉框的绩效目标表，放到 下发/
      4. import        导入 收件/ 中各单位报回的表格，逐格核对，报告和退回修改表放到 核对/
      5. status        各单位的报送情况
      6. consolidate   全局汇总到 汇总/，每个数字都能追溯到来源单元格
    在工作区外，用 --master、--out、--ledger 等参数指定路径。
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["workspace"] = workspace


def _translate_click_message(message: str) -> str:
    for english, chinese in _CLICK_MESSAGES:
        message = message.replace(english, chinese)
    return message


def run_cli(args: list[str], standalone: bool) -> int:
    """Run the CLI once; every outcome, expected or not, becomes a Chinese message and an exit code."""
    clear_progress()
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_failed_zip_close
    try:
        return _run(args)
    finally:
        allow_workers()
        sys.unraisablehook = previous_hook


def _quiet_failed_zip_close(unraisable) -> None:
    """Drop the OSError a half-written workbook's zip file raises again when it is garbage-collected.

    When the disk fills or a folder turns read-only while xlsxwriter writes a workbook, its zip file is left
    open; the failure itself has already become a plain answer, and the traceback Python prints for the
    second attempt to close it (in ``ZipFile.__del__``) would only frighten the reader.
    """
    if isinstance(unraisable.exc_value, OSError) and \
            getattr(unraisable.object, "__qualname__", "") == "ZipFile.__del__":
        return
    sys.__unraisablehook__(unraisable)


def _run(args: list[str]) -> int:
    debug = "--debug" in args
    try:
        with _signals_stop_workers():
            result = click.Group.main(cli, args=args, prog_name="jixiao-xl", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        stop_workers()
        click.echo("已中断。", err=True)
        return EXIT_INTERRUPTED
    except Terminated:
        stop_workers()
        click.echo("已终止（收到 SIGTERM）。", err=True)
        return EXIT_TERMINATED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.UsageError as exc:
        if debug:
            raise
        hint = f"\n请运行 “{exc.ctx.command_path} --help” 查看用法。" if exc.ctx is not None else ""
        click.echo(f"用法错误：{_translate_click_message(exc.format_message())}{hint}", err=True)
        return EXIT_USAGE
    except click.ClickException as exc:
        if debug:
            raise
        click.echo(f"错误：{_translate_click_message(exc.format_message())}", err=True)
        return exc.exit_code
    except JixiaoError as exc:
        if debug:
            raise
        click.echo(f"错误：{exc}", err=True)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the one place where unexpected failures become a message
        fault = os_fault_within(exc)
        if debug or fault is None:
            return _internal_error(exc, debug)
        click.echo(f"错误：{fault}", err=True)
        return fault.exit_code
    return result if isinstance(result, int) else EXIT_OK


def _internal_error(exc: Exception, debug: bool) -> int:
    if debug:
        raise exc
    click.echo(f"程序内部错误（{type(exc).__name__}）：{exc}。请加 --debug 重新运行并把输出发给维护人员。", err=True)
    return EXIT_USAGE


def _on_signal(signum: int, frame) -> None:
    """Kill the workers, then unwind the command: KeyboardInterrupt for SIGINT, :class:`Terminated` else."""
    stop_workers()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated


@contextmanager
def _signals_stop_workers() -> Iterator[None]:
    """Route SIGTERM and SIGINT to :func:`_on_signal` while a command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    sys.exit(run_cli(sys.argv[1:] if argv is None else list(argv), standalone=True))

