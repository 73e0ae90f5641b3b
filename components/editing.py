"""The edit form for any editable kind, drawn from a field list; saving goes through services_db.editing."""

from __future__ import annotations

import streamlit as st

from components.format import escape
from services_db.editing import EditError, StaleEdit, save
from services_db.models import SECTORS, SERVICE_STATUSES, TIERS
from services_db.permissions import Actor, PermissionDenied

# (field, label, widget, choices): widget is text, area, bool, choice, ref (one key) or refs (several keys).
FIELDS: dict[str, list[tuple[str, str, str, object]]] = {
    "service": [("name", "Name", "text", None), ("description", "Description", "area", None),
                ("provider_key", "Provider", "ref", "organisation"), ("themes", "Themes", "refs", "theme"),
                ("target_groups", "Target groups", "refs", "target_group"), ("coverage", "Areas covered", "refs", "area"),
                ("tier", "Prevention tier", "choice", ("", *TIERS)), ("status", "Status", "choice", SERVICE_STATUSES),
                ("eligibility", "Eligibility", "area", None), ("referral_route", "Referral route", "text", None),
                ("contact", "Contact", "text", None), ("capacity", "Capacity", "text", None),
                ("start_date", "Start date (YYYY-MM-DD)", "text", None), ("end_date", "End date (YYYY-MM-DD)", "text", None),
                ("end_date_is_estimate", "End date is an estimate", "bool", None),
                ("confidential_location", "Confidential location (never show the address)", "bool", None),
                ("address", "Address", "text", None), ("last_reviewed", "Last reviewed (YYYY-MM-DD)", "text", None)],
    "organisation": [("name", "Name", "text", None), ("sector", "Sector", "choice", SECTORS),
                     ("org_identifier", "org-id identifier (e.g. GB-CHC-1234567)", "text", None)],
    "fund": [("name", "Name", "text", None), ("money_source", "Source of the money", "text", None),
             ("owner_key", "Owner", "ref", "organisation"), ("financial_year", "Financial year (e.g. 2013-14)", "text", None),
             ("total_amount", "Total (£)", "text", None), ("start_date", "Start date", "text", None),
             ("end_date", "End date", "text", None)],
    "allocation": [("fund_key", "Fund", "ref", "fund"), ("recipient_key", "Recipient", "ref", "organisation"),
                   ("service_key", "Service", "ref", "service"), ("amount", "Amount (£)", "text", None),
                   ("purpose", "Purpose", "area", None), ("area_codes", "Areas", "refs", "area"),
                   ("priorities", "Priorities", "refs", "priority"),
                   ("payment_schedule", "Payment schedule", "text", None), ("award_date", "Award date", "text", None),
                   ("planned_start", "Planned start", "text", None), ("planned_end", "Planned end", "text", None),
                   ("is_estimate", "Amount is an estimate", "bool", None)],
    "plan": [("name", "Name", "text", None), ("owner_key", "Owner", "ref", "organisation"),
             ("start_date", "Start date", "text", None), ("end_date", "End date", "text", None),
             ("area_codes", "Areas", "refs", "area")],
    "priority": [("name", "Name", "text", None), ("description", "Description", "area", None),
                 ("plan_key", "Plan", "ref", "plan")],
}


def _str(v) -> str:
    if v is None:
        return ""
    return v.isoformat() if hasattr(v, "isoformat") else str(v)


def edit_form(db, actor: Actor, kind: str, record: dict | None, opts: dict) -> None:
    """Draw the form for a new (record None) or existing record; save on submit, with a clear message."""
    key = record["key"] if record else None
    form_id = f"edit_{kind}_{key or 'new'}"
    if record:
        st.markdown(f"Editing **{escape(record.get('name') or key)}** (version {record['version']})")
    with st.form(form_id):
        values: dict = {}
        if record is None:
            values["key"] = st.text_input("Key (a short unique identifier, e.g. preston-youth-mentoring)",
                                          key=f"{form_id}_key")
        for field, label, widget, choices in FIELDS[kind]:
            current = record.get(field) if record else None
            wk = f"{form_id}_{field}"
            if widget == "text":
                values[field] = st.text_input(label, _str(current), key=wk)
            elif widget == "area":
                values[field] = st.text_area(label, _str(current), key=wk)
            elif widget == "bool":
                values[field] = st.checkbox(label, bool(current), key=wk)
            elif widget == "choice":
                opts_ = list(choices)
                values[field] = st.selectbox(label, opts_, index=opts_.index(current) if current in opts_ else 0,
                                             key=wk)
            elif widget == "ref":
                labels = dict([("", "(none)"), *opts[choices]])
                keys = list(labels)
                values[field] = st.selectbox(label, keys, index=keys.index(current) if current in keys else 0,
                                             format_func=labels.get, key=wk)
            else:
                labels = dict(opts[choices])
                values[field] = st.multiselect(label, list(labels), default=[c for c in (current or []) if c in labels],
                                               format_func=labels.get, key=wk)
        submitted = st.form_submit_button("Save")
    if submitted:
        try:
            saved = save(db, actor, kind, values, key=key, version=record["version"] if record else None)
        except PermissionDenied as exc:
            st.error(str(exc))
        except StaleEdit as exc:
            st.error(str(exc))
        except EditError as exc:
            for e in exc.errors:
                st.error(f"{e.column}: {e.message}" if e.column else e.message)
        else:
            st.session_state.pop(f"loaded_{kind}_{key}", None)
            st.success(f"Saved {kind} '{escape(saved)}'.")
