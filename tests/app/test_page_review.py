"""Review across the force: the gap picture, inequity of the Community Action Fund, the fair-share calculator, and
the tab and theme in the URL."""

import base64
import datetime as dt
import json

import numpy as np

from services_db.raised_gaps import INDEX_CAP
from services_db.review import fair_share, review_force
from services_db.review.gaps import NO_PROVISION, NOT_RECORDED
from tests.app.chart_downloads import check_chart_data, downloaded
from tests.app.conftest import table_with, texts


def test_inequity_names_the_districts_that_received_nothing(open_page):
    at = open_page("review")
    at.selectbox(key="ineq_fund").set_value("community-action-fund-2013-14").run()
    shown = texts(at)
    assert "Community Action Fund 2013-14: Pendle and Rossendale received nothing" in shown
    assert {m.label: m.value for m in at.metric}["Areas that received nothing"] == "2"


def test_fair_share_calculator_follows_the_weights(open_page, demo_data):
    data, _, _ = demo_data
    at = open_page("review")
    at.selectbox(key="fair_fund").set_value("csg-2013-14").run()
    at.number_input(key="fair_w_early-action-incidents").set_value(50.0).run()
    assert not at.exception
    expected = fair_share(data, "csg-2013-14", weights={"population": 100.0, "early-action-incidents": 50.0})
    table = table_with(at, "Fair share (£)").set_index("Area")
    for row in expected.itertuples():
        assert abs(table.loc[row.area_name, "Fair share (£)"] - row.fair_share) < 0.01
    assert "Population 67%, Early Action incidents 33%" in texts(at)


def test_gap_heatmap_and_table_are_drawn(open_page):
    at = open_page("review")
    flagged = table_with(at, "Money to parity (£)")
    assert len(flagged) > 0
    gaps = flagged[flagged["Rank"] > 0]
    assert gaps["Rank"].tolist() == list(range(1, len(gaps) + 1))
    # Services whose funding is not recorded are said so, never "£0" or "need but no provision" (issue 11).
    unknown = flagged[flagged["Why"] == "funding not recorded"]
    assert (unknown["Funding not recorded"] > 0).all() and (unknown["Money to parity (£)"] == "–").all()
    assert not ((flagged["Why"] == "need but no provision") & (flagged["Current services"] > 0)).any()
    assert "No need figure" in texts(at) and "Blackburn with Darwen" in texts(at)


# -- issue 14: the gap picture says "no provision" for the worst gaps, and the tab and theme are in the URL ---------

NO_PROVISION_DAY = dt.date(2014, 6, 1)  # community safety has need and no current service in seven areas


def _chart(at, key: str) -> dict:
    """The plotly figure drawn under `key`, as the browser gets it."""
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(key):
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key!r}")


def _heat(fig: dict) -> tuple[dict, dict[tuple[str, str], str], dict[tuple[str, str], float]]:
    """The heatmap trace; (area, theme) -> the words or number in its cell; (area, theme) -> the value coloured."""
    heat = next(t for t in fig["data"] if t.get("type") == "heatmap")
    cells = {(y, x): text for y, row in zip(heat["y"], heat["text"], strict=True)
             for x, text in zip(heat["x"], row, strict=True)}
    values = heat["z"]
    if isinstance(values, dict):  # plotly sends a NumPy array as typed bytes
        shape = tuple(int(n) for n in values["shape"].split(","))
        values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).reshape(shape).tolist()
    z = {(y, x): (None if v != v else v) for y, row in zip(heat["y"], values, strict=True)
         for x, v in zip(heat["x"], row, strict=True)}
    return heat, cells, z


def _colour_at(scale: list, position: float) -> str:
    """The colour a stepped scale gives a position (the last stop at or below it)."""
    return [c for at, c in scale if at <= position + 1e-12][-1]


def _luminance(colour: str) -> float:
    if colour.startswith("#"):
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (float(v) for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_no_provision_is_the_strongest_state_never_blank_nor_infinity(open_page, demo_data):
    """Issue 14: the heatmap was blank exactly where there is need and no provision (the worst gaps) and its table
    said "Infinity". Each such cell now says "no provision", in a colour darker than any gap index colour."""
    data, _, _ = demo_data
    gaps = review_force(data, NO_PROVISION_DAY).tables["gaps"]
    worst = gaps[gaps["reason"] == NO_PROVISION]
    assert len(worst) == 7
    at = open_page("review", session={"as_at": NO_PROVISION_DAY})
    heat, cells, z = _heat(_chart(at, "gap_heatmap"))
    drawn = {k for k, text in cells.items() if text == "no provision"}
    assert drawn == set(zip(worst["area_name"], worst["theme_name"], strict=True))
    assert all(text for text in cells.values())  # every cell says something: none is blank
    assert all(z[k] is not None for k in cells)  # and every cell has a colour
    lo, hi = heat["zmin"], heat["zmax"]

    def colour(value: float) -> str:
        return _colour_at(heat["colorscale"], (value - lo) / (hi - lo))

    numbers = [z[k] for k, text in cells.items() if text[:1].isdigit()]
    assert numbers and all(0 <= v <= INDEX_CAP for v in numbers)
    strongest = {colour(z[k]) for k in drawn}
    assert len(strongest) == 1 and min(z[k] for k in drawn) > INDEX_CAP  # above the top of the index's scale
    index_colours = [c for p, c in heat["colorscale"] if p <= (INDEX_CAP - lo) / (hi - lo)]
    assert _luminance(strongest.pop()) < min(_luminance(c) for c in index_colours)  # and darker than all of it
    assert "no provision" in heat["colorbar"]["ticktext"]
    assert not any(w in json.dumps(heat) for w in ("Infinity", '"inf"', "nan"))
    table = table_with(at, "Gap index")
    assert not table["Gap index"].isin(["Infinity", "inf", "∞"]).any()
    assert set(table.loc[table["Why"] == NO_PROVISION, "Gap index"]) == {"no provision"}


def test_unknown_funding_is_unknown_not_no_provision(open_page, demo_data):
    """At the demo's date the services of four themes have no recorded funding: those cells say "not recorded"
    (grey), and none says "no provision", since services do cover them."""
    data, as_at, _ = demo_data
    gaps = review_force(data, as_at).tables["gaps"]
    unknown = gaps[(gaps["reason"] == NOT_RECORDED) & np.isinf(gaps["gap_index"].astype(float))]
    assert len(unknown) > 0 and (unknown["services"] > 0).all()
    at = open_page("review")
    heat, cells, z = _heat(_chart(at, "gap_heatmap"))
    said = {k for k, text in cells.items() if text == "not recorded"}
    assert said == set(zip(unknown["area_name"], unknown["theme_name"], strict=True))
    assert "no provision" not in cells.values()
    assert len({z[k] for k in said}) == 1 and all(z[k] < 0 for k in said)  # a band of its own, below the index
    table = table_with(at, "Gap index")
    assert set(table.loc[table["Why"] == NOT_RECORDED, "Gap index"]) <= {"not recorded"} | {
        v for v in table["Gap index"] if v[:1].isdigit()}
    unknown_rows = table[table["Gap index"] == "not recorded"]
    assert len(unknown_rows) and set(unknown_rows["Provision share"]) == {"not recorded"}  # not "0.0%"


def test_the_tab_and_theme_come_from_the_url(open_page):
    """A link to the force review opens the tab and the theme its sender saw (?tab=Inequity&ineq_theme=...)."""
    at = open_page("review", query={"tab": "Inequity", "ineq_basis": "Current funding for a theme",
                                    "ineq_theme": "Mental health", "ineq_level": "Place-based area"})
    assert at.session_state["tab"] == "Inequity"
    assert (at.session_state["ineq_basis"], at.session_state["ineq_theme"]) == ("theme", "mental-health")
    assert at.session_state["ineq_level"] == "area"
    assert at.radio(key="ineq_basis").value == "theme" and at.selectbox(key="ineq_theme").value == "mental-health"


def test_every_chart_has_its_data_with_source_date_and_fingerprint(open_page, demo_data, monkeypatch):
    """Issue 14 point 5: the heatmap, inequity and fair-share charts each have their data; the heatmap's CSV has each
    cell as the picture says it ("not recorded": never blank, never 0)."""
    at, store = check_chart_data(open_page, monkeypatch, demo_data[1], "review", charts=3, key="gap_heatmap",
                                 header="Area,", source="Gap index by place-based area and theme")
    assert ",not recorded," in downloaded(at, "gap_heatmap_csv", store).decode("utf-8-sig")
