"""Fast paths of the national review's findings assembly against the straightforward computations:

- `findings._finding` (each field stored with `object.__setattr__`, no per-finding dict made until one is read)
  against the dataclass's constructor: the same state key for key and in order, the same values, equality, repr,
  `asdict`, pickling, copies by `but`, whichever is read first;
- `questions.Asker._group_at` (group ids per theme in nested dicts) against the (theme, group id) lookup it
  replaced and a scan of the rows, including bad ids, missing themes and themes that are prefixes of others.
"""

from __future__ import annotations

import copy
import pickle
import random
from dataclasses import asdict
from types import SimpleNamespace

import pytest

from services_db.review import questions
from services_db.review.findings import Finding, Later, _finding, _known_start


def _fields(rng: random.Random, i: int) -> dict:
    sentence = rng.choice(["Two things.", "", Later(str, "Lazy words."), Later(lambda: "Two things.")])
    figures = rng.choice([{}, {"a": 1.0}, Later(dict, [("n_services", 2.0)])])
    texts = rng.choice([{}, {"b": "x"}, Later(dict, [("theme_name", "mental health")])])
    return {"kind": rng.choice(["duplication", "gap", "plan"]), "sentence": sentence,
            "importance": rng.choice([0.0, -0.0, 1.5, float("inf"), 9300.0]),
            "theme_key": rng.choice([None, "", "mh", "mh2"]), "figures": figures, "texts": texts,
            "row_key": rng.choice([{}, {"group_id": i}, {"group_id": i, "x": None}])}


def _pair(f: dict) -> tuple[Finding, Finding]:
    fast = _finding(f["kind"], f["sentence"], f["importance"], f["theme_key"], f["figures"], f["texts"],
                    f["row_key"])
    slow = Finding(f["kind"], f["sentence"], f["importance"], theme_key=f["theme_key"], figures=f["figures"],
                   texts=f["texts"], row_key=f["row_key"])
    return fast, slow


def _values(f: Finding) -> tuple:
    return (f.kind, f.sentence, f.importance, f.area_code, f.area_name, f.theme_key, dict(f.figures),
            dict(f.texts), f.is_estimate, f.question, f.scope, dict(f.row_key))


@pytest.mark.parametrize("seed", range(4))
def test_a_finding_built_directly_is_the_constructors_whatever_is_read_first(seed):
    rng = random.Random(seed)
    for i in range(150):
        fields = _fields(rng, i)
        fast, slow = _pair(fields)
        assert type(fast) is Finding
        read = rng.choice(["nothing", "start", "sentence", "values", "pickle", "but", "scope"])
        if read == "start":
            assert _known_start(fast) == _known_start(slow)
        elif read == "sentence":
            assert fast.sentence == slow.sentence
        elif read == "values":
            assert _values(fast) == _values(slow)
        elif read == "pickle":
            back = pickle.loads(pickle.dumps(fast))
            assert back == slow and back.__dict__ == slow.__dict__ and list(back.__dict__) == list(slow.__dict__)
        elif read == "but":
            changed = {"question": "Who?", "scope": "force"}
            a, b = fast.but(**changed), slow.but(**changed)
            assert a.__dict__ == b.__dict__ and list(a.__dict__) == list(b.__dict__) and _values(a) == _values(b)
        elif read == "scope":  # as `_duplication_findings` fills them in
            for f in (fast, slow):
                object.__setattr__(f, "_question_value", "Q?")
                object.__setattr__(f, "scope", "force")
        assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
        assert _values(fast) == _values(slow)
        assert fast == slow and repr(fast) == repr(slow) and asdict(fast) == asdict(slow)
        assert fast.record() == slow.record() and fast.row() == slow.row()
        assert pickle.dumps(fast) == pickle.dumps(slow)
        assert copy.copy(fast) == slow and copy.deepcopy(fast) == slow


def test_fields_stay_frozen():
    fast = _finding("duplication", "A.", 1.0, "mh", {}, {}, {"group_id": 1})
    with pytest.raises(AttributeError):
        fast.kind = "gap"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        fast.sentence = "B."  # type: ignore[misc]
    assert fast.sentence == "A." and fast.kind == "duplication"


def _old_index(themes: list, gids: list) -> tuple[dict, dict]:
    """The (theme, group id) index `_group_index` built before: one tuple key per row."""
    per_theme: dict = {}
    for i, theme in enumerate(themes):
        per_theme.setdefault(theme, []).append(i)
    by_theme: dict = {}
    anywhere: dict = {}
    for theme, at in per_theme.items():
        for i in at:
            try:
                gid = int(gids[i])
            except (TypeError, ValueError):
                continue
            by_theme.setdefault((theme, gid), i)
            anywhere.setdefault(gid, i)
    return by_theme, anywhere


def _old_at(index: tuple[dict, dict], theme_key, group_id):
    by_theme, anywhere = index
    return by_theme.get((theme_key, int(group_id))) if theme_key else anywhere.get(int(group_id))


def _scan_at(themes: list, gids: list, theme_key, group_id):
    """The first row (themes taken in the order they first appear) with the theme (any, without one) and id."""
    wanted = int(group_id)
    order = sorted(range(len(themes)), key=lambda i: list(dict.fromkeys(themes)).index(themes[i]))
    for i in order:
        if theme_key and themes[i] != theme_key:
            continue
        try:
            gid = int(gids[i])
        except (TypeError, ValueError):
            continue
        if gid == wanted:
            return i
    return None


class _FakeAsker(questions.Asker):
    def __init__(self, table: dict) -> None:
        super().__init__(SimpleNamespace(prep=None), {"duplication": table}, None)  # type: ignore[arg-type]


def test_group_positions_are_the_tuple_index_and_a_scan():
    rng = random.Random(17)
    for _ in range(300):
        n = rng.randint(0, 25)
        themes = [rng.choice(["mh", "mh2", "m", "", None, "da"]) for _ in range(n)]
        gids = [rng.choice([1, 2, 3, 12, 2.0, "3", None, float("nan"), "x"]) for _ in range(n)]
        if n == 0:
            continue
        asker = _FakeAsker({"theme_key": themes, "group_id": gids})
        old = _old_index(themes, gids)
        for theme in ("mh", "mh2", "m", "", None, "da", "yo"):
            for gid in (1, 2, 3, 12, 99, 2.0, "3", None, "x"):
                try:
                    expected = _old_at(old, theme, gid)
                except (TypeError, ValueError) as e:
                    with pytest.raises(type(e)):
                        asker._group_at(theme, gid)
                    continue
                assert asker._group_at(theme, gid) == expected == _scan_at(themes, gids, theme, gid)
