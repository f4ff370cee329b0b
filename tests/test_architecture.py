"""The rooms of the package and what each may import (issue 15): checked on the source, not by running it.

Every module under jixiao_xl/ is parsed and its imports read, wherever they are (module level or inside a
function): each file format has one room that may import its library, no command module imports cli.py (the
root group imports them, lazily), and no module grows past what a newcomer can read. A failure names every
offending module with its line count and the lines of the imports at fault.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jixiao_xl

PACKAGE = Path(jixiao_xl.__file__).parent


def _import_graph_tool():
    """tools/import_graph.py, whose import resolution these checks share (tools/ is not a package)."""
    path = Path(__file__).resolve().parent.parent / "tools" / "import_graph.py"
    spec = importlib.util.spec_from_file_location("import_graph", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


imports = _import_graph_tool().imports

MAX_LINES = 500


@dataclass(frozen=True)
class Module:
    """One source file: its dotted name, its path inside the package, its length and what it imports."""

    name: str
    relative: str  # "template/compiler.py"
    lines: int
    imports: tuple[tuple[str, int], ...]  # (absolute module name, line)

    def importing(self, library: str) -> list[int]:
        """The lines that import ``library`` or one of its submodules."""
        return sorted({line for name, line in self.imports if name == library or name.startswith(library + ".")})

    def describe(self, lines: list[int] | None = None) -> str:
        where = f", imported on line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}" if lines else ""
        return f"jixiao_xl/{self.relative} ({self.lines} lines{where})"


@lru_cache(maxsize=1)
def modules() -> tuple[Module, ...]:
    """Every module of the package, parsed once."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        parts = ["jixiao_xl", *relative[:-3].split("/")]
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        source = path.read_text(encoding="utf-8")
        found.append(Module(name, relative, len(source.splitlines()), imports(ast.parse(source), name, is_package)))
    return tuple(found)


def offenders(library: str, allowed) -> list[str]:
    """The modules outside the room ``allowed`` (a predicate on the relative path) that import ``library``."""
    return [module.describe(module.importing(library)) for module in modules()
            if module.importing(library) and not allowed(module.relative)]


def test_relative_imports_resolve_to_the_modules_they_name():
    source = "from ..cli import cli\nfrom . import common\nfrom .guard import clip\ndef f():\n    import openpyxl.utils\n"
    found = dict(imports(ast.parse(source), "jixiao_xl.commands.rules_cmd", False))
    assert found["jixiao_xl.cli"] == 1 and found["jixiao_xl.commands.common"] == 2 and found["openpyxl.utils"] == 5
    assert "jixiao_xl.template.guard" in dict(imports(ast.parse(source), "jixiao_xl.template", True))


def test_the_scan_sees_the_package():
    names = {module.name for module in modules()}
    assert {"jixiao_xl.cli", "jixiao_xl.template", "jixiao_xl.template.compiler", "jixiao_xl.commands.common"} <= names
    compiler = next(module for module in modules() if module.name == "jixiao_xl.template.compiler")
    assert compiler.importing("openpyxl") and compiler.importing("jixiao_xl.template.guard")


def test_only_the_xlsx_package_imports_xlsxwriter():
    found = offenders("xlsxwriter", lambda relative: relative.startswith("xlsx/"))
    assert not found, "xlsxwriter is imported outside jixiao_xl/xlsx/:\n" + "\n".join(found)


def test_only_the_reader_imports_calamine():
    found = offenders("python_calamine", lambda relative: relative.startswith("workbook"))
    assert not found, "python_calamine is imported outside the reader (jixiao_xl/workbook*):\n" + "\n".join(found)


def test_only_the_template_package_imports_openpyxl():
    found = offenders("openpyxl", lambda relative: relative.startswith("template/"))
    assert not found, "openpyxl is imported outside jixiao_xl/template/:\n" + "\n".join(found)


def test_no_command_module_imports_the_cli():
    found = [module.describe(module.importing("jixiao_xl.cli")) for module in modules()
             if module.relative.startswith("commands/") and module.importing("jixiao_xl.cli")]
    assert not found, "command modules must import jixiao_xl.commands.common, not jixiao_xl.cli:\n" + "\n".join(found)


def test_no_module_is_longer_than_a_newcomer_reads():
    found = [module.describe() for module in sorted(modules(), key=lambda m: -m.lines) if module.lines > MAX_LINES]
    assert not found, f"modules over {MAX_LINES} lines:\n" + "\n".join(found)


VIEWS = ("jixiao_xl.serve", "jixiao_xl.status", "jixiao_xl.report", "jixiao_xl.consolidate", "jixiao_xl.frames",
         "jixiao_xl.publish", "jixiao_xl.importer", "jixiao_xl.generate")


def test_the_ledger_and_the_reader_import_no_stage_or_view():
    # The ledger is the one truth every view reads; the reader and the value parsers run in isolated workers.
    low = ("ledger/", "workbook/", "values/", "intake/")
    found = [module.describe(module.importing(view)) for module in modules() if module.relative.startswith(low)
             for view in VIEWS if module.importing(view)]
    assert not found, "a low room imports a stage or a view:\n" + "\n".join(found)


def test_only_the_commands_import_the_site():
    # The site is one more view of the ledger: the year's truth and the other views never depend on it.
    found = [module.describe(module.importing("jixiao_xl.serve")) for module in modules()
             if not module.relative.startswith(("serve/", "commands/")) and module.importing("jixiao_xl.serve")]
    assert not found, "only the command modules may import the site (jixiao_xl/serve/):\n" + "\n".join(found)


def test_no_module_imports_a_private_name_of_another():
    # A name shared between modules is part of a room's surface: it is public (no leading underscore), so a
    # newcomer changing it knows someone else uses it.
    found = [f"{module.describe([line])}: {name}" for module in modules() for name, line in module.imports
             if name.startswith("jixiao_xl.") and name.rpartition(".")[2].startswith("_")
             and not name.rpartition(".")[2].startswith("__")]
    assert not found, "private names imported from another module:\n" + "\n".join(found)
