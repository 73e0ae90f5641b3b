"""The benchmark's own arithmetic: the SQL floor gives the review's per-district totals, and a force slice holds
exactly that force."""

from __future__ import annotations

import datetime as dt

import pytest

from services_db.db import ALL_FORCES
from services_db.queries import review_data
from services_db.scale.bench import FLOOR_DISTRICT, FLOOR_LSOA, force_data, review_by_district, sql_floor

AS_AT = dt.date(2024, 1, 31)


@pytest.mark.parametrize("sql", [FLOOR_LSOA, FLOOR_DISTRICT], ids=["lsoa-floor", "district-floor"])
def test_sql_floor_matches_the_review_apportionment(generated, sql):
    data = review_data(generated, ALL_FORCES)
    floor = sql_floor(generated, AS_AT, sql)
    review = review_by_district(data, AS_AT)
    assert review.sum() > 0
    assert list(floor.index) == list(review.index)
    assert (floor - review).abs().max() < 1.0  # pence rounding in the review, floats in SQL
    assert floor.sum() == pytest.approx(review.sum(), abs=0.01)


def test_force_slice_holds_only_that_force(generated):
    data = review_data(generated, ALL_FORCES)
    lancs = force_data(data, "E23000003")
    levels = lancs.areas["level"].value_counts().to_dict()
    assert levels == {"lsoa": 941, "district": 14, "area": 9, "division": 3, "force": 1}
    assert set(lancs.coverage["area_code"]) <= set(lancs.areas["code"])
    assert set(lancs.services["service_id"]) == set(lancs.coverage["service_id"])
    assert set(lancs.need["area_code"]) <= set(lancs.areas["code"])
    assert len(lancs.need) == 941 * 5  # one period, five indicators
    national = data.coverage.groupby("service_id").size()
    assert set(national[national == 43].index) <= set(lancs.services["service_id"])
