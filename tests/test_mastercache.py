"""The cache of parsed masters: used only for the same bytes, never stale, never a reason to fail."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from jixiao_xl import master as master_module
from jixiao_xl import mastercache
from jixiao_xl.master import load_master, write_master
from test_master import clean_xlsx, small_master  # noqa: F401 (clean_xlsx is a fixture)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(mastercache.CACHE_ENV, str(folder))
    monkeypatch.setattr(mastercache, "MIN_BYTES", 0)
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths the master reader really parsed (cache misses)."""
    seen: list[Path] = []
    parse = master_module._parse_master

    def counting(path: Path):
        seen.append(path)
        return parse(path)

    monkeypatch.setattr(master_module, "_parse_master", counting)
    return seen


@pytest.fixture
def workbook(clean_xlsx: Path) -> Path:
    return clean_xlsx


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("master-*.pickle"))


def test_second_load_comes_from_the_cache_and_is_the_same_master(cache: Path, parses: list[Path],
                                                                 workbook: Path) -> None:
    first = load_master(workbook)
    second = load_master(workbook)
    assert parses == [workbook]
    assert second == first
    assert second.fingerprint == first.fingerprint != ""
    assert second.projects_of(first.units[0].code) == first.projects_of(first.units[0].code)
    assert len(_entries(cache)) == 1


def test_changed_bytes_are_parsed_again(cache: Path, parses: list[Path], workbook: Path) -> None:
    load_master(workbook)
    changed = small_master()
    write_master(workbook, changed.__class__(changed.settings, changed.units[:1], changed.projects[:1]))
    reloaded = load_master(workbook)
    assert parses == [workbook, workbook]
    assert len(reloaded.units) == 1
    assert len(_entries(cache)) == 2


def test_an_unreadable_entry_is_dropped_and_the_workbook_parsed(cache: Path, parses: list[Path],
                                                               workbook: Path) -> None:
    expected = load_master(workbook)
    [entry] = _entries(cache)
    entry.write_bytes(b"not a pickle")
    assert load_master(workbook) == expected
    assert parses == [workbook, workbook]
    assert len(_entries(cache)) == 1 and _entries(cache)[0].read_bytes() != b"not a pickle"


def test_off_and_small_files_do_not_touch_the_cache(cache: Path, parses: list[Path], workbook: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(mastercache.CACHE_ENV, "off")
    load_master(workbook)
    monkeypatch.setenv(mastercache.CACHE_ENV, str(cache))
    monkeypatch.setattr(mastercache, "MIN_BYTES", workbook.stat().st_size + 1)
    load_master(workbook)
    assert parses == [workbook, workbook]
    assert not cache.exists()


def test_an_unwritable_cache_only_costs_the_speed_up(tmp_path: Path, parses: list[Path], workbook: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(mastercache.CACHE_ENV, str(blocker / "cache"))
    monkeypatch.setattr(mastercache, "MIN_BYTES", 0)
    assert load_master(workbook) == load_master(workbook)
    assert len(parses) == 2


def test_only_the_newest_entries_are_kept(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mastercache, "KEEP", 2)
    base = small_master()
    paths = []
    for n in range(1, 4):
        path = tmp_path / f"m{n}.xlsx"
        write_master(path, dataclasses.replace(base, settings=dataclasses.replace(base.settings, year=2020 + n)))
        paths.append(path)
    for path in paths:
        load_master(path)
        for entry in _entries(cache):  # make the load order visible to mtime
            os.utime(entry, (entry.stat().st_atime, entry.stat().st_mtime - 10))
    assert [p.name for p in _entries(cache)] == sorted(f"master-{mastercache._key(p)}.pickle" for p in paths[1:])


def test_the_default_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(mastercache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert mastercache.cache_dir() == tmp_path / "jixiao-xl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert mastercache.cache_dir() == Path.home() / ".cache" / "jixiao-xl"
