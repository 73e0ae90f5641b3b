"""Table pieces shared by pages: money and date column formats, money shown in words where unknown, column widths,
and the colours of a comparison."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

COMPARISON_COLOURS = {
    "better": "#c6efce", "worse": "#ffc7ce", "similar": "#ffeb9c", "higher": "#bdd7ee", "lower": "#e2d0f0",
    "not compared": "#eeeeee",
}


def money_col(label: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format="£%,.0f")


def date_col(label: str) -> st.column_config.DateColumn:
    return st.column_config.DateColumn(label, format="D MMM YYYY")


# Long text columns kept to a medium width, so the figures beside them stay in view on a 1440 px screen
LONG_TEXT = ("Fund", "Recipient", "Applicant", "Purpose", "Priorities", "Owner")


def text_widths(frame: pd.DataFrame) -> dict:
    """Column formats any table can take: long text columns (a fund's or recipient's name, a purpose) at a medium
    width (the whole text shows on hover and in the CSV); shares, "(%)" columns, as "58.3%"."""
    widths = {c: st.column_config.TextColumn(c, width="medium") for c in LONG_TEXT if c in frame.columns}
    shares = {c: st.column_config.NumberColumn(c, format="%.1f%%") for c in frame.columns if str(c).endswith("(%)")}
    return widths | shares


def money_styled(frame: pd.DataFrame, money_columns: Iterable[str], exact: bool = True):
    """A Styler showing the money columns as "£1,793,938", "−£576" or "not recorded" (`format.money_text`),
    keeping the numbers underneath, so a column still sorts by amount and a test reads the figure."""
    from components.format import money_text

    cols = [c for c in money_columns if c in frame.columns]
    return frame.style.format(lambda v: money_text(v, exact), subset=cols)


def labels(frame: pd.DataFrame, key: str, name: str = "name") -> dict:
    """`frame[key] -> frame[name]`, in the frame's order: the options and their labels of a select box."""
    return dict(zip(frame[key], frame[name], strict=False))


def estimate_cells(flags: pd.Series) -> pd.Series:
    """A column of is-estimate flags as a table shows it: "estimate" or blank."""
    return flags.map({True: "estimate", False: ""})


def colour_comparison(frame: pd.DataFrame, column: str):
    """A Styler colouring `column` by better/similar/worse (or higher/similar/lower)."""
    return frame.style.map(lambda v: f"background-color: {COMPARISON_COLOURS.get(str(v).split(' ')[0], '')}",
                           subset=[column])


def review_tables(findings, kind: str, key: str) -> None:
    """The tables beside a review's findings of one kind (`services_db.review.shown`): every cell formatted by the
    function its sentence uses, so "£7,620" in a sentence is "£7,620" in its table. Shown as text, in an expander
    (its title and caption escaped: Markdown, like any text a page shows, in case they ever carry a name)."""
    from components.format import escape
    from services_db.review.shown import finding_tables

    for i, t in enumerate(finding_tables(findings, kind)):
        if not len(t):
            continue
        with st.expander(f"Table: {escape(t.title.lower())}"):
            st.dataframe(t.frame(compact=True), hide_index=True, width="stretch", key=f"{key}_{kind}_{i}")
            if t.caption:
                st.caption(escape(t.caption))


def shown_frame(findings, kind: str) -> pd.DataFrame:
    """The first table beside a review's findings of one kind, as text cells (empty columns left out)."""
    from services_db.review.shown import finding_tables

    tables = finding_tables(findings, kind)
    return tables[0].frame(compact=True) if tables else pd.DataFrame()


def formatted(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """`frame` with the named columns as text, each by its kind of number (`services_db.review.shown.cell`: money,
    percent, rate, count...): the functions the review's sentences use, so a table beside a sentence shows its
    figures exactly as the sentence does."""
    from services_db.review.shown import cell

    out = frame.copy()
    for column, kind in kinds.items():
        if column in out.columns:
            out[column] = [cell(kind, v) for v in out[column].tolist()]
    return out
