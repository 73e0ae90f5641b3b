"""Issue 14 point 7: find the services covering a place by clicking the map. A district clicked on the directory's
map sets the place box (and ?place=) to it, as if typed.

AppTest cannot click a plotly chart, so `_click` sends the selection the browser sends (the chart's widget state:
{"selection": {"points": [{"customdata": [code, label], ...}]}}) for the chart's widget id, as a click would."""

import json

import pandas as pd
from streamlit.testing.v1 import AppTest

from components.maps import CLICK_HINT, centroid, choropleth, clicked_code
from services_db.counting import CURRENT
from services_db.directory import DirectoryFilter, directory_frame, search, service_extras
from tests.app.conftest import texts

PENDLE = "E07000122"


def _map(at: AppTest):
    charts = [e for e in at.get("plotly_chart") if list(e.proto.selection_mode)]
    assert len(charts) == 1, "the directory map is the one selectable chart"
    return charts[0]


def _click(at: AppTest, code: str) -> AppTest:
    chart = _map(at)
    spec = json.loads(chart.proto.spec)
    curve = next(i for i, t in enumerate(spec["data"]) if t.get("customdata"))
    data = spec["data"][curve]["customdata"]
    index = [c[0] for c in data].index(code)
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    state.string_value = json.dumps({"selection": {
        "points": [{"curve_number": curve, "point_number": index, "point_index": index,
                    "x": spec["data"][curve]["x"][index], "y": spec["data"][curve]["y"][index],
                    "customdata": data[index]}],
        "point_indices": [index], "box": [], "lasso": []}})
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_clicking_a_district_lists_the_services_covering_it(open_page, demo_data):
    data, as_at, db = demo_data
    at = open_page("directory")
    assert "Click a district to list the services covering it (click the dot at its centre)." in texts(at)
    _click(at, PENDLE)
    assert at.text_input(key="place").value == "Pendle"
    assert at.query_params["place"] == "Pendle"  # the link carries the clicked place
    assert "Services covering any part of" in texts(at) and "Pendle" in texts(at)
    frame = directory_frame(data, service_extras(db), as_at)
    covering = search(frame, DirectoryFilter(covers=PENDLE, states=[CURRENT]), data.areas)
    assert set(at.dataframe[0].value["Service"]) == set(covering["name"])
    # and typing goes on working after a click: the box is the one place filter
    at.text_input(key="place").set_value("E01025174").run()
    assert at.text_input(key="place").value == "E01025174"


def test_a_district_named_like_an_area_is_set_by_its_code(open_page):
    """Typing "Preston" finds the place-based area Preston before the district of that name: a click on the
    district puts its code in the box, so the list is the district's."""
    at = _click(open_page("directory"), "E07000123")
    assert at.text_input(key="place").value == "E07000123"
    assert not at.warning


def test_clicked_code_reads_the_selection():
    assert clicked_code({"selection": {"points": [{"customdata": [PENDLE, "Pendle: 3 services"]}]}}) == PENDLE
    assert clicked_code({"selection": {"points": [{"customdata": PENDLE}]}}) == PENDLE
    assert clicked_code({"selection": {"points": [{"curve_number": 3, "point_number": 1}]}}) is None  # a fill
    assert clicked_code({"selection": {"points": [], "point_indices": [], "box": [], "lasso": []}}) is None
    assert clicked_code(None) is None


def test_a_clickable_map_carries_each_districts_code_at_a_point_inside_it(demo_data):
    from services_db.boundaries import map_geojson

    districts = [f for f in map_geojson("district")["features"]]
    frame = pd.DataFrame({"code": [f["id"] for f in districts], "name": [f["id"] for f in districts],
                          "services": range(len(districts))})
    plain = choropleth(frame, level="district", value="services", title="t", unit="services", integer=True)
    assert not any(t.customdata is not None for t in plain.data)  # other maps unchanged
    fig = choropleth(frame, level="district", value="services", title="t", unit="services", integer=True,
                     clickable=True)
    targets = [t for t in fig.data if t.customdata is not None]
    assert len(targets) == 1 and [c[0] for c in targets[0].customdata] == list(frame["code"])
    assert targets[0].customdata[1][1].endswith(": 1 services")
    assert CLICK_HINT in targets[0].hovertemplate
    x, y = centroid({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]})
    assert (round(x, 9), round(y, 9)) == (1, 1)
