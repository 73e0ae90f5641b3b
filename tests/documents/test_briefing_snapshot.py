"""Snapshots are reproducible and traceable; bad requests get clear errors; the zip and the command line work."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from services_db.areas import area_profile
from services_db.commands import main
from services_db.db import bump_data_version
from services_db.documents import build as build_mod
from services_db.documents.build import BriefingError, build_all, build_briefing, gather, parse_as_at
from services_db.documents.content import area_funding
from services_db.documents.fingerprint import fingerprint
from services_db.models import Coverage, Service
from services_db.queries import default_as_at, review_data


def test_bad_area_names_the_valid_areas(demo_db):
    with pytest.raises(BriefingError) as err:
        build_briefing(demo_db, "Narnia", "2014-01-27", "pdf")
    assert "Narnia" in str(err.value)
    assert len(err.value.valid) == 9 and "Chorley & South Ribble" in err.value.valid


@pytest.mark.parametrize("text", ["27/01/2014", "2014-02-30", "", "yesterday"])
def test_bad_dates_say_how_to_write_one(text):
    with pytest.raises(BriefingError, match="date"):
        parse_as_at(text)


def test_bad_format_is_refused(demo_db):
    with pytest.raises(BriefingError, match="format"):
        build_briefing(demo_db, "Preston", "2014-01-27", "odt")


def test_command_line_refuses_bad_area_and_date(sqlite_demo_url, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    assert main(["briefing", "--area", "Narnia", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "no place-based area called 'Narnia'" in err and "  Burnley & Pendle" in err
    assert not (tmp_path / "x").exists()
    assert main(["briefing", "--area", "Preston", "--as-at", "2014-13-01"]) == 2
    assert "not a real date" in capsys.readouterr().err


def test_command_line_writes_the_named_file(sqlite_demo_url, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    rc = main(["briefing", "--area", "burnley and pendle", "--format", "pdf", "--as-at", "2015-06-30",
               "--out", str(tmp_path)])
    assert rc == 0
    path = tmp_path / "briefing-burnley-pendle-2015-06-30.pdf"
    text = " ".join(p.extract_text() for p in PdfReader(path).pages)
    assert "Burnley & Pendle" in text and "30 June 2015" in text
    assert "1 briefing(s) as at 2015-06-30" in capsys.readouterr().out


def test_same_data_and_date_give_the_same_bytes(demo_db):
    inputs = gather(demo_db)
    for fmt in ("pdf", "docx"):
        one = build_briefing(demo_db, "Preston", "2014-01-27", fmt, inputs=inputs).content
        two = build_briefing(demo_db, "Preston", "2014-01-27", fmt, inputs=gather(demo_db)).content
        assert one == two, fmt


def test_fingerprint_follows_the_data_and_nothing_else(fresh_demo_db):
    db = fresh_demo_db
    before = gather(db, with_map=False).fingerprint
    assert gather(db, with_map=False).fingerprint == before
    data = review_data(db)
    shuffled = type(data)(**{k: getattr(data, k).sample(frac=1.0, random_state=1) for k in data.__dataclass_fields__})
    assert fingerprint(shuffled, {"raised_gaps": gather(db, with_map=False).raised}) == before  # row order is not data
    with db.session() as s:
        svc = s.scalars(select(Service).order_by(Service.id)).first()
        svc.name = svc.name + " (renamed)"
        bump_data_version(s)
    assert gather(db, with_map=False).fingerprint != before


def test_user_text_is_escaped_not_interpreted(fresh_demo_db):
    """A service name with XML specials reaches the PDF as written (reportlab markup would choke on it)."""
    db = fresh_demo_db
    name = 'Pilot <b>A & B</b> "quoted"'
    with db.session() as s:
        sid = s.scalars(select(Coverage.service_id).where(Coverage.area_code == "E07000123")).first()
        if sid is None:  # any service covering Preston will do; add coverage to one that has none
            sid = s.scalars(select(Service.id).order_by(Service.id)).first()
            s.add(Coverage(service_id=sid, area_code="E07000123"))
        s.get(Service, sid).name = name
        bump_data_version(s)
    built = build_briefing(db, "Preston", "2014-01-27", "pdf", inputs=gather(db, with_map=False))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(built.content)).pages)
    assert name in " ".join(text.split())


def test_chart_money_is_the_reviews_provision(demo_db):
    """The funding-by-theme chart adds up the review's apportionment: its theme totals are the review's."""
    data, as_at = review_data(demo_db), default_as_at(demo_db)
    profile = area_profile(data, "PBA04", as_at)
    share = area_funding(profile, data).explode("theme_keys")
    by_theme = share.groupby("theme_keys")["amount"].sum()
    prov = profile.review.findings.tables["provision"].set_index("theme_key")["provision"]
    assert len(by_theme) > 0
    for key, amount in by_theme.items():
        assert amount == pytest.approx(prov[key], abs=0.005)
    assert prov[~prov.index.isin(by_theme.index)].sum() == 0


def test_build_all_zips_every_area_with_progress(demo_db, monkeypatch):
    names = build_mod.area_names(review_data(demo_db))
    assert len(names) == 9
    monkeypatch.setattr(build_mod, "area_names", lambda data: names[:2])  # two builds keep the test quick
    seen = []
    blob = build_all(demo_db, dt.date(2014, 1, 27), "docx", progress=lambda d, t, n: seen.append((d, t, n)))
    assert seen == [(1, 2, names[0]), (2, 2, names[1])]
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        assert z.namelist() == ["briefing-blackpool-2014-01-27.docx", "briefing-fylde-wyre-2014-01-27.docx"]
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in z.infolist())


def test_data_sources_name_each_report_by_its_title(demo_db, monkeypatch):
    """The title page names the seed reports, not just their file names, with the same record counts."""
    titled = build_mod.data_sources(demo_db)
    monkeypatch.setattr(build_mod, "source_titles", dict)
    bare = build_mod.data_sources(demo_db)
    panel = "Police and Crime Panel, update from the Police and Crime Commissioner for Lancashire, 27 January 2014"
    line = next(s for s in titled if s.startswith(panel))
    count = line.rsplit(": ", 1)[1]
    assert f"002_9343223861ab40f1.txt: {count}" in bare
    assert line == f"{panel} (002_9343223861ab40f1.txt): {count}"
    assert len(titled) == len(bare)


def test_source_counts_are_kept_per_data_version(fresh_demo_db):
    """Counted once per data version (a national count scans 2 million rows), and counted again after a change."""
    db = fresh_demo_db
    before = build_mod.source_counts(db)
    with db.session() as s:
        svc = s.scalars(select(Service).order_by(Service.id)).first()
        old_source = svc.source
        svc.source = "rule:test (a correction)"
    assert build_mod.source_counts(db) == before  # no new data version: the kept counts
    with db.session() as s:
        bump_data_version(s)
    after = build_mod.source_counts(db)
    assert after["rule:test"] == 1
    assert after[old_source.split(" \u00a7", 1)[0].strip()] == before[old_source.split(" \u00a7", 1)[0].strip()] - 1
