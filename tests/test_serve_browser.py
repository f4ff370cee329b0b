"""The site in a real browser: headless Chromium driven by Selenium uploads a return through the unit's page
and sees its findings; staff log in and see the dashboard. Works with the pages' markup alone (no script).

Needs Debian's ``chromium`` and ``chromium-driver`` (apt); skips with the reason when they are missing on a
developer machine. Nothing is downloaded: Selenium is pointed at /usr/bin/chromedriver.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

selenium = pytest.importorskip("selenium", reason="selenium 未安装：pip install -e '.[test]'")
uvicorn = pytest.importorskip("uvicorn")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from jixiao_xl.serve.app import create_app  # noqa: E402
from jixiao_xl.workspace import load_workspace  # noqa: E402
from lo import in_ci  # noqa: E402
from serve_helpers import PASSWORD, SAMPLE, STAFF, filled, free_port, make_site  # noqa: E402

CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _browser_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser():
    binary = _browser_binary()
    if binary is None or not CHROMEDRIVER.exists():
        if in_ci():  # tools/run-tests.sh installs them: missing in CI is a broken set-up, not a reason to skip
            pytest.fail("CI 中缺少 Chromium 或 chromedriver：tools/run-tests.sh 应已用 apt-get 安装 chromium chromium-driver")
        pytest.skip("没有安装 Chromium：apt-get install -y chromium chromium-driver（CI 中已安装）")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--blink-settings=scriptEnabled=false"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def running(tmp_path):
    """A site served by uvicorn on a free loopback port, in a thread of this process."""
    port = free_port()
    site = make_site(tmp_path / "w", base_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(create_app(load_workspace(site.root)), host="127.0.0.1", port=port,
                                           access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_a_unit_uploads_through_the_page_and_sees_its_findings(browser, running, tmp_path):
    site = running
    return_file = tmp_path / "填好的表.xlsx"
    return_file.write_bytes(filled(site, SAMPLE))
    browser.get(site.links[SAMPLE])
    assert "待报送" in browser.find_element(By.CSS_SELECTOR, "dd.state").text
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(return_file))
    browser.find_element(By.CSS_SELECTOR, "section.upload button[type=submit]").click()
    WebDriverWait(browser, 120).until(expected_conditions.presence_of_element_located((By.ID, "outcome")))
    outcome = browser.find_element(By.ID, "outcome").text
    assert "上传的核对结果" in outcome and "F14" in outcome and "R-C1" in outcome
    assert "已报送有错误" in browser.find_element(By.CSS_SELECTOR, "dd.state").text
    sendback = browser.find_element(By.LINK_TEXT, "下载退回修改表").get_attribute("href")
    assert sendback.startswith(site.links[SAMPLE] + "/sendback/")

    browser.get(site.links[SAMPLE].split("/u/")[0] + "/login")
    browser.find_element(By.NAME, "name").send_keys(STAFF)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
    WebDriverWait(browser, 60).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "table.status")))
    row = browser.find_element(By.XPATH, f"//tr[td/a[text()='{SAMPLE}']]").text
    assert "已报送有错误" in row and "待审核" in row
