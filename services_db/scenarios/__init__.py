"""What-if scenarios (issue "Plan the next year"): named drafts of changes reviewed beside the actual data."""

from services_db.scenarios.changes import (
    AddService,
    Change,
    ChangeCoverage,
    EndService,
    ExtendFunding,
    FairShareReallocation,
    MoveMoney,
    ScenarioError,
    apply,
    change_from_dict,
)
from services_db.scenarios.effects import ScenarioReview, review_scenario

__all__ = ["AddService", "Change", "ChangeCoverage", "EndService", "ExtendFunding", "FairShareReallocation",
           "MoveMoney", "ScenarioError", "ScenarioReview", "apply", "change_from_dict", "review_scenario"]
