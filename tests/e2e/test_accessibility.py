"""Accessibility in a real browser: axe-core (vendored, MPL-2.0) runs on every page, signed out and signed in as
the admin (who sees every page), and any serious or critical violation fails the test with its rule, impact and the
elements it found. The browser console must stay free of errors on every page, and no request may leave the server.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e.test_browser import ARGS, ARTIFACTS, CHROMIUM, server, wait_until_done  # noqa: F401 - fixture

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
READING = [  # (url path, text that shows the page has run)
    ("", "Commissioned services in Lancashire"),
    ("area?area=Burnley+%26+Pendle", "Burnley & Pendle"),
    ("directory", "Service directory"),
    ("directory?service=avert-womens-diversion", "AVERT"),
    ("funds", "Funds in"),
    ("review", "Review across the force"),
    ("gaps", "Raise a gap"),
    ("compare?places=Lancashire,Preston,Burnley+%26+Pendle", "Funding at risk and findings"),
    ("scenarios", "What-if scenarios"),
    ("groupings", "Place-based areas"),
]
SIGNED_IN_ONLY = [("edit", "Edit records"), ("data", "Data in and out"), ("history", "History of changes"),
                  ("users", "Users and roles")]
SERIOUS = ("serious", "critical")
# Streamlit's own front end, opened at /<page>, first asks whether /<page> is the server's base path
# (/<page>/_stcore/health and /host-config) and, on the 404, falls back to /. The probe is in Streamlit's bundled
# JavaScript; answering it with 200 would make /<page> the base path and break navigation, so the two 404s are
# the one console error we expect and do not count.
BASE_PATH_PROBE = re.compile(r"^/[^/]+/_stcore/(health|host-config)$")


def _violations(page) -> list[dict]:
    """axe's serious and critical violations on the page as it stands (WCAG 2.1 A and AA rules)."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
                                                                           'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in SERIOUS]


def _sign_in(page, base: str) -> None:
    page.goto(base)
    wait_until_done(page, "Sign in")
    page.get_by_role("textbox", name="Username").fill("demo-admin")
    page.get_by_role("textbox", name="Password").fill("demo-admin-pass")
    page.get_by_role("button", name="Sign in").click()
    wait_until_done(page, "Signed in as")


def _check_pages(page, base: str, pages: list[tuple[str, str]], label: str, problems: list[str],
                 console: list[str]) -> None:
    for path, text in pages:
        console.clear()
        page.goto(f"{base}/{path}")
        wait_until_done(page, text)
        for v in _violations(page):
            problems.append(f"{label} /{path}: {v['impact']} {v['id']} ({v['help']}): {v['nodes']}")
        problems.extend(f"{label} /{path}: console error: {c}" for c in console)


def test_no_serious_accessibility_violation_or_console_error_on_any_page(server):  # noqa: F811
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    console: list[str] = []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.on("console", lambda m: console.append(f"{m.text} ({m.location.get('url', '')})")
                if m.type == "error" and not BASE_PATH_PROBE.match(urlparse(m.location.get("url", "")).path)
                else None)
        page.on("request", lambda r: outside.append(r.url)
                if not r.url.startswith((server, "data:", "blob:", "about:")) else None)
        _check_pages(page, server, READING, "signed out", problems, console)
        _sign_in(page, server)
        _check_pages(page, server, READING + SIGNED_IN_ONLY, "signed in", problems, console)
        browser.close()
    (ARTIFACTS / "accessibility.txt").write_text("\n".join(problems) or "no problems\n", encoding="utf-8")
    assert not outside, f"requests left the server: {sorted(set(outside))}"
    assert not problems, "\n".join(problems)
