"""Helpers for the page tests of "every chart and map has its data, and the data's CSV says where it came from"
(issue 14 point 5), one checker for every page, so each page's test is one call.

AppTest shows a download button but not its file: the bytes live in the run's media store, which is gone once the
run ends. `capture_downloads` records each file as a run stores it, so a test can read what the button hands over.
"""

from __future__ import annotations

import datetime as dt
import re

from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from components.chart_data import DATA_TITLE, SOURCE


def capture_downloads(monkeypatch) -> dict[str, bytes]:
    """From now on, every file a page stores for download, by its media file id."""
    store: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            store[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return store


def downloaded(at: AppTest, key: str, store: dict[str, bytes]) -> bytes:
    """The file the download button `key` hands the browser (its URL ends in the media file id)."""
    url = at.download_button(key=key).proto.url
    return store[url.rsplit("/", 1)[-1].split(".", 1)[0]]


def assert_ends_with_footer(data: bytes, as_at: dt.date) -> list[str]:
    """The CSV's last lines are the source, the "as at" date and the data fingerprint (after a blank line);
    returns the footer lines."""
    lines = data.decode("utf-8-sig").rstrip("\n").split("\n")
    footer = lines[-3:]
    assert lines[-4] == "", lines[-5:]
    assert footer[0].startswith(f'"Source: {SOURCE}'), footer
    assert footer[1] == f'"As at: {as_at:%-d %B %Y}"', footer
    assert re.fullmatch(r'"Data fingerprint: [0-9a-f]{12}"', footer[2]), footer
    return footer


def assert_every_chart_has_its_data(at: AppTest) -> int:
    """One "Data behind this chart" expander per Plotly chart or map on the page; returns how many."""
    charts = len(at.get("plotly_chart"))
    data = [e.label for e in at.expander if e.label.startswith(DATA_TITLE)]
    assert charts == len(data), (charts, data)
    return charts


def check_chart_data(open_page, monkeypatch, as_at: dt.date, page: str, *, charts: int, key: str, header: str,
                     source: str, query: dict | None = None) -> tuple[AppTest, dict[str, bytes]]:
    """Open `page`: it draws `charts` charts (at least, when negative: -3 is "3 or more"), each with its "Data
    behind this chart"; the CSV of chart `key` starts with the table's `header` and ends with the footer, whose
    source line names `source`. Returns the page and its downloads, for the page's own further checks."""
    store = capture_downloads(monkeypatch)
    at = open_page(page, query=query)
    drawn = assert_every_chart_has_its_data(at)
    assert drawn == charts or (charts < 0 and drawn >= -charts), (drawn, charts)
    data = downloaded(at, f"{key}_csv", store)
    assert data.decode("utf-8-sig").startswith(header), data[:200]
    assert source in assert_ends_with_footer(data, as_at)[0]
    return at, store
