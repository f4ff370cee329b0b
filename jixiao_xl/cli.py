"""The `jixiao-xl` command line: Chinese help, one catch site, exit codes 0/1/2/130/143 (DESIGN §8).

SIGTERM and SIGINT stop the command together with every worker process it started: the handler kills the
workers first (a worker stuck in a template would otherwise keep the pools' shutdown waiting), then unwinds
the command (exit 143 for SIGTERM, 130 for SIGINT). Workers also die with the main process when it is
killed outright (see :func:`jixiao_xl.runtime.bind_to_parent`).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
import threading
from contextlib import contextmanager
from typing import Iterator

import click

from . import __version__
from .errors import (EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE, JixiaoError, Terminated,
                     clear_progress, os_fault_within)
from .runtime import allow_workers, stop_workers

_HEADINGS = {"Options": "选项", "Commands": "命令", "Arguments": "参数"}
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


class ChineseFormatter(click.HelpFormatter):
    """Click's help layout with Chinese headings."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = args.replace("[OPTIONS]", "[选项]").replace("COMMAND", "命令").replace("[ARGS]", "[参数]")
        super().write_usage(prog, args, prefix="用法：")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")


class ChineseContext(click.Context):
    formatter_class = ChineseFormatter


EXAMPLES_HEADING = "示例"


def examples(*pairs: tuple[str, str]) -> str:
    """A command's epilog: each (说明, command line) pair as a "# 说明" line followed by the command line.

    Write the workspace form first (``cd 2026年绩效目标 && jixiao-xl import``), then the form with flags
    outside a workspace. tests/test_help_examples.py parses every line against the commands' options.
    """
    return "\n".join(f"# {comment}\n{command}" for comment, command in pairs)


class _ExamplesEpilog:
    """Help that ends with the epilog as a 示例 section, laid out like 选项 and with every line kept as
    written (click would rewrap it into a paragraph and break the command lines)."""

    epilog: str | None

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not self.epilog:
            return
        with formatter.section(EXAMPLES_HEADING):
            for line in self.epilog.splitlines():
                formatter.write(f"{'':>{formatter.current_indent}}{line}\n")


class ChineseCommand(_ExamplesEpilog, click.Command):
    """A command whose help is Chinese."""

    context_class = ChineseContext


class ChineseGroup(_ExamplesEpilog, click.Group):
    """A group whose help is Chinese and whose ``main`` goes through :func:`run_cli` (also under CliRunner)."""

    context_class = ChineseContext
    command_class = ChineseCommand

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        code = run_cli(list(sys.argv[1:] if args is None else args), standalone=standalone_mode)
        if standalone_mode:
            sys.exit(code)
        return code


ChineseGroup.group_class = ChineseGroup

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _help_option(func):
    return click.help_option("-h", "--help", help="显示本帮助并退出。")(func)


@click.group(cls=ChineseGroup, context_settings=CONTEXT, epilog=examples(
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


def _commands() -> None:
    # Each stage's commands live in their own module; importing them registers them on `cli`.
    from . import commands  # noqa: F401


_commands()
