"""A workspace with a running site for the serve tests: hostile unit names, issued forms, links, one staff
account and an API token (shared by test_serve.py, the browser and crash tests and bench/serve.py)."""

from __future__ import annotations

import io
import itertools
import json
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from hostile_corpus import HTML_PAYLOADS, _copy_unit, corpus_master
from jixiao_xl.cli import cli
from jixiao_xl.generate import workbook_name
from jixiao_xl.master import write_master
from jixiao_xl.workspace import init_workspace, load_workspace

SAMPLE = "435001"
SCRIPT_UNIT = "435097"  # its name is a script tag
STAFF, PASSWORD = "王科长", "correct horse 电池"
BASE_URL = "https://jixiao.example.gov.cn"
_COUNTER = itertools.count(1)


@dataclass
class SiteFiles:
    """A workspace ready to serve."""

    root: Path
    links: dict[str, str]
    api_token: str

    def token(self, code: str) -> str:
        return self.links[code].rsplit("/", 1)[1]

    def issued(self, code: str) -> Path:
        workspace = load_workspace(self.root)
        return workspace.issued / workbook_name(serve_master().unit(code))


def invoke(root: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--workspace", str(root), *args], input=input)


def serve_master():
    """The hostile corpus's master (path- and formula-attacking unit names) plus a unit named by a script."""
    return _copy_unit(corpus_master(), SAMPLE, SCRIPT_UNIT, HTML_PAYLOADS[0], {0: HTML_PAYLOADS[1]}, "97")


def make_site(root: Path, base_url: str = BASE_URL) -> SiteFiles:
    """Init a workspace in ``root`` with :func:`serve_master`, generate, and make links, a user and a token."""
    workspace = init_workspace(root).workspace
    write_master(workspace.master, serve_master())
    config = workspace.config_path.read_text("utf-8").replace('base_url = ""', f'base_url = "{base_url}"')
    workspace.config_path.write_text(config, "utf-8")
    generated = invoke(root, "generate", "--jobs", "1")
    assert generated.exit_code == 0, generated.output
    links = invoke(root, "links", "--json")
    assert links.exit_code == 0, links.output
    added = invoke(root, "user", "add", STAFF, input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    token = invoke(root, "token", "create")
    assert token.exit_code == 0, token.output
    return SiteFiles(root, json.loads(links.output), token.output.strip())


def filled(site: SiteFiles, code: str, edit=None) -> bytes:
    """The unit's issued workbook filled in (a fresh contact name each time, so the bytes are new)."""
    wb = openpyxl.load_workbook(site.issued(code))
    wb.worksheets[1]["B21"] = f"联系人{next(_COUNTER)}"
    if edit is not None:
        edit(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)
