"""services_db.raised_gaps: one raised gap's story (gap_detail) and the review's gap index as the review page shows it."""

import datetime as dt
import math

import numpy as np
import pandas as pd

from services_db.permissions import Actor
from services_db.queries import review_data
from services_db.raised_gaps import (
    FLAGGED_COLUMNS,
    INDEX_CAP,
    change_status,
    gap_detail,
    gap_index,
    raise_gap,
)
from services_db.review import review_force
from services_db.review.gaps import NOT_RECORDED


def test_gap_detail_follows_the_workflow(fresh_demo_db):
    db = fresh_demo_db
    number = raise_gap(db, Actor("eat1", "early_action"), area_code="PBA08", theme_key="mental-health",
                       affected="Adults in crisis", description="No crisis bed after 10pm")
    d = gap_detail(db, number)
    assert (d.gap["status"], d.gap["area"], d.gap["description"]) == ("raised", "Burnley & Pendle",
                                                                      "No crisis bed after 10pm")
    assert d.next_statuses == ("acknowledged", "closed") and d.history["to_status"].tolist() == ["raised"]
    change_status(db, Actor("comm1", "commissioner"), number, "closed", "Duplicate", expected_version=d.gap["version"])
    d = gap_detail(db, number)
    assert d.gap["status"] == "closed" and d.next_statuses == ()
    assert d.history["changed_by"].tolist() == ["eat1", "comm1"]
    assert gap_detail(db, number + 1) is None


def test_gap_index_on_the_demo(demo_db):
    """On 1 June 2014 seven gaps are flagged (community safety, no provision: an infinite index, blank on the
    matrix); rows whose funding is not recorded are listed too, with no money to parity; Blackpool and Blackburn
    with Darwen have no need figure."""
    gaps = review_force(review_data(demo_db), dt.date(2014, 6, 1)).tables["gaps"]
    index = gap_index(gaps)
    assert not index.empty and index.no_need_figure == ["Blackpool", "Blackburn with Darwen"]
    flagged = index.flagged
    assert list(flagged.columns) == FLAGGED_COLUMNS
    is_gap = gaps.loc[flagged.index, "is_gap"].astype(bool)
    assert is_gap.sum() == 7 and (flagged.loc[~is_gap, "reason"] == NOT_RECORDED).all()
    assert flagged.loc[~is_gap, "money_to_parity"].isna().all()
    raw = gaps.loc[flagged.index[is_gap], "money_to_parity"].clip(lower=0.0)
    assert flagged.loc[is_gap, "money_to_parity"].tolist() == raw.tolist()
    assert set(flagged["significant"]) <= {"yes", "no", "not tested"}
    assert (flagged.loc[is_gap, "rank"] > 0).all()
    matrix = index.matrix
    finite = gaps[np.isfinite(gaps["gap_index"])]
    with_figure = gaps[gaps["has_need_figure"].astype(bool)]
    assert set(matrix.index) == set(with_figure["area_name"]) and matrix.max().max() <= INDEX_CAP
    assert matrix.max().max() == min(finite["gap_index"].max(), INDEX_CAP)
    # No provision has no number (an infinite index): its cell is a state of its own, never blank (issue 14).
    infinite = gaps[np.isinf(gaps["gap_index"])].iloc[0]
    assert math.isnan(matrix.reindex(index=[infinite["area_name"]], columns=[infinite["theme_name"]]).iloc[0, 0])
    assert index.states.loc[infinite["area_name"], infinite["theme_name"]] == "no provision"


def test_gap_index_of_no_need_data():
    index = gap_index(pd.DataFrame(columns=["gap_index", "is_gap", "reason", "has_need_figure", *FLAGGED_COLUMNS]))
    assert index.empty and index.flagged.empty and index.no_need_figure == []
