"""Issue 14, "Every view is a link" (the app-wide parts): the "as at" date is read from and written to
`?as_at=YYYY-MM-DD`, a link with a bad date says so and falls back, and every page's sidebar shows the link to
the view, query string and all, to copy. Driven through app.py with Streamlit's AppTest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from components.links import parse_as_at
from services_db import queries
from services_db.db import open_database

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 60


class _AfterEnteringThroughApp(PagesManager):
    """AppTest forgets before every run that a running server has stopped looking for a pages/ folder (the flag
    components.context.enter_through_app clears once per process), so its second run of app.py would run the page
    file alone; this keeps the flag cleared, as a browser's server does."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture
def default_as_at(sqlite_demo_url, monkeypatch) -> dt.date:
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    monkeypatch.setattr(PagesManager, "uses_pages_directory", PagesManager.uses_pages_directory)  # restored after
    monkeypatch.setattr(app_test, "PagesManager", _AfterEnteringThroughApp)
    db = open_database(sqlite_demo_url)
    try:
        return queries.default_as_at(db)
    finally:
        db.dispose()


def _app(query: dict[str, str] | None = None, url: str | None = "http://example.test/") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    if url:
        at.context = {"url": url}
    return at


def _link(at) -> str:
    (code,) = [c.value for c in at.sidebar.code]
    return code


@pytest.mark.parametrize("text,expected", [
    ("2013-06-01", dt.date(2013, 6, 1)), (" 2014-01-27 ", dt.date(2014, 1, 27)),
    ("2013-13-01", None), ("2013-02-30", None), ("20130601", None), ("2013-W22-6", None), ("01/06/2013", None),
    ("1066-10-14", None), ("", None), (None, None), ("2013-06-01<script>", None),
])
def test_only_a_real_iso_date_is_read_from_a_link(text, expected):
    assert parse_as_at(text) == expected


def test_the_as_at_date_comes_from_the_link_and_the_sidebar_links_to_the_view(default_as_at):
    at = _app({"as_at": "2013-06-01"}).run()
    assert not at.exception
    assert at.session_state["as_at"] == dt.date(2013, 6, 1)
    assert at.sidebar.date_input(key="as_at").value == dt.date(2013, 6, 1)
    assert at.query_params["as_at"] == "2013-06-01"
    assert not at.warning
    assert _link(at) == "http://example.test/?as_at=2013-06-01"


def test_a_link_without_a_date_gets_the_date_shown_spelled_out(default_as_at):
    at = _app().run()
    assert at.session_state["as_at"] == default_as_at
    assert at.query_params["as_at"] == default_as_at.isoformat()  # kept even though it is the default
    assert _link(at) == f"http://example.test/?as_at={default_as_at.isoformat()}"


def test_changing_the_date_moves_the_url_and_the_url_does_not_undo_it(default_as_at):
    at = _app({"as_at": "2013-06-01"}).run()
    at.sidebar.date_input(key="as_at").set_value(dt.date(2013, 9, 30)).run()
    assert at.session_state["as_at"] == dt.date(2013, 9, 30)
    assert at.query_params["as_at"] == "2013-09-30"
    at.run()  # another click anywhere: the (old) link the session opened with is not applied again
    assert at.session_state["as_at"] == dt.date(2013, 9, 30)
    assert _link(at).endswith("as_at=2013-09-30")


@pytest.mark.parametrize("bad", ["2013-13-01", "yesterday", "1066-10-14"])
def test_a_bad_date_in_a_link_is_reported_and_falls_back(default_as_at, bad):
    at = _app({"as_at": bad}).run()
    assert not at.exception
    assert at.session_state["as_at"] == default_as_at
    assert at.query_params["as_at"] == default_as_at.isoformat()
    (warning,) = [w.value for w in at.warning]
    assert warning == (f"The link's as-at date “{bad}” is not a date this app can show (write it as YYYY-MM-DD, "
                       f"for example 2014-01-27), so figures are as at {default_as_at:%-d %B %Y} instead.")
    at.run()
    assert [w.value for w in at.warning] == [warning]  # it stays until the person picks a date
    at.sidebar.date_input(key="as_at").set_value(dt.date(2013, 9, 30)).run()
    assert not at.warning and at.query_params["as_at"] == "2013-09-30"


def test_the_link_carries_the_page_s_own_query(default_as_at):
    at = _app({"area": "Preston", "as_at": "2013-06-01"}, url="http://example.test/area")
    at.switch_page("pages/area.py").run()
    assert not at.exception
    link = _link(at)
    assert link.startswith("http://example.test/area?") and "area=Preston" in link and "as_at=2013-06-01" in link


def test_no_link_without_a_browser_url(default_as_at):
    at = _app(url=None).run()
    assert not at.exception and not at.sidebar.code
