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
