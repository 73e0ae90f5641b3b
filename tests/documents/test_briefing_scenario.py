"""A what-if scenario's briefing (issue 15, point 3): the ordinary briefing built from the scenario's snapshot,
"Scenario: <name> — not actual allocations" on every page (PDF: a band drawn on each page's canvas; Word: the
header of every section), a page of the changes and what they do, a fingerprint naming the actual data and the
changes; building one leaves the actual briefing exactly as it was; the command line writes one to a file."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from services_db.commands import main
from services_db.db import open_database
from services_db.documents.build import (
    BriefingError,
    build_briefing,
    build_scenario_briefing,
    gather,
    scenario_filename,
)
from services_db.permissions import Actor
from services_db.queries import default_as_at
from services_db.scenarios import MoveMoney
from services_db.scenarios.changes import changes_key
from services_db.scenarios.store import save_scenario

NAME = "CSG to Burnley"
MOVE = MoveMoney("csg-2013-14", "Blackpool", "Burnley & Pendle", 20_000, "vulnerable-adults")
WATERMARK = f"Scenario: {NAME} \u2014 not actual allocations"
MOVE_TEXT = ("Move £20,000 a year of Home Office Community Safety Grant 2013-14 from Blackpool to Burnley & Pendle "
             "(vulnerable adults)")


def _pages(pdf: bytes, layout: bool = False) -> list[str]:
    """Each page's text as poppler's pdftotext gives it (what a reader copies or searches); pypdf without it."""
    if shutil.which("pdftotext"):
        args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
        out = subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode("utf-8")
        return out.split("\f")[:-1]  # pdftotext ends every page with a form feed
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def built(_seeded_sqlite, tmp_path_factory):
    """One database with the scenario saved; the actual Preston briefing built before and after the scenario's
    briefings (Preston and the force, PDF and Word), so the tests below only read."""
    path = tmp_path_factory.mktemp("scenario_briefing") / "demo.db"
    shutil.copy(_seeded_sqlite, path)
    db = open_database(f"sqlite:///{path}")
    save_scenario(db, Actor("demo-opcc", "opcc"), NAME, [MOVE])
    day = default_as_at(db)
    out = {"db": db, "as_at": day, "actual_before": build_briefing(db, "Preston", day, "pdf", inputs=gather(db))}
    for area in ("Preston", None):
        for fmt in ("pdf", "docx"):
            out[(area, fmt)] = build_scenario_briefing(db, NAME, area, day, fmt)
    out["actual_after"] = build_briefing(db, "Preston", day, "pdf", inputs=gather(db))
    out["fingerprint"] = gather(db, with_map=False).fingerprint
    yield out
    db.dispose()


@pytest.mark.parametrize("area", ["Preston", None], ids=["area", "force"])
def test_every_pdf_page_carries_the_watermark(built, area):
    pdf = built[(area, "pdf")].content
    pages = _pages(pdf)
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages) > 1
    assert all(WATERMARK in page for page in pages), [i + 1 for i, p in enumerate(pages) if WATERMARK not in p]
    assert sum(page.count(WATERMARK) for page in pages) == len(pages)  # once a page, in the band at its head
    assert all(page.lstrip().startswith(WATERMARK) for page in pages)  # read first, before anything on the page


@pytest.mark.parametrize("area", ["Preston", None], ids=["area", "force"])
def test_the_changes_page_lists_the_move_and_the_gini(built, area):
    pages = _pages(built[(area, "pdf")].content)
    laid_out = _pages(built[(area, "pdf")].content, layout=True)
    page = next(i for i, p in enumerate(pages) if "Changes" in p and MOVE_TEXT in _flat(p))
    assert page <= 1  # page 1 (the force) or the page after the summary (an area)
    effects = "\n".join(laid_out[page:page + 2])
    assert re.search(r"Home Office Community Safety Grant 2013-14\s+0\.14 \u2192 0\.13\s+2\.5 \u2192 2\.3", effects)
    assert re.search(r"Burnley & Pendle\s+Vulnerable adults\s+more provision\s+£0 \u2192 £20,000", effects)
    assert re.search(r"Blackpool\s+£343,492 \u2192 £323,492", effects)  # money at risk moves with the money
    text = _flat(" ".join(pages))
    # the same finding, actual beside scenario
    assert "the highest is 2.5 times the lowest (Gini 0.14)" in text and "2.3 times the lowest (Gini 0.13)" in text


def test_page_one_says_it_is_a_scenario_before_any_figure(built):
    first = _flat(_pages(built[("Preston", "pdf")].content)[0])
    assert f"Scenario “{NAME}”: briefing for the Place-Based Chief Inspector" in first
    assert first.index("What if:") < first.index("As at 27 January 2014")
    assert "not the actual allocations" in first


def test_the_fingerprint_is_the_data_and_the_changes(built):
    fp = f"data {built['fingerprint']}; scenario {changes_key([MOVE])}"
    b = built[("Preston", "pdf")]
    assert b.briefing.fingerprint == fp
    assert re.fullmatch(r"data [0-9a-f]{12}; scenario [0-9a-f]{12}", fp)
    text = _flat(" ".join(_pages(b.content)))
    assert f"Fingerprint {fp} (the actual data's fingerprint; the scenario's changes' key)" in text
    meta = PdfReader(io.BytesIO(b.content)).metadata
    assert meta.subject == f"Fingerprint {fp}" and NAME in meta.title and "not actual allocations" in meta.title
    assert b.filename == "briefing-preston-scenario-csg-to-burnley-2014-01-27.pdf"
    assert scenario_filename(NAME, "Preston", built["as_at"], "pdf") == b.filename


@pytest.mark.parametrize("area", ["Preston", None], ids=["area", "force"])
def test_every_word_section_header_carries_the_watermark(built, area):
    doc = Document(io.BytesIO(built[(area, "docx")].content))
    assert doc.sections
    for section in doc.sections:
        assert not section.header.is_linked_to_previous
        assert WATERMARK in [p.text for p in section.header.paragraphs]
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    body = _flat(" ".join([p.text for p in doc.paragraphs] + cells))
    assert MOVE_TEXT in body and "0.14 \u2192 0.13" in cells
    assert WATERMARK in doc.core_properties.keywords


def test_the_actual_briefing_is_unchanged_by_a_scenario_briefing(built):
    before, after = built["actual_before"], built["actual_after"]
    assert before.briefing.text() == after.briefing.text()
    assert _pages(before.content) == _pages(after.content)
    assert before.content == after.content
    assert "Scenario" not in " ".join(_pages(after.content))
    assert before.briefing.fingerprint == built["fingerprint"]  # the real data's, with no scenario part


def test_a_scenario_briefing_has_the_scenario_figures(built):
    actual = built["actual_before"].briefing
    scenario = built[("Preston", "pdf")].briefing
    assert actual.watermark == "" and scenario.watermark == WATERMARK
    # Preston itself is not in the move: its own figures are the actual ones
    assert scenario.figures["total_funding"] == actual.figures["total_funding"]
    assert any("Burnley & Pendle" in line and "£0 \u2192 £20,000" in line for line in scenario.text().split("\n"))


def test_an_unknown_scenario_names_the_ones_there_are(built):
    with pytest.raises(BriefingError) as err:
        build_scenario_briefing(built["db"], "Nope", None, built["as_at"], "pdf")
    assert err.value.valid == [NAME] and err.value.what == "scenarios"


def test_command_line_writes_a_scenario_briefing_to_a_file(built, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", str(built["db"].engine.url))
    out = tmp_path / "briefings" / "csg.pdf"
    assert main(["briefing", "--scenario", NAME, "--area", "Preston", "--out", str(out)]) == 0
    assert out.read_bytes() == built[("Preston", "pdf")].content  # the app's button and the command line agree
    printed = capsys.readouterr().out
    assert f"scenario '{NAME}' (not actual allocations)" in printed and "fingerprint data " in printed
    word = tmp_path / "force.docx"
    assert main(["briefing", "--scenario", NAME, "--out", str(word)]) == 0
    doc = Document(Path(word))
    assert doc.sections[0].header.paragraphs[0].text == WATERMARK
    assert main(["briefing", "--scenario", "Nope", "--out", str(tmp_path / "x.pdf")]) == 2
    assert f"valid scenarios:\n  {NAME}" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
