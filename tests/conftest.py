"""Shared fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:  # the helpers (lo.py) live beside the tests
    sys.path.insert(0, _TESTS)


@pytest.fixture(scope="session")
def libreoffice():
    """One headless LibreOffice for the whole test session: ``libreoffice.run([{"op": ...}, ...])``.

    Skips when LibreOffice is missing on a developer machine; fails in CI. Stopped at session end.
    """
    import lo

    lo.require_libreoffice()
    try:
        yield lo.session()
    finally:
        lo.shutdown()
