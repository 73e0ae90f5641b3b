"""Geography helpers: coverage at any level to LSOAs, LSOA -> district -> area, populations."""

import math

import numpy as np
import pandas as pd
import pytest

from services_db.review import review_force
from services_db.review.geography import NATION, Geography, geography_of


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


def _two_forces(make, root=None):
    """A national-like hierarchy: two forces (first "Northshire") side by side, each with its own LSOAs; `root`
    (code, name) puts a common parent above them."""
    b = make(areas=[])
    if root is not None:
        b.area(root[0], root[1], "country")
    for f, name in [("F1", "Northshire"), ("F2", "Southshire")]:
        b.area(f, name, "force", root[0] if root else None, math.nan)
        b.area(f"{f}-D", f"{name} district", "district", f, math.nan)
        b.area(f"{f}-L", f"{name} 001A", "lsoa", f"{f}-D", 100.0)
    return b


def test_a_national_snapshot_names_the_nation_not_its_first_force(make):
    """Across 43 forces with no common root the whole is England and Wales, never the first force's name; one
    force is named itself, and forces under a common root are named after it."""
    assert Geography(_two_forces(make).build().areas).force_name == NATION == "England and Wales"
    assert Geography(_two_forces(make, ("UK", "United Kingdom")).build().areas).force_name == "United Kingdom"
    assert geography_of(make().build().areas).force_name == "Testshire"
    assert Geography(make(areas=[("L1", "L1", "lsoa", None, 1.0)]).build().areas).force_name == "the force"


def test_a_national_review_speaks_of_the_nation(make):
    b = _two_forces(make).service(1, themes=("mh",), coverage=("F1",), amount=1000, end="2016-12-31")
    b.service(2, themes=("mh",), coverage=("F2",), amount=3000, end="2016-12-31")
    found = review_force(b.build(), "2016-07-21")
    assert found.scope_name == NATION
    across = [f.sentence for f in found.findings if f.sentence.startswith("Across ")]
    assert across and all(s.startswith("Across England and Wales, ") for s in across)
    assert not any("Northshire" in f.sentence for f in found.findings)


def test_positions_of_arrow_text_match_those_of_python_strings(make):
    geo = Geography(make().build().areas)
    codes = ["L1", "D3", None, "NOPE", "F", "L5"] * 400  # over 1,000 codes: the hash-table path
    arrow = geo.positions(pd.Series(codes, dtype="str"))
    assert arrow.tolist() == geo.positions(pd.Series(codes, dtype=object)).tolist()
    assert arrow[:6].tolist() == [geo.code_pos["L1"], geo.code_pos["D3"], -1, -1, geo.code_pos["F"],
                                  geo.code_pos["L5"]]
