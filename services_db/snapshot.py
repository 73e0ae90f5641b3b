"""A `Snapshot`: the data at one data version, as plain DataFrames, read once by `services_db.queries.review_data`.

One snapshot per data version, immutable. What is derived from it once and shared by every reader is held on
it as a lazily built attribute, so there is one memo per data version and it goes when the snapshot goes:

- `hierarchy`: the area tree (`services_db.hierarchy.Hierarchy`; `hierarchy_of(snapshot)` returns it);
- `prepared`: the review's arrays (`services_db.review.context.Prepared`; `prepared_of(snapshot)` returns it).

`version` is the data version the snapshot was read at (`Database.data_version()`), "" for one built by hand or
changed with `dataclasses.replace` (a changed copy is no longer that version; the memo is the snapshot object,
not its version). It is a keyword of the constructor, not a dataclass field, so `dataclasses.fields(snapshot)`
is the twelve frames (as the fingerprint and the copy helpers expect).

This module sits below `review/`, need, funds and the directory: at import time it needs only
`services_db.hierarchy` (`prepared` imports the review when first asked for).

The review is pure arithmetic over these frames so that it can be tested with hand-built cases, property
tests and a national-size generator without a database, and so the same numbers reach the pages, the
briefings and the command line.

Column contract (every frame may be empty but always has these columns):

areas
    code (str, PK), name (str), level ("lsoa" | "district" | "area" | "division" | "force"),
    parent_code (str | None), population (float, NaN when unknown), population_is_estimate (bool).
    Every LSOA has a district parent, every district an area parent, and so on up to the force.
services
    service_id (int), name, provider (organisation name), provider_sector, tier ("primary" | "secondary" |
    "tertiary" | None), status, start_date, end_date (datetime64[ns], NaT when open), end_date_is_estimate (bool),
    themes (tuple[str] of theme keys), target_groups (tuple[str] of target-group keys),
    commissioners (tuple[str] of organisation names, from its funding lines).
    Optional: known_from; outside_population (float, default 0): residents the service covers outside `areas`.
    A snapshot of one force (`services_db.queries.review_data`) holds only that force's areas, but a national or
    regional service keeps its whole funding; the review splits it over the force's LSOAs and these residents
    together, so the force gets the share of the money the national review gives it, not all of it.
funding_lines
    service_id (int), commissioner (str), fund_key (str | None), annual_amount (float, £ a year),
    start_date, end_date (datetime64[ns], NaT when open), is_estimate (bool).
coverage
    service_id (int), area_code (str, any level of the hierarchy).
indicators
    indicator_key (str), name, unit, higher_is ("worse" | "better" | "neutral"),
    themes (tuple[str] of theme keys the indicator measures need for).
need
    indicator_key, area_code (any level, usually lsoa or district), period (str), value (float),
    numerator (float, NaN), denominator (float, NaN), is_estimate (bool).
funds
    fund_key, name, money_source, financial_year ("2013-14"), total_amount (float), owner,
    start_date, end_date (optional; the fund's period), eligible_area_codes (optional tuple[str]: the areas the
    fund is open to, any level; empty means the whole force).
allocations
    allocation_id (int), fund_key, recipient (str | None), service_id (float/NaN when none),
    amount (float), purpose, priorities (tuple[str] of priority keys),
    area_codes (tuple[str], any level; empty means the whole force), planned_start, planned_end (datetime64[ns]),
    is_estimate (bool), parent_allocation_id (float/NaN; a breakdown row of another allocation),
    status (optional; "applied" | "awarded" | "paid" | "withdrawn", default "awarded": only awarded and paid
    money counts), areas_are_estimate (optional bool: the areas were placed by a rule, not given by the source).
plans
    plan_key, name, owner, start_date, end_date, area_codes (tuple[str]; empty means the whole force).
priorities
    priority_key, plan_key, name.
service_priorities
    service_id (int), priority_key.
themes
    theme_key, name.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from services_db.hierarchy import Hierarchy, hierarchy_of

if TYPE_CHECKING:
    from services_db.review.context import Prepared

COLUMNS: dict[str, list[str]] = {
    "areas": ["code", "name", "level", "parent_code", "population", "population_is_estimate"],
    "services": [
        "service_id", "name", "provider", "provider_sector", "tier", "status", "start_date", "end_date",
        "end_date_is_estimate", "themes", "target_groups", "commissioners",
    ],
    "funding_lines": ["service_id", "commissioner", "fund_key", "annual_amount", "start_date", "end_date", "is_estimate"],
    "coverage": ["service_id", "area_code"],
    "indicators": ["indicator_key", "name", "unit", "higher_is", "themes"],
    "need": ["indicator_key", "area_code", "period", "value", "numerator", "denominator", "is_estimate"],
    "funds": ["fund_key", "name", "money_source", "financial_year", "total_amount", "owner"],
    "allocations": [
        "allocation_id", "fund_key", "recipient", "service_id", "amount", "purpose", "priorities", "area_codes",
        "planned_start", "planned_end", "is_estimate", "parent_allocation_id",
    ],
    "plans": ["plan_key", "name", "owner", "start_date", "end_date", "area_codes"],
    "priorities": ["priority_key", "plan_key", "name"],
    "service_priorities": ["service_id", "priority_key"],
    "themes": ["theme_key", "name"],
}

# Columns added after the first version of the contract: a frame without them gets the default, so hand-built
# cases (and older callers) keep working. A callable default is called with the frame's length.
OPTIONAL: dict[str, dict[str, object]] = {
    "services": {"known_from": pd.NaT, "outside_population": 0.0},
    "allocations": {"status": "awarded", "areas_are_estimate": False},
    "funds": {"start_date": pd.NaT, "end_date": pd.NaT, "eligible_area_codes": ()},
}

LEVELS = ("lsoa", "district", "area", "division", "force")


@dataclass(frozen=True, eq=False)
class _Frames:
    """The twelve frames of the column contract, checked and completed with the optional columns: the dataclass
    fields of a `Snapshot` (`dataclasses.fields(snapshot)` and `__dataclass_fields__` are these and only these)."""

    areas: pd.DataFrame
    services: pd.DataFrame
    funding_lines: pd.DataFrame
    coverage: pd.DataFrame
    indicators: pd.DataFrame
    need: pd.DataFrame
    funds: pd.DataFrame
    allocations: pd.DataFrame
    plans: pd.DataFrame
    priorities: pd.DataFrame
    service_priorities: pd.DataFrame
    themes: pd.DataFrame

    def __post_init__(self) -> None:
        for f in fields(self):
            frame = getattr(self, f.name)
            absent = {c: v for c, v in OPTIONAL.get(f.name, {}).items() if c not in frame.columns}
            if absent:
                frame = frame.copy()
                for c, v in absent.items():
                    frame[c] = [v] * len(frame) if isinstance(v, tuple) else v
                    if v is pd.NaT:
                        frame[c] = pd.to_datetime(frame[c])
                object.__setattr__(self, f.name, frame)
            missing = [c for c in COLUMNS[f.name] if c not in frame.columns]
            if missing:
                raise ValueError(f"Snapshot.{f.name} lacks columns {missing}")


class Snapshot(_Frames):
    """The data at one data version, as frames (see the module docstring for the columns), and what is derived
    from them once: `hierarchy` and `prepared`. Frames are treated as immutable; equality and hashing are by
    identity (two snapshots of the same data are still two memos).

    `Snapshot(areas=..., ..., themes=..., version="...")`: the frames as keywords (or in field order), and the data
    version they were read at (default "").
    """

    version: str = ""  # a plain attribute, not a dataclass field; set once, by __init__

    def __init__(self, *frames: pd.DataFrame, version: str = "", **named: pd.DataFrame) -> None:
        object.__setattr__(self, "version", str(version))
        super().__init__(*frames, **named)

    def __setattr__(self, name: str, value: object) -> None:  # frozen, `version` and any new attribute included
        raise FrozenInstanceError(f"cannot assign to {name!r}: a Snapshot does not change")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete {name!r}: a Snapshot does not change")

    # -- derived once per snapshot: kept in the instance __dict__ by cached_property (frozen does not stop it) ----

    @cached_property
    def hierarchy(self) -> Hierarchy:
        """The area tree of `areas` (shared with `hierarchy_of(self.areas)`)."""
        return hierarchy_of(self.areas)

    @cached_property
    def prepared(self) -> Prepared:
        """The review's arrays of this snapshot, built on first use (`services_db.review.context.Prepared`)."""
        from services_db.review.context import Prepared

        return Prepared(self)

    def __getstate__(self) -> dict:
        """Pickled and copied without the derived attributes: a copy derives its own."""
        return {k: v for k, v in self.__dict__.items() if k not in _DERIVED}


_DERIVED = ("hierarchy", "prepared")


def empty_frame(name: str) -> pd.DataFrame:
    """An empty frame with the contract's columns, for building test cases piece by piece."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*COLUMNS[name], *OPTIONAL.get(name, {})]})
