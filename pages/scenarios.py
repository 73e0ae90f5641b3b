"""What-if scenarios: a named draft of changes (move money, end or extend a service, add one, change where one
works, reallocate a fund by a fair-share formula) reviewed beside the actual data. A scenario never touches the
records; every figure on this page that comes from a scenario is marked as one."""

import datetime as dt

import pandas as pd
import streamlit as st

from components.auth import current_actor
from components.briefing import download_scenario_briefing
from components.context import as_at, cached, data_version, database, review_data, shared
from components.format import escape
from components.tables import money_styled
from services_db import scenarios
from services_db.permissions import Actor, PermissionDenied, allowed
from services_db.scenarios.changes import changes_key
from services_db.scenarios.store import (
    StoredScenario,
    add_change,
    copy_scenario,
    delete_scenario,
    list_scenarios,
    remove_change,
    save_scenario,
)

NEW = "➕ New scenario"
KINDS = {"Move money between areas": "move", "End a service early": "end", "Extend a service's funding": "extend",
         "Add a planned service": "add", "Change where a service works": "coverage",
         "Reallocate a fund by fair share": "fair"}


@cached
def _scenarios(version: str, stamp: str) -> list[StoredScenario]:
    del stamp  # scenarios change without the data version moving: the page passes a stamp it bumps on save
    return list_scenarios(database())


@shared
def _review(version: str, key: str, _changes: list[scenarios.Change],
            when: dt.date) -> scenarios.ScenarioReview:
    del key  # the changes' digest: the cache key for the unhashed list of changes
    return scenarios.review_scenario(review_data(), _changes, when)


def _stamp() -> str:
    return str(st.session_state.get("scenario_stamp", 0))


def _saved(show: str | None = None) -> None:
    """After a write: re-read the list, and open `show` (a scenario just made or copied; "" for none) next run."""
    st.session_state["scenario_stamp"] = st.session_state.get("scenario_stamp", 0) + 1
    if show is not None:
        st.session_state["scenario_next"] = show
        if show:
            st.query_params["scenario"] = show
        else:
            st.query_params.pop("scenario", None)


def _choose(version: str, editor: bool) -> StoredScenario | None:
    stored = _scenarios(version, _stamp())
    names = [s.name for s in stored] + ([NEW] if editor else [])
    if not names:
        st.info("No scenario has been made yet. Commissioners and OPCC staff can make one once signed in.")
        return None
    if "scenario_next" in st.session_state:  # set by a create, copy or delete before the rerun
        wanted = st.session_state.pop("scenario_next")
        st.session_state["scenario_choice"] = wanted if wanted in names else names[0]
    asked = st.query_params.get("scenario")
    index = names.index(asked) if asked in names else 0
    name = st.selectbox("Scenario", names, index=index, key="scenario_choice")
    if name == NEW:
        return None
    if st.query_params.get("scenario") != name:
        st.query_params["scenario"] = name
    return next(s for s in stored if s.name == name)


def _new_form(actor: Actor) -> None:
    with st.form("scenario_new"):
        name = st.text_input("Name of the new scenario", max_chars=120)
        description = st.text_area("What it is for (optional)")
        if st.form_submit_button("Create scenario"):
            try:
                save_scenario(database(), actor, name, [], description=description)
            except (scenarios.ScenarioError, PermissionDenied) as exc:
                st.error(escape(str(exc)))
                return
            _saved(name.strip())
            st.rerun()


def _change_form(kind: str) -> scenarios.Change | None:
    """The fields of one kind of change; the change when the form is submitted, else None."""
    data = review_data()
    areas = data.areas.loc[data.areas["level"] == "area", "name"].tolist()
    themes = dict(zip(data.themes["theme_key"], data.themes["name"], strict=True))
    services = dict(zip(data.services["service_id"], data.services["name"], strict=True))
    funds = dict(zip(data.funds["fund_key"], data.funds["name"], strict=True))
    with st.form(f"scenario_change_{kind}"):
        if kind == "move":
            fund = st.selectbox("Fund", list(funds), format_func=funds.get)
            c1, c2 = st.columns(2)
            src = c1.selectbox("From area", areas)
            dst = c2.selectbox("To area", areas, index=min(1, len(areas) - 1))
            amount = st.number_input("Amount a year (£)", min_value=1.0, value=20_000.0, step=1_000.0)
            theme = st.selectbox("For the theme", list(themes), format_func=themes.get)
            make = lambda: scenarios.MoveMoney(fund, src, dst, float(amount), theme)  # noqa: E731
        elif kind in ("end", "extend"):
            sid = st.selectbox("Service", list(services), format_func=services.get)
            day = st.date_input("New end date", format="DD/MM/YYYY")
            dated = scenarios.EndService if kind == "end" else scenarios.ExtendFunding
            make = lambda: dated(int(sid), day)  # noqa: E731
        elif kind == "add":
            name = st.text_input("Service name", max_chars=200)
            theme = st.selectbox("Theme", list(themes), format_func=themes.get)
            where = st.multiselect("Areas", areas)
            amount = st.number_input("Annual funding (£)", min_value=0.0, value=50_000.0, step=1_000.0)
            c1, c2 = st.columns(2)
            start = c1.date_input("Starts", format="DD/MM/YYYY")
            end = c2.date_input("Ends", value=dt.date.today() + dt.timedelta(days=365), format="DD/MM/YYYY")
            fund = st.selectbox("Paid from (optional)", [""] + list(funds), format_func=lambda k: funds.get(k, "—"))
            make = lambda: scenarios.AddService(  # noqa: E731
                name.strip(), theme, tuple(where), float(amount), start, end, fund)
        elif kind == "fair":
            fund = st.selectbox("Fund", list(funds), format_func=funds.get)
            indicators = dict(zip(data.indicators["indicator_key"], data.indicators["name"], strict=True))
            pop = st.slider("Weight on population", min_value=0.0, max_value=1.0, value=0.5, step=0.05)
            need = st.selectbox("Need indicator (weighs the rest: 1 − the population weight)", list(indicators),
                                format_func=indicators.get)
            st.caption("Each district's share is its share of residents times the population weight plus its share "
                       "of the indicator times the rest; districts with no figure for the indicator get their "
                       "population share in its place.")

            def make() -> scenarios.Change:
                rest = round(1.0 - float(pop), 6)
                weights = {"population": float(pop)} | ({need: rest} if rest > 0 and need else {})
                return scenarios.FairShareReallocation(fund, {k: w for k, w in weights.items() if w > 0})
        else:
            sid = st.selectbox("Service", list(services), format_func=services.get)
            add = st.multiselect("Add areas", areas)
            remove = st.multiselect("Take away areas", areas)
            make = lambda: scenarios.ChangeCoverage(int(sid), tuple(add), tuple(remove))  # noqa: E731
        if st.form_submit_button("Add this change"):
            return make()
    return None


def _edit(actor: Actor, scenario: StoredScenario) -> None:
    st.subheader("Changes")
    for i, change in enumerate(scenario.changes):
        c1, c2 = st.columns([6, 1])
        c1.markdown(f"{i + 1}. " + escape(change.describe(review_data())))
        if c2.button("Remove", key=f"scenario_remove_{i}"):
            remove_change(database(), actor, scenario.name, i)
            _saved()
            st.rerun()
    kind = KINDS[st.radio("Add a change", list(KINDS), horizontal=True, key="scenario_kind")]
    change = _change_form(kind)
    if change is not None:
        try:
            add_change(database(), actor, scenario.name, change, review_data())
        except (scenarios.ScenarioError, PermissionDenied) as exc:
            st.error(escape(str(exc)))
            return
        _saved()
        st.rerun()


def _manage(actor: Actor, scenario: StoredScenario) -> None:
    with st.expander("Copy or delete this scenario"):
        new = st.text_input("Name of the copy", key="scenario_copy_name")
        if st.button("Copy", key="scenario_copy") and new.strip():
            try:
                copy_scenario(database(), actor, scenario.name, new)
            except scenarios.ScenarioError as exc:
                st.error(escape(str(exc)))
                return
            _saved(new.strip())
            st.rerun()
        if st.button("Delete this scenario", key="scenario_delete", type="secondary"):
            delete_scenario(database(), actor, scenario.name)
            _saved("")
            st.rerun()


def _table(frame: pd.DataFrame, columns: dict[str, str], key: str) -> None:
    """The columns under their headings: £ as "£20,000" or "−£14,647" (`money_styled`), Gini to two places, ratios
    to one; the numbers stay underneath so a column sorts by amount."""
    shown = frame[list(columns)].rename(columns=columns)
    styled = money_styled(shown, [label for label in columns.values() if "(£" in label])
    styled = styled.format("{:.2f}", subset=[c for c in shown.columns if c.startswith("Gini")], na_rep="—")
    styled = styled.format("{:.1f}", subset=[c for c in shown.columns if c.startswith("Ratio")], na_rep="—")
    st.dataframe(styled, hide_index=True, width="stretch", key=key)


# (heading, ScenarioReview frame, what to say when nothing moved, column -> heading)
_SECTIONS = [
    ("**Gaps** (to parity: the money that would bring the area's share of provision up to its share of need; below "
     "£0, the area already has more than its share)", "gaps", "No gap opens, closes or moves.",
     {"area_name": "Area", "theme_name": "Theme", "change": "Change", "provision_before": "Provision (£, actual)",
      "provision_after": "Provision (£, scenario)", "money_to_parity_before": "To parity (£, actual)",
      "money_to_parity_after": "To parity (£, scenario)"}),
    ("**Inequity** (Gini: 0 equal per head, 1 all in one district; ratio: highest to lowest per head; with nothing: "
     "districts that received nothing)", "inequity",
     "No fund's or theme's spread changes.",
     {"label": "Fund or theme", "gini_before": "Gini (actual)", "gini_after": "Gini (scenario)",
      "ratio_before": "Ratio (actual)", "ratio_after": "Ratio (scenario)",
      "nothing_before": "With nothing (actual)", "nothing_after": "With nothing (scenario)"}),
    ("**Duplication**", "duplication", "No duplication group forms or dissolves.",
     {"change": "Change", "theme_name": "Theme", "target_group_name": "Who for", "services": "Services"}),
    ("**Funding cliffs** (annual funding ending within the review's window)", "cliffs",
     "No area's money at risk changes.",
     {"area_name": "Area", "at_risk_before": "At risk (£, actual)", "at_risk_after": "At risk (£, scenario)"}),
]


def _effects(scenario: StoredScenario, when: dt.date) -> None:
    st.warning(f"**Scenario: {escape(scenario.name)}** — not actual allocations. The figures below are the force "
               f"review as at {when:%-d %B %Y} with this scenario's changes, beside the actual review.")
    if not scenario.changes:
        st.info("This scenario has no changes yet.")
        return
    try:
        r = _review(data_version(), changes_key(scenario.changes), scenario.changes, when)
    except scenarios.ScenarioError as exc:
        st.error(f"This scenario no longer applies to the data: {escape(str(exc))}")
        return
    st.subheader("What the changes do")
    for heading, frame, nothing, columns in _SECTIONS:
        st.markdown(heading)
        if getattr(r, frame).empty:
            st.markdown(f"_{nothing}_")
        else:
            _table(getattr(r, frame), columns, f"scenario_{frame}")
    st.subheader("Findings that change")
    for was, now in r.changed:
        st.markdown(f"- **Actual:** {escape(was)}  \n  **Scenario:** {escape(now)}")
    for s in r.gone_sentences:
        st.markdown("- ~~" + escape(s) + "~~ *(actual; not in the scenario)*")
    for s in r.new_sentences:
        st.markdown("- " + escape(s) + " *(scenario)*")
    if not r.changed and not r.gone_sentences and not r.new_sentences:
        st.markdown("_The findings read the same._")
    download_scenario_briefing(scenario.name, when)


def main() -> None:
    version, when = data_version(), as_at()
    st.title("What-if scenarios")
    st.caption("A scenario is a draft: it never changes a service, fund or allocation. Its review sits beside the "
               "actual one so partners can see what a decision would do before it is taken.")
    actor = current_actor()
    editor = actor is not None and allowed(actor, "edit_scenario")
    scenario = _choose(version, editor)
    if scenario is None:
        if editor:
            _new_form(actor)
        return
    if scenario.description:
        st.markdown(escape(scenario.description))
    st.caption(f"Made by {escape(scenario.created_by)} on {scenario.created_at:%-d %B %Y}; last changed by "
               f"{escape(scenario.updated_by)} on {scenario.updated_at:%-d %B %Y}.")
    if editor:
        _edit(actor, scenario)
        _manage(actor, scenario)
    else:
        st.markdown("\n".join(f"{i + 1}. " + escape(c.describe(review_data()))
                              for i, c in enumerate(scenario.changes)))
    _effects(scenario, when)


main()
