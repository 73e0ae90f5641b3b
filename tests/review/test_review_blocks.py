"""National-size coverage is expanded, apportioned and added up in blocks; the blocks must not change a figure.

The demo data fit in one block, so these tests shrink the block to a few dozen rows (smaller than one
force-wide service's 941 LSOAs) and compare every result with the one-block run, value for value.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from services_db.queries import default_as_at, review_data
from services_db.review import apportion, review_force
from services_db.review import geography as geography_module
from services_db.review.apportion import split_pence
from services_db.review.context import prepared_of
from services_db.review.data import ReviewData
from services_db.review.geography import group_blocks


def _copy(data: ReviewData) -> ReviewData:
    """The same data in new frame objects, so nothing cached for the original is reused."""
    return ReviewData(**{f.name: getattr(data, f.name).copy() for f in fields(data)})


@pytest.fixture
def demo(demo_db):
    return review_data(demo_db), default_as_at(demo_db)


def test_force_review_is_the_same_in_blocks_of_37_rows(demo, monkeypatch):
    data, as_at = demo
    whole = review_force(_copy(data), as_at)
    whole_rows = apportion(_copy(data), as_at)
    whole_weights = prepared_of(data).service_unit_weights("district")

    monkeypatch.setattr(geography_module, "CHUNK", 37)
    small = _copy(data)
    blocked = review_force(small, as_at)
    assert blocked.sentences() == whole.sentences()
    pd.testing.assert_frame_equal(blocked.table(), whole.table())
    for name in ("provision", "gaps", "duplication", "cliffs", "inequity"):
        pd.testing.assert_frame_equal(blocked.tables[name], whole.tables[name], check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(apportion(small, as_at), whole_rows)
    for got, want in zip(prepared_of(small).service_unit_weights("district"), whole_weights, strict=True):
        np.testing.assert_allclose(got, want)
    assert len(whole_rows) > 37 * 100  # the data really spanned many blocks


def test_expand_in_blocks_keeps_every_pair_once_and_in_order(demo, monkeypatch):
    data, _ = demo
    geo = prepared_of(_copy(data)).geo
    codes = ["PBA03", "E01025321", "E07000123", "PBA03", "E07000117", "NOWHERE", "E23000003"]
    keys = np.array([5, 5, 2, 9, 9, 1, 0])
    want_k, want_l = geo.expand(keys, geo.positions(codes))
    monkeypatch.setattr(geography_module, "CHUNK", 3)
    got_k, got_l = geo.expand(keys, geo.positions(codes))
    np.testing.assert_array_equal(got_k, want_k)
    np.testing.assert_array_equal(got_l, want_l)
    pairs = want_k * geo.n_lsoa + want_l
    assert (np.diff(pairs) > 0).all()  # sorted, no pair twice (PBA03 twice under key 5 and 9 overlaps)
    assert set(want_k.tolist()) == {0, 2, 5, 9}  # an unknown code gives no rows


def test_split_pence_in_blocks_adds_up_per_group_and_matches_one_block(monkeypatch):
    rng = np.random.default_rng(7)
    group = np.sort(rng.integers(0, 40, 500))
    weights = rng.random(500) * (rng.random(500) > 0.1)
    totals = rng.integers(-5_000, 1_000_000, 40)
    whole = split_pence(group, weights, totals)
    monkeypatch.setattr(geography_module, "CHUNK", 16)
    blocked = split_pence(group, weights, totals)
    np.testing.assert_array_equal(blocked, whole)
    present = np.unique(group)
    assert (np.bincount(group, weights=blocked, minlength=40)[present] == totals[present]).all()


def test_group_blocks_never_cut_a_key():
    keys = np.array([0, 0, 0, 1, 2, 2, 2, 2, 2, 3, 4, 4])
    cuts = group_blocks(keys, size=3)
    assert [(b.start, b.stop) for b in cuts] == [(0, 3), (3, 4), (4, 9), (9, 12)]
