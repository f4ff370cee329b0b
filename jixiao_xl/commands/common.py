"""What the command line's modules share: Chinese help, the 示例 epilog, the workspace and the common options.

cli.py (the root group, its table of subcommands and the one place errors become messages) and every module
under commands/ import from here; no command module imports cli.py. A command is made with
``@chinese.command(...)`` or ``@chinese.group(...)`` and belongs to no group until the root group imports it
by the name its table gives (see :data:`jixiao_xl.cli.SUBCOMMANDS`).
"""

from __future__ import annotations

from pathlib import Path

import click

from ..workspace import Workspace, default_master, find_workspace, require_ledger

_HEADINGS = {"Options": "选项", "Commands": "命令", "Arguments": "参数"}
EXAMPLES_HEADING = "示例"
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ChineseFormatter(click.HelpFormatter):
    """Click's help layout with Chinese headings."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        args = args.replace("[OPTIONS]", "[选项]").replace("COMMAND", "命令").replace("[ARGS]", "[参数]")
        super().write_usage(prog, args, prefix="用法：")

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")


class ChineseContext(click.Context):
    formatter_class = ChineseFormatter


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
    """A group whose help is Chinese (and whose commands and groups are Chinese too)."""

    context_class = ChineseContext
    command_class = ChineseCommand


ChineseGroup.group_class = ChineseGroup


class _ChineseDecorators:
    """click's ``command`` and ``group`` decorators making :class:`ChineseCommand` and :class:`ChineseGroup`."""

    @staticmethod
    def command(name: str | None = None, **attrs):
        """``@chinese.command("rules", epilog=examples(…))``: a Chinese command, in no group yet."""
        return click.command(name, cls=ChineseCommand, **attrs)

    @staticmethod
    def group(name: str | None = None, **attrs):
        """``@chinese.group("template", epilog=examples(…))``: a Chinese group, in no group yet."""
        return click.group(name, cls=ChineseGroup, **attrs)


chinese = _ChineseDecorators()


# ---------------------------------------------------------------------------------------------------------
# The workspace of this invocation, and the paths a command takes from it

_LOADED = "workspace_loaded"


def active_workspace() -> Workspace | None:
    """The workspace of this invocation (``--workspace``, ``JIXIAO_WORKSPACE`` or the current folder's), found
    once per command line; None outside any workspace."""
    root = click.get_current_context().find_root()
    root.ensure_object(dict)
    if _LOADED not in root.obj:
        root.obj[_LOADED] = find_workspace(root.obj.get("workspace"))
    return root.obj[_LOADED]


def master_or_default(master_path: Path | None) -> Path:
    """``--master`` when given, else the workspace's master, else ./主数据.xlsx or ./master.xlsx."""
    return master_path if master_path is not None else default_master(active_workspace())


def pick(explicit, from_workspace, outside):
    """The value a command uses: the explicit flag, else the workspace's, else the old default outside one."""
    if explicit is not None:
        return explicit
    workspace = active_workspace()
    return from_workspace(workspace) if workspace is not None else outside


DEFAULT_LEDGER = Path("output/ledger.sqlite")
DEFAULT_MANIFEST = Path("output/下发/manifest.csv")
MASTER_OPTION = click.option("--master", "master_path", default=None, type=click.Path(path_type=Path),
                             help="主数据文件（.xlsx、CSV 文件夹或 .json）。默认：工作区的主数据；"
                                  "工作区外为当前文件夹的 主数据.xlsx 或 master.xlsx。")
LEDGER_OPTION = click.option("--ledger", "ledger_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
                             help=f"导入台账（SQLite 文件）。默认：工作区的台账；工作区外为 {DEFAULT_LEDGER}。")


def ledger_or_default(ledger_path: Path | None) -> Path:
    """``--ledger`` when given, else the workspace's ledger, else output/ledger.sqlite."""
    return pick(ledger_path, lambda ws: ws.ledger, DEFAULT_LEDGER)


def existing_ledger(ledger_path: Path | None) -> Path:
    """The ledger of a command that only reads state: it must exist (such a command never creates one)."""
    return require_ledger(ledger_or_default(ledger_path), active_workspace() if ledger_path is None else None)
