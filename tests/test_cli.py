"""The command line's contract: Chinese help and messages, exit codes 0/1/2 (DESIGN §8)."""

from __future__ import annotations

from click.testing import CliRunner

from jixiao_xl.cli import cli


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
