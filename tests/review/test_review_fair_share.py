"""Fair share: a needs-based split of a fund beside the actual allocation."""

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
