"""Briefing snapshots: a dated PDF and Word briefing per place-based area, built from the area page's functions.

Seed 000 promised "an individual briefing document for the 9 Place Based Chief Inspectors". `build_briefing`
makes one (PDF or .docx), `build_all` makes every area's in one zip; both record the "as at" date and a
fingerprint of the data, so a printed snapshot can be traced and rebuilt. `build_scenario_briefing` makes a what-if
scenario's (the force's or one area's): the same briefing from the scenario's snapshot, watermarked on every page,
with its changes and what they do (`scenario.py`). Never imports streamlit.
"""

from services_db.documents.build import (
    FORMATS,
    BriefingError,
    BuiltBriefing,
    all_filename,
    area_names,
    briefing_filename,
    build_all,
    build_briefing,
    build_scenario_briefing,
    force_of,
    parse_as_at,
    scenario_filename,
)
from services_db.documents.fingerprint import fingerprint

__all__ = ["FORMATS", "BriefingError", "BuiltBriefing", "all_filename", "area_names", "briefing_filename", "build_all",
           "build_briefing", "build_scenario_briefing", "fingerprint", "force_of", "parse_as_at", "scenario_filename"]
