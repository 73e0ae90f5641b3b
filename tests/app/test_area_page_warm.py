"""The area page's warm rerun draws exactly what its first run drew.

The warm page holds its figures (maps, spine, gap picture, trends) as one shared object per data version, area and
date instead of unpickling a copy on every rerun, and gives every chart's CSV footer the data version the page has
already read instead of re-deriving the snapshot per chart. Neither may change a single element or downloaded byte.
"""

from __future__ import annotations

import json
import re

from streamlit.testing.v1 import AppTest

from components import chart_data
from tests.app.chart_downloads import capture_downloads

_ELEMENT_ID = re.compile(rb"\$\$ID-[0-9a-f]{32}")
_STYLER_ID = re.compile(rb"T_[0-9a-f]{5}")  # pandas Styler's random table id (the comparison colours)
_STYLER_UUID = re.compile(rb"\n\x05[0-9a-f]{5}\x1a")


def _elements(node, found: list) -> list:
    """Every element under `node`, as (kind, comparable bytes): random ids blanked, a Plotly spec as parsed JSON."""
    proto = getattr(node, "proto", None)
    if proto is not None and hasattr(proto, "SerializeToString"):
        if getattr(proto, "deferred_file_id", ""):  # the briefing is built on click: a fresh id each run
            proto = type(proto).FromString(proto.SerializeToString())
            proto.deferred_file_id = "deferred"
        raw = _STYLER_UUID.sub(b"\n\x05-----\x1a", _STYLER_ID.sub(b"T_-----", _ELEMENT_ID.sub(
            b"$$ID-", proto.SerializeToString(deterministic=True))))
        at = raw.find(b'{"data":')
        if at >= 0:
            text = raw[at:].decode("utf-8", "replace")
            spec, end = json.JSONDecoder().raw_decode(text)
            raw = (raw[:at], json.dumps(spec, sort_keys=True), text[end:])
        found.append((type(node).__name__, raw))
    for child in (getattr(node, "children", {}) or {}).values():
        _elements(child, found)
    return found


def _page(at: AppTest, store: dict[str, bytes]) -> tuple[list, dict[str, bytes | None]]:
    """The page's elements and the file each chart's CSV button hands over."""
    files = {b.proto.id: store.get(b.proto.url.rsplit("/", 1)[-1].split(".", 1)[0])
             for b in at.get("download_button") if b.proto.id.endswith("_csv")}
    return _elements(at.main, []), files


def test_the_warm_rerun_draws_the_same_page_and_csvs(open_page, monkeypatch):
    store = capture_downloads(monkeypatch)
    at = open_page("area", query={"area": "Preston"})
    first, first_files = _page(at, store)
    at.run()
    assert not at.exception
    again, again_files = _page(at, store)
    assert len(at.get("plotly_chart")) >= 4 and len(first_files) >= 4
    assert again == first
    assert again_files == first_files and all(first_files.values())


def test_a_footer_given_the_version_is_the_footer_read_from_the_session(demo_data):
    _, as_at, _ = demo_data
    from components.context import data_version

    assert chart_data.footer(as_at, "Trend", data_version()) == chart_data.footer(as_at, "Trend")
