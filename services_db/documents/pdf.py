"""The briefing as an A4 PDF, drawn with reportlab's platypus.

Reproducible: `invariant=1` fixes the creation date and document id reportlab would otherwise stamp, so the same
briefing gives the same bytes. Every piece of text is xml-escaped before it reaches a Paragraph, whose markup is
XML-like: a service name with "&" or "<" would otherwise break the build or change the formatting.
Page numbers read "Page n of m", which needs the page count before the first footer is drawn: the canvas keeps
each page's state and draws all the footers when the document is saved.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    Image,
    KeepInFrame,
    KeepTogether,
    ListFlowable,
    ListItem,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from services_db.documents import model

MARGIN = 2.0 * cm
BOTTOM = 2.2 * cm  # room for the footer
TEXT_WIDTH = A4[0] - 2 * MARGIN
PAGE_HEIGHT = A4[1] - MARGIN - BOTTOM - 12  # the frame's text height (reportlab pads a frame by 6 pt a side)
INK = colors.HexColor("#1a1a1a")
ACCENT = colors.HexColor("#08306b")
RULE = colors.HexColor("#9e9e9e")
SHADE = colors.HexColor("#e8eef6")


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=10, leading=13.5,
                          textColor=INK, spaceAfter=5)
    return {
        "title": ParagraphStyle("title", parent=body, fontName="Helvetica-Bold", fontSize=24, leading=28,
                                textColor=ACCENT, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=13, leading=17, spaceAfter=14),
        "h1": ParagraphStyle("h1", parent=body, fontName="Helvetica-Bold", fontSize=16, leading=20,
                             textColor=ACCENT, spaceBefore=6, spaceAfter=8, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=body, fontName="Helvetica-Bold", fontSize=12, leading=15,
                             textColor=ACCENT, spaceBefore=8, spaceAfter=5, keepWithNext=1),
        "body": body,
        "lead": ParagraphStyle("lead", parent=body, fontSize=11, leading=15),
        "finding": ParagraphStyle("finding", parent=body, fontSize=11, leading=15, spaceAfter=8),
        "note": ParagraphStyle("note", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10, spaceAfter=0),
        "cell_r": ParagraphStyle("cell_r", parent=body, fontSize=8, leading=10, spaceAfter=0, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=body, fontName="Helvetica-Bold", fontSize=8, leading=10,
                               spaceAfter=0, textColor=colors.white),
        "head_r": ParagraphStyle("head_r", parent=body, fontName="Helvetica-Bold", fontSize=8, leading=10,
                                 spaceAfter=0, textColor=colors.white, alignment=TA_RIGHT),
        "caption": ParagraphStyle("caption", parent=body, fontName="Helvetica-Oblique", fontSize=8, leading=10,
                                  textColor=colors.HexColor("#444444"), spaceBefore=2, spaceAfter=10),
        "fact_label": ParagraphStyle("fact_label", parent=body, fontName="Helvetica-Bold"),
        # a finding's question for partners: under its finding in the review, leading its item on page 1
        "question": ParagraphStyle("question", parent=body, leftIndent=10, textColor=ACCENT, spaceAfter=7),
        "ask": ParagraphStyle("ask", parent=body, fontName="Helvetica-Bold", fontSize=10, leading=13,
                              textColor=ACCENT, spaceAfter=2),
        "because": ParagraphStyle("because", parent=body, fontSize=8, leading=10,
                                  textColor=colors.HexColor("#444444"), spaceAfter=7),
    }


class _Paragraph(Paragraph):
    """A Paragraph that does not break its lines again when wrapped again at the width it was last wrapped at.

    reportlab wraps a table's cells each time it measures the table: once on the page it starts on, again for
    each page the rest runs onto and again to draw them, every time at the column's width. Breaking the lines
    anew gave the same lines each time and was most of what drawing a long briefing took; the lines are kept,
    with everything wrapping sets, and given back while the width, the style and the text are those last
    wrapped (any other wrap, as page 1's shrink-to-fit tries several widths, breaks the lines as before)."""

    _KEPT = ("width", "height", "blPara", "_wrapWidths", "_width_max", "_splitLongWordCount", "_hyphenations",
             "frags")

    def wrap(self, availWidth, availHeight):  # noqa: N803 - reportlab's names
        last = self.__dict__.get("_last_wrap")
        if last is not None and last[0] == availWidth and last[1] is self.style and last[2] is self.frags:
            self.__dict__.update(last[3])
            return self.width, self.height
        out = super().wrap(availWidth, availHeight)
        if availWidth >= rl_config._FUZZ:  # not reportlab's "cannot fit here" answer
            kept = {k: self.__dict__[k] for k in self._KEPT if k in self.__dict__}
            self._last_wrap = (availWidth, self.style, self.frags, kept)
        return out


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return _Paragraph(escape(text).replace("\n", "<br/>"), style)


CHAR_PT = 4.5  # points per character of the 8-pt table font: generous (Helvetica's text averages ~3.7 pt)
CELL_LINES = 20  # lines a cell may take: 200 pt at 10-pt leading, a row and its header well within a page
CELL_PADDING = 8  # a cell's left and right padding (TableStyle below), points
LIST_SEPARATOR = "; "  # how `services_db.review.shown` and the briefing join a list of names in one cell


def cell_capacity(width: float) -> int:
    """The characters a cell of `width` points holds in CELL_LINES lines (at CHAR_PT a character).

    reportlab cannot split a table row across pages, so a cell taller than a page fails the whole build (a list
    of every district in the country that received nothing from a fund wraps to hundreds of lines in a narrow
    column); the capacity is what the column can show, not one limit for every column."""
    return max(1, int((width - CELL_PADDING) / CHAR_PT)) * CELL_LINES


def more(n: int, what: str = "", then: str = "") -> str:
    """The words that end a shortened cell: nothing is dropped without saying how much. `then`: a closing count
    the list already had ("and 4,210 districts in other forces"), kept after the names left out."""
    return f" \u2026 and {n:,} more{f' {what}' if what else ''}{f'; {then}' if then else ''} (all in the Word briefing)"


def capped(text: str, capacity: int) -> str:
    """`text` cut to at most `capacity` characters, ending with "… and N more" (see `more`).

    A list ("A; B; C", as review tables join names) keeps whole names and counts the names left out (a last item
    that is already a count, "and 4,210 districts in other forces", is kept at the end); other text keeps whole
    words and counts the words left out. A single name longer than the capacity is cut in the middle.
    """
    if len(text) <= capacity:
        return text
    items = text.split(LIST_SEPARATOR)
    if len(items) > 1:
        then = items.pop() if items[-1].startswith("and ") else ""
        kept: list[str] = []
        used = 0
        for item in items:
            tail = more(len(items) - len(kept) - 1, then=then)
            if used + len(item) + len(tail) > capacity:
                break
            kept.append(item)
            used += len(item) + len(LIST_SEPARATOR)
        if kept:
            return LIST_SEPARATOR.join(kept) + more(len(items) - len(kept), then=then)
    words = text.split()
    kept, used = [], 0
    for word in words:
        if used + len(word) + len(more(len(words) - len(kept) - 1, "words")) > capacity:
            break
        kept.append(word)
        used += len(word) + 1
    if kept:
        return " ".join(kept) + more(len(words) - len(kept), "words")
    room = max(1, capacity - len(more(len(text), "characters")))
    return text[:room] + more(len(text) - room, "characters")


def _cell(text: str, width: float, style: ParagraphStyle) -> Paragraph | str:
    """A table cell's paragraph, no taller than CELL_LINES lines of its column (see `cell_capacity`).

    The capacity is an estimate; the paragraph is then measured, and cut shorter until it fits, so no text can
    make a row taller than a page (a column of capital letters, a long unbroken word).

    A cell that fits on one line is given as plain text, drawn in the same font, size, leading and alignment
    (the table's style, `_table`): a table is measured again at every page it runs onto, and wrapping a
    Paragraph per cell each time was most of the time a long briefing took to draw. Plain text is drawn as is,
    never read as markup, so it needs no escaping."""
    if "\n" not in text and text == " ".join(text.split()) and \
            stringWidth(text, style.fontName, style.fontSize) <= width - CELL_PADDING:
        return text
    capacity = cell_capacity(width)
    para = _p(capped(text, capacity), style)
    if len(text) <= capacity // 2:  # far below the limit: no need to measure
        return para
    tallest = CELL_LINES * style.leading
    while para.wrap(width - CELL_PADDING, PAGE_HEIGHT)[1] > tallest and capacity > 1:
        capacity = capacity * 3 // 4
        para = _p(capped(text, capacity), style)
    return para


def _table(t: model.Table, st: dict[str, ParagraphStyle]) -> list:
    out: list = []
    if not t.rows:
        out.append(_p(t.empty_text, st["body"]))
    else:
        n = len(t.columns)
        align = t.align or ("l",) * n
        rel = t.widths or (1.0,) * n
        widths = [TEXT_WIDTH * w / sum(rel) for w in rel]
        head = [_p(c, st["head_r" if a == "r" else "head"]) for c, a in zip(t.columns, align, strict=True)]
        body = [[_cell(c, w, st["cell_r" if a == "r" else "cell"]) for c, a, w in zip(row, align, widths, strict=True)]
                for row in t.rows]
        table = LongTable([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
        cell = st["cell"]
        style = [
            ("FONT", (0, 1), (-1, -1), cell.fontName, cell.fontSize, cell.leading),  # one-line cells (`_cell`)
            ("TEXTCOLOR", (0, 1), (-1, -1), cell.textColor),
            *[("ALIGN", (j, 1), (j, -1), "RIGHT") for j, a in enumerate(align) if a == "r"],
            ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ]
        style += [("BACKGROUND", (0, i), (-1, i), SHADE) for i in range(2, len(t.rows) + 1, 2)]
        table.setStyle(TableStyle(style))
        out.append(table)
    if t.caption:
        out.append(_p(t.caption, st["caption"]))
    else:
        out.append(Spacer(1, 8))
    return out


def _finding_list(block: model.FindingList, st: dict[str, ParagraphStyle]) -> ListFlowable:
    """Each finding with its question: page 1 leads with the question (the finding under it, small); the review
    prints the finding, then "Question for partners: ..." indented under it."""
    items = []
    for sentence, question in block.items:
        if block.question_first:
            parts = [_p(question or sentence, st["ask"]), *([_p(sentence, st["because"])] if question else [])]
        else:
            parts = [_p(sentence, st["body"])]
            if question:
                parts.append(_Paragraph(f"<b>{escape(model.QUESTION_LABEL.strip())}</b> {escape(question)}",
                                        st["question"]))
        items.append(ListItem(parts, leftIndent=16, value=None))
    return ListFlowable(items, bulletType="1" if block.numbered else "bullet",
                        start=None if block.numbered else "\u2022", leftIndent=16,
                        bulletFontName="Helvetica-Bold" if block.question_first else "Helvetica",
                        bulletColor=ACCENT if block.question_first else INK)


def _flowables(b: model.Briefing, st: dict[str, ParagraphStyle]) -> list:
    tp = b.title_page  # the head of page 1: the area and the date; the summary and questions follow
    out: list = [_p(tp.title, st["title"]), _p(tp.subtitle, st["subtitle"])]
    for i, block in enumerate(b.blocks):
        following = b.blocks[i + 1] if i + 1 < len(b.blocks) else None
        if isinstance(block, model.Heading) and isinstance(following, model.Figure):
            continue  # drawn with its figure, so a heading never sits alone at the foot of a page
        if isinstance(block, model.Heading):
            out.append(_p(block.text, st["h1" if block.level == 1 else "h2"]))
        elif isinstance(block, model.Para):
            out.append(_p(block.text, st.get(block.style, st["body"])))
        elif isinstance(block, model.Bullets):
            items = [ListItem(_p(s, st["body"]), leftIndent=14) for s in block.items]
            out.append(ListFlowable(items, bulletType="1" if block.numbered else "bullet",
                                    start=None if block.numbered else "\u2022", leftIndent=14))
        elif isinstance(block, model.FindingList):
            out.append(_finding_list(block, st))
        elif isinstance(block, model.Table):
            out += _table(block, st)
        elif isinstance(block, model.Figure):
            img = Image(io.BytesIO(block.png), width=block.width_cm * cm, height=block.height_cm * cm)
            img.hAlign = "LEFT"
            previous = b.blocks[i - 1] if i else None
            head = ([_p(previous.text, st["h1" if previous.level == 1 else "h2"])]
                    if isinstance(previous, model.Heading) else [])
            out.append(KeepTogether([*head, img, _p(block.caption, st["caption"])]))
        elif isinstance(block, model.PageBreak):
            out.append(PageBreak())
    first = next((i for i, x in enumerate(out) if isinstance(x, PageBreak)), None)
    if first is not None:  # page 1 (summary and questions) is one page: shrunk to fit rather than spill over
        out = [KeepInFrame(TEXT_WIDTH, PAGE_HEIGHT, out[:first], mode="shrink"), *out[first:]]
    return out


WATERMARK_INK = colors.HexColor("#b2182b")  # the scenario band: a red no reader takes for the briefing's blue
WATERMARK_TINT = colors.HexColor("#fbe9eb")


def _numbered_canvas(footer: str, watermark: str = ""):
    """A canvas class that writes "footer · Page n of m" on every page once the page count is known, and, for a
    scenario's briefing, its watermark as a band across the head of every page (`_watermark`)."""

    class NumberedCanvas(rl_canvas.Canvas):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                if watermark:
                    self._watermark()
                super().showPage()
            super().save()

        def _watermark(self) -> None:
            """The band in the top margin, drawn on the page's canvas after its content: "Scenario: <name> — not
            actual allocations", in white on red across the text width. Text (not a picture), so it is read out,
            found by search and copied with the page; a long name is cut to fit the band, never wrapped."""
            self.saveState()
            top, height = A4[1] - 0.75 * cm, 0.75 * cm
            self.setFillColor(WATERMARK_INK)
            self.rect(MARGIN, top - height, TEXT_WIDTH, height, stroke=0, fill=1)
            self.setFillColor(colors.white)
            size = 10.5
            text = watermark
            while stringWidth(text, "Helvetica-Bold", size) > TEXT_WIDTH - 16 and size > 7:
                size -= 0.5
            while stringWidth(text, "Helvetica-Bold", size) > TEXT_WIDTH - 16 and len(text) > 2:
                text = text[:-2] + "\u2026"
            self.setFont("Helvetica-Bold", size)
            self.drawCentredString(A4[0] / 2, top - height / 2 - size * 0.35, text)
            self.restoreState()

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, 1.5 * cm, A4[0] - MARGIN, 1.5 * cm)
            self.setFont("Helvetica", 8)
            self.setFillColor(INK)
            self.drawString(MARGIN, 1.05 * cm, footer)
            self.drawRightString(A4[0] - MARGIN, 1.05 * cm, f"Page {self._pageNumber} of {total}")
            self.restoreState()

    return NumberedCanvas


def render_pdf(b: model.Briefing) -> bytes:
    """The briefing as PDF bytes (A4, 2 cm margins); the same briefing always gives the same bytes."""
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=BOTTOM,
        title=b.document_title, author="Partnership Commissioning Review", subject=f"Fingerprint {b.fingerprint}",
        creator="services_db briefing", producer="services_db briefing", invariant=1,
        keywords=[b.area_name, b.as_at.isoformat(), b.fingerprint, *([b.watermark] if b.watermark else [])],
    )
    doc.build(_flowables(b, _styles()), canvasmaker=_numbered_canvas(b.footer, b.watermark))
    return buf.getvalue()
