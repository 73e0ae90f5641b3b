"""Building briefings from a database: one area in one format, or all areas in one zip.

This is the only part of `services_db.documents` that reads the database; it gathers the inputs (review frames,
raised gaps, data sources, LSOA boundaries), fingerprints them, and hands them to the pure content builder and
the renderers. The app's buttons and the command line both call `build_briefing` and `build_all`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from services_db.areas import area_profile
from services_db.db import Database
from services_db.documents.content import briefing_content
from services_db.documents.fingerprint import fingerprint
from services_db.documents.model import Briefing, ScenarioMark, file_stem
from services_db.documents.scenario import force_content, scenario_blocks
from services_db.groupings import snapshot_at
from services_db.hierarchy import UnknownAreaName, hierarchy_of
from services_db.queries import review_data
from services_db.raised_gaps import gap_log
from services_db.review.data import ReviewData
from services_db.scenarios.changes import ScenarioError, apply, changes_key
from services_db.scenarios.effects import ScenarioReview, review_scenario
from services_db.scenarios.store import get_scenario, list_scenarios
from services_db.sources import source_titles

FORMATS = {"pdf": ("pdf", "application/pdf"),
           "docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")}
RAISED_COLUMNS = ["id", "raised_at", "area_code", "theme_key", "theme", "description", "status", "status_label"]

Progress = Callable[[int, int, str], None]


class BriefingError(ValueError):
    """A briefing cannot be built as asked; the message says why and, for an area, which names are valid."""

    def __init__(self, message: str, valid: list[str] | None = None, what: str = "areas") -> None:
        super().__init__(message)
        self.valid = valid or []
        self.what = what  # what `valid` lists: "areas" or "scenarios"


@dataclass(frozen=True)
class BuiltBriefing:
    briefing: Briefing
    fmt: str
    content: bytes

    @property
    def filename(self) -> str:
        return f"{self.briefing.file_stem()}.{FORMATS[self.fmt][0]}"

    @property
    def mime(self) -> str:
        return FORMATS[self.fmt][1]


def parse_as_at(text: str | dt.date | None) -> dt.date:
    """A date given as YYYY-MM-DD, or a clear error saying what was wrong with it."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    raw = str(text or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise BriefingError(f"the 'as at' date must be written YYYY-MM-DD (for example 2014-01-27), not {raw!r}")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BriefingError(f"the 'as at' date {raw!r} is not a real date ({exc})") from None


def check_format(fmt: str) -> str:
    key = str(fmt).lower().lstrip(".")
    key = {"word": "docx"}.get(key, key)
    if key not in FORMATS:
        raise BriefingError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return key


def area_names(data: ReviewData) -> list[str]:
    """The place-based areas a briefing can be built for, in the force's own order."""
    areas = data.areas[data.areas["level"] == "area"]
    return [str(n) for n in areas.sort_values("code")["name"]]


def resolve(data: ReviewData, area: str) -> str:
    """The place-based area's code from its name or code (`Hierarchy.resolve`: "and" for "&" and any case or
    spacing forgiven); a `BriefingError` listing the valid names otherwise."""
    try:
        return hierarchy_of(data).resolve(area, ("area",))
    except UnknownAreaName:
        raise BriefingError(f"there is no place-based area called {area!r}", area_names(data)) from None


def raised_gaps(db: Database) -> pd.DataFrame:
    """The gaps Early Action Teams raised, with only the columns the briefing shows (and fingerprints)."""
    log = gap_log(db)
    return log[RAISED_COLUMNS].sort_values("id").reset_index(drop=True)


_SOURCE_COUNTS: dict[str, dict[str, int]] = {}


def data_sources(db: Database) -> list[str]:
    """Where the figures come from: each source file (or estimating rule) and how many records it gave."""
    counts = source_counts(db)
    files = sorted(k for k in counts if not k.startswith("rule:"))
    rules = sorted(k for k in counts if k.startswith("rule:"))
    titles = source_titles()
    out = [f"{titles[k]} ({k}): {counts[k]:,} records" if k in titles else f"{k}: {counts[k]:,} records"
           for k in files]
    out += [f"Estimated by the documented rule \u201c{k.removeprefix('rule:')}\u201d: {counts[k]:,} records"
            for k in rules]
    return out


def source_counts(db: Database) -> dict[str, int]:
    """Records per source file or rule. Counting scans every table (3 s over a national database's 2 million need
    values), so the counts are kept per data version, as the review's frames are."""
    version = db.data_version()
    if version not in _SOURCE_COUNTS:
        _SOURCE_COUNTS.clear()
        _SOURCE_COUNTS[version] = _count_sources(db)
    return dict(_SOURCE_COUNTS[version])


def _count_sources(db: Database) -> dict[str, int]:
    """Records per source, table by table. A table nearly always has one source (a national need table's 2
    million values come from one rule), so each is first read once for its row count and its lowest and highest
    source: when those are the same, that is the answer. Only a table with several sources is grouped, which
    SQLite does by sorting every row (3 s on the national need table, against 1 s for the one read)."""
    from services_db.models import Base

    counts: dict[str, int] = {}
    with db.engine.connect() as c:
        for table in Base.metadata.sorted_tables:
            if "source" not in table.c:
                continue
            src = table.c.source
            total, known, low, high = c.execute(select(func.count(), func.count(src), func.min(src),
                                                       func.max(src))).one()
            if known and low != high:
                rows = list(c.execute(select(src, func.count()).group_by(src)))
            else:
                rows = [(low, known)] if known else []
                rows += [(None, total - known)] if total > known else []
            for source, n in rows:
                key = str(source or "not recorded")
                key = key.split(" \u00a7", 1)[0].strip()
                key = key.split(" (", 1)[0].strip() if key.startswith("rule:") else key
                counts[key] = counts.get(key, 0) + int(n)
    return counts


@dataclass(frozen=True)
class Inputs:
    """Everything read from the database once, shared by every briefing of a batch."""

    data: ReviewData
    raised: pd.DataFrame
    fingerprint: str
    data_updated: str
    sources: list[str]
    features: dict[str, list[dict]] | None


def gather(db: Database, with_map: bool = True, as_at: dt.date | None = None) -> Inputs:
    """What every briefing of a batch shares: the snapshot (with the place-based grouping in force at `as_at`,
    when given), raised gaps, the fingerprint, sources and map features."""
    data = review_data(db) if as_at is None else snapshot_at(db, as_at)
    raised = raised_gaps(db)
    features = None
    if with_map:
        from services_db.boundaries import map_geojson

        features = {level: map_geojson(level)["features"] for level in ("lsoa", "district")}
    return Inputs(data=data, raised=raised, fingerprint=fingerprint(data, {"raised_gaps": raised}),
                  data_updated=db.setting("data_loaded_at") or "", sources=data_sources(db), features=features)


def content_for(inputs: Inputs, area: str, as_at: dt.date) -> Briefing:
    code = resolve(inputs.data, area)
    profile = area_profile(inputs.data, code, as_at, raised_gaps=inputs.raised)
    return briefing_content(profile, inputs.data, fingerprint=inputs.fingerprint, data_updated=inputs.data_updated,
                            sources=inputs.sources, features=inputs.features)


def render(b: Briefing, fmt: str) -> bytes:
    # reportlab and python-docx load on the first briefing drawn, not with every page that offers the button
    if check_format(fmt) == "pdf":
        from services_db.documents.pdf import render_pdf

        return render_pdf(b)
    from services_db.documents.word import render_docx

    return render_docx(b)


def build_briefing(db: Database, area: str, as_at: dt.date | str, fmt: str = "pdf", *,
                   inputs: Inputs | None = None) -> BuiltBriefing:
    """One area's briefing (area given by name or code) as PDF or Word bytes."""
    fmt, day = check_format(fmt), parse_as_at(as_at)
    inputs = inputs or gather(db, as_at=day)
    b = content_for(inputs, area, day)
    return BuiltBriefing(b, fmt, render(b, fmt))


def build_all(db: Database, as_at: dt.date | str, fmt: str = "pdf", progress: Progress | None = None) -> bytes:
    """Every area's briefing in one zip (bytes); `progress(done, total, area_name)` is called after each one."""
    fmt, day = check_format(fmt), parse_as_at(as_at)
    from services_db.documents.word import ZIP_TIME

    inputs = gather(db, as_at=day)
    names = area_names(inputs.data)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for i, name in enumerate(names, start=1):
            built = build_briefing(db, name, day, fmt, inputs=inputs)
            info = zipfile.ZipInfo(built.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, built.content)
            if progress is not None:
                progress(i, len(names), name)
    return out.getvalue()


@dataclass(frozen=True)
class ScenarioInputs:
    """A scenario's side of its briefings, worked out once for a batch: its changes applied to a copy of the
    actual snapshot (`data`), the force review beside the actual one (`review`), and its mark (watermark and a
    fingerprint naming the actual data's and the changes')."""

    mark: ScenarioMark
    data: ReviewData
    review: ScenarioReview
    as_at: dt.date


def gather_scenario(db: Database, name: str, as_at: dt.date | str, inputs: Inputs) -> ScenarioInputs:
    """The scenario called `name` applied to `inputs.data` (never to the records): a `BriefingError` naming the
    scenarios there are when there is none of that name, or saying why its changes no longer apply."""
    day = parse_as_at(as_at)
    try:
        stored = get_scenario(db, name)
    except ScenarioError:
        raise BriefingError(f"there is no scenario called {name!r}", [s.name for s in list_scenarios(db)],
                            "scenarios") from None
    try:
        data = apply(inputs.data, stored.changes)
        review = review_scenario(inputs.data, stored.changes, day)
    except ScenarioError as exc:
        raise BriefingError(f"scenario {name!r} no longer applies to the data: {exc}") from None
    mark = ScenarioMark(stored.name, changes_key(stored.changes), tuple(review.changes))
    return ScenarioInputs(mark=mark, data=data, review=review, as_at=day)


def force_of(data: ReviewData) -> tuple[str, str]:
    """(code, name) of the snapshot's force: the one a force briefing is about."""
    forces = data.areas[data.areas["level"] == "force"].sort_values("code")
    if forces.empty:
        return "", "The force"
    return str(forces["code"].iloc[0]), str(forces["name"].iloc[0])


def scenario_content(inputs: Inputs, si: ScenarioInputs, area: str | None) -> Briefing:
    """The scenario's briefing of `area` (name or code), or of the force when `area` is None."""
    fp = si.mark.fingerprint(inputs.fingerprint)
    if area is None:
        code, name = force_of(si.data)
        return force_content(si.review, si.mark, force_code=code, force_name=name, as_at=si.as_at, fingerprint=fp,
                             data_updated=inputs.data_updated, sources=inputs.sources)
    code = resolve(si.data, area)
    profile = area_profile(si.data, code, si.as_at, raised_gaps=inputs.raised)
    return briefing_content(profile, si.data, fingerprint=fp, data_updated=inputs.data_updated,
                            sources=inputs.sources, features=inputs.features, scenario=si.mark,
                            scenario_blocks=scenario_blocks(si.mark, si.review, si.as_at, profile.name))


def build_scenario_briefing(db: Database, scenario: str, area: str | None, as_at: dt.date | str, fmt: str = "pdf",
                            *, inputs: Inputs | None = None,
                            scenario_inputs: ScenarioInputs | None = None) -> BuiltBriefing:
    """A scenario's briefing, for one area (by name or code) or the force (`area` None), as PDF or Word bytes:
    the ordinary briefing built from the scenario's snapshot, watermarked "Scenario: <name> — not actual
    allocations" on every page, with its changes and what they do. The records are never touched, so the actual
    briefing built after it is the same as before."""
    fmt, day = check_format(fmt), parse_as_at(as_at)
    inputs = inputs or gather(db, with_map=area is not None, as_at=day)
    si = scenario_inputs if scenario_inputs is not None and scenario_inputs.as_at == day else \
        gather_scenario(db, scenario, day, inputs)
    b = scenario_content(inputs, si, area)
    return BuiltBriefing(b, fmt, render(b, fmt))


def scenario_filename(scenario: str, place: str, as_at: dt.date, fmt: str) -> str:
    """The file name of a scenario's briefing of `place` (an area's name, or the force's), known before it is
    built: 'briefing-preston-scenario-csg-to-burnley-2014-01-27.pdf'."""
    return f"{file_stem(place, as_at, scenario)}.{FORMATS[check_format(fmt)][0]}"


def briefing_filename(area_name: str, as_at: dt.date, fmt: str) -> str:
    """The file name a briefing gets, known before it is built (the app's download button needs it up front)."""
    return f"{file_stem(area_name, as_at)}.{FORMATS[check_format(fmt)][0]}"


def all_filename(as_at: dt.date, fmt: str) -> str:
    return f"briefings-all-areas-{as_at.isoformat()}-{check_format(fmt)}.zip"
