"""`jixiao-xl serve`: every route and every refusal over HTTP (Starlette's TestClient), and the CLI that
goes with the site (links, token create, user add, review)."""

from __future__ import annotations

import json
import logging
import re
import sqlite3

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from hostile_corpus import FORMULA_UNIT, HTML_PAYLOADS, PATH_UNIT, PATH_UNIT_NAME, SECRET_MARKERS, build_corpus  # noqa: E402
from jixiao_xl.findings import COLUMNS  # noqa: E402
from jixiao_xl.ledger import SCHEMA_VERSION, Ledger  # noqa: E402
from jixiao_xl.serve.app import create_app  # noqa: E402
from jixiao_xl.serve.security import CONTENT_SECURITY_POLICY  # noqa: E402
from jixiao_xl.workspace import load_workspace  # noqa: E402
from serve_helpers import (BASE_URL, PASSWORD, SAMPLE, SCRIPT_UNIT, STAFF, SiteFiles, csrf_of, filled,  # noqa: E402
                           invoke, make_site)

JSON = {"Accept": "application/json"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> SiteFiles:
    return make_site(tmp_path_factory.mktemp("serve") / "2026")


@pytest.fixture(scope="module")
def client(site):
    with TestClient(create_app(load_workspace(site.root)), base_url="https://127.0.0.1") as test_client:
        yield test_client


def upload(client, token: str, data: bytes, name: str = "填好的表.xlsx", as_json: bool = True, csrf: str | None = None):
    fields = {"csrf": csrf} if csrf is not None else {}
    return client.post(f"/u/{token}", files={"file": (name, data, XLSX)}, data=fields,
                       headers=JSON if as_json else {})


def login(client, name: str = STAFF, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "name": name, "password": password},
                       follow_redirects=False)


def ledger_rows(site: SiteFiles) -> list[tuple]:
    with sqlite3.connect(site.root / "ledger.sqlite") as db:
        return db.execute("SELECT id, unit_code, status, superseded_by FROM imports ORDER BY id").fetchall()


def status_json(site: SiteFiles) -> dict:
    result = invoke(site.root, "status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# ---------------------------------------------------------------------------------------------------------
# Links


def test_links_json_gives_every_unit_a_full_link_and_the_ledger_keeps_only_hashes(site):
    assert set(site.links) == {SAMPLE, PATH_UNIT, FORMULA_UNIT, SCRIPT_UNIT}
    for url in site.links.values():
        assert re.fullmatch(re.escape(BASE_URL) + r"/u/[A-Za-z0-9_-]{32}", url)
    again = invoke(site.root, "links", "--json")
    assert json.loads(again.output) == site.links  # stable until rotated
    with sqlite3.connect(site.root / "ledger.sqlite") as db:
        dump = "\n".join(db.iterdump())
    assert not any(site.token(code) in dump for code in site.links)
    with Ledger.open(site.root / "ledger.sqlite") as ledger:
        assert ledger.schema_version == SCHEMA_VERSION


def test_the_notices_written_by_generate_carry_each_units_link(site):
    notices = list((site.root / "下发").glob(f"{SAMPLE}-*通知.txt"))
    assert len(notices) == 1
    assert site.links[SAMPLE] in notices[0].read_text(encoding="utf-8-sig")


def test_links_without_a_base_url_say_what_to_set(tmp_path):
    from jixiao_xl.workspace import init_workspace

    init_workspace(tmp_path / "w", sample=True)
    result = invoke(tmp_path / "w", "links")
    assert result.exit_code == 2
    assert "[serve] base_url" in result.output


# ---------------------------------------------------------------------------------------------------------
# A unit's page and its upload


def test_unit_page_shows_state_deadline_and_the_issued_form(site, client):
    page = client.get(f"/u/{site.token(SAMPLE)}")
    assert page.status_code == 200
    assert "巨鹿县行政审批局本级" in page.text and "待报送" in page.text
    issued = client.get(f"/u/{site.token(SAMPLE)}/issued")
    assert issued.status_code == 200
    assert issued.content == site.issued(SAMPLE).read_bytes()
    assert "attachment" in issued.headers["content-disposition"]


def test_private_pages_carry_the_security_headers(site, client):
    page = client.get(f"/u/{site.token(SAMPLE)}")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY and "script-src" not in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script" not in page.text.lower()


@pytest.mark.parametrize("token", ["nope", "A" * 32, "../../etc/passwd", "%00"])
def test_unknown_tokens_are_404(client, token):
    response = client.get(f"/u/{token}")
    assert response.status_code == 404
    assert "页面不存在" in response.text
    assert client.post(f"/u/{token}", files={"file": ("a.xlsx", b"x", XLSX)}).status_code == 404


def test_an_upload_is_imported_and_answered_with_its_findings_in_the_contract_columns(site, client):
    before = len(ledger_rows(site))
    response = upload(client, site.token(SAMPLE), filled(site, SAMPLE), name="../../evil/x.xlsx")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unit_code"] == SAMPLE and body["state"] == "已报送有错误" and body["refused"] is False
    assert all(list(f) == list(COLUMNS) for f in body["findings"])
    assert any(f["rule"] == "R-C1" and f["cell"] == "F14" for f in body["findings"])  # the sample's seed defect
    assert body["sendback"].startswith(f"/u/{site.token(SAMPLE)}/sendback/")
    rows = ledger_rows(site)
    assert len(rows) == before + 1 and rows[-1][1:3] == (SAMPLE, "parsed")
    stored = sorted((site.root / "收件").iterdir())
    assert stored and all(re.fullmatch(r"网上报送-\d+-\d{8}T\d{6}-[0-9a-f]{8}\.(xlsx|bin)", p.name) for p in stored)
    assert not (site.root / "evil").exists() and not any("evil" in p.name for p in stored)
    sendback = client.get(body["sendback"])
    assert sendback.status_code == 200 and sendback.content[:2] == b"PK"


def test_the_html_upload_groups_findings_by_sheet_and_cell_and_offers_the_sendback(site, client):
    token = site.token(SAMPLE)
    page = client.get(f"/u/{token}")
    response = upload(client, token, filled(site, SAMPLE), as_json=False, csrf=csrf_of(page.text))
    assert response.status_code == 200
    text = response.text
    assert "上传的核对结果" in text and "下载退回修改表" in text
    assert re.search(r'<h3>3\.统一着装经费</h3>', text)
    assert re.search(r'class="cell">F14</td>', text)


def test_an_html_upload_without_the_form_token_is_refused_and_not_recorded(site, client):
    before = ledger_rows(site)
    response = upload(client, site.token(SAMPLE), filled(site, SAMPLE), as_json=False)
    assert response.status_code == 403 and "刷新" in response.text
    wrong = upload(client, site.token(SAMPLE), filled(site, SAMPLE), as_json=False, csrf="0" * 64)
    assert wrong.status_code == 403
    assert ledger_rows(site) == before


def test_an_upload_without_a_file_is_a_400(site, client):
    response = client.post(f"/u/{site.token(SAMPLE)}", data={"x": "1"}, headers=JSON)
    assert response.status_code == 400 and "file" in response.json()["error"]


def test_another_units_file_is_refused_and_counts_for_nobody(site, client):
    own = upload(client, site.token(FORMULA_UNIT), filled(site, FORMULA_UNIT))
    assert own.status_code == 200 and own.json()["unit_code"] == FORMULA_UNIT
    counted = {u["code"]: u["import_id"] for u in status_json(site)["units"]}
    other = upload(client, site.token(SAMPLE), filled(site, FORMULA_UNIT))
    assert other.status_code == 422
    body = other.json()
    assert body["refused"] is True and body["unit_code"] == SAMPLE and body["sendback"] == ""
    assert [f["rule"] for f in body["findings"]] == ["X-OTHER-UNIT"]
    assert FORMULA_UNIT in body["findings"][0]["value"]
    assert {u["code"]: u["import_id"] for u in status_json(site)["units"]} == counted  # nobody's return changed
    refused_row = ledger_rows(site)[-1]
    assert refused_row[1:3] == ("", "failed")
    # The rightful unit uploading those very bytes is told to save the file once more.
    mine = client.post(f"/u/{site.token(FORMULA_UNIT)}", headers=JSON,
                       files={"file": ("x.xlsx", (site.root / "收件" / _stored_of(site, SAMPLE, refused=1)).read_bytes(), XLSX)})
    assert mine.status_code == 422 and "另存一次" in mine.json()["findings"][0]["message"]
    # The exact bytes another unit already returned: refused, and nothing of that return is shown.
    again = client.post(f"/u/{site.token(SAMPLE)}", headers=JSON,
                        files={"file": ("x.xlsx", (site.root / "收件" / _stored_of(site, FORMULA_UNIT)).read_bytes(), XLSX)})
    assert again.status_code == 422
    assert [f["rule"] for f in again.json()["findings"]] == ["X-OTHER-UNIT"]
    shown = client.get(f"/u/{site.token(SAMPLE)}/upload/{again.json()['upload_id']}").text
    assert shown.count("<code>") == 1 and "<code>X-OTHER-UNIT</code>" in shown  # nothing of the other return


def _stored_of(site: SiteFiles, code: str, refused: int = 0) -> str:
    with sqlite3.connect(site.root / "ledger.sqlite") as db:
        path = db.execute("SELECT stored_path FROM serve_uploads WHERE unit_code = ? AND refused = ? ORDER BY id DESC",
                          (code, refused)).fetchone()[0]
    return path.rsplit("/", 1)[1]


def test_a_unit_never_sees_another_units_sendback_or_page(site, client):
    body = upload(client, site.token(SAMPLE), filled(site, SAMPLE), name="样本单位的文件.xlsx").json()
    upload_id = body["sendback"].rsplit("/", 1)[1]
    assert client.get(f"/u/{site.token(SAMPLE)}/sendback/{upload_id}").status_code == 200
    assert client.get(f"/u/{site.token(FORMULA_UNIT)}/sendback/{upload_id}").status_code == 404
    earlier = client.get(f"/u/{site.token(SAMPLE)}/upload/{upload_id}")
    assert earlier.status_code == 200 and 'class="cell">F14</td>' in earlier.text
    assert f'href="/u/{site.token(SAMPLE)}/upload/{upload_id}#outcome"' in client.get(f"/u/{site.token(SAMPLE)}").text
    assert client.get(f"/u/{site.token(FORMULA_UNIT)}/upload/{upload_id}").status_code == 404
    other_page = client.get(f"/u/{site.token(FORMULA_UNIT)}").text
    assert "样本单位的文件" in client.get(f"/u/{site.token(SAMPLE)}").text
    assert "样本单位的文件" not in other_page and "巨鹿县行政审批局本级（435001）" not in other_page


def test_rotated_and_revoked_links_stop_working(tmp_path):
    site = make_site(tmp_path / "w")
    with TestClient(create_app(load_workspace(site.root)), base_url="https://127.0.0.1") as client:
        old = site.token(SAMPLE)
        assert client.get(f"/u/{old}").status_code == 200
        rotated = invoke(site.root, "links", "--json", "--rotate", SAMPLE)
        assert rotated.exit_code == 0, rotated.output
        new = json.loads(rotated.output)[SAMPLE].rsplit("/", 1)[1]
        assert new != old
        assert client.get(f"/u/{old}").status_code == 404
        assert client.get(f"/u/{new}").status_code == 200
        assert json.loads(rotated.output)[FORMULA_UNIT] == site.links[FORMULA_UNIT]
        revoked = invoke(site.root, "links", "--revoke", FORMULA_UNIT)
        assert revoked.exit_code == 0 and FORMULA_UNIT not in revoked.stdout
        assert client.get(f"/u/{site.token(FORMULA_UNIT)}").status_code == 404
        assert invoke(site.root, "links", "--rotate", "000000").exit_code == 2


def test_an_oversized_upload_is_413_before_the_body_is_read(tmp_path):
    site = make_site(tmp_path / "w")
    app = create_app(load_workspace(site.root), upload_limit=64 * 1024)
    with TestClient(app) as client:
        declared = upload(client, site.token(SAMPLE), b"x" * (200 * 1024))
        assert declared.status_code == 413 and "太大" in declared.text
        streamed = client.post(f"/u/{site.token(SAMPLE)}", content=iter([b"y" * 8192] * 64),
                               headers={**JSON, "Content-Type": "multipart/form-data; boundary=zz"})
        assert streamed.status_code == 413
    # At the ASGI level: a chunked body with no Content-Length is cut off once it passes the limit.
    read, sent = _streamed_upload(app, site.token(SAMPLE), chunks=64, chunk=8192)
    assert sent[0]["status"] == 413
    assert read <= 64 * 1024 // 8192 + 1  # the rest of the body was never read
    assert ledger_rows(site) == []
    assert list((site.root / "收件").iterdir()) == []


def _streamed_upload(app, token: str, chunks: int, chunk: int) -> tuple[int, list[dict]]:
    """Send ``chunks`` body messages to the app the way a server streams them; (messages read, messages sent)."""
    import anyio

    read = 0
    sent: list[dict] = []

    head = (b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")

    async def receive():
        nonlocal read
        read += 1
        return {"type": "http.request", "body": (head if read == 1 else b"") + b"y" * chunk, "more_body": read < chunks}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": f"/u/{token}", "raw_path": f"/u/{token}".encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 5000), "http_version": "1.1", "asgi": {"version": "3.0"},
             "headers": [(b"content-type", b"multipart/form-data; boundary=zz"), (b"accept", b"application/json")]}
    anyio.run(app, scope, receive, send)
    return read, sent


def test_hostile_files_are_uploaded_without_harm(site, client, tmp_path_factory):
    corpus = build_corpus(tmp_path_factory.mktemp("corpus"), symlink=False)
    token = site.token(PATH_UNIT)
    for case in corpus.cases:
        path = corpus.path(case)
        if not path.is_file():
            continue
        response = upload(client, token, path.read_bytes(), name=case.file)
        assert response.status_code in (200, 413, 422), (case.id, response.status_code, response.text[:300])
        if response.status_code != 413:
            assert not any(marker in response.text for marker in SECRET_MARKERS), case.id
            assert response.json()["unit_code"] == PATH_UNIT
    assert client.get(f"/u/{token}").status_code == 200  # still serving
    assert not (site.root.parent / "逃逸").exists()


def test_user_text_is_escaped_everywhere(site, client):
    page = client.get(f"/u/{site.token(SCRIPT_UNIT)}").text
    assert HTML_PAYLOADS[0] not in page and "&lt;script&gt;" in page
    typed = "<script>alert('typed')</script>"

    def type_payload(wb):
        wb.worksheets[1]["F12"] = typed  # an indicator value: the findings show what was typed

    token = site.token(SCRIPT_UNIT)
    name = '"><img src=x onerror=alert(1)>.xlsx'
    response = upload(client, token, filled(site, SCRIPT_UNIT, type_payload), name=name, as_json=False,
                      csrf=csrf_of(client.get(f"/u/{token}").text))
    assert response.status_code == 200
    assert typed not in response.text and "<img" not in response.text
    assert "&lt;script&gt;alert(&#39;typed&#39;)&lt;/script&gt;" in response.text  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text  # the client's name, shown as text
    path_page = client.get(f"/u/{site.token(PATH_UNIT)}").text
    assert PATH_UNIT_NAME not in path_page
    login(client)
    dashboard = client.get("/bureau").text
    assert HTML_PAYLOADS[0] not in dashboard and "&lt;script&gt;" in dashboard


def test_tokens_never_reach_the_log(site, client, caplog):
    with caplog.at_level(logging.INFO, logger="jixiao_xl.serve"):
        client.get(f"/u/{site.token(SAMPLE)}")
    assert "/u/***" in caplog.text
    assert not any(site.token(code) in caplog.text for code in site.links)


# ---------------------------------------------------------------------------------------------------------
# The bureau


def test_bureau_pages_need_a_login(client):
    client.cookies.clear()
    for path in ("/bureau", f"/bureau/unit/{SAMPLE}", "/bureau/download/summary"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path


def test_login_refuses_a_wrong_password_and_a_missing_form_token(client):
    client.cookies.clear()
    assert login(client, password="wrong password").status_code == 401
    assert client.get("/bureau", follow_redirects=False).status_code == 303
    no_csrf = client.post("/login", data={"name": STAFF, "password": PASSWORD}, follow_redirects=False)
    assert no_csrf.status_code == 403
    assert login(client).status_code == 303
    assert client.get("/bureau").status_code == 200


def test_login_is_rate_limited(tmp_path):
    site = make_site(tmp_path / "w")
    with TestClient(create_app(load_workspace(site.root)), base_url="https://127.0.0.1") as client:
        for _ in range(5):
            assert login(client, password="guess-guess").status_code == 401
        blocked = login(client)  # even the right password, while blocked
        assert blocked.status_code == 429 and "15 分钟" in blocked.text


def test_the_dashboard_and_api_agree_with_status(site, client):
    upload(client, site.token(SAMPLE), filled(site, SAMPLE))
    expected = status_json(site)
    assert client.get("/api/status").status_code == 401
    assert client.get("/api/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
    api = client.get("/api/status", headers={"Authorization": f"Bearer {site.api_token}"})
    assert api.status_code == 200 and api.json() == expected
    login(client)
    dashboard = client.get("/bureau").text
    for unit in expected["units"]:
        row = re.search(rf'/bureau/unit/{unit["code"]}">.*?</tr>', dashboard, re.S).group(0)
        assert f'<td class="state">{unit["state"]}</td>' in row
        assert f'<td class="n">{unit["errors"]}</td><td class="n">{unit["warnings"]}</td>' in row
    for state, count in expected["summary"].items():
        assert f"{state} <strong>{count}</strong>" in dashboard
    [sample] = [u for u in expected["units"] if u["code"] == SAMPLE]
    assert sample["contact_name"].startswith("联系人")
    row = re.search(rf'/bureau/unit/{SAMPLE}">.*?</tr>', dashboard, re.S).group(0)
    assert row.endswith(f'<td>{sample["contact_name"]}</td></tr>')  # the person to call, as status has it


def test_unit_history_and_downloads_built_on_demand(site, client):
    upload(client, site.token(SAMPLE), filled(site, SAMPLE))
    assert upload(client, site.token(SAMPLE), filled(site, FORMULA_UNIT)).status_code == 422
    login(client)
    detail = client.get(f"/bureau/unit/{SAMPLE}")
    assert detail.status_code == 200 and "报送历史" in detail.text and "R-C1" in detail.text
    assert "上传记录" in detail.text and "未接收（不是本单位的表格）" in detail.text  # the refused upload
    assert client.get("/bureau/unit/000000").status_code == 404
    for what in ("summary", "report"):
        response = client.get(f"/bureau/download/{what}")
        assert response.status_code == 200 and response.content[:2] == b"PK", what
    reminders = client.get("/bureau/download/reminders")
    assert reminders.status_code == 200
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(reminders.content)).active
    listed = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[1]}
    waiting = {u["code"] for u in status_json(site)["units"] if u["state"] in ("待报送", "未下发")}
    assert listed == waiting and SAMPLE not in listed  # the units not yet returned, as `report` lists them
    assert client.get("/bureau/download/other").status_code == 404


def test_review_on_the_site_and_a_new_upload_puts_it_back_to_pending(site, client):
    token = site.token(FORMULA_UNIT)
    upload(client, token, filled(site, FORMULA_UNIT))
    login(client)
    page = client.get(f"/bureau/unit/{FORMULA_UNIT}")
    no_csrf = client.post(f"/bureau/unit/{FORMULA_UNIT}/review", data={"decision": "pass"}, follow_redirects=False)
    assert no_csrf.status_code == 403
    missing_reason = client.post(f"/bureau/unit/{FORMULA_UNIT}/review",
                                 data={"csrf": csrf_of(page.text), "decision": "return"}, follow_redirects=False)
    assert missing_reason.status_code == 400 and "原因" in missing_reason.text
    reason = "项目 1 的产出指标<b>缺少数量</b>"
    done = client.post(f"/bureau/unit/{FORMULA_UNIT}/review",
                       data={"csrf": csrf_of(page.text), "decision": "return", "reason": reason}, follow_redirects=False)
    assert done.status_code == 303
    unit_page = client.get(f"/u/{token}").text
    assert "退回：项目 1 的产出指标&lt;b&gt;缺少数量&lt;/b&gt;" in unit_page
    assert STAFF in client.get(f"/bureau/unit/{FORMULA_UNIT}").text
    again = upload(client, token, filled(site, FORMULA_UNIT))
    assert again.json()["review"] == "待审核"
    assert "待审核" in client.get(f"/u/{token}").text


def test_the_site_reviews_the_return_chosen_like_review_import(tmp_path):
    site = make_site(tmp_path / "w")
    with TestClient(create_app(load_workspace(site.root)), base_url="https://127.0.0.1") as client:
        _review_a_chosen_return(site, client)


def _review_a_chosen_return(site, client):
    token = site.token(SAMPLE)
    def counted() -> int:
        return next(u for u in status_json(site)["units"] if u["code"] == SAMPLE)["import_id"]

    upload(client, token, filled(site, SAMPLE))
    first = counted()
    upload(client, token, filled(site, SAMPLE))
    second = counted()
    assert second > first
    login(client)
    page = client.get(f"/bureau/unit/{SAMPLE}").text
    options = re.findall(r'<option value="(\d+)"( selected)?>', page)
    assert (str(second), " selected") in options and (str(first), "") in options  # the counted one first chosen
    chosen = client.post(f"/bureau/unit/{SAMPLE}/review", follow_redirects=False,
                         data={"csrf": csrf_of(page), "decision": "pass", "import_id": str(first)})
    assert chosen.status_code == 303
    with sqlite3.connect(site.root / "ledger.sqlite") as db:
        decided = db.execute("SELECT import_id, decision FROM serve_reviews WHERE unit_code = ? ORDER BY id DESC"
                             " LIMIT 1", (SAMPLE,)).fetchone()
    assert decided == (first, "pass")
    # A passed earlier return is counted until a later one is passed (the counting rule), on every view.
    row = next(u for u in status_json(site)["units"] if u["code"] == SAMPLE)
    assert (row["import_id"], row["review"]) == (first, "通过")
    for bad in ("abc", "999999", "-1"):
        refused = client.post(f"/bureau/unit/{SAMPLE}/review", follow_redirects=False,
                              data={"csrf": csrf_of(page), "decision": "pass", "import_id": bad})
        assert refused.status_code == 400 and "导入" in refused.text


def test_review_from_the_cli(site, client):
    upload(client, site.token(SAMPLE), filled(site, SAMPLE))
    passed = invoke(site.root, "review", SAMPLE, "--pass", "--by", "张三")
    assert passed.exit_code == 0 and "已通过" in passed.output
    assert "审核</dt><dd class=\"review\">通过" in client.get(f"/u/{site.token(SAMPLE)}").text
    returned = invoke(site.root, "review", SAMPLE, "--return", "预算数与批复不符")
    assert returned.exit_code == 0
    assert "退回：预算数与批复不符" in client.get(f"/u/{site.token(SAMPLE)}").text
    assert f"审核：{SAMPLE} 退回（预算数与批复不符）" in invoke(site.root, "status").output
    row = next(u for u in status_json(site)["units"] if u["code"] == SAMPLE)
    assert (row["review"], row["review_reason"]) == ("退回", "预算数与批复不符")
    login(client)
    assert "退回：预算数与批复不符" in client.get("/bureau").text
    assert invoke(site.root, "review", SAMPLE).exit_code == 2
    nothing = invoke(site.root, "review", PATH_UNIT + "0", "--pass")
    assert nothing.exit_code == 2 and "没有单位编码" in nothing.output
    with sqlite3.connect(site.root / "ledger.sqlite") as db:
        decisions = db.execute("SELECT decision, reason, reviewer FROM serve_reviews WHERE unit_code = ? ORDER BY id",
                               (SAMPLE,)).fetchall()
    assert decisions[-2:] == [("pass", "", "张三"), ("return", "预算数与批复不符", decisions[-1][2])]


def test_logout_needs_the_form_token(client):
    login(client)
    page = client.get("/bureau")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/bureau", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------------------------------------------------
# The CLI around the site


def test_token_create_prints_the_token_alone(site):
    result = invoke(site.root, "token", "create")
    assert result.exit_code == 0
    assert re.fullmatch(r"jx_[A-Za-z0-9_-]{40,}\n", result.stdout)


def test_user_add_refuses_a_short_password_and_needs_a_workspace(site, tmp_path):
    short = invoke(site.root, "user", "add", "李四", input="short\n")
    assert short.exit_code == 2 and "8 个字符" in short.output
    from click.testing import CliRunner

    from jixiao_xl.cli import cli

    outside = CliRunner().invoke(cli, ["user", "add", "x"], input="longenough\n", env={"JIXIAO_WORKSPACE": ""})
    assert outside.exit_code == 2 and "工作区" in outside.output



def test_home_static_and_wrong_methods(client):
    client.cookies.clear()
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/login"
    style = client.get("/static/style.css")
    assert style.status_code == 200 and "public" in style.headers["cache-control"]
    assert style.headers["x-content-type-options"] == "nosniff"
    wrong = client.put("/login")
    assert wrong.status_code == 405 and "不支持" in wrong.text


def test_serve_binds_to_localhost_unless_told_otherwise():
    from click.testing import CliRunner

    from jixiao_xl.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "[default: 127.0.0.1]" in result.output


def test_a_passed_return_keeps_counting_until_a_later_one_is_passed(site, client):
    token = site.token(SCRIPT_UNIT)
    upload(client, token, filled(site, SCRIPT_UNIT))
    first = next(u for u in status_json(site)["units"] if u["code"] == SCRIPT_UNIT)["import_id"]
    assert invoke(site.root, "review", SCRIPT_UNIT, "--pass").exit_code == 0
    later = upload(client, token, filled(site, SCRIPT_UNIT))
    assert later.status_code == 200 and later.json()["review"] == "通过"
    row = next(u for u in status_json(site)["units"] if u["code"] == SCRIPT_UNIT)
    assert (row["import_id"], row["review"]) == (first, "通过")  # consolidation reads the same counted return


_SITE_MODULES = """
import sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from starlette.testclient import TestClient
from jixiao_xl.serve.app import NOT_PRELOADED, create_app
from jixiao_xl.workspace import load_workspace
from serve_helpers import PASSWORD, SAMPLE, STAFF, SiteFiles, csrf_of, filled, invoke
import json
root = Path(sys.argv[1])
site = SiteFiles(root, json.loads(invoke(root, "links", "--json").output), sys.argv[3])
with TestClient(create_app(load_workspace(root)), base_url="https://127.0.0.1") as client:
    answers = [client.post("/u/" + site.token(SAMPLE), files={"file": ("a.xlsx", filled(site, SAMPLE))},
                           headers={"Accept": "application/json"}).status_code]
    answers.append(client.get("/u/" + site.token(SAMPLE)).status_code)
    page = client.get("/login")
    client.post("/login", data={"csrf": csrf_of(page.text), "name": STAFF, "password": PASSWORD})
    for path in ("/bureau", "/bureau/unit/" + SAMPLE, "/bureau/download/summary", "/bureau/download/report",
                 "/bureau/download/reminders"):
        answers.append(client.get(path).status_code)
    answers.append(client.get("/api/status", headers={"Authorization": "Bearer " + site.api_token}).status_code)
print(json.dumps({"answers": answers, "imported": sorted(m for m in NOT_PRELOADED if m in sys.modules)}))
"""


def test_the_site_never_imports_the_modules_it_does_not_preload(site):
    """Forked import workers are safe only if no thread imports a module while a worker is forked: the
    modules left out of the preload (demo, frames, publication) must be ones the site never imports."""
    import subprocess
    import sys
    from pathlib import Path

    script = subprocess.run([sys.executable, "-c", _SITE_MODULES, str(site.root), str(Path(__file__).parent),
                             site.api_token], capture_output=True, text=True, timeout=600)
    assert script.returncode == 0, script.stderr[-3000:]
    outcome = json.loads(script.stdout.strip().splitlines()[-1])
    assert outcome == {"answers": [200] * 8, "imported": []}
