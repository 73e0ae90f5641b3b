"""`latest_period_codes` (one small table counted over every row) against the plain rule: of each indicator's
rows with a period, the period of highest rank."""

from __future__ import annotations

import numpy as np
import pytest

from services_db.review.dates import latest_period_codes, period_ranks

_TEXTS = np.array(["2013-14", "2013-10", "spring", "2012-10/2013-09", "2014", "2013-03", "autumn", "2013-14 "],
                  dtype=object)


def _plain(indicator: np.ndarray, n_indicators: int, period: np.ndarray, texts: np.ndarray) -> np.ndarray:
    rank = period_ranks(texts) if len(texts) else np.empty(0, dtype=np.int64)
    out = np.full(n_indicators, -1, dtype=np.int64)
    for i in range(n_indicators):
        mine = [int(p) for k, p in zip(indicator.tolist(), period.tolist(), strict=True) if k == i and p >= 0]
        if mine:
            out[i] = max(mine, key=lambda p: rank[p])
    return out


@pytest.mark.parametrize("seed", range(10))
def test_latest_period_codes_match_plain_rule(seed):
    rng = np.random.default_rng(seed)
    n_texts = int(rng.integers(0, len(_TEXTS) + 1))
    texts = _TEXTS[rng.permutation(len(_TEXTS))[:n_texts]]
    n_ind = int(rng.integers(0, 6))
    n = int(rng.integers(0, 40))
    indicator = rng.integers(-1, n_ind, n) if n_ind else np.full(n, -1)
    period = rng.integers(-1, n_texts, n) if n_texts else np.full(n, -1)
    for ind, per in ((indicator, period), (indicator.astype(np.int32), period.astype(np.int32))):
        got = latest_period_codes(ind, n_ind, per, texts)
        assert got.dtype == np.int64
        assert got.tolist() == _plain(indicator, n_ind, period, texts).tolist()


def test_latest_period_codes_edge_cases():
    texts = _TEXTS[:3]
    empty = np.empty(0, dtype=np.int64)
    assert latest_period_codes(empty, 3, empty, texts).tolist() == [-1, -1, -1]
    assert latest_period_codes(np.array([0]), 1, np.array([2]), texts).tolist() == [2]
    assert latest_period_codes(np.array([-1, 0]), 2, np.array([1, -1]), texts).tolist() == [-1, -1]
    assert latest_period_codes(np.array([1, 1, 1]), 2, np.array([0, 0, 0]), texts).tolist() == [-1, 0]
    # codes below -1 count as missing, as -1 does (the row-picking path)
    assert latest_period_codes(np.array([0, -5, 0]), 1, np.array([-7, 2, 1]), texts).tolist() == [1]
