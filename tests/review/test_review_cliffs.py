"""Funding cliffs: current funding ending within N months, by area and theme."""

import pandas as pd
import pytest

from services_db.review import funding_cliffs, review_area, review_force

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
    assert lines[["service_id", "annual_amount", "end_date"]].values.tolist() == [
        [6, 80.0, pd.Timestamp("2017-01-31")], [1, 6000.0, pd.Timestamp("2017-03-31")],
        [5, 300.0, pd.Timestamp("2017-03-31")], [2, 1000.0, pd.Timestamp("2017-07-21")]]
    assert lines.set_index("service_id").loc[6, "end_is_estimate"]  # the service's own end date, estimated


def test_sum_at_risk_by_area_and_theme(case):
    by_area = funding_cliffs(case.build(), AS_AT).by_area
    got = {(r.area_code, r.theme_key): (r.at_risk, r.services) for r in by_area.itertuples()}
    assert got == {
        ("A1", "mh"): (6000.0 + 600.0, 2),
        ("A2", "mh"): (400.0 + 80.0, 2),
        ("A2", "da"): (300.0 + 80.0, 2),
    }
    first = by_area.set_index(["area_code", "theme_key"])["first_end"]
    assert first[("A2", "mh")] == pd.Timestamp("2017-01-31")


def test_months_is_a_parameter(case):
    lines = funding_cliffs(case.build(), AS_AT, months=6).lines  # horizon 2017-01-21
    assert lines["service_id"].tolist() == []
    lines = funding_cliffs(case.build(), AS_AT, months=7).lines
    assert lines["service_id"].tolist() == [6]


def test_sentences(case):
    force = review_force(case.build(), AS_AT).of_kind("cliff")
    assert [f.sentence for f in force] == [
        "£7,080 a year of mental-health funding ends within 12 months (three services; the first on 31 January 2017).",
        "£380 a year of domestic-abuse funding ends within 12 months (two services; the first on 31 January 2017).",
    ]
    area = review_area(case.build(), "North", AS_AT).of_kind("cliff")
    assert [f.sentence for f in area] == [
        "In North, £6,600 a year of mental-health funding ends within 12 months (two services; the first on "
        "31 March 2017)."]


def test_nothing_at_risk(make):
    result = funding_cliffs(make().service(1, amount=10).build(), AS_AT)
    assert result.lines.empty and result.by_area.empty
