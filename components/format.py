"""Numbers as people read them in briefings: £1.28m, £41,000, 10.9%."""

from __future__ import annotations

import html


def money(value: float) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1_000_000:
        return f"£{value / 1_000_000:,.2f}m"
    return f"£{value:,.0f}"


def escape(text: object) -> str:
    """User-supplied text for HTML; Markdown specials are backslash-escaped too."""
    out = html.escape(str(text), quote=True)
    for ch in "\\`*_{}[]()#+-.!|~>":
        out = out.replace(ch, "\\" + ch)
    return out


ESTIMATE_NOTE = "Figures marked (estimate) are made by a documented rule (docs/demo-data.md), not taken from a source."


def estimate(text: str, is_estimate: bool) -> str:
    """'£41,000' or '£41,000 (estimate)': estimates are labelled wherever they are shown."""
    return f"{text} (estimate)" if is_estimate else text


def per_1000(value: float) -> str:
    if value is None or value != value:
        return "–"
    return f"£{value:,.2f}" if abs(value) < 100 else f"£{value:,.0f}"


def day(value) -> str:
    """A date as briefings write it: 31 Mar 2014 ('–' when missing)."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    return pd.Timestamp(value).strftime("%d %b %Y")


def empty(what: str, suggestion: str) -> str:
    """The message for an empty result: what is missing and what to change."""
    return f"No {what}. {suggestion}"
