"""Drawing a briefing faster changes nothing drawn: paragraphs wrapped again at the same width keep their lines
(`pdf._Paragraph`), and the PDF is byte-for-byte the one plain reportlab paragraphs give."""

from __future__ import annotations

from reportlab.platypus import Paragraph

from services_db.documents import pdf

TEXT = ("Burnley; Hyndburn; Pendle; Rossendale; Ribble Valley; Preston; Chorley; South Ribble; "
        "West Lancashire; Lancaster; Wyre; Fylde; and 4,210 districts in other forces") * 3


def _lines(p: Paragraph) -> list:
    return [repr(line) for line in p.blPara.lines]


def test_wrapping_again_gives_the_lines_a_fresh_paragraph_gives():
    st = pdf._styles()["cell"]
    kept = pdf._p(TEXT, st)
    narrow = kept.wrap(100, 1000)
    first = kept.blPara
    assert kept.wrap(100, 500) == narrow and kept.blPara is first  # kept, not broken again
    assert narrow == Paragraph(TEXT, st).wrap(100, 1000)
    fresh = Paragraph(TEXT, st)
    fresh.wrap(100, 1000)
    assert _lines(kept) == _lines(fresh)
    wide = kept.wrap(300, 1000)  # another width: broken anew
    assert wide != narrow and kept.blPara is not first
    assert wide == Paragraph(TEXT, st).wrap(300, 1000)
    assert kept.wrap(100, 1000) == narrow


def test_pdf_is_the_one_plain_paragraphs_give(built, monkeypatch):
    b = built("pdf")
    monkeypatch.setattr(pdf, "_Paragraph", Paragraph)
    assert pdf.render_pdf(b.briefing) == b.content
