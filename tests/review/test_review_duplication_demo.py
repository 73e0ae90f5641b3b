"""Issue 11 (2) on the demo data: every duplication group is one theme and one target group whose members all
overlap; force-wide groups are the force's findings, never an area's."""

import pytest

from services_db.queries import review_data
from services_db.review import area_names, review_area, review_force

DATES = ("2014-01-27", "2016-07-21")


@pytest.fixture
def data(demo_db):
    return review_data(demo_db)


@pytest.mark.parametrize("as_at", DATES)
def test_every_group_is_one_theme_and_target_group_whose_members_all_overlap(data, as_at):
    force = review_force(data, as_at)
    groups, pairs = force.tables["duplication"], force.tables["duplication_pairs"]
    assert len(groups), "the demo data have duplication at both dates"
    services = data.services.set_index("service_id")
    for g in groups.itertuples():
        assert isinstance(g.theme_key, str) and isinstance(g.target_group, str)
        for sid in g.service_ids:
            assert g.theme_key in services.loc[sid, "themes"], (g.theme_key, services.loc[sid, "name"])
            assert g.target_group in services.loc[sid, "target_groups"]
        p = pairs[pairs["group_id"] == g.group_id]
        assert len(p) == g.n_services * (g.n_services - 1) // 2
        assert (p["jaccard"] >= 0.5 - 1e-9).all() and set(p["theme_key"]) == {g.theme_key}
        assert g.overlap == pytest.approx(p["jaccard"].min())
        assert g.money_duplicated <= g.combined_funding


@pytest.mark.parametrize("as_at", DATES)
def test_force_wide_groups_are_reported_once_by_the_force_and_by_no_area(data, as_at):
    force = review_force(data, as_at)
    groups = force.tables["duplication"]
    n_force_wide = int(groups["force_wide"].sum())
    across = [f for f in force.of_kind("duplication") if "across Lancashire" in f.sentence]
    assert len(across) == n_force_wide
    assert len(force.of_kind("duplication")) == len(groups)
    for name in area_names(data):
        area = review_area(data, name, as_at)
        table = area.tables["duplication"]
        found = area.of_kind("duplication")
        wide = [bool(w) for w in table["wide"]] if len(table) else []
        assert len(found) == wide.count(False) if len(table) else not found
        assert len(area.across) == wide.count(True)
        assert not any("across Lancashire" in f.sentence for f in found), name
        if len(table):  # the force-wide groups stay in the area's table, flagged, for a briefing's force section
            assert int(table["force_wide"].astype(bool).sum()) == n_force_wide
            assert all(area.scope_code in codes for codes in table["shared_area_codes"])


@pytest.mark.parametrize("as_at", DATES)
def test_blackpools_reoffending_groups_hold_only_reoffending_services(data, as_at):
    """The issue: Blackpool's "four reoffending services" included the CCTV hub, which has no reoffending theme."""
    services = data.services.set_index("service_id")
    table = review_area(data, "Blackpool", as_at).tables["duplication"]
    for g in table[table["theme_key"] == "reoffending"].itertuples():
        names = [services.loc[s, "name"] for s in g.service_ids]
        assert all("reoffending" in services.loc[s, "themes"] for s in g.service_ids), names
        assert not any("CCTV" in n for n in names)


@pytest.mark.parametrize("as_at", DATES)
def test_groups_over_most_of_the_force_are_asked_once_in_the_force_section_not_by_each_area(data, as_at):
    """Issue 11: Preston's 2014 review listed 14 duplication groups, 13 of them the same county-wide groups over
    the 12 Lancashire County Council districts (7 of the 9 areas) that every other county area listed too."""
    force = review_force(data, as_at)
    county = [r for r in force.tables["duplication"].to_dict("records")
              if not r["force_wide"] and len(r["shared_area_codes"]) == 7]
    assert all(r["wide"] for r in county)
    assert county, "the demo data have county-wide groups at both dates"
    for name in ("Preston", "Burnley & Pendle", "Lancaster"):
        area = review_area(data, name, as_at)
        own = " ".join(f.sentence for f in area.of_kind("duplication"))
        assert "four other areas" not in own, name
        assert len(area.across) >= len(county)
        assert all(f.question for f in area.across)
    preston = review_area(data, "Preston", "2014-01-27")
    assert len(preston.of_kind("duplication")) == 1
    assert "Preston and Chorley & South Ribble" in preston.of_kind("duplication")[0].sentence
