"""Duplication: overlap rule, different commissioner or provider, connected components, group figures."""

import pytest

from services_db.review import duplication, review_force
from services_db.review.duplication import components, within_group_pairs

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
    assert g["combined_funding"] == 6500.0
    assert g["overlap"] == 1.0 and g["population"] == 600.0
    assert g["shared_areas"] == ("North",) and g["shared_area_codes"] == ("A1",)
    assert g["theme_key"] == "mh" and g["target_groups"] == ("adults",)
    assert result.pairs[["service_id_a", "service_id_b", "jaccard"]].values.tolist() == [[1, 2, 1.0]]


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


def test_same_commissioner_and_provider_is_not_duplication(make):
    b = make().service(1, coverage=("A1",), commissioner="OPCC").service(2, coverage=("A1",), commissioner="OPCC")
    assert groups_of(b.build()) == []


def test_same_commissioner_but_different_providers_is(make):
    b = make().service(1, coverage=("A1",), provider="P1").service(2, coverage=("A1",), provider="P2")
    g = duplication(b.build(), AS_AT).groups.iloc[0]
    assert g["n_commissioners"] == 1 and g["n_providers"] == 2
    sentence = review_force(b.build(), AS_AT).of_kind("duplication")[0].sentence
    assert sentence == "Two mental health services run by two providers overlap 100% in North (£0 a year)."


def test_no_shared_target_group_or_theme_means_no_overlap(make):
    b = make().service(1, coverage=("A1",), groups=("adults",), commissioner="OPCC")
    b.service(2, coverage=("A1",), groups=("children",), commissioner="LCC")
    b.service(3, coverage=("A1",), themes=("da",), commissioner="CCG")
    b.service(4, coverage=("A1",), groups=(), commissioner="X")
    assert groups_of(b.build()) == []


def test_a_chain_of_overlaps_is_one_group(make):
    b = make()
    b.service(1, coverage=("A1",), amount=100, commissioner="OPCC")  # 600
    b.service(2, coverage=("F",), amount=200, commissioner="LCC")  # 1,000: 0.6 with each of the others
    b.service(3, coverage=("D2", "D3"), amount=300, commissioner="CCG")  # 600; 200/1000 = 0.2 with service 1
    result = duplication(b.build(), AS_AT)
    assert len(result.groups) == 1
    g = result.groups.iloc[0]
    assert g["service_ids"] == (3, 2, 1)
    assert g["overlap"] == 1.0  # every LSOA is covered by at least two of them
    assert g["shared_areas"] == ("North", "South")
    assert g["combined_funding"] == 600.0
    pairs = result.pairs[["service_id_a", "service_id_b"]].values.tolist()
    assert pairs == [[1, 2], [2, 3]]
    sentence = review_force(b.build(), AS_AT).of_kind("duplication")[0].sentence
    assert sentence == ("Three mental health services funded by three commissioners overlap 100% in North and South "
                        "(£600 a year).")


def test_separate_groups_and_partial_overlap_figures(make):
    b = make()
    b.service(1, coverage=("L1", "L2", "L3"), amount=10, commissioner="OPCC")
    b.service(2, coverage=("L2", "L3", "L4"), amount=20, commissioner="LCC")  # 500 / 850
    b.service(3, themes=("da",), coverage=("D3",), amount=5, commissioner="OPCC")
    b.service(4, themes=("da",), coverage=("D3",), amount=7, commissioner="LCC", end="2016-01-01")  # ended
    result = duplication(b.build(), AS_AT)
    assert [tuple(x) for x in result.groups["service_ids"]] == [(2, 1)]
    g = result.groups.iloc[0]
    assert g["overlap"] == pytest.approx(500 / 850)
    assert g["shared_areas"] == ("North",)


def test_group_ids_follow_combined_funding(make):
    b = make()
    b.service(1, coverage=("A1",), amount=1, commissioner="OPCC").service(2, coverage=("A1",), amount=1,
                                                                          commissioner="LCC")
    b.service(3, themes=("da",), coverage=("A2",), amount=50, commissioner="OPCC")
    b.service(4, themes=("da",), coverage=("A2",), amount=50, commissioner="LCC")
    groups = duplication(b.build(), AS_AT).groups
    assert groups["group_id"].tolist() == [1, 2]
    assert groups["theme_key"].tolist() == ["da", "mh"]


def test_helpers():
    left, right = within_group_pairs([0, 0, 0, 5, 7, 7])
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 2), (1, 2), (4, 5)]
    import numpy as np

    assert components(5, np.array([3, 1]), np.array([4, 3])).tolist() == [0, 1, 2, 1, 1]
