"""Imported need held per LSOA (police.uk, IMD) reaches the area page: the Need table, the LSOA map and the trends
(issue: they read district-level rows only, so 7,713 imported values never showed)."""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from pathlib import Path

import pytest

from services_db import need, queries
from services_db.areas import area_profile
from services_db.db import open_database
from services_db.permissions import Actor
from services_db.transfer.import_need import crime_type_map
from services_db.transfer.imports import apply_plan, plan_import
from tests.app.conftest import table_with
from tests.review.conftest import DataBuilder

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "police_uk_2024-01_lancashire_street.csv"
ADMIN = Actor("test-admin", "admin")
AREA = "Burnley & Pendle"


def _import(db, name: str, data: bytes) -> None:
    plan = plan_import(db, "police-uk", [(name, data)])
    assert plan.refused == []
    apply_plan(db, plan, ADMIN)


def _file_counts(data: bytes, lsoas: set[str]) -> Counter:
    """Crimes per indicator in the file, over the given LSOAs: what the area's Need table must show."""
    types = crime_type_map()
    rows = csv.DictReader(io.StringIO(data.decode()))
    return Counter(types[r["Crime type"]]["indicator_key"] for r in rows if r["LSOA code"] in lsoas)


def _month(data: bytes, month: str) -> bytes:
    return data.decode().replace(",2024-01,", f",{month},").encode()


def _area_lsoas(data, code: str) -> set[str]:
    areas = data.areas
    districts = set(areas.loc[(areas["level"] == "district") & (areas["parent_code"] == code), "code"])
    return set(areas.loc[(areas["level"] == "lsoa") & areas["parent_code"].isin(districts), "code"])


def test_imported_police_uk_counts_reach_the_need_table_map_and_trends(fresh_demo_db):
    db = fresh_demo_db
    raw = FIX.read_bytes()
    _import(db, FIX.name, raw)
    data, as_at = queries.review_data(db), queries.default_as_at(db)
    profile = area_profile(data, AREA, as_at)  # what pages/area.py shows
    lsoas = _area_lsoas(data, profile.code)
    expected = _file_counts(raw, lsoas)
    assert expected == {"policeuk-anti-social-behaviour": 1, "policeuk-violence-sexual-offences": 2,
                        "policeuk-shoplifting": 1}
    table = profile.need.indicators.set_index("indicator_key")
    for key, n in expected.items():
        row = table.loc[key]
        # counted, not made by a rule: Byar's interval (the demo's residents are an estimate, so the rate is marked)
        assert row["count"] == n and row["period"] == "2024-01" and row["interval"] == "Byar"
        assert row["rate"] == pytest.approx(n / profile.population * 1000)
    # The force: every crime of the file inside the force (the Liverpool row is outside), over its residents.
    force = data.areas[data.areas["level"] == "force"].iloc[0]
    assert table.loc["policeuk-violence-sexual-offences", "force_rate"] == pytest.approx(
        2 / force["population"] * 1000)
    assert "early-action-incidents" in table.index  # the demo's district figures are still there

    lsoa = need.lsoa_need(data, profile.code, "policeuk-violence-sexual-offences").set_index("code")
    pop = dict(zip(data.areas["code"], data.areas["population"], strict=True))
    assert lsoa.loc["E01024859", "rate"] == pytest.approx(2 / pop["E01024859"] * 1000)
    assert (lsoa.drop(index="E01024859")["rate"] == 0).all()  # nothing counted there that month
    assert not lsoa["is_estimate"].any() and set(lsoa["unit"]) == {"per 1,000 residents"}

    _import(db, "feb.csv", _month(raw, "2024-02"))
    data = queries.review_data(db)
    trends = area_profile(data, AREA, as_at).need.trends
    vso = trends[trends["indicator"] == "Violence and sexual offences (police.uk)"]
    assert vso[["period", "value"]].values.tolist() == [["2024-01", 2.0], ["2024-02", 2.0]]
    assert set(vso["geography"]) == {AREA}


def test_the_area_page_shows_the_imported_indicator(demo_url, open_page):
    db = open_database(demo_url)
    try:
        _import(db, FIX.name, FIX.read_bytes())
    finally:
        db.dispose()
    at = open_page("area", query={"area": AREA})
    table = table_with(at, "Compared with the force")
    row = table[table["Indicator"] == "Violence and sexual offences (police.uk)"]
    assert len(row) == 1 and row.iloc[0]["Count"] == 2 and row.iloc[0]["Period"] == "2024-01"
    assert "Anti-social behaviour incidents (police.uk)" in set(table["Indicator"])
    picker = at.selectbox(key="need_map_indicator")
    assert "Violence and sexual offences (police.uk)" in picker.options
    picker.set_value("policeuk-violence-sexual-offences").run()
    assert not at.exception
    assert "This indicator has no figures below the force level" not in "\n".join(str(i.value) for i in at.info)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("Violence and sexual offences (police.uk) (per 1,000 residents) by LSOA" in s for s in specs)


# -- the roll-up rule on hand-built cases (tests/review/conftest.py's geography) --------------------------------------

def test_lsoa_counts_are_summed_and_preferred_to_a_district_value_of_the_same_period():
    b = DataBuilder().indicator("c", "Crimes", ("mh",), unit="crimes")
    b.need("c", "L1", 3, period="2024-01").need("c", "L2", 4, period="2024-01")
    b.need("c", "D1", 100, period="2024-01")  # the same period held at district level too: not added again
    b.need("c", "D2", 5, period="2024-01")  # Beta has no LSOA row: its own value is used
    data = b.build()
    figures = need.district_figures(data).set_index("area_code")
    assert figures.loc["D1", "value"] == 7 and figures.loc["D1", "source_level"] == "lsoa"
    assert figures.loc["D2", "value"] == 5 and figures.loc["D2", "source_level"] == "district"
    assert figures.loc["D3", "value"] == 0  # a set of counts lists only LSOAs with something to count
    north = need.area_need(data, "A1").iloc[0]
    assert north["count"] == 12 and north["rate"] == pytest.approx(12 / 600 * 1000)
    assert north["force_rate"] == pytest.approx(12 / 1000 * 1000)


def test_rates_are_recomputed_from_numerators_and_denominators_not_averaged():
    b = DataBuilder().indicator("r", "Reoffending", ("mh",), unit="%")
    b.need("r", "L1", 10.0, numerator=1, denominator=10).need("r", "L2", 50.0, numerator=50, denominator=100)
    b.need("r", "L3", 20.0, numerator=2, denominator=10)
    data = b.build()
    figures = need.district_figures(data).set_index("area_code")
    assert figures.loc["D1", "value"] == pytest.approx(51 / 110 * 100)  # not (10 + 50) / 2
    assert (figures.loc["D1", "numerator"], figures.loc["D1", "denominator"]) == (51, 110)
    north = need.area_need(data, "A1").iloc[0]
    assert north["rate"] == pytest.approx(53 / 120 * 100) and north["interval"] == "Wilson"
    assert "D3" not in figures.index  # Gamma has no LSOA value: a rate is never taken as zero


def test_an_incomplete_set_of_scores_falls_back_to_the_district_value():
    b = DataBuilder().indicator("imd", "IMD score", ("mh",), unit="IMD score")
    b.need("imd", "L1", 10, period="2019").need("imd", "L2", 30, period="2019")  # both of Alpha's LSOAs
    b.need("imd", "L4", 40, period="2019").need("imd", "D3", 25, period="2019")  # one of Gamma's two
    data = b.build()
    figures = need.district_figures(data).set_index("area_code")
    assert figures.loc["D1", "value"] == pytest.approx((100 * 10 + 300 * 30) / 400)  # population-weighted
    assert figures.loc["D3", "value"] == 25 and figures.loc["D3", "source_level"] == "district"
    lsoa = need.lsoa_need(data, "A2", "imd").set_index("code")
    assert lsoa.loc["L4", "rate"] == 25 and lsoa["is_estimate"].all() and set(lsoa["unit"]) == {"IMD score"}
    lsoa = need.lsoa_need(data, "A1", "imd").set_index("code")
    assert lsoa.loc["L1", "rate"] == 10 and not lsoa.loc[["L1", "L2"], "is_estimate"].any()
    assert math.isnan(lsoa.loc["L3", "rate"])  # Beta has no score at all: no figure, not zero


def test_trends_roll_lsoa_months_up_and_never_count_an_area_value_twice():
    b = DataBuilder().indicator("c", "Crimes", ("mh",), unit="crimes")
    for month, (l1, l3) in {"2024-01": (1, 2), "2024-02": (3, 4)}.items():
        b.need("c", "L1", l1, period=month).need("c", "L3", l3, period=month)
    b.need("c", "A1", 50, period="2024-02")  # an area-level value of a period the LSOAs already give
    b.need("c", "A1", 9, period="2023-12")
    trends = need.need_trends(b.build(), "A1")
    assert trends[["period", "value"]].values.tolist() == [["2023-12", 9.0], ["2024-01", 3.0], ["2024-02", 7.0]]
    assert set(trends["geography"]) == {"North"}
    assert not math.isnan(trends["value"].sum())
