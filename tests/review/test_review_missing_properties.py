"""review.md v2's properties for missing figures, checked on generated data (issue 11, problems 1 and 3):

- Removing an area's need figure never makes that area a gap, and never changes its fair share to zero.
- Recording funding for a service with unknown funding never creates a new "no provision" gap; and "need but no
  provision" is said only where no current service of the theme covers the area at all.
"""

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services_db.review import area_names, fair_share, gaps, review_area
from services_db.review.context import Context
from services_db.review.gaps import NO_FIGURE, NO_PROVISION
from services_db.review.shares import funding_unknown

THEMES = ("mh", "da", "yo")
CODES = ("F", "A1", "A2", "D1", "D2", "D3", "L1", "L2", "L3", "L4", "L5", "XX")
DATES = (None, "2015-01-01", "2016-07-21", "2016-12-31", "2017-03-31", "2018-03-31")
AS_ATS = ("2016-07-21", "2017-03-31", "2019-01-01")
UNDER = {"A1": {"A1", "D1", "D2", "L1", "L2", "L3"}, "A2": {"A2", "D3", "L4", "L5"},
         "D1": {"D1", "L1", "L2"}, "D2": {"D2", "L3"}, "D3": {"D3", "L4", "L5"}}
NAMES = {"A1": "North", "A2": "South", "D1": "Alpha", "D2": "Beta", "D3": "Gamma"}

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

populations = st.lists(st.one_of(st.just(math.nan), st.floats(1, 5000, allow_nan=False)), min_size=5, max_size=5)
line = st.tuples(st.integers(0, 10**8).map(lambda p: p / 100), st.sampled_from(DATES), st.sampled_from(DATES))
service = st.fixed_dictionaries({
    "themes": st.lists(st.sampled_from(THEMES), min_size=1, max_size=3, unique=True),
    "coverage": st.lists(st.sampled_from(CODES), max_size=3),
    "lines": st.lists(line, max_size=2),  # none: the service's funding is unknown
    "end": st.sampled_from(DATES),
})
# Need figures at district and LSOA level (where the data sets of the demo and the nation are held).
need_row = st.tuples(st.sampled_from(("ea", "dai")), st.sampled_from(("D1", "D2", "D3", "L1", "L2", "L3", "L4", "L5")),
                     st.floats(0, 1000, allow_nan=False))
allocation = st.tuples(st.integers(1, 10**7).map(lambda p: p / 100),
                       st.lists(st.sampled_from(("D1", "D2", "D3", "A1", "A2")), max_size=2))


def build(make, pops, services, need_rows, allocations=(), extra_lines=()):
    b = make()
    for row, pop in zip(b.rows["areas"][7:], pops, strict=True):
        row["population"] = pop
    for i, s in enumerate(services, start=1):
        b.service(i, themes=s["themes"], coverage=s["coverage"], end=s["end"])
        for amount, start, end in s["lines"]:
            b.line(i, amount, start=start, end=end)
    for sid, amount in extra_lines:
        b.line(sid, amount)
    b.indicator("ea", "Early Action incidents", ("mh", "da")).indicator("dai", "domestic abuse incidents", ("da",))
    for key, code, value in need_rows:
        b.need(key, code, value)
    b.fund("f", "Community Action Fund")
    for k, (amount, codes) in enumerate(allocations, start=1):
        b.allocation(k, "f", amount, tuple(codes))
    return b.build()


@SETTINGS
@given(pops=populations, services=st.lists(service, max_size=6), need_rows=st.lists(need_row, max_size=10),
       allocations=st.lists(allocation, min_size=1, max_size=4), as_at=st.sampled_from(AS_ATS),
       target=st.sampled_from([("area", "A1"), ("area", "A2"), ("district", "D1"), ("district", "D2"),
                               ("district", "D3")]),
       weights=st.sampled_from([{"ea": 1.0}, {"population": 1.0, "ea": 2.0}, {"dai": 1.0, "ea": 1.0}]))
def test_removing_an_areas_need_figure_never_makes_it_a_gap_or_its_fair_share_zero(
        make, pops, services, need_rows, allocations, as_at, target, weights):
    level, code = target
    kept = [r for r in need_rows if r[1] not in UNDER[code]]
    data = build(make, pops, services, kept, allocations)
    frame = gaps(data, as_at, level=level)
    mine = frame[frame["area_code"] == code]
    assert not mine["is_gap"].any()
    assert not mine["has_need_figure"].any() and (mine["reason"] == NO_FIGURE).all()
    assert mine["need_share"].isna().all() and mine["money_to_parity"].isna().all()
    assert all(" no figure for " in f.sentence for f in review_area(data, NAMES[code], as_at).of_kind("gap"))
    try:
        shares = fair_share(data, "f", weights=weights, level=level).set_index("area_code")
    except ValueError:  # no usable figure left anywhere for a chosen indicator: the formula cannot be used
        return
    assert shares.loc[code, "fair_share"] > 0
    assert shares["fair_share"].sum() == __import__("pytest").approx(shares["actual"].sum())
    assert all(k in shares.loc[code, "no_figure"] for k in ("Early Action incidents",) if "ea" in weights)


@SETTINGS
@given(pops=populations, services=st.lists(service, min_size=1, max_size=6), need_rows=st.lists(need_row, max_size=10),
       as_at=st.sampled_from(AS_ATS), pick=st.integers(0, 5), amount=st.integers(1, 10**8).map(lambda p: p / 100),
       level=st.sampled_from(("area", "district", "lsoa")))
def test_recording_funding_for_a_service_with_unknown_funding_never_creates_a_no_provision_gap(
        make, pops, services, need_rows, as_at, pick, amount, level):
    before = build(make, pops, services, need_rows)
    ctx = Context(before, as_at)
    unknown = ctx.service_ids[funding_unknown(ctx)]
    assume(len(unknown) > 0)
    sid = int(unknown[pick % len(unknown)])
    after = build(make, pops, services, need_rows, extra_lines=[(sid, amount)])
    assert not funding_unknown(Context(after, as_at))[np.flatnonzero(Context(after, as_at).service_ids == sid)].any()
    g0, g1 = gaps(before, as_at, level=level), gaps(after, as_at, level=level)

    def no_provision(frame):
        return set(map(tuple, frame.loc[frame["reason"] == NO_PROVISION, ["area_code", "theme_key"]].values.tolist()))

    assert no_provision(g1) <= no_provision(g0)
    for frame in (g0, g1):  # "need but no provision" only where no current service of the theme covers the area
        assert (frame.loc[frame["reason"] == NO_PROVISION, "services"] == 0).all()
    for name in area_names(after):
        for f in review_area(after, name, as_at).of_kind("gap"):
            assert "£0 of" not in f.sentence or f.figures.get("services", 0) == 0 or "known" in f.sentence
