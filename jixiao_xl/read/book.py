"""Reading a whole returned file: intake and isolation, identity and ``_meta``, the project sheets and the
department sheet, and the findings attributed to the unit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import values
from ..findings import Finding
from ..intake import Intake, Limits, inspect_file
from ..runtime import run_isolated
from ..meta import EMPTY_META, META_SHEET, Meta, parse_meta
from ..submission import Submission
from ..template import (DEPARTMENT_TEMPLATE, PROJECT_TEMPLATE, FormSpec, TemplateKey, TemplateSet, as_template_set,
                        builtin_template, load_spec)
from ..unbound import other_content
from ..workbook import CellAddress, WorkbookData, open_workbook
from .context import P_NAMES, P_NO_META, P_NOT_FORM, P_SHEET, P_UNIT, Context
from .dept import read_dept
from .locate import code_right_of_label
from .project import read_project


def default_specs() -> tuple[FormSpec, FormSpec]:
    """The compiled shipped templates (project form, department form)."""
    return load_spec(builtin_template(PROJECT_TEMPLATE)), load_spec(builtin_template(DEPARTMENT_TEMPLATE))


def read_file(path: Path, money_unit: str = "万元", specs: tuple[FormSpec, FormSpec] | None = None,
              limits: Limits = Limits(), isolate: bool = True) -> Submission:
    """Intake, then read one returned file; any problem becomes a finding (never raises for file content)."""
    intake = inspect_file(Path(path), limits)
    if not intake.readable:
        return unreadable(intake)
    specs = specs or default_specs()
    if not isolate:
        return read_intake(intake, money_unit, specs)
    result = run_isolated(read_intake, intake, money_unit, specs, limits=limits)
    return result.value if result.ok else unreadable(intake, result.finding)


def unreadable(intake: Intake, failure: Finding | None = None) -> Submission:
    """The submission of a file that could not be read: its identity and the findings that say why."""
    extra = ()
    if failure is not None:
        extra = (Finding(failure.rule, failure.severity, failure.message, file=intake.file, sha256=intake.sha256,
                         value=failure.value),)
    return Submission(file=intake.file, sha256=intake.sha256, kind=intake.kind.value,
                      findings=tuple(intake.findings) + extra)


def read_intake(intake: Intake, money_unit: str, specs: tuple[FormSpec, FormSpec] | TemplateSet) -> Submission:
    """Read a file that intake accepted (not isolated: call it inside run_isolated or an IsolatedPool).

    ``specs`` is the pair of templates to read with, or a :class:`TemplateSet` that picks the pair from what
    the return records (the template it was made from, its unit).
    """
    try:
        data = open_workbook(Path(intake.path), intake.kind.value)
    except Exception as exc:  # noqa: BLE001 - a file calamine cannot open is a finding, not a crash
        finding = Finding("I-CORRUPT", "error", f"文件已损坏或格式异常，无法读取（{type(exc).__name__}）；请在 Excel/WPS 中打开后另存为 .xlsx 再提交。",
                          file=intake.file, sha256=intake.sha256, value=type(exc).__name__)
        return unreadable(intake, finding)
    templates = as_template_set(specs)
    sub = read_workbook(data, intake.file, intake.sha256, money_unit, *templates.default, templates=templates)
    return Submission(**{**sub.__dict__, "findings": tuple(intake.findings) + sub.findings})


def read_workbook(data: WorkbookData, file: str, sha256: str, money_unit: str, project_spec: FormSpec,
                  dept_spec: FormSpec, templates: TemplateSet | None = None) -> Submission:
    """Read an opened workbook: identity, every project sheet and the department sheet.

    With ``templates``, the pair it picks for this return replaces ``project_spec`` and ``dept_spec``.
    """
    ctx = Context(data, file, sha256, money_unit)
    meta = read_meta(data)
    unit_code, unit_name = _identity(data, meta)
    template_id, template_version = _recorded_project_template(data, meta)
    if templates is not None:
        project_spec, dept_spec = templates.for_return(unit_code, *recorded_templates(data, meta))
    projects = [read_project(ctx, meta, key, sheet, project_spec) for key, sheet in _project_sheets(ctx, meta, project_spec)]
    dept = read_dept(ctx, meta, dept_spec)
    if not projects and dept is None:
        ctx.findings = []
        ctx.add(P_NOT_FORM, "文件中找不到任何项目支出绩效目标表或部门整体绩效目标表（没有“项目编码”等表头），不是下发的表格。")
    else:
        _note_lost_identity(ctx, meta, unit_code)
    findings = [replace_unit(f, unit_code) for f in ctx.findings]
    other = other_content(data, ctx.sheets, meta.field_cells) if projects or dept is not None else ()
    return Submission(
        other_content=other,
        file=file, sha256=sha256, kind=data.kind, unit_code=unit_code, unit_name=unit_name,
        template_id=template_id, template_version=template_version,
        master_fingerprint=meta.identity.master_fingerprint or data.properties.get("jixiao_master", ""),
        producer=data.producer, saved_at=data.saved_at, projects=tuple(projects), dept=dept, findings=tuple(findings),
    )


def recorded_templates(data: WorkbookData, meta: Meta) -> tuple[TemplateKey | None, TemplateKey | None]:
    """The (template id, version) of the project form and of the department form a workbook says it was made
    from (``_meta``, else the document properties, which name the project form only); None where unknown."""
    project = _recorded_project_template(data, meta)
    dept = (meta.identity.dept_template_id, meta.identity.dept_template_version)
    return (project if all(project) else None), (dept if all(dept) else None)


def _recorded_project_template(data: WorkbookData, meta: Meta) -> tuple[str, str]:
    """(template id, version) of the project form: ``_meta``, else the document properties."""
    return (meta.identity.template_id or data.properties.get("jixiao_template", ""),
            meta.identity.template_version or data.properties.get("jixiao_version", ""))


def _note_lost_identity(ctx: Context, meta: Meta, unit_code: str) -> None:
    """P-NO-META, P-NAMES-LOST and P-UNIT-UNKNOWN for what the file no longer says about itself."""
    data = ctx.data
    if not meta.values and META_SHEET not in data.sheet_names:
        ctx.add(P_NO_META, "隐藏的 _meta 工作表已被删除或丢失，已按单元格名称、表头文字定位各字段。", sheet=META_SHEET)
    if not any(n.startswith("JX_") and data.names[n] is not None for n in data.names) and \
            data.kind in ("xlsx", "xlsm", "ods"):
        ctx.add(P_NAMES, "工作簿中的 JX_ 单元格名称已全部丢失，已按表头文字和模板位置读取。")
    if not unit_code:
        ctx.add(P_UNIT, "文件中找不到单位编码（_meta、文档属性和表头都没有），无法确定是哪个单位报送的。")


def replace_unit(finding: Finding, unit_code: str) -> Finding:
    """The finding attributed to the unit (reading findings are made before the unit is known)."""
    return replace(finding, unit_code=finding.unit_code or unit_code)


# ---------------------------------------------------------------------------------------------------------
# Identity and _meta


def read_meta(data: WorkbookData) -> Meta:
    """The identity, project list and field map of the hidden ``_meta`` sheet (an empty Meta when it is gone)."""
    if META_SHEET not in data.sheet_names:
        return EMPTY_META
    try:
        sheet = data.sheet(META_SHEET)
    except Exception:  # noqa: BLE001 - a broken _meta is the same as none
        return EMPTY_META
    return parse_meta(sheet.rows)


def _identity(data: WorkbookData, meta: Meta) -> tuple[str, str]:
    """(单位编码, 单位名称): ``_meta``, the document properties, else the unit line atop a form sheet."""
    code = meta.identity.unit_code or data.properties.get("jixiao_unit", "")
    name = meta.identity.unit_name
    if code and name:
        return values.normalise_code(code), name
    for sheet_name in data.sheet_names:
        if sheet_name.startswith("_"):
            continue
        try:
            sheet = data.sheet(sheet_name)
        except Exception:  # noqa: BLE001
            continue
        for r in range(min(sheet.height, 4)):
            text = values.clean_text(sheet.value(r, 0))
            found_code, found_name = values.split_code_name(text) if text else ("", "")
            if found_code and found_code.isdigit():
                return values.normalise_code(code or found_code), name or found_name
    return values.normalise_code(code) if code else "", name


def _project_sheets(ctx: Context, meta: Meta, spec: FormSpec) -> list[tuple[str, str]]:
    """(key, sheet) for every project sheet: by defined name, by _meta, then by the 项目编码 label."""
    data = ctx.data
    found: dict[str, str] = {}
    for name in data.names.matching(r"JX_P.*_CODE"):
        address = data.names[name]
        if isinstance(address, CellAddress) and address.sheet in data.sheet_names:
            found["p" + name[4:-5].lower()] = address.sheet
    for key, _code, sheet in meta.projects:
        if key not in found and sheet in data.sheet_names:
            found[key] = sheet
    label = spec.label_left_of(*spec.fields["project.code"]) if "project.code" in spec.fields else "项目编码"
    taken = set(found.values())
    extra = 0
    for sheet_name in data.sheet_names:
        if sheet_name in taken or sheet_name.startswith("_"):
            continue
        try:
            sheet = data.sheet(sheet_name)
        except Exception:  # noqa: BLE001
            continue
        if label and sheet.find_text(label, range(min(sheet.height, 12))):
            extra += 1
            code = code_right_of_label(sheet, label)
            key = next((k for k, c, _s in meta.projects if c and c == code and k not in found), None)
            found[key or f"x{extra:02d}"] = sheet_name
    expected = {key: sheet for key, _code, sheet in meta.projects}
    for key, sheet in found.items():
        if key in expected and expected[key] != sheet:
            ctx.add(P_SHEET, f"项目表“{expected[key]}”被改名为“{sheet}”，已找到并读取。", sheet=sheet)
    return sorted(found.items(), key=lambda item: data.sheet_names.index(item[1]))
