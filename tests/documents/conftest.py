"""Briefings built once per backend and shared by the tests that only read them (building one takes ~1 s)."""

from __future__ import annotations

import datetime as dt

import pytest

from services_db.areas import area_profile
from services_db.documents.build import build_briefing, gather
from services_db.queries import default_as_at, review_data
from services_db.raised_gaps import gap_log

AREA = "Preston"
_BUILT: dict[tuple[str, str], object] = {}


@pytest.fixture
def as_at(demo_db) -> dt.date:
    return default_as_at(demo_db)


@pytest.fixture
def profile(demo_db, as_at):
    """The area page's own profile, read exactly as pages/area.py reads it."""
    code = "PBA04" if AREA == "Preston" else AREA
    return area_profile(review_data(demo_db), code, as_at, raised_gaps=gap_log(demo_db, area_codes=[code]))


@pytest.fixture
def built(demo_db, as_at):
    """build(fmt) -> BuiltBriefing for Preston, built once per backend and format."""

    def build(fmt: str):
        key = (demo_db.url, fmt)
        if key not in _BUILT:
            _BUILT[key] = build_briefing(demo_db, AREA, as_at, fmt, inputs=gather(demo_db))
        return _BUILT[key]

    return build
