"""The real ONS geography and the force's grouping of it."""

import json

import pandas as pd
import pytest

from services_db import boundaries

DISTRICTS = {
    "Blackburn with Darwen": "E06000008", "Blackpool": "E06000009", "Burnley": "E07000117", "Chorley": "E07000118",
    "Fylde": "E07000119", "Hyndburn": "E07000120", "Lancaster": "E07000121", "Pendle": "E07000122",
    "Preston": "E07000123", "Ribble Valley": "E07000124", "Rossendale": "E07000125", "South Ribble": "E07000126",
    "West Lancashire": "E07000127", "Wyre": "E07000128",
}


@pytest.fixture(scope="module")
def lsoas():
    return boundaries.force_lsoas(boundaries.load_grouping())


def test_the_14_district_codes_are_right():
    grouping = boundaries.load_grouping()
    assert dict(zip(grouping.districts.district_name, grouping.districts.district_code, strict=True)) == DISTRICTS


def test_all_941_lancashire_lsoas_map_to_exactly_one_district_and_one_area(lsoas):
    assert len(lsoas) == 941
    assert lsoas["lsoa_code"].is_unique
    assert lsoas["lsoa_code"].str.startswith("E01").all()
    assert lsoas["district_code"].notna().all() and lsoas["area_code"].notna().all()
    assert lsoas.groupby("lsoa_code")[["district_code", "area_code"]].nunique().eq(1).all().all()
    assert set(lsoas["district_code"]) == set(DISTRICTS.values())
    assert lsoas["area_code"].nunique() == 9
    # Each LSOA's name begins with its district's name, as ONS names them.
    names = lsoas["district_code"].map({v: k for k, v in DISTRICTS.items()})
    assert all(n.startswith(d + " ") for n, d in zip(lsoas["lsoa_name"], names, strict=True))


def test_the_hierarchy_rows_chain_lsoa_to_force():
    rows = pd.DataFrame(boundaries.area_rows(boundaries.load_grouping()))
    assert rows["level"].value_counts().to_dict() == {"lsoa": 941, "district": 14, "area": 9, "division": 3, "force": 1}
    parent_level = rows.set_index("code")["level"]
    expected = {"lsoa": "district", "district": "area", "area": "division", "division": "force"}
    for level, parent in expected.items():
        parents = rows.loc[rows.level == level, "parent_code"].map(parent_level)
        assert (parents == parent).all(), level
    # Populations add up the hierarchy (rule: 1,614 per LSOA, flagged as an estimate).
    force = rows.loc[rows.level == "force", "population"].item()
    assert force == 941 * boundaries.MEAN_LSOA_POPULATION
    assert rows.loc[rows.level == "area", "population"].sum() == force
    assert rows["population_is_estimate"].all()


def test_grouping_file_with_an_unknown_area_is_refused(tmp_path):
    grouping = boundaries.load_grouping()
    districts = grouping.districts.copy()
    districts.loc[0, "area_code"] = "PBA99"
    districts.to_csv(tmp_path / "districts.csv", index=False)
    grouping.areas.to_csv(tmp_path / "areas.csv", index=False)
    with pytest.raises(boundaries.GeographyError, match=r"districts.csv: area_code \['PBA99'\]"):
        boundaries.load_grouping(tmp_path)


def test_misspelt_district_is_named(tmp_path):
    grouping = boundaries.load_grouping()
    districts = grouping.districts.copy()
    districts.loc[districts.district_name == "Wyre", "district_name"] = "Wyer"
    districts.to_csv(tmp_path / "districts.csv", index=False)
    grouping.areas.to_csv(tmp_path / "areas.csv", index=False)
    with pytest.raises(boundaries.GeographyError, match="Wyer"):
        boundaries.force_lsoas(boundaries.load_grouping(tmp_path))


def test_cached_outlines_are_small_and_keyed_by_code(tmp_path, monkeypatch):
    monkeypatch.setattr(boundaries, "CACHE_DIR", tmp_path)
    paths = boundaries.build_geometry_cache()
    areas = json.loads(paths["area"].read_text())
    assert sorted(f["properties"]["code"] for f in areas["features"]) == [f"PBA0{i}" for i in range(1, 10)]
    assert len(json.loads(paths["lsoa"].read_text())["features"]) == 941
    assert paths["lsoa"].stat().st_size < 2_000_000
    assert paths["district"].stat().st_size < 200_000
    gj = boundaries.map_geojson("district")
    assert {f["id"] for f in gj["features"]} == set(DISTRICTS.values())
