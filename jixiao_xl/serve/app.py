"""The site (``jixiao-xl serve``): a Starlette app over one workspace's ledger, intake workers and reports.

:func:`create_app` builds it: the unit pages (:mod:`.units`), the bureau's pages and the API
(:mod:`.bureau`), the guards of :mod:`.security`, and signed session cookies. Pages are rendered on the
server with jinja2 (autoescape on, no script at all), so everything works with JavaScript off.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from ..workspace import Workspace
from .security import AccessLog, BodyLimit, RateLimiter, SecurityHeaders
from .store import Store, derive, load_key
from .upload import MasterCache

HERE = Path(__file__).resolve().parent
DEFAULT_UPLOAD_LIMIT = 20 * 1024 * 1024
SESSION_HOURS = 8


@dataclass
class Site:
    """What every request handler needs: the workspace, its key, the master and the limits."""

    workspace: Workspace
    key: bytes
    masters: MasterCache
    upload_limit: int
    templates: jinja2.Environment
    limiter: RateLimiter = field(default_factory=RateLimiter)
    # Uploads imported at once: more than the cores only queues them inside run_import instead of here.
    imports: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(max(1, os.cpu_count() or 1)))

    def render(self, request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        """A page of ``templates/``, user text escaped by jinja2's autoescape."""
        page = self.templates.get_template(template).render(request=request, year=self.workspace.year, **context)
        return HTMLResponse(page, status_code=status)

    def unit_csrf(self, token: str) -> str:
        """The CSRF value of a unit's upload form (tied to its link)."""
        return hmac.new(derive(self.key, "unit-csrf"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def site_of(request: Request) -> Site:
    return request.app.state.site


def page_environment() -> jinja2.Environment:
    """The jinja2 environment of the pages: autoescape always on, undefined names an error."""
    from .views import SEVERITY_NAMES

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.globals["severity_names"] = SEVERITY_NAMES
    return environment


def create_app(workspace: Workspace, upload_limit: int = DEFAULT_UPLOAD_LIMIT, resume: bool = True) -> Starlette:
    """The site of ``workspace``; ``resume`` first imports uploads a crash left unfinished."""
    from . import bureau, units
    from .upload import resume_unfinished

    key = load_key(workspace.root)
    preload_modules()
    # Migrate once; requests then connect without the check. This connection stays open for the app's life:
    # SQLite checkpoints the WAL whenever the last connection closes, which would otherwise be every request.
    app_ledger = Store.open(workspace.ledger)
    site = Site(workspace, key, MasterCache(workspace.master), upload_limit, page_environment())
    if resume:
        resume_unfinished(workspace, site.masters.get())
    secure = workspace.base_url.lower().startswith("https://")
    middleware = [
        Middleware(AccessLog),
        Middleware(SecurityHeaders),
        Middleware(BodyLimit, limit=upload_limit),
        Middleware(SessionMiddleware, secret_key=derive(key, "session").hex(), session_cookie="jixiao_session",
                   max_age=SESSION_HOURS * 3600, same_site="strict", https_only=secure),
    ]
    routes = [*units.routes(), *bureau.routes(), Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.site = site
    app.state.ledger = app_ledger
    return app


# Modules the site never imports (tests/test_serve.py checks it), left out of the preload: the demo
# (openpyxl with numpy and PIL), the notebook frames (pandas) and publication (its PDF and Word libraries)
# would add some 60 MB to the process every upload forks a worker from, and work to every collection.
NOT_PRELOADED = ("jixiao_xl.__main__", "jixiao_xl.demo", "jixiao_xl.frames", "jixiao_xl.publish",
                 "jixiao_xl.publish.as_docx", "jixiao_xl.publish.as_html", "jixiao_xl.publish.as_pdf")


def preload_modules() -> None:
    """Import every module the pipeline imports lazily, before any request thread runs.

    Import workers are forked from this multi-threaded process; a child forked while another thread held a
    module's import lock would wait for it forever (until the worker's timeout). Modules of
    :data:`NOT_PRELOADED` are never imported by the site, so no thread can hold their lock.
    """
    import jixiao_xl

    _import_all(jixiao_xl.__path__, "jixiao_xl.")


def _import_all(path: list[str], prefix: str) -> None:
    """Import every module under ``path`` but those of :data:`NOT_PRELOADED` (whose packages are not even
    entered: ``pkgutil.walk_packages`` would import a package to look inside it)."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(path, prefix):
        if info.name in NOT_PRELOADED:
            continue
        module = importlib.import_module(info.name)
        if info.ispkg:
            _import_all(module.__path__, info.name + ".")


async def _not_found(request: Request, exc: Exception) -> Response:
    return site_of(request).render(request, "message.html", status=404, title="页面不存在",
                                   message="没有这个页面。单位填报链接失效或输错时也会看到本页；请核对链接，或向主管部门索取新的链接。")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return site_of(request).render(request, "message.html", status=405, title="不支持的请求",
                                   message="该页面不支持这种请求方式。")
