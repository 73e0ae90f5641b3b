"""Editing: role checks on every kind, optimistic locking, audit before/after, validation messages."""

from __future__ import annotations

import pytest

from services_db import editing
from services_db.audit import history
from services_db.permissions import Actor, PermissionDenied

COMMISSIONER = Actor("carol", "commissioner")
OPCC = Actor("olly", "opcc")


def _first(db, kind):
    return editing.keys_of(db, kind)[0][0]


def test_edit_service_records_before_and_after(fresh_demo_db):
    db = fresh_demo_db
    key = _first(db, "service")
    rec = editing.load(db, "service", key)
    rec["capacity"] = "12 places"
    editing.save(db, COMMISSIONER, "service", rec, key=key, version=rec["version"])
    after = editing.load(db, "service", key)
    assert (after["capacity"], after["version"]) == ("12 places", rec["version"] + 1)
    events = history(db, "service", key)
    assert events.iloc[0]["username"] == "carol" and events.iloc[0]["action"] == "update"
    assert "capacity: " in events.iloc[0]["changed"] and "→ 12 places" in events.iloc[0]["changed"]


def test_second_save_of_the_same_version_is_refused(fresh_demo_db):
    db = fresh_demo_db
    key = _first(db, "organisation")
    mine, theirs = editing.load(db, "organisation", key), editing.load(db, "organisation", key)
    theirs["name"] = "Renamed by them"
    editing.save(db, OPCC, "organisation", theirs, key=key, version=theirs["version"])
    mine["name"] = "Renamed by me"
    with pytest.raises(editing.StaleEdit) as err:
        editing.save(db, COMMISSIONER, "organisation", mine, key=key, version=mine["version"])
    assert "olly saved this organisation at" in str(err.value) and "your changes were not saved" in str(err.value)
    assert editing.load(db, "organisation", key)["name"] == "Renamed by them"


ALLOWED = {"service": {"commissioner", "opcc", "admin"}, "organisation": {"commissioner", "opcc", "admin"},
           "fund": {"opcc", "admin"}, "allocation": {"opcc", "admin"}, "plan": {"opcc", "admin"},
           "priority": {"opcc", "admin"}}


@pytest.mark.parametrize("kind", list(ALLOWED))
def test_each_role_is_refused_what_it_may_not_edit(fresh_demo_db, kind):
    db = fresh_demo_db
    key = _first(db, kind)
    for role in ("viewer", "early_action", "commissioner", "opcc", "admin"):
        rec = editing.load(db, kind, key)
        if role in ALLOWED[kind]:
            editing.save(db, Actor(role, role), kind, rec, key=key, version=rec["version"])
        else:
            with pytest.raises(PermissionDenied):
                editing.save(db, Actor(role, role), kind, rec, key=key, version=rec["version"])
    assert editing.load(db, kind, key)["version"] == rec["version"] + 1
    assert len(history(db, kind, key)) == len(ALLOWED[kind])


def test_add_service_with_bad_fields(fresh_demo_db):
    db = fresh_demo_db
    values = {"key": "new-svc", "name": "", "themes": ["knitting"], "coverage": ["E07000123"], "status": "active",
              "start_date": "2015-01-01", "end_date": "2014-01-01"}
    with pytest.raises(editing.EditError) as err:
        editing.save(db, COMMISSIONER, "service", values)
    assert [(e.column, e.message) for e in err.value.errors] == [
        ("name", "is required but empty"), ("end_date", "ends (2014-01-01) before it starts (2015-01-01)"),
        ("themes", "unknown theme 'knitting'")]
    assert "new-svc" not in dict(editing.keys_of(db, "service"))
    values.update(name="<script>alert(1)</script>", themes=["victims"], end_date="")
    editing.save(db, COMMISSIONER, "service", values)
    assert editing.load(db, "service", "new-svc")["name"] == "<script>alert(1)</script>"
