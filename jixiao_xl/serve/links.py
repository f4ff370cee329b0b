"""Each unit's personal link: ``<[serve] base_url>/u/<token>`` (tokens: :mod:`.store`)."""

from __future__ import annotations

from typing import Iterable

from ..errors import InputError
from ..workspace import Workspace
from .store import Store, load_key


def link_url(base_url: str, token: str) -> str:
    """The full URL of a unit's page."""
    return f"{base_url.rstrip('/')}/u/{token}"


def unit_links(workspace: Workspace, unit_codes: Iterable[str], rotate: Iterable[str] = (),
               base_url: str | None = None) -> dict[str, str]:
    """Unit code → full link, for every unit of ``unit_codes`` (made on first use); the units of ``rotate``
    get a new link and their old one stops working."""
    base = workspace.base_url if base_url is None else base_url
    if not base:
        raise InputError(f"工作区配置 {workspace.config_path} 中 [serve] base_url 为空；"
                         "请填写填报网站的对外地址（例如 base_url = \"https://jixiao.example.gov.cn\"，"
                         "只在本机试用时可填 \"http://127.0.0.1:8000\"）后再生成链接。")
    key = load_key(workspace.root)
    renew = set(rotate)
    with Store.open(workspace.ledger) as store:
        return {code: link_url(base, store.link_token(key, code, rotate=code in renew)) for code in unit_codes}
