"""Briefings say what to do (issue 11, build item 5): page 1 opens with the area, the date, a short summary and
the 3 to 5 questions for partners that matter most for this area; every finding in the review is followed by its
question; findings about the whole force (funds, force-wide duplication) are in "Across the force", never among
the area's top questions."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from docx import Document
from pypdf import PdfReader

from services_db.documents.build import content_for, gather, render
from services_db.documents.content import FORCE_HEADING, QUESTIONS_HEADING, top_questions
from services_db.documents.model import QUESTION_LABEL, FindingList, Heading, PageBreak
from services_db.documents.pdf import render_pdf
from services_db.documents.word import render_docx
from services_db.review import Finding, Findings

DATES = (dt.date(2014, 1, 27), dt.date(2016, 7, 21))
AREAS = ("Preston", "Burnley & Pendle")
_INPUTS: dict[str, object] = {}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _inputs(db):
    if db.url not in _INPUTS:
        _INPUTS[db.url] = gather(db, with_map=False)
    return _INPUTS[db.url]


def _page_one(b) -> list:
    """The blocks page 1 draws: everything before the first page break."""
    return b.blocks[:next(i for i, x in enumerate(b.blocks) if isinstance(x, PageBreak))]


@pytest.mark.parametrize("as_at", DATES)
@pytest.mark.parametrize("area", AREAS)
def test_page_one_asks_three_to_five_questions_for_this_area(demo_db, area, as_at):
    b = content_for(_inputs(demo_db), area, as_at)
    findings = {f.question: f for f in _review(demo_db, area, as_at).findings}
    page = _page_one(b)
    assert [x.text for x in page if isinstance(x, Heading)] == ["Summary", QUESTIONS_HEADING]
    (questions,) = [x for x in page if isinstance(x, FindingList)]
    assert questions.question_first and questions.numbered
    assert 3 <= len(questions.items) <= 5
    for sentence, question in questions.items:
        assert question, sentence
        assert findings[question].scope == "area", f"a force-wide finding among {area}'s questions: {question}"
    assert b.sentences["questions"] == [q for _, q in questions.items]

    reader = PdfReader(io.BytesIO(render_pdf(b)))
    first = _flat(reader.pages[0].extract_text())
    assert area in first and f"figures as at {as_at.day} {as_at:%B %Y}" in first
    assert QUESTIONS_HEADING in first
    assert "Data fingerprint" not in first  # the facts moved to "About this briefing"
    for sentence, question in questions.items:
        assert _flat(question) in first
        assert _flat(sentence) in first
    later = _flat(" ".join(p.extract_text() for p in reader.pages[1:]))
    for _, question in questions.items:  # asked again after its finding in the review
        assert _flat(QUESTION_LABEL + question) in later


def _review(db, area, as_at) -> Findings:
    from services_db.areas import area_profile
    from services_db.documents.build import resolve

    inputs = _inputs(db)
    return area_profile(inputs.data, resolve(inputs.data, area), as_at).review.findings


@pytest.mark.parametrize("as_at", DATES)
def test_force_findings_are_in_the_force_section_not_the_area_questions(demo_db, as_at):
    area = "Burnley & Pendle"
    review = _review(demo_db, area, as_at)
    force = [f for f in review.findings if f.scope == "force"] + list(review.across)
    assert force, "the demo's fund findings bear on Burnley & Pendle (Pendle received nothing)"
    assert {f.kind for f in review.findings if f.scope == "force"} <= {"inequity", "data"}
    b = content_for(_inputs(demo_db), area, as_at)
    start = next(i for i, x in enumerate(b.blocks) if isinstance(x, Heading) and x.text == FORCE_HEADING)
    end = next(i for i, x in enumerate(b.blocks) if i > start and isinstance(x, Heading) and x.level == 1)
    section = [pair for x in b.blocks[start:end] if isinstance(x, FindingList) for pair in x.items]
    review_part = [pair for x in b.blocks[:start] if isinstance(x, FindingList) for pair in x.items]
    for f in force:
        assert (f.sentence, f.question) in [(s.removesuffix(" (est.)"), q) for s, q in section], f.sentence
        assert f.question not in {q for _, q in review_part}
    for f in review.findings:
        if f.scope == "area" and len([x for x in review.findings if x.kind == f.kind]) <= 30:
            assert f.question in {q for _, q in review_part}


def test_the_word_file_opens_with_the_same_questions(demo_db):
    b = content_for(_inputs(demo_db), "Preston", DATES[1])
    doc = Document(io.BytesIO(render_docx(b)))
    paras = [p for p in doc.paragraphs if p.text.strip()]
    assert paras[0].style.name == "Title" and paras[0].text == "Preston"
    assert paras[1].style.name == "Subtitle" and "21 July 2016" in paras[1].text
    assert [p.text for p in paras[2:4]][0] == "Summary"
    numbered = []
    for p in paras[4:]:
        if p.style.name == "Heading 1":
            break
        if p.style.name == "List Number":
            numbered.append(p.text)
    assert numbered == b.sentences["questions"]
    asked = [p.text for p in doc.paragraphs if p.text.startswith(QUESTION_LABEL)]
    assert {QUESTION_LABEL + q for q in numbered} <= set(asked)
    assert render(b, "pdf")[:4] == b"%PDF"


def _finding(kind: str, importance: float, scope: str = "area", question: str | None = None) -> Finding:
    return Finding(kind, f"{kind} {importance}", importance, question=question or f"Q {kind} {importance}?",
                   scope=scope)


def test_top_questions_take_the_largest_of_each_kind_then_the_next():
    nan = float("nan")
    found = [_finding("inequity", 900, "force"), _finding("duplication", 500), _finding("duplication", 400),
             _finding("cliff", 300), _finding("gap", 100), _finding("plan", nan), _finding("plan", nan, question="Q"),
             _finding("unlinked", nan)]
    f = Findings("A", "Area", "area", None, {}, found, {})
    picked = [(x.kind, x.importance) for x in top_questions(f)]
    assert picked[:4] == [("duplication", 500), ("cliff", 300), ("gap", 100), ("plan", pytest.approx(nan, nan_ok=True))]
    assert picked[4] == ("duplication", 400)
    assert all(x.scope == "area" for x in top_questions(f))
    # no more than two of a kind while that is enough: four duplication groups and a cliff ask three questions
    dups = Findings("A", "Area", "area", None, {}, [_finding("duplication", 900 - i) for i in range(4)]
                    + [_finding("cliff", 10)], {})
    assert [x.kind for x in top_questions(dups)] == ["duplication", "cliff", "duplication"]
    # an area with little of its own: the force's findings make up the three
    few = Findings("A", "Area", "area", None, {}, [found[0], found[4]], {}, across=[_finding("duplication", 50, "force")])
    assert [(x.kind, x.scope) for x in top_questions(few)] == [("gap", "area"), ("inequity", "force"),
                                                            ("duplication", "force")]
