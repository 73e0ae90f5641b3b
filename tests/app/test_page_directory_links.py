"""The directory as a link and as directory users expect it (issue 14): every filter, the place, the view and the
opened service come from the URL; services covering a typed place; a card view beside the table; funding that is
unknown or starts later said as what it is, never £0; a map of counts in whole steps, or a sentence when every
district has the same count."""

from __future__ import annotations

import json

from services_db.counting import CURRENT, PLANNED
from services_db.directory import DirectoryFilter, directory_frame, search, service_extras
from tests.app.conftest import texts

EAR = "Early Action Response service"


def _count(at) -> int:
    for m in at.markdown:
        if " of " in m.value and "services**" in m.value:
            return int(m.value.split("**")[1].split(" of ")[0])
    raise AssertionError("no result count shown")


def _cards(at) -> list[str]:
    """The names on the cards, in order (each card opens with its name in bold)."""
    return [m.value.strip("*").replace("\\", "") for m in at.markdown
            if m.value.startswith("**") and m.value.endswith("**") and not m.value[2:3].isdigit()]


def _frame(demo_data):
    data, as_at, db = demo_data
    return data, directory_frame(data, service_extras(db), as_at)


def test_a_link_opens_the_same_filters(open_page, demo_data):
    """A commissioner sends ?q=...&theme=...&state=...&place=...&view=Cards: the colleague's page has the same
    filter values and the same list."""
    data, frame = _frame(demo_data)
    query = {"q": "early", "theme": ["Mental health", "Families"], "state": [CURRENT, PLANNED],
             "place": "Burnley", "tier": "secondary", "view": "Cards"}
    at = open_page("directory", query=query)
    assert at.text_input(key="q").value == "early" and at.text_input(key="place").value == "Burnley"
    assert at.multiselect(key="theme").value == ["mental-health", "families"]
    assert at.multiselect(key="state").value == [CURRENT, PLANNED]
    assert at.multiselect(key="tier").value == ["secondary"]
    assert at.session_state["view"] == "Cards"
    expected = search(frame, DirectoryFilter(keyword="early", themes=["mental-health", "families"],
                                             tiers=["secondary"], covers="E07000117",
                                             states=[CURRENT, PLANNED]), data.areas)
    assert _count(at) == len(expected) > 0
    assert sorted(_cards(at)) == sorted(expected["name"])  # drawn in three columns: read across, by name


def test_the_opened_service_and_back_keep_the_filters(open_page):
    at = open_page("directory", query={"q": "response", "state": [CURRENT, PLANNED]})
    picker = at.selectbox(key="dir_open")
    picker.select_index(picker.options.index(EAR)).run()
    assert at.header[0].value == EAR and at.query_params["service"] == "early-action-response-service"
    at.button(key="back").click().run()
    assert not at.header and at.text_input(key="q").value == "response"
    assert at.multiselect(key="state").value == [CURRENT, PLANNED]


def test_services_covering_a_typed_place(open_page, demo_data):
    data, frame = _frame(demo_data)
    at = open_page("directory")
    at.text_input(key="place").set_value("burnley and pendle").run()  # the hierarchy's matching: & is "and"
    assert "Services covering any part of Burnley & Pendle (place-based area)." in texts(at)
    assert _count(at) == len(search(frame, DirectoryFilter(covers="PBA08", states=[CURRENT]), data.areas))
    at.text_input(key="place").set_value("Pendle 008A").run()  # an LSOA by name
    assert "Pendle 008A (LSOA E01025174)" in texts(at)
    assert _count(at) == len(search(frame, DirectoryFilter(covers="E01025174", states=[CURRENT]), data.areas))
    at.text_input(key="place").set_value("Burnly").run()
    assert "No place-based area, district or LSOA is called “Burnly”. Did you mean “Burnley”?" in texts(at)
    assert _count(at) == len(search(frame, DirectoryFilter(states=[CURRENT])))  # said, and not filtered


def test_card_view_beside_the_table(open_page, demo_data):
    _, frame = _frame(demo_data)
    at = open_page("directory")
    assert at.dataframe and not _cards(at)
    at.segmented_control(key="view").set_value("Cards").run()
    current = search(frame, DirectoryFilter(states=[CURRENT]))
    assert sorted(_cards(at)) == sorted(current["name"])
    assert not [t for t in at.dataframe if "Service" in t.value.columns]  # no list table (the map's data stays)
    card = next(m.value for m in at.markdown if m.value.startswith("**Provider:** Lancashire Women"))
    for field in ("**For:**", "**Where:**", "**Contact:**", "**Last reviewed:**"):
        assert field in card
    at.button(key="card_preston-chorley-street-pastors").click().run()
    assert at.header[0].value == "Preston & Chorley Street Pastors"


def test_funding_is_never_a_false_zero(open_page):
    """Issue 14: four mental-health services read "annual funding £0" (their funding is not recorded), and Early
    Action Response read £0 though it has £1.216m a year from April 2014."""
    at = open_page("directory", query={"theme": "Mental health"})
    assert "their annual funding not recorded" in texts(at) and "£0" not in texts(at)
    at.multiselect(key="state").set_value([CURRENT, PLANNED]).run()
    table = at.dataframe[0].value.set_index("Service")
    assert table.loc[EAR, "Annual funding"] == "£1,216,000 a year from April 2014"
    assert table.loc["Police Early Action Teams", "Annual funding"] == "not recorded"
    assert not table["Annual funding"].isin(["£0", "0", ""]).any()
    at = open_page("directory", query={"service": "early-action-response-service"})
    funding = next(m for m in at.metric if m.label == "Annual funding")
    assert (funding.value, funding.delta) == ("£1,216,000", "a year from April 2014")  # figure, then its words


def _chart(at, key: str) -> dict | None:
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key):
            return json.loads(el.proto.spec)
    return None


def test_the_map_counts_in_whole_steps_or_says_there_is_one_value(open_page):
    """Issue 14: the colour scale ran 3 to 4 services in fractions; a map where every district has the same count
    was one flat colour."""
    at = open_page("directory")
    fig = _chart(at, "dir_map")
    bar = next(t["marker"] for t in fig["data"] if t.get("marker", {}).get("showscale"))
    labels = bar["colorbar"]["ticktext"]  # 11–13, 14–16...: whole numbers or ranges of them
    assert labels and all(part.isdigit() for t in labels for part in t.split("–")), labels
    assert len(labels) <= 7 and len(bar["colorscale"]) == 2 * len(labels)  # a step of colour per class
    hovers = [t["text"] for t in fig["data"] if t.get("text")]
    assert hovers and all(h.endswith((" services", " service")) and "." not in h.split(": ")[-1] for h in hovers)
    at.text_input(key="q").set_value("Police Early Action Teams").run()  # force-wide: every district has 1
    assert _chart(at, "dir_map") is None
    assert "Every district of the force (14) has 1 of these services covering it" in texts(at)
