"""Issue "Each user's job on one screen": back from a service to the directory, the funds of each financial year,
a page's URL opened first entering through app.py, and a favicon that is not fetched from the internet."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, texts


def test_back_to_the_directory_after_opening_a_service_from_the_picker(open_page):
    at = open_page("directory")
    picker = at.selectbox(key="dir_open")
    picker.select_index(1).run()
    assert at.query_params.get("service"), "the picker opens the service"
    assert any(b.key == "back" for b in at.button)
    at.button(key="back").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "service" not in at.query_params
    assert not any(b.key == "back" for b in at.button), "still on the service"
    assert at.title[0].value == "Service directory" and not at.header
    assert at.selectbox(key="dir_open").value == "", "the picker would open the service again"
    at.run()  # and it stays on the list
    assert "service" not in at.query_params and not any(b.key == "back" for b in at.button)


def test_the_funds_to_break_down_follow_the_financial_year(open_page):
    at = open_page("funds")
    first = at.selectbox(key="funds_year").value
    chosen = at.multiselect(key="funds_chosen")
    assert chosen.value and chosen.value == [*chosen.options] or len(chosen.value) == len(chosen.options)
    at.selectbox(key="funds_year").set_value("2014-15").run()
    chosen = at.multiselect(key="funds_chosen")
    assert chosen.value, "changing the year emptied the funds to break down"
    assert len(chosen.value) == len(chosen.options)
    assert "Choose at least one fund" not in texts(at)
    at.selectbox(key="funds_year").set_value(first).run()
    chosen = at.multiselect(key="funds_chosen")
    assert chosen.value and len(chosen.value) == len(chosen.options), "empty on returning to the year"


def test_a_page_url_opened_first_runs_through_app_py(demo_url):
    """The first run of a server whose first visitor opens /area?area=Preston: Streamlit assumed a legacy
    multipage app (pages/ beside app.py) and ran pages/area.py alone, without app.py's sidebar."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["area"] = "Preston"
    at.switch_page("pages/area.py")  # the first run asks for the area page, as a deep link does
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(d.key == "as_at" for d in at.sidebar.date_input), "no As at picker: app.py did not run"
    assert any(t.key == "sign_in_username" for t in at.sidebar.text_input), "no sign-in: app.py did not run"
    assert "Preston" in texts(at)


def test_the_favicon_is_a_local_file():
    source = Path(APP).read_text()
    assert 'page_icon=":material' not in source and "page_icon=FAVICON" in source
    assert (Path(APP).parent / "static" / "favicon.png").read_bytes().startswith(b"\x89PNG")
