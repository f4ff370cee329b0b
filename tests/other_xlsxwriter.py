"""Helpers for the tests that load the xlsx speed layer under another xlsxwriter, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Hides a class member from the guard (hasattr on the class is False) while stock xlsxwriter, which calls
# it on instances, keeps working: the shape of an internal renamed or moved in another version.
HIDE_MEMBER = """
def hide(cls, name):
    member = cls.__dict__[name]
    delattr(cls, name)
    def __getattr__(self, attr):
        if attr == name:
            return member.__get__(self)
        raise AttributeError(attr)
    cls.__getattr__ = __getattr__
"""


def fresh_import(script: str, stub: str, *args) -> dict:
    """Run ``script`` in a new interpreter (``sys.argv[1]`` is ``stub``, the tests folder is on its path);
    ``script`` applies the stub before it imports jixiao_xl and prints a JSON object last, returned here."""
    done = subprocess.run([sys.executable, "-c", f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n{script}", stub,
                           *map(str, args)], capture_output=True, text=True, timeout=120, cwd=TESTS.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])
