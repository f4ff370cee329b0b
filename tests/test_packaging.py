"""The installed package carries its data: form templates, text templates and the sample."""

from __future__ import annotations

import os
from pathlib import Path

import jixiao_xl
from jixiao_xl.master import sample_dir
from jixiao_xl.resources import form_templates_dir, text_templates_dir


def test_package_data_is_found():
    assert {p.name for p in form_templates_dir().glob("*.xlsx")} == {"项目支出绩效目标表.xlsx", "部门整体支出绩效目标表.xlsx"}
    assert (form_templates_dir() / "README.md").is_file()
    assert {p.name for p in form_templates_dir().glob("*.spec.json")} == {"项目支出绩效目标表.spec.json",
                                                                         "部门整体支出绩效目标表.spec.json"}
    assert {"填报说明.txt.j2", "通知.txt.j2", "report.html.j2"} <= {p.name for p in text_templates_dir().iterdir()}
    assert len(list(sample_dir().glob("*.csv"))) == 7
    assert (form_templates_dir() / "预算公开.docx").is_file()
    assert {"公开.html.j2"} <= {p.name for p in text_templates_dir().iterdir()}
    fonts = Path(jixiao_xl.__file__).resolve().parent / "fonts"
    assert (fonts / "JixiaoKai-GB2312.ttf").is_file() and (fonts / "OFL.txt").is_file()


def test_ci_tests_the_installed_wheel_not_the_source_tree():
    # CI installs with a plain `pip install '.[test]'` (no -e), so a file missing from the wheel fails here.
    if not os.environ.get("CI"):
        return
    package = Path(jixiao_xl.__file__).resolve().parent
    assert "site-packages" in package.parts
    assert form_templates_dir().resolve().is_relative_to(package)
    assert text_templates_dir().resolve().is_relative_to(package)


def _readme_commands() -> list[str]:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_test_command_is_the_one_ci_runs():
    root = Path(__file__).resolve().parents[1]
    demo, tests = _readme_commands()
    assert demo.endswith("jixiao-xl demo")
    assert tests == "bash tools/run-tests.sh"
    assert "tools/run-tests.sh" in (root / ".ci" / "run").read_text(encoding="utf-8")


def test_test_script_works_as_root_without_sudo():
    script = (Path(__file__).resolve().parents[1] / "tools" / "run-tests.sh").read_text(encoding="utf-8")
    # apt-get runs directly as root and through sudo otherwise; no line starts with a bare sudo.
    assert not any(line.strip().startswith("sudo apt-get") for line in script.splitlines())
    assert 'if [ "$(id -u)" -eq 0 ]; then' in script and 'sudo "$@"' in script


def test_site_templates_publishing_template_and_font_are_shipped():
    package = Path(jixiao_xl.__file__).resolve().parent
    assert (package / "serve" / "templates" / "unit.html").is_file()
    assert (package / "serve" / "static" / "style.css").is_file()
    assert (form_templates_dir() / "预算公开.docx").is_file()
    assert (package / "fonts" / "OFL.txt").is_file() and list((package / "fonts").glob("*.ttf"))
