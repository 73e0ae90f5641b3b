"""The national review's fast paths give what the straightforward computations give, on varied inputs.

- `findings._order` (sort keys in arrays, ties by sentence through `_by_sentence`) against `sorted(...,
  key=_order_key)` (the key compared part by part, the sentence by `_SentenceKey`);
- `findings._duplication_findings` (built from the columns, parts read when first read, with their scope and
  question) against one `Finding` per `records` row, with `questions.attach`'s scope and question worked out by
  scanning the table's rows;
- `questions.Asker`'s group lookups (`_group_at`, `_group_wide`) against a scan of the table's rows;
- `wording.duplication_openings` against `wording.duplication_opening` row by row;
- `findings._finding` and `Finding.but` against the dataclass's constructor and `object.__setattr__`.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from services_db.review import questions, wording
from services_db.review.context import Context
from services_db.review.duplication import GROUP_COLUMNS, MIN_OVERLAP, _duplication
from services_db.review.findings import (
    Finding,
    Later,
    Tables,
    _Built,
    _BuiltText,
    _by_sentence,
    _duplication_findings,
    _finding,
    _frame,
    _order,
    _order_key,
    _SentenceKey,
    records,
)

AS_AT = "2016-07-21"


class _Said:  # a stand-in for wording.Sentence
    def __init__(self, text: str) -> None:
        self.text_ = text

    def text(self) -> str:
        return self.text_


def _random_findings(rng: random.Random, n: int) -> list[Finding]:
    """Findings tied on importance, kind and area name as often as not; sentences given, or lazy with openings that
    are empty, prefixes of one another, equal, or tell them apart."""
    out = []
    for i in range(n):
        text = "".join(rng.choice("ab, ") for _ in range(rng.randint(0, 7)))
        opening = text[:rng.randint(0, len(text))]
        built = _Built(_Said, text, opening=(lambda text, o=opening: o) if rng.random() < 0.8 else None)
        sentence = text if rng.random() < 0.2 else _BuiltText(built)
        importance = rng.choice([1.0, 2.0, 0.0, -0.0, 2.5, float("nan"), float("inf"), -1.0])
        out.append(Finding(rng.choice(["gap", "duplication", "plan", "data"]), sentence, importance,
                           area_name=rng.choice([None, "", "A", "B", "Ab"]), row_key={"i": i}))
    return out


def _twin(findings: list[Finding]) -> list[Finding]:
    """The same findings with their lazy sentences unread: reading a sentence changes what is known of it, so the
    straightforward way and the fast way each get their own."""
    twin = [f.but() for f in findings]
    for f, g in zip(findings, twin, strict=True):
        v = f.__dict__["_sentence_value"]
        if isinstance(v, _BuiltText):
            b = v.built
            g.__dict__["_sentence_value"] = _BuiltText(_Built(b.build, *b.args, opening=b.opening))
    return twin


def test_order_is_sorted_by_its_key():
    rng = random.Random(11)
    for _ in range(400):
        n = rng.randint(0, 40)
        findings = _random_findings(rng, n)
        twin = _twin(findings)
        expected = [f.row_key["i"] for f in sorted(findings, key=_order_key)]
        assert [f.row_key["i"] for f in _order(twin)] == expected


def test_ties_are_sorted_by_sentence_as_sentence_keys_sort_them():
    rng = random.Random(5)
    for _ in range(400):
        tied = _random_findings(rng, rng.randint(1, 30))
        twin = _twin(tied)
        expected = [f.row_key["i"] for f in sorted(tied, key=_SentenceKey)]
        assert [f.row_key["i"] for f in _by_sentence(twin)] == expected
        assert expected == [f.row_key["i"] for f in sorted(tied, key=lambda f: f.sentence)]


def _groups_case(make):
    """Duplication groups of several themes and target groups: force-wide ones, most-of-the-force ones, an area's,
    with unknown funding, tied on money, one commissioner or several."""
    b = make()
    sid = 0
    for theme in ("mh", "da", "yo"):
        for group, cover in (("adults", ("F",)), ("children", ("A1",)), ("women", ("D3",)), ("men", ("D1", "D3"))):
            for k in range(2 + (theme == "da")):
                sid += 1
                amount = None if (sid % 5 == 0) else 600 + 100 * (sid % 3)
                b.service(sid, themes=(theme,), groups=(group,), coverage=cover, amount=amount,
                          commissioner=f"C{k % 2}", provider=f"P{k}")
    return b.build()


def _straightforward(ctx, groups, level, tables, area_code, *, area=False):
    """The duplication findings built the straightforward way, their scope and question as `attach` gives them
    (the group's row found by scanning the table's rows)."""
    noun = wording.LEVEL_NOUN[level]
    rows = records(groups)
    asker = questions.Asker(ctx, tables, area_code)
    out = []
    for row in rows:
        if area and row["wide"]:
            continue
        built = _Built(wording.duplication_sentence, row, noun, ctx.geo.force_name,
                       opening=wording.duplication_opening)
        money = row["money_duplicated"]
        f = Finding("duplication", _BuiltText(built), float(money) if money is not None else float("nan"),
                    theme_key=row["theme_key"], figures=Later(built.figures), texts=Later(built.texts),
                    row_key={"group_id": int(row["group_id"])})
        table = questions._records(tables.raw("duplication"))
        mine = next(r for r in table if r["theme_key"] == f.theme_key and int(r["group_id"]) == row["group_id"])
        scope = "force" if asker.is_force_wide(mine) else "area"
        out.append(f.but(question=Later(asker.question, f), scope=scope))
    return out


def _values(f: Finding) -> tuple:
    return (f.kind, f.sentence, f.importance, f.area_code, f.area_name, f.theme_key, dict(f.figures), dict(f.texts),
            f.is_estimate, f.question, f.scope, dict(f.row_key))


@pytest.mark.parametrize("level", ["area", "district"])
def test_duplication_findings_are_what_the_straightforward_build_gives(make, level):
    data = _groups_case(make)
    ctx = Context(data, AS_AT)
    groups, _ = _duplication(ctx, MIN_OVERLAP, level)
    assert len(groups["group_id"]) >= 6 and groups["wide"].any() and not groups["wide"].all()
    for area_code, area in ((None, False), ("A1", True), ("D3", True), ("A2", False)):
        tables = Tables({"duplication": _frame(groups, GROUP_COLUMNS)})
        asker = questions.Asker(ctx, tables, area_code)
        fast = _duplication_findings(groups, level, ctx.geo.force_name, area=area, asker=asker)
        slow = _straightforward(ctx, groups, level, tables, area_code, area=area)
        assert len(fast) == len(slow) > 0
        assert {f.scope for f in slow} == ({"force", "area"} if not area else {"area"})
        # read in another order than built: openings first (as ordering does), then everything
        assert [f.__dict__["_sentence_value"].opening_text() for f in fast] == \
            [f.__dict__["_sentence_value"].opening_text() for f in slow]
        for f, g in zip(fast, slow, strict=True):
            assert list(f.__dict__) == list(g.__dict__)
            assert _values(f) == _values(g)
            assert f == g and repr(f) == repr(g)
        assert [f.record() for f in _order(fast)] == [f.record() for f in _order(slow)]
        # without an asker: as built before `attach`
        bare = _duplication_findings(groups, level, ctx.geo.force_name, area=area)
        assert [(f.question, f.scope) for f in bare] == [("", "area")] * len(bare)
        attached = questions.attach(ctx, bare, tables, area_code)
        assert [_values(f) for f in attached] == [_values(g) for g in slow]


def test_no_groups_no_findings():
    assert _duplication_findings({}, "area", "Testshire") == []
    empty = {c: np.empty(0, dtype=object) for c in GROUP_COLUMNS}
    assert _duplication_findings(empty, "area", "Testshire", area=True) == []


def _scan_group_of(asker, f):
    """`Asker.group_of` the straightforward way: the table's rows grouped by theme (as a dict groups its keys), then
    the first with the finding's theme (any theme, in that order, without one) and group id."""
    table = asker.tables.raw("duplication") if hasattr(asker.tables, "raw") else asker.tables.get("duplication")
    by_theme: dict = {}
    for r in questions._records(table):
        by_theme.setdefault(r.get("theme_key"), []).append(r)
    for theme, rows in by_theme.items():
        if f.theme_key and not (theme is f.theme_key or theme == f.theme_key):
            continue
        for r in rows:
            try:
                gid = int(r.get("group_id", -1))
            except (TypeError, ValueError):
                continue
            if gid == int(f.row_key["group_id"]):
                return r
    return None


def _table_cases(rng: random.Random):
    """Group tables as dicts of arrays and as DataFrames: ids repeated across themes and within one, ids missing,
    flags as booleans, as objects with None and NaN (the services then decide), or only `force_wide`."""
    for _ in range(60):
        n = rng.randint(1, 12)
        themes = np.array([rng.choice(["mh", "da", None]) for _ in range(n)], dtype=object)
        ids = [rng.randint(1, 5) for _ in range(n)]
        if rng.random() < 0.3:
            gid = np.array([rng.choice([i, None, float("nan")]) for i in ids], dtype=object)
        else:
            gid = np.array(ids, dtype=np.int64)
        kind = rng.choice(["bool", "object", "float", "force_wide", "none"])
        table = {"group_id": gid, "theme_key": themes,
                 "service_ids": np.array([tuple(rng.sample([1, 2, 3, 4], rng.randint(0, 3))) for _ in range(n)] +
                                         [()], dtype=object)[:n]}
        if kind == "bool":
            table["wide"] = np.array([rng.random() < 0.5 for _ in range(n)], dtype=bool)
        elif kind == "object":
            table["wide"] = np.array([rng.choice([True, False, None, float("nan")]) for _ in range(n)], dtype=object)
        elif kind == "float":
            table["wide"] = np.array([rng.choice([1.0, 0.0, float("nan")]) for _ in range(n)], dtype=float)
        elif kind == "force_wide":
            table["force_wide"] = np.array([rng.random() < 0.5 for _ in range(n)], dtype=bool)
        yield table, ids
        yield pd.DataFrame(table), ids


def test_group_lookups_are_a_scan_of_the_rows(make):
    b = make()
    b.service(1, coverage=("F",), amount=100).service(2, coverage=("F",), amount=100)
    b.service(3, coverage=("D1",), amount=100).service(4, coverage=("A1",), amount=100)
    ctx = Context(b.build(), AS_AT)
    rng = random.Random(3)
    for table, ids in _table_cases(rng):
        for tables in (Tables({"duplication": table}), {"duplication": table}):
            asker = questions.Asker(ctx, tables, rng.choice([None, "A1"]))
            for gid in sorted(set(ids)) + [99]:
                for theme in ("mh", "da", None, "yo"):
                    f = Finding("duplication", "A sentence.", 1.0, theme_key=theme, row_key={"group_id": gid})
                    expected_row = _scan_group_of(asker, f)
                    got = asker.group_of(f)
                    if expected_row is None:
                        assert got is None
                    else:
                        assert got is not None and got.keys() == expected_row.keys()
                        assert all(_same(got[k], expected_row[k]) for k in got)
                    expected = "force" if expected_row is not None and asker.is_force_wide(expected_row) else "area"
                    assert asker.scope(f) == expected


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and (a == b if not isinstance(a, np.ndarray) else np.array_equal(a, b))


def test_openings_of_columns_are_each_rows_opening():
    rng = random.Random(9)
    for _ in range(200):
        n = rng.randint(0, 30)
        cols = {"n_services": [rng.choice([2, 3, 2.0, np.int64(4)]) for _ in range(n)],
                "theme_name": [rng.choice(["mental health", "domestic abuse", "BME support"]) for _ in range(n)],
                "target_group": [rng.choice(["adults", "children", ""]) for _ in range(n)],
                "other": list(range(n))}
        if rng.random() < 0.7:
            cols["target_group_name"] = [rng.choice(["Adults", "children", None, "", float("nan"), ["unhashable"]])
                                         for _ in range(n)]
        rows = [{k: v[i] for k, v in cols.items()} for i in range(n)]
        assert wording.duplication_openings(cols) == [wording.duplication_opening(r) for r in rows]


def test_a_finding_built_directly_is_the_constructors():
    built = _Built(_Said, "Two things, together.", opening=lambda text: "Two things, ")
    text, figures, texts = _BuiltText(built), Later(dict, [("a", 1.0)]), Later(dict, [("b", "x")])
    fast = _finding("duplication", text, 2.0, "mh", figures, texts, {"group_id": 3})
    slow = Finding("duplication", text, 2.0, theme_key="mh", figures=figures, texts=texts, row_key={"group_id": 3})
    assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
    assert _values(fast) == _values(slow)


def test_but_sets_what_setattr_sets():
    class Sub(Finding):
        pass

    for cls in (Finding, Sub):
        base = cls("plan", "A sentence.", 1.0, area_name="A", figures={"x": 1.0}, row_key={"i": 1})
        changes = {"question": Later(str, "Who?"), "scope": "force", "sentence": "B.", "figures": {"y": 2.0},
                   "area_code": "C"}
        fast = base.but(**changes)
        slow = object.__new__(cls)
        slow.__dict__.update(base.__dict__)
        for k, v in changes.items():
            object.__setattr__(slow, k, v)
        assert type(fast) is cls and fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
        assert fast.question == "Who?" and fast.scope == "force" and base.question == "" and base.scope == "area"
