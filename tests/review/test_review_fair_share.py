"""Fair share: a needs-based split of a fund beside the actual allocation."""

import math

import pytest

from services_db.review import fair_share, review_area, review_force

AS_AT = "2016-07-21"


@pytest.fixture
def case(make):
    b = make().fund("caf", "Community Action Fund", 50000)
    b.allocation(1, "caf", 1000, ("D1",)).allocation(2, "caf", 1000, ("D2",))
    b.allocation(3, "caf", 400, parent=2)  # a breakdown: not counted again
    b.indicator("ea", "Early Action incidents", ("mh",))
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    return b


def test_population_only(case):
    frame = fair_share(case.build(), "caf").set_index("area_code")
    assert frame["actual"].tolist() == [1000.0, 1000.0, 0.0]
    assert frame["fair_share"].tolist() == pytest.approx([800.0, 400.0, 800.0])
    assert frame["difference"].tolist() == pytest.approx([200.0, 600.0, -800.0])
    assert frame["difference"].sum() == pytest.approx(0.0)


def test_population_and_need(case):
    frame = fair_share(case.build(), "caf", weights={"population": 1, "ea": 1}).set_index("area_code")
    # shares: population .4 .2 .4, need .2 .2 .6 -> .3 .2 .5 of 2,000
    assert frame["fair_share"].tolist() == pytest.approx([600.0, 400.0, 1000.0])
    assert frame["share_ea"].tolist() == pytest.approx([0.2, 0.2, 0.6])
    assert frame["difference"].tolist() == pytest.approx([400.0, 600.0, -1000.0])


def test_some_allocations_only(case):
    frame = fair_share(case.build(), "caf", allocation_ids=(2,)).set_index("area_code")
    assert frame["actual"].tolist() == [0.0, 1000.0, 0.0]
    assert frame["fair_share"].tolist() == pytest.approx([400.0, 200.0, 400.0])


def test_bad_weights(case):
    with pytest.raises(ValueError):
        fair_share(case.build(), "caf", weights={"nope": 1})
    with pytest.raises(ValueError):
        fair_share(case.build(), "caf", weights={"population": 0})


def test_sentences(case):
    weights = {"population": 1, "ea": 1}
    force = review_force(case.build(), AS_AT, fair_share_weights=weights).of_kind("fair_share")
    assert [f.sentence for f in force] == [
        "Community Action Fund: Gamma received £0 against a fair share of £1,000 (population 50%, Early Action "
        "incidents 50%), £1,000 less."]
    north = review_area(case.build(), "North", AS_AT, fair_share_weights=weights).of_kind("fair_share")
    assert [f.sentence for f in north] == [
        "Community Action Fund: Beta received £1,000 against a fair share of £400 (population 50%, Early Action "
        "incidents 50%), £600 more.",
        "Community Action Fund: Alpha received £1,000 against a fair share of £600 (population 50%, Early Action "
        "incidents 50%), £400 more.",
    ]


def test_an_area_with_no_figure_is_named_and_shared_by_what_it_has(make):
    """review.md v2: Gamma has no Early Action figure, so its weights are re-normalised over population (its
    population share, never 0); Alpha and Beta share their population's worth by the formula."""
    b = make().fund("caf", "Community Action Fund", 50000)
    b.allocation(1, "caf", 1000, ("D1",)).allocation(2, "caf", 1000, ("D3",))
    b.indicator("ea", "Early Action incidents", ("mh",)).need("ea", "D1", 100).need("ea", "D2", 300)
    frame = fair_share(b.build(), "caf", weights={"population": 1, "ea": 1}).set_index("area_code")
    assert frame.loc["D3", "fair_share"] == pytest.approx(2000 * 0.4)  # population 400 of 1,000
    assert frame.loc["D3", "no_figure"] == "Early Action incidents" and frame.loc["D1", "no_figure"] == ""
    assert math.isnan(frame.loc["D3", "share_ea"])
    # Alpha: 0.5 x population 0.4 + 0.5 x (need 0.25 x the 0.6 of residents with a figure) = 0.275
    assert frame.loc["D1", "fair_share"] == pytest.approx(2000 * 0.275)
    assert frame["fair_share"].sum() == pytest.approx(2000.0)
    only_need = fair_share(b.build(), "caf", weights={"ea": 1}).set_index("area_code")
    assert only_need.loc["D3", "fair_share"] == pytest.approx(800.0)  # no factor left: population, not 0
    force = review_force(b.build(), AS_AT, fair_share_weights={"population": 1, "ea": 1}).of_kind("fair_share")
    assert force[0].sentence == (
        "Community Action Fund: Beta received £0 against a fair share of £650 (population 50%, Early Action "
        "incidents 50%; Gamma has no Early Action incidents figure, so its share goes by population alone), "
        "£650 less.")
    gamma = review_area(b.build(), "Gamma", AS_AT, fair_share_weights={"population": 1, "ea": 1})
    assert "Gamma has no Early Action incidents figure" in gamma.of_kind("fair_share")[0].sentence


def test_scores_weigh_in_as_population_weighted_means(make):
    b = make().fund("caf", "Community Action Fund", 50000).allocation(1, "caf", 1000, ("D1",))
    b.indicator("imd", "IMD score", ("mh",), unit="score").need("imd", "D1", 10).need("imd", "D2", 40)
    b.need("imd", "D3", 10)
    frame = fair_share(b.build(), "caf", weights={"imd": 1}).set_index("area_code")
    # residents x score: 4,000, 8,000, 4,000
    assert frame["fair_share"].tolist() == pytest.approx([250.0, 500.0, 250.0])
    b.indicator("rank", "IMD rank", ("mh",), unit="rank", higher_is="better")
    b.need("rank", "D1", 1).need("rank", "D2", 3).need("rank", "D3", 1)  # rank 1 is the most deprived
    ranked = fair_share(b.build(), "caf", weights={"rank": 1}).set_index("area_code")
    # reflected: 3, 1, 3 -> residents x 1,200, 200, 1,200
    assert ranked["fair_share"].tolist() == pytest.approx([1000 * 1200 / 2600, 1000 * 200 / 2600, 1000 * 1200 / 2600])
