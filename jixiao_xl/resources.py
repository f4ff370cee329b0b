"""Where the package's data lives: form templates (xltemplates/), text templates (templates/), the sample.

In a wheel they are subpackages of jixiao_xl; in a source checkout they sit at the repository's top level.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_ROOT = Path(__file__).resolve().parent


def _package_dir(package: str, fallback: Path) -> Path:
    try:
        candidate = Path(str(resources.files(package)))
        if candidate.is_dir():
            return candidate
    except (ModuleNotFoundError, TypeError):
        pass
    return fallback


def form_templates_dir() -> Path:
    """The folder holding the official .xlsx form templates."""
    return _package_dir("jixiao_xl.xltemplates", _ROOT.parent / "xltemplates")


def text_templates_dir() -> Path:
    """The folder holding the jinja2 text templates (填报说明, cover notice, HTML report)."""
    return _package_dir("jixiao_xl.templates", _ROOT.parent / "templates")
