"""The briefing documents read back: the PDF's text and the Word file's headings, tables, pictures and footer
carry the same figures the area page's `area_profile` gives."""

from __future__ import annotations

import io
import re

from docx import Document
from pypdf import PdfReader

from services_db.documents.content import pounds
from services_db.documents.model import ESTIMATE_MARK, date_long


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    return reader, _flat(" ".join(page.extract_text() for page in reader.pages))


def test_pdf_carries_the_area_page_figures(built, profile, as_at):
    b = built("pdf")
    reader, text = _pdf_text(b.content)
    gaps = profile.review.findings.of_kind("gap")
    assert gaps, "the demo's Preston review has gaps; the test needs one"
    assert profile.name in text
    assert f"Figures as at {date_long(as_at)}" in text
    assert f"{len(profile.activity.services)} commissioned services cover some part of {profile.name}" in text
    assert pounds(profile.activity.annual_funding) in text
    assert _flat(gaps[0].sentence) in text
    for finding in profile.review.findings.findings[:5]:
        assert _flat(finding.sentence) in text
    assert b.briefing.fingerprint in text
    assert b.briefing.figures["total_funding"] == profile.activity.annual_funding
    assert b.briefing.sentences["top_gap"] == gaps[0].sentence


def test_pdf_is_a4_with_numbered_snapshot_footers(built, as_at):
    reader, _ = _pdf_text(built("pdf").content)
    n = len(reader.pages)
    assert n >= 5
    for i, page in enumerate(reader.pages, start=1):
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
        text = _flat(page.extract_text())
        assert f"Snapshot: figures as at {date_long(as_at)}" in text
        assert f"Page {i} of {n}" in text
    assert reader.metadata.title == f"Briefing: Preston, as at {date_long(as_at)}"


def test_word_file_has_real_headings_tables_and_pictures(built, profile, as_at):
    doc = Document(io.BytesIO(built("docx").content))
    h1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    h2 = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert h1 == ["Summary", "Need", "Plans and priorities", "Activity", "Review",
                  "Appendix: every service covering the area"]
    assert {"Data sources", "Gaps", "Duplication", "Funding cliffs", "Gaps raised by Early Action Teams"} <= set(h2)
    assert len(doc.inline_shapes) == 2  # the LSOA map and the funding chart

    appendix = doc.tables[-1]
    header = [c.text for c in appendix.rows[0].cells]
    assert header == ["Service", "Provider", "Commissioners", "Annual funding", "Ends"]
    names = [r.cells[0].text for r in appendix.rows[1:]]
    assert sorted(names) == sorted(profile.activity.services["name"])
    assert appendix.rows[0]._tr.trPr.xpath("./w:tblHeader")  # header repeats on each printed page

    svc = profile.activity.services.set_index("name")
    for row in appendix.rows[1:]:
        name, funding, ends = row.cells[0].text, row.cells[3].text, row.cells[4].text
        assert funding == pounds(float(svc.loc[name, "annual_funding"]), bool(svc.loc[name, "funding_is_estimate"]))
        assert ends.endswith(ESTIMATE_MARK) == bool(svc.loc[name, "end_date_is_estimate"])

    first_table = doc.tables[0]
    facts = {r.cells[0].text: r.cells[1].text for r in first_table.rows}
    assert facts["Area"] == "Preston"
    assert facts["Figures as at"] == date_long(as_at)
    assert facts["Data fingerprint"] == built("docx").briefing.fingerprint
    footer = doc.sections[0].footer.paragraphs[0]
    assert f"Snapshot: figures as at {date_long(as_at)}" in footer.text
    assert "NUMPAGES" in footer._p.xml and " PAGE " in footer._p.xml
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_pdf_and_word_show_the_same_words(built):
    """One content model, two renderers: the Word file's text is the PDF's (bar layout)."""
    pdf_text = _pdf_text(built("pdf").content)[1]
    doc = Document(io.BytesIO(built("docx").content))
    for table in doc.tables[-1:]:
        for row in table.rows[1:]:
            assert _flat(row.cells[0].text) in pdf_text
    assert built("pdf").briefing.text() == built("docx").briefing.text()


def test_a_cell_too_tall_for_a_page_is_shortened_in_the_pdf_and_kept_whole_in_word():
    """At national size a duplication group lists hundreds of services in one cell; reportlab cannot split a row,
    so the PDF shortens the cell (saying so) instead of failing, and the Word file keeps every word."""
    import datetime as dt

    from services_db.documents import model
    from services_db.documents.pdf import CELL_LIMIT, render_pdf
    from services_db.documents.word import render_docx

    names = "; ".join(f"Service number {i}" for i in range(1, 801))
    b = model.Briefing(area_code="X", area_name="Testshire", as_at=dt.date(2014, 1, 27), fingerprint="abc",
                       data_updated="today", title_page=model.TitlePage("Testshire", "Briefing", (("Area", "Testshire"),), ("test",)),
                       blocks=[model.Table(("Group", "Services"), (("families", names),))])
    _, text = _pdf_text(render_pdf(b))
    assert "Service number 1;" in text and "Service number 800" not in text
    assert f"{len(names):,} characters in full in the Word briefing" in text
    assert len(names) > CELL_LIMIT
    cells = [c.text for t in Document(io.BytesIO(render_docx(b))).tables for row in t.rows for c in row.cells]
    assert names in cells


def test_long_finding_lists_print_the_largest_and_say_how_many_more(demo_db, profile, as_at, monkeypatch):
    """At national size an area has hundreds of findings; the paper briefing prints the largest of each kind and
    says how many there are and where to read them all."""
    from services_db.documents import content as content_mod
    from services_db.documents.build import content_for, gather
    from services_db.documents.model import Bullets, Para

    monkeypatch.setattr(content_mod, "PRINT_LIMIT", 2)
    cliffs = profile.review.findings.of_kind("cliff")
    assert len(cliffs) > 2, "Preston's demo review has more than two funding cliffs; the test needs them"
    b = content_for(gather(demo_db, with_map=False), "Preston", as_at)
    printed = [s for blk in b.blocks if isinstance(blk, Bullets) for s in blk.items]
    assert _flat(cliffs[0].sentence) in map(_flat, printed) and _flat(cliffs[1].sentence) in map(_flat, printed)
    assert _flat(cliffs[2].sentence) not in map(_flat, printed[5:])  # the summary's top five may quote it
    notes = [blk.text for blk in b.blocks if isinstance(blk, Para)]
    assert f"The 2 largest of {len(cliffs):,} findings of this kind are printed here; the area page's Review " \
           f"section and “python -m services_db review --area \"Preston\"” list them all." in notes
