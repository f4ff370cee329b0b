"""`jixiao-xl demo`: a year's workspace on the bundled sample, with simulated department returns in two rounds.

The seed unit (435001) is joined by two demonstration units so that the year shows every situation a bureau
meets: a return typed carelessly but honestly (values glued to their units, full-width digits, a spare
indicator row used, the missing 12月底 plan filled in), re-saved by LibreOffice when it is installed; a
return whose locked budget was changed; an issued workbook mailed back unfilled; and, in a second round, a
corrected resubmission.

Everything happens in a workspace (``jixiao-xl init``'s layout) and through the library functions the
commands use: generate after the master check, import of 收件/ into one 核对/<run>/ folder per round, the
status table, consolidation into 汇总/ and publication into 公开/. After each round the run's report 概览 is
read back through the reader and compared with ``status``; the demo says whether they agree instead of
assuming it. The simulated returns are typed into the issued forms through the template room's
:func:`~jixiao_xl.template.edit_workbook`, as a unit types into its form in Excel.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Callable

from .errors import InputError
from .findings import Finding
from .generate import GenerateOptions, generate, read_manifest, workbook_name
from .importer import ImportOptions, ImportResult, run_import
from .ledger import Ledger
from .master import load_master, load_sample, write_master
from .model import Master, Unit
from .report import UNITS_TITLE, XLSX_NAME
from .safety import write_atomic
from .status import UnitStatus, render_status_table, unit_status
from .template import edit_workbook
from .workbook import ValueBook
from .workspace import CONFIG_NAME, MASTER_NAME, Workspace, init_workspace, render_config

MARKER = ".jixiao-demo"
SEED_UNIT = "435001"
TAMPERED_UNIT = "435002"
BLANK_UNIT = "435003"
UNIFORM_SHEET = "3.统一着装经费"
FIRST_PROJECT_SHEET = 1  # by position: the sheet after 填报说明, whatever the project is called
DEADLINE = "2022年1月20日"  # the seed was filled on 2022年1月10日
CONSOLIDATED_NAME = "汇总表.xlsx"
ROUND_ONE_CONSOLIDATED = "汇总表-第一轮后.xlsx"
SHELL_SPECIAL = set("'\"$`\\!*?;&|<>()[]{}#~")

Say = Callable[[str], None]
# 单位编码 → (状态, 错误, 警告): what the 概览 of a report and the status table both show for a unit.
UnitStates = dict[str, tuple[str, int, int]]


@dataclass(frozen=True)
class Round:
    """One import round: what the run did, ``status`` right after it, and its report's 概览 read back."""

    result: ImportResult
    status: tuple[UnitStatus, ...]
    report_states: UnitStates

    @property
    def status_states(self) -> UnitStates:
        return {row.code: (row.state, row.errors, row.warnings) for row in self.status}

    @property
    def agrees(self) -> bool:
        """True when the run's 概览 gives every unit the state and counts ``status`` gives it."""
        return self.report_states == self.status_states


@dataclass
class DemoResult:
    """Where the demo put everything and what it observed."""

    workspace: Workspace
    rounds: list[Round] = field(default_factory=list)
    consolidated: list[Path] = field(default_factory=list)
    published: list[Path] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """True when every round's report agreed with ``status``."""
        return all(r.agrees for r in self.rounds)


def demo_master() -> Master:
    """The seed sample plus two demonstration units built from its projects (clearly named 演示)."""
    sample = load_sample()
    extra_units = (Unit(TAMPERED_UNIT, "巨鹿县政务服务中心（演示）", "435"),
                   Unit(BLANK_UNIT, "巨鹿县公共资源交易中心（演示）", "435"))
    extra_projects = []
    for unit, picks in zip(extra_units, ((0, 4), (1, 3))):
        for n, index in enumerate(picks, start=1):
            base = sample.projects[index]
            extra_projects.append(replace(base, unit_code=unit.code, code=f"{unit.code}DEMO{n:02d}"))
    return replace(sample, units=sample.units + extra_units, projects=sample.projects + tuple(extra_projects))


def prepare(root: Path) -> Path:
    """A clean demo folder: refuses to empty a folder the demo did not create."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise InputError(f"{root} 是一个文件，不是文件夹；请用 --out 指定一个新的或空的文件夹。")
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise InputError(f"文件夹 {root} 已有其他文件，演示不会覆盖它们；请用 --out 指定一个新的或空的文件夹。")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("jixiao-xl demo output; safe to delete\n", encoding="utf-8")
    return root


def create_workspace(root: Path, master: Master) -> Workspace:
    """The year's workspace in ``root``: jixiao.toml with the deadline, the demo master as 主数据.xlsx, the
    folders and the ledger (``init_workspace`` keeps the configuration and master written first)."""
    config = render_config({"": {"year": master.settings.year}, "issue": {"deadline": DEADLINE}})
    write_atomic(root / CONFIG_NAME, config.encode("utf-8"))
    write_master(root / MASTER_NAME, master)
    return init_workspace(root, year=master.settings.year, force=True).workspace


def run_demo(root: Path, say: Say = print) -> DemoResult:
    """Run the year in a workspace at ``root`` and narrate it in Chinese through ``say``."""
    workspace = create_workspace(prepare(root), demo_master())
    demo = DemoResult(workspace)
    master = _issue(workspace, say)

    seed, tampered, blank = _round_one_returns(workspace, master)
    say(f"2. 第一轮，收件/ 中有：{seed.name}（{how_saved(seed)}）、{tampered.name}（擅自改动了锁定的预算数）、"
        f"{blank.name}（{BLANK_UNIT} 把下发的空白表原样发了回来）")
    first = _import_round(workspace, master, "第一轮", say)
    _show_round_one(first, say)
    _show_agreement(first, 3, say)
    demo.consolidated.append(_consolidate(workspace, master, ROUND_ONE_CONSOLIDATED, 4, say))

    corrected = _simulate_corrected_return(workspace, master)
    say(f"5. 第二轮：{TAMPERED_UNIT} 改正后重新报送 {corrected.name}，放入 收件/ 后再次导入")
    second = _import_round(workspace, master, "第二轮", say)
    say(f"   {TAMPERED_UNIT} 的新报送取代了第一次报送（台账保留两次记录）；第一轮的报告原样保留在 {first.result.out_dir.name}/")
    _show_agreement(second, 6, say)
    demo.consolidated.append(_consolidate(workspace, master, CONSOLIDATED_NAME, 7, say))
    demo.rounds += [first, second]

    demo.published = _publish_seed_unit(workspace, master, 8, say)
    _say_next_steps(Path(root), 9, say)
    _say_where(demo, 10, say)
    return demo


# ---------------------------------------------------------------------------------------------------------
# The steps


def _issue(workspace: Workspace, say: Say) -> Master:
    """Step 1: check the master as generate does, then issue every unit's workbook into 下发/."""
    from .console import severity_summary
    from .precheck import check_before_issue

    master = load_master(workspace.master)
    check = check_before_issue(workspace.master, master)
    if check.blocks:  # the demo's own master is sound; anything else is a bug in the demo
        raise RuntimeError(f"demo master has {check.issued_errors} errors in its issued data")
    issued = generate(master, workspace.master, GenerateOptions(
        out_dir=workspace.issued, password=workspace.password, deadline=workspace.deadline,
        ledger_path=workspace.ledger, project_template=workspace.project_template,
        dept_template=workspace.dept_template))
    say(f"1. 建立工作区 {workspace.root}（jixiao.toml、{workspace.master.name}、台账），"
        f"截止日期 {workspace.deadline}；主数据 {len(master.units)} 个单位，435001 为原始文件中的巨鹿县行政审批局本级")
    say(f"   生成下发表格 {len(issued)} 份到 下发/：下发内容无错误；单位填报部分有 {len(check.for_units)} 处问题"
        f"（{severity_summary(check.for_units)}），是示例原文自带的，单位报回后核对时会要求改正")
    return master


def _round_one_returns(workspace: Workspace, master: Master) -> tuple[Path, Path, Path]:
    """The mail of round one in 收件/: the seed unit's filled return, 435002's with an edited budget, and
    435003's issued workbook sent back unchanged."""
    blank = workspace.inbox / workbook_name(master.unit(BLANK_UNIT))
    shutil.copy2(_issued_file(workspace, master, BLANK_UNIT), blank)
    return _simulate_seed_return(workspace, master), _simulate_tampered_return(workspace, master), blank


def _import_options(workspace: Workspace) -> ImportOptions:
    """What ``jixiao-xl import`` uses inside a workspace with no flags: 收件/, a new 核对/<run>/, 原件/."""
    return ImportOptions(paths=(workspace.inbox,), out_dir=workspace.checked, ledger_path=workspace.ledger, jobs=1,
                         project_template=workspace.project_template, dept_template=workspace.dept_template,
                         rules_path=workspace.rules_path, password=workspace.password,
                         manifest_path=workspace.manifest, originals_dir=workspace.originals,
                         deadline=workspace.deadline, run_folders=True, workspace=workspace)


def _import_round(workspace: Workspace, master: Master, label: str, say: Say) -> Round:
    """Import 收件/ as ``jixiao-xl import`` does, then take ``status`` and the run's 概览."""
    result = run_import(master, _import_options(workspace))
    # Ledger.open rather than the CLI's open_readonly: the demo owns this ledger, and closing a writable
    # connection checkpoints the journal, so the workspace is left without -wal/-shm files beside it.
    new = result.files - result.duplicates
    say(f"   导入 收件/ {result.files} 个文件（新文件 {new} 个"
        + (f"，{result.duplicates} 个已导入过，未重复导入" if result.duplicates else "")
        + f"）：错误 {_count(result.findings, 'error')} 条，警告 {_count(result.findings, 'warning')} 条；"
        f"{label}的报告在 核对/{result.out_dir.name}/")
    with Ledger.open(workspace.ledger) as ledger:
        rows = tuple(unit_status(master, ledger, read_manifest(workspace.manifest)))
    return Round(result, rows, overview_states(result.out_dir / XLSX_NAME))


def _show_round_one(first: Round, say: Say) -> None:
    """What round one found in the edited budget and the blank workbook."""
    tampers = [f for f in first.result.findings if f.rule == "X-TAMPER" and f.unit_code == TAMPERED_UNIT]
    for tamper in tampers:
        same_cell = [f for f in first.result.findings if f.file == tamper.file and f.sheet == tamper.sheet
                     and f.cell == tamper.cell]
        alone = "（该单元格只有这一条问题）" if len(same_cell) == 1 else ""
        say(f"   · {TAMPERED_UNIT} {tamper.sheet}!{tamper.cell} X-TAMPER{alone}：{tamper.message}")
    blanks = [f for f in first.result.findings if f.rule == "X-BLANK"]
    state = {row.code: row.state for row in first.status}.get(BLANK_UNIT, "")
    for blank in blanks:
        say(f"   · {Path(blank.file).name}：未填写的下发表（X-BLANK），只报告给主管部门、不发给单位，"
            f"不算报送；{BLANK_UNIT} 仍为“{state}”")


def _show_agreement(done: Round, step: int, say: Say) -> None:
    """``status`` as the CLI prints it, and whether the run's 概览 gives every unit the same state."""
    say(f"{step}. jixiao-xl status（与命令行同一函数）：")
    for line in render_status_table(done.status).rstrip("\n").splitlines():
        say(f"   {line}" if line else "")
    if done.agrees:
        say(f"   核对/{done.result.out_dir.name}/report.xlsx 的“概览”与 status 逐个单位比对：状态和错误、警告数全部一致"
            f"（{len(done.status_states)} 个单位）")
        return
    for code in sorted(set(done.status_states) | set(done.report_states)):
        if done.status_states.get(code) != done.report_states.get(code):
            say(f"   不一致：{code} status 为 {done.status_states.get(code)}，报告概览为 {done.report_states.get(code)}")


def _consolidate(workspace: Workspace, master: Master, name: str, step: int, say: Say) -> Path:
    """Consolidate the counted returns into 汇总/``name``, comparing 预算数合计 with the master's total."""
    from .consolidate import consolidate, write_consolidation

    with Ledger.open(workspace.ledger) as ledger:
        result = consolidate(master, ledger)
    target = write_consolidation(result, workspace.consolidated / name)
    expected = sum((master.unit_budget(unit.code) for unit in master.units), Decimal(0))
    verdict = "等于" if result.grand_total == expected else "不等于"
    unit = master.settings.money_unit
    say(f"{step}. 汇总到 汇总/{name}：预算数合计 {_money(result.grand_total)} {unit}，{verdict}主数据合计 {_money(expected)} {unit}")
    edits = [(source.code, edit) for source in result.units for edit in source.edits]
    for code, edit in edits:
        say(f"   · {code} 表内 {edit.place} 的{edit.field}填报为 {_money(edit.returned)}，未计入；按下发数 "
            f"{_money(edit.issued)} 汇总，改动列在汇总表“核对”页")
    if not edits:
        say("   锁定的下发数已没有被改动的（第一轮的改动见 汇总表-第一轮后.xlsx 的“核对”页）")
    return target


def _publish_seed_unit(workspace: Workspace, master: Master, step: int, say: Say) -> list[Path]:
    """The 预算公开 document of the seed unit from its counted return (published even with open errors)."""
    from .publish import FORMATS, publish_units

    with Ledger.open(workspace.ledger) as ledger:
        result = publish_units(master, ledger, [SEED_UNIT], workspace.public, FORMATS, force=True)
    documents = result.written[SEED_UNIT]
    forced = SEED_UNIT in result.forced
    say(f"{step}. 预算公开文本（DOCX、PDF、HTML）写到 公开/" +
        ("；435001 的报送仍有错误，按 --force 照样公开（正式公开前应先退回修改，publish 默认拒绝）" if forced else ""))
    for path in documents:
        say(f"   · {path.relative_to(workspace.root)}")
    return documents


def _say_next_steps(root: Path, step: int, say: Say) -> None:
    """The commands a user runs next inside the workspace (no path flags needed there)."""
    say(f"{step}. 接下来在工作区中试试（不需要任何路径参数）：")
    say(f"   cd {shell_word(str(root))} && jixiao-xl status")
    for command, what in (("jixiao-xl report", "按当前状态重新生成核对报告、退回通知和催报名单"),
                          ("jixiao-xl import", "导入 收件/ 中新放入的报回文件"),
                          ("jixiao-xl consolidate", "重新汇总到 汇总/"),
                          ("jixiao-xl links", "各单位的填报链接"),
                          ("jixiao-xl serve", "启动填报网站（先用 jixiao-xl user add 姓名 建主管部门账号）")):
        say(f"   {command:<24}# {what}")


def _say_where(demo: DemoResult, step: int, say: Say) -> None:
    """Where everything is, ending the output."""
    ws = demo.workspace
    runs = "、".join(f"{r.result.out_dir.name}/" for r in demo.rounds)
    say(f"{step}. 文件在哪里（工作区 {ws.root}）：")
    for folder, what in ((ws.issued, "下发的工作簿、通知和 manifest.csv"), (ws.inbox, "两轮报回的文件"),
                         (ws.originals, "收到的每个文件的原样副本"), (ws.checked, f"每轮的核对报告、退回修改表、退回通知和催报名单：{runs}"),
                         (ws.consolidated, "、".join(p.name for p in demo.consolidated)),
                         (ws.public, "、".join(p.suffix.lstrip(".").upper() for p in demo.published))):
        say(f"   {folder.name}/  {what}")
    say(f"   {ws.master.name}、{CONFIG_NAME}、{ws.ledger.name}  主数据、配置、台账")


# ---------------------------------------------------------------------------------------------------------
# Reading back and small helpers


def overview_states(report: Path) -> UnitStates:
    """The unit part of a report.xlsx 概览: 单位编码 → (状态, 错误, 警告) (empty when the report has none)."""
    rows = list(ValueBook(report).rows_from_a1("概览"))
    if not rows or rows[0][0] != UNITS_TITLE:
        return {}
    states: UnitStates = {}
    for row in rows[2:]:
        if row[0] == "合计":
            break
        states[str(row[0])] = (str(row[2]), int(row[5]), int(row[6]))
    return states


def shell_word(text: str) -> str:
    """``text`` as one shell word: as it is unless it holds a space or a character the shell treats specially
    (Chinese folder names stay readable)."""
    return shlex.quote(text) if any(char.isspace() or char in SHELL_SPECIAL for char in text) else text


def _count(findings: list[Finding], severity: str) -> int:
    return sum(1 for f in findings if f.severity == severity)


def _money(amount: Decimal | None) -> str:
    return "（空）" if amount is None else str(amount.quantize(Decimal("0.01")))


def _issued_file(workspace: Workspace, master: Master, code: str) -> Path:
    return workspace.issued / workbook_name(master.unit(code))


# ---------------------------------------------------------------------------------------------------------
# The simulated returns (the units typing into their issued forms)


def _simulate_seed_return(workspace: Workspace, master: Master) -> Path:
    """435001 fills its form as people do: glued values, full-width digits, a spare row, the missing plan."""
    target = workspace.inbox / f"{SEED_UNIT}-绩效目标表-已填.xlsx"
    edit_workbook(_issued_file(workspace, master, SEED_UNIT), target, {UNIFORM_SHEET: {
        "E7": 9,
        "B9": "完成窗口工作人员统一着装 50 套，提升政务服务形象",
        "F12": "≤２%",
        "A18": "效益指标", "B18": "社会效益指标", "C18": "窗口形象满意度", "D18": "群众对窗口形象的评价",
        "E18": "≥", "F18": "９５", "G18": "％", "H18": "调查问卷",
        "B21": "王芳", "E21": "0319-5321234", "H21": "2022年1月10日",
    }})
    _resave_with_libreoffice(target)
    return target


def _simulate_tampered_return(workspace: Workspace, master: Master) -> Path:
    """435002 unprotects a sheet and raises its budget, which reconciliation must catch."""
    target = workspace.inbox / workbook_name(master.unit(TAMPERED_UNIT))
    return edit_workbook(_issued_file(workspace, master, TAMPERED_UNIT), target, {FIRST_PROJECT_SHEET: {"B4": 8}},
                         unprotect=[FIRST_PROJECT_SHEET])


def _simulate_corrected_return(workspace: Workspace, master: Master) -> Path:
    """435002 sends the issued form back with its budget untouched."""
    target = workspace.inbox / f"{TAMPERED_UNIT}-修改后.xlsx"
    return edit_workbook(_issued_file(workspace, master, TAMPERED_UNIT), target, {FIRST_PROJECT_SHEET: {"B21": "李明"}})


def _resave_with_libreoffice(path: Path) -> None:
    """Re-save through LibreOffice when it is installed, as a department using it would (else leave as is)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        command = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                   "xlsx:Calc MS Excel 2007 XML", "--outdir", str(Path(tmp) / "out"), str(path)]
        try:
            subprocess.run(command, check=True, timeout=120, capture_output=True)
        except (OSError, subprocess.SubprocessError):
            return
        converted = Path(tmp) / "out" / path.name
        if converted.exists():
            shutil.move(str(converted), str(path))


def how_saved(path: Path) -> str:
    """'已填写，并用 LibreOffice 另存' when LibreOffice wrote the file, else '已填写'."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            app = archive.read("docProps/app.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return "已填写"
    return "已填写，并用 LibreOffice 另存" if "LibreOffice" in app else "已填写"
