"""The overview page, driven as a user would with Streamlit's AppTest."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from components.format import money
from services_db import queries
from services_db.areas import force_figures
from services_db.db import open_database

APP = Path(__file__).resolve().parent.parent / "app.py"


def test_overview_shows_the_demo_headline_figures(sqlite_demo_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    db = open_database(sqlite_demo_url)
    expected = queries.headline_figures(db)
    at_date = force_figures(queries.review_data(db), queries.default_as_at(db))  # counts follow the "as at" date
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Services"] == f"{at_date['services']:,}"
    assert metrics["Funds"] == f"{expected['funds']:,}"
    assert metrics["Money allocated"] == money(at_date["allocated"])
