"""components.chart_data: the one way a chart's data is offered, a CSV safe to open whose footer says where the
figures came from, when, and from which data (the briefing's fingerprint)."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from components import chart_data
from services_db.documents.fingerprint import fingerprint


def test_csv_is_formula_safe_and_ends_with_source_date_and_fingerprint():
    frame = pd.DataFrame({"Fund": ["=HYPERLINK(1)", 'Say "hi", twice'], "Amount (£)": [-576.0, None]})
    out = chart_data.csv_with_footer(frame, {"Source": "Funds page, 2013-14", "As at": "27 January 2014",
                                             "Data fingerprint": "abc123def456"})
    assert out.startswith(b"\xef\xbb\xbf")  # Excel reads the £ right
    lines = out.decode("utf-8-sig").split("\n")
    assert lines[0] == "Fund,Amount (£)"
    assert lines[1] == "'=HYPERLINK(1),-576.0"  # would run as a formula: made text
    assert lines[2] == '"Say ""hi"", twice",'  # quotes and commas kept in one cell; unknown stays empty, not 0
    assert lines[3:] == ["", '"Source: Funds page, 2013-14"', '"As at: 27 January 2014"',
                         '"Data fingerprint: abc123def456"', ""]
    read = pd.read_csv(io.BytesIO(out), encoding="utf-8-sig", nrows=2)
    assert read["Fund"].tolist() == ["'=HYPERLINK(1)", 'Say "hi", twice']  # the table reads back as it was


def test_footer_names_the_figures_the_date_and_the_datas_fingerprint(demo_data):
    data, as_at, _ = demo_data
    lines = chart_data.footer(as_at, "Matching services per district")
    assert lines == {"Source": f"{chart_data.SOURCE}: Matching services per district",
                     "As at": f"{as_at:%-d %B %Y}", "Data fingerprint": fingerprint(data)}
    assert chart_data.footer(dt.date(2016, 7, 21))["As at"] == "21 July 2016"


def test_a_maps_table_names_each_place_its_value_and_estimates():
    frame = pd.DataFrame({"code": ["E1", "E2"], "name": ["Preston", "Wyre"], "value": [1.5, None],
                          "is_estimate": [False, True], "unit": ["x", "x"]})
    table = chart_data.map_table(frame, value="value", label="Rate (per 1,000 residents)")
    assert list(table.columns) == ["Area code", "Area", "Rate (per 1,000 residents)", "Estimate"]
    assert table["Estimate"].tolist() == ["", "estimate"]
    lsoa = chart_data.map_table(frame.drop(columns="is_estimate"), value="value", label="Services", place="LSOA")
    assert list(lsoa.columns) == ["LSOA code", "LSOA", "Services"]
