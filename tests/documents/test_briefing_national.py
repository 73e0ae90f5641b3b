"""Issue 13 (national scale within budget): the briefing at national size.

- A table cell is capped by its column's capacity and says how many items it leaves out: at national size the
  inequity table's "Received nothing" cell listed every district in the country and reportlab failed the build
  (LayoutError: a row cannot be split across pages).
- An area's briefing names the districts of its own force and counts the rest ("… and 298 districts in other
  forces"), in the sentences and in the tables beside them.
- Past APPENDIX_LISTED services the appendix lists those working only within the force and counts the
  force-wide and national ones in one table (count and funding).
- The data fingerprint is kept per snapshot object (a weak reference, never an id()), and the record counts by
  source read a single-source table once instead of sorting it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import importlib
import io
import re

import pandas as pd
import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import func, select

from services_db.areas import area_profile
from services_db.db import ALL_FORCES, open_database
from services_db.documents import build as build_mod
from services_db.documents import content as content_mod
from services_db.documents import model
from services_db.documents.content import review_table
from services_db.documents.model import FindingList, Heading, Table
from services_db.documents.pdf import TEXT_WIDTH, render_pdf
from services_db.documents.word import render_docx
from services_db.queries import default_as_at, review_data
from services_db.review.shown import ShownTable
from services_db.scale.generate import generate

LANCASHIRE = "E23000003"
fp_mod = importlib.import_module("services_db.documents.fingerprint")  # the package exports the function


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pdf_text(content: bytes) -> str:
    return _flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def _briefing(blocks: list) -> model.Briefing:
    return model.Briefing(area_code="X", area_name="Testshire", as_at=dt.date(2024, 1, 31), fingerprint="abc",
                          data_updated="today", blocks=blocks,
                          title_page=model.TitlePage("Testshire", "Briefing", (("Area", "Testshire"),), ("test",)))


# -- 1. a cell is capped by its column, saying how much it leaves out ----------------------------------------------

INEQUITY_COLUMNS = ("Fund or theme", "Total (£)", "Placed in areas (£)", "Received nothing", "Areas funded",
                    "Lowest", "Lowest in", "Areas at the lowest", "Highest", "Highest in", "Areas at the highest",
                    "Per residents", "Highest ÷ lowest", "Gini")
INEQUITY_KINDS = ("text", "money", "money", "names", "count", "rate", "text", "count", "rate", "text", "count",
                  "number0", "number1", "number2")


def test_a_received_nothing_list_of_every_district_renders_capped_by_its_column():
    """The bench's failure: the national inequity table (14 columns, so a 52-pt names column) with a "Received
    nothing" cell of 4,000 district names. Before: LayoutError (a 600-character cut still wrapped to ~70 lines).
    Now the cell keeps whole names up to its column's capacity and ends "… and N more"; Word keeps every name."""
    names = [f"District {i:04d}" for i in range(1, 4001)]
    rows = tuple((f"Fund {k}", "£1.2m", "£1.2m", "; ".join(names), "12", "£1.20", "Burnley", "1", "£4.10",
                  "Pendle", "1", "1,000", "3.4", "0.21") for k in range(3))
    shown = ShownTable(kind="inequity", title="Inequity", columns=INEQUITY_COLUMNS, rows=rows,
                       keys=tuple({"label": r[0]} for r in rows), kinds=INEQUITY_KINDS)
    table = review_table(shown)[0]
    b = _briefing([Heading("Across the force", 1), table])

    text = _pdf_text(render_pdf(b))  # LayoutError before the fix

    width = TEXT_WIDTH * table.widths[3] / sum(table.widths)
    assert width < 60  # the narrow column the national table has
    kept = re.findall(r"District (\d{4})", text)
    per_row = len(kept) // 3
    assert 5 <= per_row < 4000
    assert kept[:per_row] == [f"{i:04d}" for i in range(1, per_row + 1)]  # whole names, in order
    assert text.count(f"\u2026 and {4000 - per_row:,} more (all in the Word briefing)") == 3
    cells = [c.text for t in Document(io.BytesIO(render_docx(b))).tables for row in t.rows for c in row.cells]
    assert "; ".join(names) in cells


def test_capped_keeps_whole_items_within_the_capacity_and_counts_the_rest():
    from services_db.documents.pdf import capped, cell_capacity

    names = "; ".join(f"Name {i}" for i in range(1, 101))
    out = capped(names, 120)
    assert len(out) <= 120
    shown, tail = out.split(" \u2026 and ")
    assert shown.split("; ") == [f"Name {i}" for i in range(1, len(shown.split("; ")) + 1)]
    assert tail == f"{100 - len(shown.split('; ')):,} more (all in the Word briefing)"
    words = " ".join(["word"] * 100)
    out = capped(words, 100)
    kept = out.split(" \u2026 ")[0].split()
    assert len(out) <= 100 and set(kept) == {"word"}
    assert out.endswith(f"\u2026 and {100 - len(kept):,} more words (all in the Word briefing)")
    assert capped("short", 100) == "short"
    own = "; ".join(["Blackburn with Darwen", "Blackpool", "Burnley", "Chorley", "Fylde", "Hyndburn", "Lancaster",
                     "Pendle", "and 329 districts in other forces"])  # the briefing's own count stays last
    assert capped(own, 110) == ("Blackburn with Darwen; Blackpool \u2026 and 6 more; and 329 districts "
                                "in other forces (all in the Word briefing)")
    assert cell_capacity(52.0) == int(44 / 4.5) * 20  # (width - padding) / 4.5 pt a character × 20 lines


# -- 2. own force's districts by name, the rest counted; 3. the appendix at national size ------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """A small national database (every LSOA, district and force; 200 services), SQLite, generated once."""
    path = tmp_path_factory.mktemp("national") / "small.db"
    db = open_database(f"sqlite:///{path}")
    generate(f"sqlite:///{path}", seed=7, scale=0.002, periods=1)
    yield db
    db.dispose()


def _lancashire_names(data) -> set[str]:
    tree = data.hierarchy
    return {str(tree.name_of(c)) for c in tree.descendants(LANCASHIRE, "district")}


def test_an_area_briefing_names_its_own_forces_districts_and_counts_the_rest(national):
    """All forces' data: every inequity finding lists each district in the country that received nothing. The
    briefing names Lancashire's and gives the rest as a count, in the sentence and in the table beside it."""
    data = review_data(national, ALL_FORCES)
    inputs = dataclasses.replace(build_mod.gather(national, with_map=False), data=data)
    b = build_mod.content_for(inputs, "Preston", default_as_at(national))
    profile_findings = area_profile(data, "PBA04", default_as_at(national)).review.findings
    own = _lancashire_names(data)
    summary = profile_findings.tables.get("inequity_summary")
    zero = {str(r["label"]): [str(n) for n in r["zero_areas"]] for r in summary.to_dict("records")}
    others = {n for names in zero.values() for n in names if n not in own}
    assert len(others) > 100, "the test needs inequity findings listing districts of other forces"

    sentences = [s for blk in b.blocks if isinstance(blk, FindingList) for s, _ in blk.items]
    inequity = [s for s in sentences if " received nothing" in s and s.split(": ", 1)[0] in zero]
    assert inequity
    for s in inequity:
        label = s.split(": ", 1)[0]
        named = [n for n in zero[label] if n in own]
        n_other = len(zero[label]) - len(named)
        assert n_other > 0
        assert s.startswith(f"{label}: {', '.join(named)} and {n_other:,} districts in other forces received "
                            "nothing;")
        listed = s.removeprefix(f"{label}: ").split(" received nothing")[0]
        assert not [n for n in others if re.search(rf"\b{re.escape(n)}\b", listed) and n not in own]

    tables = [blk for blk in b.blocks if isinstance(blk, Table) and "Received nothing" in blk.columns]
    assert tables
    for t in tables:
        j, label = t.columns.index("Received nothing"), t.columns.index("Fund or theme")
        for row in t.rows:
            named = [n for n in zero[row[label]] if n in own]
            n_other = len(zero[row[label]]) - len(named)
            assert row[j] == "; ".join(named) + f"; and {n_other:,} districts in other forces"


def test_one_force_in_the_data_names_every_area_as_before(demo_db):
    """The demo has one force: nothing is counted, so the briefing reads as it did."""
    from services_db.documents.content import OwnForce

    data = review_data(demo_db)
    own = OwnForce.of(data, "PBA04")
    assert own.force_code is not None and not own.elsewhere
    assert own.cell("Burnley; Pendle") == "Burnley; Pendle"
    assert own.sentence_names(["Burnley", "Pendle"]) is None


def test_past_the_limit_the_appendix_counts_force_wide_and_national_services(national, monkeypatch):
    """Lancashire's own snapshot: national services (residents covered outside the force) and force-wide ones
    are counted in one table, with their funding; the services working only within the force are listed."""
    monkeypatch.setattr(content_mod, "APPENDIX_LISTED", 0)
    data = review_data(national, LANCASHIRE)
    day = default_as_at(national)
    b = build_mod.content_for(build_mod.gather(national, with_map=False), "Preston", day)
    start = next(i for i, x in enumerate(b.blocks) if isinstance(x, Heading) and x.text == content_mod.APPENDIX_HEADING)
    wide, listed = [x for x in b.blocks[start:] if isinstance(x, Table)]

    services = area_profile(data, "PBA04", day).activity.services
    codes = data.coverage.groupby("service_id")["area_code"].agg(set)
    national_ids = set(data.services.loc[data.services["outside_population"] > 0, "service_id"])
    is_national = services["service_id"].isin(national_ids)
    is_force = ~is_national & services["service_id"].map(lambda s: LANCASHIRE in codes.get(s, set()))
    assert is_national.any() and is_force.any() and (~is_national & ~is_force).any()

    def money(mask: pd.Series) -> str:
        these = services[mask & services["funding_recorded"]]
        return content_mod.pounds(float(these["annual_funding"].sum()), bool(these["funding_is_estimate"].any()))

    assert wide.rows == (
        ("Lancashire and beyond (national or several forces)", f"{int(is_national.sum()):,}", money(is_national),
         f"{int((is_national & ~services['funding_recorded']).sum()):,}"),
        ("The whole of Lancashire", f"{int(is_force.sum()):,}", money(is_force),
         f"{int((is_force & ~services['funding_recorded']).sum()):,}"))
    assert {r[0] for r in listed.rows} == set(services.loc[~is_national & ~is_force, "name"])
    intro = b.blocks[start + 1].text
    assert f"The {len(services):,} services current" in intro and "The directory lists every one of them" in intro


def test_the_demo_appendix_still_lists_every_service(demo_db):
    b = build_mod.content_for(build_mod.gather(demo_db, with_map=False), "Preston", default_as_at(demo_db))
    start = next(i for i, x in enumerate(b.blocks) if isinstance(x, Heading) and x.text == content_mod.APPENDIX_HEADING)
    tables = [x for x in b.blocks[start:] if isinstance(x, Table)]
    assert len(tables) == 1 and len(tables[0].rows) == b.figures["n_services"]


# -- 4. the fingerprint memo: per snapshot object, never id() ------------------------------------------------------


def test_the_fingerprint_is_kept_per_snapshot_and_goes_with_it(demo_db, monkeypatch):
    data = review_data(demo_db)
    calls = []
    real = fp_mod._digest
    monkeypatch.setattr(fp_mod, "_digest", lambda parts: calls.append(len(parts)) or real(parts))
    frames = len(dataclasses.fields(data))
    copy = dataclasses.replace(data)  # the same frames, a new snapshot (version "")
    first = fp_mod.fingerprint(copy)
    assert fp_mod.fingerprint(copy) == first
    assert calls.count(frames) == 1  # the snapshot's frames hashed once, then kept
    assert fp_mod.fingerprint(dataclasses.replace(data)) == first  # a new snapshot: hashed again, same answer
    assert calls.count(frames) == 2

    # the same data version, other frames (one force's snapshot and all forces' share a version): not reused
    fewer = type(data)(**{f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
                       | {"services": data.services.iloc[1:]}, version=data.version)
    same_version = type(data)(**{f.name: getattr(data, f.name) for f in dataclasses.fields(data)},
                              version=data.version)
    assert fp_mod.fingerprint(fewer) != fp_mod.fingerprint(same_version)

    kept = len(fp_mod._DIGESTS)
    del copy, fewer, same_version
    gc.collect()
    assert len(fp_mod._DIGESTS) < kept  # a snapshot that is gone takes its digest with it
    assert not hasattr(fp_mod, "_MEMO")


# -- source counts: one read for a table of one source -----------------------------------------------------------


def _grouped(db) -> dict[str, int]:
    """The counts as they were made before: every table grouped by source."""
    from services_db.models import Base

    counts: dict[str, int] = {}
    with db.engine.connect() as c:
        for table in Base.metadata.sorted_tables:
            if "source" in table.c:
                for source, n in c.execute(select(table.c.source, func.count()).group_by(table.c.source)):
                    key = str(source or "not recorded").split(" \u00a7", 1)[0].strip()
                    key = key.split(" (", 1)[0].strip() if key.startswith("rule:") else key
                    counts[key] = counts.get(key, 0) + int(n)
    return counts


def test_source_counts_match_grouping_every_table(demo_db, national):
    for db in (demo_db, national):
        assert build_mod._count_sources(db) == _grouped(db)
    assert len(_grouped(demo_db)) > 5  # tables of several sources (grouped) and of one (read once)
