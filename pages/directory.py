"""Service directory for commissioners: search and filter every service, map the results, download them, and open
any service's detail view (addressable as ?service=<key or id>)."""

import datetime as dt

import pandas as pd
import streamlit as st

from components.context import as_at, cached, data_version, database, review_data
from components.format import day, escape, estimate, money, plain
from components.maps import choropleth
from components.tables import date_col, money_col
from services_db.counting import CURRENT, ENDED, NOT_STARTED, PLANNED, WITHDRAWN
from services_db.directory import (
    DirectoryFilter,
    coverage_counts,
    current_totals,
    directory_frame,
    export_frame,
    find_service,
    search,
    service_extras,
    service_funding_lines,
    service_priorities,
)
from services_db.queries import target_group_names
from services_db.spreadsheet import to_csv_bytes, to_excel_bytes


@cached
def _frame(version: str, when) -> pd.DataFrame:
    return directory_frame(review_data(), service_extras(database()), when)


@cached
def _groups(version: str) -> dict[str, str]:
    return target_group_names(database())


@cached
def _downloads(version: str, when, ids: tuple[int, ...]) -> tuple[bytes, bytes]:
    frame = _frame(version, when)
    out = export_frame(frame[frame["service_id"].isin(ids)])
    return to_csv_bytes(out), to_excel_bytes(out, "Services")


NOT_RECORDED = "not recorded"  # a service with no current funding line: its funding is unknown, never £0


def _given(value):
    """The value, or None when nothing is recorded (None, NaN, NaT, blank text): a service imported from Open
    Referral often has no tier, provider, target group or dates."""
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None or (not isinstance(value, tuple | list) and pd.isna(value)):
        return None
    return value

version, when = data_version(), as_at()
data = review_data()
frame = _frame(version, when)
st.title("Service directory")

wanted = st.query_params.get("service")
if wanted:
    row = find_service(frame, wanted)
    if st.button("← Back to the directory", key="back"):
        del st.query_params["service"]
        st.rerun()
    if row is None:
        st.warning(f"There is no service “{escape(wanted)}”. Search the directory below.")
    else:
        st.header(escape(row["name"]))
        st.caption(f"{escape(_given(row['provider']) or 'Provider not recorded')} "
                   f"({escape(_given(row['provider_sector']) or 'sector unknown')}) · key {escape(row['key'])}")
        if _given(row["description"]):
            st.markdown(escape(row["description"]))
        c = st.columns(4)
        c[0].metric("Annual funding", estimate(money(row["annual_funding"]), bool(row["funding_is_estimate"]))
                    if row["funding_recorded"] else NOT_RECORDED)  # unknown funding is not £0 (review.md v2)
        tier = _given(row["tier"])
        c[1].metric("Prevention tier", tier.capitalize() if tier else NOT_RECORDED)
        c[2].metric("Starts", day(row["start_date"]))
        c[3].metric("Ends", estimate(day(row["end_date"]), bool(row["end_date_is_estimate"])
                                     and _given(row["end_date"]) is not None))
        facts = {
            "Status": row["status"], f"At {when:%d %B %Y}": row["state"], "Themes": row["themes"],
            "Target groups": "; ".join(_groups(version).get(k, k) for k in _given(row["target_group_keys"]) or ()),
            "Commissioners": _given(row["commissioners"]) or "None recorded", "Covers": row["coverage"],
            "Eligibility": row["eligibility"], "Referral route": row["referral_route"], "Contact": row["contact"],
            "Capacity": row["capacity"],
            "Address": "Confidential" if _given(row["confidential_location"]) else row["address"],
            "Last reviewed": day(row["last_reviewed"]), "Source": row["source"],
        }
        st.markdown("\n".join(f"- **{k}:** {escape(v) if _given(v) else '–'}" for k, v in facts.items()))
        lines = service_funding_lines(data, int(row["service_id"]))
        st.markdown("**Funding lines**")
        if lines.empty:
            st.info("No funding lines recorded for this service.")
        else:
            lines["is_estimate"] = lines["is_estimate"].map({True: "estimate", False: ""})
            st.dataframe(lines.rename(columns={"commissioner": "Commissioner", "fund": "Fund",
                                               "annual_amount": "£ a year", "start_date": "From",
                                               "end_date": "To", "is_estimate": "Estimate"}),
                         hide_index=True, width="stretch",
                         column_config={"£ a year": money_col("£ a year"), "From": date_col("From"),
                                        "To": date_col("To")})
        pri = service_priorities(data, int(row["service_id"]))
        st.markdown("**Plan priorities it answers**")
        if len(pri):
            st.dataframe(pri, hide_index=True, width="stretch")
        else:
            st.info("Linked to no priority.")
        st.plotly_chart(choropleth(coverage_counts(data, frame[frame["service_id"] == row["service_id"]], "district")
                                   .merge(data.areas[["code", "name"]], on="code"), level="district",
                                   value="services", title=f"Where {plain(row['name'])} works (districts covered)",
                                   unit="covered"), width="stretch", key="detail_map")
    st.stop()

areas = data.areas
themes = dict(zip(data.themes["theme_key"], data.themes["name"], strict=False))
groups = _groups(version)
with st.container(border=True):
    keyword = st.text_input("Search names and descriptions", key="dir_keyword",
                            placeholder="e.g. domestic abuse, triage, Preston")
    c1, c2, c3, c4 = st.columns(4)
    f_themes = c1.multiselect("Theme", list(themes), format_func=themes.get, key="dir_themes")
    f_groups = c2.multiselect("Target group", list(groups), format_func=groups.get, key="dir_groups")
    f_tiers = c3.multiselect("Prevention tier", ["primary", "secondary", "tertiary"], key="dir_tiers")
    f_sectors = c4.multiselect("Provider sector", sorted(frame["provider_sector"].dropna().unique()),
                               key="dir_sectors")
    c5, c6, c7, c8 = st.columns(4)
    level = c5.selectbox("Covers", ["any area", "place-based area", "district", "LSOA"], key="dir_level")
    covers = None
    if level != "any area":
        lvl = {"place-based area": "area", "district": "district", "LSOA": "lsoa"}[level]
        choices = areas[areas["level"] == lvl].sort_values("name")
        label = dict(zip(choices["code"], choices["name"], strict=False))
        covers = c5.selectbox(f"Covers this {level}", list(label), format_func=lambda c: f"{label[c]} ({c})",
                              key=f"dir_covers_{lvl}")
    commissioners = sorted({c for t in frame["commissioner_list"] for c in t})
    f_comm = c6.multiselect("Commissioner", commissioners, key="dir_commissioners")
    f_prov = c7.multiselect("Provider", sorted(frame["provider"].dropna().unique()), key="dir_providers")
    use_end = c8.checkbox("Funding ends before…", key="dir_use_end")
    ends = c8.date_input("Funding ends before", value=when + dt.timedelta(days=365), key="dir_ends",
                         disabled=not use_end, label_visibility="collapsed")
    f_states = st.multiselect(f"At {when:%d %B %Y} the service is", [CURRENT, PLANNED, NOT_STARTED, ENDED, WITHDRAWN],
                              default=[CURRENT],
                              key="dir_states", help="Current at the \"as at\" date by default; planned, not yet "
                              "started, ended and withdrawn services can be added. Totals count current services.")

flt = DirectoryFilter(keyword=keyword, themes=f_themes, target_groups=f_groups, tiers=f_tiers, covers=covers,
                      commissioners=f_comm, providers=f_prov, sectors=f_sectors,
                      funding_ends_before=ends if use_end else None, states=f_states)
results = search(frame, flt, areas)

if results.empty:
    st.info("No services match. Remove a filter or shorten the search words.")
    st.stop()

n_current, current_money = current_totals(results)
unrecorded = int((results["is_current"] & ~results["funding_recorded"]).sum())
st.markdown(f"**{len(results)} of {len(frame)} services**; {n_current} of them current at {when:%d %B %Y}, "
            f"with annual funding {money(current_money)}"
            + (f" (recorded; the funding of {unrecorded} of them is {NOT_RECORDED})." if unrecorded else "."))
table = pd.DataFrame({
    "Service": results["name"], "At this date": results["state"], "Provider": results["provider"],
    "Sector": results["provider_sector"],
    "Commissioners": results["commissioners"], "Tier": results["tier"], "Themes": results["themes"],
    "Annual funding (£)": results["annual_funding"],
    "Funding": [NOT_RECORDED if not rec else "estimate" if est else ""
                for rec, est in zip(results["funding_recorded"], results["funding_is_estimate"], strict=True)],
    "Funding ends": results["funding_ends"], "Covers": results["coverage"],
    "Details": "?service=" + results["key"],
})
st.dataframe(table, hide_index=True, width="stretch", key="dir_table",
             column_config={"Annual funding (£)": money_col("Annual funding (£)"),
                            "Funding ends": date_col("Funding ends"),
                            "Details": st.column_config.LinkColumn("Details", display_text="open")})
csv, xlsx = _downloads(version, when, tuple(int(i) for i in results["service_id"]))
d1, d2, d3 = st.columns([1, 1, 2])
d1.download_button("Download CSV", csv, "services.csv", "text/csv", key="dl_csv")
d2.download_button("Download Excel", xlsx, "services.xlsx",
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
pick = d3.selectbox("Open a service", [""] + results["key"].tolist(), key="dir_open",
                    format_func=lambda k: "Choose a service…" if not k else
                    results.loc[results["key"] == k, "name"].iloc[0])
if pick:
    st.query_params["service"] = pick
    st.rerun()

counts = coverage_counts(data, results, "district").merge(areas[["code", "name"]], on="code")
st.plotly_chart(choropleth(counts, level="district", value="services", title="Matching services per district",
                           unit="services"), width="stretch", key="dir_map")
