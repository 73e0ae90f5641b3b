"""Questions for partners (review.md v2): every finding ends in a question to partners named from the data, built
from the finding's own figures; each finding says whether it is about the area or the whole force."""

from __future__ import annotations

import pytest

from services_db.queries import review_data
from services_db.review import review_area, review_force
from services_db.review.questions import join_names

AS_AT = "2016-07-21"
DATES = ("2014-01-27", "2016-07-21")


def organisations(data) -> set[str]:
    """Every organisation the data name: commissioners, providers, fund and plan owners."""
    names = set(data.funding_lines["commissioner"].dropna()) | set(data.services["provider"].dropna())
    names |= {c for t in data.services["commissioners"] for c in t}
    names |= set(data.funds["owner"].dropna()) | set(data.plans["owner"].dropna())
    return {str(n) for n in names if str(n).strip()}


def check_question(f, orgs: set[str], numbers_in, extra_names: set[str] = frozenset()) -> None:
    assert f.question, f"no question for {f.sentence!r}"
    assert f.question.endswith("?"), f.question
    assert any(o in f.question for o in orgs), f"names nobody from the data: {f.question!r}"
    shown = numbers_in(f.question, {**f.texts, **{f"org{i}": o for i, o in enumerate(sorted(orgs | extra_names))}})
    assert set(shown) <= set(f.figures.values()), f"{f.question!r} shows {shown}, the finding {dict(f.figures)}"


@pytest.mark.parametrize("as_at", DATES)
def test_every_demo_finding_asks_named_partners_with_its_own_figures(demo_db, as_at, numbers):
    data = review_data(demo_db)
    orgs = organisations(data)
    labels = set(data.funds["name"].dropna()) | set(data.plans["name"].dropna())
    areas = data.areas[data.areas["level"] == "area"]["name"].tolist()
    assert len(areas) == 9
    for area in areas:
        review = review_area(data, area, as_at)
        assert len(review), f"{area} has no findings at {as_at}"
        for f in review:
            check_question(f, orgs, numbers, labels)
            assert f.scope in ("area", "force")
        assert {f.scope for f in review.of_kind("inequity")} <= {"force"}
        assert {f.scope for f in review.of_kind("gap") + review.of_kind("cliff") + review.of_kind("plan")} <= {"area"}
    for f in review_force(data, as_at):
        check_question(f, orgs, numbers, labels)


@pytest.fixture
def case(make):
    b = make().fund("caf", "Community Action Fund", 50000)
    b.allocation(1, "caf", 1450, ("D1",)).allocation(2, "caf", 1450, ("D3",))
    b.service(1, "Triage", themes=("yo",), coverage=("A1",), amount=6000, line_end="2017-03-31",
              commissioner="Health Board")
    b.service(2, "Help Direct", coverage=("F",), amount=1000, commissioner="County Council", provider="P2")
    b.service(3, "Help Again", coverage=("F",), amount=2000, commissioner="City Council", provider="P3")
    b.service(4, "Sahara", themes=("da",), coverage=("A1",), amount=3000, commissioner="OPCC")
    b.indicator("dai", "domestic abuse incidents", ("da",)).need("dai", "D1", 10).need("dai", "D3", 90)
    b.plan("pcp", "Police and Crime Plan").priority("pvp", "pcp", "Protecting vulnerable people").link(1, "pvp")
    return b


def test_each_kind_asks_the_partners_who_can_act(case):
    data = case.build()
    south = review_area(data, "South", AS_AT)
    gap = south.of_kind("gap")[0]
    # need with no provision in the area: the theme's commissioners are asked whether provision can reach it
    assert gap.question.startswith("OPCC, who commission domestic-abuse services: ")
    assert "South" in gap.question
    theme = next(f for f in south.of_kind("inequity") if f.theme_key == "da")
    assert theme.scope == "force"
    assert theme.question == ("OPCC, who commission domestic-abuse services: why did Gamma receive no domestic-abuse "
                              "funding while other districts did? Were services offered there?")

    north = review_area(data, "North", AS_AT)
    fund = next(f for f in north.of_kind("inequity") if f.texts["label"] == "Community Action Fund")
    assert fund.scope == "force"
    # the fund's owner is asked about the area's own district that received nothing
    assert fund.question == ("OPCC, which holds the fund: why did Beta receive nothing? Were applications made, "
                             "and was it eligible?")
    cliff = north.of_kind("cliff")[0]
    assert cliff.question.startswith("Health Board, who fund it: who will decide what replaces the ")
    assert cliff.question.endswith("before it ends on 31 March 2017?")
    dup = review_force(data, AS_AT).of_kind("duplication")
    assert dup, "two mental-health services of two councils cover the whole force"
    assert dup[0].scope == "force"
    assert "City Council" in dup[0].question and "County Council" in dup[0].question
    assert "align or pool" in dup[0].question
    plan_or_unlinked = [f for f in north if f.kind in ("plan", "unlinked")]
    for f in plan_or_unlinked:
        assert f.question


def test_unknown_funding_asks_whoever_runs_the_services_to_record_it(make):
    b = make().service(1, "Triage", coverage=("A1",), amount=6000, commissioner="Health Board")
    b.service(4, "Sahara", themes=("da",), coverage=("A1",), amount=3000, commissioner="OPCC")
    b.service(5, "Refuge", themes=("da",), coverage=("A2",), provider="Women's Aid", commissioners=())
    b.indicator("dai", "domestic abuse incidents", ("da",)).need("dai", "D1", 10).need("dai", "D2", 10)
    b.need("dai", "D3", 90)
    (gap,) = review_area(b.build(), "South", AS_AT).of_kind("gap")
    assert "not recorded" in gap.sentence
    assert gap.question == ("Women's Aid, who run the domestic-abuse services there: will you record the funding of "
                            "the domestic-abuse services covering South, so that provision can be weighed against "
                            "need?")


def test_the_question_is_in_the_record_and_the_table(case):
    review = review_force(case.build(), AS_AT)
    record = review.findings[0].record()
    assert record["question"] == review.findings[0].question and record["scope"] in ("area", "force")
    assert list(review.table()["question"]) == [f.question for f in review]


def test_names_are_joined_as_a_reader_expects():
    assert join_names([]) == ""
    assert join_names(["A"]) == "A"
    assert join_names(["A", "B", "A"]) == "A and B"
    assert join_names(["A", "B", "C"]) == "A, B and C"
    assert join_names(["A", "B", "C", "D"]) == "A, B, C and others"
