"""The bundled sample reproduces the seed document (巨鹿县行政审批局 2022 绩效目标表) exactly.

Every expected value below is typed from the seed text itself, not from the sample CSVs, so the test
catches a sample that drifted from the document. Where the seed folder is available, the literals are
also checked against the seed text (line breaks removed), section by section and in printed order.

Defects of the seed (≥ on a damage rate, ≤100% on a satisfaction rate, ≥ on cost indicators, 7.9 万元
against a 5.00 budget, % on a count, the missing 12月底 of 统一着装经费, doubled characters) are kept on
purpose: they are what the checks must find.
"""

from __future__ import annotations

import csv
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

import jixiao_xl
from jixiao_xl.master import load_sample

D = Decimal
UNIT_CODE = "435001"
UNIT_NAME = "巨鹿县行政审批局本级"
NODES = ("3月底", "6月底", "10月底", "12月底")
SEED_FILE = "000_a1f1e70e06024129.txt"

OUT, BEN, SAT = "产出指标", "效益指标", "满意度指标"
SURVEY = "调查问卷"

# Level 1 / level 2 of the seven printed rows of every project, in printed order.
LEVELS = (
    (OUT, "数量指标"),
    (OUT, "质量指标"),
    (OUT, "时效指标"),
    (OUT, "成本指标"),
    (BEN, "社会效益指标"),
    (BEN, "可持续影响指标"),
    (SAT, "服务对象满意度指标"),
)

# 指标值确定依据 as printed (wrapped cells joined without adding characters).
BASIS_XT_GOV_AFFAIRS = "《邢台市人民政务办公室关于做好全市电子政务外网升级改造工作的通知》"
BASIS_XT_2018 = "《邢台市 2018 年“互联网+政务服务重点工作实施方案》的通知"
BASIS_NATIONAL = "《中华人民共和国国家标准政务服务中心服务现场管理规范》"
BASIS_XT_GOV = "《邢台市人民政府关于“互联网+政务服务”重点工作实施方案的通知"
BASIS_XT_2018_FILE = "根据《邢台市2018 年“互联网+政务服务”重点工作实施方案的通知》文件"
BASIS_XT_GOV_OFFICE = "《邢台市人民政府办公室关于做好全市电子政务外网升级改造工作的通知》"

# One entry per project of 第二部分, in printed order:
# (序, code, name, 预算数, 财政资金, 其他资金, 预算规模及资金用途, 年度绩效目标, plan 3/6/10/12月底,
#  7 × (三级指标, 绩效指标描述, 指标性质, 指标值, 度量单位, 指标值确定依据))
PROJECTS = (
    (
        1, "13052922P00584010723X", "光纤租赁和短信机费用", D("6.00"), D("6.00"), None,
        "光纤租赁和短信机费用", "1.目标内容 1", (D("1.50"), D("3.00"), D("4.50"), D("6.00")),
        (
            ("固定电话使用数量及光纤数量", "固定电话使用数量及光纤数量", "≥", D("30"), "个", BASIS_XT_GOV_AFFAIRS),
            ("电话及网络故障率", "电话及网络故障率", "≤", D("10"), "%", BASIS_XT_GOV_AFFAIRS),
            ("电话及网络缴费效率", "电话及网络缴费效率", "≥", D("90"), "%", BASIS_XT_GOV_AFFAIRS),
            ("电话及光纤支出费用", "电话及光纤支出费用", "≤", D("6"), "万元", BASIS_XT_GOV_AFFAIRS),
            ("电话及网络运行的满意率", "电话及网络运行的满意率", "≤", D("100"), "%", SURVEY),
            ("持续提高电话及网络的稳定性", "电话及网络运行的满意率", "≤", D("95"), "%", SURVEY),
            ("活动参与者满意率", "活动参与者满意率", "≥", D("90"), "%", SURVEY),
        ),
    ),
    (
        2, "13052922P005840107255", "软件正版化设备保养维护费用", D("10.00"), D("10.00"), None,
        "软件正版化设备保养维护费用", "1.目标内容 1", (D("2.50"), D("5.00"), D("7.50"), D("10.00")),
        (
            ("软件设备数量", "软件设备数量", "≥", D("60"), "%", BASIS_XT_2018),
            ("软件设备使用故障率", "软件设备使用故障率", "≤", D("10"), "%", BASIS_XT_2018),
            ("软件设备安装完成率", "软件设备安装完成率", "≥", D("100"), "%", BASIS_XT_2018),
            ("软件设备使用成本", "软件设备使用成本", "≥", D("10"), "万元", BASIS_XT_2018),
            ("群众办事完成率", "群众办事完成率", "≥", D("90"), "%", SURVEY),
            ("保证办公软件正常使用", "保证办公软件正常使用", "≥", D("99"), "%", SURVEY),
            ("满意率", "满意率", "≥", D("90"), "%", SURVEY),
        ),
    ),
    (
        3, "13052922P005840107184", "统一着装经费", D("9.00"), D("9.00"), None,
        "统一着装", "1.目标内容 1", (D("2.25"), D("4.50"), D("6.75"), None),
        (
            ("定制服装数量", "定制服装数量", "≥", D("50"), "套", BASIS_NATIONAL),
            ("服装质量破损率", "服装质量破损率", "≥", D("98"), "%", BASIS_NATIONAL),
            ("服装采购完成率", "服装采购完成率", "≥", D("100"), "%", BASIS_NATIONAL),
            ("专项服装活动经费", "专项服装活动经费", "≥", D("9"), "万元", BASIS_NATIONAL),
            ("提高整体形象", "提高整体形象", "≥", D("90"), "%", SURVEY),
            ("工作期间服装穿着率", "工作期间服装穿着率", "≥", D("90"), "%", SURVEY),
            ("活动次参与者满意度", "活动次参与者满意度", "≥", D("90"), "%", SURVEY),
        ),
    ),
    (
        4, "13052922P005840107203", "政务服务办公费（2+2+3 服务体系）", D("15.00"), D("15.00"), None,
        "政务服务办公费", "1.目标内容 1", (D("3.75"), D("7.50"), D("11.25"), D("15.00")),
        (
            ("自助服务及及设备终端机数量", "自助服务及及设备终端机数量", "≥", D("5"), "台", BASIS_XT_GOV),
            ("自助服务机及设备终端机故障率", "自助服务机及设备终端机故障率", "≤", D("10"), "%", BASIS_XT_GOV),
            ("自助服务及及设备终端机完成率", "自助服务及及设备终端机完成率", "≥", D("90"), "%", BASIS_XT_GOV),
            ("24 小时自助服务大厅建设费用", "24 小时自助服务大厅建设费用", "≥", D("15"), "万元", BASIS_XT_GOV),
            ("增强办事群众对 24 小时政务大厅的满意程度", "增强办事群众对 24 小时政务大厅的满意程度",
             "≥", D("100"), "%", SURVEY),
            ("持续改进加强政务自助服务设备更新", "持续改进加强政务自助服务设备更新", "≥", D("95"), "%", SURVEY),
            ("活动参与者满意度", "活动参与者满意度", "≥", D("90"), "%", SURVEY),
        ),
    ),
    (
        5, "13052922P00584010722A", "政务外网费用", D("5.00"), D("5.00"), None,
        "政务外网费用", "1.目标内容 1", (D("1.25"), D("2.50"), D("3.75"), D("5.00")),
        (
            ("政务专网安装数量", "政务专网安装数量", "≥", D("14"), "条", BASIS_XT_2018_FILE),
            ("政务专网故障率", "政务专网故障率", "≤", D("1"), "%", BASIS_XT_2018_FILE),
            ("政务专网使用完成率", "政务专网使用完成率", "≥", D("100"), "%", BASIS_XT_2018_FILE),
            ("政务专网使用费用", "政务专网使用费用", "≥", D("7.9"), "万元", BASIS_XT_2018_FILE),
            ("政务专网运行的满意率", "政务专网运行的满意率", "≥", D("100"), "%", SURVEY),
            ("政务专网运行的满意率", "政务专网运行的满意率", "≥", D("90"), "%", SURVEY),
            ("活动参与者的满意率", "活动参与者的满意率", "≥", D("90"), "%", SURVEY),
        ),
    ),
    (
        6, "13052922P00584010724H", "政务网络信息建设维护费用", D("15.00"), D("15.00"), None,
        "政务网络信息建设费用", "1.目标内容 1", (D("3.75"), D("7.50"), D("11.25"), D("15.00")),
        (
            ("设备终端安装数量", "设备终端安装数量", "≥", D("30"), "台", BASIS_XT_GOV_OFFICE),
            ("网络安全故障率", "网络安全故障率", "≤", D("10"), "%", BASIS_XT_GOV_OFFICE),
            ("网络设备及设施完成率", "网络设备及设施完成率", "≥", D("100"), "%", BASIS_XT_GOV_OFFICE),
            ("网络设备及设施使用费", "网络设备及设施使用费", "≥", D("15"), "万元", BASIS_XT_GOV_OFFICE),
            ("政务网络信息运行满意程度", "政务网络信息运行满意程度", "≥", D("100"), "%", SURVEY),
            ("加强网络信息便捷度", "加强网络信息便捷度", "≥", D("95"), "%", SURVEY),
            ("活动参与者满意度", "活动参与者满意度", "≥", D("90"), "%", SURVEY),
        ),
    ),
)

# 第一部分: 序号, 分项名称, 绩效目标 (line breaks removed, punctuation as printed).
DEPT_GOALS = (
    (0, "总体绩效目标",
     "坚持以习近平新时代中国特色社会主义思想为指导，深入贯彻落实党中央和省委、市委和县委关于行政审批和"
     "政务服务管理工作的方针政策和决策部署，坚持和加强党对行政审批和政务服务管理工作的集中统一领导，在县委、"
     "县政府的正确领导和县人大、县政协的指导监督下，我局深入贯彻“三深化、三提升”活动，积极推进“双创双服”"
     "活动，扎实推进'放管服“改革，开拓进取、主动作为、攻坚克难，有效推进政务服务工作，营造良好的投资环境、"
     "营商环境和发展环境。"),
    (1, "完善“2+2+3”服务体系，创新审批模式",
     "设置“便民服务中心”和“企业工商户服务中心”，入驻重点项目服务办公室和县招商服务中心，设置受理中心、"
     "审批中心、代办中心，设立行政审批、便民服务、阳光服务 3 个专项板块，延长代办导办协办服务链条，并开辟"
     "重点项目绿色通道。"),
    (2, "政务网络信息建设维护费用，积极推进政务自助服务改革",
     "积极探索“互联网+政务服务+AI”的服务模式，集合了不同业务部门的自助设备，打造政务服务 24 小时“不打烊”，"
     "把“网上自主办、终端自助办、线上互动办”的承诺落到实处，打造多功能自助服务大厅。"),
    (3, "政务外网费用", "加强政务服务建设，提高政务服务水平，提高群众满意度。"),
    (4, "光纤租赁和短信机费用",
     "探索实现审批服务全程电子化，推动线上线下、实体大厅和网上大厅有机融合，行政审批事项要素网上查询、"
     "网上办理，实现“数据多跑腿，群众少跑腿”。"),
    (5, "软件正版化", "积极推进审批程序简易化、标准化制度，加强网络信息建设维护工作，确保单位网络正常运行。"),
    (6, "统一着装经费", "提升我县窗口政务服务形象和水平，打造一流的政务服务环境，推进政务服务标准化、规范化、便利化。"),
)

# 第一部分 绩效指标 sentences: 序号, 一级, 二级, 三级, 指标性质, 指标值, 度量单位, the phrase as printed.
DEPT_INDICATORS = (
    (1, OUT, "时效指标", "业务处理及时率", "＝", D("100"), "%", "业务处理及时率达到 100%"),
    (1, SAT, "服务对象满意度指标", "群众满意度", "＝", D("100"), "%", "群众满意度达到 100%"),
    (2, OUT, "质量指标", "办公自动化覆盖率", "＝", D("90"), "%", "办公自动化覆盖率达到 90%"),
    (2, SAT, "服务对象满意度指标", "群众对通用设备运行的满意度", "＝", D("100"), "%",
     "群众对通用设备运行的满意度达到 100%"),
    (3, OUT, "质量指标", "数据共享率", "＝", D("100"), "%", "数据共享率达到 100%"),
    (3, OUT, "质量指标", "非正常停机率", "定性", "接近于 0", "", "非正常停机率接近于 0"),
    (4, BEN, "经济效益指标", "办公经费节省数", "＝", D("2"), "万元", "办公经费节省数达 2 万元"),
    (4, OUT, "质量指标", "“一网通办”开通率", "＝", D("98"), "%", "“一网通办”开通率达 98%"),
    (5, OUT, "质量指标", "系统验收合格率", "＝", D("100"), "%", "系统验收合格率达到 100%"),
    (5, OUT, "质量指标", "异常处理能力", "＝", D("95"), "%", "异常处理能力达到 95%"),
    (6, OUT, "时效指标", "服装使用年限", "≥", D("2"), "年", "服装使用年限达到 2 年以上"),
    (6, SAT, "服务对象满意度指标", "服务对象满意度", "＝", D("95"), "%", "服务对象满意度达到 95%"),
)

# Cells that a page break of the PDF splits in two (the rest of the cell is printed on the next page).
PAGE_BREAK_SPLITS = {
    "持续提高电话及网络的稳定性": ("持续提高电", "话及网络的稳定性"),
    "可持续影响指标": ("可持续影响", "指标"),
}


def _project_ids() -> list[str]:
    return [f"{p[0]}-{p[1]}" for p in PROJECTS]


@pytest.fixture(scope="module")
def master():
    return load_sample()


@pytest.fixture(scope="module")
def projects(master):
    return {p.code: p for p in master.projects}


# ---------------------------------------------------------------- the sample, as loaded


def test_settings(master):
    s = master.settings
    assert s.year == 2022  # 区划 130529 巨鹿县 + year 22 in the project codes 13052922P…
    assert s.money_unit == "万元"
    assert s.framework == "2015"
    assert tuple(s.plan_nodes) == NODES
    assert s.weight_total is None
    assert not s.uses_weights
    assert s.spare_rows == 3
    assert s.department_name == "巨鹿县行政审批局"


def test_unit(master):
    assert len(master.units) == 1
    unit = master.units[0]
    assert (unit.code, unit.name, unit.parent_code, unit.contact, unit.phone) == (
        UNIT_CODE, UNIT_NAME, "435", "", "")
    assert master.unit(UNIT_CODE) == unit


def test_projects_in_printed_order(master):
    assert [p.code for p in master.projects] == [p[1] for p in PROJECTS]
    assert [p.name for p in master.projects] == [p[2] for p in PROJECTS]
    assert all(p.unit_code == UNIT_CODE for p in master.projects)


@pytest.mark.parametrize("expected", PROJECTS, ids=_project_ids())
def test_project_header(projects, expected):
    _, code, name, budget, fiscal, other, purpose, goal, plan, _ = expected
    p = projects[code]
    assert p.unit_code == UNIT_CODE
    assert p.name == name
    assert isinstance(p.budget, Decimal) and p.budget == budget
    assert isinstance(p.fiscal, Decimal) and p.fiscal == fiscal
    assert p.other is other is None
    assert p.purpose == purpose
    assert p.annual_goal == goal


@pytest.mark.parametrize("expected", PROJECTS, ids=_project_ids())
def test_project_plan(projects, expected):
    code, plan = expected[1], expected[8]
    p = projects[code]
    assert tuple(point.node for point in p.plan) == NODES
    assert tuple(point.amount for point in p.plan) == plan
    for node, amount in zip(NODES, plan):
        assert p.plan_amount(node) == amount
        if amount is not None:
            assert isinstance(p.plan_amount(node), Decimal)


def test_uniform_budget_has_no_december_plan(projects):
    p = projects["13052922P005840107184"]
    assert p.name == "统一着装经费"
    assert p.plan_amount("12月底") is None
    assert p.plan_amount("10月底") == Decimal("6.75")


@pytest.mark.parametrize("expected", PROJECTS, ids=_project_ids())
def test_project_indicators(projects, expected):
    code, rows = expected[1], expected[9]
    got = projects[code].indicators
    assert len(got) == 7
    want = [(l1, l2, *row) for (l1, l2), row in zip(LEVELS, rows)]
    have = [(i.level1, i.level2, i.name, i.description, i.operator, i.value, i.unit, i.basis) for i in got]
    assert have == want
    for ind in got:
        assert isinstance(ind.value, Decimal)
        assert ind.weight is None
        assert not ind.is_qualitative


def test_totals(master):
    assert sum(p.budget for p in master.projects) == Decimal("60.00")
    assert master.unit_budget(UNIT_CODE) == Decimal("60.00")
    assert sum(p.fiscal for p in master.projects) == Decimal("60.00")
    assert sum(len(p.indicators) for p in master.projects) == 42
    assert sum(e[3] for e in PROJECTS) == Decimal("60.00")


def test_defects_are_kept(projects):
    """The seed's own mistakes stay in the sample: they are what the checks must find."""
    by_name = {(p.name, i.name, i.value): i for p in projects.values() for i in p.indicators}
    assert by_name[("统一着装经费", "服装质量破损率", D("98"))].operator == "≥"
    assert by_name[("光纤租赁和短信机费用", "电话及网络运行的满意率", D("100"))].operator == "≤"
    assert by_name[("软件正版化设备保养维护费用", "软件设备数量", D("60"))].unit == "%"
    cost = by_name[("政务外网费用", "政务专网使用费用", D("7.9"))]
    assert (cost.operator, cost.unit) == ("≥", "万元")
    assert cost.value > projects["13052922P00584010722A"].budget
    assert by_name[("政务服务办公费（2+2+3 服务体系）", "自助服务及及设备终端机数量", D("5"))].unit == "台"


def test_sample_csv_amounts_as_printed():
    """预算数, 财政资金 and the plan are stored with the two decimals the seed prints."""
    path = Path(jixiao_xl.__file__).parent / "sample" / "项目.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["项目编码"]: r for r in csv.DictReader(fh)}
    for _, code, _, budget, fiscal, other, _, _, plan, _ in PROJECTS:
        r = rows[code]
        assert r["预算数"] == f"{budget:.2f}" and r["财政资金"] == f"{fiscal:.2f}"
        assert r["其他资金"] == ""
        assert [r[f"支出计划-{n}"] for n in NODES] == ["" if a is None else f"{a:.2f}" for a in plan]


def test_dept_goals(master):
    goals = master.goals_of(UNIT_CODE)
    assert [(g.unit_code, g.seq, g.name, g.goal) for g in goals] == [(UNIT_CODE, *g) for g in DEPT_GOALS]
    assert len(master.dept_goals) == 7


def test_dept_indicators(master):
    got = master.dept_indicators_of(UNIT_CODE)
    have = [(i.seq, i.level1, i.level2, i.name, i.operator, i.value, i.unit, i.basis) for i in got]
    assert have == [(*row[:7], "") for row in DEPT_INDICATORS]
    assert len(master.dept_indicators) == 12
    goal_seqs = {g.seq for g in master.dept_goals}
    assert all(i.seq in goal_seqs and i.seq != 0 for i in got)


# ---------------------------------------------------------------- the literals, against the seed


def _seed_text() -> str:
    folders = []
    if os.environ.get("JIXIAO_SEED_DIR"):
        folders.append(Path(os.environ["JIXIAO_SEED_DIR"]))
    # the repository's sibling shared/seed, also from a worktree nested deeper (…/wt/<name>)
    folders += [parent / "shared" / "seed" for parent in Path(__file__).resolve().parents[1:4]]
    for folder in folders:
        if not folder.is_dir():
            continue
        if (folder / SEED_FILE).is_file():
            return (folder / SEED_FILE).read_text(encoding="utf-8")
        for path in sorted(folder.glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            if UNIT_NAME in text and "13052922P" in text:
                return text
    pytest.skip("seed folder not found (set JIXIAO_SEED_DIR)")


def _flat(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


@pytest.fixture(scope="module")
def seed() -> str:
    return _flat(_seed_text())


def _occurs(literal: str, text: str) -> bool:
    if literal in text:
        return True
    pieces = PAGE_BREAK_SPLITS.get(literal)
    return bool(pieces) and re.search(".*".join(map(re.escape, pieces)), text) is not None


def _printed_value(op: str, value: Decimal, unit: str) -> str:
    return f"{op}{value}{unit}" if unit == "%" else f"{op}{value} {unit}"


def _section(seed: str, number: int, name: str) -> str:
    start = seed.index(f"{number}.{name}绩效目标表")
    starts = [seed.find(f"{p[0]}.{p[2]}绩效目标表") for p in PROJECTS]
    end = min([i for i in starts if i > start], default=len(seed))
    return seed[start:end]


def _literals() -> list[str]:
    out = [UNIT_CODE, UNIT_NAME, "巨鹿县行政审批局", "万元", "435"]
    for _, code, name, budget, fiscal, _, purpose, goal, plan, rows in PROJECTS:
        out += [code, name, purpose, goal, f"{budget}", f"{fiscal}"]
        out += [f"{a}" for a in plan if a is not None]
        for (l1, l2), (ind, desc, op, value, unit, basis) in zip(LEVELS, rows):
            out += [l1, l2, ind, desc, unit, basis, _printed_value(op, value, unit)]
    for _, name, goal in DEPT_GOALS:
        out += [name, goal]
    for _, _, _, name, _, value, unit, phrase in DEPT_INDICATORS:
        out += [name, phrase, f"{value}"] + ([unit] if unit else [])
    return out


def test_every_literal_occurs_in_seed(seed):
    missing = [s for s in _literals() if not _occurs(s, seed)]
    assert missing == []


@pytest.mark.parametrize("expected", PROJECTS, ids=_project_ids())
def test_project_matches_seed_section(seed, expected):
    number, code, name, budget, fiscal, other, purpose, goal, plan, rows = expected
    sec = _section(seed, number, name)
    esc = re.escape
    assert f"{UNIT_CODE} {UNIT_NAME} 单位：万元" in sec
    assert re.search(rf"项目编码\s*{esc(code)}\s*项目名称\s*{esc(name)}\s*预算数\s*{esc(str(budget))}", sec)
    assert re.search(rf"其中：财政\s*资金\s*{esc(str(fiscal))}\s*其他资金\s*{esc(str(other or ''))}\s*预算规模及", sec)
    assert re.search(rf"预算规模及\s*资金用途\s*{esc(purpose)}\s*3 月底 6 月底 10 月底 12 月底", sec)
    # one printed cell per node: a blank cell leaves its separating space and nothing else
    cells = "".join(" " + ("" if a is None else str(a)) for a in plan)
    assert re.search(rf"划（%）{esc(cells)}\s*绩效目标\s*{esc(goal)}\s*一级指标", sec)
    pos = 0
    for (l1, l2), (ind, desc, op, value, unit, basis) in zip(LEVELS, rows):
        assert _occurs(ind, sec) and _occurs(l1, sec) and _occurs(l2, sec)
        m = re.compile(rf"{esc(desc)}\s*{esc(_printed_value(op, value, unit))}\s*{esc(basis)}").search(sec, pos)
        assert m, (desc, op, value, unit, basis)
        pos = m.end()


def test_dept_goals_match_seed(seed):
    esc = re.escape
    overall = DEPT_GOALS[0][2]
    assert re.search(rf"一、总体绩效目标\s*{esc(overall)}\s*二、分项绩效目标", seed)
    pos = seed.index("二、分项绩效目标")
    for seq, name, goal in DEPT_GOALS[1:]:
        phrases = [row[7] for row in DEPT_INDICATORS if row[0] == seq]
        pattern = rf"{seq}、(?:\d、)?{esc(name)}\s*绩效目标：\s*{esc(goal)}\s*绩效指标：{esc('，'.join(phrases))}。"
        m = re.compile(pattern).search(seed, pos)
        assert m, (seq, name)
        pos = m.end()
    assert seed.index("三、工作保障措施") >= pos


def test_dept_indicator_phrases_carry_their_values():
    for _, _, _, name, op, value, unit, phrase in DEPT_INDICATORS:
        assert phrase.startswith(name)
        assert str(value) in phrase
        assert unit in phrase
        if op == "≥":
            assert phrase.endswith("以上")
