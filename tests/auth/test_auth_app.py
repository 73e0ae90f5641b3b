"""The sign-in gate and the edit, data, history and users pages, driven through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.format import escape
from services_db.permissions import Actor

TIMEOUT = 60
ROOT = Path(__file__).resolve().parents[2]


def _gate_app():
    from components.auth import sign_in_gate

    actor = sign_in_gate()
    import streamlit as st
    st.write(f"actor={actor.username if actor else None}")


@pytest.fixture
def app_db(sqlite_demo_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    return sqlite_demo_url


def test_sign_in_with_a_demo_account_and_out(app_db):
    at = AppTest.from_function(_gate_app, default_timeout=TIMEOUT).run()
    assert any("demo-admin / demo-admin-pass" in t.value for t in at.sidebar.text)
    at.sidebar.text_input(key="sign_in_username").input("demo-commissioner")
    at.sidebar.text_input(key="sign_in_password").input("wrong password")
    at.sidebar.button[0].click().run()
    assert [e.value for e in at.sidebar.error] == ["That username and password do not match an active account."]
    at.sidebar.text_input(key="sign_in_password").input("demo-commissioner-pass")
    at.sidebar.button[0].click().run()
    assert at.session_state["actor"] == Actor("demo-commissioner", "commissioner", "Demo commissioner")
    assert "actor=demo-commissioner" in at.main.markdown[-1].value
    at.sidebar.button(key="sign_out").click().run()
    assert "actor" not in at.session_state
    assert "actor=None" in at.main.markdown[-1].value


def test_edit_page_saves_escapes_and_refuses_a_stale_save(app_db):
    at = AppTest.from_file(str(ROOT / "pages/edit.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("carol", "commissioner", "Carol")
    at.run()
    assert at.selectbox(key="edit_kind").options == ["service", "organisation"]
    at.selectbox(key="edit_kind").select("organisation").run()
    from services_db import editing
    from services_db.db import open_database
    db = open_database(app_db)
    key = editing.keys_of(db, "organisation")[0][0]
    db.dispose()
    at.session_state["edit_pick_organisation"] = key
    at.run()
    name_box = at.text_input(key=f"edit_organisation_{key}_name")
    name_box.input("**bold** <script>alert(1)</script>")
    at.button[1].click().run()  # [0] is Reload
    assert [s.value for s in at.success] == [f"Saved organisation '{escape(key)}'."]
    at.run()  # the form now holds the version after our save
    db = open_database(app_db)
    theirs = editing.load(db, "organisation", key)
    editing.save(db, Actor("olly", "opcc"), "organisation", theirs | {"sector": "VCFS"}, key=key,
                 version=theirs["version"])
    db.dispose()
    # Somebody else saved since this form was opened, so its save is refused, not silently applied.
    at.text_input(key=f"edit_organisation_{key}_name").input("Another name")
    at.button[1].click().run()
    assert at.error and "saved this organisation at" in at.error[0].value
    at.button(key="edit_reload").click().run()
    editing_line = next(m.value for m in at.markdown if m.value.startswith("Editing"))
    assert editing_line.startswith("Editing **\\*\\*bold\\*\\* &lt;script&gt;alert\\(1\\)&lt;/script&gt;**")


@pytest.mark.parametrize("role,kinds", [("viewer", None), ("early_action", None),
                                        ("opcc", ["service", "organisation", "fund", "allocation", "plan", "priority"])])
def test_edit_page_offers_only_what_the_role_may_edit(app_db, role, kinds):
    at = AppTest.from_file(str(ROOT / "pages/edit.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("x", role)
    at.run()
    if kinds is None:
        assert [w.value for w in at.warning] == ["Your role may read everything but not edit records."]
    else:
        assert at.selectbox(key="edit_kind").options == kinds


def test_users_page_is_for_admins_only(app_db):
    at = AppTest.from_file(str(ROOT / "pages/users.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("x", "opcc")
    at.run()
    assert [w.value for w in at.warning] == ["Your role (OPCC) may not manage users."]
    at = AppTest.from_file(str(ROOT / "pages/users.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("demo-admin", "admin")
    at.run()
    at.text_input(key="new_username").input("newbie")
    at.text_input(key="new_password").input("a long enough password")
    at.button[0].click().run()
    assert [s.value for s in at.success] == ["Account added."]
    at.run()
    assert "newbie" in at.dataframe[0].value["username"].tolist()


def test_data_page_imports_by_role_and_exports(app_db):
    at = AppTest.from_file(str(ROOT / "pages/data.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("x", "viewer")
    at.run()
    assert at.info[0].value.startswith("Your role may not import data.")
    at = AppTest.from_file(str(ROOT / "pages/data.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("c", "commissioner")
    at.run()
    assert at.selectbox(key="import_kind").options == [
        "Services, organisations, funding lines, allocations (CSV or Excel template)",
        "Open Referral UK (HSDS 3.0) JSON"]
    at.button(key="prepare_exports").click().run()
    assert "contents" in at.session_state["exports"]["openreferral"]


def test_history_page_shows_changes_per_record(app_db):
    from services_db import editing
    from services_db.db import open_database
    db = open_database(app_db)
    key = editing.keys_of(db, "fund")[0][0]
    rec = editing.load(db, "fund", key)
    rec["money_source"] = "=cmd|' /C calc'!A0"
    editing.save(db, Actor("olly", "opcc"), "fund", rec, key=key, version=rec["version"])
    db.dispose()
    at = AppTest.from_file(str(ROOT / "pages/history.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = Actor("demo-viewer", "viewer")  # the page needs an account (any role)
    at.run()
    at.selectbox(key="history_table").select("fund").run()
    at.text_input(key="history_key").input(key).run()
    frame = at.dataframe[0].value
    assert frame["username"].tolist() == ["olly"] and "money_source" in frame["changed"].iloc[0]
