"""The review engine: gaps, duplication and inequity in commissioned services, as pure functions over DataFrames.

Input is a `ReviewData` (the review's name for a `services_db.snapshot.Snapshot`); nothing here reads a database
or draws a page, so the pages, the briefing documents and the command line all show the same numbers. Every
threshold is a keyword parameter with the default given in the review specification (review.md).

Entry points:

- `review_force(data, as_at, **params)` and `review_area(data, area, as_at, **params)` -> `Findings`
  (sentences ordered by importance, and the tables behind them);
- the measures one by one: `apportion`, `service_funding`, `provision_shares`, `need_shares`,
  `need_by_indicator`, `gaps`, `duplication`, `inequity`, `funding_cliffs`, `plan_coverage`, `fair_share`;
- `geography_of(snapshot)` (or its areas frame) for the LSOA / district / area lookups.
"""

from services_db.review.apportion import apportion, service_funding, split_pence
from services_db.review.cliffs import Cliffs, funding_cliffs
from services_db.review.data import ReviewData, Snapshot
from services_db.review.duplication import Duplication, duplication
from services_db.review.fair_share import fair_share
from services_db.review.findings import (
    Finding,
    Findings,
    ReviewParams,
    UnknownArea,
    area_names,
    review_area,
    review_force,
)
from services_db.review.gaps import gaps
from services_db.review.geography import Geography, geography_of
from services_db.review.inequity import Inequity, gini, inequity
from services_db.review.plans import PlanCoverage, plan_coverage
from services_db.review.shares import need_by_indicator, need_shares, provision_shares

__all__ = [
    "Cliffs", "Duplication", "Finding", "Findings", "Geography", "Inequity", "PlanCoverage", "ReviewData",
    "ReviewParams", "Snapshot", "UnknownArea", "apportion", "area_names", "duplication", "fair_share",
    "funding_cliffs", "gaps", "geography_of", "gini", "inequity", "need_by_indicator", "need_shares",
    "plan_coverage", "provision_shares", "review_area", "review_force", "service_funding", "split_pence",
]
