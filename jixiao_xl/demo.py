"""`jixiao-xl demo`: the whole yearly cycle on the bundled sample, with simulated department returns.

The seed unit (435001) is joined by two demonstration units so that the cycle shows every situation a
bureau meets: a return typed carelessly but honestly (values glued to their units, full-width digits, a
spare indicator row used, the missing 12月底 plan filled in), re-saved by LibreOffice when it is
installed; a return whose locked budget was changed; a corrected resubmission; and a unit that has not
returned yet.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Callable

import openpyxl

from .errors import InputError
from .generate import GenerateOptions, generate, workbook_name
from .importer import ImportOptions, run_import
from .ledger import Ledger
from .master import load_sample, write_master
from .model import Master, Unit

MARKER = ".jixiao-demo"
SEED_UNIT = "435001"
UNIFORM_SHEET = "3.统一着装经费"


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo put everything."""

    root: Path

    @property
    def master(self) -> Path:
        return self.root / "示例主数据.xlsx"

    @property
    def issued(self) -> Path:
        return self.root / "下发"

    @property
    def returns(self) -> Path:
        return self.root / "报回"

    @property
    def resubmitted(self) -> Path:
        return self.root / "报回-第二轮"

    @property
    def checked(self) -> Path:
        return self.root / "核对"

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.sqlite"

    @property
    def consolidated(self) -> Path:
        return self.root / "汇总" / "汇总表.xlsx"

    @property
    def published(self) -> Path:
        return self.root / "公开"


def demo_master() -> Master:
    """The seed sample plus two demonstration units built from its projects (clearly named 演示)."""
    sample = load_sample()
    extra_units = (Unit("435002", "巨鹿县政务服务中心（演示）", "435"), Unit("435003", "巨鹿县公共资源交易中心（演示）", "435"))
    extra_projects = []
    for unit, picks in zip(extra_units, ((0, 4), (1, 3))):
        for n, index in enumerate(picks, start=1):
            base = sample.projects[index]
            extra_projects.append(replace(base, unit_code=unit.code, code=f"{unit.code}DEMO{n:02d}"))
    return replace(sample, units=sample.units + extra_units, projects=sample.projects + tuple(extra_projects))


def prepare(root: Path) -> DemoPaths:
    """A clean demo folder: refuses to empty a folder the demo did not create."""
    root = Path(root)
    if root.exists() and any(root.iterdir()):
        if not (root / MARKER).exists():
            raise InputError(f"文件夹 {root} 已有其他文件，演示不会覆盖它们；请用 --out 指定一个新的或空的文件夹。")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("jixiao-xl demo output; safe to delete\n", encoding="utf-8")
    return DemoPaths(root)


def run_demo(root: Path, say: Callable[[str], None] = print) -> DemoPaths:
    """Run the cycle and narrate it in Chinese through ``say``."""
    paths = prepare(root)
    master = demo_master()
    write_master(paths.master, master)
    say(f"1. 写出主数据：{paths.master}（3 个单位，其中 435001 为原始文件中的巨鹿县行政审批局本级）")

    issued = generate(master, paths.master, GenerateOptions(out_dir=paths.issued, jobs=1))
    say(f"2. 生成下发表格 {len(issued)} 份：{paths.issued}")

    paths.returns.mkdir()
    seed_file = _simulate_seed_return(paths, master)
    tampered = _simulate_tampered_return(paths, master)
    say(f"3. 模拟单位报回：{seed_file.name}（{_how_saved(seed_file)}），{tampered.name}（擅自改动了预算数）；435003 尚未报送")

    first = run_import(master, _import_options(paths, paths.returns))
    say(f"4. 第一轮导入核对：错误 {_count(first.findings, 'error')} 条，警告 {_count(first.findings, 'warning')} 条；"
        f"报告 {first.reports.html}")
    for finding in [f for f in first.findings if f.rule in ("X-TAMPER", "R-C1", "R-F5")][:4]:
        say(f"   · {finding.sheet}!{finding.cell} {finding.rule}：{finding.message}")

    paths.resubmitted.mkdir()
    corrected = _simulate_corrected_return(paths, master)
    second = run_import(master, _import_options(paths, paths.resubmitted))
    say(f"5. 第二轮：{corrected.name} 改正后重新报送，替代了第一次报送（台账保留两次记录）；"
        f"本轮错误 {_count(second.findings, 'error')} 条")

    from .consolidate import consolidate, write_consolidation

    with Ledger.open(paths.ledger) as ledger:
        result = consolidate(master, ledger)
    write_consolidation(result, paths.consolidated)
    say(f"6. 全局汇总：{paths.consolidated}（预算数合计 {_money(result.grand_total)} 万元，每个数字注明来源单元格）")
    _publish_seed_unit(paths, master, say)
    say(f"查看报送情况：jixiao-xl status --master {paths.master} --ledger {paths.ledger} --manifest {paths.issued / 'manifest.csv'}")
    return paths


def _publish_seed_unit(paths: DemoPaths, master: Master, say: Callable[[str], None]) -> None:
    """Step 7: the 预算公开 document of the seed unit, from its counted return (published even with open errors)."""
    from .publish import FORMATS, publish_units

    with Ledger.open(paths.ledger) as ledger:
        result = publish_units(master, ledger, [SEED_UNIT], paths.published, FORMATS, force=True)
    documents = result.written[SEED_UNIT]
    note = "；其报送仍有错误，正式公开前应先退回修改（publish 默认拒绝，--force 照样公开）" if result.forced else ""
    say(f"7. 预算公开文本（DOCX、PDF、HTML）：{paths.published}{note}")
    for path in documents:
        say(f"   · {path.name}")


def _import_options(paths: DemoPaths, folder: Path) -> ImportOptions:
    return ImportOptions(paths=(folder,), out_dir=paths.checked, ledger_path=paths.ledger, jobs=1)


def _count(findings, severity: str) -> int:
    return sum(1 for f in findings if f.severity == severity)


def _money(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def _issued_file(paths: DemoPaths, master: Master, code: str) -> Path:
    return paths.issued / workbook_name(master.unit(code))


def _simulate_seed_return(paths: DemoPaths, master: Master) -> Path:
    """435001 fills its form as people do: glued values, full-width digits, a spare row, the missing plan."""
    target = paths.returns / f"{SEED_UNIT}-绩效目标表-已填.xlsx"
    wb = openpyxl.load_workbook(_issued_file(paths, master, SEED_UNIT))
    ws = wb[UNIFORM_SHEET]
    ws["E7"] = 9
    ws["B9"] = "完成窗口工作人员统一着装 50 套，提升政务服务形象"
    ws["F12"] = "≤２%"
    ws["A18"], ws["B18"], ws["C18"], ws["D18"] = "效益指标", "社会效益指标", "窗口形象满意度", "群众对窗口形象的评价"
    ws["E18"], ws["F18"], ws["G18"], ws["H18"] = "≥", "９５", "％", "调查问卷"
    ws["B21"], ws["E21"], ws["H21"] = "王芳", "0319-5321234", "2022年1月10日"
    wb.save(target)
    _resave_with_libreoffice(target)
    return target


def _simulate_tampered_return(paths: DemoPaths, master: Master) -> Path:
    """435002 unprotects a sheet and raises its budget, which reconciliation must catch."""
    target = paths.returns / workbook_name(master.unit("435002"))
    wb = openpyxl.load_workbook(_issued_file(paths, master, "435002"))
    ws = wb.worksheets[1]
    ws.protection.sheet = False
    ws["B4"] = 8
    wb.save(target)
    return target


def _simulate_corrected_return(paths: DemoPaths, master: Master) -> Path:
    """435002 sends the issued form back with its budget untouched."""
    target = paths.resubmitted / "435002-修改后.xlsx"
    wb = openpyxl.load_workbook(_issued_file(paths, master, "435002"))
    wb.worksheets[1]["B21"] = "李明"
    wb.save(target)
    return target


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


def _how_saved(path: Path) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            app = archive.read("docProps/app.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return "已填写"
    return "已填写，并用 LibreOffice 另存" if "LibreOffice" in app else "已填写"
