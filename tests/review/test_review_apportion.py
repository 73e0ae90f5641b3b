"""Apportioning annual funding to LSOAs by population, to the penny."""

import math

import numpy as np
import pytest

from services_db.review import apportion, service_funding, split_pence

AS_AT = "2016-07-21"


def test_largest_remainder_gives_the_spare_penny_to_the_largest_fraction():
    # 100p over three equal rows: 33.33 each, one spare penny to the first (ties go to the earlier row).
    assert split_pence(np.array([0, 0, 0]), np.array([1.0, 1.0, 1.0]), np.array([100])).tolist() == [34, 33, 33]
    # 1,000.01 over 100:300:200:250:150 -> 100.001, 300.003, ... the spare penny goes to 300.003.
    out = split_pence(np.zeros(5, dtype=int), np.array([100, 300, 200, 250, 150.0]), np.array([100001]))
    assert out.tolist() == [10000, 30001, 20000, 25000, 15000]


def test_groups_are_split_separately_and_zero_weights_mean_equal_shares():
    out = split_pence(np.array([0, 0, 1, 1, 1]), np.array([1.0, 2.0, 0.0, 0.0, 0.0]), np.array([10, 10]))
    assert out.tolist() == [3, 7, 4, 3, 3]


def test_negative_totals_add_up_too():
    out = split_pence(np.array([0, 0, 0]), np.array([1.0, 1.0, 1.0]), np.array([-100]))
    assert out.tolist() == [-33, -33, -34] and out.sum() == -100


def test_apportion_by_population_to_the_penny(make):
    data = make().service(3, coverage=("D1", "D2"), amount=500).build()
    rows = apportion(data, AS_AT)
    assert rows[["lsoa_code", "amount"]].values.tolist() == [["L1", 83.33], ["L2", 250.0], ["L3", 166.67]]
    assert rows["pence"].sum() == 50000


def test_only_lines_current_at_the_date_count(make):
    b = make().service(1, coverage=("L1",))
    b.line(1, 1000, start="2015-04-01", end="2017-03-31")  # current
    b.line(1, 200, start="2016-04-01")  # open-ended, current
    b.line(1, 30, end="2016-07-21")  # ends on the day: still current
    b.line(1, 4000, start="2014-04-01", end="2016-03-31")  # ended
    b.line(1, 50000, start="2016-08-01")  # not started
    funding = service_funding(b.build(), AS_AT)
    assert funding.loc[0, "annual_funding"] == 1230.0
    assert funding.loc[0, "funding_lines"] == 3
    assert apportion(b.build(), AS_AT)["amount"].sum() == 1230.0


def test_unknown_population_splits_equally(make):
    b = make()
    for row in b.rows["areas"]:
        row["population"] = float("nan")
    data = b.service(1, coverage=("A1",), amount=100).build()
    assert apportion(data, AS_AT)["pence"].tolist() == [3334, 3333, 3333]


def test_a_service_without_coverage_is_not_placed(make):
    data = make().service(1, coverage=(), amount=100).service(2, coverage=("XX",), amount=50).build()
    assert apportion(data, AS_AT).empty
    funding = service_funding(data, AS_AT)
    assert funding["placed"].tolist() == [False, False]
    assert funding["annual_funding"].tolist() == [100.0, 50.0]


def test_coverage_listed_twice_or_at_two_levels_is_counted_once(make):
    data = make().service(1, coverage=("D1", "L1", "D1"), amount=400).build()
    assert apportion(data, AS_AT)["amount"].tolist() == [100.0, 300.0]


@pytest.mark.parametrize("as_at", ["2016-07-21", "2020-01-01"])
def test_totals_match_service_funding(make, as_at):
    b = make().service(1, coverage=("F",), amount=1234.56).service(2, coverage=("A2", "L1"), amount=0.07)
    b.line(2, 99.99, end="2019-12-31")
    data = b.build()
    per_service = apportion(data, as_at).groupby("service_id")["pence"].sum()
    funding = service_funding(data, as_at).set_index("service_id")["annual_funding"]
    for sid, pence in per_service.items():
        assert pence == round(funding[sid] * 100)


def test_results_are_shared_between_dates_with_the_same_funding(make):
    from services_db.review.context import Context

    data = make().service(1, coverage=("A1",), amount=600, line_end="2017-03-31").build()
    a, b = Context(data, "2016-07-21"), Context(data, "2016-08-01")
    assert a.money_key == b.money_key and a.apportioned is b.apportioned
    c = Context(data, "2017-04-01")  # the line has ended
    assert c.money_key != a.money_key and c.apportioned[2].tolist() == [0, 0, 0]  # no money on any LSOA


def _largest_remainder(group: int, weights: list[float], total: int) -> list[int]:
    """review.md's rule for one service, written out plainly: shares of the total by weight (equal shares when
    the weights add to nothing), floors, then the spare pence one each to the largest fractions, ties to the
    earlier row; fractions are compared as `split_pence` keys them, `group + (1 - fraction) / 2`."""
    w = [max(x, 0.0) for x in weights]
    wsum = 0.0
    for x in w:
        wsum += x
    if wsum <= 0:
        w, wsum = [1.0] * len(w), float(len(w))
    raw = [float(total) * (x / wsum) for x in w]
    floors = [math.floor(r) for r in raw]
    keys = [group + (1.0 - (r - f)) * 0.5 for r, f in zip(raw, floors, strict=True)]
    order = sorted(range(len(w)), key=lambda i: (keys[i], i))
    left = total - sum(floors)
    out = list(floors)
    for rank, i in enumerate(order):
        if left > 0 and rank < left:
            out[i] += 1
        if left < 0 and len(w) - 1 - rank < -left:
            out[i] -= 1
    return out


@pytest.mark.parametrize("seed", range(20))
def test_split_pence_is_the_plain_largest_remainder_rule_on_random_ties(seed):
    rng = np.random.default_rng(seed)
    values = [0.0, 1000.0, float(np.nextafter(1000.0, 2000.0)), 1500.0, 1234.5, 0.1, 0.3, 7.0 / 3.0]
    sizes = rng.integers(1, 40, rng.integers(1, 30))
    group = np.repeat(np.arange(len(sizes)), sizes)
    weights = rng.choice(values, len(group)) if seed % 3 else np.full(len(group), 1500.0)
    totals = rng.choice([0, 1, 99, 100, 12345, -12345, 10**11 + 7], len(sizes)).astype(np.int64)
    huge = rng.random(len(sizes)) < 0.2
    totals[huge] = rng.integers(2**50, 2**52, huge.sum())
    got = split_pence(group, weights, totals).tolist()
    want = []
    for g in range(len(sizes)):
        rows = group == g
        want += _largest_remainder(g, weights[rows].tolist(), int(totals[g]))
    assert got == want
