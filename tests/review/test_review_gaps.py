"""Gaps: need share against provision share, the flag rules, money to parity and ranking."""

import math

import pandas as pd
import pytest

from services_db.review import gaps, provision_shares, review_area, review_force

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
    b.need("dai", "L4", 0)  # South has a figure: none (an LSOA set lists only LSOAs with something to count)
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
        "parity would need about £3,800 more. Its need rate is significantly above the force rate.",
        "North has 100.0% of domestic abuse incidents but 0.0% of domestic-abuse funding (£0 of £3,000); "
        "parity would need about £3,000 more. Its need rate is significantly above the force rate.",
    ]
    assert found[0].figures == {"need_share": 60.0, "provision_share": 5.7, "provision": 400.0,
                                "provision_total": 7000.0, "money_to_parity": 3800.0}


def test_a_theme_with_need_but_no_funding_anywhere(make):
    b = make().indicator("yoi", "youth offences", ("yo",)).need("yoi", "D1", 10).need("yoi", "D3", 10)
    b.need("yoi", "D2", 0)
    frame = gaps(b.build(), AS_AT)
    assert frame["is_gap"].tolist() == [True, True]
    assert frame["money_to_parity"].tolist() == [0.0, 0.0]
    force = review_force(b.build(), AS_AT).of_kind("gap")
    assert [f.sentence for f in force] == [
        "There is no current youth-offending funding in Testshire, though need is recorded in two areas; the most "
        "is in North (50.0% of youth offences)."]
    south = review_area(b.build(), "South", AS_AT).of_kind("gap")[0].sentence
    assert south == ("South has 50.0% of youth offences but there is no current youth-offending funding in "
                     "Testshire. Its need rate is not significantly above the force rate.")


def test_no_need_data_gives_an_empty_table(make):
    frame = gaps(make().service(1, amount=10).build(), AS_AT)
    assert frame.empty and "gap_index" in frame.columns


# -- missing need is not zero; unknown funding is not £0 (review.md v2, issue 11 problems 1 and 3) -------------------


def test_an_area_with_no_figure_gets_no_gap_and_no_parity(make):
    """Beta has no figure: North (Alpha + Beta) has none either, so South's shares are over South alone and North
    is listed as "no figure" (not 0% of need, not over-provided)."""
    b = make().service(1, coverage=("A1",), amount=9000).service(2, coverage=("A2",), amount=1000)
    b.indicator("ea", "Early Action incidents", ("mh",)).need("ea", "D1", 100).need("ea", "D3", 300)
    frame = gaps(b.build(), AS_AT)
    north = row(frame, "A1", "mh")
    assert not north["has_need_figure"] and north["reason"] == "no figure" and not north["is_gap"]
    assert all(math.isnan(north[c]) for c in ("need_share", "population_share", "provision_share",
                                               "money_to_parity", "gap_index"))
    assert north["significant"] is None and north["rank"] == 0
    south = row(frame, "A2", "mh")
    assert south["has_need_figure"] and south["need_share"] == 1.0 and south["population_share"] == 1.0
    assert south["provision_total"] == 1000.0 and south["n_with_figure"] == 1 and south["n_units"] == 2
    assert [f.sentence for f in review_area(b.build(), "North", AS_AT).of_kind("gap")] == [
        "North has no figure for Early Action incidents, so no gap in its mental-health provision can be measured."]
    assert [f.sentence for f in review_force(b.build(), AS_AT).of_kind("gap")][-1] == (
        "North has no figure for Early Action incidents, so no gap in its mental-health provision can be measured.")


def test_the_sentence_says_among_the_areas_with_a_figure(make):
    b = make(areas=[("F", "Testshire", "force", None, 1000.0), ("A1", "North", "area", "F", 300.0),
                    ("A2", "South", "area", "F", 300.0), ("A3", "East", "area", "F", 400.0),
                    ("D1", "Alpha", "district", "A1", 300.0), ("D2", "Beta", "district", "A2", 300.0),
                    ("D3", "Gamma", "district", "A3", 400.0), ("L1", "Alpha 1", "lsoa", "D1", 300.0),
                    ("L2", "Beta 1", "lsoa", "D2", 300.0), ("L3", "Gamma 1", "lsoa", "D3", 400.0)])
    b.service(1, coverage=("A1",), amount=900).service(2, coverage=("A2",), amount=100)
    b.service(3, coverage=("A3",), amount=50_000)  # East's money is not part of the comparison: no figure there
    b.indicator("ea", "Early Action incidents", ("mh",)).need("ea", "D1", 100).need("ea", "D2", 300)
    found = review_area(b.build(), "South", AS_AT).of_kind("gap")
    assert [f.sentence for f in found] == [
        "South has 75.0% of Early Action incidents among the two areas with a figure but 10.0% of their "
        "mental-health funding (£100 of £1,000); parity would need about £650 more. Its need rate is "
        "significantly above the force rate."]


@pytest.fixture
def unknown(make):
    """families: six services cover North, five of them with no funding line (unknown, not £0); North's one
    known service has £1,000 of the £10,000 known families funding."""
    b = make().theme("fam", "families")
    b.service(1, themes=("fam",), coverage=("A1",), amount=1000)
    for sid in range(2, 7):
        b.service(sid, themes=("fam",), coverage=("D1", "D2"))  # current, no funding line: unknown funding
    b.service(7, themes=("fam",), coverage=("A2",), amount=9000)
    b.indicator("ea", "Early Action incidents", ("fam",))
    b.need("ea", "D1", 300).need("ea", "D2", 200).need("ea", "D3", 100)
    return b


def test_services_with_unknown_funding_are_not_a_gap_but_funding_not_recorded(unknown):
    frame = gaps(unknown.build(), AS_AT)
    north = row(frame, "A1", "fam")
    assert north["services"] == 6 and north["unknown_funding"] == 5 and north["provision_share"] == 0.1
    assert not north["is_gap"] and north["reason"] == "funding not recorded" and north["rank"] == 0
    assert north["theme_services"] == 7 and north["theme_unknown_funding"] == 5
    assert provision_shares(unknown.build(), AS_AT).set_index(["area_code", "theme_key"]).loc[
        ("A1", "fam"), "unknown_funding"] == 5


def test_the_unknown_funding_finding_says_so_rather_than_nought(unknown):
    data = unknown.service(8, themes=("fam",), coverage=("A1",), amount=0.0).build()  # a £0 line is known
    north = review_area(data, "North", AS_AT).of_kind("gap")
    assert [f.sentence for f in north] == [
        "North has 83.3% of Early Action incidents and 10.0% of known families funding (£1,000 of £10,000), but "
        "seven families services cover North and the funding of five is not recorded. Its need rate is "
        "significantly above the force rate."]
    assert north[0].figures["services"] == 7 and north[0].figures["unknown_funding"] == 5


def test_no_recorded_funding_anywhere_in_the_force(make):
    b = make().theme("fam", "families").service(1, themes=("fam",), coverage=("A1",))
    b.indicator("ea", "Early Action incidents", ("fam",)).need("ea", "D1", 300).need("ea", "D2", 200)
    b.need("ea", "D3", 100)
    data = b.build()
    force = review_force(data, AS_AT).of_kind("gap")
    assert [f.sentence for f in force] == [
        "No current families funding is recorded in Testshire: the funding of its one current families service "
        "is not recorded, though need is recorded in two areas; the most is in North (83.3% of Early Action "
        "incidents)."]
    north = review_area(data, "North", AS_AT).of_kind("gap")[0].sentence
    assert north == ("North has 83.3% of Early Action incidents; one families service covers North but its funding "
                     "is not recorded. Its need rate is significantly above the force rate.")
    south = review_area(data, "South", AS_AT).of_kind("gap")[0].sentence
    assert south == ("South has 16.7% of Early Action incidents but no current families service covers it. Its need "
                     "rate is not significantly above the force rate.")


def test_significant_gaps_rank_first(make):
    """Beta and Gamma are both poorly funded gaps; Beta's parity money is larger, but its figure is an estimate
    (no interval), while Gamma's need rate is significantly above the force's: Gamma ranks first."""
    b = make().service(1, coverage=("L1",), amount=100_000).service(2, coverage=("D2",), amount=10)
    b.service(3, coverage=("D3",), amount=1000)
    b.indicator("ea", "Early Action incidents", ("mh",), unit="incidents")
    b.need("ea", "D1", 10).need("ea", "D2", 5500, is_estimate=True).need("ea", "D3", 5500)
    frame = gaps(b.build(), AS_AT, level="district")
    flagged = frame[frame["is_gap"]]
    assert flagged["area_code"].tolist() == ["D3", "D2"]
    assert flagged["significant"].tolist() == [True, None]
    assert flagged.iloc[1]["money_to_parity"] > flagged.iloc[0]["money_to_parity"]  # money alone would swap them
    assert flagged["rank"].tolist() == [1, 2]
