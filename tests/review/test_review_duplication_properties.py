"""Duplication v2 under hypothesis: the groups equal a brute-force reading of review.md, a duplicate makes one group
with the original, and a service that shares no theme with a group never joins it."""

import itertools
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services_db.review import duplication

AS_AT = "2016-07-21"
THEMES = ("mh", "da", "yo")  # the builder's themes table, in order
GROUPS = ("adults", "children", "families")
CODES = ("F", "A1", "A2", "D1", "D2", "D3", "L1", "L2", "L3", "L4", "L5", "XX")
LSOAS_OF = {"F": "L1 L2 L3 L4 L5", "A1": "L1 L2 L3", "A2": "L4 L5", "D1": "L1 L2", "D2": "L3", "D3": "L4 L5",
            **{f"L{i}": f"L{i}" for i in range(1, 6)}, "XX": ""}
COMMISSIONERS = ("OPCC", "LCC", "CCG")
DATES = (None, "2015-01-01", "2016-07-21", "2017-03-31")

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

populations = st.lists(st.one_of(st.just(math.nan), st.just(0.0), st.floats(1, 5000, allow_nan=False)),
                       min_size=5, max_size=5)
line = st.tuples(st.integers(0, 10**7).map(lambda p: p / 100), st.sampled_from(COMMISSIONERS),
                 st.sampled_from(DATES), st.sampled_from(DATES))
service = st.fixed_dictionaries({
    "themes": st.lists(st.sampled_from(THEMES), min_size=1, max_size=2, unique=True),
    "groups": st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
    "coverage": st.lists(st.sampled_from(CODES), min_size=1, max_size=3),
    "provider": st.sampled_from(("P1", "P2")),
    "commissioners": st.lists(st.sampled_from(COMMISSIONERS), max_size=2, unique=True),
    "lines": st.lists(line, max_size=2),
    "end": st.sampled_from(DATES),
})
one_theme_service = service.map(lambda s: {**s, "themes": s["themes"][:1], "groups": (s["groups"] or ["adults"])[:1],
                                           "coverage": [*s["coverage"], "L1"], "end": None,
                                           "commissioners": s["commissioners"] or ["OPCC"]})


def build(make, pops, services):
    b = make()
    for row, pop in zip(b.rows["areas"][7:], pops, strict=True):
        row["population"] = pop
    for sid, s in services:
        b.service(sid, themes=s["themes"], groups=s["groups"], coverage=s["coverage"], provider=s["provider"],
                  commissioners=s["commissioners"], end=s["end"])
        for amount, comm, start, end in s["lines"]:
            b.line(sid, amount, commissioner=comm, start=start, end=end)
    return b.build()


def numbered(services, start=1):
    return list(enumerate(services, start=start))


def groups_of(data):
    g = duplication(data, AS_AT).groups
    return [dict(ids=frozenset(r.service_ids), theme=r.theme_key, group=r.target_group, themes=set(r.themes),
                 groups=set(r.target_groups)) for r in g.itertuples()]


# -- the brute-force reading of review.md v2 ------------------------------------------------------------------------

def _weights(pops):
    positive = [p for p in pops if math.isfinite(p) and p > 0]
    fill = sum(positive) / len(positive) if positive else 1.0
    return {f"L{i}": (p if math.isfinite(p) and p >= 0 else fill) for i, p in enumerate(pops, start=1)}


def _current(s):
    return s["end"] is None or s["end"] >= AS_AT


def _in_period(start, end):
    return (start is None or start <= AS_AT) and (end is None or end >= AS_AT)


def _lsoas(services):
    return {sid: {x for c in s["coverage"] for x in LSOAS_OF[c].split()} for sid, s in services}


def _jaccard(pops, services):
    """The population-weighted Jaccard overlap of two services' coverage (by LSOA count where nobody lives)."""
    w, lsoas = _weights(pops), _lsoas(services)

    def jaccard(a, b):
        inter, union = lsoas[a] & lsoas[b], lsoas[a] | lsoas[b]
        wu = sum(w[x] for x in union)
        return sum(w[x] for x in inter) / wu if wu > 0 else len(inter) / len(union)

    return jaccard


def expected_groups(pops, services):
    """{member ids: (theme, target group, overlap, combined, duplicated, unknown)} by review.md v2, by brute force."""
    lsoas = _lsoas(services)
    spec = dict(services)
    jaccard = _jaccard(pops, services)

    def partners_differ(ids):
        comms = {frozenset(spec[i]["commissioners"]) | {c for _, c, _, _ in spec[i]["lines"]} for i in ids}
        comms.discard(frozenset())
        return len(comms) >= 2 or len({spec[i]["provider"] for i in ids}) >= 2

    reported = []  # (theme, group, members) of every maximal clique of different partners
    vocab = sorted({g for _, s in services for g in s["groups"]})
    for theme, group in itertools.product(THEMES, vocab):
        nodes = [sid for sid, s in services if _current(s) and lsoas[sid] and theme in s["themes"]
                 and group in s["groups"]]
        cliques = [set(c) for n in range(2, len(nodes) + 1) for c in itertools.combinations(nodes, n)
                   if all(jaccard(a, b) >= 0.5 - 1e-9 for a, b in itertools.combinations(c, 2))]
        reported += [(theme, group, c) for c in cliques if not any(c < d for d in cliques) and partners_differ(c)]
    found = {}
    for theme, group, c in reported:
        if any(t == theme and c < d for t, _, d in reported):
            continue  # inside a larger group of the same theme (another target group)
        key = frozenset(c)
        if key not in found:  # the first (theme, group) names it
            funding = {i: sum(a for a, _, s, e in spec[i]["lines"] if _in_period(s, e)) for i in c}
            known = [funding[i] for i in c if any(_in_period(s, e) for _, _, s, e in spec[i]["lines"])]
            found[key] = (theme, group, min(jaccard(a, b) for a, b in itertools.combinations(c, 2)),
                          sum(known), sum(known) - max(known) if known else 0.0, len(c) - len(known))
    return found


@SETTINGS
@given(pops=populations, services=st.lists(service, max_size=7))
def test_groups_are_the_maximal_cliques_of_one_theme_and_target_group(make, pops, services):
    services = numbered(services)
    result = duplication(build(make, pops, services), AS_AT)
    expected = expected_groups(pops, services)
    got = {frozenset(r.service_ids): r for r in result.groups.itertuples()}
    assert set(got) == set(expected)
    for ids, (theme, group, overlap, combined, duplicated, unknown) in expected.items():
        r = got[ids]
        assert (r.theme_key, r.target_group, r.n_unknown_funding) == (theme, group, unknown)
        assert math.isclose(r.overlap, overlap, rel_tol=1e-9)
        assert math.isclose(r.combined_funding, combined, abs_tol=1e-6)
        assert math.isclose(r.money_duplicated, duplicated, abs_tol=1e-6)
    assert result.groups["money_duplicated"].is_monotonic_decreasing
    pairs = result.pairs.groupby("group_id")
    for r in result.groups.itertuples():
        p = pairs.get_group(r.group_id)
        assert len(p) == r.n_services * (r.n_services - 1) // 2 and (p["jaccard"] >= 0.5 - 1e-9).all()


@SETTINGS
@given(pops=populations, services=st.lists(service, max_size=7))
def test_every_pair_of_a_groups_members_is_listed_once_with_its_own_overlap(make, pops, services):
    services = numbered(services)
    result = duplication(build(make, pops, services), AS_AT)
    jaccard = _jaccard(pops, services)
    pairs = result.pairs
    assert list(zip(pairs["group_id"], pairs["service_id_a"], pairs["service_id_b"], strict=True)) == sorted(
        (r.group_id, a, b) for r in result.groups.itertuples() for a, b in itertools.combinations(sorted(
            r.service_ids), 2))
    for p in pairs.itertuples():
        assert math.isclose(p.jaccard, jaccard(p.service_id_a, p.service_id_b), rel_tol=1e-9)
    themes = dict(zip(result.groups["group_id"], zip(result.groups["theme_key"], result.groups["target_group"],
                                                     strict=True), strict=True))
    assert all(themes[p.group_id] == (p.theme_key, p.target_group) for p in pairs.itertuples())


@SETTINGS
@given(pops=populations, services=st.lists(service, max_size=6), original=one_theme_service,
       other=st.sampled_from(("Another commissioner", "OPCC")))
def test_a_duplicate_joins_the_original_in_every_group_and_makes_no_other_change(make, pops, services, original,
                                                                                 other):
    """review.md: adding a duplicate of a service (same theme, group, coverage, other commissioner) creates a group
    containing both; with no other service of that theme, exactly one. With others, the duplicate goes wherever the
    original goes and nothing else changes."""
    others = numbered(services)
    duplicate = {**original, "commissioners": [other], "provider": "P3" if other == "OPCC" else original["provider"]}
    before = groups_of(build(make, pops, [*others, (100, original)]))
    after = groups_of(build(make, pops, [*others, (100, original), (101, duplicate)]))
    with_both = [g for g in after if {100, 101} <= g["ids"]]
    assert with_both
    assert [g for g in after if 100 in g["ids"]] == [g for g in after if 101 in g["ids"]]
    assert all((g["theme"], g["group"]) == (original["themes"][0], original["groups"][0]) for g in with_both)
    labelled = {(g["theme"], g["group"], g["ids"] - {101}) for g in after}
    old = {(g["theme"], g["group"], g["ids"]) for g in before}
    assert old <= labelled and all(100 in ids for _, _, ids in labelled - old)
    if not any(original["themes"][0] in s["themes"] for _, s in others):
        assert [g["ids"] for g in after if 101 in g["ids"]] == [frozenset({100, 101})]


@SETTINGS
@given(pops=populations, services=st.lists(service, max_size=7), newcomer=service)
def test_a_service_that_shares_no_theme_with_a_group_never_joins_it(make, pops, services, newcomer):
    others = numbered(services)
    before = groups_of(build(make, pops, others))
    after = groups_of(build(make, pops, [*others, (102, newcomer)]))
    for g in after:
        if 102 in g["ids"]:
            assert g["themes"] <= set(newcomer["themes"]) and g["groups"] <= set(newcomer["groups"])
    for g in before:
        if not g["themes"] & set(newcomer["themes"]):
            assert {k: g[k] for k in ("ids", "theme", "group")} in [{k: h[k] for k in ("ids", "theme", "group")}
                                                                     for h in after]


@SETTINGS
@given(pops=populations, services=st.lists(service, min_size=1, max_size=6), pick=st.integers(0, 5))
def test_a_copy_under_a_theme_nobody_else_has_joins_no_group(make, pops, services, pick):
    others = numbered(services)
    copy = {**services[pick % len(services)], "themes": ["zz"], "commissioners": ["Someone else"], "end": None}
    after = groups_of(build(make, pops, [*others, (102, copy)]))
    assert not any(102 in g["ids"] for g in after)
