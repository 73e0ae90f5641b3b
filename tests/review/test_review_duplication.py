"""Duplication (review.md v2): cliques within one theme and one target group, different partners, the group's
figures (smallest overlap, shared coverage, known money and money potentially duplicated), force-wide groups."""

import itertools
import random

import numpy as np
import pytest

from services_db.review import duplication, review_area, review_force
from services_db.review.context import unique_inverse
from services_db.review.duplication import (
    _Bitmap,
    _cliques,
    _first_seen,
    _slices,
    components,
    group_label,
    maximal_cliques,
    within_group_pairs,
)

AS_AT = "2016-07-21"


def groups_of(data, **kw):
    return [tuple(g) for g in duplication(data, AS_AT, **kw).groups["service_ids"]]


def test_identical_coverage_by_two_commissioners_is_one_group(make):
    b = make()
    b.service(1, coverage=("A1",), amount=6000, commissioner="OPCC", provider="P1")
    b.service(2, coverage=("D1", "D2"), amount=500, commissioner="LCC", provider="P1")
    result = duplication(b.build(), AS_AT)
    g = result.groups.iloc[0]
    assert g["service_ids"] == (1, 2)  # largest funding first
    assert g["commissioners"] == ("LCC", "OPCC") and g["n_commissioners"] == 2
    assert g["providers"] == ("P1",) and g["n_providers"] == 1
    assert g["combined_funding"] == 6500.0 and g["money_duplicated"] == 500.0 and g["n_unknown_funding"] == 0
    assert g["overlap"] == 1.0 and g["population"] == 600.0
    assert g["shared_areas"] == ("North",) and g["shared_area_codes"] == ("A1",)
    assert g["theme_key"] == "mh" and g["target_group"] == "adults" and g["target_group_name"] == "adults"
    assert g["themes"] == ("mh",) and g["target_groups"] == ("adults",)
    assert not g["force_wide"]
    assert result.pairs[["service_id_a", "service_id_b", "jaccard"]].values.tolist() == [[1, 2, 1.0]]
    assert result.pairs[["theme_key", "target_group"]].values.tolist() == [["mh", "adults"]]


def test_jaccard_by_population_at_the_threshold_is_an_overlap(make):
    b = make()
    b.service(1, coverage=("D1",), commissioner="OPCC")  # L1 100 + L2 300
    b.service(2, coverage=("L2", "L3"), commissioner="LCC")  # L2 300 + L3 200: 300 / 600 = 0.5
    data = b.build()
    assert groups_of(data) == [(1, 2)]
    assert duplication(data, AS_AT).pairs["jaccard"].item() == pytest.approx(0.5)
    assert groups_of(data, min_overlap=0.51) == []
    g = duplication(data, AS_AT).groups.iloc[0]
    assert g["overlap"] == pytest.approx(0.5)
    assert g["population"] == 300.0 and g["shared_areas"] == ("North",)  # the intersection: L2


def test_same_commissioner_and_provider_is_not_duplication(make):
    b = make().service(1, coverage=("A1",), commissioner="OPCC").service(2, coverage=("A1",), commissioner="OPCC")
    assert groups_of(b.build()) == []


def test_one_partners_two_services_join_another_partners_as_one_group(make):
    b = make().service(1, coverage=("A1",), amount=10, commissioner="OPCC")
    b.service(2, coverage=("A1",), amount=20, commissioner="OPCC")
    b.service(3, coverage=("A1",), amount=30, commissioner="LCC")
    assert groups_of(b.build()) == [(3, 2, 1)]


def test_a_service_with_no_recorded_commissioner_is_not_a_different_commissioner(make):
    b = make().service(1, coverage=("A1",), commissioners=()).service(2, coverage=("A1",), commissioner="OPCC")
    assert groups_of(b.build()) == []
    b.service(3, coverage=("A1",), commissioners=(), provider="P2")
    assert groups_of(b.build()) == [(1, 2, 3)]


def test_same_commissioner_but_different_providers_is(make):
    b = make().service(1, coverage=("A1",), provider="P1").service(2, coverage=("A1",), provider="P2")
    g = duplication(b.build(), AS_AT).groups.iloc[0]
    assert g["n_commissioners"] == 1 and g["n_providers"] == 2
    assert g["n_unknown_funding"] == 2 and g["combined_funding"] == 0.0 and g["money_duplicated"] == 0.0
    sentence = review_force(b.build(), AS_AT).of_kind("duplication")[0].sentence
    assert sentence == ("Two mental health services for adults, run by two providers, overlap 100% in North "
                        "(the funding of none of them is recorded).")


def test_no_shared_target_group_or_theme_means_no_overlap(make):
    b = make().service(1, coverage=("A1",), groups=("adults",), commissioner="OPCC")
    b.service(2, coverage=("A1",), groups=("children",), commissioner="LCC")
    b.service(3, coverage=("A1",), themes=("da",), commissioner="CCG")
    b.service(4, coverage=("A1",), groups=(), commissioner="X")
    assert groups_of(b.build()) == []


def test_a_chain_across_two_themes_is_two_groups_not_one(make):
    """Issue 11 (2): A and B share theme x, B and C theme y; v1 joined A, B and C into one component."""
    b = make()
    b.service(1, themes=("mh",), coverage=("A1",), amount=100, commissioner="OPCC")
    b.service(2, themes=("mh", "da"), coverage=("A1",), amount=200, commissioner="LCC")
    b.service(3, themes=("da",), coverage=("A1",), amount=300, commissioner="CCG")
    groups = duplication(b.build(), AS_AT).groups
    assert [(g, t) for g, t in zip(groups["service_ids"], groups["theme_key"], strict=True)] == [
        ((3, 2), "da"), ((2, 1), "mh")]
    assert groups["money_duplicated"].tolist() == [200.0, 100.0]
    assert all(len(t) == 1 for t in groups["themes"])


def test_a_cctv_hub_with_no_reoffending_theme_never_joins_a_reoffending_group(make):
    """Issue 11 (2): Blackpool's "four reoffending services" included the CCTV hub, joined through a shared ASB
    theme. Here the hub duplicates the CSP's ASB work (a group of ASB) and nothing else."""
    b = make().theme("reoffending", "Reoffending").theme("asb", "Anti-social behaviour")
    b.service(1, "Blackpool DIP", themes=("reoffending", "drugs"), groups=("adults", "offenders"), coverage=("A2",),
              amount=96_000, commissioner="OPCC", provider="DAAT")
    b.service(2, "BSafe CSP programme", themes=("asb", "reoffending"), groups=("adults", "offenders"),
              coverage=("A2",), amount=143_000, commissioner="OPCC", provider="BSafe")
    b.service(3, "Blackpool CCTV hub", themes=("asb", "community-safety"), groups=("adults", "victims"),
              coverage=("A2",), commissioners=(), provider="Blackpool Council")
    groups = duplication(b.build(), AS_AT).groups
    reoffending = groups[groups["theme_key"] == "reoffending"]
    assert reoffending["service_ids"].tolist() == [(2, 1)]
    assert reoffending["target_groups"].tolist() == [("adults", "offenders")]  # the same pair in both groups: once
    hub = [g for g in groups.itertuples() if 3 in g.service_ids]
    assert [(g.theme_key, g.target_group, g.service_ids) for g in hub] == [("asb", "adults", (2, 3))]
    south = review_area(b.build(), "South", AS_AT).of_kind("duplication")
    assert [f.sentence for f in south] == [
        "Two reoffending services for adults, run by two providers, overlap 100% in South (£239,000 a year; up to "
        "£96,000 of it may be duplicated).",
        "Two anti-social behaviour services for adults, run by two providers, overlap 100% in South (£143,000 a "
        "year; the funding of one is not recorded)."]


def test_overlaps_that_do_not_all_meet_are_two_cliques_not_a_chain(make):
    b = make()
    b.service(1, coverage=("A1",), amount=100, commissioner="OPCC")  # 600
    b.service(2, coverage=("F",), amount=200, commissioner="LCC")  # 1,000: 0.6 with each of the others
    b.service(3, coverage=("D2", "D3"), amount=300, commissioner="CCG")  # 600; 200/1000 = 0.2 with service 1
    result = duplication(b.build(), AS_AT)
    assert [tuple(x) for x in result.groups["service_ids"]] == [(3, 2), (2, 1)]  # both reported; 2 in each
    first = result.groups.iloc[0]
    assert first["overlap"] == pytest.approx(0.6)
    assert first["shared_areas"] == ("South", "North") and first["population"] == 600.0  # D3 400, then D2 200
    assert first["combined_funding"] == 500.0 and first["money_duplicated"] == 200.0
    pairs = result.pairs[["service_id_a", "service_id_b", "group_id"]].values.tolist()
    assert pairs == [[2, 3, 1], [1, 2, 2]]
    sentences = review_force(b.build(), AS_AT).of_kind("duplication")
    assert [f.sentence for f in sentences] == [
        "Two mental health services for adults, funded by two commissioners, overlap at least 60% in South and "
        "North (£500 a year; up to £200 of it may be duplicated).",
        "Two mental health services for adults, funded by two commissioners, overlap at least 60% in North (£300 a "
        "year; up to £100 of it may be duplicated)."]
    assert [f.importance for f in sentences] == [200.0, 100.0]


def test_overlap_is_the_smallest_pairwise_and_shared_areas_the_intersection(make):
    b = make()
    b.service(1, coverage=("L1", "L2", "L3"), amount=10, commissioner="OPCC")
    b.service(2, coverage=("L2", "L3", "L4"), amount=20, commissioner="LCC")  # 500 / 850 with 1
    b.service(3, coverage=("L2", "L3"), amount=40, commissioner="CCG")  # 500 / 600 with 1, 500 / 750 with 2
    b.service(4, themes=("da",), coverage=("D3",), amount=5, commissioner="OPCC")
    b.service(5, themes=("da",), coverage=("D3",), amount=7, commissioner="LCC", end="2016-01-01")  # ended
    result = duplication(b.build(), AS_AT)
    assert [tuple(x) for x in result.groups["service_ids"]] == [(3, 2, 1)]
    g = result.groups.iloc[0]
    assert g["overlap"] == pytest.approx(500 / 850)
    assert g["population"] == 500.0 and g["shared_area_codes"] == ("A1",)
    assert g["money_duplicated"] == 30.0
    sentence = review_force(b.build(), AS_AT).of_kind("duplication")[0].sentence
    assert sentence == ("Three mental health services for adults, funded by three commissioners, overlap at least "
                        "58% in North (£70 a year; up to £30 of it may be duplicated).")


def test_the_same_services_in_two_themes_and_groups_are_one_group(make):
    b = make().service(1, themes=("mh", "da"), groups=("adults", "children"), coverage=("A1",), amount=50,
                       commissioner="OPCC")
    b.service(2, themes=("da", "mh"), groups=("children", "adults"), coverage=("A1",), amount=40, commissioner="LCC")
    groups = duplication(b.build(), AS_AT).groups
    assert len(groups) == 1
    g = groups.iloc[0]
    # Named under the first theme of the themes table (mental health before domestic abuse), then group key.
    assert (g["theme_key"], g["target_group"]) == ("mh", "adults")
    assert g["themes"] == ("mh", "da") and g["target_groups"] == ("adults", "children")


def test_a_group_inside_a_larger_group_of_the_same_theme_is_not_reported(make):
    b = make().theme("fam", "Families")
    b.service(1, themes=("fam", "da"), groups=("children", "young-people"), coverage=("A1",), commissioner="LCC")
    b.service(2, themes=("fam", "da"), groups=("children", "young-people"), coverage=("A1",), commissioner="OPCC")
    b.service(3, themes=("fam",), groups=("children",), coverage=("A1",), commissioner="CCG")
    groups = duplication(b.build(), AS_AT).groups
    # Families: 1, 2 and 3 for children; 1 and 2 for young people too, a part of it: not said again. Domestic abuse:
    # 1 and 2 (a group of another theme, kept), for both target groups.
    assert [(g.theme_key, g.target_group, g.service_ids, g.target_groups) for g in groups.itertuples()] == [
        ("fam", "children", (1, 2, 3), ("children",)), ("da", "children", (1, 2), ("children", "young-people"))]


def test_unknown_funding_is_not_zero(make):
    b = make().service(1, coverage=("A1",), amount=900, commissioner="OPCC")
    b.service(2, coverage=("A1",), amount=0, commissioner="LCC")  # recorded as £0: known
    b.service(3, coverage=("A1",), commissioner="CCG")  # no funding line: unknown
    b.service(4, coverage=("A1",), amount=300, commissioner="X", line_end="2016-03-31")  # line ended: unknown
    g = duplication(b.build(), AS_AT).groups.iloc[0]
    assert g["service_ids"] == (1, 2, 3, 4)
    assert g["combined_funding"] == 900.0 and g["money_duplicated"] == 0.0 and g["n_unknown_funding"] == 2
    assert review_force(b.build(), AS_AT).of_kind("duplication")[0].sentence == (
        "Four mental health services for adults, funded by four commissioners, overlap 100% in North (£900 a year; "
        "the funding of two is not recorded).")


def test_force_wide_groups_are_reported_once_by_the_force_not_by_each_area(make):
    b = make().service(1, coverage=("F",), amount=1000, commissioner="OPCC")
    b.service(2, coverage=("A1", "A2"), amount=400, commissioner="LCC")  # the whole force too
    b.service(3, themes=("da",), coverage=("D3",), amount=50, commissioner="OPCC")
    b.service(4, themes=("da",), coverage=("D3",), amount=60, commissioner="LCC")
    data = b.build()
    groups = duplication(data, AS_AT).groups
    assert groups["force_wide"].tolist() == [True, False]
    force = review_force(data, AS_AT).of_kind("duplication")
    assert [f.sentence for f in force] == [
        "Two mental health services for adults, funded by two commissioners, overlap 100% across Testshire (£1,400 "
        "a year; up to £400 of it may be duplicated).",
        "Two domestic abuse services for adults, funded by two commissioners, overlap 100% in South (£110 a year; "
        "up to £50 of it may be duplicated)."]
    north = review_area(data, "North", AS_AT)
    assert north.of_kind("duplication") == []
    assert north.tables["duplication"]["force_wide"].tolist() == [True]  # kept in its table, flagged
    south = review_area(data, "South", AS_AT)
    assert [f.theme_key for f in south.of_kind("duplication")] == ["da"]
    assert south.tables["duplication"]["force_wide"].tolist() == [True, False]
    gamma = review_area(data, "Gamma", AS_AT).of_kind("duplication")
    assert [f.texts["shared_areas"] for f in gamma] == ["Gamma"]


def test_an_areas_findings_are_the_groups_whose_shared_coverage_lies_in_it(make):
    b = make().service(1, coverage=("A1",), commissioner="OPCC", amount=5)
    b.service(2, coverage=("D1", "D2", "L4"), commissioner="LCC", amount=6)  # 850: 600 / 850 with service 1
    data = b.build()
    assert duplication(data, AS_AT).groups["shared_areas"].tolist() == [("North",)]
    assert len(review_area(data, "North", AS_AT).of_kind("duplication")) == 1
    assert review_area(data, "South", AS_AT).of_kind("duplication") == []  # service 2 reaches South; no overlap


def test_group_ids_follow_money_potentially_duplicated(make):
    b = make()
    b.service(1, coverage=("A1",), amount=1, commissioner="OPCC").service(2, coverage=("A1",), amount=1,
                                                                          commissioner="LCC")
    b.service(3, themes=("da",), coverage=("A2",), amount=500, commissioner="OPCC")
    b.service(4, themes=("da",), coverage=("A2",), amount=5, commissioner="LCC")  # most money, less duplicated
    b.service(5, themes=("yo",), coverage=("A2",), amount=50, commissioner="OPCC")
    b.service(6, themes=("yo",), coverage=("A2",), amount=50, commissioner="LCC")
    groups = duplication(b.build(), AS_AT).groups
    assert groups["group_id"].tolist() == [1, 2, 3]
    assert groups["theme_key"].tolist() == ["yo", "da", "mh"]
    assert groups["money_duplicated"].tolist() == [50.0, 5.0, 1.0]


def test_the_date_decides_which_services_can_duplicate(make):
    b = make().service(1, coverage=("A1",), commissioner="OPCC", amount=10)
    b.service(2, coverage=("A1",), commissioner="LCC", amount=10, end="2016-01-31")
    assert groups_of(b.build()) == []
    assert len(duplication(b.build(), "2015-06-01").groups) == 1


def test_target_group_labels():
    assert group_label("young-people") == "young people"
    assert group_label("bme-communities") == "BME communities"
    assert group_label("older_adults") == "older adults"


def _brute_force_cliques(n, edges):
    adj = {v: set() for v in range(n)}
    for u, v in edges:
        adj[u].add(v)
        adj[v].add(u)
    cliques = []
    for size in range(1, n + 1):
        for c in itertools.combinations(range(n), size):
            if all(v in adj[u] for u, v in itertools.combinations(c, 2)):
                cliques.append(set(c))
    return sorted(sorted(c) for c in cliques if not any(c < d for d in cliques))


def test_maximal_cliques_match_brute_force_on_random_graphs():
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(1, 9)
        p = rng.random()
        edges = [(u, v) for u, v in itertools.combinations(range(n), 2) if rng.random() < p]
        adjacency = {v: set() for v in range(n)}
        for u, v in edges:
            adjacency[u].add(v)
            adjacency[v].add(u)
        assert sorted(maximal_cliques(adjacency)) == _brute_force_cliques(n, edges)


def test_a_big_or_nearly_complete_graph_takes_few_steps():
    adjacency = {v: set(range(1000)) - {v} for v in range(1000)}
    assert maximal_cliques(adjacency) == [list(range(1000))]
    adjacency[0].discard(1)
    adjacency[1].discard(0)
    assert sorted(maximal_cliques(adjacency)) == [[0, *range(2, 1000)], list(range(1, 1000))]


def test_helpers():
    left, right = within_group_pairs([0, 0, 0, 5, 7, 7])
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (4, 5)]
    assert components(5, np.array([3, 1]), np.array([4, 3])).tolist() == [0, 1, 2, 1, 1]


def test_maximal_cliques_list_a_trees_edges_by_first_node_then_second():
    """What `_cliques` relies on to number a tree's cliques without searching it: they are its edges, and those
    sharing a first node come out in the order of their second (the only order the clique ids decide)."""
    rng = random.Random(5)
    for _ in range(500):
        n = rng.randint(2, 12)
        nodes = rng.sample(range(200_000), n)  # large labels: sets do not iterate them in order
        edges = sorted(tuple(sorted((nodes[i], nodes[rng.randrange(i)]))) for i in range(1, n))
        adjacency = {}
        for u, v in edges:
            adjacency.setdefault(u, set()).add(v)
            adjacency.setdefault(v, set()).add(u)
        found = maximal_cliques(adjacency)
        assert sorted(found) == [list(e) for e in edges]
        by_first = {}
        for c in found:
            by_first.setdefault(c[0], []).append(c)
        assert all(cs == sorted(cs) for cs in by_first.values())


def test_cliques_are_each_components_maximal_cliques_in_the_order_that_decides_ties():
    """`_cliques` against a search of every component: the same cliques, and those with the same first node in the
    order `maximal_cliques` lists them (complete components whole, trees by their edges, the rest searched)."""
    rng = random.Random(7)
    for _ in range(60):
        nb = rng.randint(1, 60)
        p = rng.choice([0.05, 0.1, 0.3, 0.7])
        edges = [(u, v) for u, v in itertools.combinations(range(nb), 2) if rng.random() < p]
        size = np.array([rng.randint(1, 2) for _ in range(nb)])
        ea = np.array([u for u, _ in edges], dtype=np.int64)
        eb = np.array([v for _, v in edges], dtype=np.int64)
        cq, bucket = _cliques(nb, size, ea, eb)
        got = {}
        for c, b in zip(cq.tolist(), bucket.tolist(), strict=True):
            got.setdefault(c, []).append(b)
        got = [sorted(got[c]) for c in sorted(got)]
        label = components(nb, ea, eb)
        expected = []
        for comp in sorted(set(label.tolist())):
            nodes = [v for v in range(nb) if label[v] == comp]
            comp_edges = [(u, v) for u, v in edges if label[u] == comp]
            if len(comp_edges) * 2 == len(nodes) * (len(nodes) - 1):
                if size[nodes].sum() >= 2:
                    expected.append(nodes)
                continue
            adjacency = {}
            for u, v in comp_edges:
                adjacency.setdefault(u, set()).add(v)
                adjacency.setdefault(v, set()).add(u)
            expected += maximal_cliques(adjacency)
        assert sorted(got) == sorted(expected)

        def by_first(cliques):
            out = {}
            for c in cliques:
                out.setdefault(c[0], []).append(c)
            return out

        assert by_first(got) == by_first(expected)


def test_array_helpers():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 50, size=400)
    for a, b in zip(unique_inverse(x), np.unique(x, return_inverse=True), strict=True):
        assert np.array_equal(a, b)
    values = np.array(["a", "b", "c", "d"], dtype=object)
    got = _slices(values, np.array([0, 1, 3, 3]), np.array([2, 1, 4, 4]))
    assert got.tolist() == [("a", "b"), (), ("d",), ("d",)] and got.dtype == object
    got = _slices(np.array([10, 20, 30]), np.array([0, 1]), np.array([2, 3]), np.array([2, 0, 1]))
    assert got.tolist() == [(30, 10), (10, 20)] and all(type(v) is int for t in got for v in t)
    assert _slices(values, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []
    first, which = _first_seen([("x",), (), ("x",), ("y", "z"), ()])
    assert first.tolist() == [0, 1, 3] and which.tolist() == [0, 1, 0, 2, 1]
    rows = np.unique(rng.integers(0, 7, size=300) * 10_000 + rng.integers(0, 10_000, size=300))  # sorted
    sets, atoms = rows // 10_000, rows % 10_000
    queries = np.r_[rows, rng.integers(0, 7 * 10_000, size=2000)]
    qs, qa = queries // 10_000, queries % 10_000
    expected = np.isin(queries, rows).tolist()
    for limit in (2**26, 0):  # bits, or (sparse rows) the sorted rows
        holds = _Bitmap(sets, atoms, 7, 10_000, limit)
        assert (holds.keys is None) == (limit > 0) and holds(qs, qa).tolist() == expected
