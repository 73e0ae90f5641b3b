"""End to end in a real browser: Playwright drives Debian's chromium against `streamlit run app.py` on a free
port and a private copy of the demo database; every page must finish running with no exception on screen."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = [  # (url path, text that must be on the page)
    ("", "Commissioned services in Lancashire"),
    ("area?area=Burnley+%26+Pendle", "Burnley & Pendle"),
    ("directory", "Service directory"),
    ("directory?service=avert-womens-diversion", "AVERT – women's diversion project"),
    ("funds", "Funds in 2013-14"),
    ("review", "Review across the force"),
    ("gaps", "Raise a gap"),
]

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(database_url: str, log_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port over `database_url`, its output in `log_path` (a file, not a pipe
    nobody reads: a full pipe would block it); yields the base URL once /_stcore/health answers, stops it after."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url}
    cmd = [str(ROOT / ".venv/bin/streamlit"), "run", "app.py", "--server.headless", "true", "--server.port",
           str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]  # a file saved mid-test would show a "Rerun" status widget
    if not Path(cmd[0]).exists():
        cmd[0:1] = [sys.executable, "-m", "streamlit"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while time.time() < deadline:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError("streamlit did not start within 90 s: " + log_path.read_text(errors="replace"))
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def server(sqlite_demo_url, tmp_path):
    with running_app(sqlite_demo_url, tmp_path / "streamlit.log") as url:
        yield url


def wait_until_done(page, text: str, timeout_ms: int = 90_000) -> None:
    """Streamlit has finished when no "Running…" status widget is left and either the page's key text or an
    exception is on screen (an exception fails the test at once instead of after the timeout)."""
    page.wait_for_function(
        """(text) => !document.querySelector('[data-testid="stStatusWidget"]')
                     && (document.querySelector('[data-testid="stException"]')
                         || document.body.innerText.includes(text))""",
        arg=text, timeout=timeout_ms)
    page.wait_for_timeout(1500)  # let plotly lay out before the screenshot


def test_every_page_opens_without_an_exception(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for path, text in PAGES:
            page.goto(f"{server}/{path}")
            try:
                wait_until_done(page, text)
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "failed.png"), full_page=True)
                raise AssertionError(f"/{path} did not finish running") from None
            assert page.locator('[data-testid="stException"]').count() == 0, f"exception on /{path}"
            assert text in page.inner_text("body")
            name = path.split("?")[0] or "overview"
            name += "-detail" if "service=" in path else ""
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        browser.close()


def test_sign_in_survives_a_reload_and_a_new_tab_until_signing_out(server):
    """Issue 14: "Sign-in is lost on reload and in a new tab, so a shared link asks for sign-in again". A sign-in
    is a server-side session whose token sits in a SameSite=Strict cookie (never in the URL): a reload and a new
    page of the same browser are signed in; signing out ends it for both. The sidebar's link to this view carries
    the page's query and the as-at date, and a deep link opened first after the start keeps its as-at date."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
        page = context.new_page()
        page.goto(f"{server}/area?area=Preston&as_at=2013-06-01")  # the first page this server runs
        wait_until_done(page, "Username")
        sidebar = page.locator('[data-testid="stSidebar"]')
        dates = ("01/06/2013", "2013-06-01")  # the picker's text, as Chromium reports it
        assert sidebar.locator('[data-testid="stDateInput"] input').input_value() in dates  # kept on entering
        sidebar.get_by_role("textbox", name="Username").fill("demo-commissioner")
        sidebar.get_by_role("textbox", name="Password").fill("demo-commissioner-pass")
        sidebar.get_by_role("button", name="Sign in").click()
        wait_until_done(page, "Signed in as")
        page.wait_for_function("() => document.cookie.includes('services_db_session=')", timeout=30_000)
        cookie = next(c for c in context.cookies() if c["name"] == "services_db_session")
        assert (cookie["sameSite"], cookie["path"], cookie["httpOnly"]) == ("Strict", "/", False)
        assert len(cookie["value"]) >= 40 and cookie["value"] not in page.url
        assert cookie["expires"] > time.time() + 7 * 3600  # eight hours from now

        page.reload()
        wait_until_done(page, "Signed in as")
        assert "Demo commissioner" in sidebar.inner_text() and "Username" not in sidebar.inner_text()
        link = sidebar.locator('[data-testid="stCode"]').inner_text()
        assert link.startswith(f"{server}/area?") and "area=Preston" in link and "as_at=2013-06-01" in link, link
        assert sidebar.locator('[data-testid="stDateInput"] input').input_value() in dates  # the link's date
        code = sidebar.locator('[data-testid="stCode"]')
        code.hover()
        sidebar.screenshot(path=str(ARTIFACTS / "sidebar-signed-in-link.png"))
        code.get_by_role("button").first.click()  # Streamlit's own copy button on the code block
        assert page.evaluate("() => navigator.clipboard.readText()") == link

        other = context.new_page()  # a new tab of the same browser, opening the copied link
        other.goto(link)
        wait_until_done(other, "Signed in as")
        assert "Demo commissioner" in other.locator('[data-testid="stSidebar"]').inner_text()
        assert "as_at=2013-06-01" in other.url

        sidebar.get_by_role("button", name="Sign out").click()
        wait_until_done(page, "Username")
        page.wait_for_function("() => !document.cookie.includes('services_db_session=')", timeout=30_000)
        page.reload()
        wait_until_done(page, "Username")
        assert "Signed in as" not in page.inner_text("body")
        other.reload()  # the other tab's sign-in was the same session: it ended too
        wait_until_done(other, "Username")
        assert "Signed in as" not in other.inner_text("body")
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()
