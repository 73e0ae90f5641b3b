"""Funding cliffs (review.md v2): current funding ending within N months, one total per area (each pound once: the
area's share), broken down by theme so that the themes add up to the total, never more than the area's provision."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services_db.counting import services_current
from services_db.review import apportion, funding_cliffs, review_area, review_force, wording

AS_AT = "2016-07-21"  # horizon for 12 months: 2017-07-21


@pytest.fixture
def case(make):
    b = make()
    b.service(1, "Avert", coverage=("A1",), amount=6000, line_end="2017-03-31")  # at risk
    b.service(2, coverage=("F",), amount=1000, line_end="2017-07-21")  # on the horizon: at risk
    b.service(3, coverage=("F",), amount=5, line_end="2017-07-22")  # a day beyond
    b.service(4, coverage=("A2",), amount=700, line_end="2017-03-31")
    b.line(4, 700, start="2017-04-01", end="2018-03-31")  # renewed by the same commissioner: not at risk
    b.service(5, themes=("da",), coverage=("A2",), amount=300, line_end="2017-03-31")
    b.line(5, 300, commissioner="LCC", start="2017-04-01")  # someone else picks it up: still at risk
    b.service(6, themes=("da", "mh"), coverage=("D3",), amount=80, end="2017-01-31", end_is_estimate=True)
    return b


def test_lines_at_risk(case):
    lines = funding_cliffs(case.build(), AS_AT).lines
    assert lines[["service_id", "annual_amount", "at_risk", "end_date"]].values.tolist() == [
        [6, 80.0, 80.0, pd.Timestamp("2017-01-31")], [1, 6000.0, 6000.0, pd.Timestamp("2017-03-31")],
        [5, 300.0, 300.0, pd.Timestamp("2017-03-31")], [2, 1000.0, 1000.0, pd.Timestamp("2017-07-21")]]
    assert lines.set_index("service_id").loc[6, "end_is_estimate"]  # the service's own end date, estimated


def test_one_total_per_area_each_pound_once(case):
    cliffs = funding_cliffs(case.build(), AS_AT)
    totals = cliffs.totals.set_index("area_code")
    # North: Avert's £6,000 and 60% of service 2's £1,000 (North has 600 of the 1,000 residents).
    assert totals.loc["A1", ["at_risk", "services"]].tolist() == [6600.0, 2]
    # South: 40% of service 2, service 5 and service 6: each counted once though service 6 has two themes.
    assert totals.loc["A2", ["at_risk", "services"]].tolist() == [780.0, 3]
    assert totals.loc["A2", "first_end"] == pd.Timestamp("2017-01-31")
    # Provision: all current funding reaching the area, whatever its themes or end (service 3's £5 shared 60/40).
    assert totals["provision"].to_dict() == {"A1": 6603.0, "A2": 1482.0}
    assert totals["whole_services"].to_dict() == {"A1": 7000.0, "A2": 1380.0}
    force = cliffs.force_total.iloc[0]
    assert (force["at_risk"], force["provision"], force["services"]) == (7380.0, 8085.0, 4)


def test_theme_breakdown_splits_a_service_equally_between_its_themes(case):
    by_area = funding_cliffs(case.build(), AS_AT).by_area
    got = {(r.area_code, r.theme_key): (r.at_risk, r.services) for r in by_area.itertuples()}
    assert got == {
        ("A1", "mh"): (6600.0, 2),
        ("A2", "mh"): (400.0 + 40.0, 2),  # service 6's £80 split equally between its two themes
        ("A2", "da"): (300.0 + 40.0, 2),
    }
    by_theme = funding_cliffs(case.build(), AS_AT).by_theme.set_index("theme_key")["at_risk"].to_dict()
    assert by_theme == {"mh": 7040.0, "da": 340.0}


def test_odd_pence_split_between_three_themes_still_add_up(make):
    b = make().service(1, themes=("mh", "da", "yo"), coverage=("L1",), amount=100.00, line_end="2017-03-31")
    b.service(2, themes=("mh", "da", "yo"), coverage=("L1", "L2", "L4"), amount=1000.01, line_end="2017-03-31")
    cliffs = funding_cliffs(b.build(), AS_AT)
    parts = cliffs.by_theme["at_risk"]
    assert round(parts.sum() * 100) == 110001  # £1,100.01 in three parts, none more than a penny from a third
    assert sorted(parts.tolist()) == [366.66, 366.67, 366.68]
    for code, total in cliffs.totals.set_index("area_code")["at_risk"].items():
        parts = cliffs.by_area.loc[cliffs.by_area["area_code"] == code, "at_risk"]
        assert round(parts.sum() * 100) == round(total * 100)


def test_area_lines_show_the_areas_share_beside_the_whole_line(case):
    lines = funding_cliffs(case.build(), AS_AT).area_lines
    south = lines[lines["area_code"] == "A2"].set_index("service_id")
    assert south.loc[2, ["area_share", "annual_amount"]].tolist() == [400.0, 1000.0]
    assert south["area_share"].sum() == 780.0


def test_a_service_not_current_has_no_cliff(make):
    """A planned service's funding line is not money at risk (issue 11: the £1m Early Action Response line)."""
    b = make().service(1, coverage=("A1",), amount=1_000_000, line_end="2017-03-31", status="planned")
    b.service(2, coverage=("A1",), amount=50, line_end="2017-03-31")
    cliffs = funding_cliffs(b.build(), AS_AT)
    assert cliffs.lines["service_id"].tolist() == [2]
    assert cliffs.totals["at_risk"].tolist() == [50.0]


def test_at_risk_never_exceeds_the_services_current_funding(make):
    b = make().service(1, coverage=("A1",), amount=1000, line_end="2017-03-31")
    b.line(1, -300, end="2018-03-31")  # a current clawback: the service has £700 a year
    cliffs = funding_cliffs(b.build(), AS_AT)
    assert cliffs.totals["at_risk"].tolist() == [700.0]
    assert cliffs.totals["provision"].tolist() == [700.0]


def test_months_is_a_parameter(case):
    lines = funding_cliffs(case.build(), AS_AT, months=6).lines  # horizon 2017-01-21
    assert lines["service_id"].tolist() == []
    lines = funding_cliffs(case.build(), AS_AT, months=7).lines
    assert lines["service_id"].tolist() == [6]


def test_one_sentence_per_area_and_one_for_the_force(case):
    force = review_force(case.build(), AS_AT).of_kind("cliff")
    assert [f.sentence for f in force] == [
        "Across Testshire, £7,380 of the £8,090 a year of current funding ends within 12 months (four services; the "
        "first on 31 January 2017); by theme: mental health (£7,040) and domestic abuse (£340)."]
    assert force[0].area_code is None and force[0].importance == 7380.0
    south = review_area(case.build(), "South", AS_AT).of_kind("cliff")
    assert [f.sentence for f in south] == [
        "In South, £780 of the £1,480 a year of current funding reaching the area ends within 12 months (three "
        "services; the first on 31 January 2017); by theme: mental health (£440) and domestic abuse (£340)."]
    north = review_area(case.build(), "North", AS_AT).of_kind("cliff")
    assert [f.sentence for f in north] == [
        "In North, almost all £6,600 a year of current funding reaching the area ends within 12 months (two "
        "services; the first on 31 March 2017); all of it for mental health."]


def test_the_largest_three_themes_are_named(make):
    b = make().theme("dr", "drugs and alcohol").theme("vi", "victims")
    for sid, (theme, amount) in enumerate([("mh", 500), ("da", 400), ("yo", 300), ("dr", 200), ("vi", 100)], 1):
        b.service(sid, themes=(theme,), coverage=("A1",), amount=amount, line_end="2017-03-31")
    b.service(9, coverage=("A1",), amount=1000)  # open-ended
    f = review_area(b.build(), "North", AS_AT).of_kind("cliff")[0]
    assert f.sentence == (
        "In North, £1,500 of the £2,500 a year of current funding reaching the area ends within 12 months (five "
        "services; the first on 31 March 2017); the largest parts by theme are mental health (£500), domestic abuse "
        "(£400) and youth offending (£300).")


def test_nothing_at_risk(make):
    result = funding_cliffs(make().service(1, amount=10).build(), AS_AT)
    assert result.lines.empty and result.by_area.empty and result.totals.empty and result.force_total.empty
    assert review_force(make().service(1, amount=10).build(), AS_AT).of_kind("cliff") == []


# -- properties (review.md v2): the breakdown adds up to the total; no area's cliff exceeds its provision ----------

THEMES = ("mh", "da", "yo")
CODES = ("F", "A1", "A2", "D1", "D2", "D3", "L1", "L2", "L3", "L4", "L5")
DATES = (None, "2015-01-01", "2016-07-21", "2016-12-31", "2017-03-31", "2017-07-21", "2018-03-31")
STATUSES = ("active", "active", "active", "planned", "ended")
AS_ATS = ("2016-07-21", "2016-12-31", "2017-03-31")

pence = st.integers(min_value=0, max_value=10**9).map(lambda p: p / 100)
populations = st.lists(st.one_of(st.just(math.nan), st.just(0.0), st.floats(1, 5000, allow_nan=False)),
                       min_size=5, max_size=5)
line = st.tuples(pence, st.sampled_from(("OPCC", "LCC")), st.sampled_from(DATES), st.sampled_from(DATES))
service = st.fixed_dictionaries({
    "themes": st.lists(st.sampled_from(THEMES), max_size=3, unique=True),
    "coverage": st.lists(st.sampled_from(CODES), max_size=3),
    "lines": st.lists(line, min_size=1, max_size=3),
    "end": st.sampled_from(DATES),
    "status": st.sampled_from(STATUSES),
})


def _build(make, pops, services):
    b = make()
    for row, pop in zip(b.rows["areas"][7:], pops, strict=True):
        row["population"] = pop
    for i, s in enumerate(services, start=1):
        b.service(i, themes=s["themes"], coverage=s["coverage"], end=s["end"], status=s["status"])
        for amount, comm, start, end in s["lines"]:
            b.line(i, amount, commissioner=comm, start=start, end=end)
    return b.build()


def _current(data, as_at) -> set:
    s = data.services
    known = s["known_from"] if "known_from" in s.columns else None
    return set(s.loc[services_current(s["status"], s["start_date"], s["end_date"], as_at, known), "service_id"])


def _provision_pence(data, as_at, level) -> dict[str, int]:
    """Each unit's provision worked out apart from the cliffs: the public apportionment of current services,
    added up over the unit's LSOAs (each service once, all themes together)."""
    rows = apportion(data, as_at)
    rows = rows[rows["service_id"].isin(_current(data, as_at))]
    areas = data.areas.set_index("code")
    parent = areas["parent_code"].to_dict()
    level_of = areas["level"].to_dict()

    def unit(code):
        while code is not None and level_of.get(code) != level:
            code = parent.get(code)
        return code

    out: dict[str, int] = {}
    for code, p in zip(rows["lsoa_code"], rows["pence"], strict=True):
        out[unit(code)] = out.get(unit(code), 0) + int(p)
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pops=populations, services=st.lists(service, max_size=7), as_at=st.sampled_from(AS_ATS),
       level=st.sampled_from(("area", "district", "lsoa")))
def test_breakdown_adds_up_and_no_cliff_exceeds_provision(make, pops, services, as_at, level):
    data = _build(make, pops, services)
    cliffs = funding_cliffs(data, as_at, level=level)
    provision = _provision_pence(data, as_at, level)
    by_area = cliffs.by_area
    for row in cliffs.totals.itertuples():
        total = round(row.at_risk * 100)
        parts = by_area.loc[by_area["area_code"] == row.area_code]
        assert round(parts["at_risk"].sum() * 100) == total, row.area_code
        assert round(parts["whole_services"].sum() * 100) == round(row.whole_services * 100)
        lines = cliffs.area_lines[cliffs.area_lines["area_code"] == row.area_code]
        assert round(lines["area_share"].sum() * 100) == total
        assert 0 < total <= provision.get(row.area_code, 0), row.area_code
        assert round(row.provision * 100) == provision.get(row.area_code, 0)
    # The force: each at-risk pound once, broken down by theme to the penny; the areas' totals are parts of it.
    if len(cliffs.force_total):
        force = cliffs.force_total.iloc[0]
        assert round(cliffs.by_theme["at_risk"].sum() * 100) == round(force["at_risk"] * 100)
        assert round(cliffs.totals["at_risk"].sum() * 100) <= round(force["at_risk"] * 100)
        assert round(force["at_risk"] * 100) == round(cliffs.lines["at_risk"].sum() * 100)
        assert force["at_risk"] <= force["provision"] + 1e-9
    else:
        assert cliffs.totals.empty


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pops=populations, services=st.lists(service, max_size=7), as_at=st.sampled_from(AS_ATS))
def test_an_areas_cliff_sentences_never_say_more_than_its_provision(make, pops, services, as_at):
    """What a Chief Inspector reads: the money at risk the area's cliff sentences give, added up, is never more
    than the area's current funding (each as the sentences round it), whatever the services' themes."""
    data = _build(make, pops, services)
    provision = _provision_pence(data, as_at, "area")
    for code in ("A1", "A2"):
        said = sum(f.figures["at_risk"] for f in review_area(data, code, as_at).of_kind("cliff"))
        assert said <= wording.money(provision.get(code, 0) / 100)[1], code


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pops=populations, services=st.lists(service, max_size=6), as_at=st.sampled_from(AS_ATS))
def test_one_cliff_finding_per_area_showing_its_total(make, pops, services, as_at):
    data = _build(make, pops, services)
    totals = funding_cliffs(data, as_at).totals.set_index("area_name")["at_risk"]
    for name in ("North", "South"):
        found = review_area(data, name, as_at).of_kind("cliff")
        assert len(found) == (1 if name in totals.index else 0)
        if found:
            assert found[0].importance == pytest.approx(totals[name])
    assert len(review_force(data, as_at).of_kind("cliff")) <= 1


# -- the demo data: issue 11, problem 6 -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(_demo_dbs):
    from services_db.queries import review_data

    return review_data(_demo_dbs["sqlite"])


@pytest.mark.parametrize("as_at", ["2014-01-27", "2016-07-21"])
def test_prestons_cliff_themes_add_up_to_its_one_total_within_its_provision(demo, as_at):
    """Issue 11: Preston's 13 theme cliffs added up to £287,700 against its whole share of all funding, £156,434."""
    review = review_area(demo, "Preston", as_at)
    found = review.of_kind("cliff")
    provision = _provision_pence(demo, as_at, "area")["PBA04"] / 100
    assert sum(f.figures["at_risk"] for f in found) <= wording.money(provision)[1]  # each pound once
    assert len(found) == 1
    breakdown = review.tables["cliffs_by_theme"]
    total = review.tables["cliff_total"].iloc[0]
    assert round(breakdown["at_risk"].sum() * 100) == round(total["at_risk"] * 100)
    assert total["at_risk"] <= provision
    assert total["provision"] == pytest.approx(provision)
    assert found[0].figures["at_risk"] == wording.money(total["at_risk"])[1]


@pytest.mark.parametrize("as_at", ["2014-01-27", "2016-07-21"])
def test_no_demo_area_has_a_cliff_beyond_its_provision(demo, as_at):
    totals = funding_cliffs(demo, as_at).totals
    assert len(totals) == 9
    assert (np.round(totals["at_risk"] * 100) <= np.round(totals["provision"] * 100)).all()
