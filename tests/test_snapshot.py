"""The snapshot: one per data version, immutable, holding its hierarchy and the review's arrays."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from services_db import queries
from services_db.db import bump_data_version
from services_db.hierarchy import hierarchy_of
from services_db.review import ReviewData, review_force
from services_db.review import Snapshot as ReviewSnapshot
from services_db.review.context import Prepared, prepared_of
from services_db.review.data import ReviewData as DataReviewData
from services_db.snapshot import COLUMNS, Snapshot, empty_frame


def _empty(**kwargs) -> Snapshot:
    return Snapshot(**{name: empty_frame(name) for name in COLUMNS}, **kwargs)


def test_review_data_is_the_snapshot():
    assert ReviewData is Snapshot is DataReviewData is ReviewSnapshot


def test_a_snapshot_of_the_demo_carries_its_version_hierarchy_and_arrays(demo_db):
    s = queries.review_data(demo_db)
    assert s.version == demo_db.data_version()
    assert s.prepared is s.prepared
    assert isinstance(s.prepared, Prepared)
    assert prepared_of(s) is s.prepared
    assert s.prepared.data is s
    assert s.hierarchy is s.hierarchy
    assert hierarchy_of(s) is s.hierarchy
    # the bare frame goes through a bounded memo: the same tree, the same object while it is remembered
    assert hierarchy_of(s.areas).resolve("Preston") == s.hierarchy.resolve("Preston")
    preston = s.hierarchy.resolve("Preston")
    assert s.hierarchy.name_of(preston) == "Preston"
    assert s.hierarchy.under(preston)


def test_the_same_version_gives_the_same_snapshot_and_a_write_a_new_one(fresh_demo_db):
    db = fresh_demo_db
    first = queries.review_data(db)
    assert queries.review_data(db) is first
    before = first.version
    with db.session() as session:
        bump_data_version(session)
    assert db.data_version() != before
    second = queries.review_data(db)
    assert second is not first
    assert second.version == db.data_version()
    assert first.version == before  # the old snapshot still says what it was read at
    assert queries.review_data(db) is second
    assert second.prepared is not first.prepared


def test_the_per_version_memo_keeps_the_last_versions_read(monkeypatch):
    class FakeDb:
        version = "v0"

        def data_version(self) -> str:
            return self.version

        def force_setting(self) -> str:
            return "all"  # the national view: no force to look up

    reads: list[str] = []

    def read(db, version="", force=None):
        assert force is None
        reads.append(version)
        return _empty(version=version)

    monkeypatch.setattr(queries, "_CACHE", {})
    monkeypatch.setattr(queries, "_read_review_data", read)
    db = FakeDb()
    got = {}
    for v in ["v0", "v1", "v0", "v2", "v0", "v1"]:
        db.version = v
        got.setdefault(v, []).append(queries.review_data(db))
        assert got[v][-1].version == v
        assert len(queries._CACHE) <= queries._VERSIONS_KEPT
    assert queries._VERSIONS_KEPT == 2
    assert reads == ["v0", "v1", "v2", "v1"]  # v0 stayed as the most recently read; v1 was dropped for v2
    assert got["v0"][0] is got["v0"][1] is got["v0"][2]


def test_a_snapshot_is_immutable_and_compared_by_identity():
    s = _empty(version="v1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.version = "v2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.areas = s.areas  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.anything_new = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del s.version
    other = _empty(version="v1")
    assert s != other and s == s
    assert len({s, other}) == 2


def test_hand_built_snapshots_have_no_version_and_the_frames_are_the_fields():
    s = _empty()
    assert s.version == ""
    assert [f.name for f in dataclasses.fields(s)] == list(s.__dataclass_fields__) == list(COLUMNS)
    assert Snapshot(*(getattr(s, name) for name in COLUMNS), version="v").version == "v"
    assert "Snapshot(areas=" in repr(s)


def test_copies_derive_their_own_arrays(demo_db):
    s = queries.review_data(demo_db)
    assert s.prepared is not None and s.hierarchy is not None
    replaced = dataclasses.replace(s, services=s.services.copy())
    assert isinstance(replaced, Snapshot) and replaced.version == ""  # changed: no longer that version
    assert replaced.prepared is not s.prepared and replaced.prepared.data is replaced
    assert replaced.hierarchy is s.hierarchy  # the same areas frame: one tree
    for twin in (copy.copy(s), pickle.loads(pickle.dumps(s))):
        assert "prepared" not in vars(twin) and "hierarchy" not in vars(twin)
        assert twin.version == s.version
        assert twin.prepared is not s.prepared and twin.prepared.data is twin


def test_the_review_reads_the_snapshots_arrays(demo_db):
    s = queries.review_data(demo_db)
    prep = s.prepared
    findings = review_force(s, "2014-01-27")
    assert findings.sentences
    assert s.prepared is prep
