"""An app configured for one force reads that force from the database (filtered in SQL), and nothing else.

- On the demo (one force) the force's read is the whole database, row for row: the review cannot tell them apart.
- On a national database the force's snapshot holds that force's areas, need, coverage and services, the frames
  `force_data` slices out of the national snapshot; national services keep their whole funding lines and carry
  the residents they cover outside the force, so the review gives the force the share of their money the national
  review gives it (to the penny on each LSOA but for the largest-remainder pence: at most 1p a row), not all of it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from services_db import queries
from services_db.db import ALL_FORCES, FORCE_ENV
from services_db.review import apportion
from services_db.scale.bench import force_data

AS_AT = dt.date(2024, 1, 31)
LANCASHIRE = "E23000003"


def _frames(data) -> dict[str, pd.DataFrame]:
    return {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).astype(object)
    return frame.where(frame.notna(), None)


def test_the_demo_read_for_its_force_is_the_whole_database_row_for_row(demo_db):
    whole = queries._read_review_data(demo_db, "v")
    force = str(whole.areas.loc[whole.areas["level"] == "force", "code"].iloc[0])
    scoped = queries._read_review_data(demo_db, "v", force)  # the SQL filter, though the demo needs none
    assert (scoped.services["outside_population"] == 0).all()
    for name, frame in _frames(whole).items():
        other = _frames(scoped)[name]
        if name == "services":
            frame, other = frame.drop(columns="outside_population"), other.drop(columns="outside_population")
        pd.testing.assert_frame_equal(frame, other, obj=name)
    assert queries.review_scope(demo_db) is None  # one force: nothing to filter, the app reads it whole


def test_a_national_database_is_read_for_one_force_by_default(generated, monkeypatch):
    monkeypatch.delenv(FORCE_ENV, raising=False)
    assert queries.review_scope(generated) == LANCASHIRE  # the demo's force (the grouping files')
    assert queries.review_scope(generated, ALL_FORCES) is None
    monkeypatch.setenv(FORCE_ENV, "all")
    assert queries.review_scope(generated) is None
    monkeypatch.setenv(FORCE_ENV, "E23000999")
    with pytest.raises(ValueError, match="no force"):
        queries.review_scope(generated)


def test_the_force_snapshot_is_the_force_slice_of_the_national_one(generated, monkeypatch):
    monkeypatch.delenv(FORCE_ENV, raising=False)
    national = queries.review_data(generated, ALL_FORCES)
    mine = queries.review_data(generated)
    assert mine.areas["level"].value_counts().to_dict() == {"lsoa": 941, "district": 14, "area": 9, "division": 3,
                                                            "force": 1}
    assert len(mine.need) < len(national.need) and set(mine.need["area_code"]) <= set(mine.areas["code"])
    sliced = force_data(national, LANCASHIRE)
    for name, frame in _frames(sliced).items():
        got = _frames(mine)[name]
        if name == "services":
            frame, got = frame.drop(columns="outside_population"), got.drop(columns="outside_population")
        assert len(frame) == len(got), name
        if len(frame):  # a column of nothing but NULLs reads as None (object), one with text as NaN (str): alike
            pd.testing.assert_frame_equal(_plain(frame), _plain(got), check_dtype=False, obj=name)


def test_services_covering_other_forces_know_their_residents_there(generated):
    national = queries.review_data(generated, ALL_FORCES)
    mine = queries.review_data(generated, LANCASHIRE)
    whole, part = national.prepared, mine.prepared
    svc, lsoa = whole.coverage
    covered = pd.Series(np.bincount(svc, weights=whole.geo.population[lsoa], minlength=len(whole.service_ids)),
                        index=whole.service_ids)
    svc, lsoa = part.coverage
    inside = pd.Series(np.bincount(svc, weights=part.geo.population[lsoa], minlength=len(part.service_ids)),
                       index=part.service_ids)
    outside = mine.services.set_index("service_id")["outside_population"].reindex(inside.index)
    assert (outside > 0).sum() >= 1  # the national services
    assert np.allclose(inside + outside, covered.reindex(inside.index), rtol=0, atol=1e-6)


def test_the_force_gets_the_national_share_of_a_national_service(generated):
    national = queries.review_data(generated, ALL_FORCES)
    mine = queries.review_data(generated, LANCASHIRE)
    lsoas = set(mine.areas["code"])
    whole = apportion(national, AS_AT)
    whole = whole[whole["lsoa_code"].isin(lsoas)].set_index(["service_id", "lsoa_code"])["pence"]
    part = apportion(mine, AS_AT).set_index(["service_id", "lsoa_code"])["pence"]
    both = pd.concat([whole.rename("national"), part.rename("force")], axis=1)
    assert both.notna().all().all()  # the same (service, LSOA) rows
    assert (both["national"] - both["force"]).abs().max() <= 1  # largest remainder over one outside row
    per_service = both.groupby(level="service_id").sum()
    funding = mine.funding_lines.groupby("service_id")["annual_amount"].sum() * 100
    national_ids = mine.services.loc[mine.services["outside_population"] > 0, "service_id"]
    assert (per_service.loc[national_ids, "force"] < funding.reindex(national_ids).fillna(0) / 2).all()


def test_the_front_page_counts_are_the_force_s(generated, monkeypatch):
    monkeypatch.delenv(FORCE_ENV, raising=False)
    mine, national = queries.review_data(generated), queries.review_data(generated, ALL_FORCES)
    figures = queries.headline_figures(generated)
    assert figures["services"] == len(mine.services) < len(national.services)
    assert figures["funds"] == len(mine.funds)
    monkeypatch.setenv(FORCE_ENV, ALL_FORCES)
    assert queries.headline_figures(generated)["services"] == len(national.services)
