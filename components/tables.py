"""Table pieces shared by pages: money and date column formats, and the colours of a comparison."""

from __future__ import annotations

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


def colour_comparison(frame: pd.DataFrame, column: str):
    """A Styler colouring `column` by better/similar/worse (or higher/similar/lower)."""
    return frame.style.map(lambda v: f"background-color: {COMPARISON_COLOURS.get(str(v).split(' ')[0], '')}",
                           subset=[column])
