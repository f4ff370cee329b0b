"""Print the package's rooms and what each imports: ``python tools/import_graph.py [--libraries] [ROOM]``.

A room is a top-level module or package of ``jixiao_xl`` (``rules``, ``ledger``, ``importer`` …). Every
import is read from the source (module level and inside functions, as the architecture tests read them),
nothing is run. With ``--libraries`` the third-party libraries a room imports are listed too; with a room
name, only that room is shown, with the rooms that import it. ARCHITECTURE.md explains the rooms.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "jixiao_xl"
LIBRARIES = ("xlsxwriter", "python_calamine", "openpyxl", "pandas", "click", "jinja2", "starlette", "uvicorn",
             "docxtpl", "docx", "fpdf", "fontTools", "defusedxml", "itsdangerous", "multipart")


def module_name(path: Path) -> str:
    """``jixiao_xl.rules.grid`` for jixiao_xl/rules/grid.py, ``jixiao_xl.rules`` for its __init__.py."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.AST, name: str, is_package: bool) -> tuple[tuple[str, int], ...]:
    """(absolute module name, line) of every import in ``tree``, the source of module ``name``: module level
    and inside functions, relative imports resolved. ``from X import y`` gives ``X`` and ``X.y`` (``y`` may be
    a module: ``from . import model``). tests/test_architecture.py checks the rooms with it."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.append((base, node.lineno))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return tuple(found)


def imported(path: Path) -> set[str]:
    """The absolute names of everything ``path`` imports."""
    tree = ast.parse(path.read_text("utf-8"))
    return {name for name, _ in imports(tree, module_name(path), path.name == "__init__.py")}


def room_of(name: str) -> str | None:
    """The room of a dotted name inside the package (None for a name outside it)."""
    parts = name.split(".")
    return parts[1] if parts[0] == "jixiao_xl" and len(parts) > 1 else None


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(room → rooms it imports, room → libraries it imports)."""
    rooms: dict[str, set[str]] = defaultdict(set)
    libraries: dict[str, set[str]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        room = room_of(module_name(path))
        if room is None:
            continue
        rooms[room]
        for name in imported(path):
            other = room_of(name)
            if other is not None and other != room and (PACKAGE / other).exists() | (PACKAGE / f"{other}.py").exists():
                rooms[room].add(other)
            top = name.split(".")[0]
            if top in LIBRARIES:
                libraries[room].add(top)
    return rooms, libraries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("room", nargs="?", help="show only this room, and who imports it")
    parser.add_argument("--libraries", action="store_true", help="also list the third-party libraries")
    args = parser.parse_args(argv)
    rooms, libraries = graph()
    shown = [args.room] if args.room else sorted(rooms)
    if args.room and args.room not in rooms:
        print(f"no room {args.room!r}; rooms: {', '.join(sorted(rooms))}", file=sys.stderr)
        return 2
    for room in shown:
        line = f"{room:12s} -> {', '.join(sorted(rooms[room])) or '-'}"
        if args.libraries and libraries[room]:
            line += f"   [{', '.join(sorted(libraries[room]))}]"
        print(line)
        if args.room:
            users = sorted(other for other, targets in rooms.items() if room in targets)
            print(f"{'':12s} <- {', '.join(users) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
