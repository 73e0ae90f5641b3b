"""A documented national grouping: 348 districts of England and Wales into 43 force areas and place-based areas.

No official district → police force area table ships with the project (the boundaries package has LSOAs only,
keyed by code and by a name that begins with the district's name), so the national dataset uses a deterministic
geometric rule instead, computed once from the real LSOA boundaries and kept in `data/national/`:

1. **Districts** are the LSOA names minus their suffix ("Preston 001A" → Preston), as ONS names them. The 14
   Lancashire districts keep their real GSS codes from `data/geography/districts.csv`; every other district gets
   a synthetic code `LAD-E001`…, `LAD-W001`… (country letter from its LSOA codes, numbered alphabetically), so
   no made-up code can be mistaken for a real GSS code.
2. **Forces**: Lancashire is the real force (E23000003) with its real 14 districts, 9 place-based areas and 3
   divisions from `data/geography/`. The 22 Welsh districts form 4 forces and the remaining 312 English districts
   form 38, so there are 43 in all, as in England and Wales. Each country's districts are split by **recursive
   weighted bisection** of their centroids (British National Grid, the mean of their LSOA centroids): a set that
   must become k forces is sorted along its wider extent (x or y; ties by name) and cut where the running LSOA
   count reaches k₁/k of the total (k₁ = k // 2); each side is split again into k₁ and k − k₁. This gives compact,
   contiguous-looking forces of similar size (about 800 LSOAs each, like Lancashire's 941). Forces are numbered
   north to south (by centroid y, descending): `PFA-01`…; each is named after its largest district.
3. **Place-based areas**: a force with n districts gets round(n × 9 / 14) areas (at least 1), Lancashire's
   ratio, by the same bisection within the force; **divisions**: min(3, number of areas), by bisection of the
   area centroids. Codes `PFA-07-A03`, `PFA-07-D2`; an area of up to three districts is named "A, B & C", a
   larger one "A & n others".

`build_grouping()` recomputes the grouping from the boundaries (a few seconds); `write_grouping()` stores it; the
generator reads the stored files with `load_national_grouping()` so it never touches geometry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from services_db.boundaries import GEOGRAPHY_DIR, load_grouping, read_lsoas
from services_db.db import DATA_DIR

NATIONAL_DIR = DATA_DIR / "national"
WALES_FORCES = 4
ENGLAND_FORCES = 38  # besides Lancashire: 43 force areas in all
AREAS_PER_DISTRICT = 9 / 14  # Lancashire's 9 place-based areas for 14 districts
MAX_DIVISIONS = 3


@dataclass(frozen=True)
class NationalGrouping:
    """districts: district_code, district_name, area_code, lsoas, x, y; areas: as data/geography/areas.csv."""

    districts: pd.DataFrame
    areas: pd.DataFrame

    def forces(self) -> pd.DataFrame:
        return self.areas.drop_duplicates("force_code")[["force_code", "force_name"]].reset_index(drop=True)


def bisect(frame: pd.DataFrame, k: int) -> list[pd.DataFrame]:
    """Split rows with x, y, weight, name into k groups of similar total weight by recursive bisection."""
    frame = frame.reset_index(drop=True)
    if k <= 1 or len(frame) <= 1:
        return [frame]
    k = min(k, len(frame))
    k1 = k // 2
    axis = "x" if np.ptp(frame["x"].to_numpy()) >= np.ptp(frame["y"].to_numpy()) else "y"
    ordered = frame.sort_values([axis, "name"], kind="mergesort").reset_index(drop=True)
    cum = ordered["weight"].cumsum().to_numpy()
    target = cum[-1] * k1 / k
    cut = int(np.argmin(np.abs(cum - target))) + 1  # rows [0, cut) go left
    cut = min(max(cut, k1), len(ordered) - (k - k1))  # each side keeps at least one row per group
    return bisect(ordered.iloc[:cut], k1) + bisect(ordered.iloc[cut:], k - k1)


def _name_of(names: list[str]) -> str:
    names = sorted(names)
    if len(names) <= 3:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " & " + names[-1]
    return f"{names[0]} & {len(names) - 1} others"


def _centre(group: pd.DataFrame) -> tuple[float, float]:
    w = group["weight"].to_numpy(dtype=float)
    return float(np.average(group["x"], weights=w)), float(np.average(group["y"], weights=w))


def district_centroids() -> pd.DataFrame:
    """One row per district: name, country (E/W), LSOA count and centroid (metres, British National Grid)."""
    lsoas = read_lsoas()
    pts = lsoas.geometry.to_crs(27700).centroid
    frame = pd.DataFrame({"name": lsoas["district_name"], "country": lsoas["lsoa_code"].str[0],
                          "x": pts.x.to_numpy(), "y": pts.y.to_numpy()})
    out = frame.groupby("name", sort=True).agg(country=("country", "first"), weight=("x", "size"),
                                               x=("x", "mean"), y=("y", "mean")).reset_index()
    return out


def build_grouping(geography_dir: Path = GEOGRAPHY_DIR) -> NationalGrouping:
    """Apply the rule in the module docstring to the real boundaries."""
    cents = district_centroids()
    lancs = load_grouping(geography_dir)
    lancs_names = set(lancs.districts["district_name"])
    codes: dict[str, str] = dict(zip(lancs.districts["district_name"], lancs.districts["district_code"], strict=True))
    for country in ("E", "W"):
        names = cents.loc[(cents["country"] == country) & ~cents["name"].isin(lancs_names), "name"]
        for i, name in enumerate(sorted(names), start=1):
            codes[name] = f"LAD-{country}{i:03d}"
    cents["district_code"] = cents["name"].map(codes)

    forces = []
    for country, k in (("E", ENGLAND_FORCES), ("W", WALES_FORCES)):
        pool = cents[(cents["country"] == country) & ~cents["name"].isin(lancs_names)]
        forces.extend(bisect(pool, k))
    forces.sort(key=lambda g: -_centre(g)[1])

    district_rows: list[dict] = []
    area_rows: list[dict] = []
    lancs_slot = next(i for i, g in enumerate(forces) if _centre(g)[1] < _centre(
        cents[cents["name"].isin(lancs_names)])[1])
    numbered: list[pd.DataFrame | None] = forces[:lancs_slot] + [None] + forces[lancs_slot:]
    for number, group in enumerate(numbered, start=1):
        if group is None:  # Lancashire: the real grouping
            for d in lancs.districts.itertuples():
                row = cents.loc[cents["name"] == d.district_name].iloc[0]
                district_rows.append(dict(district_code=d.district_code, district_name=d.district_name,
                                          area_code=d.area_code, lsoas=int(row.weight), x=row.x, y=row.y))
            area_rows.extend(lancs.areas.to_dict("records"))
            continue
        fcode = f"PFA-{number:02d}"
        largest = group.sort_values(["weight", "name"], ascending=[False, True]).iloc[0]["name"]
        fname = f"{largest} force area"
        n_areas = max(1, round(len(group) * AREAS_PER_DISTRICT))
        areas = sorted(bisect(group, n_areas), key=lambda g: (-_centre(g)[1], _centre(g)[0]))
        area_frame = pd.DataFrame([dict(name=f"{i}", x=_centre(a)[0], y=_centre(a)[1], weight=a["weight"].sum())
                                   for i, a in enumerate(areas)])
        divisions = bisect(area_frame, min(MAX_DIVISIONS, len(areas)))
        divisions.sort(key=lambda g: (-_centre(g)[1], _centre(g)[0]))
        division_of = {int(a): j for j, div in enumerate(divisions, start=1) for a in div["name"]}
        for i, a in enumerate(areas):
            acode = f"{fcode}-A{i + 1:02d}"
            dnum = division_of[i]
            area_rows.append(dict(area_code=acode, area_name=_name_of(a["name"].tolist()),
                                  division_code=f"{fcode}-D{dnum}", division_name=f"{fname} division {dnum}",
                                  force_code=fcode, force_name=fname))
            for d in a.sort_values("name").itertuples():
                district_rows.append(dict(district_code=d.district_code, district_name=d.name, area_code=acode,
                                          lsoas=int(d.weight), x=d.x, y=d.y))
    districts = pd.DataFrame(district_rows)
    districts["x"] = districts["x"].round(1)
    districts["y"] = districts["y"].round(1)
    return NationalGrouping(districts=districts, areas=pd.DataFrame(area_rows))


def write_grouping(grouping: NationalGrouping, directory: Path = NATIONAL_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    grouping.districts.to_csv(directory / "districts.csv", index=False)
    grouping.areas.to_csv(directory / "areas.csv", index=False)


def load_national_grouping(directory: Path = NATIONAL_DIR) -> NationalGrouping:
    """The stored grouping (see the module docstring); build and store it first if it is missing."""
    if not (directory / "districts.csv").exists():
        write_grouping(build_grouping(), directory)
    districts = pd.read_csv(directory / "districts.csv", dtype={"district_code": str, "district_name": str,
                                                               "area_code": str})
    areas = pd.read_csv(directory / "areas.csv", dtype=str)
    return NationalGrouping(districts=districts, areas=areas)
