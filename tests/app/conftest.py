"""App tests drive the real app.py on a private copy of the seeded demo database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services_db import queries
from services_db.db import open_database

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def demo_url(sqlite_demo_url, monkeypatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    return sqlite_demo_url


@pytest.fixture
def demo_data(demo_url):
    db = open_database(demo_url)
    yield queries.review_data(db), queries.default_as_at(db), db
    db.dispose()


@pytest.fixture
def open_page(demo_url) -> Callable[..., AppTest]:
    """open_page("area", query={"area": "Preston"}, session={...}) -> an AppTest that has run that page."""

    def _open(page: str, query: dict | None = None, session: dict | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        for k, v in (session or {}).items():
            at.session_state[k] = v
        at.run()
        assert not at.exception, at.exception
        if page != "overview":
            for k, v in (query or {}).items():
                at.query_params[k] = v
            at.switch_page(f"pages/{page}.py")
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return _open


def texts(at: AppTest) -> str:
    """Every markdown, caption, info and header text on the page, joined (for 'is this sentence shown')."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "success", "error"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "").replace("&amp;", "&")


def table_with(at: AppTest, column: str):
    """The first table on the page that has `column` (AppTest does not keep a dataframe's key)."""
    for df in at.dataframe:
        value = df.value
        if hasattr(value, "columns") and column in value.columns:
            return value
    raise AssertionError(f"no table with a {column!r} column")
