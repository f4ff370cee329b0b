"""Compiled templates on disk: the ``*.spec.json`` kept beside a shipped template.

A shipped template comes with its compiled form beside it, written by ``tools/build_templates.py --specs``
through :func:`write_compiled`. :func:`read_compiled` answers it only when it was compiled from exactly the
template's bytes by this compiler, which spares every command the openpyxl import and parse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from .compiler import compile_template
from .spec import CellSpec, FormSpec, PrintSetup, Style, field_positions

# Bump when compilation changes what a FormSpec holds: sidecars of an older compiler are then ignored.
COMPILER_VERSION = 1


def compiled_path(template: Path) -> Path:
    """Where the compiled form of ``template`` is kept (``项目支出绩效目标表.spec.json``)."""
    return Path(template).with_suffix(".spec.json")


def write_compiled(template: Path) -> Path:
    """Compile ``template`` and store the result beside it, keyed by the template's sha256."""
    template = Path(template)
    spec = compile_template(template)
    document = {"compiler": COMPILER_VERSION, "sha256": hashlib.sha256(template.read_bytes()).hexdigest(),
                "spec": _spec_to_plain(spec)}
    target = compiled_path(template)
    target.write_text(json.dumps(document, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return target


def read_compiled(template: Path) -> FormSpec | None:
    """The stored compiled form of ``template`` when it matches the template's bytes and this compiler."""
    sidecar = compiled_path(template)
    if not sidecar.is_file():
        return None
    try:
        document = json.loads(sidecar.read_text(encoding="utf-8"))
        if document.get("compiler") != COMPILER_VERSION:
            return None
        if document.get("sha256") != hashlib.sha256(Path(template).read_bytes()).hexdigest():
            return None
        return _spec_from_plain(document["spec"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged sidecar only costs a compile


def _spec_to_plain(spec: FormSpec) -> dict:
    plain = {name: getattr(spec, name) for name in ("template_id", "version", "kind", "title", "merges", "col_widths",
                                                    "row_heights", "repeat_row", "plan_cell", "plan_span")}
    plain["print_setup"] = asdict(spec.print_setup)
    plain["cells"] = [{**asdict(cell), "style": asdict(cell.style)} for cell in spec.cells]
    return plain


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _spec_from_plain(plain: dict) -> FormSpec:
    cells = tuple(CellSpec(**{**cell, "style": Style(**{k: _tuples(v) for k, v in cell["style"].items()})})
                  for cell in plain["cells"])
    setup = PrintSetup(**{k: _tuples(v) for k, v in plain["print_setup"].items()})
    plan_cell = plain["plan_cell"]
    return FormSpec(
        template_id=plain["template_id"], version=plain["version"], kind=plain["kind"], title=plain["title"],
        cells=cells, merges=_tuples(plain["merges"]), col_widths=_tuples(plain["col_widths"]),
        row_heights=_tuples(plain["row_heights"]), print_setup=setup, repeat_row=plain["repeat_row"],
        plan_cell=tuple(plan_cell) if plan_cell is not None else None, plan_span=plain["plan_span"],
        fields=field_positions(cells),
    )
