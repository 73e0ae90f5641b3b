"""The briefing's content model: one plain structure that both the PDF and the Word renderer draw.

Building the content once and rendering it twice is what guarantees that the PDF and the .docx carry the same
figures. Every string here is plain text (never markup): each renderer escapes it for its own format, so a
service called "A & B <pilot>" cannot break a document or inject formatting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

ESTIMATE_MARK = "(est.)"
ESTIMATE_KEY = "(est.) marks an estimate: a value the source reports do not give, made by a documented rule."


@dataclass(frozen=True)
class Heading:
    """A section heading; level 1 starts a chapter ("Heading 1" in Word), level 2 a sub-section."""

    text: str
    level: int = 1


@dataclass(frozen=True)
class Para:
    """A paragraph. `style`: body, finding (a numbered review sentence), note (small print) or lead."""

    text: str
    style: str = "body"


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    numbered: bool = False


QUESTION_LABEL = "Question for partners: "


@dataclass(frozen=True)
class FindingList:
    """Review findings, each with its question for partners (review.md v2): `items` are (sentence, question).

    `question_first` (page 1): each item leads with the question, the finding under it as the reason; otherwise
    (the review sections) each finding is followed by its question, labelled with QUESTION_LABEL.
    """

    items: tuple[tuple[str, str], ...]
    numbered: bool = False
    question_first: bool = False

    def lines(self) -> list[str]:
        """The words in reading order, as both renderers print them."""
        out: list[str] = []
        for sentence, question in self.items:
            if self.question_first:
                out += [question, sentence] if question else [sentence]
            else:
                out += [sentence, QUESTION_LABEL + question] if question else [sentence]
        return out


@dataclass(frozen=True)
class Table:
    """A real table (Word table / reportlab Table): header row, body rows, relative column widths, alignment.

    `align` holds "l" or "r" per column (figures right-aligned, as on paper). `widths` are fractions of the text
    width; they need not add to one.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = ()
    align: tuple[str, ...] = ()
    caption: str = ""
    empty_text: str = "None."

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table row has {len(row)} cells, header {len(self.columns)}: {row!r}")


@dataclass(frozen=True)
class Figure:
    """A picture drawn from the data (PNG bytes) with its size on paper and a caption."""

    png: bytes
    width_cm: float
    height_cm: float
    caption: str


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Para | Bullets | FindingList | Table | Figure | PageBreak


@dataclass(frozen=True)
class TitlePage:
    """The head of page 1 (title and subtitle: the area and the date). The facts, sources and note are shown in
    the briefing's "About this briefing" section (content.about_blocks), so page 1 is the summary and questions."""

    title: str
    subtitle: str
    facts: tuple[tuple[str, str], ...]  # (label, value) pairs: area, as at, data last updated, fingerprint
    sources: tuple[str, ...]
    note: str = ""


@dataclass
class Briefing:
    """Everything one area's briefing shows, in reading order, plus what the footer and metadata need."""

    area_code: str
    area_name: str
    as_at: dt.date
    fingerprint: str
    data_updated: str
    title_page: TitlePage
    blocks: list[Block] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # key figures, for tests and the app
    sentences: dict[str, object] = field(default_factory=dict)  # the top gap and summary sentences as built

    @property
    def footer(self) -> str:
        return f"{self.area_name} \u00b7 {date_long(self.as_at)} \u00b7 Snapshot: figures as at {date_long(self.as_at)}"

    @property
    def document_title(self) -> str:
        return f"Briefing: {self.area_name}, as at {date_long(self.as_at)}"

    def file_stem(self) -> str:
        return file_stem(self.area_name, self.as_at)

    def text(self) -> str:
        """All the words of the briefing (titles, paragraphs, table cells), for tests and search."""
        out = [self.title_page.title, self.title_page.subtitle]
        for b in self.blocks:
            if isinstance(b, Heading | Para):
                out.append(b.text)
            elif isinstance(b, Bullets):
                out += list(b.items)
            elif isinstance(b, FindingList):
                out += b.lines()
            elif isinstance(b, Table):
                out.append(" | ".join(b.columns))
                out += [" | ".join(r) for r in b.rows]
            elif isinstance(b, Figure):
                out.append(b.caption)
        return "\n".join(out)


def file_stem(area_name: str, as_at: dt.date) -> str:
    """A file name anyone can type: 'briefing-chorley-south-ribble-2014-01-27'."""
    slug = "".join(ch if ch.isalnum() else "-" for ch in area_name.lower())
    slug = "-".join(p for p in slug.split("-") if p)
    return f"briefing-{slug}-{as_at.isoformat()}"


def date_long(day: dt.date) -> str:
    """27 January 2014: the way dates are written in the seed reports (no leading zero, month in words)."""
    return f"{day.day} {day:%B %Y}"
