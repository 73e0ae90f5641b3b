"""The service directory for commissioners: one row per service, a keyword search and filters, and a detail view.

The rows are built from the review's frames (so a service's annual funding here is the figure the review
apportions) plus the descriptive columns the review does not need (description, eligibility, contact...), read
once by `service_extras`. Filtering is pure pandas so it is instant on a warm page and testable without a
database. "Covers" means any LSOA in common: a county-wide service covers every district, and a district
service covers each of its LSOAs.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Collection
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import select

from services_db.counting import CURRENT, period_contains, service_states
from services_db.db import Database
from services_db.hierarchy import UnknownAreaName, hierarchy_of, normalise_name
from services_db.models import Service
from services_db.queries import scoped_service_ids
from services_db.review.apportion import service_funding
from services_db.review.context import Context
from services_db.review.data import ReviewData
from services_db.review.shares import funding_known
from services_db.sources import readable_source

EXTRA_COLUMNS = ["service_id", "key", "description", "eligibility", "referral_route", "contact", "capacity",
                 "address", "confidential_location", "last_reviewed", "source"]


def service_extras(db: Database, force: str | None = None) -> pd.DataFrame:
    """The descriptive columns the review frames leave out, of the services the snapshot of `force` holds
    (`queries.review_scope`; None: what the database is configured for): every service of the demo, unfiltered;
    one force's of a national database, filtered in SQL (`queries.scoped_service_ids`), since reading all 100,000
    services' descriptions for one force's 3,000 took seconds. One row per service, in no promised order."""
    stmt = select(Service.id.label("service_id"), Service.key, Service.description, Service.eligibility,
                  Service.referral_route, Service.contact, Service.capacity, Service.address,
                  Service.confidential_location, Service.last_reviewed, Service.source)
    ids = scoped_service_ids(db, force)
    if ids is not None:
        stmt = stmt.where(Service.id.in_(ids))
    with db.engine.connect() as c:
        result = c.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _names(keys: object, lookup: dict[str, str]) -> str:
    if not isinstance(keys, tuple) or not keys:
        return ""
    return "; ".join(lookup.get(k, k) for k in keys)


def directory_frame(data: ReviewData, extras: pd.DataFrame, as_at: dt.date | pd.Timestamp,
                    service_ids: Collection[int] | None = None) -> pd.DataFrame:
    """One row per service with everything the directory shows and filters on.

    Columns: service_id, key, name, description, provider, provider_sector, tier, status, start_date, end_date,
    end_date_is_estimate, theme_keys, themes (names), target_group_keys, commissioners (names, "; "-joined),
    commissioner_list, annual_funding (£ a year at `as_at`; NaN, never 0, when no current funding line records
    it), funding_recorded, funding_is_estimate, funding_ends (last end of its
    funding lines), funding_from and funding_from_amount (the first start after `as_at` of its funding lines and
    the £ a year from then, `upcoming_funding`), funding_text (`funding_text`), coverage_codes, coverage (names), state (what it is at `as_at` by `services_db.counting`:
    current, planned, not yet started, ended, withdrawn), is_current, plus the `extras` columns. `service_ids`
    limits the rows (an area page needs only the services covering it, not a nation's 100,000).
    """
    services = data.services if service_ids is None else data.services[data.services["service_id"].isin(service_ids)]
    services = services.copy()
    theme_name = dict(zip(data.themes["theme_key"], data.themes["name"], strict=False))
    tree = hierarchy_of(data)  # built once per snapshot: no pass over 35,000 Arrow strings
    services["theme_keys"] = services["themes"]
    services["themes"] = services["theme_keys"].map(lambda t: _names(t, theme_name))
    services["target_group_keys"] = services["target_groups"]
    services["commissioner_list"] = services["commissioners"].map(lambda t: t if isinstance(t, tuple) else ())
    services["commissioners"] = services["commissioner_list"].map("; ".join)
    known = services["known_from"] if "known_from" in services.columns else None
    services["state"] = service_states(services["status"], services["start_date"], services["end_date"], as_at,
                                       known)
    services["is_current"] = services["state"] == CURRENT

    # A service with no current funding line with an amount has *unknown* funding, not £0 (review.md v2): its
    # annual_funding is NaN and funding_recorded False, so pages say "not recorded" and totals leave it out.
    funding = service_funding(data, as_at).set_index("service_id")["annual_funding"]
    ctx = Context(data, as_at)
    recorded = pd.Series(funding_known(ctx), index=ctx.service_ids)
    services["funding_recorded"] = services["service_id"].map(recorded).fillna(False).astype(bool)
    services["annual_funding"] = services["service_id"].map(funding).where(services["funding_recorded"])
    lines, coverage = data.funding_lines, data.coverage
    if service_ids is not None:
        lines = lines[lines["service_id"].isin(service_ids)]
        coverage = coverage[coverage["service_id"].isin(service_ids)]
    services["funding_is_estimate"] = services["service_id"].map(
        lines.groupby("service_id")["is_estimate"].any()).fillna(False).astype(bool)
    services["funding_ends"] = services["service_id"].map(lines.groupby("service_id")["end_date"].max())
    # Money that starts after the date (a planned service funded from April 2014) is shown as what it is, never as
    # £0 nor folded into "not recorded": the amount a year at the first later start, and that start.
    later = upcoming_funding(lines, as_at)
    for col in ("funding_from", "funding_from_amount"):  # reindex: Series.map of an empty Series of dates raises
        services[col] = later[col].reindex(services["service_id"]).to_numpy()
    services["funding_text"] = [
        funding_text(r, a, e, f, fa) for r, a, e, f, fa in zip(
            services["funding_recorded"], services["annual_funding"], services["funding_is_estimate"],
            services["funding_from"], services["funding_from_amount"], strict=True)]

    cov = coverage.sort_values(["service_id", "area_code"]).groupby("service_id")["area_code"].agg(tuple)
    services["coverage_codes"] = services["service_id"].map(cov).map(lambda t: t if isinstance(t, tuple) else ())
    services["coverage"] = services["coverage_codes"].map(lambda t: "; ".join(tree.name_of(c, c) for c in t))
    out = services.drop(columns=["target_groups"]).merge(extras, on="service_id", how="left")
    for col in ("key", "description", "eligibility", "referral_route", "contact", "capacity", "address", "source"):
        out[col] = out[col].fillna("")
    return out.sort_values("name", key=lambda s: s.str.lower()).reset_index(drop=True)


@dataclass
class DirectoryFilter:
    """What a commissioner asked for; empty fields do not filter."""

    keyword: str = ""
    themes: list[str] = field(default_factory=list)  # theme keys: any of them
    target_groups: list[str] = field(default_factory=list)  # group keys: any of them
    tiers: list[str] = field(default_factory=list)
    covers: str | None = None  # an area code at any level: services covering any LSOA of it
    commissioners: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    funding_ends_before: dt.date | None = None
    states: list[str] = field(default_factory=list)  # what a service is at the date (counting.CURRENT, PLANNED...)


def _holds_any(column: pd.Series, wanted: list[str]) -> pd.Series:
    """Whether each row's collection (theme keys, target group keys, commissioners) holds any of `wanted`: the
    filters that take several values match a service that has one of them."""
    keys = set(wanted)
    return column.map(lambda t: bool(keys & set(t)))


def search(frame: pd.DataFrame, f: DirectoryFilter, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of `directory_frame` that match every filter; the keyword matches name or description, every
    word of it somewhere (case-insensitive). `areas` (ReviewData.areas) is needed for the `covers` filter."""
    mask = pd.Series(True, index=frame.index)
    words = [w for w in f.keyword.lower().split() if w]
    if words:
        text = (frame["name"].fillna("") + " " + frame["description"].fillna("")).str.lower()
        for w in words:
            mask &= text.str.contains(w, regex=False)
    if f.themes:
        mask &= _holds_any(frame["theme_keys"], f.themes)
    if f.target_groups:
        mask &= _holds_any(frame["target_group_keys"], f.target_groups)
    if f.tiers:
        mask &= frame["tier"].isin(f.tiers)
    if f.covers:
        if areas is None:
            raise ValueError("search(covers=...) needs the areas frame")
        touching = hierarchy_of(areas).touching(f.covers)
        mask &= ~frame["coverage_codes"].map(touching.isdisjoint).astype(bool)
    if f.commissioners:
        mask &= _holds_any(frame["commissioner_list"], f.commissioners)
    if f.providers:
        mask &= frame["provider"].isin(f.providers)
    if f.sectors:
        mask &= frame["provider_sector"].isin(f.sectors)
    if f.funding_ends_before:
        cutoff = pd.Timestamp(f.funding_ends_before)
        mask &= frame["funding_ends"].notna() & (frame["funding_ends"] < cutoff)
    if f.states:
        mask &= frame["state"].isin(f.states)
    return frame[mask].reset_index(drop=True)


def current_totals(results: pd.DataFrame) -> tuple[int, float]:
    """How many of the rows are current at the frame's date and their annual funding: the directory's totals
    count current services only (a planned or ended service's money is not money at the date)."""
    current = results[results["is_current"]]
    return len(current), float(current["annual_funding"].sum())


EXPORT_COLUMNS = {
    "key": "Key", "name": "Service", "provider": "Provider", "provider_sector": "Sector", "commissioners":
    "Commissioners", "tier": "Prevention tier", "themes": "Themes", "coverage": "Covers", "annual_funding":
    "Annual funding (£)", "funding_recorded": "Funding recorded", "funding_is_estimate": "Funding is an estimate",
    "start_date": "Starts", "end_date": "Ends",
    "end_date_is_estimate": "End date is an estimate", "status": "Status", "state": "At the date",
    "description": "Description",
    "eligibility": "Eligibility", "referral_route": "Referral route", "contact": "Contact", "source": "Source",
}


def export_frame(results: pd.DataFrame) -> pd.DataFrame:
    """The results as people read them in a spreadsheet: named columns, dates as dates, no internal sets."""
    out = results[list(EXPORT_COLUMNS)].rename(columns=EXPORT_COLUMNS).copy()
    for col in ("Starts", "Ends"):
        out[col] = pd.to_datetime(out[col]).dt.date
    return out


def find_service(frame: pd.DataFrame, key_or_id: str | int | None) -> pd.Series | None:
    """The row whose key or numeric id is `key_or_id` (as a URL gives it), or None."""
    if key_or_id is None or str(key_or_id).strip() == "":
        return None
    text = str(key_or_id).strip()
    hit = frame[frame["key"] == text]
    if hit.empty and text.isdigit():
        hit = frame[frame["service_id"] == int(text)]
    return None if hit.empty else hit.iloc[0]


def service_funding_lines(data: ReviewData, service_id: int) -> pd.DataFrame:
    """A service's funding lines, newest first, with the fund's name."""
    fund_name = dict(zip(data.funds["fund_key"], data.funds["name"], strict=False))
    lines = data.funding_lines[data.funding_lines["service_id"] == service_id].copy()
    lines["fund"] = lines["fund_key"].map(fund_name).fillna("")
    return lines[["commissioner", "fund", "annual_amount", "start_date", "end_date", "is_estimate"]] \
        .sort_values("start_date", ascending=False).reset_index(drop=True)


def service_priorities(data: ReviewData, service_id: int) -> pd.DataFrame:
    """The plan priorities a service is linked to: plan, priority."""
    links = data.service_priorities[data.service_priorities["service_id"] == service_id]
    pr = links.merge(data.priorities, on="priority_key").merge(
        data.plans[["plan_key", "name"]].rename(columns={"name": "plan"}), on="plan_key")
    return pr.rename(columns={"name": "priority"})[["plan", "priority"]].reset_index(drop=True)


def coverage_counts(data: ReviewData, results: pd.DataFrame, level: str = "lsoa") -> pd.DataFrame:
    """How many of the given services cover each area of `level` (share an LSOA with it): code, services."""
    pairs = results[["service_id", "coverage_codes"]].explode("coverage_codes").dropna()
    pairs["unit"] = pairs["coverage_codes"].map(hierarchy_of(data).touching_map(level))
    pairs = pairs.dropna(subset=["unit"]).explode("unit").drop_duplicates(["service_id", "unit"])
    counts = pairs["unit"].value_counts()
    codes = data.areas.loc[data.areas["level"] == level, "code"]
    return pd.DataFrame({"code": codes, "services": codes.map(counts).fillna(0).astype(int)}).reset_index(drop=True)


# -- the directory page's two views, each one call returning what it draws --------------------------------------

FUNDING_NOT_RECORDED = "not recorded"  # a service with no current funding line: its funding is unknown, never £0


def recorded(value: object) -> object | None:
    """The value, or None when nothing is recorded (None, NaN, NaT, blank text): a service imported from Open
    Referral often has no tier, provider, target group or dates."""
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None or (not isinstance(value, tuple | list) and pd.isna(value)):
        return None
    return value


def funding_note(is_recorded: bool, is_estimate: bool) -> str:
    """How a service's annual funding is qualified: "not recorded" (unknown, never £0), "estimate" or ""."""
    return FUNDING_NOT_RECORDED if not is_recorded else "estimate" if is_estimate else ""


def pounds(value: float) -> str:
    """An annual amount to the pound, as a directory entry states it ("£1,216,000"): exact, not rounded for a
    sentence, since a commissioner compares it with a contract."""
    return f"£{float(value):,.0f}"


def when_from(day: object) -> str:
    """The date money starts, as a person says it: "April 2014" for the first of a month (financial years and
    grants start so), else "15 May 2014"."""
    stamp = pd.Timestamp(day)
    return f"{stamp:%B %Y}" if stamp.day == 1 else f"{stamp.day} {stamp:%B %Y}"


def funding_parts(is_recorded: bool, amount: float, is_estimate: bool, starts: object = None,
                  starts_amount: float | None = None) -> tuple[str, str]:
    """A service's annual funding as (figure, what qualifies it): ("£50,000", ""), ("£9,289", "estimate"),
    ("£1,216,000", "a year from April 2014") for money that starts after the date (neither £0 nor unknown), or
    ("not recorded", "") when it is unknown (never £0). A headline shows the figure large and the words under it."""
    if is_recorded and amount == amount:
        return pounds(amount), "estimate" if is_estimate else ""
    if recorded(starts) is not None and starts_amount is not None and starts_amount == starts_amount:
        return pounds(starts_amount), f"a year from {when_from(starts)}" + (", estimate" if is_estimate else "")
    return FUNDING_NOT_RECORDED, ""


def funding_text(is_recorded: bool, amount: float, is_estimate: bool, starts: object = None,
                 starts_amount: float | None = None) -> str:
    """`funding_parts` as one phrase: "£50,000", "£9,289 (estimate)", "£1,216,000 a year from April 2014" or
    "not recorded"."""
    figure, words = funding_parts(is_recorded, amount, is_estimate, starts, starts_amount)
    if not words:
        return figure
    return f"{figure} ({words})" if words == "estimate" else f"{figure} {words}"


def upcoming_funding(lines: pd.DataFrame, as_at: dt.date | pd.Timestamp) -> pd.DataFrame:
    """Per service with funding lines that start after `as_at`: funding_from (the first such start) and
    funding_from_amount (the £ a year of its lines that count at that start, by `counting.period_contains`, the
    same rule as at any date). Indexed by service_id; lines with no amount are left out (unknown is not £0)."""
    amount = pd.to_numeric(lines["annual_amount"], errors="coerce")
    starts = pd.to_datetime(lines["start_date"], errors="coerce")
    later = lines[amount.notna() & starts.notna() & (starts > pd.Timestamp(as_at))]
    if later.empty:
        return pd.DataFrame({"funding_from": pd.Series(dtype="datetime64[ns]"),
                             "funding_from_amount": pd.Series(dtype=float)}, index=pd.Index([], name="service_id"))
    first = pd.to_datetime(later["start_date"]).groupby(later["service_id"]).min()
    mine = lines[lines["service_id"].isin(first.index) & amount.notna()]
    at = mine["service_id"].map(first)
    counts = pd.Series(False, index=mine.index)
    for day, group in mine.groupby(at):  # one call per distinct start (a handful of financial years)
        counts[group.index] = period_contains(group["start_date"], group["end_date"], day)
    total = pd.to_numeric(mine["annual_amount"])[counts].groupby(mine["service_id"][counts]).sum()
    return pd.DataFrame({"funding_from": first, "funding_from_amount": total.reindex(first.index)})


def coverage_map(data: ReviewData, results: pd.DataFrame, level: str = "district") -> pd.DataFrame:
    """`coverage_counts` of the services with each area's name, for a map: code, services, name."""
    return coverage_counts(data, results, level).merge(data.areas[["code", "name"]], on="code")


@dataclass(frozen=True)
class DirectoryChoices:
    """What the directory's filters offer, from the rows themselves (sorted)."""

    sectors: list[str]
    commissioners: list[str]
    providers: list[str]


def directory_choices(frame: pd.DataFrame) -> DirectoryChoices:
    """The provider sectors, commissioners and providers named by any row of `directory_frame`."""
    return DirectoryChoices(sectors=sorted(frame["provider_sector"].dropna().unique()),
                            commissioners=sorted({c for t in frame["commissioner_list"] for c in t}),
                            providers=sorted(frame["provider"].dropna().unique()))


def covers_choices(areas: pd.DataFrame, level: str) -> dict[str, str]:
    """The areas of `level` a "covers" filter can name: code -> name, by name."""
    choices = areas[areas["level"] == level].sort_values("name")
    return dict(zip(choices["code"], choices["name"], strict=False))


@dataclass(frozen=True)
class DirectoryResults:
    """A search of the directory and its totals: what the directory's list view draws."""

    rows: pd.DataFrame  # the matching rows of `directory_frame`, plus funding_note (`funding_note`)
    of: int  # how many services the directory holds
    current: int  # how many of the rows are current at the date (the totals count only these)
    current_funding: float  # their recorded annual funding
    unrecorded: int  # how many of the current rows have funding not recorded (left out of current_funding)
    districts: pd.DataFrame  # `coverage_map` of the rows by district


def directory_results(data: ReviewData, frame: pd.DataFrame, f: DirectoryFilter) -> DirectoryResults:
    """The rows of `frame` that match `f` (`search`), with the totals the directory states above them."""
    rows = search(frame, f, data.areas)
    rows = rows.assign(funding_note=[funding_note(r, e) for r, e in
                                     zip(rows["funding_recorded"], rows["funding_is_estimate"], strict=True)])
    current, money = current_totals(rows)
    unrecorded = int((rows["is_current"] & ~rows["funding_recorded"]).sum())
    return DirectoryResults(rows=rows, of=len(frame), current=current, current_funding=money, unrecorded=unrecorded,
                            districts=coverage_map(data, rows, "district"))


def results_summary(found: DirectoryResults, as_at: dt.date) -> str:
    """The sentence above the results: how many match, how many are current, and their funding, where recorded.

    Unknown funding is left out of the total and said so; when none of the current services has its funding
    recorded the total is "not recorded", never "£0" (the mental-health services of the demo)."""
    head = f"**{len(found.rows)} of {found.of} services**; {found.current} of them current at {as_at:%-d %B %Y}"
    if not found.current:
        return head + "."
    if found.unrecorded >= found.current:
        return head + f", their annual funding {FUNDING_NOT_RECORDED}."
    money = pounds(found.current_funding)
    if found.unrecorded:
        return head + (f", with recorded annual funding {money} (the funding of {found.unrecorded} of them is "
                       f"{FUNDING_NOT_RECORDED}).")
    return head + f", with annual funding {money}."


# -- finding services by place -----------------------------------------------------------------------------------

# What a person may type, looked for in this order: a place-based area, a district, an LSOA, a division or the
# force itself ("Lancashire": every service covering any part of it).
PLACE_LEVELS = ("area", "district", "lsoa", "division", "force")
LEVEL_WORDS = {"area": "place-based area", "district": "district", "lsoa": "LSOA", "division": "division",
               "force": "force area"}


@dataclass(frozen=True)
class Place:
    """A place a person typed, found: its code, name and level."""

    code: str
    name: str
    level: str

    @property
    def described(self) -> str:
        """"Pendle (district)", "Pendle 008A (LSOA E01025174)"."""
        if self.level == "lsoa":
            return f"{self.name} (LSOA {self.code})"
        return f"{self.name} ({LEVEL_WORDS.get(self.level, self.level)})"


class UnknownPlace(KeyError):
    """No area, district or LSOA has the name or code typed; `suggestions` are the nearest names ("did you mean")."""

    def __init__(self, given: str, suggestions: list[str]) -> None:
        super().__init__(given)
        self.given = given
        self.suggestions = suggestions


def find_place(areas: pd.DataFrame, typed: str) -> Place | None:
    """The place-based area, district or LSOA called (or coded) `typed`, by the hierarchy's one matching rule
    (`Hierarchy.resolve`: case, "&"/"and" and spacing do not matter); an area before a district of the same name.
    None for empty text; `UnknownPlace` with up to three suggestions when nothing matches."""
    text = (typed or "").strip()
    if not text:
        return None
    tree = hierarchy_of(areas)
    try:
        code = tree.resolve(text, PLACE_LEVELS)
    except UnknownAreaName:
        raise UnknownPlace(text, place_suggestions(areas, text)) from None
    return Place(code=code, name=str(tree.name_of(code, code)), level=str(tree.level_of(code)))


def place_suggestions(areas: pd.DataFrame, typed: str, limit: int = 3) -> list[str]:
    """The names (or, for something typed like a code, the LSOA codes) nearest to `typed`: areas and districts
    first, then LSOAs. "Burnly" -> ["Burnley"]; "E0102517" -> ["E01025174", ...]."""
    wanted = normalise_name(typed)
    places = areas[areas["level"].isin(PLACE_LEVELS)]
    looks_like_code = wanted[:1].isalpha() and wanted[1:3].isdigit()
    if looks_like_code:
        codes = places["code"].astype(str).tolist()
        given = typed.strip().upper()
        begun = [c for c in codes if c.startswith(given)]  # a code typed short: the codes it begins
        return begun[:limit] or difflib.get_close_matches(given, codes, n=limit, cutoff=0.6)
    for levels in (("area", "district", "division", "force"), ("lsoa",)):  # LSOA names only failing the others
        named: dict[str, str] = {}
        for name in places.loc[places["level"].isin(levels), "name"].astype(str):
            named.setdefault(normalise_name(name), name)
        close = difflib.get_close_matches(wanted, list(named), n=limit, cutoff=0.6)
        if not close:  # a part of a name: "pendle" in "Burnley & Pendle"
            close = [k for k in named if wanted and wanted in k][:limit]
        if close:
            return [named[k] for k in close]
    return []


# -- the card view ------------------------------------------------------------------------------------------------

CARD_LIMIT = 48  # cards drawn at once: past that a list is easier to scan as the table (or a narrower search)


@dataclass(frozen=True)
class ServiceCard:
    """One service as a directory card shows it, each field as recorded or None where nothing is recorded."""

    key: str
    name: str
    provider: str | None
    for_whom: str | None  # target groups, then eligibility
    where: str | None  # the areas it covers (the first few, then how many more)
    contact: str | None
    last_reviewed: object  # a date or None
    state: str  # what it is at the date (current, planned...)
    funding: str  # `funding_text`


def _first_of(names: str, limit: int = 4) -> str | None:
    items = [n for n in (names or "").split("; ") if n]
    if not items:
        return None
    more = len(items) - limit
    return "; ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def service_cards(rows: pd.DataFrame, target_group_names: dict[str, str], limit: int = CARD_LIMIT) -> list[ServiceCard]:
    """The first `limit` rows of a search (`directory_results(...).rows`) as cards: name, provider, who it is
    for, where, contact, last reviewed, and its funding and state at the date."""
    cards = []
    for r in rows.head(limit).to_dict("records"):
        groups = "; ".join(target_group_names.get(k, k) for k in recorded(r["target_group_keys"]) or ())
        eligibility = recorded(r.get("eligibility"))
        for_whom = "; ".join(x for x in (groups, f"eligibility: {eligibility}" if eligibility else "") if x)
        cards.append(ServiceCard(
            key=str(r["key"]), name=str(r["name"]), provider=recorded(r["provider"]), for_whom=for_whom or None,
            where=_first_of(r["coverage"]), contact=recorded(r["contact"]),
            last_reviewed=recorded(r["last_reviewed"]), state=str(r["state"]), funding=str(r["funding_text"])))
    return cards


@dataclass(frozen=True)
class ServiceDetail:
    """One service as its detail view shows it: each field as recorded, or None where nothing is recorded (never
    NaN or blank text)."""

    service_id: int
    key: str
    name: str
    description: str | None
    provider: str | None
    provider_sector: str | None
    tier: str | None
    annual_funding: float | None  # None when not recorded: unknown, never £0
    funding_is_estimate: bool
    funding_text: str  # `funding_text`: the annual funding, money that starts later, or "not recorded"
    funding_headline: tuple[str, str]  # `funding_parts`: the figure and the words that qualify it
    start_date: object
    end_date: object
    end_date_is_estimate: bool  # only ever True when an end date is recorded
    # status, state (at the date), themes, target_groups (names), commissioners, coverage, eligibility,
    # referral_route, contact, capacity, address ("Confidential" for a confidential location: never its address),
    # last_reviewed, source
    facts: dict[str, object]
    funding_lines: pd.DataFrame  # `service_funding_lines`
    priorities: pd.DataFrame  # `service_priorities`
    districts: pd.DataFrame  # `coverage_map` of the service by district


CONFIDENTIAL = "Confidential"


def service_detail(data: ReviewData, frame: pd.DataFrame, key_or_id: str | int | None,
                   target_group_names: dict[str, str]) -> ServiceDetail | None:
    """The service of `frame` (a `directory_frame`) whose key or id is `key_or_id` (`find_service`), or None."""
    row = find_service(frame, key_or_id)
    if row is None:
        return None
    sid = int(row["service_id"])
    end = recorded(row["end_date"])
    groups = "; ".join(target_group_names.get(k, k) for k in recorded(row["target_group_keys"]) or ())
    facts = {
        "status": row["status"], "state": row["state"], "themes": row["themes"], "target_groups": groups,
        "commissioners": row["commissioners"], "coverage": row["coverage"], "eligibility": row["eligibility"],
        "referral_route": row["referral_route"], "contact": row["contact"], "capacity": row["capacity"],
        "address": CONFIDENTIAL if recorded(row["confidential_location"]) else row["address"],
        "last_reviewed": row["last_reviewed"], "source": readable_source(row["source"]),
    }
    return ServiceDetail(
        service_id=sid, key=str(row["key"]), name=str(row["name"]), description=recorded(row["description"]),
        provider=recorded(row["provider"]), provider_sector=recorded(row["provider_sector"]),
        tier=recorded(row["tier"]),
        annual_funding=float(row["annual_funding"]) if row["funding_recorded"] else None,
        funding_is_estimate=bool(row["funding_is_estimate"]), funding_text=str(row["funding_text"]),
        funding_headline=funding_parts(bool(row["funding_recorded"]), row["annual_funding"],
                                       bool(row["funding_is_estimate"]), row["funding_from"],
                                       row["funding_from_amount"]),
        start_date=recorded(row["start_date"]), end_date=end,
        end_date_is_estimate=bool(row["end_date_is_estimate"]) and end is not None,
        facts={k: recorded(v) for k, v in facts.items()},
        funding_lines=service_funding_lines(data, sid), priorities=service_priorities(data, sid),
        districts=coverage_map(data, frame[frame["service_id"] == row["service_id"]], "district"))
