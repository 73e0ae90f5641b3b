"""The directory's descriptive columns (`directory.service_extras`) are read for the force the app is for, filtered
in SQL on the services its snapshot holds: on a national database they are the national read's rows for that
force's services, and nothing else (the page read all 100,000 services for one force's 3,000); on the demo (one
force) the read is unfiltered and unchanged."""

from __future__ import annotations

import pandas as pd

from services_db import queries
from services_db.db import ALL_FORCES, FORCE_ENV
from services_db.directory import EXTRA_COLUMNS, service_extras

LANCASHIRE = "E23000003"


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("service_id").reset_index(drop=True)


def test_force_extras_are_the_national_extras_of_the_forces_services(generated, monkeypatch):
    monkeypatch.delenv(FORCE_ENV, raising=False)
    national = service_extras(generated, ALL_FORCES)
    mine = service_extras(generated)  # configured for no force: the demo's force, Lancashire
    assert queries.review_scope(generated) == LANCASHIRE
    held = set(queries.review_data(generated).services["service_id"])
    assert list(mine.columns) == EXTRA_COLUMNS
    assert set(mine["service_id"]) == held  # exactly the services the force's snapshot holds
    assert len(national) == len(queries.review_data(generated, ALL_FORCES).services) > len(mine)
    expected = _by_id(national[national["service_id"].isin(held)])
    pd.testing.assert_frame_equal(_by_id(mine), expected)
    assert mine["service_id"].is_unique


def test_another_forces_extras_are_its_own_services(generated):
    forces = queries.review_data(generated, ALL_FORCES).areas.query("level == 'force'")["code"].tolist()
    other = next(f for f in forces if f != LANCASHIRE)
    got = service_extras(generated, other)
    assert set(got["service_id"]) == set(queries.review_data(generated, other).services["service_id"])


def test_the_demo_reads_every_service_unfiltered(demo_db):
    assert queries.scoped_service_ids(demo_db) is None  # one force: nothing to filter
    extras = service_extras(demo_db)
    assert set(extras["service_id"]) == set(queries.review_data(demo_db).services["service_id"])
    pd.testing.assert_frame_equal(_by_id(extras), _by_id(service_extras(demo_db, ALL_FORCES)))
