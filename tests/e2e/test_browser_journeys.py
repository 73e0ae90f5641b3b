"""Issue "Each user's job on one screen", in a real browser: a page's URL opened first after the server starts
enters through app.py (sidebar of page titles, sign-in and "as at"), the favicon is served by the app itself, and
"Back to the directory" returns to the list."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import ARGS, CHROMIUM, server, wait_until_done  # noqa: F401 - the server fixture

pytestmark = [pytest.mark.e2e]


def test_a_deep_link_opened_first_enters_through_app_py(server):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{server}/area?area=Preston")  # the first page this server ever runs
        wait_until_done(page, "As at")
        sidebar = page.locator('[data-testid="stSidebar"]')
        nav = [t.strip().splitlines()[-1].strip() for t in page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]
        assert "Area page" in nav and "Service directory" in nav, nav
        assert not {"app", "area", "directory"} & set(nav), f"raw file names in the sidebar: {nav}"
        assert "Sign in" in sidebar.inner_text() and "As at" in sidebar.inner_text()
        assert "Preston" in page.inner_text("body")
        assert page.locator('[data-testid="stException"]').count() == 0
        icon = page.evaluate("() => document.querySelector(\"link[rel~='icon']\").href")
        assert icon.startswith(server), f"favicon from {icon}"
        assert not [u for u in requests if not u.startswith((server, "data:", "blob:"))], requests
        browser.close()


def test_back_to_the_directory(server):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/directory")
        wait_until_done(page, "Open a service")
        box = page.locator('[data-testid="stSelectbox"]', has_text="Open a service")
        box.scroll_into_view_if_needed()
        box.get_by_role("combobox").click()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        wait_until_done(page, "Back to the directory")
        assert "service=" in page.url
        page.get_by_role("button", name="← Back to the directory").click()
        page.wait_for_function("() => !document.body.innerText.includes('Back to the directory')", timeout=60_000)
        wait_until_done(page, "Open a service")
        assert "service=" not in page.url
        browser.close()
