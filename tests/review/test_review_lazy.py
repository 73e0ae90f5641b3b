"""Questions (and duplication groups' sentences) are built when first read: a national review has tens of
thousands of findings and a page reads tens. Reading them must give what building them at once gave, and a
finding must still pickle, copy, compare and print as a plain value."""

from __future__ import annotations

import copy
import dataclasses
import pickle

from services_db.review import review_area, review_force
from services_db.review.findings import Finding, Later


def _data(make):
    b = make()
    for sid, cover in enumerate([("F",), ("F",), ("A1",), ("A1",), ("D3",), ("D3",)], start=1):
        b.service(sid, themes=("da",), coverage=cover, amount=1000 * sid, commissioner=f"Council {sid % 2}")
    return b.build()


def _unread(f: Finding, name: str) -> bool:
    return isinstance(f.__dict__[f"_{name}_value"], Later)


def test_questions_wait_until_read_and_then_are_kept(make):
    review = review_force(_data(make), "2016-07-21")
    assert len(review) and all(_unread(f, "question") for f in review)
    first = review.findings[0]
    asked = first.question
    assert asked.endswith("?") and not _unread(first, "question") and first.question is asked


def test_a_finding_with_unread_parts_pickles_copies_and_compares_as_its_values(make):
    data = _data(make)
    lazy = review_force(data, "2016-07-21").findings
    eager = review_force(data, "2016-07-21").findings
    for f in eager:
        dataclasses.asdict(f)  # reads everything
    assert [dataclasses.asdict(f) for f in eager] == [dataclasses.asdict(f) for f in lazy]
    dup = [f for f in review_force(data, "2016-07-21").findings if f.kind == "duplication"]
    assert dup, "the case has duplication groups"
    for f in dup:
        back = pickle.loads(pickle.dumps(f))
        assert not _unread(back, "question") and back == f
        assert copy.deepcopy(f) == f
        assert dataclasses.replace(f, scope="force").sentence == f.sentence
    assert review_force(data, "2016-07-21").to_json() == review_force(data, "2016-07-21").to_json()
    assert review_area(data, "North", "2016-07-21").to_json() == review_area(data, "North", "2016-07-21").to_json()


def test_a_finding_built_by_hand_is_a_plain_value():
    f = Finding("plan", "A sentence.", 1.0, question="Who?")
    assert f.sentence == "A sentence." and f.question == "Who?" and dict(f.figures) == {} and f.texts.get("x") is None
    assert f == Finding("plan", "A sentence.", 1.0, question="Who?") and "figures={}" in repr(f)
    assert Finding("plan", "A sentence.", 1.0).question == ""
