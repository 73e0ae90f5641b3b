"""Geography helpers: coverage at any level to LSOAs, LSOA -> district -> area, populations."""

import math

import numpy as np
import pytest

from services_db.review.geography import Geography, geography_of


def codes(geo, idx):
    return sorted(geo.lsoa_codes[idx].tolist())


def test_coverage_at_each_level_expands_to_the_lsoas_under_it(make):
    geo = geography_of(make().build().areas)
    assert codes(geo, geo.lsoas_under(["L4"])) == ["L4"]
    assert codes(geo, geo.lsoas_under(["D1"])) == ["L1", "L2"]
    assert codes(geo, geo.lsoas_under(["A1"])) == ["L1", "L2", "L3"]
    assert codes(geo, geo.lsoas_under(["F"])) == ["L1", "L2", "L3", "L4", "L5"]
    # Overlapping codes give each LSOA once; an unknown code adds nothing.
    assert codes(geo, geo.lsoas_under(["D1", "A1", "L1", "NOPE"])) == ["L1", "L2", "L3"]


def test_expand_returns_unique_key_lsoa_pairs_sorted(make):
    geo = geography_of(make().build().areas)
    keys, lsoas = geo.expand(np.array([1, 0, 1, 0]), geo.positions(["D3", "L1", "L4", "D1"]))
    assert list(zip(keys.tolist(), geo.lsoa_codes[lsoas].tolist(), strict=True)) == [
        (0, "L1"), (0, "L2"), (1, "L4"), (1, "L5")]


def test_units_and_populations_add_up_from_lsoas(make):
    geo = geography_of(make().build().areas)
    d = geo.units("district")
    assert d.codes.tolist() == ["D1", "D2", "D3"]
    assert d.population.tolist() == [400.0, 200.0, 400.0]
    assert d.codes[d.of_lsoa].tolist() == ["D1", "D1", "D2", "D3", "D3"]
    a = geo.units("area")
    assert a.population.tolist() == [600.0, 400.0]
    assert geo.units("lsoa").population.tolist() == [100.0, 300.0, 200.0, 250.0, 150.0]


def test_lookup_gives_district_and_area_of_every_lsoa(make):
    look = geography_of(make().build().areas).lookup().set_index("lsoa_code")
    assert look.loc["L4", ["district_code", "district_name", "area_code", "area_name"]].tolist() == [
        "D3", "Gamma", "A2", "South"]
    assert look.loc["L3", "population"] == 200.0


def test_unknown_populations_count_as_an_average_lsoa_and_all_unknown_means_equal(make):
    b = make(areas=[])
    for code, name, level, parent, pop in [("F", "F", "force", None, math.nan), ("D", "D", "district", "F", math.nan),
                                           ("L1", "L1", "lsoa", "D", math.nan), ("L2", "L2", "lsoa", "D", math.nan)]:
        b.area(code, name, level, parent, pop)
    geo = Geography(b.build().areas)
    assert geo.population.tolist() == [1.0, 1.0]
    assert geo.population_is_estimate.all()

    b = make()
    b.rows["areas"][7]["population"] = math.nan  # L1
    geo = Geography(b.build().areas)
    assert geo.population.tolist() == [225.0, 300.0, 200.0, 250.0, 150.0]  # mean of the known four
    assert geo.population_is_estimate.tolist() == [True, False, False, False, False]


def test_resolve_by_code_or_name_ignoring_case_spacing_and_and(make):
    b = make().area("A3", "Burnley & Pendle", "area", "V", 0.0)
    geo = Geography(b.build().areas)
    assert geo.codes[geo.resolve("north")] == "A1"
    assert geo.codes[geo.resolve("  A2 ")] == "A2"
    assert geo.codes[geo.resolve("GAMMA")] == "D3"
    assert geo.codes[geo.resolve("burnley and  pendle")] == "A3"
    with pytest.raises(KeyError):
        geo.resolve("Nowhere")
    assert geo.names_at() == ["North", "South", "Burnley & Pendle", "Alpha", "Beta", "Gamma"]


def test_geography_is_cached_per_frame_object(make):
    data = make().build()
    assert geography_of(data.areas) is geography_of(data.areas)
    assert geography_of(make().build().areas) is not geography_of(data.areas)


def test_duplicate_area_codes_are_refused(make):
    b = make().area("L1", "again", "lsoa", "D1", 1.0)
    with pytest.raises(ValueError, match="not unique"):
        Geography(b.build().areas)
