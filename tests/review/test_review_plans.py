"""Plans coverage: priorities nothing current answers in an area; services answering no priority."""

import pytest

from services_db.review import plan_coverage, review_area, review_force

AS_AT = "2016-07-21"


@pytest.fixture
def case(make):
    b = make().plan("pcp", "Police and Crime Plan", start="2013-04-01", end="2017-03-31")
    b.priority("pvp", "pcp", "Protecting vulnerable people").priority("tco", "pcp", "Tackling crime")
    b.plan("old", "Old Plan", end="2015-03-31").priority("x", "old", "Gone")
    b.plan("south", "South Plan", area_codes=("D3",)).priority("s1", "south", "Southern priority")
    b.service(1, coverage=("A1",), amount=100).link(1, "pvp")
    b.service(2, coverage=("A2",), amount=50, end="2016-01-01").link(2, "tco")  # ended: does not count
    b.service(3, coverage=("L4",), amount=20).link(3, "x")  # linked only to an old plan's priority
    b.service(4, coverage=("F",), amount=5)
    return b


def test_priorities_per_area(case):
    frame = plan_coverage(case.build(), AS_AT).priorities
    got = {(r.area_code, r.priority_key): (r.linked_services, r.linked_services_force, r.unanswered)
           for r in frame.itertuples()}
    assert got == {
        ("A1", "pvp"): (1, 1, False), ("A2", "pvp"): (0, 1, True),
        ("A1", "tco"): (0, 0, True), ("A2", "tco"): (0, 0, True),
        ("A2", "s1"): (0, 0, True),
    }


def test_unlinked_services(case):
    unlinked = plan_coverage(case.build(), AS_AT).unlinked
    assert unlinked["service_id"].tolist() == [3, 4]
    assert unlinked["area_codes"].tolist() == [("A2",), ("A1", "A2")]
    assert unlinked["annual_funding"].tolist() == [20.0, 5.0]


def test_sentences(case):
    force = review_force(case.build(), AS_AT)
    assert [f.sentence for f in force.of_kind("plan")] == [
        "No current service is linked to \u201cSouthern priority\u201d, a priority of the South Plan.",
        "No current service is linked to \u201cTackling crime\u201d, a priority of the Police and Crime Plan.",
    ]
    assert [f.sentence for f in force.of_kind("unlinked")] == [
        "Two current services (£25 a year) are linked to no priority of a current plan."]
    south = review_area(case.build(), "South", AS_AT)
    assert [f.sentence for f in south.of_kind("plan")] == [
        "No current service in South is linked to \u201cProtecting vulnerable people\u201d, a priority of the "
        "Police and Crime Plan.",
        "No current service in South is linked to \u201cSouthern priority\u201d, a priority of the South Plan.",
        "No current service in South is linked to \u201cTackling crime\u201d, a priority of the Police and Crime Plan.",
    ]
    north = review_area(case.build(), "North", AS_AT)
    assert [f.sentence for f in north.of_kind("unlinked")] == [
        "One current service in North (£5 a year) is linked to no priority of a current plan."]


def test_only_services_current_by_the_one_rule_answer_a_priority(make):
    """Review.md v2: a planned service, one starting later and one first known after the date (a missing start
    counts from its known-from date) answer no priority and count in no table; the plan period uses the same
    period rule (services_db.counting.period_contains)."""
    import dataclasses

    import pandas as pd

    b = make().plan("pcp", "Police and Crime Plan", start="2013-04-01", end="2017-03-31")
    b.priority("pvp", "pcp", "Protecting vulnerable people")
    b.service(1, coverage=("A1",), amount=100, status="planned").link(1, "pvp")
    b.service(2, coverage=("A1",), amount=50, start="2017-01-01").link(2, "pvp")
    b.service(3, coverage=("A1",), amount=20).link(3, "pvp")  # no start date: known only from 2016-09-01
    data = b.build()
    services = data.services.copy()
    services["known_from"] = pd.to_datetime(["2014-01-01", "2014-01-01", "2016-09-01"])
    data = dataclasses.replace(data, services=services)

    def north(day):
        frame = plan_coverage(data, day).priorities
        row = frame[(frame["area_code"] == "A1") & (frame["priority_key"] == "pvp")]
        return int(row["linked_services"].iloc[0]) if len(row) else None

    assert north(AS_AT) == 0  # 21 July 2016: nothing current answers it
    assert north("2016-09-01") == 1  # service 3 is known from this day
    assert north("2017-01-01") == 2  # service 2 starts
    assert north("2017-04-01") is None  # the plan has ended: its priorities no longer apply
    assert [f.sentence for f in review_area(data, "North", AS_AT).of_kind("plan")] == [
        "No current service in North is linked to \u201cProtecting vulnerable people\u201d, a priority of the "
        "Police and Crime Plan."]
