"""Data in and out: imports with a preview, exports in Open Referral UK, 360Giving, CSV/Excel, and backups."""

import json

import streamlit as st

from components.auth import current_actor
from components.context import database
from components.imports import import_panel
from services_db.permissions import Actor, allowed
from services_db.transfer import backup, giving, openreferral
from services_db.transfer.spreadsheet import to_excel_bytes


def _exports() -> dict[str, str | bytes]:
    """The directory in Open Referral UK and the allocations in 360Giving (JSON and spreadsheet)."""
    db = database()
    return {
        "openreferral": json.dumps(openreferral.export_services(db), indent=1, ensure_ascii=False),
        "360giving": json.dumps(giving.package(db), indent=1, ensure_ascii=False),
        "360giving_xlsx": to_excel_bytes(giving.flat_frame(giving.grants(db)), "grants"),
    }


def _export_tab(actor: Actor | None) -> None:
    st.caption("Services with a confidential location are exported without address or coordinates.")
    if st.button("Prepare exports", key="prepare_exports"):
        st.session_state["exports"] = _exports()
    exports = st.session_state.get("exports")
    if exports:
        st.download_button("Directory: Open Referral UK JSON", exports["openreferral"], "directory-openreferral.json",
                           mime="application/json")
        st.download_button("Allocations: 360Giving JSON", exports["360giving"], "allocations-360giving.json",
                           mime="application/json")
        st.download_button("Allocations: 360Giving spreadsheet", exports["360giving_xlsx"],
                           "allocations-360giving.xlsx")
    if allowed(actor, "export_backup"):
        st.subheader("Backup")
        st.caption("The whole database in one file (includes password hashes: keep it safe).")
        if st.button("Make a backup", key="make_backup"):
            st.download_button("Download backup", backup.backup_bytes(database(), actor), "services-db-backup.json.gz")


def main() -> None:
    st.title("Data in and out")
    actor = current_actor()
    tab_in, tab_out = st.tabs(["Import", "Export"])
    with tab_in:
        import_panel(actor)
    with tab_out:
        _export_tab(actor)


main()
