"""Questions (and duplication groups' sentences) are built when first read: a national review has tens of
thousands of findings and a page reads tens. Reading them must give what building them at once gave, and a
finding must still pickle, copy, compare and print as a plain value."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import random

from services_db.review import review_area, review_force
from services_db.review.findings import Finding, Later, _Built, _BuiltText, _order


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


def _tied_groups(make):
    """Duplication groups tied on money: six with different openings ("Two mental health services for adults, ",
    ...; £600 each) and two with the same opening, told apart only by their areas (£500 each)."""
    b = make()
    sid = 0
    for theme in ("mh", "da", "yo"):
        for group in ("adults", "children"):
            for k in range(2):
                sid += 1
                b.service(sid, themes=(theme,), groups=(group,), coverage=("D1",), amount=600, commissioner=f"C{k}")
    for area in ("D3", "D1"):
        for k in range(2):
            sid += 1
            b.service(sid, themes=("mh",), groups=("women",), coverage=(area,), amount=500, commissioner=f"C{k}")
    return b.build()


def test_findings_tied_on_importance_follow_their_sentences_built_only_where_their_openings_tie(make):
    findings = review_force(_tied_groups(make), "2016-07-21").findings
    dup = [f for f in findings if f.kind == "duplication"]
    by_money = {m: [f for f in dup if f.importance == m] for m in (600.0, 500.0)}
    assert [len(v) for v in by_money.values()] == [6, 2]
    assert all(_unread(f, "sentence") for f in by_money[600.0])  # different openings: compared without building
    assert not any(_unread(f, "sentence") for f in by_money[500.0])  # one opening: compared whole
    for tied in by_money.values():
        assert [f.sentence for f in tied] == sorted(f.sentence for f in tied)
    assert [f.sentence for f in by_money[500.0]] == [
        "Two mental health services for women, funded by two commissioners, overlap 100% in North (£1,000 a year; "
        "up to £500 of it may be duplicated).",
        "Two mental health services for women, funded by two commissioners, overlap 100% in South (£1,000 a year; "
        "up to £500 of it may be duplicated)."]


def test_order_reads_openings_first_and_sorts_exactly_as_the_sentences_would():
    """`_order` on lazy sentences whose openings are equal, prefixes of one another, empty, or tell them apart:
    always the order of the whole sentences (ties keep their order), whatever is known first."""
    class Said:  # a stand-in for wording.Sentence
        def __init__(self, text: str) -> None:
            self.text_ = text

        def text(self) -> str:
            return self.text_

    rng = random.Random(7)
    for _ in range(300):
        findings, expected = [], []
        for i in range(rng.randint(1, 12)):
            text = "".join(rng.choice("ab, ") for _ in range(rng.randint(0, 6)))
            opening = text[:rng.randint(0, len(text))]
            built = _Built(Said, text, opening=(lambda text, o=opening: o) if rng.random() < 0.8 else None)
            sentence = text if rng.random() < 0.2 else _BuiltText(built)
            importance = float(rng.choice([1, 2, float("nan")]))
            findings.append(Finding(rng.choice(["duplication", "plan"]), sentence, importance,
                                    area_name=rng.choice([None, "", "A"]), row_key={"i": i}))
            expected.append((-(importance if importance == importance else -1.0),
                             ["duplication", "plan"].index(findings[-1].kind), findings[-1].area_name or "", text, i))
        got = [f.row_key["i"] for f in _order(findings)]
        assert got == [e[-1] for e in sorted(expected, key=lambda e: e[:4])]
