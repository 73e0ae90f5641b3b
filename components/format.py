"""Numbers as people read them in briefings: £1.28m, £41,000, 10.9%."""

from __future__ import annotations

import html
import re


def money(value: float) -> str:
    """£1.28m, £41,000, −£576 (a true minus before the pound sign, never "£-576"); "–" for no value."""
    if value is None:
        return "–"
    sign = "\u2212" if value < 0 and round(abs(value)) > 0 else ""
    value = abs(value)
    if value >= 1_000_000:
        return f"{sign}£{value / 1_000_000:,.2f}m"
    return f"{sign}£{value:,.0f}"


MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|~$<>:")  # ":" too: no http:// autolink, no :red[...] or :icon:
_REFERENCE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # an & that would start a character reference such as &lt;
# The backslash first: every later replacement adds one, which must not be escaped again.
_SPECIALS_IN_ORDER = ("\\", *sorted(MARKDOWN_SPECIALS - {"\\"}))


def escape(text: object) -> str:
    """User-supplied text (a name, a description, a username) for anything Streamlit renders as Markdown: markdown,
    title, header, subheader, caption, info/warning/error/success, and widget labels. Every Markdown special is
    backslash-escaped, so a name cannot make a link (nor a bare http:// or www. one), image, emphasis, heading, list,
    table, LaTeX ($...$), icon or colour directive (:red[...]); HTML is made inert (< and > become &lt; and &gt;, and an & that would start a character
    reference becomes &amp;). Quotes and a plain & are left as typed: "Women's", "Burnley & Pendle"."""
    out = _REFERENCE.sub("&amp;", str(text)).replace("<", "&lt;").replace(">", "&gt;")
    # One C-level str.replace per special the text holds: a generator per character took 0.38 s of the area page
    # at national size; this is ten times faster on sentences (str.translate with a table was no faster here).
    for ch in _SPECIALS_IN_ORDER:
        if ch in out:
            out = out.replace(ch, "\\" + ch)
    return out


def plain(text: object) -> str:
    """User-supplied text for a Plotly title or label, which reads a little HTML (<b>, <a href>): tags made inert."""
    return html.escape(str(text), quote=False)


ESTIMATE_NOTE = "Figures marked (estimate) are made by a documented rule (docs/demo-data.md), not taken from a source."


def estimate(text: str, is_estimate: bool) -> str:
    """'£41,000' or '£41,000 (estimate)': estimates are labelled wherever they are shown."""
    return f"{text} (estimate)" if is_estimate else text


def day(value) -> str:
    """A date as briefings write it: 31 Mar 2014, 1 Apr 2014 ('–' when missing)."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    return pd.Timestamp(value).strftime("%-d %b %Y")


NOT_RECORDED = "not recorded"


def money_text(value: object, exact: bool = True) -> str:
    """Money in a table or on a chart: "£1,793,938" (exact) or "£1.79m"; negative "−£576" (never "£-576"); unknown
    "not recorded", never £0: a missing amount is not nothing."""
    import pandas as pd

    if value is None or pd.isna(value):
        return NOT_RECORDED
    v = float(value)
    text = f"£{abs(v):,.0f}" if exact else money(abs(v))
    negative = v <= -0.5 if exact else text != "£0" and v < 0  # no "−£0"
    return f"\u2212{text}" if negative else text
