"""Inequity over several forces (the national review): a fund with no eligible areas recorded is open to its own
force, the forces its allocations reach, not to every district in England and Wales.

Before this rule a Bradford community safety fund listed some 340 districts of the other forces, Preston among
them, as having "received nothing": a false claim in every area's review on national data."""

from __future__ import annotations

import math

from services_db.review import inequity, review_area, review_force


def _two_forces(make):
    """Two forces side by side, two districts each (100 residents in each district)."""
    b = make(areas=[])
    for f, name in [("F1", "Northshire"), ("F2", "Southshire")]:
        b.area(f, name, "force", None, math.nan)
        for d in ("a", "b"):
            b.area(f"{f}-{d}", f"{name} {d}", "district", f, math.nan)
            b.area(f"{f}-{d}-L", f"{name} {d} 001A", "lsoa", f"{f}-{d}", 100.0)
    return b


def test_a_fund_without_eligible_areas_is_open_to_its_own_force_only(make):
    b = _two_forces(make).fund("nf", "Northshire Community Safety Fund", 1000)
    b.allocation(1, "nf", 1000, ("F1-a",))
    result = inequity(b.build(), fund_key="nf")
    t = result.table.set_index("area_code")
    assert t.loc[["F1-a", "F1-b"], "eligible"].tolist() == [True, True]
    assert t.loc[["F2-a", "F2-b"], "eligible"].tolist() == [False, False]
    assert result.summary["zero_codes"] == ("F1-b",)  # not Southshire's districts
    assert result.summary["n_areas"] == 2


def test_a_fund_reaching_two_forces_is_open_to_both_and_recorded_eligibility_still_rules(make):
    b = _two_forces(make).fund("both", "Shared Fund", 1000).fund("listed", "Listed Fund", 1000, eligible=("F2-a",
                                                                                                          "F2-b"))
    b.allocation(1, "both", 500, ("F1-a",)).allocation(2, "both", 500, ("F2-a",))
    b.allocation(3, "listed", 1000, ("F2-a",))
    data = b.build()
    assert inequity(data, fund_key="both").summary["zero_codes"] == ("F1-b", "F2-b")
    assert inequity(data, fund_key="listed").summary["zero_codes"] == ("F2-b",)


def test_national_findings_about_a_fund_name_only_its_forces_districts(make):
    b = _two_forces(make).fund("nf", "Northshire Community Safety Fund", 1000)
    b.allocation(1, "nf", 1000, ("F1-a",))
    data = b.build()
    said = [f.sentence for f in review_force(data, "2016-07-21").findings if f.kind == "inequity"]
    assert said and all("Southshire" not in s for s in said) and any("Northshire b" in s for s in said)
    assert not [f for f in review_area(data, "F2-a", "2016-07-21").findings if f.kind == "inequity"]
