"""The briefing as a Word document (.docx), drawn with python-docx from the same content model as the PDF.

Word users navigate by the built-in heading styles ("Heading 1", "Heading 2": the navigation pane and a table of
contents rely on them) and edit real tables, so sections use those styles and tables are Word tables, never
pictures of tables. The page is A4 with the footer's page number as a Word field, so it stays right when a
reader edits the document.

Reproducible: python-docx stamps the current time into the package (core properties and each zip entry); both
are replaced by fixed values derived from the "as at" date, so the same briefing gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from services_db.documents import model

TEXT_WIDTH_CM = 17.0
ACCENT = RGBColor(0x08, 0x30, 0x6B)
HEADER_FILL = "08306B"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) as a run: Word fills in the value when it lays the page out."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def _shade(cell, fill: str) -> None:
    props = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    props.append(shd)


def _repeat_header(row) -> None:
    props = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    props.append(el)


def _set_cell(cell, text: str, *, bold: bool = False, right: bool = False, white: bool = False) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.space_after = Pt(0)
    if right:
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = p.add_run(text)
    run.font.size = Pt(8)
    run.bold = bold
    if white:
        run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)


def _table(doc, t: model.Table) -> None:
    if not t.rows:
        doc.add_paragraph(t.empty_text)
    else:
        n = len(t.columns)
        align = t.align or ("l",) * n
        rel = t.widths or (1.0,) * n
        widths = [Cm(TEXT_WIDTH_CM * w / sum(rel)) for w in rel]
        table = doc.add_table(rows=1 + len(t.rows), cols=n)
        table.style = doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        _repeat_header(table.rows[0])
        for j, (name, a) in enumerate(zip(t.columns, align, strict=True)):
            cell = table.rows[0].cells[j]
            _set_cell(cell, name, bold=True, right=a == "r", white=True)
            _shade(cell, HEADER_FILL)
        for i, row in enumerate(t.rows, start=1):
            cells = table.rows[i].cells
            for j, (text, a) in enumerate(zip(row, align, strict=True)):
                _set_cell(cells[j], text, right=a == "r")
        for row in table.rows:
            for j, w in enumerate(widths):
                row.cells[j].width = w
    if t.caption:
        doc.add_paragraph(t.caption, style="Caption")
    else:
        doc.add_paragraph()


def _title_page(doc, tp: model.TitlePage) -> None:
    """The head of page 1: the area and the date (the summary and the questions for partners follow)."""
    doc.add_paragraph(tp.title, style="Title")
    sub = doc.add_paragraph(tp.subtitle, style="Subtitle")
    sub.paragraph_format.space_after = Pt(12)


def _finding_list(doc, block: model.FindingList) -> None:
    """Each finding with its question (see model.FindingList): real list paragraphs, the question a run of its
    own so it can be found and restyled in Word."""
    style = "List Number" if block.numbered else "List Bullet"
    for sentence, question in block.items:
        if block.question_first:
            lead = doc.add_paragraph(style=style)
            run = lead.add_run(question or sentence)
            run.bold = True
            run.font.color.rgb = ACCENT
            lead.paragraph_format.space_after = Pt(1)
            if question:
                why = doc.add_paragraph(sentence)
                why.paragraph_format.left_indent = Cm(0.63)
                for r in why.runs:
                    r.font.size = Pt(9)
        else:
            doc.add_paragraph(sentence, style=style).paragraph_format.space_after = Pt(1)
            if question:
                ask = doc.add_paragraph()
                ask.paragraph_format.left_indent = Cm(0.63)
                label = ask.add_run(model.QUESTION_LABEL)
                label.bold = True
                body = ask.add_run(question)
                for r in (label, body):
                    r.font.color.rgb = ACCENT


def _setup(doc, b: model.Briefing) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    for name in ("Heading 1", "Heading 2", "Title"):
        doc.styles[name].font.color.rgb = ACCENT
        doc.styles[name].font.name = "Arial"
    footer = section.footer.paragraphs[0]
    footer.text = ""
    run = footer.add_run(b.footer + " \u00b7 Page ")
    run.font.size = Pt(8)
    _field(footer, "PAGE")
    footer.add_run(" of ").font.size = Pt(8)
    _field(footer, "NUMPAGES")
    for r in footer.runs:
        r.font.size = Pt(8)
    when = dt.datetime.combine(b.as_at, dt.time(0, 0))
    cp = doc.core_properties
    cp.title, cp.subject = b.document_title, f"Briefing snapshot for {b.area_name}"
    if b.watermark:
        cp.subject = f"{b.watermark}: briefing for {b.area_name}"
    cp.author = cp.last_modified_by = "Partnership Commissioning Review"
    cp.keywords = f"{b.area_name}; {b.as_at.isoformat()}; fingerprint {b.fingerprint}" + (
        f"; {b.watermark}" if b.watermark else "")
    cp.comments = f"Snapshot: figures as at {model.date_long(b.as_at)}. Data fingerprint {b.fingerprint}." \
        if not b.watermark else f"{b.watermark}: figures as at {model.date_long(b.as_at)}. Fingerprint {b.fingerprint}."
    cp.created = cp.modified = cp.last_printed = when
    cp.revision = 1


WATERMARK_INK = RGBColor(0xB2, 0x18, 0x2B)  # as the PDF's band (pdf.WATERMARK_INK)


def _watermark(doc, text: str) -> None:
    """A scenario's watermark in the header of every section, so Word repeats it on every page (and on every page
    of any section a reader adds by copying one): bold red, centred, with a rule under it. Done last, after the
    body, so a section made while drawing the body is marked too."""
    for section in doc.sections:
        header = section.header
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.text = ""
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        run.bold = True
        run.font.size = Pt(10)
        run.font.color.rgb = WATERMARK_INK
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (("val", "single"), ("sz", "12"), ("space", "1"), ("color", "B2182B")):
            bottom.set(qn(f"w:{key}"), value)
        borders.append(bottom)
        p._p.get_or_add_pPr().append(borders)


def _fixed_zip(raw: bytes) -> bytes:
    """The package re-zipped with every entry stamped 1 January 1980, in the original order."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def render_docx(b: model.Briefing) -> bytes:
    """The briefing as .docx bytes; the same briefing always gives the same bytes."""
    doc = Document()
    _setup(doc, b)
    _title_page(doc, b.title_page)
    for block in b.blocks:
        if isinstance(block, model.Heading):
            doc.add_heading(block.text, level=block.level)
        elif isinstance(block, model.Para):
            p = doc.add_paragraph(block.text)
            if block.style == "note":
                for r in p.runs:
                    r.font.size = Pt(8)
            elif block.style in ("finding", "lead"):
                for r in p.runs:
                    r.font.size = Pt(11)
        elif isinstance(block, model.Bullets):
            style = "List Number" if block.numbered else "List Bullet"
            for item in block.items:
                doc.add_paragraph(item, style=style)
        elif isinstance(block, model.FindingList):
            _finding_list(doc, block)
        elif isinstance(block, model.Table):
            _table(doc, block)
        elif isinstance(block, model.Figure):
            doc.add_picture(io.BytesIO(block.png), width=Cm(block.width_cm), height=Cm(block.height_cm))
            doc.add_paragraph(block.caption, style="Caption")
        elif isinstance(block, model.PageBreak):
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    if b.watermark:
        _watermark(doc, b.watermark)
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())
