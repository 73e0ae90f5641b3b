"""`walk_up` and `ancestor_table` (shared by `Hierarchy`, the review's `Geography` and the allocation trees)
against a node-by-node walk, on random forests with unknown levels and cycles; and the identity memo."""

import gc
import random

import numpy as np
import pandas as pd
import pytest

from services_db.hierarchy import IdentityMemo, ancestor_table, walk_up
from services_db.review.geography import frame_property


def _forest(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    n_levels = rng.randint(1, 5)
    parent = [rng.randrange(-1, n) if rng.random() < 0.8 else -1 for _ in range(n)]
    level = [rng.randrange(-1, n_levels) for _ in range(n)]
    return np.array(parent, dtype=np.int64), np.array(level, dtype=np.int64), n_levels


def _plain_path(parent: np.ndarray, i: int, max_depth: int) -> list[int]:
    path, cur = [], i
    while cur >= 0 and len(path) < max_depth:
        path.append(cur)
        cur = int(parent[cur])
    return path


@pytest.mark.parametrize("seed", range(40))
def test_walk_up_and_ancestor_table_are_the_node_by_node_walk(seed: int) -> None:
    parent, level, n_levels = _forest(seed)
    n = len(parent)
    for max_depth in (1, 3, 16):
        steps = list(walk_up(parent, max_depth))
        paths = {i: [] for i in range(n)}
        for who, above in steps:
            for w, a in zip(who.tolist(), above.tolist(), strict=True):
                paths[w].append(a)
        assert paths == {i: _plain_path(parent, i, max_depth) for i in range(n)}
        ancestor, node, above = ancestor_table(parent, level, n_levels, max_depth)
        want = np.full((n_levels, n), -1, dtype=np.int64)
        for i in range(n):
            for a in reversed(_plain_path(parent, i, max_depth)):  # the nearest at a level wins
                if level[a] >= 0:
                    want[level[a], i] = a
        assert np.array_equal(ancestor, want)
        pairs = [(w, a) for who, up in steps for w, a in zip(who.tolist(), up.tolist(), strict=True)]
        assert list(zip(node.tolist(), above.tolist(), strict=True)) == pairs


def test_an_empty_forest() -> None:
    ancestor, node, above = ancestor_table(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), 0)
    assert ancestor.shape == (1, 0) and len(node) == len(above) == 0


def test_identity_memo_builds_once_per_object_and_forgets_the_oldest() -> None:
    memo: IdentityMemo[int] = IdentityMemo(3)
    built: list[object] = []

    def build(key: object) -> int:
        built.append(key)
        return len(built)

    frames = [pd.DataFrame({"a": [i]}) for i in range(5)]
    assert memo.get(frames[0], build) == 1
    assert memo.get(frames[0], build) == 1  # remembered: by identity, not by value
    assert memo.get(pd.DataFrame({"a": [0]}), build) == 2
    for f in frames[1:]:
        memo.get(f, build)
    assert len(memo.items) <= 3
    assert memo.get(frames[0], build) == 7  # the oldest was forgotten
    del frames
    gc.collect()
    memo.get(pd.DataFrame(), build)
    assert len(memo.items) <= 3


def test_frame_property_shows_the_columns_in_order() -> None:
    class Result:
        table = frame_property("cols", ["b", "a"])

        def __init__(self) -> None:
            self.cols = {"a": np.arange(2), "b": np.array(["x", "y"], dtype=object)}

    frame = Result().table
    assert list(frame.columns) == ["b", "a"] and frame["a"].tolist() == [0, 1]
    assert "cols" in Result.table.__doc__
