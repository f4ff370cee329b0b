"""Where a command gets a template's :class:`~.spec.FormSpec`: from a file, once per process and file version.

:func:`load_spec` is the entry point: a shipped template is answered from its ``*.spec.json`` (see
:mod:`.sidecar`) when that matches, any other template is compiled and checked (:mod:`.compiler`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from .compiler import compile_template
from .sidecar import read_compiled
from .spec import FormSpec


def builtin_template(name: str) -> Path:
    """The path of a template shipped with the package (in the wheel or the source tree)."""
    from ..resources import form_templates_dir

    return form_templates_dir() / name


@lru_cache(maxsize=8)
def cached_template(path: str, mtime_ns: int) -> FormSpec:
    """:func:`~.compiler.compile_template`, memoised per file version (workers compile each template once).

    A shipped template comes with its compiled form beside it (``*.spec.json``, see
    :func:`~.sidecar.write_compiled`); it is used when it was compiled from exactly these bytes by this
    compiler, which spares every command the openpyxl import and parse. Only the package's own templates are
    trusted that way: a sidecar sent along with someone's template could hold anything, so every other
    template is compiled and checked.
    """
    compiled = read_compiled(Path(path)) if is_shipped(Path(path)) else None
    return compiled if compiled is not None else compile_template(Path(path))


def is_shipped(path: Path) -> bool:
    """True for a template in the package's own template folder."""
    from ..resources import form_templates_dir

    return Path(path).resolve().parent == form_templates_dir().resolve()


def load_spec(path: Path) -> FormSpec:
    """The compiled spec of a template file, compiled at most once per process and file version."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到模板文件 {path}。请检查 --template 参数。")
    return cached_template(str(path.resolve()), path.stat().st_mtime_ns)
