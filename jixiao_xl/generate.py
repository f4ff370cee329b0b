"""The generate stage: one locked, pre-filled workbook per unit, a manifest and a cover notice each."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Callable, Sequence

from .errors import InputError, note_progress
from .fill import DEFAULT_PASSWORD, RenderRequest, render_text, render_unit
from .ledger import IssuedRow, Ledger, TemplateBlob
from .model import Master, Unit
from .runtime import shared_objects_frozen, make_executor, run_all
from .safety import flush_to_disk, neutralise_formula, restore_formula_text, safe_file_stem, write_atomic
from .template import DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, FormSpec, builtin_template, load_spec

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("单位编码", "单位名称", "文件", "sha256", "项目数", "预算数合计", "金额单位", "模板", "模板版本", "生成时间",
                    "强制下发")
# 强制下发: 是 when `generate --force` issued the workbook although the master's issued data had errors.
FORCED, NOT_FORCED = "是", "否"


@dataclass(frozen=True)
class Issued:
    """One generated workbook, as listed in the manifest."""

    unit_code: str
    unit_name: str
    file: str
    sha256: str
    projects: int
    budget_total: Decimal

    def row(self, master: Master, spec: FormSpec, generated_at: datetime, forced: bool = False) -> list[str]:
        return [self.unit_code, self.unit_name, self.file, self.sha256, str(self.projects), str(self.budget_total),
                master.settings.money_unit, spec.template_id, spec.version, generated_at.isoformat(timespec="seconds"),
                FORCED if forced else NOT_FORCED]


@dataclass(frozen=True)
class GenerateOptions:
    """What the user chose on the command line."""

    out_dir: Path
    project_template: Path | None = None
    dept_template: Path | None = None
    units: tuple[str, ...] = ()
    jobs: int = 1
    password: str = DEFAULT_PASSWORD
    deadline: str = ""
    ledger_path: Path | None = None  # where every issued workbook and its templates are recorded (None: nowhere)
    # Issued with --force although the issued data had errors: recorded with each workbook, marked in the manifest.
    force: bool = False
    links: tuple[tuple[str, str], ...] = ()  # (unit code, personal upload link) written into the notices


def unit_file_stem(unit: Unit) -> str:
    """The stem every file made for a unit starts with: "<编码>-<名称>", safe on Windows and Linux, inside the
    output folder, short enough in bytes for what is added to it."""
    return safe_file_stem(f"{unit.code}-{unit.name}")


def workbook_name(unit: Unit) -> str:
    """The file name of a unit's workbook."""
    return unit_file_stem(unit) + ".xlsx"


def notice_name(unit: Unit) -> str:
    """The file name of a unit's cover notice."""
    return unit_file_stem(unit) + "-通知.txt"


def generation_time(master_path: Path | None) -> datetime:
    """The time recorded in every workbook: SOURCE_DATE_EPOCH, else the master's modification time.

    Deriving it from the input (not the clock) keeps identical inputs giving byte-identical files.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        stamp = int(epoch)
    elif master_path is not None and Path(master_path).exists():
        target = Path(master_path)
        files = [p for p in target.rglob("*") if p.is_file()] if target.is_dir() else [target]
        stamp = int(max((p.stat().st_mtime for p in files), default=0))
    else:
        stamp = 946684800
    return datetime.fromtimestamp(stamp, tz=timezone.utc).replace(tzinfo=None)


def select_units(master: Master, codes: Sequence[str]) -> list[Unit]:
    """The units to generate for: all, or those named (unknown codes are a usage error)."""
    if not codes:
        return list(master.units)
    known = {u.code: u for u in master.units}
    missing = [c for c in codes if c not in known]
    if missing:
        raise InputError(f"主数据中没有单位编码 {'、'.join(missing)}。请检查 --unit 参数。")
    return [known[c] for c in dict.fromkeys(codes)]


_WORKER: dict = {}


def _init_worker(master: Master, project_spec: FormSpec, dept_spec: FormSpec, options: GenerateOptions,
                 generated_at: datetime) -> None:
    _WORKER.update(master=master, project_spec=project_spec, dept_spec=dept_spec, options=options,
                   generated_at=generated_at)


def _generate_one(unit: Unit) -> Issued:
    master, options = _WORKER["master"], _WORKER["options"]
    request = RenderRequest(master, unit, _WORKER["project_spec"], _WORKER["dept_spec"], options.password,
                            _WORKER["generated_at"], options.deadline)
    path = options.out_dir / workbook_name(unit)
    digest = hashlib.sha256(render_unit(request, path, durable=False)).hexdigest()
    projects = master.projects_of(unit.code)
    notice = render_text("通知.txt.j2", settings=master.settings, unit=unit, projects=projects, file_name=path.name,
                         total=master.unit_budget(unit.code), deadline=options.deadline,
                         link=dict(options.links).get(unit.code, ""),
                         date=_WORKER["generated_at"].strftime("%Y年%m月%d日"))
    write_atomic(options.out_dir / notice_name(unit), notice.replace("\n", "\r\n").encode("utf-8-sig"), durable=False)
    return Issued(unit.code, unit.name, path.name, digest, len(projects), master.unit_budget(unit.code))


def generate(master: Master, master_path: Path | None, options: GenerateOptions,
             on_done: Callable[[Issued], None] = lambda issued: None) -> list[Issued]:
    """Render every selected unit's workbook into ``options.out_dir`` and write the manifest."""
    project_path = options.project_template or builtin_template(PROJECT_TEMPLATE)
    dept_path = options.dept_template or builtin_template(DEPARTMENT_TEMPLATE)
    project_spec, dept_spec = load_spec(project_path), load_spec(dept_path)
    # The bytes are read now, next to compiling, so the ledger keeps the very template the forms were made from.
    blobs = (_template_blob(project_path, project_spec), _template_blob(dept_path, dept_spec))
    if project_spec.kind != "project":
        raise InputError(f"{options.project_template} 不是项目支出绩效目标表模板（缺少 ind.* 明细行）。")
    if dept_spec.kind != "department":
        raise InputError(f"{options.dept_template} 不是部门整体支出绩效目标表模板（缺少 dind.* 明细行）。")
    units = select_units(master, options.units)
    _check_file_names(units)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    generated_at = generation_time(master_path)
    initargs = (master, project_spec, dept_spec, options, generated_at)
    written: list[Issued] = []

    def finished(item: Issued) -> None:
        written.append(item)
        note_progress(f"{len(written)} 个单位的工作簿已写完整", f"其余 {len(units) - len(written)} 个单位的工作簿和下发清单",
                      options.out_dir)
        on_done(item)

    note_progress("尚未写完任何单位的工作簿", f"全部 {len(units)} 个单位的工作簿和下发清单", options.out_dir)
    with shared_objects_frozen():
        executor = make_executor(options.jobs, _init_worker, initargs)
        try:
            issued = list(run_all(executor, _generate_one, units, finished))
        finally:
            executor.shutdown()
    order = {unit.code: n for n, unit in enumerate(units)}
    issued.sort(key=lambda i: order[i.unit_code])
    # The workbooks and notices were written without a per-file fsync; flush them all before the
    # manifest (durable) says they exist.
    flush_to_disk(options.out_dir / name for unit in units for name in (workbook_name(unit), notice_name(unit)))
    _write_manifest(options.out_dir / MANIFEST, issued, master, project_spec, generated_at, options.force)
    if options.ledger_path is not None:
        record_issued(options.ledger_path, issued, blobs, master, options, generated_at)
    return issued


def _template_blob(path: Path, spec: FormSpec) -> TemplateBlob:
    content = Path(path).read_bytes()
    return TemplateBlob(hashlib.sha256(content).hexdigest(), Path(path).name, spec.template_id, spec.version,
                        spec.kind, content)


def record_issued(ledger_path: Path, issued: Sequence[Issued], blobs: tuple[TemplateBlob, TemplateBlob],
                  master: Master, options: GenerateOptions, generated_at: datetime) -> None:
    """Record every issued workbook in the ledger, with the bytes of the two templates it was made from."""
    project, dept = blobs
    with Ledger.open(ledger_path) as ledger:
        for blob in blobs:
            ledger.store_template(blob)
        with ledger.batch(max_records=1000) as group:
            for item in issued:
                ledger.record_issued(IssuedRow(
                    unit_code=item.unit_code, unit_name=item.unit_name, file_name=item.file,
                    file_path=str((options.out_dir / item.file).resolve()), sha256=item.sha256,
                    template_id=project.template_id, template_version=project.version, template_sha256=project.sha256,
                    dept_template_id=dept.template_id, dept_template_version=dept.version,
                    dept_template_sha256=dept.sha256, master_fingerprint=master.fingerprint,
                    generated_at=generated_at.isoformat(timespec="seconds"), forced=options.force))
                group.done()


def _check_file_names(units: list[Unit]) -> None:
    names: dict[str, str] = {}
    for unit in units:
        name = workbook_name(unit).lower()
        if name in names:
            raise InputError(f"单位 {names[name]} 和 {unit.code} 的文件名相同，请检查主数据中的单位编码是否重复。")
        names[name] = unit.code


def _write_manifest(path: Path, issued: list[Issued], master: Master, spec: FormSpec, generated_at: datetime,
                    forced: bool = False) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for item in issued:
        writer.writerow([neutralise_formula(cell) for cell in item.row(master, spec, generated_at, forced)])
    write_atomic(path, buffer.getvalue().encode("utf-8-sig"))


def read_manifest(path: Path) -> list[dict[str, str]]:
    """The rows of a manifest written by :func:`generate` (empty when there is none), cells as they were
    before formula-like text was neutralised."""
    if not Path(path).exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [{key: restore_formula_text(value) if isinstance(value, str) else value for key, value in row.items()}
                for row in csv.DictReader(handle)]
