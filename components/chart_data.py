"""The data behind every chart and map, for anyone who cannot see the picture and anyone who wants the figures.

Every chart and map of the app is drawn by `chart_with_data`: the chart, then an expander "Data behind this chart"
holding its table and a CSV download. The CSV ends, after a blank line, with where the figures come from, the
"as at" date they were counted at and the data's fingerprint (the one a briefing prints), as Fingertips' exports
end: a file taken away can be traced to the data it was made from. One piece for every page, so a chart cannot be
added without its data, and the footer cannot drift between pages.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.context import cached, data_version, review_data
from components.format import escape
from components.tables import money_styled, text_widths
from services_db.transfer.spreadsheet import neutralise, to_csv_bytes

SOURCE = "Commissioned services database (services_db)"
DATA_TITLE = "Data behind this chart"
# Plotly's tool bar without its logo (a link off the app) nor the lasso and box selections (they select nothing here)
CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


@cached
def _fingerprint(version: str) -> str:
    """Hashing the review's frames takes a noticeable moment on a national database: once per data version."""
    del version
    from services_db.documents.fingerprint import fingerprint

    return fingerprint(review_data())


def data_fingerprint(version: str | None = None) -> str:
    """The fingerprint of the data now shown (12 hex digits, as on a briefing). `version` is the data version
    (`context.data_version()`) when the caller has it: each `data_version()` re-derives the session's snapshot at
    its date, a few milliseconds on national data, paid once per chart otherwise."""
    return _fingerprint(data_version() if version is None else version)


def footer(as_at: dt.date, what: str = "", version: str | None = None) -> dict[str, str]:
    """The lines a CSV ends with: source (and which figures), the "as at" date, the data's fingerprint (of
    `version`, the data version, when the caller has read it; see `data_fingerprint`)."""
    return {"Source": SOURCE + (f": {what}" if what else ""), "As at": f"{as_at:%-d %B %Y}",
            "Data fingerprint": data_fingerprint(version)}


def csv_with_footer(frame: pd.DataFrame, footer: dict[str, str]) -> bytes:
    """The frame as a spreadsheet-safe CSV (`services_db.transfer.spreadsheet.to_csv_bytes`: a cell that would run
    as a formula is made text) then, after a blank line, one "Name: value" line per footer item, each one quoted
    cell whatever commas or quotes it holds, so a spreadsheet shows it as a note under the table."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for name, value in footer.items():
        writer.writerow([neutralise(f"{name}: {value}")])
    return to_csv_bytes(frame) + b"\n" + out.getvalue().encode("utf-8")


def map_table(frame: pd.DataFrame, *, value: str, label: str, place: str = "Area") -> pd.DataFrame:
    """A map's data as its table: each place's code, name and value (and whether it is an estimate), in the
    map's order."""
    table = pd.DataFrame({f"{place} code": frame["code"], place: frame["name"], label: frame[value]})
    if "is_estimate" in frame:
        table["Estimate"] = frame["is_estimate"].map({True: "estimate", False: ""})
    return table


def chart_with_data(fig: go.Figure | None, table: pd.DataFrame, *, key: str, title: str, as_at: dt.date,
                    empty: str | None = None, caption: str | None = None, filename: str | None = None,
                    money_columns: Iterable[str] = (), column_config: dict | None = None,
                    version: str | None = None, on_select: Callable[[], None] | None = None,
                    csv_footer: dict[str, str] | None = None) -> None:
    """Draw `fig` (under `key`), `caption` under it, then "Data behind this chart: <title>" with `table` and its
    CSV (footer: `title`, `as_at`, fingerprint). With no figure, `empty` says what is missing, in words. A page
    drawing several charts passes the `version` it read (`context.data_version()`), so the fingerprint costs no
    re-read of the snapshot per chart. `on_select`: a callback run when a point of the chart is clicked (its
    selection, read from `st.session_state[key]`), for a map whose areas can be clicked. `csv_footer` replaces
    the footer for figures counted in the database without a snapshot (the national view: the fingerprint would
    hash the whole national snapshot that view exists not to read).

    `money_columns` show as "£1,793,938", "−£576" or "not recorded" with the numbers kept underneath (they sort,
    and the CSV carries them exact); `caption` is Markdown the caller has escaped."""
    if fig is None:
        if empty:
            st.info(empty)
        return
    if on_select is None:
        st.plotly_chart(fig, width="stretch", key=key, config=CONFIG)
    else:
        st.plotly_chart(fig, width="stretch", key=key, config=CONFIG, on_select=on_select, selection_mode="points")
    if caption:
        st.caption(caption)
    with st.expander(f"{DATA_TITLE}: {escape(title)}"):
        shown = money_styled(table, money_columns) if money_columns else table
        st.dataframe(shown, hide_index=True, width="stretch", key=f"{key}_table",
                     column_config=text_widths(table) | (column_config or {}))
        st.download_button("Download this data (CSV)", csv_with_footer(table, csv_footer or footer(as_at, title, version)),
                           filename or f"{key.replace('_', '-')}.csv", "text/csv", key=f"{key}_csv")
