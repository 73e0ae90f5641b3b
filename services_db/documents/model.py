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


@dataclass(frozen=True)
class ScenarioMark:
    """What marks a briefing as a what-if scenario's rather than the actual data's: every page carries the
    watermark, and the fingerprint names both the actual data and the changes, so a printed copy can never be
    taken for real allocations and can still be traced to the data and the changes it was built from."""

    name: str
    changes_key: str  # `services_db.scenarios.changes.changes_key`: a digest of the changes, in order
    changes: tuple[str, ...]  # each change in words (`Change.describe`)

    @property
    def watermark(self) -> str:
        return scenario_watermark(self.name)

    def fingerprint(self, data_fingerprint: str) -> str:
        """"data 7d817474b021; scenario 3f9a0c1b2d4e": the actual data's fingerprint plus the changes'."""
        return f"data {data_fingerprint}; scenario {self.changes_key}"


def scenario_watermark(name: str) -> str:
    return f"Scenario: {name} \u2014 not actual allocations"


@dataclass
class Briefing:
    """Everything one area's briefing shows, in reading order, plus what the footer and metadata need.

    `scenario`: set when the briefing is of a what-if scenario (`ScenarioMark`); both renderers then put its
    watermark on every page. `area_code` is the force's code for a force briefing."""

    area_code: str
    area_name: str
    as_at: dt.date
    fingerprint: str
    data_updated: str
    title_page: TitlePage
    blocks: list[Block] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # key figures, for tests and the app
    sentences: dict[str, object] = field(default_factory=dict)  # the top gap and summary sentences as built
    scenario: ScenarioMark | None = None

    @property
    def watermark(self) -> str:
        """The words drawn on every page ("" for a briefing of the actual data)."""
        return self.scenario.watermark if self.scenario is not None else ""

    @property
    def footer(self) -> str:
        what = "Snapshot" if self.scenario is None else "Scenario, not actual allocations"
        return f"{self.area_name} \u00b7 {date_long(self.as_at)} \u00b7 {what}: figures as at {date_long(self.as_at)}"

    @property
    def document_title(self) -> str:
        if self.scenario is not None:
            return (f"Scenario briefing ({self.scenario.name}, not actual allocations): {self.area_name}, as at "
                    f"{date_long(self.as_at)}")
        return f"Briefing: {self.area_name}, as at {date_long(self.as_at)}"

    def file_stem(self) -> str:
        return file_stem(self.area_name, self.as_at, self.scenario.name if self.scenario is not None else "")

    def text(self) -> str:
        """All the words of the briefing (titles, paragraphs, table cells), for tests and search."""
        out = [self.watermark] if self.watermark else []
        out += [self.title_page.title, self.title_page.subtitle]
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


def slug(text: str) -> str:
    """Lower-case letters and digits joined by single hyphens: 'Chorley & South Ribble' -> 'chorley-south-ribble'."""
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(p for p in out.split("-") if p)


def file_stem(area_name: str, as_at: dt.date, scenario: str = "") -> str:
    """A file name anyone can type: 'briefing-chorley-south-ribble-2014-01-27'; a scenario's says so up front,
    'briefing-preston-scenario-csg-to-burnley-2014-01-27', so the file is never taken for the actual one."""
    what = f"-scenario-{slug(scenario) or 'unnamed'}" if scenario else ""
    return f"briefing-{slug(area_name)}{what}-{as_at.isoformat()}"


def date_long(day: dt.date) -> str:
    """27 January 2014: the way dates are written in the seed reports (no leading zero, month in words)."""
    return f"{day.day} {day:%B %Y}"
