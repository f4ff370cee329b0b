"""What the bureau sends after a check: a 退回通知 to every unit whose return must be corrected, and a 催报
list of the units that have not returned yet (issue 13).

Both come from the same state as ``status`` (:func:`jixiao_xl.status.unit_status` rows): a notice is written
for a unit whose counted return is one of this run's files and has errors or warnings (the units that get a
退回修改 workbook), listing every problem the unit must act on with its sheet and cell; 催报.xlsx lists
every unit in state 待报送 or 未下发 with its contact (master 单位: 联系人, 联系电话) and the deadline. A
notice that cannot be written is a finding for its unit; the others are still written.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Iterable, Sequence

from .catalogue import define
from .counting import AWAITING, NOT_SENT
from .fill import render_text
from .findings import Finding
from .ledger import display_time
from .model import Master
from .report import cell_order
from .safety import FIXED_DOCUMENT_TIME, atomic_target, commit_atomic, flush_to_disk, safe_file_stem, write_atomic
from .sendback import findings_of, needs_sendback
from .status import UnitStatus
from .submission import Submission
from .xlsx import new_workbook

NOTICE_FOLDER = "退回通知"
NOTICE_TEMPLATE = "退回通知.txt.j2"
REMINDER_NAME = "催报.xlsx"
REMINDER_HEADERS = ("序号", "单位编码", "单位名称", "状态", "联系人", "联系电话", "报送截止时间", "下发文件")

G_NOTICE = define("G-NOTICE", "warning", "退回通知未能生成",
                  "请按核对报告中该单位的问题清单另行通知单位修改；如反复出现，请把 --debug 输出发给维护人员。",
                  "本工具约定", audience="bureau")


def notice_name(unit_code: str, unit_name: str) -> str:
    """The file name of a unit's 退回通知."""
    return safe_file_stem(f"{unit_code}-{unit_name}") + "-退回通知.txt"


def where(problem: Finding) -> str:
    """Where a problem is, as a person says it: ``工作表“1.光纤租赁”第 F14 格`` (or the file as a whole)."""
    if problem.sheet and problem.cell:
        return f"工作表“{problem.sheet}”{problem.cell} 单元格"
    if problem.sheet:
        return f"工作表“{problem.sheet}”"
    return "整个文件"


def _ordered(problems: Iterable[Finding]) -> list[Finding]:
    return sorted(problems, key=lambda f: (f.sheet, cell_order(f.cell)))


def render_notice(master: Master, unit: UnitStatus, sub: Submission, problems: Sequence[Finding], deadline: str,
                  today: date | None = None) -> str:
    """The text of one unit's 退回通知."""
    unit_record = master.unit(unit.code)
    return render_text(NOTICE_TEMPLATE, settings=master.settings, unit=unit_record or unit,
                       file_name=Path(sub.file).name, received=display_time(unit.received_at),
                       errors=_ordered(f for f in problems if f.severity == "error"),
                       warnings=_ordered(f for f in problems if f.severity == "warning"),
                       where=where, deadline=deadline, date=(today or date.today()).strftime("%Y年%m月%d日"))


def write_followups(folder: Path, master: Master, units: Sequence[UnitStatus], findings: Sequence[Finding],
                    submissions: Sequence[Submission], counted_files: set[str],
                    deadline: str = "") -> tuple[list[Path], list[Finding]]:
    """Write 退回通知/ and 催报.xlsx into ``folder``; return the files written and the findings for notices that
    could not be written."""
    folder = Path(folder)
    written, failures = [], []
    by_file: dict[str, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    states = {unit.code: unit for unit in units}
    for sub in submissions:
        unit = states.get(sub.unit_code)
        if unit is None or sub.file not in counted_files:
            continue
        problems = findings_of(sub, by_file.get(sub.file, ()))
        if not needs_sendback(problems):
            continue
        path = folder / NOTICE_FOLDER / notice_name(unit.code, unit.name)
        try:
            text = render_notice(master, unit, sub, problems, deadline)
            write_atomic(path, text.replace("\n", "\r\n").encode("utf-8-sig"), durable=False)
        except Exception as exc:  # noqa: BLE001 - one unit's notice must not cost the others
            failures.append(Finding(G_NOTICE.code, G_NOTICE.severity,
                                    f"未能生成该单位的退回通知（{type(exc).__name__}: {exc}）；请按问题清单另行通知。",
                                    file=sub.file, sha256=sub.sha256, unit_code=unit.code))
            continue
        written.append(path)
    flush_to_disk(written)  # one flush for all the notices instead of one fsync each
    written.append(write_reminders(folder / REMINDER_NAME, master, units, deadline))
    return written, failures


def outstanding(units: Sequence[UnitStatus]) -> list[UnitStatus]:
    """The units that have not returned (待报送 first, then 未下发), in master order."""
    return ([u for u in units if u.state == AWAITING and u.in_master]
            + [u for u in units if u.state == NOT_SENT and u.in_master])


def write_reminders(path: Path, master: Master, units: Sequence[UnitStatus], deadline: str) -> Path:
    """催报.xlsx: every unit not yet returned, with its contact, phone and the deadline (text cells only)."""
    tmp = atomic_target(path)
    try:
        wb = new_workbook(tmp)
        wb.set_properties({"title": "催报名单", "author": "jixiao-xl", "created": FIXED_DOCUMENT_TIME})
        head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "font_name": "宋体"})
        text = wb.add_format({"border": 1, "font_name": "宋体"})
        ws = wb.add_worksheet("催报")
        for col, (title, width) in enumerate(zip(REMINDER_HEADERS, (6, 12, 30, 10, 12, 16, 18, 40))):
            ws.write_string(0, col, title, head)
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        rows = outstanding(units)
        for r, unit in enumerate(rows, start=1):
            record = master.unit(unit.code)
            cells = (unit.code, unit.name, unit.state, record.contact if record else "", record.phone if record else "",
                     deadline or "（未设定）", unit.sent_file)
            ws.write_number(r, 0, r, text)
            for col, value in enumerate(cells, start=1):
                ws.write_string(r, col, value, text)
        ws.write_string(len(rows) + 2, 0, f"共 {len(rows)} 个单位未报送。" if rows else "所有单位均已报送。")
        wb.close()
        commit_atomic(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
