"""The bureau's side: login, the dashboard of every unit, a unit's history and findings, 审核, the reports
built on demand, and ``/api/status`` for scripts (Bearer API token)."""

from __future__ import annotations

import hmac
import json
import secrets
import tempfile
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..counting import is_submission
from ..status import STATES, summary
from .app import Site, site_of
from ..ledger.reviews import PASS, RETURN
from .store import Store
from .views import status_document_of, statuses, unit_view

def routes() -> list[Route]:
    return [
        Route("/", home, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/bureau", dashboard, methods=["GET"]),
        Route("/bureau/unit/{code}", unit_detail, methods=["GET"]),
        Route("/bureau/unit/{code}/review", review, methods=["POST"]),
        Route("/bureau/download/{what}", download, methods=["GET"]),
        Route("/api/status", api_status, methods=["GET"]),
    ]


# ---------------------------------------------------------------------------------------------------------
# Sessions and CSRF


def csrf_token(request: Request) -> str:
    """The session's CSRF value (made on first use); every bureau form carries it."""
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(24)
    return request.session["csrf"]


def csrf_ok(request: Request, form) -> bool:
    expected = request.session.get("csrf")
    return bool(expected) and hmac.compare_digest(str(form.get("csrf", "")), expected)


def staff(request: Request) -> str | None:
    return request.session.get("user")


def _login_required(request: Request) -> RedirectResponse | None:
    return None if staff(request) else RedirectResponse("/login", status_code=303)


def _forbidden(site: Site, request: Request) -> Response:
    return site.render(request, "message.html", status=403, title="请求被拒绝",
                       message="表单已过期或来源不明（缺少有效的校验码）。请返回上一页，刷新后重试。")


async def home(request: Request) -> Response:
    return RedirectResponse("/bureau" if staff(request) else "/login", status_code=303)


async def login_page(request: Request) -> Response:
    return site_of(request).render(request, "login.html", csrf=csrf_token(request), error="", name="")


async def login(request: Request) -> Response:
    site = site_of(request)
    form = await request.form(max_files=0, max_fields=4, max_part_size=4096)
    if not csrf_ok(request, form):
        return _forbidden(site, request)
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    client = (request.client.host if request.client else "-")
    keys = (f"ip:{client}", f"user:{name}")
    if site.limiter.blocked(*keys):
        return site.render(request, "login.html", status=429, csrf=csrf_token(request), name=name,
                           error="登录失败次数过多，请 15 分钟后再试；忘记密码请请管理员用 jixiao-xl user add 重设。")
    ok = await run_in_threadpool(_check_user, site, name, password)
    if not ok:
        site.limiter.failed(*keys)
        return site.render(request, "login.html", status=401, csrf=csrf_token(request), name=name,
                           error="用户名或密码不正确。")
    site.limiter.succeeded(f"user:{name}")
    request.session.clear()
    request.session.update({"user": name, "csrf": secrets.token_urlsafe(24)})
    return RedirectResponse("/bureau", status_code=303)


def _check_user(site: Site, name: str, password: str) -> bool:
    with Store.connect(site.workspace.ledger) as store:
        return store.check_user(name, password)


async def logout(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=2, max_part_size=1024)
    if not csrf_ok(request, form):
        return _forbidden(site_of(request), request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


# ---------------------------------------------------------------------------------------------------------
# Pages


async def dashboard(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    site = site_of(request)
    rows = await run_in_threadpool(statuses, site.workspace, site.masters.get())
    return site.render(request, "dashboard.html", rows=rows, counts=summary(rows), states=STATES,
                       user=staff(request), csrf=csrf_token(request))


async def unit_detail(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    site = site_of(request)
    code = request.path_params["code"]
    view = await run_in_threadpool(unit_view, site.workspace, site.masters.get(), code, True)
    if view.status is None:
        raise HTTPException(404)
    with Store.connect(site.workspace.ledger) as store:
        decisions = store.reviews(code)
    return site.render(request, "bureau_unit.html", view=view, decisions=decisions, user=staff(request),
                       csrf=csrf_token(request), error="")


async def review(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    site = site_of(request)
    code = request.path_params["code"]
    form = await request.form(max_files=0, max_fields=5, max_part_size=8192)
    if not csrf_ok(request, form):
        return _forbidden(site, request)
    decision, reason = str(form.get("decision", "")), str(form.get("reason", "")).strip()
    try:
        import_id = _chosen_import(str(form.get("import_id", "")))
        await run_in_threadpool(record_review, site.workspace, site.masters.get(), code, decision, reason,
                                staff(request), import_id)
    except ReviewError as exc:
        return site.render(request, "message.html", status=400, title="未能审核", message=str(exc))
    return RedirectResponse(f"/bureau/unit/{quote(code)}", status_code=303)


class ReviewError(ValueError):
    """A 审核 that cannot be recorded (no counted return, no reason for 退回 …); the message is Chinese."""


def _chosen_import(text: str) -> int | None:
    """The return the form decides on: the import id the page offered, or None for the counted return."""
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ReviewError("请从列表中选择要审核的报送（导入编号）。")
    return int(text)


def record_review(workspace, master, unit_code: str, decision: str, reason: str, reviewer: str,
                  import_id: int | None = None) -> int:
    """Record a 审核 decision on the unit's counted return, or on its return ``import_id`` (e.g. an older copy
    the bureau has checked and wants counted, see L-OLDER); returns the import id decided on."""
    from .views import status_of

    if decision not in (PASS, RETURN):
        raise ReviewError("请选择“通过”或“退回”。")
    if decision == RETURN and not reason:
        raise ReviewError("退回时请写明原因，单位会在填报页面看到它。")
    status = status_of(workspace, master, unit_code)
    if status is None:
        raise ReviewError(f"没有单位编码为 {unit_code} 的单位。")
    with Store.connect(workspace.ledger) as store:
        if import_id is not None:
            _check_return_of(store, unit_code, import_id)
        elif status.import_id is None:
            raise ReviewError(f"单位 {unit_code} 还没有有效的报送，无法审核。")
        decided = import_id if import_id is not None else status.import_id
        store.decide(unit_code, decided, decision, reason, reviewer)
    return decided


def _check_return_of(store: Store, unit_code: str, import_id: int) -> None:
    """Refuse a decision on an import that is not a return of the unit (another unit's, unreadable, a blank)."""
    if not any(c.import_id == import_id and is_submission(c) for c in store.candidates(unit_code)):
        raise ReviewError(f"第 {import_id} 号导入不是单位 {unit_code} 的有效报送（不存在、属于其他单位、无法读取或为未填写的下发表），"
                          "无法审核；请用 jixiao-xl status 或核对报告查看该单位各次导入的编号。")


# ---------------------------------------------------------------------------------------------------------
# Downloads built on demand


def _attachment(data: bytes, name: str, media_type: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def consolidation_bytes(site: Site) -> bytes:
    """The 汇总表 of the ledger's counted returns, as ``jixiao-xl consolidate`` writes it."""
    from ..consolidate import consolidate, write_consolidation

    with Store.connect(site.workspace.ledger) as ledger:
        result = consolidate(site.masters.get(), ledger)
    with tempfile.TemporaryDirectory() as folder:
        return write_consolidation(result, Path(folder) / "汇总表.xlsx", "xlsx").read_bytes()


def report_bytes(site: Site) -> bytes:
    """The 核对报告 (report.xlsx) of the year as it stands, as ``jixiao-xl report`` writes it."""
    from ..importer import ImportOptions, open_report_pool, report_state

    workspace, master = site.workspace, site.masters.get()
    with tempfile.TemporaryDirectory() as folder:
        options = ImportOptions(paths=(), out_dir=Path(folder), ledger_path=workspace.ledger, jobs=1,
                                password=workspace.password, manifest_path=workspace.manifest,
                                deadline=workspace.deadline, project_template=workspace.project_template,
                                dept_template=workspace.dept_template, sendbacks=False, followups=False)
        with Store.connect(workspace.ledger) as ledger:
            pool = open_report_pool(master, options, ledger)
            try:
                result = report_state(pool, ledger, master, options)
            finally:
                pool.shutdown()
        return result.reports.xlsx.read_bytes()


def reminders_bytes(site: Site) -> bytes:
    """催报.xlsx: every unit not yet returned, with its contact and the deadline (as ``jixiao-xl report`` writes it)."""
    from ..followup import write_reminders

    master = site.masters.get()
    with tempfile.TemporaryDirectory() as folder:
        path = write_reminders(Path(folder) / "催报.xlsx", master, statuses(site.workspace, master),
                               site.workspace.deadline)
        return path.read_bytes()


_DOWNLOADS = {
    "summary": (consolidation_bytes, "汇总表.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "report": (report_bytes, "核对报告.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "reminders": (reminders_bytes, "催报名单.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


async def download(request: Request) -> Response:
    if (redirect := _login_required(request)) is not None:
        return redirect
    site = site_of(request)
    what = _DOWNLOADS.get(request.path_params["what"])
    if what is None:
        raise HTTPException(404)
    build, name, media_type = what
    data = await run_in_threadpool(build, site)
    return _attachment(data, f"{site.workspace.year}年度{name}", media_type)


# ---------------------------------------------------------------------------------------------------------
# API


async def api_status(request: Request) -> Response:
    site = site_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    with Store.connect(site.workspace.ledger) as store:
        ok = scheme.lower() == "bearer" and bool(token) and store.api_token_ok(token.strip())
    if not ok:
        return JSONResponse({"error": "需要有效的 API 令牌：请求头 Authorization: Bearer <令牌>（用 jixiao-xl token create 生成）。"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})
    document = await run_in_threadpool(status_document_of, site.workspace, site.masters.get())
    return Response(json.dumps(document, ensure_ascii=False), media_type="application/json")
