"""The counting rules' fast paths (statuses read once per distinct value, parents found by one sort) against the
straightforward row-by-row computations they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services_db import counting
from services_db.counting import _parent_rows, _status_in, _statuses, allocation_tree_is_money


def _statuses_plain(values, n: int, default: str) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=object)
    items = values.tolist() if isinstance(values, pd.Series | np.ndarray) else list(values)
    return np.array([str(v).strip().lower() if isinstance(v, str) and v.strip() else default for v in items],
                    dtype=object)


def _parent_rows_plain(ids: np.ndarray, parents: np.ndarray) -> np.ndarray:
    where = {v: i for i, v in enumerate(ids.tolist()) if v == v}
    return np.array([where.get(p, -1) if p == p else -1 for p in parents.tolist()], dtype=np.int64)


_MESSY = ["Active", " ended ", "", "   ", None, np.nan, pd.NA, "PLANNED", "active", "Withdrawn\t", "paid", "Awarded",
          "applied", 3, 2.5, "ACTIVE ", "aCtIvE", pd.NaT, np.str_("Paid")]


@pytest.mark.parametrize("seed", range(6))
def test_statuses_match_row_by_row(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    picks = [_MESSY[i] for i in rng.integers(0, len(_MESSY), n)]
    for default in ("active", "awarded"):
        want = _statuses_plain(picks, n, default)
        for values in (picks, tuple(picks), np.array(picks, dtype=object), pd.Series(picks, dtype=object)):
            got = _statuses(values, n, default)
            assert got.dtype == object
            assert got.tolist() == want.tolist()
            assert all(type(v) is str for v in got.tolist())
            for wanted in (counting.MONEY_STATUSES, counting.NOT_CURRENT_STATUSES, frozenset()):
                inside = _status_in(values, n, default, wanted)
                assert inside.dtype == bool
                assert inside.tolist() == np.isin(want, list(wanted)).tolist()
        text = [p for p in picks if isinstance(p, str)]
        for values in (pd.Series(text, dtype="string"), pd.Series(text, dtype="str"), np.array(text, dtype=str)):
            assert _statuses(values, len(text), default).tolist() == _statuses_plain(text, len(text), default).tolist()


def test_statuses_edge_cases():
    assert _statuses(None, 3, "active").tolist() == ["active"] * 3
    assert _status_in(None, 2, "awarded", counting.MONEY_STATUSES).tolist() == [True, True]
    assert _status_in([], 0, "awarded", counting.MONEY_STATUSES).tolist() == []
    assert _statuses([], 0, "active").tolist() == []
    assert _statuses(pd.Series([], dtype=object), 0, "active").tolist() == []
    assert _statuses(["X"], 1, "active").tolist() == ["x"]
    assert _statuses([None], 1, "awarded").tolist() == ["awarded"]
    assert _statuses(pd.Series(["a", None, "a"], dtype="category"), 3, "d").tolist() == ["a", "d", "a"]


@pytest.mark.parametrize("seed", range(8))
def test_parent_rows_match_dictionary(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    ids = rng.integers(0, max(n, 1) + 3, n).astype(float)  # duplicate ids: the last row wins
    ids[rng.random(n) < 0.15] = np.nan
    if n and seed % 2:
        ids[0] = -0.0
    parents = rng.integers(-2, max(n, 1) + 5, n).astype(float)
    parents[rng.random(n) < 0.3] = np.nan
    if n and seed % 3 == 0:
        parents[-1] = 0.0
    got = _parent_rows(ids, parents)
    assert got.dtype == np.int64
    assert got.tolist() == _parent_rows_plain(ids, parents).tolist()


def test_parent_rows_edge_cases():
    empty = np.empty(0, dtype=float)
    assert _parent_rows(empty, empty).tolist() == []
    assert _parent_rows(empty, np.array([1.0, np.nan])).tolist() == [-1, -1]
    assert _parent_rows(np.array([np.nan, np.nan]), np.array([np.nan, 1.0])).tolist() == [-1, -1]
    assert _parent_rows(np.array([5.0]), np.array([5.0, 4.0, np.nan])).tolist() == [0, -1, -1]
    assert _parent_rows(np.array([7.0, 7.0, 7.0]), np.array([7.0])).tolist() == [2]


def _tree_plain(allocation_id, parent_id, status) -> np.ndarray:
    own = np.isin(_statuses_plain(status, len(status), "awarded"), list(counting.MONEY_STATUSES))
    ids = pd.to_numeric(pd.Series(list(allocation_id)), errors="coerce").to_numpy(dtype=float)
    parents = pd.to_numeric(pd.Series(list(parent_id)), errors="coerce").to_numpy(dtype=float)
    up = _parent_rows_plain(ids, parents)
    out = own.copy()
    cur = up.copy()
    for _ in range(32):
        live = cur >= 0
        if not live.any():
            break
        out[live] &= own[cur[live]]
        cur = np.where(live, up[np.maximum(cur, 0)], -1)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_allocation_tree_matches_plain(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 50))
    ids = [int(i) if rng.random() > 0.1 else None for i in rng.permutation(n) + 1]
    parents = [int(p) if rng.random() > 0.4 else None for p in rng.integers(1, n + 3, n)]
    status = [["awarded", "paid", "applied", "withdrawn", None, " PAID "][i] for i in rng.integers(0, 6, n)]
    got = allocation_tree_is_money(ids, parents, status)
    assert got.tolist() == _tree_plain(ids, parents, status).tolist()
    got = allocation_tree_is_money(pd.Series(ids, dtype=object), pd.Series(parents, dtype=object), pd.Series(status))
    assert got.tolist() == _tree_plain(ids, parents, status).tolist()
