"""review_force / review_area: ordering, tables, area lookup, and every number of a sentence in its row."""

import json
import math

import pandas as pd
import pytest

from services_db.review import UnknownArea, area_names, review_area, review_force

AS_AT = "2016-07-21"


@pytest.fixture
def case(make):
    b = make().fund("caf", "Community Action Fund", 50000)
    b.allocation(1, "caf", 1450, ("D1",)).allocation(2, "caf", 1450, ("D2",))
    b.service(1, "Mental health triage", coverage=("A1",), amount=6000, line_end="2017-03-31", commissioner="OPCC")
    b.service(2, "Help Direct", coverage=("F",), amount=1000, commissioner="LCC", provider="P2")
    b.service(4, "Sahara", themes=("da",), coverage=("A2",), amount=3000)
    b.service(9, "Nowhere", coverage=(), amount=123)
    b.indicator("ea", "Early Action incidents", ("mh",))
    b.need("ea", "D1", 100).need("ea", "D2", 100).need("ea", "D3", 300)
    b.indicator("dai", "domestic abuse incidents", ("da",)).need("dai", "L1", 50).need("dai", "L3", 50)
    b.need("dai", "L4", 0)  # South has a figure too: none (missing need is not zero, review.md v2)
    b.plan("pcp", "Police and Crime Plan").priority("pvp", "pcp", "Protecting vulnerable people").link(1, "pvp")
    return b


def test_force_review_orders_findings_by_money(case):
    found = review_force(case.build(), AS_AT)
    assert [(f.kind, f.importance) for f in found] == [
        ("cliff", 6000.0), ("gap", 3800.0), ("gap", 3000.0),
        ("inequity", pytest.approx(1800.0)), ("inequity", pytest.approx(1160.0)),
        ("duplication", 1000.0),  # money potentially duplicated: £7,000 less the largest service's £6,000
        ("data", 123.0),
        ("unlinked", pytest.approx(math.nan, nan_ok=True)),
    ]
    assert found.scope_name == "Testshire" and found.level == "area"
    assert found.as_at == pd.Timestamp(AS_AT)
    assert found.params["need_ratio"] == 1.2 and found.params["min_overlap"] == 0.5
    assert found.sentences()[-2] == ("One service with £123 a year of current funding has no recorded coverage, "
                                     "so its money is left out of the shares.")


def test_every_number_in_a_sentence_is_in_its_row(case, numbers):
    data = case.build()
    for review in [review_force(data, AS_AT), *(review_area(data, a, AS_AT) for a in area_names(data))]:
        table = review.table()
        for i, f in enumerate(review.findings):
            row = table.iloc[i]
            assert row["sentence"] == f.sentence
            shown = numbers(f.sentence, f.texts)
            assert sorted(shown) == sorted(f.figures.values()), f.sentence
            for key, value in f.figures.items():
                assert row[key] == value


def test_figures_are_the_table_values_rounded(case):
    review = review_force(case.build(), AS_AT)
    gap = review.of_kind("gap")[0]
    row = review.tables["gaps"].iloc[0]
    assert gap.figures["need_share"] == round(row["need_share"] * 100, 1)
    assert gap.figures["provision"] == round(row["provision"], -1)
    dup = review.of_kind("duplication")[0]
    assert dup.figures["combined_funding"] == review.tables["duplication"].iloc[0]["combined_funding"]


def test_area_review_by_name_code_or_district(case):
    data = case.build()
    south = review_area(data, "south", AS_AT)
    assert (south.scope_code, south.scope_name, south.level) == ("A2", "South", "area")
    # The duplicated services overlap only in North; Domestic abuse funding's empty districts are in North.
    assert [f.kind for f in south] == ["gap", "inequity", "data", "plan", "unlinked"]
    assert set(south.tables["gaps"]["area_code"]) == {"A2"}
    assert set(south.tables["inequity"]["area_code"]) == {"D3"}
    north = review_area(data, "A1", AS_AT)
    assert [f.kind for f in north] == ["cliff", "gap", "inequity", "duplication", "data", "unlinked"]
    gamma = review_area(data, "Gamma", AS_AT)
    assert gamma.level == "district" and gamma.params["inequity_level"] == "district"
    assert gamma.tables["gaps"]["area_code"].unique().tolist() == ["D3"]


def test_unknown_area_lists_the_valid_names(case):
    with pytest.raises(UnknownArea) as err:
        review_area(case.build(), "Narnia", AS_AT)
    assert err.value.valid == ["North", "South", "Alpha", "Beta", "Gamma"]
    assert "Narnia" in str(err.value)


def test_unknown_parameter_is_refused(case):
    with pytest.raises(TypeError, match="need_ration"):
        review_force(case.build(), AS_AT, need_ration=2)
    with pytest.raises(ValueError):
        review_force(case.build(), AS_AT, level="division")


def test_parameters_change_the_result_and_are_shown(case):
    review = review_force(case.build(), AS_AT, min_overlap=0.99, cliff_months=3)
    assert review.of_kind("duplication") == [] and review.of_kind("cliff") == []
    assert review.params["min_overlap"] == 0.99 and review.params["cliff_months"] == 3


def test_table_and_json(case):
    review = review_force(case.build(), AS_AT)
    table = review.table()
    assert table.columns[:8].tolist() == ["rank", "kind", "area_code", "area_name", "theme_key", "importance",
                                          "is_estimate", "sentence"]
    assert table["rank"].tolist() == list(range(1, len(review) + 1))
    doc = json.loads(review.to_json())
    assert doc["as_at"] == AS_AT and len(doc["findings"]) == len(review)
    dup = next(f for f in doc["findings"] if f["kind"] == "duplication")
    assert dup["figures"]["combined_funding"] == 7000.0 and dup["figures"]["money_duplicated"] == 1000.0
    assert doc["findings"][-1]["importance"] is None


def test_an_empty_force(make):
    review = review_force(make().build(), AS_AT)
    assert len(review) == 0 and review.table().empty
    assert review_area(make().build(), "North", AS_AT).findings == []
