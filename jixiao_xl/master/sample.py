"""The bundled sample master (the 巨鹿县行政审批局 seed document), shipped as CSV files in ``jixiao_xl/sample``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..model import Master
from .build import load_master
from .format import MasterError


def sample_dir() -> Path:
    """The folder of the bundled sample master (CSV files, one per sheet)."""
    try:
        candidate = resources.files("jixiao_xl").joinpath("sample")
        if isinstance(candidate, Path) and candidate.is_dir():
            return candidate
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - only in unusual installs
        pass
    return Path(__file__).parent.parent / "sample"


def load_sample() -> Master:
    """The bundled sample master (the 巨鹿县行政审批局 seed document)."""
    folder = sample_dir()
    if not folder.is_dir():
        raise MasterError(f"找不到内置示例数据文件夹 {folder}；请重新安装 jixiao-xl。")
    return load_master(folder)
