"""review.md v2: "Every number in a sentence equals the number in the table beside it, formatted by one function."

The tables beside the findings (area page, review page, overview, briefings) come from `services_db.review.shown`.
Which row backs which finding is defined there: a gap's row is its area and theme's; a duplication group's, its
group's; an inequity's, its fund's or theme's; a cliff's figures are in the "All themes" row (total at risk, the
provision it is part of, services, months) and its i-th named theme in the i-th theme row; unlinked and data
findings are the "All services" row; a fair share, its fund and area's; a plan priority has no figures.
"""

import pytest

from services_db.review import review_area, review_force, wording
from services_db.review.shown import at_least, cell, cells_for, finding_tables

DATES = ["2014-01-27", "2016-07-21"]


def check_figures(review, numbers) -> list[str]:
    """Every figure of every finding against its cell: the cell's text is the text the sentence shows (counts:
    the same number, digits in the table, words or digits in the sentence; name lists: the names the sentence
    gives and the count of the rest). Returns the problems found."""
    problems = []
    for f in review.findings:
        cells = cells_for(review, f)
        for key, shown in f.figures.items():
            where = f"{review.scope_name} {review.as_at.date()} {f.kind} {key}: {f.sentence}"
            c = cells.get(key)
            if c is None:
                problems.append(f"no table cell shows {where}")
                continue
            text = c.text
            if c.kind == "names":
                names = wording.Sentence().names("x", text.split("; "))
                if names.figures.get("x_others") != shown or names.texts["x"] not in f.sentence:
                    problems.append(f"{text!r} is not what {where} names")
            elif c.kind == "count":
                words = wording.count(int(shown))[0]
                if float(text.replace(",", "")) != shown or (
                        words.lower() not in f.sentence.lower() and text not in f.sentence):
                    problems.append(f"{text!r} != {shown} in {where}")
            elif text not in f.sentence or numbers(text, {}) != [shown]:
                problems.append(f"{text!r} != {shown} in {where}")
    return problems


@pytest.fixture(scope="module")
def demo(_demo_dbs):
    from services_db.queries import review_data

    return review_data(_demo_dbs["sqlite"])


@pytest.mark.parametrize("as_at", DATES)
def test_every_figure_of_every_finding_is_its_table_cell(demo, as_at, numbers):
    """All findings of the force and the nine place-based areas on the demo data, at the two seed dates."""
    areas = demo.areas.loc[demo.areas["level"] == "area", "name"].tolist()
    assert len(areas) == 9
    reviews = [review_force(demo, as_at)] + [review_area(demo, a, as_at) for a in areas]
    problems = [p for r in reviews for p in check_figures(r, numbers)]
    n = sum(len(f.figures) for r in reviews for f in r.findings)
    assert n > 200, "the demo findings should have hundreds of figures to check"
    assert {f.kind for r in reviews for f in r.findings} >= {"cliff", "duplication", "inequity"}
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("as_at", DATES)
def test_cliff_table_names_the_sentences_themes_and_first_end(demo, as_at):
    for area in ("Preston", "Burnley & Pendle"):
        review = review_area(demo, area, as_at)
        (f,) = review.of_kind("cliff")
        table = finding_tables(review, "cliff")[0]
        total = table.rows[0]
        assert total[0] == "All themes" and total[table.columns.index("First ends")] == f.texts["first_end"]
        assert table.columns[1] == "Area's share at risk (£ a year)"
        assert "Whole services at risk (£ a year)" in table.columns  # the whole-service amount, labelled apart
        for i in range(1, 4):
            if f"theme_{i}" in f.texts:
                assert wording.common(table.rows[i][0]) == f.texts[f"theme_{i}"]
        lines = finding_tables(review, "cliff")[1]
        assert lines.columns[2:4] == ("Area's share (£ a year)", "Whole line (£ a year)")


def test_a_gap_table_shows_the_money_as_its_sentence_does(make):
    """Issue 11: a gap sentence said £7,620 where its table said £7,617."""
    b = make().service(1, "Big", themes=("mh",), coverage=("A1",), amount=92_383)
    b.service(2, "Small", themes=("mh",), coverage=("A2",), amount=7_617)
    b.indicator("ea", "Early Action incidents", ("mh",)).need("ea", "A1", 500).need("ea", "A2", 500)
    review = review_area(b.build(), "South", "2016-07-21")
    (gap,) = review.of_kind("gap")
    row = review.tables["gaps"].iloc[0]
    assert "£42,000" == wording.money(row["money_to_parity"])[0] != f"£{row['money_to_parity']:,.0f}"
    table = finding_tables(review, "gap")[0]
    assert table.text(0, "Money to parity (£ a year)") == "£42,000"
    assert table.text(0, "Area's provision (£ a year)") == "£7,620" and "(£7,620 of £100,000)" in gap.sentence


def test_one_function_per_kind_of_number():
    assert cell("money", 7617.0) == wording.money(7617.0)[0] == "£7,620"
    assert cell("money", 1_284_000) == "£1.28m"
    assert cell("percent", 0.1094) == "10.9%" and cell("percent0", 0.5) == "50%"
    assert cell("at_least", 0.8349) == "83%" and at_least(0.99999999999) == 1.0
    assert cell("rate", 12.3456) == "£12.35" and cell("rate", 12_731.4) == "£12,731"
    assert cell("count", 12) == "12" and cell("number2", 0.125) == "0.13"
    assert cell("money", float("nan")) == cell("count", None) == "\u2013"


def test_the_briefing_prints_the_shown_tables(demo_db):
    """The briefing prints, beside each kind's sentences, the very cells of `shown` (the area's own rows in the
    Review, force-wide ones in the force section), and nothing else for a review table."""
    import datetime as dt

    from services_db.documents.build import content_for, gather
    from services_db.documents.content import review_table, scoped_tables
    from services_db.documents.model import Table
    from services_db.review.shown import BUILDERS

    inputs = gather(demo_db, with_map=False)
    for as_at in DATES:
        b = content_for(inputs, "Preston", dt.date.fromisoformat(as_at))
        printed = [blk for blk in b.blocks if isinstance(blk, Table)]
        review = review_area(inputs.data, "PBA04", as_at)
        candidates = [review_table(t)[0] for kind in BUILDERS for force in (False, True)
                      for t in scoped_tables(review, kind, force) if len(t)]
        columns = {c.columns for c in candidates}
        from_review = [t for t in printed if t.columns in columns]
        assert from_review and all(t in candidates for t in from_review), as_at
        for t in finding_tables(review, "cliff"):  # the cliff's breakdown and its lines, as shown
            assert review_table(t)[0] in printed, (as_at, t.title)
        (cliff,) = review.of_kind("cliff")
        assert wording.money(cliff.figures["at_risk"])[0] in finding_tables(review, "cliff")[0].rows[0]


MONEY_OR_SHARE = __import__("re").compile(r"-?£\d[\d,]*(?:\.\d+)?(?:m|bn)?|\d+(?:\.\d+)?%")


def _sections(blocks):
    """(heading, sentences, table cells) for each sub-section of the briefing's Review and force sections."""
    from services_db.documents import model

    finding_types = tuple(getattr(model, n) for n in ("Bullets", "FindingList") if hasattr(model, n))
    out, inside, current = [], False, None
    for blk in blocks:
        if isinstance(blk, model.Heading):
            if blk.level == 1:
                inside = blk.text in ("Review", "Across the force")
                current = None
            elif inside:
                current = (blk.text, [], [])
                out.append(current)
        elif current is not None and isinstance(blk, finding_types):
            current[1].extend(item[0] if isinstance(item, tuple) else item for item in blk.items)
        elif current is not None and isinstance(blk, model.Table):
            current[2].extend(c for row in blk.rows for c in row)
    return out


@pytest.mark.parametrize("as_at", DATES)
def test_every_money_and_share_in_a_briefing_sentence_is_in_the_table_beside_it(demo_db, as_at):
    """Issue 11: Preston's cliff sentences showed its share (£57,000) beside a table of whole-service amounts, and a
    gap sentence said £7,620 where its table said £7,617. In every area's briefing, each sum of money and each share
    a review sentence shows is a cell of the table printed beside it."""
    import datetime as dt

    from services_db.documents.build import content_for, gather
    from services_db.documents.model import Table

    inputs = gather(demo_db, with_map=False)
    areas = inputs.data.areas.loc[inputs.data.areas["level"] == "area", "name"].tolist()
    problems, checked = [], 0
    for area in areas:
        b = content_for(inputs, area, dt.date.fromisoformat(as_at))
        assert any(isinstance(blk, Table) for blk in b.blocks)
        for heading, sentences, cells in _sections(b.blocks):
            if heading in ("Gaps raised by Early Action Teams", "Priorities nothing answers"):
                continue
            for sentence in sentences:
                for token in MONEY_OR_SHARE.findall(sentence):
                    checked += 1
                    if token not in cells:
                        problems.append(f"{area}, {heading}: {token} is not in the table beside {sentence!r}")
    assert checked > 50
    assert not problems, "\n".join(problems[:15])
