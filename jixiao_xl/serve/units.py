"""The units' side: ``/u/<token>`` shows a unit its state and findings and takes its upload.

A token is the unit's whole credential: an unknown, rotated or revoked one is a 404 (the same page as any
missing page, so tokens cannot be probed), and every query below is by the unit the token resolves to —
never by anything the request names — so a unit never sees another unit's data.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .app import Site, site_of
from .store import Store, Upload
from .upload import UploadOutcome, receive, stored_outcome
from .views import finding_row, for_unit, grouped, issued_path, unit_state, unit_view


def routes() -> list[Route]:
    return [
        Route("/u/{token}", unit_page, methods=["GET"]),
        Route("/u/{token}", unit_upload, methods=["POST"]),
        Route("/u/{token}/issued", unit_issued, methods=["GET"]),
        Route("/u/{token}/sendback/{upload_id:int}", unit_sendback, methods=["GET"]),
        Route("/u/{token}/upload/{upload_id:int}", unit_upload_page, methods=["GET"]),
    ]


def _unit(request: Request) -> tuple[Site, str, str]:
    """(site, token, unit code) of a unit request; 404 for a token that opens nothing."""
    site = site_of(request)
    token = request.path_params["token"]
    with Store.connect(site.workspace.ledger) as store:
        unit_code = store.unit_of_token(token)
    if unit_code is None:
        raise HTTPException(404)
    return site, token, unit_code


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def download(path: Path, name: str) -> Response:
    """A file as an attachment; the name in RFC 5987 form (Chinese names survive every browser)."""
    return FileResponse(path, media_type="application/octet-stream",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


async def unit_page(request: Request) -> Response:
    site, token, unit_code = _unit(request)
    view = await run_in_threadpool(unit_view, site.workspace, site.masters.get(), unit_code)
    return site.render(request, "unit.html", view=view, token=token, csrf=site.unit_csrf(token), outcome=None,
                       outcome_groups=[])


async def unit_upload(request: Request) -> Response:
    site, token, unit_code = _unit(request)
    form = await request.form(max_files=1, max_fields=4, max_part_size=site.upload_limit)
    try:
        upload = form.get("file")
        as_json = wants_json(request)
        if not as_json and not hmac.compare_digest(str(form.get("csrf", "")), site.unit_csrf(token)):
            return _refuse(site, request, 403, "表单已过期或来源不明，请刷新本页后重新上传。")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return _refuse(site, request, 400, "请选择要上传的绩效目标表文件（字段名 file）。")
        async with site.imports:
            outcome = await run_in_threadpool(receive, site.workspace, site.masters.get(), unit_code,
                                              upload.filename, upload.file)
    finally:
        await form.close()
    return await _answer(site, request, token, unit_code, outcome)


def _refuse(site: Site, request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return site.render(request, "message.html", status=status, title="未能上传", message=message)


async def _answer(site: Site, request: Request, token: str, unit_code: str, outcome: UploadOutcome,
                  status_code: int | None = None) -> Response:
    """The findings of the upload (200; 422 when it was refused as another unit's file)."""
    status_code = status_code or (422 if outcome.refused else 200)
    shown = for_unit(outcome.findings)
    if wants_json(request):  # a script's answer needs the state, not the whole page
        status, review = await run_in_threadpool(unit_state, site.workspace, site.masters.get(), unit_code)
        state = status.state if status else ""
        return JSONResponse({"unit_code": unit_code, "state": state, "review": review.state,
                             "upload_id": outcome.upload_id, "refused": outcome.refused,
                             "sendback": f"/u/{token}/sendback/{outcome.upload_id}" if outcome.sendback else "",
                             "findings": [finding_row(f) for f in shown]}, status_code=status_code)
    view = await run_in_threadpool(unit_view, site.workspace, site.masters.get(), unit_code)
    return site.render(request, "unit.html", status=status_code, view=view, token=token, csrf=site.unit_csrf(token),
                       outcome=outcome, outcome_groups=grouped(shown))


async def unit_issued(request: Request) -> Response:
    site, _token, unit_code = _unit(request)
    path = issued_path(site.workspace, unit_code)
    if path is None:
        raise HTTPException(404)
    return download(path, path.name)


def _own_upload(site: Site, request: Request, unit_code: str) -> Upload:
    """The upload the path names, when it is this unit's (404 otherwise: another unit's upload does not exist)."""
    with Store.connect(site.workspace.ledger) as store:
        upload = store.upload(request.path_params["upload_id"])
    if upload is None or upload.unit_code != unit_code:
        raise HTTPException(404)
    return upload


async def unit_sendback(request: Request) -> Response:
    site, _token, unit_code = _unit(request)
    upload = _own_upload(site, request, unit_code)
    if not upload.sendback or not Path(upload.sendback).is_file():
        raise HTTPException(404)
    return download(Path(upload.sendback), Path(upload.sendback).name)


async def unit_upload_page(request: Request) -> Response:
    """One earlier upload's findings, as the unit saw them when it uploaded."""
    site, token, unit_code = _unit(request)
    upload = _own_upload(site, request, unit_code)
    outcome = await run_in_threadpool(stored_outcome, site.workspace, upload)
    return await _answer(site, request, token, unit_code, outcome, status_code=200)
