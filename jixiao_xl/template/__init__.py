"""The template room: form templates (.xlsx drawn in Excel or WPS) and the only user of openpyxl.

A template is compiled once into a :class:`FormSpec` that both the renderer (fill.py) and the reader
(read.py) use. The rooms, in the order a template goes through them:

* :mod:`.guard` — a template is untrusted input: file size, zip directory, expanded ranges and the cell
  syntax whitelist, checked before and while openpyxl reads it;
* :mod:`.compiler` — openpyxl reads the guarded file into cells, merges, widths and page setup;
* :mod:`.checks` — the authoring rules (T- codes): kind, repeating indicator row, plan block, fields;
* :mod:`.spec` — what a compiled template is (:class:`FormSpec`, :class:`CellSpec`) and the fields it binds;
* :mod:`.sidecar` — the ``*.spec.json`` beside a shipped template, which spares commands the openpyxl parse;
* :mod:`.loading` — :func:`load_spec`, the entry point commands use (cached per file version);
* :mod:`.sets` — the templates a batch was issued with, by the identity a form records;
* :mod:`.editing` — typing into an existing workbook and saving it as another file (the demo's departments).

The names below are the room's public ones; import them from ``jixiao_xl.template``.
"""

from .checks import EXTRA_HINT
from .compiler import check_template, compile_template, spec_from_bytes
from .editing import edit_workbook
from .loading import builtin_template, cached_template, is_shipped, load_spec
from .sets import TemplateKey, TemplateSet, as_template_set, ledger_templates, template_key, template_set
from .sidecar import COMPILER_VERSION, compiled_path, read_compiled, write_compiled
from .spec import (COMMON_FIELDS, DEPARTMENT_FIELDS, DEPARTMENT_ROW_FIELDS, DEPARTMENT_TEMPLATE, INDICATOR_FIELDS,
                   PLAN_FIELDS, PROJECT_FIELDS, PROJECT_ROW_FIELDS, PROJECT_TEMPLATE, CellSpec, FormSpec, PrintSetup,
                   Style, defined_name, field_positions, is_extra)

__all__ = [
    "COMMON_FIELDS", "COMPILER_VERSION", "DEPARTMENT_FIELDS", "DEPARTMENT_ROW_FIELDS", "DEPARTMENT_TEMPLATE",
    "EXTRA_HINT", "INDICATOR_FIELDS", "PLAN_FIELDS", "PROJECT_FIELDS", "PROJECT_ROW_FIELDS", "PROJECT_TEMPLATE",
    "CellSpec", "FormSpec", "PrintSetup", "Style", "TemplateKey", "TemplateSet", "as_template_set",
    "builtin_template", "cached_template", "check_template", "compile_template", "compiled_path", "defined_name",
    "edit_workbook", "field_positions", "is_extra", "is_shipped", "ledger_templates", "load_spec", "read_compiled",
    "spec_from_bytes", "template_key", "template_set", "write_compiled",
]
