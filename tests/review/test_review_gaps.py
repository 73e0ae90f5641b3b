"""Gaps: need share against provision share, the flag rules, money to parity and ranking."""

import math

import pandas as pd
import pytest

from services_db.review import gaps, review_area, review_force

AS_AT = "2016-07-21"


@pytest.fixture
def case(make):
    """mental health: North 6,600 of 7,000 but 40% of need; domestic abuse: all need in North, all money South."""
    b = make()
    b.service(1, coverage=("A1",), amount=6000)
    b.service(2, coverage=("F",), amount=1000)
    b.service(4, themes=("da",), coverage=("A2",), amount=3000)
    b.indicator("ea", "Early Action incidents", ("mh",))
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    b.indicator("dai", "domestic abuse incidents", ("da",)).need("dai", "L1", 50).need("dai", "L3", 50)
    return b


def row(frame, area, theme):
    return frame[(frame["area_code"] == area) & (frame["theme_key"] == theme)].iloc[0]


def test_gap_index_flags_and_money_to_parity(case):
    frame = gaps(case.build(), AS_AT)
    south = row(frame, "A2", "mh")
    # need 60%, provision 400 / 7,000 = 5.714%, population 40%
    assert south["need_share"] == pytest.approx(0.6)
    assert south["provision_share"] == pytest.approx(400 / 7000)
    assert south["gap_index"] == pytest.approx(0.6 / (400 / 7000))  # 10.5
    assert south["is_gap"] and south["reason"] == "need high for population and poorly funded"
    assert south["money_to_parity"] == pytest.approx(0.6 * 7000 - 400)  # 3,800
    north = row(frame, "A1", "mh")
    assert not north["is_gap"]  # 40% of need is below 1.2 x 60% of population
    assert north["gap_index"] == pytest.approx(0.4 / (6600 / 7000))
    assert north["money_to_parity"] == pytest.approx(-3800)


def test_need_with_no_provision_is_always_a_gap(case):
    frame = gaps(case.build(), AS_AT)
    north = row(frame, "A1", "da")
    assert north["is_gap"] and north["reason"] == "need but no provision"
    assert math.isinf(north["gap_index"])
    assert north["money_to_parity"] == 3000.0
    south = row(frame, "A2", "da")
    assert not south["is_gap"] and south["gap_index"] == 0.0


def test_gaps_are_ranked_by_money_to_parity(case):
    frame = gaps(case.build(), AS_AT)
    flagged = frame[frame["is_gap"]]
    assert flagged[["area_code", "theme_key", "rank"]].values.tolist() == [["A2", "mh", 1], ["A1", "da", 2]]
    assert (frame.loc[~frame["is_gap"], "rank"] == 0).all()


def test_thresholds_are_parameters(case):
    data = case.build()
    assert not row(gaps(data, AS_AT, min_gap_index=11), "A2", "mh")["is_gap"]  # index 10.5
    assert row(gaps(data, AS_AT, min_gap_index=10.5), "A2", "mh")["is_gap"]  # >= is inclusive
    assert not row(gaps(data, AS_AT, need_ratio=1.6), "A2", "mh")["is_gap"]  # 60% < 1.6 x 40%
    assert row(gaps(data, AS_AT, need_ratio=1.5), "A2", "mh")["is_gap"]  # 60% >= 1.5 x 40%


def test_district_level(case):
    frame = gaps(case.build(), AS_AT, level="district")
    gamma = row(frame, "D3", "mh")
    assert gamma["need_share"] == pytest.approx(0.6)
    assert gamma["provision"] == pytest.approx(400.0)
    assert gamma["population_share"] == pytest.approx(0.4)


def test_raised_gaps_are_counted_beside_the_computed_gap(case):
    raised = pd.DataFrame({"area_code": ["D3", "A2", "D1", "D3"], "theme_key": ["mh", "mh", "mh", "mh"],
                           "status": ["raised", "raised", "raised", "closed"]})
    frame = gaps(case.build(), AS_AT, raised_gaps=raised)
    assert row(frame, "A2", "mh")["raised"] == 2
    assert row(frame, "A1", "mh")["raised"] == 1
    sentence = [s for s in review_force(case.build(), AS_AT, raised_gaps=raised).sentences() if "South has" in s][0]
    assert sentence.endswith("Early Action Teams have raised two gaps for this area and theme.")


def test_sentence_form(case):
    found = review_force(case.build(), AS_AT).of_kind("gap")
    assert [f.sentence for f in found] == [
        "South has 60.0% of Early Action incidents but 5.7% of mental-health funding (£400 of £7,000); "
        "parity would need about £3,800 more.",
        "North has 100.0% of domestic abuse incidents but 0.0% of domestic-abuse funding (£0 of £3,000); "
        "parity would need about £3,000 more.",
    ]
    assert found[0].figures == {"need_share": 60.0, "provision_share": 5.7, "provision": 400.0,
                                "provision_total": 7000.0, "money_to_parity": 3800.0}


def test_a_theme_with_need_but_no_funding_anywhere(make):
    b = make().indicator("yoi", "youth offences", ("yo",)).need("yoi", "D1", 10).need("yoi", "D3", 10)
    frame = gaps(b.build(), AS_AT)
    assert frame["is_gap"].tolist() == [True, True]
    assert frame["money_to_parity"].tolist() == [0.0, 0.0]
    force = review_force(b.build(), AS_AT).of_kind("gap")
    assert [f.sentence for f in force] == [
        "There is no current youth-offending funding in Testshire, though need is recorded in two areas; the most "
        "is in North (50.0% of youth offences)."]
    south = review_area(b.build(), "South", AS_AT).of_kind("gap")[0].sentence
    assert south == "South has 50.0% of youth offences but there is no current youth-offending funding in Testshire."


def test_no_need_data_gives_an_empty_table(make):
    frame = gaps(make().service(1, amount=10).build(), AS_AT)
    assert frame.empty and "gap_index" in frame.columns
