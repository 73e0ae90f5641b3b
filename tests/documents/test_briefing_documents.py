"""The briefing documents read back: the PDF's text and the Word file's headings, tables, pictures and footer
carry the same figures the area page's `area_profile` gives."""

from __future__ import annotations

import io
import re

from docx import Document
from pypdf import PdfReader

from services_db.documents.content import APPENDIX_HEADING, NOT_RECORDED, pounds
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
    assert h1 == ["Summary", "Need", "Plans and priorities", "Activity", "Review", "Across the force",
                  "About this briefing", APPENDIX_HEADING]
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
        assert funding in (pounds(float(svc.loc[name, "annual_funding"]), bool(svc.loc[name, "funding_is_estimate"])),
                           NOT_RECORDED)
        assert funding != pounds(0.0)  # unknown funding is "not recorded", never £0
        assert ends.endswith(ESTIMATE_MARK) == bool(svc.loc[name, "end_date_is_estimate"])

    about = next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["About", "Value"])
    facts = {r.cells[0].text: r.cells[1].text for r in about.rows[1:]}
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
    so the PDF shortens the cell to what its column holds (saying how many names it leaves out) instead of
    failing, and the Word file keeps every word."""
    import datetime as dt

    from services_db.documents import model
    from services_db.documents.pdf import TEXT_WIDTH, cell_capacity, render_pdf
    from services_db.documents.word import render_docx

    names = "; ".join(f"Service number {i}" for i in range(1, 801))
    b = model.Briefing(area_code="X", area_name="Testshire", as_at=dt.date(2014, 1, 27), fingerprint="abc",
                       data_updated="today", title_page=model.TitlePage("Testshire", "Briefing", (("Area", "Testshire"),), ("test",)),
                       blocks=[model.Table(("Group", "Services"), (("families", names),))])
    _, text = _pdf_text(render_pdf(b))
    shown = re.findall(r"Service number (\d+)", text)
    assert shown == [str(i) for i in range(1, len(shown) + 1)] and 20 < len(shown) < 800
    assert f"\u2026 and {800 - len(shown)} more (all in the Word briefing)" in text
    assert len(names) > cell_capacity(TEXT_WIDTH / 2)
    cells = [c.text for t in Document(io.BytesIO(render_docx(b))).tables for row in t.rows for c in row.cells]
    assert names in cells


def test_long_finding_lists_print_the_largest_and_say_how_many_more(demo_db, profile, as_at, monkeypatch):
    """At national size an area has hundreds of findings; the paper briefing prints the largest of each kind and
    says how many there are and where to read them all."""
    from services_db.documents import content as content_mod
    from services_db.documents.build import content_for, gather
    from services_db.documents.model import FindingList, Para

    monkeypatch.setattr(content_mod, "PRINT_LIMIT", 2)
    plans = [f for f in profile.review.findings.of_kind("plan") if f.scope == "area"]
    assert len(plans) > 2, "Preston's demo review has more than two priorities nothing answers; the test needs them"
    b = content_for(gather(demo_db, with_map=False), "Preston", as_at)
    lists = [blk for blk in b.blocks if isinstance(blk, FindingList)]
    printed = [s for blk in lists[1:] for s, _ in blk.items]  # lists[0]: page 1's questions
    assert _flat(plans[0].sentence) in map(_flat, printed) and _flat(plans[1].sentence) in map(_flat, printed)
    assert _flat(plans[2].sentence) not in map(_flat, printed)
    notes = [blk.text for blk in b.blocks if isinstance(blk, Para)]
    assert f"The 2 largest of {len(plans):,} findings of this kind are printed here; the area page's Review " \
           f"section and “python -m services_db review --area \"Preston\"” list them all." in notes


def test_the_2016_appendix_lists_only_services_current_at_its_date(demo_db):
    """Issue 11, problem 4: the 21 July 2016 briefing's appendix listed services that ended in March 2014, at £0.
    Now it lists the services current at the briefing's date (the area page's activity list), shows unknown
    funding as "not recorded", and names planned services apart as planned."""
    import datetime as dt

    from services_db.areas import area_profile
    from services_db.documents.build import content_for, gather
    from services_db.documents.model import Heading, Para, Table
    from services_db.queries import review_data

    day = dt.date(2016, 7, 21)
    data = review_data(demo_db)
    b = content_for(gather(demo_db, with_map=False), "Preston", day)
    start = next(i for i, x in enumerate(b.blocks) if isinstance(x, Heading) and x.text == APPENDIX_HEADING)
    appendix = b.blocks[start:]
    table = next(x for x in appendix if isinstance(x, Table))
    names = {row[0] for row in table.rows}

    ended = data.services.loc[data.services["end_date"] < "2014-04-01", "name"]
    covering = set(area_profile(data, "PBA04", dt.date(2014, 1, 27)).activity.services["name"])
    ended_in_2014 = set(ended) & covering
    assert ended_in_2014, "the demo has Preston services that ended in March 2014; the test needs them"
    assert not names & ended_in_2014
    assert names == set(area_profile(data, "PBA04", day).activity.services["name"])
    assert pounds(0.0) not in {row[3] for row in table.rows}
    assert NOT_RECORDED in {row[3] for row in table.rows}  # e.g. Police Early Action Teams: no funding recorded
    said = " ".join(x.text for x in appendix if isinstance(x, Para))
    assert "Blackburn CCTV hub (planned" in said and "Blackburn CCTV hub" not in names
    assert b.figures["n_services"] == len(names)
