"""A seeded synthetic master: N units × M projects × K indicators that look like real 绩效目标表 data.

The shape follows the bundled seed (``jixiao_xl.master.load_sample()``, 巨鹿县行政审批局): 6-digit unit codes,
21-character project codes (区划 + 年份 + ``P`` + serial + check character), money in 万元 as two-decimal
``Decimal`` values, a cumulative 支出计划 over the four default nodes that reaches the 预算数 at 12月底,
indicators from the 2015 framework (产出/效益/满意度 with their 二级), long 指标值确定依据 texts such as
《…关于…的通知》, and a 部门整体 overall goal of a few hundred characters.

A small share of projects (``defect_rate``) carries one of the seed's own mistakes (满意度 with “≤100”, a
成本指标 above the budget with “≥”, a blank 12月底 plan, a 故障率 with “≥”), so that importing the
generated workbooks produces findings, reports and 退回修改 workbooks the way a real batch does.

Everything is derived from ``random.Random(seed)``: the same arguments always give the same master
(the fingerprint included). Strings are drawn from small pools, so a 100,000-project master stays compact.

    python bench/synthetic.py --units 20 --projects 5 --indicators 7 --out /tmp/master.xlsx
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jixiao_xl.master import compute_fingerprint
from jixiao_xl.master import write_master as _write_master
from jixiao_xl.model import (
    DEFAULT_PLAN_NODES,
    DeptGoal,
    DeptIndicator,
    Indicator,
    Master,
    PlanPoint,
    Project,
    Settings,
    Unit,
)

CENT = Decimal("0.01")
DEFAULT_SEED = 20240601

COUNTIES = ("巨鹿县", "平乡县", "广宗县", "威县", "清河县", "临西县", "南和区", "任泽区", "宁晋县", "隆尧县",
            "柏乡县", "内丘县", "临城县", "沙河市", "新河县", "南宫市")
AGENCIES = ("行政审批局", "教育局", "卫生健康局", "民政局", "财政局", "自然资源和规划局", "住房和城乡建设局",
            "交通运输局", "水利局", "农业农村局", "文化广电和旅游局", "市场监督管理局", "应急管理局",
            "生态环境分局", "司法局", "人力资源和社会保障局", "退役军人事务局", "医疗保障局", "统计局", "审计局")
SUBUNITS = ("政务服务中心", "第一中学", "实验小学", "疾病预防控制中心", "档案馆", "图书馆", "综合行政执法大队",
            "社会保险事业服务中心", "农业技术推广站", "水务服务中心", "公路管理站", "妇幼保健院", "文物保护所",
            "就业服务中心", "救助管理站", "动物疫病预防控制中心")
CITIES = ("邢台市", "河北省", "巨鹿县", "石家庄市")

# A project theme: (project name stem, the thing it buys or runs, counting unit, the service it supports, a task).
THEMES = (
    ("光纤租赁和短信机", "光纤线路", "条", "政务服务", "线路租赁"),
    ("软件正版化设备保养维护", "正版软件", "套", "办公自动化", "设备维护"),
    ("统一着装", "工作服装", "套", "窗口服务", "服装采购"),
    ("政务服务办公", "自助服务终端", "台", "政务服务", "大厅运行"),
    ("政务外网", "政务外网节点", "个", "网络通信", "网络运维"),
    ("档案数字化加工", "档案卷宗", "件", "档案查询", "数字化加工"),
    ("业务骨干培训", "培训班次", "期", "干部培训", "培训组织"),
    ("农村公路养护", "养护里程", "公里", "群众出行", "道路养护"),
    ("义务教育学校公用经费", "受益学生", "人", "义务教育", "经费拨付"),
    ("基本公共卫生服务", "健康档案", "份", "公共卫生", "随访服务"),
    ("困难群众临时救助", "救助对象", "户", "社会救助", "救助发放"),
    ("高标准农田建设", "建设面积", "亩", "农业生产", "工程建设"),
    ("环境空气质量监测", "监测站点", "个", "环境监测", "站点运维"),
    ("图书馆免费开放", "读者服务", "人次", "公共文化", "免费开放"),
    ("食品安全抽检", "抽检批次", "批", "食品安全", "抽样检验"),
    ("应急物资储备", "储备物资", "件", "应急保障", "物资采购"),
    ("村级公益事业一事一议", "建设项目", "项", "农村公益", "项目实施"),
    ("公共法律服务", "法律咨询", "人次", "法律服务", "咨询接待"),
    ("河道清淤治理", "清淤长度", "米", "防洪排涝", "清淤施工"),
    ("办公设备购置", "办公设备", "台", "机关运转", "设备采购"),
)
PURPOSE_TAILS = ("用于保障日常运转和业务正常开展", "主要用于设备购置、安装调试及后期运行维护",
                 "用于租赁服务费、材料费和劳务费支出", "按照年度工作计划分期拨付，专款专用",
                 "用于人员培训、宣传印刷及第三方服务采购")
GOAL_PARTS = ("完成{obj}{task}工作", "保障{service}正常运行", "{service}群众满意度达到90%以上",
              "全年无重大安全责任事故", "资金使用规范、支付及时", "提升{service}水平和效率",
              "按期完成全部{obj}的验收", "形成长效管理机制")
OVERALL_SENTENCES = (
    "坚持以习近平新时代中国特色社会主义思想为指导，深入贯彻落实党中央和省委、市委、县委的决策部署",
    "围绕年度重点工作任务，统筹安排预算资金，提高财政资金使用效益",
    "持续深化“放管服”改革，优化营商环境，提升政务服务标准化、规范化、便利化水平",
    "严格执行预算管理制度，加强项目全过程绩效管理，确保各项资金专款专用",
    "着力解决群众急难愁盼问题，不断增强人民群众的获得感、幸福感、安全感",
    "加强干部队伍建设和作风建设，提升依法行政能力和服务水平",
    "扎实推进各项民生实事，按期完成年度目标任务",
)
DOC_TOPICS = ("做好全市电子政务外网升级改造工作", "“互联网+政务服务”重点工作实施方案", "加强预算绩效管理",
              "进一步规范财政资金管理", "全面实施预算绩效管理", "推进基本公共服务均等化")
SIMPLE_BASES = ("调查问卷", "计划标准", "历史标准", "行业标准", "预算支出标准")

# Framework slots (一级, 二级) in form order; the first seven are the seed's set, the rest are extras for K > 7.
CORE_SLOTS = (("产出指标", "数量指标"), ("产出指标", "质量指标"), ("产出指标", "时效指标"), ("产出指标", "成本指标"),
              ("效益指标", "社会效益指标"), ("效益指标", "可持续影响指标"), ("满意度指标", "服务对象满意度指标"))
EXTRA_SLOTS = (("产出指标", "数量指标"), ("产出指标", "质量指标"), ("效益指标", "经济效益指标"),
               ("效益指标", "生态效益指标"), ("产出指标", "时效指标"), ("效益指标", "社会效益指标"))
SMALL_K_ORDER = (0, 4, 6, 1, 2, 3, 5)  # which core slots to keep first when K < 7 (one per 一级 first)
FRAMEWORK_ORDER = {("产出指标", l2): i for i, l2 in enumerate(("数量指标", "质量指标", "时效指标", "成本指标"))}
FRAMEWORK_ORDER.update({("效益指标", l2): 10 + i for i, l2 in
                        enumerate(("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"))})
FRAMEWORK_ORDER[("满意度指标", "服务对象满意度指标")] = 20

DEFECTS = ("satisfaction_le", "cost_above_budget", "plan_blank", "failure_ge")


@dataclasses.dataclass(frozen=True)
class Shape:
    """The size of a synthetic batch."""

    units: int = 20
    projects: int = 5
    indicators: int = 7
    seed: int = DEFAULT_SEED
    defect_rate: float = 0.1
    year: int = 2024

    @property
    def project_sheets(self) -> int:
        return self.units * self.projects


def slots_for(k: int) -> list[tuple[str, str]]:
    """K (一级, 二级) slots in form order: the seed's seven, fewer kept one per 一级 first, extras cycled."""
    k = max(1, k)
    if k <= len(CORE_SLOTS):
        chosen = [CORE_SLOTS[i] for i in sorted(SMALL_K_ORDER[:k])]
    else:
        chosen = list(CORE_SLOTS) + [EXTRA_SLOTS[i % len(EXTRA_SLOTS)] for i in range(k - len(CORE_SLOTS))]
    return sorted(chosen, key=lambda slot: FRAMEWORK_ORDER[slot])  # stable: repeats stay together


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


class _Maker:
    """Draws one batch from a seeded generator."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.slots = slots_for(shape.indicators)
        seen: dict[tuple[str, str], int] = {}
        self.occurrences = []
        for slot in self.slots:
            self.occurrences.append(seen.get(slot, 0))
            seen[slot] = seen.get(slot, 0) + 1
        self.docs = [f"《{city}人民政府办公室关于{topic}的通知》" for city in CITIES for topic in DOC_TOPICS]
        self.nodes = DEFAULT_PLAN_NODES

    # -- units ----------------------------------------------------------------------------------------
    def unit(self, i: int) -> Unit:
        dept, sub = 101 + i // 100, 1 + i % 100
        agency = AGENCIES[(i // 100) % len(AGENCIES)]
        county = COUNTIES[(i // 100 // len(AGENCIES)) % len(COUNTIES)]
        name = f"{county}{agency}本级" if sub == 1 else f"{county}{agency}{SUBUNITS[sub % len(SUBUNITS)]}"
        if sub > len(SUBUNITS):
            name += f"（{sub // len(SUBUNITS)}）"
        contact = self.rng.choice("王李张刘陈杨赵黄周吴") + self.rng.choice(("伟", "芳", "娜", "敏", "静", "强", "磊", "洋"))
        phone = f"0319-{self.rng.randrange(1000000, 9999999)}"
        return Unit(code=f"{dept:03d}{sub:03d}", name=name, parent_code=f"{dept:03d}", contact=contact, phone=phone)

    # -- projects -------------------------------------------------------------------------------------
    def project(self, unit: Unit, i: int, j: int) -> Project:
        rng = self.rng
        theme = THEMES[(i * 7 + j * 3 + rng.randrange(len(THEMES))) % len(THEMES)]
        stem, obj, count_unit, service, task = theme
        name = stem + rng.choice(("经费", "费用", "项目", "专项资金", "运行维护费"))
        serial = 5840100000 + i * 1000 + j
        check = "0123456789X"[serial % 11]
        code = f"130529{self.shape.year % 100:02d}P{serial:011d}{check}"[:21]
        budget = _money(10 ** rng.uniform(0, 2.5))
        if rng.random() < 0.5:
            budget = budget.quantize(Decimal("1")).quantize(CENT) or Decimal("1.00")
        if rng.random() < 0.8:
            fiscal, other = budget, None
        else:
            other = _money(float(budget) * rng.uniform(0.1, 0.5))
            fiscal = budget - other
        fractions = sorted(rng.uniform(0.05, 0.95) for _ in range(len(self.nodes) - 1))
        plan = [PlanPoint(node, _money(float(budget) * f)) for node, f in zip(self.nodes, fractions)]
        plan.append(PlanPoint(self.nodes[-1], budget))
        purpose = f"{name}{budget}万元，{rng.choice(PURPOSE_TAILS)}"
        parts = rng.sample(GOAL_PARTS, rng.randint(2, 4))
        annual_goal = "；".join(f"{n}.{p.format(obj=obj, service=service, task=task)}" for n, p in enumerate(parts, 1)) + "。"
        indicators = [self.indicator(l1, l2, theme, name, budget, k)
                      for (l1, l2), k in zip(self.slots, self.occurrences)]
        project = Project(unit_code=unit.code, code=code, name=name, budget=budget, fiscal=fiscal, other=other,
                          purpose=purpose, annual_goal=annual_goal, plan=tuple(plan), indicators=tuple(indicators))
        if rng.random() < self.shape.defect_rate:
            project = self.defect(project, rng.choice(DEFECTS))
        return project

    def indicator(self, level1: str, level2: str, theme: tuple, project_name: str, budget: Decimal,
                  occurrence: int) -> Indicator:
        """One indicator of a 二级; ``occurrence`` > 0 for a second, third … indicator of the same 二级."""
        rng = self.rng
        stem, obj, count_unit, service, task = theme
        repeat = f"（{occurrence + 1}）" if occurrence else ""  # keeps names unique within the project (R-S6)
        basis = rng.choice(self.docs) if rng.random() < 0.5 else rng.choice(SIMPLE_BASES)
        if level2 == "数量指标":
            name = f"{obj}{rng.choice(('数量', '完成数量', '覆盖数量'))}"
            op, value, unit = "≥", Decimal(rng.randint(5, 500)), count_unit
        elif level2 == "质量指标":
            if rng.random() < 0.5:
                name, op, value, unit = f"{obj}故障率", "≤", Decimal(rng.randint(1, 10)), "%"
            else:
                name, op, value, unit = f"{obj}验收合格率", "≥", Decimal(rng.randint(95, 100)), "%"
        elif level2 == "时效指标":
            name, op, value, unit = f"{task}完成及时率", "≥", Decimal(rng.randint(90, 100)), "%"
        elif level2 == "成本指标":
            name, op, value, unit = f"{project_name}支出费用", "≤", budget, "万元"
            basis = "预算支出标准"
        elif level2 == "经济效益指标":
            name, op, value, unit = "节约运行成本", "≥", _money(float(budget) * 0.05) or Decimal("0.10"), "万元"
        elif level2 == "社会效益指标":
            if rng.random() < 0.4:
                name, op, value, unit = f"{service}水平", "定性", "明显提升", ""
            else:
                name, op, value, unit = f"{service}事项按时办结率", "≥", Decimal(rng.randint(90, 100)), "%"
        elif level2 == "生态效益指标":
            name, op, value, unit = "纸张使用量减少率", "≥", Decimal(rng.randint(5, 30)), "%"
        elif level2 == "可持续影响指标":
            if rng.random() < 0.5:
                name, op, value, unit = f"{obj}持续发挥作用年限", "≥", Decimal(rng.randint(2, 8)), "年"
            else:
                name, op, value, unit = f"{service}长效机制", "定性", "长期有效", ""
        else:  # 服务对象满意度指标
            name, op, value, unit = f"{service}服务对象满意度", "≥", Decimal(rng.randint(85, 98)), "%"
        name += repeat
        description = name if rng.random() < 0.6 else f"{name}，反映{service}{rng.choice(('完成情况', '质量水平', '实施效果'))}"
        return Indicator(level1=level1, level2=level2, name=name, description=description, operator=op, value=value,
                         unit=unit, basis=basis)

    def defect(self, project: Project, kind: str) -> Project:
        """One of the seed's mistakes, so that rules find something (warnings and errors)."""
        indicators = list(project.indicators)
        if kind == "plan_blank":
            plan = project.plan[:-1] + (PlanPoint(project.plan[-1].node, None),)
            return dataclasses.replace(project, plan=plan)
        for k, ind in enumerate(indicators):
            if kind == "satisfaction_le" and ind.level1 == "满意度指标":
                indicators[k] = dataclasses.replace(ind, operator="≤", value=Decimal(100))
                break
            if kind == "cost_above_budget" and ind.level2 == "成本指标":
                indicators[k] = dataclasses.replace(ind, operator="≥", value=(project.budget or Decimal(0)) + Decimal(5))
                break
            if kind == "failure_ge" and ind.name.endswith("故障率"):
                indicators[k] = dataclasses.replace(ind, operator="≥")
                break
        return dataclasses.replace(project, indicators=tuple(indicators))

    # -- department goals -----------------------------------------------------------------------------
    def dept(self, unit: Unit, projects: list[Project]) -> tuple[list[DeptGoal], list[DeptIndicator]]:
        rng = self.rng
        sentences = rng.sample(OVERALL_SENTENCES, rng.randint(3, 6))
        goals = [DeptGoal(unit.code, 0, "总体绩效目标", "，".join(sentences) + "。")]
        indicators = []
        for seq, project in enumerate(projects[:6], start=1):
            goals.append(DeptGoal(unit.code, seq, project.name, project.annual_goal))
            for ind in (project.indicators[0], project.indicators[-1]):
                indicators.append(DeptIndicator(unit.code, seq, ind.level1, ind.level2, ind.name, ind.operator,
                                                ind.value, ind.unit, ""))
        return goals, indicators


def make_master(shape: Shape = Shape(), fingerprint: bool = True) -> Master:
    """The synthetic master of ``shape`` (deterministic in ``shape.seed``).

    ``fingerprint=False`` skips :func:`jixiao_xl.master.compute_fingerprint` (seconds on 100,000 projects) when
    nothing compares it.
    """
    maker = _Maker(shape)
    units, projects, goals, dept_indicators = [], [], [], []
    for i in range(shape.units):
        unit = maker.unit(i)
        mine = [maker.project(unit, i, j) for j in range(shape.projects)]
        unit_goals, unit_indicators = maker.dept(unit, mine)
        units.append(unit)
        projects += mine
        goals += unit_goals
        dept_indicators += unit_indicators
    settings = Settings(year=shape.year, money_unit="万元", framework="2015", department_name="巨鹿县财政局")
    master = Master(settings=settings, units=tuple(units), projects=tuple(projects), dept_goals=tuple(goals),
                    dept_indicators=tuple(dept_indicators))
    if fingerprint:
        master = dataclasses.replace(master, fingerprint=compute_fingerprint(master))
    return master


def write_master(master: Master, path: Path) -> Path:
    """Write ``master`` as a master workbook (the same writer as ``jixiao-xl master init``)."""
    _write_master(path, master)
    return Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a seeded synthetic master workbook.")
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--projects", type=int, default=5)
    parser.add_argument("--indicators", type=int, default=7)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--defect-rate", type=float, default=0.1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    master = make_master(Shape(args.units, args.projects, args.indicators, args.seed, args.defect_rate))
    write_master(master, args.out)
    print(f"{args.out}: {len(master.units)} 个单位，{len(master.projects)} 个项目，"
          f"{sum(len(p.indicators) for p in master.projects)} 个绩效指标，指纹 {master.fingerprint[:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
