"""components.fund_charts (and the money formats its tables use): money as people read it ("−£576", "not recorded"),
bars that never draw an unknown amount as £0 nor an application as money, and a timeline whose every grant counts."""

from __future__ import annotations

import math

import pandas as pd

from components import fund_charts as charts
from components.format import money_text
from components.tables import money_styled


def test_money_text():
    assert money_text(-576) == "\u2212£576"  # a true minus before the pound sign, never "£-576"
    assert money_text(1_793_938) == "£1,793,938"
    assert money_text(1_793_938, exact=False) == "£1.79m"
    assert money_text(-1_500_000, exact=False) == "\u2212£1.50m"
    assert money_text(float("nan")) == money_text(None) == money_text(pd.NA) == "not recorded"
    assert money_text(-0.2) == "£0"  # no "−£0"
    assert charts.count_text(1, "record") == "1 record" and charts.count_text(2, "record") == "2 records"


def _summary() -> pd.DataFrame:
    """Three funds: one over-allocated by £576, one with an award of unknown amount, one with no total."""
    return pd.DataFrame({
        "fund_key": ["a", "b", "c"], "name": ["Over", "Unknown award", "No total"], "total": [1000.0, 500.0, math.nan],
        "allocated": [1376.0, 200.0, 50.0], "applied": [200.0, 100.0, 0.0], "unallocated": [-576.0, math.nan, math.nan],
        "unknown_amounts": [0, 2, 0],
    })


def test_bars_say_what_they_cannot_draw():
    fig = charts.allocation_bars_figure(_summary())
    traces = {t.name: t for t in fig.data}
    unallocated = traces["Unallocated"]
    assert list(unallocated.x[:1]) == [0] and all(pd.isna(v) for v in unallocated.x[1:])  # unknown: not drawn
    assert list(traces[charts.APPLIED_LABEL].x[:2]) == [20.0, 20.0]
    notes = [a.text for a in fig.layout.annotations]
    assert "over-allocated: \u2212£576 unallocated" in notes
    assert "2 amounts not recorded: unallocated not known" in notes
    assert "total not recorded: no bar" in notes
    sentences = " ".join(charts.unknown_sentences(_summary()))
    assert "2 awards or applications with no amount recorded (not drawn, not counted as £0)" in sentences
    assert "\u2212£576 unallocated" in sentences and "£-" not in sentences


def test_tables_show_negative_and_unknown_money_in_words():
    table = charts.allocation_bar_table(_summary())
    html = money_styled(table, ["Unallocated (£)"]).to_html()
    assert "\u2212£576" in html and "not recorded" in html and "£-576" not in html
    assert table["Unallocated (£)"].iloc[0] == -576  # the number stays underneath (sorting, tests, CSV)


def test_timeline_labels_count_every_grant():
    timeline = pd.DataFrame({
        "fund_key": ["caf"], "fund": ["Community Action Fund 2013-14"], "financial_year": ["2013-14"],
        "fund_start": [pd.Timestamp("2013-04-01")], "fund_end": [pd.Timestamp("2014-03-31")],
        "ends": [pd.Timestamp("2014-03-31")], "quarter": ["2013-14 Q4"], "grants": [24], "amount": [34_800.0],
        "unknown_amounts": [0], "from_fund_end": [0]})
    fig = charts.end_timeline_figure(timeline, charts.fund_colours(["caf"]))
    caf = next(t for t in fig.data if t.name == "Community Action Fund 2013-14")
    assert list(caf.text) == ["24 grants · £34,800"]
    assert charts.end_table(timeline)["Grants ending"].tolist() == [24]

