"""The directory's detail view for services with nothing recorded in nullable fields (every Open Referral import
has no tier), and for names that carry Markdown: shown as typed, never as a link or emphasis."""

from __future__ import annotations

from sqlalchemy import create_engine, delete, select, update

from components.format import escape
from services_db.counting import CURRENT, ENDED, NOT_STARTED, PLANNED, WITHDRAWN
from services_db.models import Organisation, Service, service_target_group
from tests.app.conftest import texts

KEY = "avert-womens-diversion"
EVIL = "[click](http://evil.example) **bold**"


def _edit(url: str, **values) -> None:
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(update(Service).where(Service.key == KEY).values(**values))
    engine.dispose()


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _rendered(at) -> list[str]:
    """Every text the page renders as Markdown, as given to Streamlit (escapes and all)."""
    return [str(e.value) for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                                      "success", "error") for e in getattr(at, kind)]


def test_a_service_without_a_tier_opens_by_url(demo_url, open_page):
    """Issue 8: AttributeError: 'float' object has no attribute 'capitalize' for a service with tier NULL."""
    _edit(demo_url, tier=None)
    at = open_page("directory", query={"service": KEY})
    assert not at.exception
    assert _metrics(at)["Prevention tier"] == "not recorded"


def test_a_service_without_a_tier_opens_from_the_picker(demo_url, open_page):
    _edit(demo_url, tier=None)
    at = open_page("directory")
    at.multiselect(key="state").set_value([CURRENT, PLANNED, NOT_STARTED, ENDED, WITHDRAWN]).run()
    picker = at.selectbox(key="dir_open")
    picker.select_index(picker.options.index("AVERT – women's diversion project")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.header[0].value == "AVERT – women's diversion project"
    assert _metrics(at)["Prevention tier"] == "not recorded"


def test_every_nullable_field_missing(demo_url, open_page):
    """No tier, provider, target group, start or end date, review date, description or source: the page says
    what is not recorded instead of crashing or showing 'nan'."""
    _edit(demo_url, tier=None, provider_id=None, start_date=None, end_date=None, last_reviewed=None,
          description="", eligibility="", contact="")
    engine = create_engine(demo_url)
    with engine.begin() as c:
        sid = c.scalar(select(Service.id).where(Service.key == KEY))
        c.execute(delete(service_target_group).where(service_target_group.c.service_id == sid))
    engine.dispose()
    at = open_page("directory", query={"service": KEY})
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at)["Prevention tier"] == "not recorded"
    assert (_metrics(at)["Starts"], _metrics(at)["Ends"]) == ("–", "–")
    shown = texts(at)
    assert "Provider not recorded (sector unknown)" in shown
    assert "**Target groups:** –" in shown and "**Last reviewed:** –" in shown
    assert "nan" not in shown.replace("financ", "")


def test_markdown_in_names_is_shown_not_interpreted(demo_url, open_page):
    """Issue 11: a service or organisation named `[click](http://evil.example) **bold**` showed a link."""
    engine = create_engine(demo_url)
    with engine.begin() as c:
        pid = c.scalar(select(Service.provider_id).where(Service.key == KEY))
        c.execute(update(Organisation).where(Organisation.id == pid).values(name="Provider " + EVIL,
                                                                           sector="VCFS"))
    engine.dispose()
    _edit(demo_url, name=EVIL, description="See <a href='http://evil.example'>here</a> $x$ :red[alarm]",
          contact="_call_ 01772 # [x](javascript:alert(1))")
    at = open_page("directory", query={"service": KEY})
    assert not at.exception, [e.value for e in at.exception]
    assert at.header[0].value == escape(EVIL) == r"\[click\]\(http\://evil\.example\) \*\*bold\*\*"
    assert f"Provider {escape(EVIL)} (VCFS)" in at.caption[0].value
    rendered = _rendered(at)
    assert not any("](http" in r or "](javascript" in r or "<a " in r or "**bold**" in r for r in rendered), rendered
    assert not any(":red[" in r or " $x$" in r for r in rendered), rendered
    # shown as typed once the escapes are read
    assert EVIL in texts(at) and "[x](javascript:alert(1))" in texts(at)
