"""The command line's contract: Chinese help and messages, exit codes 0/1/2 (DESIGN §8)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import jixiao_xl.commands as commands_package
from jixiao_xl.cli import SUBCOMMANDS, cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_help_is_chinese():
    result = invoke("--help")
    assert result.exit_code == 0
    assert "用法：jixiao-xl [选项] 命令 [参数]..." in result.output
    assert "选项：" in result.output and "命令：" in result.output
    for command in ("master", "generate", "rules", "template"):
        assert command in result.output


def test_unknown_command_is_a_usage_error_in_chinese():
    result = invoke("frobnicate")
    assert result.exit_code == 2
    assert "用法错误：没有这个命令 'frobnicate'" in result.output
    assert "Traceback" not in result.output


def test_master_init_and_check_sample(tmp_path):
    path = tmp_path / "s.xlsx"
    result = invoke("master", "init", "--sample", str(path))
    assert result.exit_code == 0 and "已写出示例主数据" in result.output
    check = invoke("master", "check", str(path))
    assert check.exit_code == 1
    assert "[错误] 项目!L4 R-F5：支出计划“12月底”没有填写" in check.output  # 统一着装经费


def test_master_init_refuses_to_overwrite(tmp_path):
    path = tmp_path / "s.xlsx"
    path.write_bytes(b"keep me")
    result = invoke("master", "init", str(path))
    assert result.exit_code == 2 and "已存在" in result.output
    assert path.read_bytes() == b"keep me"
    assert invoke("master", "init", "--force", str(path)).exit_code == 0


def test_empty_master_checks_clean(tmp_path):
    path = tmp_path / "empty.xlsx"
    assert invoke("master", "init", str(path)).exit_code == 0
    result = invoke("master", "check", str(path))
    assert result.exit_code == 0 and "检查通过" in result.output


def test_missing_master_exits_2(tmp_path):
    result = invoke("master", "check", str(tmp_path / "none.xlsx"))
    assert result.exit_code == 2
    assert result.output.startswith("错误：找不到主数据文件")


def test_rules_lists_codes_with_chinese_titles():
    result = invoke("rules")
    assert result.exit_code == 0
    assert "M-DUP-PROJECT" in result.output and "T-UNKNOWN-FIELD" in result.output
    assert "【主数据检查】" in result.output


def test_debug_shows_traceback_for_internal_errors(tmp_path, monkeypatch):
    import jixiao_xl.precheck as precheck

    def boom(path):
        raise RuntimeError("boom")

    monkeypatch.setattr(precheck, "check_master_with_rules", boom)
    quiet = invoke("master", "check", str(tmp_path / "x.xlsx"))
    assert quiet.exit_code == 2 and "程序内部错误（RuntimeError）" in quiet.output
    loud = invoke("--debug", "master", "check", str(tmp_path / "x.xlsx"))
    assert isinstance(loud.exception, RuntimeError)


def test_master_check_runs_the_domain_rules_on_prefilled_indicators(tmp_path):
    path = tmp_path / "s.xlsx"
    invoke("master", "init", "--sample", str(path))
    result = invoke("master", "check", str(path))
    assert result.exit_code == 1
    assert "[错误] 绩效指标!G33 R-C1" in result.output      # 政务外网费用: 7.9 万元 above its 5.00 budget
    assert "[警告] 绩效指标!F17 R-R3" in result.output      # ≥ on 服装质量破损率
    assert "[错误] 项目!L4 R-F5" in result.output           # 统一着装经费: 12月底 blank
    structural = invoke("master", "check", "--no-rules", str(path))
    assert structural.exit_code == 0 and "检查通过" in structural.output  # its structure is sound


def test_a_mistyped_command_gets_a_suggestion_from_the_whole_table():
    result = invoke("stauts")
    assert result.exit_code == 2
    assert "用法错误：没有这个命令 'stauts'. 您是否想输入 'status'?" in result.output


def test_help_lists_every_command_without_importing_one():
    # The root group is lazy (cli.SUBCOMMANDS): `jixiao-xl --help` must not pay for every command module.
    code = ("import sys; from click.testing import CliRunner; from jixiao_xl.cli import cli; "
            "out = CliRunner().invoke(cli, ['--help']).output; "
            "print(sorted(m for m in sys.modules if m.startswith('jixiao_xl.commands.') and not m.endswith('.common'))); "
            "print(out)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, _, help_text = done.stdout.partition("\n")
    assert loaded == "[]"
    listed = help_text.split("命令：\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in listed.splitlines() if not line.startswith("    ")] == sorted(SUBCOMMANDS)
    assert "  status       各单位的下发、报送和问题情况：谁已报送、谁还没有报送、还有多少错误。" in listed


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_the_table_names_each_command_and_its_summary(name):
    command = SUBCOMMANDS[name].load()
    assert command.name == name
    for limit in (10, 33, 45, 78, 200):  # the listing shortens the summary to the terminal's width
        shown = click.Command(name, help=SUBCOMMANDS[name].summary).get_short_help_str(limit)
        assert shown == command.get_short_help_str(limit)


def test_every_command_module_command_is_in_the_table():
    tabled = {entry.target for entry in SUBCOMMANDS.values()}
    folder = Path(commands_package.__file__).parent
    for module_path in sorted(folder.glob("*_cmd.py")):
        module = importlib.import_module(f"jixiao_xl.commands.{module_path.stem}")
        found = {name: value for name, value in vars(module).items() if isinstance(value, click.Command)}
        nested = {id(sub) for value in found.values() if isinstance(value, click.Group) for sub in value.commands.values()}
        for name, value in found.items():
            if id(value) not in nested:
                assert f"{module_path.stem}:{name}" in tabled, f"{module_path.stem}.{name} is missing from cli.SUBCOMMANDS"
