"""`jixiao-xl publish`: the 预算公开 document against the seed, from returns and masters, in three formats.

The PDF proofs extract the text with pdftotext and compare it with the seed's text (or, for the masters built
here, with the text their data must print), in order; pictures of the pages (pdftoppm) are written into
``output/tests/publish/`` (or $JIXIAO_TEST_OUTPUT) for a person to look at.
"""

from __future__ import annotations

import dataclasses
import json
import io
import os
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from jixiao_xl.cli import cli
from jixiao_xl.master import check_master, load_master, load_sample, write_master
from jixiao_xl.model import DeptGoal, DeptIndicator, DeptMeasure, Indicator, Master, PlanPoint, Project, Settings, Unit
from jixiao_xl.publish import indicator_phrase, publication_data, value_text
from jixiao_xl.publish.as_docx import default_template, render_docx
from jixiao_xl.publish.as_html import render_html
from jixiao_xl.publish.as_pdf import SHIPPED_FONT, FontChoice, pdf_font, render_pdf
from test_import import _fix_everything, cycle, returned, run_import  # noqa: F401 (cycle is a fixture)
from test_sample_seed import _seed_text

D = Decimal
UNIT = "435001"
OUTPUT = Path(os.environ.get("JIXIAO_TEST_OUTPUT") or Path(__file__).resolve().parents[1] / "output" / "tests" / "publish")
needs_poppler = pytest.mark.skipif(not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
                                   reason="poppler-utils (pdftotext, pdftoppm) not installed")


# ---------------------------------------------------------------------------------------------------------
# helpers


def pdf_text(pdf: bytes, tmp_path: Path, first: int | None = None, last: int | None = None) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return subprocess.run(["pdftotext", "-raw", *pages, str(path), "-"], capture_output=True, text=True, check=True).stdout


def page_count(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "count.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def save_pictures(pdf: bytes, name: str) -> list[Path]:
    """The PDF and a PNG of each page into the test output folder, for a person to look at."""
    folder = OUTPUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(folder / f"{name}.pdf"), str(folder / "page")], check=True)
    return sorted(folder.glob("page*.png"))


def squeeze(text: str) -> str:
    """The text without any whitespace or the page-number lines: what is compared."""
    return re.sub(r"\s+", "", text)


def common_subsequence(a: str, b: str) -> int:
    """The length of the longest common subsequence of ``a`` and ``b`` (bit-parallel, Hyyrö 2004)."""
    masks: dict[str, int] = {}
    for position, char in enumerate(b):
        masks[char] = masks.get(char, 0) | (1 << position)
    full = (1 << len(b)) - 1
    row = full
    for char in a:
        matched = row & masks.get(char, 0)
        row = ((row + matched) | (row - matched)) & full
    return len(b) - bin(row).count("1")


def share_found_in_order(expected: str, got: str) -> float:
    """The share of ``expected``'s characters that ``got`` holds in the same order."""
    return common_subsequence(expected, got) / max(1, len(expected))


GRID_HEADER_LINE = "一级指标 二级指标 三级指标 绩效指标描述 指标值 指标值确定依据"


def without_page_furniture(seed: str) -> str:
    """The seed without what its page breaks added: page numbers, and the grid header row repeated at the top
    of a continued page (our PDF breaks its pages elsewhere, and repeats the header where it does)."""
    kept, header_seen = [], False
    for line in seed.splitlines():
        text = line.strip()
        if re.fullmatch(r"\d+", text):
            continue
        if re.search(r"^\d+\..*绩效目标表$", text):
            header_seen = False
        if text == GRID_HEADER_LINE:
            if header_seen:
                continue
            header_seen = True
        kept.append(line)
    return "\n".join(kept)


def in_order(literals: list[str], text: str) -> list[str]:
    """The literals that do not occur in ``text`` after the previous one (whitespace ignored)."""
    missing, position = [], 0
    for literal in literals:
        at = text.find(squeeze(literal), position)
        if at < 0:
            missing.append(literal)
        else:
            position = at + len(squeeze(literal))
    return missing


def publication_literals(master: Master, unit_code: str) -> list[str]:
    """Every heading, code, amount, indicator name, value and basis the document must print, in order."""
    pub = publication_data(master, None, unit_code)
    out = ["第一部分", "部门整体绩效目标"]
    out += [pub.overall_goal] if pub.overall_goal else []
    for goal in pub.sub_goals:
        out += [f"{goal.seq}、{goal.name}", goal.goal, goal.indicators]
    for measure in pub.measures:
        out += [f"{measure.seq}、{measure.title}", measure.text]
    out += ["第二部分", "预算项目绩效目标"]
    for project in pub.projects:
        out += [project.title, pub.unit_line, pub.money_label, project.code, project.name, project.budget,
                project.fiscal, project.purpose, *[node for node, _ in project.plan],
                *[amount for _, amount in project.plan], project.annual_goal, "一级指标", "指标值确定依据"]
        for row in project.rows:
            out += [row.name, row.description, row.value, row.basis]
    return [literal for literal in out if literal]


# ---------------------------------------------------------------------------------------------------------
# the seed


@needs_poppler
def test_sample_pdf_matches_the_seed(tmp_path, capsys):
    pdf = render_pdf(publication_data(load_sample(), None, UNIT))
    pictures = save_pictures(pdf, "seed-435001")
    got = squeeze(pdf_text(pdf, tmp_path))
    seed = squeeze(without_page_furniture(_seed_text()))
    share = share_found_in_order(seed, got)
    raw_share = share_found_in_order(squeeze(_seed_text()), got)
    with capsys.disabled():
        print(f"\n样例单位 PDF：原件文字（除去分页重复的表头和页码）{len(seed)} 字中 {share:.1%} 按原顺序出现"
              f"（含分页表头：{raw_share:.1%}）；页面图片 {pictures[0].parent}")
    assert share >= 0.98
    assert len(pictures) == page_count(pdf, tmp_path)
    # every heading, code, budget, indicator name, value and basis, in the seed's order
    assert in_order(publication_literals(load_sample(), UNIT), got) == []
    for literal in ("13052922P00584010723X", "≤6万元", "≥90%", "6.00", "1.50", "《邢台市人民政务办公室关于做好全市电子政务外网升级改造工作的通知》",
                    "三、工作保障措施", "1、强化预算执行，严格支出管理", "16名社会监督员", "单位：万元"):
        assert literal in got, literal


def test_sample_measures_are_the_seeds_text():
    seed = squeeze(_seed_text())
    measures = load_sample().measures_of(UNIT)
    assert [m.title for m in measures] == ["强化预算执行，严格支出管理", "完善全方位监督制度", "实行每日工作总结法"]
    section = seed[seed.index("三、工作保障措施"):seed.index("第二部分")]
    assert in_order([f"{m.seq}、{m.title}{m.text}" for m in measures], section) == []


@needs_poppler
def test_each_project_starts_a_new_page(tmp_path):
    pdf = render_pdf(publication_data(load_sample(), None, UNIT))
    titles = [p.title for p in publication_data(load_sample(), None, UNIT).projects]
    starts = {}
    for page in range(1, page_count(pdf, tmp_path) + 1):
        first_line = pdf_text(pdf, tmp_path, page, page).strip().splitlines()[0]
        starts[first_line] = page
    assert all(title in starts for title in titles), starts
    assert len({starts[t] for t in titles}) == len(titles)


def test_numbers_as_the_seed_prints_them():
    assert value_text("≥", D("30"), "个") == "≥30 个"
    assert value_text("≤", D("10"), "%") == "≤10%"
    assert value_text("≤", D("6"), "万元") == "≤6 万元"
    assert value_text("≥", D("7.9"), "万元") == "≥7.9 万元"
    assert value_text("定性", "良好", "") == "良好"
    pub = publication_data(load_sample(), None, UNIT)
    assert (pub.projects[0].budget, pub.projects[0].plan[0]) == ("6.00", ("3月底", "1.50"))
    assert pub.projects[2].plan[-1] == ("12月底", "")  # the seed's blank 12月底 of 统一着装经费
    assert indicator_phrase(DeptIndicator(UNIT, 6, "产出指标", "时效指标", "服装使用年限", "≥", D("2"), "年")) \
        == "服装使用年限达到 2 年以上"
    assert pub.sub_goals[2].indicators == "数据共享率达到 100%，非正常停机率接近于 0。"


def test_merged_cells_of_the_grid():
    rows = publication_data(load_sample(), None, UNIT).projects[0].rows
    assert [r.level1_span for r in rows] == [4, 0, 0, 0, 2, 0, 1]
    assert [r.level2_span for r in rows] == [1] * 7
    head = publication_data(load_sample(), None, UNIT).projects[0].head_rows()
    assert [c.text for c in head[0]] == ["项目编码", "13052922P00584010723X", "项目名称", "光纤租赁和短信机费用"]
    assert [(c.text, c.rowspan) for c in head[3]][:2] == [("资金支出计划（%）", 2), ("3月底", 1)]
    assert head[3][-1].colspan == 2  # four nodes over five columns: the last one fills the row


# ---------------------------------------------------------------------------------------------------------
# other masters: the 2021 framework, amounts in 元, a table longer than a page


def small_master(framework: str, money_unit: str, indicators: int = 3) -> Master:
    levels = {"2021": [("产出指标", "数量指标"), ("效益指标", "经济效益指标"), ("满意度指标", "服务对象满意度指标")],
              "2015": [("产出指标", "数量指标"), ("效益指标", "社会效益指标"), ("满意度指标", "服务对象满意度指标")]}
    grid = tuple(
        Indicator(*levels[framework][k % 3], name=f"测试指标{k + 1}", description=f"说明{k + 1}", operator="≥",
                  value=D(10 + k), unit="个", basis=f"依据文件{k + 1}")
        for k in range(indicators))
    amount = D("60000") if money_unit == "元" else D("6")
    plan = tuple(PlanPoint(node, amount * (k + 1) / 4) for k, node in enumerate(("3月底", "6月底", "10月底", "12月底")))
    return Master(
        settings=Settings(year=2024, money_unit=money_unit, framework=framework),
        units=(Unit("990001", "测试县财政局本级"),),
        projects=(Project("990001", "TEST-001", "测试项目甲", amount, amount, None, "用途甲", "目标甲", plan, grid),
                  Project("990001", "TEST-002", "测试项目乙", amount, amount, None, "用途乙", "目标乙", plan, grid[:2])),
        dept_goals=(DeptGoal("990001", 0, "总体绩效目标", "总体目标文字。"), DeptGoal("990001", 1, "分项一", "分项目标文字。")),
        dept_indicators=(DeptIndicator("990001", 1, "产出指标", "数量指标", "完成数量", "＝", D("3"), "项"),),
        dept_measures=(DeptMeasure("990001", 1, "加强管理", "措施正文。"),),
    )


@needs_poppler
@pytest.mark.parametrize("framework, money_unit", [("2021", "万元"), ("2015", "元")])
def test_other_masters_print_all_their_data(tmp_path, framework, money_unit):
    master = small_master(framework, money_unit)
    pdf = render_pdf(publication_data(master, None, "990001"))
    save_pictures(pdf, f"master-{framework}-{money_unit}")
    got = squeeze(pdf_text(pdf, tmp_path))
    literals = publication_literals(master, "990001")
    assert in_order(literals, got) == []
    assert share_found_in_order(squeeze("".join(literals)), got) >= 0.98
    assert f"单位：{money_unit}" in got
    if money_unit == "元":
        assert "60000.00" in got and "15000.00" in got
    else:
        assert "经济效益指标" in got


@needs_poppler
def test_a_long_table_repeats_its_header_row_on_every_page(tmp_path):
    master = small_master("2015", "万元", indicators=40)
    first = master.projects[0]
    # one 一级/二级 pair for all 40 rows: a merged cell cut by two page breaks, its label on every page
    same = tuple(dataclasses.replace(i, level1="产出指标", level2="数量指标") for i in first.indicators)
    master = dataclasses.replace(master, projects=(dataclasses.replace(first, indicators=same),) + master.projects[1:])
    pdf = render_pdf(publication_data(master, None, "990001"))
    save_pictures(pdf, "long-table")
    pages = page_count(pdf, tmp_path)
    first_table_pages = [p for p in range(1, pages + 1) if "测试指标40" in pdf_text(pdf, tmp_path, p, p)
                         or "测试指标1\n" in pdf_text(pdf, tmp_path, p, p)]
    table_pages = [p for p in range(1, pages + 1) if "测试指标" in pdf_text(pdf, tmp_path, p, p)]
    assert len(table_pages) >= 3 and first_table_pages
    for page in table_pages:
        text = pdf_text(pdf, tmp_path, page, page)
        assert "一级指标" in text and "产出指标" in text and "数量指标" in text, page
    assert in_order([f"测试指标{k}" for k in range(1, 41)], squeeze(pdf_text(pdf, tmp_path))) == []


def test_outputs_are_deterministic():
    pub = publication_data(load_sample(), None, UNIT)
    assert render_pdf(pub) == render_pdf(pub)
    assert render_docx(pub) == render_docx(pub)
    assert render_html(pub) == render_html(pub)


@needs_poppler
def test_the_shipped_font_renders_the_document(tmp_path):
    assert SHIPPED_FONT.is_file() and SHIPPED_FONT.stat().st_size < 4_000_000
    assert (SHIPPED_FONT.parent / "OFL.txt").read_text(encoding="utf-8").count("SIL OPEN FONT LICENSE") >= 1
    pdf = render_pdf(publication_data(load_sample(), None, UNIT), font=FontChoice(SHIPPED_FONT))
    got = squeeze(pdf_text(pdf, tmp_path))
    assert share_found_in_order(squeeze(without_page_furniture(_seed_text())), got) >= 0.98
    fonts = subprocess.run(["pdffonts", str(tmp_path / "doc.pdf")], capture_output=True, text=True).stdout
    assert "JixiaoKaiGB2312" in fonts and " yes yes yes " in fonts  # embedded, subset, with a ToUnicode map


def test_without_system_fonts_the_shipped_font_is_chosen(monkeypatch):
    import jixiao_xl.publish.as_pdf as publish_pdf

    pdf_font.cache_clear()
    monkeypatch.setattr(publish_pdf, "KNOWN_FONTS", (("/nonexistent/font.ttc", 0),))
    monkeypatch.setattr(publish_pdf, "_fontconfig_candidates", lambda: [])
    try:
        assert publish_pdf.pdf_font() == FontChoice(SHIPPED_FONT, 0)
    finally:
        pdf_font.cache_clear()


# ---------------------------------------------------------------------------------------------------------
# from returns, through the CLI


def publish(root: Path, *args: str):
    return CliRunner().invoke(cli, ["publish", "--master", str(root / "master.xlsx"), *args])


def test_a_changed_indicator_in_a_return_is_published(cycle, tmp_path):
    def edit(wb) -> None:
        _fix_everything(wb)
        ws = wb["1.光纤租赁和短信机费用"]
        ws["C11"], ws["D11"], ws["F11"] = "光纤线路数量", "新开通的光纤线路数量", 45
        ws["B4"] = 99  # a locked budget changed: the issued value is published, not this one

    result = run_import(cycle, returned(cycle, "changed-in", edit), "changed")
    ledger = cycle / "changed.sqlite"
    out = tmp_path / "公开"
    published = publish(cycle, "--ledger", str(ledger), "--out", str(out), "--format", "html,docx", "--force")
    assert published.exit_code == 0, published.output + result.output
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    assert "光纤线路数量" in html and "新开通的光纤线路数量" in html and "≥45 个" in html
    assert "固定电话使用数量及光纤数量" not in html
    assert "<td>6.00</td>" in html and "99" not in re.sub(r"<[^>]+>", " ", html).split()
    words = docx.Document(next(out.glob("*.docx"))).tables[1].rows[1].cells
    assert [c.text for c in words][2:5] == ["光纤线路数量", "新开通的光纤线路数量", "≥45 个"]
    assert "报送文件" in published.output


def test_a_return_with_errors_is_refused_unless_forced(cycle, tmp_path):
    run_import(cycle, returned(cycle, "as-issued-in"), "as-issued")
    ledger = str(cycle / "as-issued.sqlite")
    refused = publish(cycle, "--ledger", ledger, "--out", str(tmp_path / "a"))
    assert refused.exit_code == 1
    assert "未公开 435001 巨鹿县行政审批局本级" in refused.output
    assert "R-C1" in refused.output and "5.政务外网费用!F14" in refused.output and "--force" in refused.output
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    forced = publish(cycle, "--ledger", ledger, "--out", str(tmp_path / "b"), "--force")
    assert forced.exit_code == 0, forced.output
    assert "已按 --force 照样公开" in forced.output
    assert sorted(p.suffix for p in (tmp_path / "b").iterdir()) == [".docx", ".html", ".pdf"]
    html = next((tmp_path / "b").glob("*.html")).read_text(encoding="utf-8")
    assert "R-C1" not in html and "错误" not in html  # the document says nothing about it


def test_a_clean_return_is_published(cycle, tmp_path):
    run_import(cycle, returned(cycle, "clean-in", _fix_everything), "clean")
    result = publish(cycle, "--ledger", str(cycle / "clean.sqlite"), "--out", str(tmp_path), "--format", "pdf")
    assert result.exit_code == 0, result.output
    assert [p.suffix for p in tmp_path.iterdir()] == [".pdf"]


def test_publish_from_the_master_alone_with_unit_and_format(cycle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no output/ledger.sqlite here
    result = publish(cycle, "--unit", UNIT, "--format", "html, pdf", "--out", "docs")
    assert result.exit_code == 0, result.output
    assert "未使用台账" in result.output and "数据来自主数据" in result.output
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == [
        "435001-巨鹿县行政审批局本级-2022年绩效目标公开.html", "435001-巨鹿县行政审批局本级-2022年绩效目标公开.pdf"]


@pytest.mark.parametrize("args, message", [
    (["--unit", "999999"], "主数据中没有单位 999999"),
    (["--format", "pdf,odt"], "不支持的格式：odt"),
    (["--ledger", "missing.sqlite"], "找不到台账"),
    (["--docx-template", "missing.docx"], "找不到 Word 模板"),
])
def test_publish_usage_errors(cycle, tmp_path, args, message):
    result = publish(cycle, "--out", str(tmp_path), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_the_word_template_can_be_edited_and_reused(cycle, tmp_path):
    template = docx.Document(default_template())
    heading = next(p for p in template.paragraphs if p.text == "预算项目绩效目标")
    heading.runs[0].text = "本单位预算项目绩效目标（修订版）"
    template.core_properties.author = "某县财政局"
    edited = tmp_path / "我的模板.docx"
    template.save(edited)
    out = tmp_path / "out"
    result = publish(cycle, "--format", "docx", "--docx-template", str(edited), "--out", str(out))
    assert result.exit_code == 0, result.output
    document = docx.Document(next(out.glob("*.docx")))
    texts = [p.text for p in document.paragraphs]
    assert "本单位预算项目绩效目标（修订版）" in texts and "预算项目绩效目标" not in texts
    assert "6.光纤租赁和短信机费用绩效目标表" not in texts and "1.光纤租赁和短信机费用绩效目标表" in texts
    assert len(document.tables) == 12
    grid = document.tables[1]
    assert grid.rows[0]._tr.xml.count("w:tblHeader") == 1  # the header row repeats on every page
    assert [c.text for c in grid.rows[1].cells][:3] == ["产出指标", "数量指标", "固定电话使用数量及光纤数量"]


# ---------------------------------------------------------------------------------------------------------
# hostile text


HOSTILE_UNIT = '<script>alert("x")</script>&局'
HOSTILE_INDICATOR = "<img src=x onerror=alert(1)>率"


def hostile_master() -> Master:
    sample = load_sample()
    unit = dataclasses.replace(sample.units[0], name=HOSTILE_UNIT)
    first = sample.projects[0]
    grid = (dataclasses.replace(first.indicators[0], name=HOSTILE_INDICATOR, basis="A & B < C"),) + first.indicators[1:]
    projects = (dataclasses.replace(first, indicators=grid),) + sample.projects[1:]
    return dataclasses.replace(sample, units=(unit,), projects=projects)


def test_html_escapes_hostile_names():
    html = render_html(publication_data(hostile_master(), None, UNIT))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;局" in html
    assert "&lt;img src=x onerror=alert(1)&gt;率" in html and "A &amp; B &lt; C" in html
    assert "src=" not in re.sub(r"&lt;img src=x", "", html)


def test_hostile_names_stay_text_in_docx_and_pdf(tmp_path):
    pub = publication_data(hostile_master(), None, UNIT)
    document = docx.Document(io.BytesIO(render_docx(pub)))
    assert document.tables[1].rows[1].cells[2].text == HOSTILE_INDICATOR
    assert HOSTILE_UNIT in "\n".join(p.text for p in document.paragraphs)
    if shutil.which("pdftotext"):
        assert squeeze(HOSTILE_INDICATOR) in squeeze(pdf_text(render_pdf(pub), tmp_path))


def test_cli_publish_writes_hostile_names_safely(tmp_path):
    write_master(tmp_path / "m.xlsx", hostile_master())
    result = CliRunner().invoke(cli, ["publish", "--master", str(tmp_path / "m.xlsx"), "--out", str(tmp_path / "o"),
                                      "--format", "html"])
    assert result.exit_code == 0, result.output
    (page,) = (tmp_path / "o").iterdir()
    assert page.parent == tmp_path / "o" and "<script>" not in page.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------
# the master's 保障措施 sheet


def test_measures_round_trip_through_the_master_workbook(tmp_path):
    write_master(tmp_path / "m.xlsx", load_sample())
    assert load_master(tmp_path / "m.xlsx").measures_of(UNIT) == load_sample().measures_of(UNIT)
    assert load_master(tmp_path / "m.xlsx").fingerprint == load_sample().fingerprint


def test_measures_change_the_fingerprint():
    sample = load_sample()
    from jixiao_xl.master import compute_fingerprint

    without = dataclasses.replace(sample, dept_measures=())
    assert compute_fingerprint(without) != sample.fingerprint
    changed = dataclasses.replace(sample, dept_measures=sample.dept_measures[:2])
    assert compute_fingerprint(changed) not in (sample.fingerprint, compute_fingerprint(without))


def test_duplicate_measure_numbers_are_found(tmp_path):
    sample = load_sample()
    doubled = dataclasses.replace(sample, dept_measures=sample.dept_measures + (DeptMeasure(UNIT, 1, "重复"),))
    write_master(tmp_path / "m.xlsx", doubled)
    found = [f for f in check_master(tmp_path / "m.xlsx") if f.sheet == "保障措施"]
    assert [(f.rule, f.cell) for f in found] == [("M-MEASURE-SEQ", "B5")]
    assert "保障措施序号 1 与第 2 行重复" in found[0].message


def test_characters_the_pdf_font_lacks_are_reported(tmp_path, monkeypatch):
    import jixiao_xl.publish.as_pdf as publish_pdf

    monkeypatch.setattr(publish_pdf, "pdf_font", lambda: FontChoice(SHIPPED_FONT))
    sample = load_sample()
    rare = dataclasses.replace(sample, units=(dataclasses.replace(sample.units[0], name="巨鹿县龘䶮局"),))
    write_master(tmp_path / "m.xlsx", rare)
    result = CliRunner().invoke(cli, ["publish", "--master", str(tmp_path / "m.xlsx"), "--out", str(tmp_path / "o"),
                                      "--format", "pdf"])
    assert result.exit_code == 0, result.output
    assert "单位 435001 的文本中有 PDF 字体没有的字：䶮龘" in result.output
    assert "missing the following glyphs" not in result.output
    assert publish_pdf.missing_characters(publication_data(sample, None, UNIT), FontChoice(SHIPPED_FONT)) == ""


def test_a_master_without_the_new_sheet_publishes_without_measures(tmp_path):
    sample = load_sample()
    folder = tmp_path / "old-master"
    shutil.copytree(Path(__file__).resolve().parents[1] / "jixiao_xl" / "sample", folder)
    (folder / "保障措施.csv").unlink()  # a master written before the sheet existed
    old = load_master(folder)
    assert old.dept_measures == ()
    assert "M-MISSING-SHEET" not in {f.rule for f in check_master(folder)}
    from jixiao_xl.master import compute_fingerprint

    assert old.fingerprint == compute_fingerprint(dataclasses.replace(sample, dept_measures=()))
    html = render_html(publication_data(old, None, UNIT))
    assert "工作保障措施" not in html and "二、分项绩效目标" in html and "一、总体绩效目标" in html
    no_goals = dataclasses.replace(old, dept_goals=(), dept_indicators=())
    pub = publication_data(no_goals, None, UNIT)
    assert not pub.has_part_one and "第一部分" not in render_html(pub) and "第二部分" in render_html(pub)


# ---------------------------------------------------------------------------------------------------------
# in a workspace


def _in_workspace(*args: str):
    return CliRunner().invoke(cli, list(args))


def _fill_into_inbox(root: Path, name: str, edit) -> None:
    import openpyxl

    [issued] = (root / "下发").glob(f"{UNIT}-*.xlsx")
    wb = openpyxl.load_workbook(issued)
    edit(wb)
    wb.save(root / "收件" / name)


def test_publish_in_a_workspace_needs_no_flags_and_follows_the_counted_return(tmp_path, monkeypatch):
    root = tmp_path / "2022"
    assert _in_workspace("init", str(root), "--sample").exit_code == 0
    monkeypatch.chdir(root)
    assert _in_workspace("generate", "--jobs", "1").exit_code == 0
    _fill_into_inbox(root, "first.xlsx", _fix_everything)
    imported = _in_workspace("import", "--jobs", "1")
    assert imported.exit_code == 0, imported.output

    published = _in_workspace("publish")
    assert published.exit_code == 0, published.output
    stem = "435001-巨鹿县行政审批局本级-2022年绩效目标公开"
    assert sorted(p.name for p in (root / "公开").iterdir()) == [f"{stem}.docx", f"{stem}.html", f"{stem}.pdf"]
    assert "first.xlsx（台账第 1 号导入）" in published.output
    assert "未使用台账" not in published.output and str(root / "公开") in published.output

    # The bureau passes that return; a later one with a changed indicator does not displace it.
    assert _in_workspace("review", UNIT, "--pass", "--by", "王科长").exit_code == 0

    def changed(wb) -> None:
        _fix_everything(wb)
        ws = wb["1.光纤租赁和短信机费用"]
        ws["C11"], ws["D11"], ws["F11"] = "光纤线路数量", "新开通的光纤线路数量", 45

    _fill_into_inbox(root, "second.xlsx", changed)
    assert _in_workspace("import", "--jobs", "1").exit_code == 0
    ledger_bytes = (root / "ledger.sqlite").read_bytes()
    again = _in_workspace("publish", "--format", "html")
    assert again.exit_code == 0, again.output
    assert "first.xlsx（台账第 1 号导入）" in again.output
    html = (root / "公开" / f"{stem}.html").read_text(encoding="utf-8")
    assert "光纤线路数量" not in html and "固定电话使用数量及光纤数量" in html
    assert (root / "ledger.sqlite").read_bytes() == ledger_bytes  # read only: not even migrated or touched

    # Without the 通过 the later return counts — the same rule status and consolidate follow.
    from jixiao_xl.ledger import Ledger
    from jixiao_xl.publish import counted_returns

    with Ledger.open_readonly(root / "ledger.sqlite") as ledger:
        assert counted_returns(ledger) == {UNIT: 1} == ledger.counted_ids()
    status = json.loads(_in_workspace("status", "--json").output)
    assert [u["import_id"] for u in status["units"] if u["code"] == UNIT] == [1]


def test_publish_in_a_workspace_without_a_ledger_uses_the_master(tmp_path, monkeypatch):
    root = tmp_path / "2022"
    assert _in_workspace("init", str(root), "--sample").exit_code == 0
    (root / "ledger.sqlite").unlink()
    monkeypatch.chdir(root / "公开")  # any folder inside the workspace
    published = _in_workspace("publish", "--format", "html")
    assert published.exit_code == 0, published.output
    assert "未使用台账" in published.output and "数据来自主数据" in published.output
    assert [p.suffix for p in (root / "公开").iterdir()] == [".html"]
    assert not (root / "ledger.sqlite").exists()  # never created
