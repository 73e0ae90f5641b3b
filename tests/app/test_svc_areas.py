"""services_db.areas: one profile per area whose figures equal the review's and the other pages'."""

import datetime as dt
import warnings

import pytest

from services_db.areas import area_profile, force_map, resolve_area
from services_db.queries import default_as_at, review_data
from services_db.review import review_area


def test_resolve_area_by_code_or_name(demo_db):
    data = review_data(demo_db)
    assert resolve_area(data, "PBA08") == "PBA08"
    assert resolve_area(data, "  burnley &  pendle ") == "PBA08"
    assert resolve_area(data, "Burnley and Pendle") == "PBA08"
    assert resolve_area(data, "hyndburn, ribble valley and rossendale") == "PBA09"
    assert resolve_area(data, "Burnley") is None  # a district is not a place-based area
    assert resolve_area(data, "Pendle") is None  # a district, not a place-based area
    with pytest.raises(ValueError, match="no place-based area called 'Atlantis'"):
        area_profile(data, "Atlantis", default_as_at(demo_db))


def test_profile_parts_agree_with_the_review(demo_db):
    data, as_at = review_data(demo_db), default_as_at(demo_db)
    p = area_profile(data, "Burnley & Pendle", as_at)
    assert p.code == "PBA08" and p.districts == ["Burnley", "Pendle"] and p.population_is_estimate
    assert p.review.findings.sentences() == review_area(data, "PBA08", as_at).sentences()
    # 2 priorities with nothing linked, and the 4 Community Safety Strategy Group priorities that only the Early
    # Action Response service answers: it is planned at 27 January 2014, so it answers nothing yet.
    assert p.plans.unanswered == 6
    assert set(p.plans.priorities.loc[p.plans.priorities["unanswered"], "services"]) == {"Nothing linked"}
    names = set(p.activity.services["name"])
    assert "Mediation Services (Pendle)" in names and "Blackpool CCTV hub" not in names
    assert p.activity.annual_funding == pytest.approx(p.activity.services["annual_funding"].sum())


def test_force_map_need_equals_the_area_page(demo_db):
    data, as_at = review_data(demo_db), default_as_at(demo_db)
    m = force_map(data, as_at, "need", indicator="early-action-incidents").set_index("code")
    rate = area_profile(data, "PBA08", as_at).need.indicators.set_index("indicator_key").loc[
        "early-action-incidents", "rate"]
    assert m.loc["PBA08", "value"] == rate
    assert m["value"].isna().sum() == 2  # Blackpool and Blackburn with Darwen: no figure in the seed
    gaps = force_map(data, as_at, "gaps")
    from services_db.review import gaps as review_gaps

    flagged = review_gaps(data, as_at, level="area")
    assert gaps["value"].sum() == int(flagged["is_gap"].sum())
    with pytest.raises(ValueError):
        force_map(data, as_at, "nonsense")


def test_the_plan_table_names_the_current_services_it_counts(demo_db):
    """The area page's plan table names the services its "linked" count counts: the same current test (a planned
    service linked to a priority is neither named nor counted), at both of the demo's dates."""
    import datetime as dt

    from services_db.counting import CURRENT

    data = review_data(demo_db)
    for day in (dt.date(2014, 1, 27), dt.date(2016, 7, 21)):
        for area in ("Preston", "Burnley & Pendle"):
            p = area_profile(data, area, day)
            assert set(p.activity.services["state"]) <= {CURRENT}
            assert CURRENT not in set(p.activity.others["state"])
            for row in p.plans.priorities.itertuples():
                named = [] if row.services == "Nothing linked" else row.services.split("; ")
                assert len(named) == row.linked_services, (area, day, row.priority)
                assert "Early Action Response service" not in named  # planned in the seed


def test_plans_with_nothing_linked_say_so_without_a_pandas_deprecation(demo_db):
    """Before any service answers a priority (Preston, June 2013) every row reads "Nothing linked"; filling the
    float NaN column with text warned (Pandas4Warning: an error in pandas 4)."""
    data = review_data(demo_db)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = area_profile(data, "Preston", dt.date(2013, 6, 1))
    assert len(p.plans.priorities) and set(p.plans.priorities["services"]) == {"Nothing linked"}
