"""The seed reports' own cases, on Lancashire's 14 districts in its 9 place-based areas."""

import pytest

from services_db.review import (
    area_names,
    fair_share,
    gaps,
    inequity,
    need_by_indicator,
    review_area,
    review_force,
)

AS_AT = "2014-01-27"
AREAS = [
    ("PBA01", "Blackpool", [("E06000009", "Blackpool")]),
    ("PBA02", "Fylde & Wyre", [("E07000119", "Fylde"), ("E07000128", "Wyre")]),
    ("PBA03", "Lancaster", [("E07000121", "Lancaster")]),
    ("PBA04", "Preston", [("E07000123", "Preston")]),
    ("PBA05", "Chorley & South Ribble", [("E07000118", "Chorley"), ("E07000126", "South Ribble")]),
    ("PBA06", "West Lancashire", [("E07000127", "West Lancashire")]),
    ("PBA07", "Blackburn with Darwen", [("E06000008", "Blackburn with Darwen")]),
    ("PBA08", "Burnley & Pendle", [("E07000117", "Burnley"), ("E07000122", "Pendle")]),
    ("PBA09", "Hyndburn, Ribble Valley & Rossendale",
     [("E07000120", "Hyndburn"), ("E07000124", "Ribble Valley"), ("E07000125", "Rossendale")]),
]


@pytest.fixture
def lancashire(make):
    """Each district one LSOA of 100,000 residents (so £1 is £0.01 per 1,000 residents)."""
    b = make(areas=[]).area("E23000003", "Lancashire", "force")
    b.area("DIV", "All", "division", "E23000003")
    for code, name, districts in AREAS:
        b.area(code, name, "area", "DIV")
        for dcode, dname in districts:
            b.area(dcode, dname, "district", code).area(f"L-{dcode}", f"{dname} 001A", "lsoa", dcode, 100_000.0)
    return b


def test_community_action_fund_pendle_and_rossendale_received_nothing(lancashire):
    """Seed 002: about £35,000 in 24 awards, from every district but Pendle and Rossendale (demo rule 5)."""
    b = lancashire.fund("caf", "Community Action Fund", 50_000)
    aid = 0
    for _, _, districts in AREAS:
        for dcode, dname in districts:
            if dname in ("Pendle", "Rossendale"):
                continue
            for _ in range(2):
                aid += 1
                b.allocation(aid, "caf", 1450, (dcode,), is_estimate=True)
    data = b.build()
    result = inequity(data, fund_key="caf")
    assert result.summary["zero_areas"] == ("Pendle", "Rossendale")
    assert result.summary["total"] == pytest.approx(34_800)
    found = review_force(data, AS_AT).of_kind("inequity")
    assert [f.sentence for f in found] == [
        "Community Action Fund: Pendle and Rossendale received nothing; the other 12 districts received £29.00 per "
        "1,000 residents."]
    # Both areas' Chief Inspectors see it; Preston's does not.
    assert review_area(data, "Burnley & Pendle", AS_AT).of_kind("inequity")[0].sentence == found[0].sentence
    assert review_area(data, "Hyndburn, Ribble Valley and Rossendale", AS_AT).of_kind("inequity")
    assert review_area(data, "Preston", AS_AT).of_kind("inequity") == []


def test_three_top_tier_authorities_at_the_2012_13_ratio(lancashire):
    """Seed 002, Appendix A: Blackburn with Darwen £94,958, Blackpool £95,826, LCC 12 area CSP fund £581,476,
    whose breakdown lines are not counted again."""
    b = lancashire.fund("csf", "Community Safety Fund", 1_794_000)
    lcc = [d for _, _, ds in AREAS for d, _ in ds if d.startswith("E07")]
    b.allocation(1, "csf", 94_958, ("E06000008",)).allocation(2, "csf", 95_826, ("E06000009",))
    b.allocation(3, "csf", 581_476, tuple(lcc))
    b.allocation(4, "csf", 105_000, (), parent=3).allocation(5, "csf", 476_476, (), parent=3)
    data = b.build()
    result = inequity(data, fund_key="csf")
    t = result.table.set_index("area_name")
    assert result.summary["total"] == pytest.approx(94_958 + 95_826 + 581_476)
    assert t.loc["Preston", "amount"] == pytest.approx(581_476 / 12)
    assert t.loc["Blackpool", "per_1000"] == pytest.approx(958.26)
    sentence = review_force(data, AS_AT).of_kind("inequity")[0].sentence
    # The 12 county districts share £581,476 by population: 12 equal lowest rates.
    assert sentence == ("Community Safety Fund: the 14 districts received £485 (12 districts) to £958 (Blackpool) "
                        "per 1,000 residents; the highest is 2.0 times the lowest (Gini 0.10).")


def test_burnley_early_action_gap(lancashire):
    """Seed 001: Burnley has 10.9% of Early Action incidents (Preston 15.5%, Lancaster 14.1%)."""
    b = lancashire.indicator("ea", "Early Action incidents", ("mh",))
    shares = {"E07000123": 15.5, "E07000121": 14.1, "E07000117": 10.9}
    rest = [d for _, _, ds in AREAS for d, _ in ds if d not in shares]
    for code in rest:
        shares[code] = (100 - 15.5 - 14.1 - 10.9) / len(rest)
    for code, pct in shares.items():
        b.need("ea", code, 48_720 * pct / 100, period="2012-10/2013-09")
    # £1,275,000 of mental-health funding ("£1.28m"), £41,000 of it in Burnley.
    b.service(1, "Mental health triage", coverage=tuple(c for c in shares if c != "E07000117"), amount=1_234_000)
    b.service(2, "Burnley project", coverage=("E07000117",), amount=41_000)
    burnley = review_area(b.build(), "Burnley", AS_AT).of_kind("gap")
    assert [f.sentence for f in burnley] == [
        "Burnley has 10.9% of Early Action incidents but 3.2% of mental-health funding (£41,000 of £1.28m); "
        "parity would need about £98,000 more. Its need rate is significantly above the force rate."]


def test_valid_names_list_each_name_once(lancashire):
    names = area_names(lancashire.build())
    assert names[:9] == [a[1] for a in AREAS]
    assert names.count("Preston") == 1 and "Pendle" in names and len(names) == 9 + 14 - 5


# -- the demo data (seeds 001 and 002): missing need is not zero, unknown funding is not £0 (issue 11) -------------

DATES = ("2014-01-27", "2016-07-21")
NO_FIGURE = ("Blackpool", "Blackburn with Darwen")  # seed 001's Early Action figures cover LCC's 12 districts


@pytest.fixture
def demo(demo_db):
    from services_db.queries import review_data

    return review_data(demo_db)


@pytest.mark.parametrize("as_at", DATES)
def test_blackpool_and_blackburn_get_no_gap_or_parity_from_early_action(demo, as_at):
    """Issue 11, problem 1: their need share was 0.000, Blackburn with Darwen looked over-provided and both
    briefings said "Gaps: nothing found"; now they are listed as having no figure."""
    frame = gaps(demo, as_at)
    for name in NO_FIGURE:
        rows = frame[frame["area_name"] == name]
        assert len(rows) > 0 and not rows["has_need_figure"].any() and (rows["reason"] == "no figure").all()
        assert not rows["is_gap"].any() and rows["need_share"].isna().all()
        assert rows["money_to_parity"].isna().all() and rows["provision_share"].isna().all()
        assert rows["significant"].isna().all()
        review = review_area(demo, name, as_at)
        assert [f.sentence for f in review.of_kind("gap")] == [
            f"{name} has no figure for Police incidents recorded, Early Action incidents and Missing-person Early "
            "Action incidents, so no gap in its community-safety, families, mental-health, missing-persons or "
            "vulnerable-adults provision can be measured."]
        assert not review.tables["gaps"]["has_need_figure"].any()
    with_figure = frame[frame["has_need_figure"]]
    assert (with_figure["n_with_figure"] == 7).all() and (with_figure["n_units"] == 9).all()
    assert with_figure["population_share"].groupby(with_figure["theme_key"]).sum().round(9).eq(1.0).all()
    districts = need_by_indicator(demo, level="district", indicators=("early-action-incidents",))
    districts = districts.set_index("area_name")
    assert districts.loc["Preston", "need_share"] == pytest.approx(0.155)
    assert districts.loc[list(NO_FIGURE), "need_share"].isna().all()
    assert districts["need_share"].sum() == pytest.approx(1.0)  # over the 12 districts with a figure


def test_a_needs_based_fair_share_names_the_areas_with_no_figure(demo):
    """Issue 11, problem 1: a 50/50 population/need fair share put Blackpool far "over" its share (its need
    counted as nothing); now its weights are re-normalised over population, never zero."""
    weights = {"population": 1, "early-action-incidents": 1}
    frame = fair_share(demo, "csg-2013-14", weights=weights).set_index("area_name")
    total = frame["actual"].sum()
    for name in NO_FIGURE:
        assert frame.loc[name, "no_figure"] == "Early Action incidents"
        assert frame.loc[name, "fair_share"] == pytest.approx(total * frame.loc[name, "share_population"])
        assert frame.loc[name, "fair_share"] > 0
    assert frame["fair_share"].sum() == pytest.approx(total)
    sentence = review_force(demo, AS_AT, fair_share_weights=weights).of_kind("fair_share")[0].sentence
    assert "Blackpool and Blackburn with Darwen have no Early Action incidents figure" in sentence


def test_prestons_families_finding_counts_services_with_unknown_funding(demo):
    """Issue 11, problem 3: "Preston has 15.5% of Early Action incidents but 0.0% of families funding (£0 of
    £10,000)" beside a table of current families services whose funding is simply not recorded."""
    review = review_area(demo, "Preston", AS_AT)
    row = review.tables["gaps"].set_index("theme_key").loc["families"]
    assert row["reason"] == "funding not recorded" and not row["is_gap"]
    assert row["services"] >= row["unknown_funding"] >= 1
    found = [f for f in review.of_kind("gap") if f.theme_key == "families"]
    assert len(found) == 1
    sentence = found[0].sentence
    assert "families services cover Preston" in sentence
    assert "not recorded" in sentence or "none of their funding is recorded" in sentence
    assert "parity" not in sentence
    assert found[0].figures["services"] == row["services"]


@pytest.mark.parametrize("as_at", DATES)
def test_need_but_no_provision_only_where_no_current_service_covers_the_area(demo, as_at):
    """Issue 11, problem 3: Burnley & Pendle's vulnerable-adults "need but no provision" beside six services."""
    frame = gaps(demo, as_at)
    none = frame[frame["reason"] == "need but no provision"]
    assert (none["services"] == 0).all()
    unknown = frame[frame["reason"] == "funding not recorded"]
    assert (unknown["unknown_funding"] > 0).all() and not unknown["is_gap"].any()
