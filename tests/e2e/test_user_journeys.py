"""Issue 14, point 9: each user's journey end to end in Chromium, as that user, asserting on the values shown.

One server (`streamlit run app.py` over a private copy of the seeded demo database) serves the four journeys; each
journey has a browser context of its own (its own sign-in cookie) and checks what the page shows against what the
core (`services_db`) computes from the same database file:

1. Chief Inspector (demo-viewer): opens an area from a link, reads "In brief" (every finding with its "Ask:"
   question, as `services_db.brief` ranks them), downloads the PDF and the Word briefing.
2. Commissioner (demo-commissioner): filters the directory (a theme and a place), opens a service, goes back,
   copies the sidebar's link to this view and opens it in a new page: the same filters and the same services.
3. OPCC officer (demo-opcc): changes the Funds year to the one with an application in the pipeline; the URL
   carries the year and the figures are `services_db.funds.fund_year`'s.
4. Early Action Team (demo-early-action): raises a gap for Burnley & Pendle and finds it on the area page's
   Review tab under "Gaps raised by Early Action Teams", with its Status in view at 1440 px without scrolling
   (issue 14: "Tables hide their key columns"; Status used to be the last of seven columns).

Throughout, the browser console shows no error (except Streamlit's base-path probe, see BASE_PATH_PROBE) and no
request leaves the server. Screenshots of every step go to test-artifacts/journey-<who>-<n>-<step>.png, and each
journey's last one also to test-artifacts/journey-<who>.png (copied to docs/ by hand for the README, after looking
at it: a test never edits the repository).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.test_accessibility import BASE_PATH_PROBE
from tests.e2e.test_browser import ARGS, ARTIFACTS, CHROMIUM, running_app, wait_until_done

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")]

AREA = "Burnley & Pendle"
AREA_LINK = "/area?area=Burnley+%26+Pendle&as_at=2014-01-27"
AREA_DATE = dt.date(2014, 1, 27)
VIEWPORT = {"width": 1440, "height": 1000}
PASSWORDS = {"demo-viewer": "demo-viewer-pass", "demo-early-action": "demo-early-action-pass",
             "demo-commissioner": "demo-commissioner-pass", "demo-opcc": "demo-opcc-pass"}
NAMES = {"demo-viewer": "Demo Chief Inspector (viewer)", "demo-early-action": "Demo Early Action Team member",
         "demo-commissioner": "Demo commissioner", "demo-opcc": "Demo OPCC officer"}


# -- the server, the database it serves, and the core's view of that database ---------------------------------


@dataclass(frozen=True)
class App:
    url: str  # http://127.0.0.1:<port>
    db_path: Path  # the SQLite file the server runs on (the core reads the same file)

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.db_path}"


@pytest.fixture(scope="module")
def app(tmp_path_factory, _seeded_sqlite):
    """`streamlit run app.py` on a free port over a private copy of the seeded demo database, for this module's
    journeys (read-only ones first; the one that raises a gap runs last and changes nothing the others read)."""
    where = tmp_path_factory.mktemp("journeys")
    db_path = where / "app.db"
    shutil.copy(_seeded_sqlite, db_path)
    with running_app(f"sqlite:///{db_path}", where / "streamlit.log") as url:
        yield App(url, db_path)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def core(app: App):
    """The core's database handle on the server's file (open it after the browser has written, to read that)."""
    from services_db.db import open_database

    return open_database(app.database_url)


# -- one journey: a browser context that records console errors, outside requests and screenshots ----------------


@dataclass
class Journey:
    who: str  # the screenshot's name: chief-inspector, commissioner, opcc, early-action
    base: str
    context: object
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    step: int = 0

    def page(self):
        return self.context.new_page()

    def shot(self, page, what: str, *, full_page: bool = True) -> Path:
        """A step's screenshot. Streamlit scrolls inside its own main element, so Playwright's full_page sees one
        viewport: a whole page is taken by making the viewport as tall as the page (up to 8,000 px) for a moment."""
        self.step += 1
        path = ARTIFACTS / f"journey-{self.who}-{self.step}-{what}.png"
        if not full_page:
            page.screenshot(path=str(path))
            return path
        tall = page.evaluate("""() => Math.max(document.body.scrollHeight, ...Array.from(
            document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]'),
            e => e.scrollHeight))""")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(tall, VIEWPORT["height"]), 8000)})
        try:
            page.wait_for_timeout(700)  # let the charts lay out at the new size
            page.screenshot(path=str(path))
        finally:
            page.set_viewport_size(VIEWPORT)
            page.wait_for_timeout(300)
        return path

    def final(self, page) -> None:
        """The journey's last view (the viewport, as a person sees it), for the README."""
        self.shot(page, "final", full_page=False)
        page.screenshot(path=str(ARTIFACTS / f"journey-{self.who}.png"), full_page=False)

    def check_clean(self) -> None:
        assert not self.outside, f"requests left the server: {sorted(set(self.outside))}"
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)


def _journey(browser, app: App, who: str) -> Journey:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    j = Journey(who, app.url, context)

    def console(m) -> None:
        where = m.location.get("url", "") if m.location else ""
        if m.type == "error" and not BASE_PATH_PROBE.match(urlparse(where).path):
            j.errors.append(f"{m.text} ({where})")

    context.on("console", console)
    context.on("weberror", lambda e: j.errors.append(f"uncaught: {e.error}"))
    context.on("request", lambda r: j.outside.append(r.url)
               if not r.url.startswith((app.url, "data:", "blob:", "about:")) else None)
    return j


@pytest.fixture
def journey(browser, app):
    """A fresh browser context per journey (each test ends with `check_clean`: no console error, no request
    leaving the server)."""
    made: list[Journey] = []

    def start(who: str) -> Journey:
        made.append(_journey(browser, app, who))
        return made[-1]

    yield start
    for j in made:
        j.context.close()


def settle(page, text: str) -> None:
    """The page has finished running and shows `text`, with no exception on screen."""
    wait_until_done(page, text)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]').first.inner_text()


def rerun_done(page, condition: str, text: str, arg=None) -> None:
    """After an interaction: wait for the state it causes (a JS condition, e.g. on the URL), then for the run."""
    page.wait_for_function(condition, arg=arg, timeout=60_000)
    settle(page, text)


def sign_in(page, user: str) -> None:
    """Through the sidebar's form, on whatever page is open; the sign-in cookie then holds for the context."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("textbox", name="Username").fill(user)
    sidebar.get_by_role("textbox", name="Password").fill(PASSWORDS[user])
    sidebar.get_by_role("button", name="Sign in").click()
    settle(page, "Signed in as")
    page.wait_for_function("() => document.cookie.includes('services_db_session=')", timeout=30_000)
    assert NAMES[user] in sidebar.inner_text()


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlparse(url).query)


def markdown_texts(page) -> list[str]:
    """Every Markdown element's text in document order (what a person reads, line breaks collapsed)."""
    texts = page.eval_on_selector_all('[data-testid="stMarkdown"]', "els => els.map(e => e.innerText)")
    return [" ".join(t.split()) for t in texts]


def sidebar_link(page) -> str:
    """The sidebar's "link to this view" (the code block's text, which its copy button copies)."""
    return page.locator('[data-testid="stSidebar"] [data-testid="stCode"]').inner_text().strip()


def grid_cells(locator, *, across: bool = False) -> list[str]:
    """The cells of an st.dataframe (the grid is a canvas; its accessible table holds the text of the cells in
    view). `across`: also scroll the grid to its right-hand end and read the columns that brings into view."""
    locator.scroll_into_view_if_needed()
    cells = locator.locator('[role="gridcell"]')
    cells.first.wait_for(state="attached", timeout=30_000)
    texts = cells.all_inner_texts()
    if across:
        locator.locator(".dvn-scroller").evaluate("e => { e.scrollLeft = e.scrollWidth; }")
        locator.page.wait_for_timeout(500)
        texts += cells.all_inner_texts()
        locator.locator(".dvn-scroller").evaluate("e => { e.scrollLeft = 0; }")
    return [" ".join(t.split()) for t in texts]


def columns_in_view(locator) -> list[str]:
    """The column headers of an st.dataframe that are at least partly in view (the accessible table holds only
    those): what a person sees without scrolling the table sideways."""
    locator.scroll_into_view_if_needed()
    headers = locator.locator('[role="columnheader"]')
    headers.first.wait_for(state="attached", timeout=30_000)
    return headers.evaluate_all("els => els.map(e => e.textContent.trim())")


def choose(page, widget, option: str) -> None:
    """Pick `option` in a selectbox (`widget`: its stSelectbox element)."""
    widget.scroll_into_view_if_needed()
    widget.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()


MINUS = "\u2212"


def pounds(text: str) -> tuple[float, float]:
    """A figure as the app writes money ("£140,000", "£1.79m", "−£576") -> (value, how far rounding may put it)."""
    t = text.strip()
    sign = -1 if t.startswith((MINUS, "-")) else 1
    m = re.fullmatch(r"[−-]?£([\d,]+(?:\.\d+)?)(m?)", t)
    assert m, f"not a money figure: {text!r}"
    number = float(m.group(1).replace(",", ""))
    if m.group(2):
        return sign * number * 1_000_000, 5_000.0  # £1.79m: to the nearest £10,000, so within £5,000
    return sign * number, 0.5


# -- 1. Chief Inspector -----------------------------------------------------------------------------------------


def _brief_items(app: App):
    """The "In brief" findings the core ranks first for the area at the link's date."""
    from services_db import queries
    from services_db.areas import area_profile, resolve_area
    from services_db.brief import area_brief
    from services_db.raised_gaps import gap_log

    db = core(app)
    try:
        data = queries.review_data(db)
        code = resolve_area(data, AREA)
        profile = area_profile(data, code, AREA_DATE, raised_gaps=gap_log(db, area_codes=[code]))
        return area_brief(data, profile).items
    finally:
        db.dispose()


def _pdf_text(path: Path) -> str:
    if not shutil.which("pdftotext"):
        return ""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60)
    return " ".join(out.stdout.decode("utf-8").split())


def _download(page, j: Journey, fmt_label: str) -> Path:
    box = page.locator('[data-testid="stVerticalBlock"]').filter(
        has=page.get_by_text("Briefing snapshot", exact=True)).filter(has=page.locator('[data-testid="stRadio"]')).last
    radio = box.locator('[data-testid="stRadio"]')
    checked = radio.get_by_role("radio", name=fmt_label)
    if not checked.is_checked():
        radio.get_by_text(fmt_label, exact=True).click()
        page.wait_for_function("(el) => el.checked", arg=checked.element_handle(), timeout=30_000)
        settle(page, "Briefing snapshot")
    started = time.perf_counter()
    with page.expect_download(timeout=120_000) as info:
        box.get_by_role("button", name="Download briefing").click()
    download = info.value
    path = ARTIFACTS / f"journey-chief-inspector-{download.suggested_filename}"
    download.save_as(str(path))
    j.timings[fmt_label] = time.perf_counter() - started
    return path


def test_chief_inspector_opens_an_area_from_a_link_reads_in_brief_and_downloads_both_briefings(journey, app):
    from services_db.documents import briefing_filename

    j = journey("chief-inspector")
    page = j.page()
    page.goto(app.url + AREA_LINK)  # the link a colleague sent
    settle(page, "In brief")
    sign_in(page, "demo-viewer")
    assert query(page.url)["area"] == [AREA] and query(page.url)["as_at"] == ["2014-01-27"], page.url
    assert page.locator("h2").filter(has_text=AREA).count() >= 1
    assert "as at 27 January 2014" in page.inner_text("body")
    j.shot(page, "area-from-link")

    # In brief: each finding the core ranks first, in order, each followed at once by its question for partners
    items = _brief_items(app)
    assert 3 <= len(items) <= 5, [i.label for i in items]
    texts = markdown_texts(page)
    at = -1
    for n, item in enumerate(items, start=1):
        f = item.finding
        sentence = (f"{n}. {item.label}. {f.sentence}" + (" (estimate)" if f.is_estimate else "")
                    + ("" if f.scope == "area" else " (about the whole force)"))
        assert sentence in texts, f"finding {n} is not on the page: {sentence!r}"
        i = texts.index(sentence)
        assert i > at, f"finding {n} is out of order"
        assert texts[i + 1] == f"Ask: {f.question}", (texts[i + 1], f.question)
        at = i + 1
    first = items[0].finding
    assert AREA in first.sentence  # the first finding is about this area, and says so
    page.get_by_role("heading", name="In brief").evaluate("e => e.scrollIntoView({block: 'start'})")
    j.shot(page, "in-brief", full_page=False)

    # both briefings: the file the button names, built for this area and date
    pdf = _download(page, j, "PDF")
    assert pdf.name.endswith(briefing_filename(AREA, AREA_DATE, "pdf"))
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF") and len(body) > 10_000
    text = _pdf_text(pdf)
    if text:  # poppler-utils' pdftotext: the PDF's words
        assert AREA in text and "figures as at 27 January 2014" in text, text[:400]

    docx = _download(page, j, "Word")
    assert docx.name.endswith(briefing_filename(AREA, AREA_DATE, "docx"))
    assert zipfile.is_zipfile(docx)
    with zipfile.ZipFile(docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    words = html.unescape(re.sub(r"<[^>]+>", "", xml))
    assert "Burnley" in xml and AREA in words and "27 January 2014" in words
    assert page.locator('[data-testid="stException"]').count() == 0
    page.evaluate("() => window.scrollTo(0, 0)")
    print(f"briefing downloads (click to file): PDF {j.timings['PDF']:.2f} s, Word {j.timings['Word']:.2f} s")
    j.final(page)
    j.check_clean()


# -- 2. Commissioner --------------------------------------------------------------------------------------------

THEME, THEME_KEY, PLACE = "Domestic abuse", "domestic-abuse", "Pendle"


def _directory_rows(app: App, when: dt.date) -> list[str]:
    """The services the core lists for the theme, the place and the default state (current) at `when`."""
    from services_db import queries
    from services_db.counting import CURRENT
    from services_db.directory import (
        DirectoryFilter,
        directory_frame,
        directory_results,
        find_place,
        service_extras,
    )

    db = core(app)
    try:
        data = queries.review_data(db)
        place = find_place(data.areas, PLACE)
        frame = directory_frame(data, service_extras(db), when)
        found = directory_results(data, frame, DirectoryFilter(themes=[THEME_KEY], covers=place.code,
                                                               states=[CURRENT]))
        return found.rows["name"].tolist()
    finally:
        db.dispose()


def _multiselect(page, label: str):
    return page.locator('[data-testid="stMultiSelect"]').filter(has=page.get_by_text(label, exact=True))


def chips(widget) -> list[str]:
    """The values chosen in a multiselect (`widget`: its stMultiSelect element), as its tags name them."""
    return [t.get_attribute("aria-label") for t in widget.locator("[data-tag]").all()]


def _filters_shown(page, themes: list[str], place: str) -> None:
    """Wait (up to 15 s) until the theme box and the place box show these values. The list can be on screen before
    them: a new page loads the widgets' code after the first run's text, and fills the place box last."""
    from playwright.sync_api import expect

    expect(page.get_by_role("textbox", name="Services covering a place")).to_have_value(place, timeout=15_000)
    tags = _multiselect(page, "Theme").locator("[data-tag]")
    expect(tags).to_have_count(len(themes), timeout=15_000)
    for theme in themes:
        expect(tags.and_(page.locator(f'[aria-label="{theme}"]'))).to_have_count(1, timeout=15_000)


def _directory_state(page) -> dict:
    """What the directory shows: the theme chips, the place typed, the count sentence and the listed services."""
    themes = chips(_multiselect(page, "Theme"))
    place = page.get_by_role("textbox", name="Services covering a place").input_value()
    summary = next(t for t in markdown_texts(page) if re.match(r"^\d+ of \d+ services", t))
    listed = int(re.match(r"^(\d+) of", summary).group(1))
    table = page.locator('[data-testid="stDataFrame"]').first
    return {"themes": themes, "place": place, "summary": summary,
            "listed": listed, "cells": grid_cells(table)}


def test_commissioner_filters_opens_a_service_and_sends_the_link(journey, app):
    j = journey("commissioner")
    page = j.page()
    page.goto(app.url + "/directory")
    settle(page, "Open a service")
    sign_in(page, "demo-commissioner")

    theme = _multiselect(page, "Theme")
    theme.locator("input").click()
    page.keyboard.type(THEME)
    page.get_by_role("option", name=THEME, exact=True).click()
    page.keyboard.press("Escape")
    rerun_done(page, "(t) => new URLSearchParams(location.search).get('theme') === t", "Open a service", THEME)
    box = page.get_by_role("textbox", name="Services covering a place")
    box.fill(PLACE)
    box.press("Enter")
    rerun_done(page, "(p) => new URLSearchParams(location.search).get('place') === p", "Services covering any part of",
               PLACE)
    when = dt.date.fromisoformat(query(page.url)["as_at"][0])
    expected = _directory_rows(app, when)
    _filters_shown(page, [THEME], PLACE)
    assert expected, "the demo has no service for this theme and place: choose another"
    shown = _directory_state(page)
    assert shown["themes"] == [THEME] and shown["place"] == PLACE, shown
    assert shown["listed"] == len(expected), (shown["summary"], expected)
    assert all(name in shown["cells"] for name in expected), (expected, shown["cells"][:40])
    assert "Services covering any part of Pendle" in page.inner_text("body")
    j.shot(page, "filtered")

    # open a service from the list, then go back to the list
    service = expected[0]
    choose(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Open a service"), service)
    rerun_done(page, "() => location.search.includes('service=')", "Back to the directory")
    assert page.locator("h2").filter(has_text=service).count() >= 1
    assert "Annual funding" in page.inner_text("body")
    j.shot(page, "service")
    page.get_by_role("button", name="← Back to the directory").click()
    rerun_done(page, "() => !location.search.includes('service=')", "Open a service")
    _filters_shown(page, [THEME], PLACE)  # kept while the service was open
    back = _directory_state(page)
    assert (back["themes"], back["place"], back["listed"]) == ([THEME], PLACE, len(expected)), back
    j.shot(page, "back")

    # the sidebar's link to this view carries the filters; a new page of the same browser opens the same list
    link = sidebar_link(page)
    assert link.startswith(f"{app.url}/directory?"), link
    params = query(link)
    assert params["theme"] == [THEME] and params["place"] == [PLACE] and "service" not in params, params
    assert params["as_at"] == [when.isoformat()]
    other = j.page()
    other.goto(link)
    settle(other, "Services covering any part of")
    assert NAMES["demo-commissioner"] in other.locator('[data-testid="stSidebar"]').inner_text()  # still signed in
    _filters_shown(other, shown["themes"], shown["place"])
    again = _directory_state(other)
    assert again["themes"] == shown["themes"] and again["place"] == shown["place"], again
    assert again["listed"] == shown["listed"] and again["summary"] == shown["summary"], again
    assert all(name in again["cells"] for name in expected)
    assert query(other.url)["theme"] == [THEME] and query(other.url)["place"] == [PLACE]
    j.final(other)
    j.check_clean()


# -- 3. OPCC officer --------------------------------------------------------------------------------------------


def _pipeline_year(app: App, when: dt.date):
    """The first financial year with an application in the pipeline, and its figures from the core."""
    from services_db import funds, queries

    db = core(app)
    try:
        data = queries.review_data(db)
        for year in funds.financial_years(data):
            fy = funds.fund_year(data, year, when)
            if fy.applied > 0:
                return year, fy
    finally:
        db.dispose()
    pytest.fail("no fund year of the demo has an application in the pipeline")


def _metric(page, label: str) -> str:
    from playwright.sync_api import expect

    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]').get_by_text(label, exact=True))
    expect(metric).to_have_count(1, timeout=15_000)  # exactly one metric of that name
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_opcc_officer_changes_the_fund_year_and_sees_unallocated_and_pipeline(journey, app):
    j = journey("opcc")
    page = j.page()
    page.goto(app.url + "/funds")
    settle(page, "Funds in")
    sign_in(page, "demo-opcc")
    first = query(page.url)["year"][0]
    when = dt.date.fromisoformat(query(page.url)["as_at"][0])
    year, fy = _pipeline_year(app, when)
    assert year != first, "the pipeline year is the default one: the journey would change nothing"
    j.shot(page, "funds-default-year")

    choose(page, page.locator('[data-testid="stSelectbox"]').filter(has_text="Financial year"), year)
    rerun_done(page, "(y) => new URLSearchParams(location.search).get('year') === y", f"Funds in {year}", year)
    assert query(page.url)["year"] == [year], page.url

    figures = {label: _metric(page, label) for label in
               ("Total", "Allocated (awarded or paid)", "Applied for, not awarded", "Unallocated")}
    core_values = {"Total": fy.total, "Allocated (awarded or paid)": fy.allocated,
                   "Applied for, not awarded": fy.applied, "Unallocated": fy.unallocated}
    for label, text in figures.items():
        value, slack = pounds(text)
        assert abs(value - core_values[label]) <= slack, f"{label}: page {text}, core £{core_values[label]:,.2f}"
    body = " ".join(page.inner_text("body").split())
    assert f"£{fy.applied:,.0f} applied for and not awarded" in body  # the pipeline line, to the pound
    # "Changing the financial year on Funds empties 'Funds to break down'" (issue 14): every fund of the year chosen
    from playwright.sync_api import expect

    breakdown = _multiselect(page, "Funds to break down")
    expect(breakdown.locator("[data-tag]")).to_have_count(len(fy.funds), timeout=15_000)
    chosen = chips(breakdown)
    assert sorted(chosen) == sorted(fy.funds["name"]), (chosen, fy.funds["name"].tolist())
    assert "year=" + year in sidebar_link(page)
    print(f"{year}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    page.evaluate("() => window.scrollTo(0, 0)")
    j.final(page)
    j.check_clean()


# -- 4. Early Action Team ---------------------------------------------------------------------------------------


def test_early_action_team_raises_a_gap_and_sees_it_on_the_area_page(journey, app):
    j = journey("early-action")
    page = j.page()
    page.goto(app.url + "/gaps")
    settle(page, "Raise a gap")
    sign_in(page, "demo-early-action")
    settle(page, "Report a gap in service")

    tag = uuid.uuid4().hex[:6]
    affected = f"Young people leaving care in Nelson ({tag})"
    description = (f"No out-of-hours mental health crisis support in Pendle: officers waited six hours with a "
                   f"17-year-old for an assessment (journey test {tag})")
    form = page.locator('[data-testid="stForm"]').first
    choose(page, form.locator('[data-testid="stSelectbox"]').filter(has_text="Area"), AREA)
    choose(page, form.locator('[data-testid="stSelectbox"]').filter(has_text="Theme"), "Mental health")
    form.get_by_role("textbox", name="Who is affected").fill(affected)
    form.get_by_role("textbox", name="What happened").fill(description)
    form.get_by_role("textbox", name="Evidence").fill("Incidents LC-20140120-0412 and LC-20140124-0098")
    j.shot(page, "form")
    form.get_by_role("button", name="Raise the gap").click()
    settle(page, "raised for")
    flash = page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    m = re.search(r"Gap (\d+) raised for Burnley & Pendle \(Mental health\)", flash)
    assert m, flash
    number = int(m.group(1))
    log_in_view = columns_in_view(page.locator('[data-testid="stDataFrame"]').first)  # the log of raised gaps
    j.shot(page, "raised")

    from services_db.raised_gaps import gap_log

    db = core(app)
    try:
        log = gap_log(db)
    finally:
        db.dispose()
    row = log[log["description"] == description]
    assert len(row) == 1, log[["id", "description"]]
    row = row.iloc[0]
    assert (int(row["id"]), row["area"], row["theme_key"], row["affected"], row["status"]) == (
        number, AREA, "mental-health", affected, "raised"), row.to_dict()

    page.goto(app.url + "/area?area=Burnley+%26+Pendle")
    settle(page, "In brief")
    page.get_by_role("tab", name="Review").click()
    panel = page.locator('[role="tabpanel"]:visible')
    heading = panel.get_by_text("Gaps raised by Early Action Teams", exact=True)
    heading.wait_for(timeout=30_000)
    table = panel.locator('[data-testid="stDataFrame"]').last
    area_in_view = columns_in_view(table)
    cells = grid_cells(table, across=True)
    assert str(number) in cells and description in cells and affected in cells, cells
    assert "Mental health" in cells and row["status_label"] in cells, cells
    assert "No gaps raised for this area yet" not in panel.inner_text()
    heading.scroll_into_view_if_needed()
    page.evaluate("() => window.scrollBy(0, -120)")
    j.final(page)
    j.check_clean()
    # Issue 14: "Tables hide their key columns at 1440 px (funds amounts, gap status, ...)". The journey itself has
    # passed (the status was read by scrolling the table sideways); what a person sees without scrolling is this:
    hidden = [f"{where}: columns in view {cols}" for where, cols in
              (("Raise a gap page, 'Gaps raised' log", log_in_view),
               ("area page, Review tab, 'Gaps raised by Early Action Teams'", area_in_view))
              if "Status" not in cols]
    assert not hidden, ("key columns hidden at 1440 px (issue 14): a raised gap's Status is out of view "
                        "until the table is scrolled sideways: " + "; ".join(hidden))
