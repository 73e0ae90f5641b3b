"""Raise a gap: nobody signed in is told to sign in; a team member raises one; a commissioner moves it on."""

from services_db.permissions import Actor
from tests.app.conftest import table_with, texts


def _button(at, label: str):
    """The button labelled so (the sidebar, drawn by app.py, has buttons of its own)."""
    return next(b for b in at.button if b.label == label)


def test_signed_out_visitors_are_asked_to_sign_in(open_page):
    at = open_page("gaps")
    assert "Sign in to raise a gap." in texts(at)
    assert "No gaps have been raised yet." in texts(at)


def test_raise_a_gap_then_change_its_status(open_page):
    at = open_page("gaps", session={"actor": Actor("eat1", "early_action")})
    at.selectbox(key="gap_area").set_value("PBA08")
    at.selectbox(key="gap_theme").set_value("mental-health")
    at.text_input(key="gap_affected").set_value("Adults in mental health crisis at night")
    at.text_area(key="gap_description").set_value("No **crisis** bed in Burnley after 10pm <script>")
    at.text_area(key="gap_evidence").set_value("Three incidents in March")
    _button(at, "Raise the gap").click().run()
    assert not at.exception
    assert "Gap 1 raised for Burnley & Pendle (Mental health)." in texts(at)
    log = table_with(at, "What happened")
    assert log["Status"].tolist() == ["Raised"] and log["Area"].tolist() == ["Burnley & Pendle"]
    assert "Commissioners and OPCC staff move gaps on" in texts(at)  # an early action member cannot

    at.session_state["actor"] = Actor("comm1", "commissioner")
    at.run()
    at.selectbox(key="gap_to").set_value("acknowledged")
    at.text_area(key="gap_note").set_value("Taken to the mental health board")
    _button(at, "Change the status").click().run()
    assert "Gap 1 is now acknowledged." in texts(at)
    assert table_with(at, "What happened")["Status"].tolist() == ["Acknowledged"]
    history = table_with(at, "Note")
    assert history["Who"].tolist() == ["eat1", "comm1"]

    at.multiselect(key="log_status").set_value(["closed"]).run()
    assert "No gaps match these filters" in texts(at)


def test_a_gap_with_no_description_is_refused_with_a_reason(open_page):
    at = open_page("gaps", session={"actor": Actor("eat1", "early_action")})
    _button(at, "Raise the gap").click().run()
    assert any("Say what happened" in e.value for e in at.error)
