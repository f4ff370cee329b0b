"""Every command's --help ends with two or three real examples (issue 14, item 8).

Each example is taken from the rendered --help of every command and group (walking the groups' commands) and parsed
with click's own parser against the command it names: the command path exists and every option and argument
in it is one that command takes, with a valid value. A few are run for real in a temporary folder, exactly as
written: ``init``, ``generate``, ``status --json``, ``rules``.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.commands.common import CONTEXT, EXAMPLES_HEADING
from jixiao_xl.xlsx.sheetwriter import display_width

PROGRAM = "jixiao-xl"
SEPARATORS = ("&&", "|")
REDIRECTS = (">", "<")
CJK = re.compile(r"[\u4e00-\u9fff]")
HELP_WIDTH = CONTEXT["max_content_width"]


def every_command(command: click.Command = cli, path: tuple[str, ...] = ()):
    """(path, command) of the root group and of every group and command below it."""
    yield path, command
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):  # the root group imports its commands only when asked
            yield from every_command(command.get_command(context, name), (*path, name))


COMMANDS = list(every_command())


def help_of(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def examples_in(help_text: str) -> list[tuple[str, str]]:
    """The (comment, command line) pairs of the 示例 section that ends a --help."""
    heading = f"{EXAMPLES_HEADING}："
    lines = help_text.splitlines()
    assert heading in lines, f"no {heading} section:\n{help_text}"
    body = [line.strip() for line in lines[lines.index(heading) + 1:] if line.strip()]
    comments, commands = body[0::2], body[1::2]
    assert len(comments) == len(commands) and all(c.startswith("# ") for c in comments), body
    assert not any(c.startswith("#") for c in commands), body
    return [(comment[2:], command) for comment, command in zip(comments, commands)]


def invocations(line: str) -> list[tuple[str, ...]]:
    """The argument lists of the jixiao-xl runs in a shell line (``cd X && jixiao-xl …``, ``… > file``)."""
    runs, segment = [], []
    for token in [*shlex.split(line), SEPARATORS[0]]:
        if token in SEPARATORS:
            if segment and segment[0] == PROGRAM:
                runs.append(tuple(segment[1:]))
            segment = []
        else:
            segment.append(token)
    return [tuple(_without_redirects(run)) for run in runs]


def _without_redirects(args: tuple[str, ...]) -> list[str]:
    kept = []
    for token in args:
        if token in REDIRECTS:
            break
        kept.append(token)
    return kept


def command_path(args: tuple[str, ...]) -> tuple[str, ...]:
    """The command an argument list runs, after click has parsed every level of it (root options, group,
    command: unknown options, bad values, missing or extra arguments raise click's UsageError)."""
    command, ctx, name, args, path = cli, None, PROGRAM, list(args), []
    while True:
        ctx = command.make_context(name, list(args), parent=ctx)
        if not isinstance(command, click.Group):
            return tuple(path)
        _, rest, _ = command.make_parser(ctx).parse_args(list(args))
        name, command, args = command.resolve_command(ctx, rest)
        path.append(name)


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or PROGRAM for p, _ in COMMANDS])
def test_every_help_ends_with_two_or_three_examples_that_parse(path, command):
    pairs = examples_in(help_of(path))
    assert 2 <= len(pairs) <= 3, pairs
    for comment, line in pairs:
        assert CJK.search(comment), comment
        assert max(display_width(comment), display_width(line)) <= HELP_WIDTH - 4, (comment, line)  # no wrapping
        runs = invocations(line)
        assert runs, line
        for args in runs:
            try:
                ran = command_path(args)
            except click.UsageError as exc:
                pytest.fail(f"{' '.join(path)} 的示例 “{line}” 无法解析：{exc.format_message()}")
            # A group's examples run its commands; a command's examples run that command.
            assert (ran[:len(path)] if isinstance(command, click.Group) else ran) == path, (line, ran)


def uses_workspace(line: str) -> bool:
    return line.startswith("cd ") or " --workspace " in line


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or PROGRAM for p, _ in COMMANDS])
def test_the_workspace_form_comes_first(path, command):
    lines = [line for _, line in examples_in(help_of(path))]
    if path in {(), ("init",)} or not any(uses_workspace(line) for line in lines[1:]):
        return  # the root and init start by making the workspace; demo, rules and master init need none
    assert uses_workspace(lines[0]), lines


def test_a_wrong_option_in_an_example_would_be_caught():
    with pytest.raises(click.UsageError):
        command_path(("status", "--jsn"))
    with pytest.raises(click.UsageError):
        command_path(("consolidate", "--format", "docx"))
    with pytest.raises(click.UsageError):
        command_path(("nosuch",))
    assert command_path(("--workspace", "年", "token", "create")) == ("token", "create")


# ---------------------------------------------------------------------------------------------------------
# Run as written


def example(path: tuple[str, ...], k: int) -> str:
    return examples_in(help_of(path))[k][1]


def run_line(line: str, monkeypatch) -> list:
    """Run a shell example in-process: ``cd`` changes the folder, ``> file`` writes the output to that file."""
    results = []
    for segment in line.split(" && "):
        words = shlex.split(segment)
        if words[0] == "cd":
            monkeypatch.chdir(Path(words[1]))
            continue
        assert words[0] == PROGRAM, line
        args = _without_redirects(tuple(words[1:]))
        result = CliRunner().invoke(cli, args)
        if ">" in words:
            Path(words[words.index(">") + 1]).write_text(result.output, encoding="utf-8")
        results.append(result)
    return results


def test_init_generate_status_and_rules_examples_run_as_written(tmp_path, monkeypatch):
    monkeypatch.delenv("JIXIAO_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    [init] = run_line(example(("init",), 0), monkeypatch)
    assert init.exit_code == 0, init.output
    root = tmp_path / "2026年绩效目标"
    assert (root / "jixiao.toml").is_file() and "已建立工作区" in init.output

    [generated] = run_line(example(("generate",), 0), monkeypatch)
    assert generated.exit_code == 0, generated.output
    assert Path.cwd() == root
    assert (root / "下发" / "435001-巨鹿县行政审批局本级.xlsx").is_file() and (root / "下发" / "manifest.csv").is_file()

    monkeypatch.chdir(tmp_path)
    [status] = run_line(example(("status",), 1), monkeypatch)
    assert status.exit_code == 0, status.output
    [unit] = json.loads(status.output)["units"]
    assert unit["code"] == "435001" and unit["sent"] is True and unit["returned"] is False
    assert unit["contact_name"] == ""

    monkeypatch.chdir(tmp_path)
    [workspace_flag] = run_line(example((), 2), monkeypatch)
    assert workspace_flag.exit_code == 0 and "435001" in workspace_flag.output

    [listed] = run_line(example(("rules",), 0), monkeypatch)
    assert listed.exit_code == 0 and "R-C1" in listed.output
    [saved] = run_line(example(("rules",), 1), monkeypatch)
    assert saved.exit_code == 0
    assert (tmp_path / "检查规则.txt").read_text(encoding="utf-8") == listed.output
