"""Where a confidential service is never reaches the audit log or its readers (nor is stored by the edit path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from services_db import editing
from services_db.audit import HIDDEN, history, record
from services_db.models import AuditEvent, Service
from services_db.permissions import Actor

COMMISSIONER = Actor("carol", "commissioner")
SECRET = "99 Secret Lane, Preston, PR1 9ZZ"
LAT, LON = 53.7612345, -2.7012345
ROOT = Path(__file__).resolve().parents[2]


def _text(frame) -> str:
    """Everything a reader of history() could see: every column of every row, before and after included."""
    return json.dumps(frame.to_dict("records"), default=str)


def _leaks(text: str) -> list[str]:
    return [s for s in ("Secret Lane", "PR1 9ZZ", str(LAT)[:7], str(LON)[:7]) if s in text]


def _public_with_address(db) -> str:
    """A public service with an address and coordinates (the coordinates come in by import, not the form)."""
    key = editing.keys_of(db, "service")[0][0]
    rec = editing.load(db, "service", key)
    editing.save(db, COMMISSIONER, "service", rec | {"confidential_location": False, "address": SECRET},
                 key=key, version=rec["version"])
    with db.session() as s:
        s.execute(update(Service).where(Service.key == key).values(latitude=LAT, longitude=LON))
    return key


def test_making_a_service_confidential_blanks_its_location_and_keeps_it_out_of_the_log(fresh_demo_db):
    db = fresh_demo_db
    key = _public_with_address(db)
    rec = editing.load(db, "service", key)
    # The form still carries the address it was opened with; ticking "confidential" must not keep or log it.
    editing.save(db, COMMISSIONER, "service", rec | {"confidential_location": True}, key=key, version=rec["version"])
    rec = editing.load(db, "service", key)
    assert (rec["address"], rec["latitude"], rec["longitude"]) == ("", None, None)
    # An address typed into a confidential service is not stored either, nor logged.
    editing.save(db, COMMISSIONER, "service", rec | {"address": SECRET}, key=key, version=rec["version"])
    assert editing.load(db, "service", key)["address"] == ""
    with db.sessions() as s:
        newest = s.scalars(select(AuditEvent).where(AuditEvent.record_key == key)
                           .order_by(AuditEvent.id.desc()).limit(2)).all()
    stored = json.dumps([[e.before, e.after] for e in newest])
    assert _leaks(stored) == [], stored
    made_confidential = newest[1]
    assert made_confidential.before["address"] == HIDDEN and made_confidential.after["address"] == ""
    assert made_confidential.before["latitude"] == HIDDEN and made_confidential.after["latitude"] is None
    change = history(db, "service", key).iloc[1]["changed"]
    assert f"address: {HIDDEN} → " in change and "confidential_location: False → True" in change


def test_history_redacts_older_entries_for_everyone_but_admins(fresh_demo_db):
    db = fresh_demo_db
    key = _public_with_address(db)  # logged in the clear while the service was public: that was allowed then
    rec = editing.load(db, "service", key)
    editing.save(db, COMMISSIONER, "service", rec | {"confidential_location": True}, key=key, version=rec["version"])
    with db.session() as s:  # an entry written before the log redacted anything, straight into the table
        s.add(AuditEvent(username="old-app", action="update", table_name="service", record_key=key,
                         before={"address": "", "confidential_location": True},
                         after={"address": SECRET, "latitude": LAT, "longitude": LON,
                                "confidential_location": True}))
        # and one through record(), which redacts on the way in
        record(s, "old-app", "update", "service", key, {"address": "", "confidential_location": True},
               {"address": SECRET, "confidential_location": True})
    assert _leaks(_text(history(db))) == []
    assert _leaks(_text(history(db, "service", key))) == []
    frame = history(db, "service", key)
    assert frame.iloc[1]["changed"].startswith(f"address:  → {HIDDEN}")
    assert "Secret Lane" in _text(history(db, "service", key, admin=True))  # administrators still see it all
    # A service that was never confidential keeps its history as it was.
    other = editing.keys_of(db, "service")[1][0]
    orec = editing.load(db, "service", other)
    editing.save(db, COMMISSIONER, "service", orec | {"address": "1 Public Street"}, key=other,
                 version=orec["version"])
    assert "→ 1 Public Street" in history(db, "service", other).iloc[0]["changed"]


@pytest.fixture
def app_db(sqlite_demo_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    return sqlite_demo_url


def _plant(url: str) -> str:
    from services_db.db import open_database

    db = open_database(url)
    key = editing.keys_of(db, "service")[0][0]
    rec = editing.load(db, "service", key)
    editing.save(db, COMMISSIONER, "service", rec | {"confidential_location": True}, key=key, version=rec["version"])
    with db.session() as s:
        s.add(AuditEvent(username="old-app", action="update", table_name="service", record_key=key,
                         before={"address": "", "confidential_location": True},
                         after={"address": SECRET, "confidential_location": True}))
    db.dispose()
    return key


def test_history_page_needs_an_account_and_hides_confidential_addresses(app_db):
    _plant(app_db)
    at = AppTest.from_file(str(ROOT / "pages/history.py"), default_timeout=60).run()
    assert not at.exception
    assert len(at.dataframe) == 0 and not at.selectbox
    assert [i.value for i in at.info] == ["Sign in (in the sidebar) to see the history of changes."]
    for role, shown in (("viewer", False), ("commissioner", False), ("admin", True)):
        at = AppTest.from_file(str(ROOT / "pages/history.py"), default_timeout=60)
        at.session_state["actor"] = Actor(f"x-{role}", role)
        at.run()
        changed = " ".join(at.dataframe[0].value["changed"])
        assert ("Secret Lane" in changed) is shown, (role, changed)
