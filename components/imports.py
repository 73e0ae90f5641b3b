"""The import panel: choose a kind, upload files, see the preview (counts and every refused row), confirm."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.context import database
from components.format import escape
from services_db.permissions import Actor, PermissionDenied, allowed
from services_db.transfer.files import FileProblem
from services_db.transfer.import_plan import KIND_ACTION
from services_db.transfer.import_templates import template_files
from services_db.transfer.imports import apply_plan, plan_import
from services_db.validation import ImportRefused

KIND_LABELS = {
    "services": "Services, organisations, funding lines, allocations (CSV or Excel template)",
    "openreferral": "Open Referral UK (HSDS 3.0) JSON",
    "360giving": "360Giving grants JSON",
    "police-uk": "police.uk street-level crime CSV",
    "imd": "English Indices of Deprivation 2019, File 7 CSV",
    "indicators": "Need indicators CSV (area_code, period, indicator, value)",
    "backup": "Restore a backup (replaces everything)",
}
TYPES = {"services": ["csv", "xlsx"], "openreferral": ["json"], "360giving": ["json"], "police-uk": ["csv"],
         "imd": ["csv"], "indicators": ["csv", "xlsx"], "backup": ["gz"]}


def template_downloads() -> None:
    """The templates, with the values each column accepts: a "Valid values" sheet in the workbook and a companion
    CSV (a CSV file has one table, so the list travels beside it)."""
    files = template_files(database())
    c1, c2, c3 = st.columns(3)
    c1.download_button("Excel template (one sheet per table, and the valid values)",
                       files["services-template.xlsx"], "services-template.xlsx")
    c2.download_button("Services CSV template (one row per service)", files["services-template.csv"],
                       "services-template.csv")
    c3.download_button("Valid values (CSV)", files["services-valid-values.csv"], "services-valid-values.csv")
    st.caption("Themes, areas, organisations and funds may be given by their key or code or by their name as you "
               "would type it: \"Mental health\", \"Burnley\", \"Lancashire Care NHS Foundation Trust\". The valid "
               "values list every theme, area (with its GSS code), organisation, fund, priority, tier, sector and "
               "status. A value that is not recognised is refused with its file, row and column, and the closest "
               "valid values are suggested.")


def import_panel(actor: Actor | None) -> None:
    kinds = [k for k in KIND_ACTION if allowed(actor, KIND_ACTION[k])]
    if not kinds:
        st.info("Your role may not import data. Commissioners import the directory; OPCC staff also funding; "
                "administrators everything.")
        return
    kind = st.selectbox("What are you importing?", kinds, format_func=KIND_LABELS.get, key="import_kind")
    if kind == "services":
        template_downloads()
    uploads = st.file_uploader("Files", type=TYPES[kind], accept_multiple_files=True, key=f"upload_{kind}")
    if not uploads:
        return
    bar = st.progress(0.0, text="Reading…")
    try:
        plan = plan_import(database(), kind, [(u.name, u.getvalue()) for u in uploads],
                           progress=lambda f, t: bar.progress(min(f, 1.0), text=t))
    except FileProblem as exc:
        bar.empty()
        st.error(escape(exc))  # it names the file, which the uploader chose
        return
    bar.progress(1.0, text="Checked")
    show_preview(plan)
    if plan.refused:
        st.error("Nothing can be imported until the refused rows are fixed: correct them in your file and upload "
                 "it again.")
        return
    if not plan.writes_anything:
        st.info("Nothing to import: every row is already as the file has it, so nothing will be written.")
        return
    if st.button("Confirm import", type="primary", key="confirm_import"):
        try:
            apply_plan(database(), plan, actor)
        except (PermissionDenied, ImportRefused) as exc:
            st.error(escape(exc))
            return
        st.success("Imported in one transaction. " + escape("; ".join(line.strip() for line in plan.summary_lines()[1:])))


def show_preview(plan) -> None:
    rows = []
    for t in dict.fromkeys([*plan.added, *plan.changed]):
        rows.append({"table": t, "to add": plan.added.get(t, 0), "to change": plan.changed.get(t, 0)})
    c = st.columns(4)
    c[0].metric("Rows read", f"{plan.rows_read:,}")
    c[1].metric("To add", f"{sum(plan.added.values()):,}")
    c[2].metric("To change", f"{sum(plan.changed.values()):,}")
    c[3].metric("Refused rows", f"{plan.refused_rows:,}")
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    for reason, n in plan.skipped.items():
        st.caption(f"Skipped {n:,}: {escape(reason)}")
    for note in plan.notes:  # what the import does beyond its counts: funding lines replaced, locations not stored
        st.caption(escape(note))
    if plan.refused:
        st.dataframe(pd.DataFrame(plan.refused_table()), hide_index=True, key="refused_rows")
