"""`python -m services_db review`: sentences, CSV, JSON and a helpful refusal of an unknown area."""

import argparse
import io
import json

import pandas as pd
import pytest

from services_db.commands.review import add_parsers, render_text, run_review
from services_db.review.findings import review_force


@pytest.fixture
def data(make):
    b = make().fund("caf", "Community Action Fund").allocation(1, "caf", 1450, ("D1",))
    b.service(1, coverage=("A1",), amount=6000, commissioner="OPCC").service(2, coverage=("F",), amount=1000,
                                                                             commissioner="LCC")
    b.indicator("ea", "Early Action incidents", ("mh",)).need("ea", "D1", 100).need("ea", "D3", 300)
    b.need("ea", "D2", 0)  # every district has a figure (a missing one would be no figure, not zero)
    return b.build()


def parse(data, *argv):
    parser = argparse.ArgumentParser(prog="services_db")
    add_parsers(parser.add_subparsers(dest="command"), load=lambda args: data)
    return parser.parse_args(["review", *argv])


def run(data, *argv):
    out, err = io.StringIO(), io.StringIO()
    code = run_review(parse(data, *argv), data, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_text_prints_the_area_sentences(data):
    code, out, err = run(data, "--area", "South", "--as-at", "2016-07-21")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "Review of South as at 2016-07-21: 2 findings"
    assert "gap index >= 1.5" in lines[1] and "overlap >= 50%" in lines[1] and "within 12 months" in lines[1]
    assert lines[3].startswith("  1. South has 75.0% of Early Action incidents but 5.7% of mental-health funding")


def test_csv_prints_the_findings_table(data):
    code, out, _ = run(data, "--area", "north", "--format", "csv", "--as-at", "2016-07-21")
    frame = pd.read_csv(io.StringIO(out))
    assert code == 0
    assert frame["kind"].tolist() == ["duplication", "inequity"]
    assert frame.loc[0, "combined_funding"] == 7000.0


def test_json_prints_the_findings_table(data):
    code, out, _ = run(data, "--format", "json", "--as-at", "2016-07-21")
    doc = json.loads(out)
    assert code == 0 and doc["scope"] == "Testshire" and doc["as_at"] == "2016-07-21"
    # The duplication group's importance is the money potentially duplicated (£1,000), below the gap's £4,850.
    assert [f["kind"] for f in doc["findings"]] == ["gap", "duplication", "inequity"]


def test_a_bad_area_lists_the_valid_names_and_returns_2(data):
    code, out, err = run(data, "--area", "Narnia")
    assert code == 2 and out == ""
    assert err.splitlines() == ["unknown area 'Narnia'. Valid names:", "  North", "  South", "  Alpha", "  Beta",
                                "  Gamma"]


def test_the_sub_command_runs_through_its_default_function(data, capsys):
    args = parse(data, "--area", "South", "--as-at", "2016-07-21")
    assert args.func(args) == 0
    assert "South has 75.0%" in capsys.readouterr().out


def test_a_bad_date_is_an_argparse_error(data):
    with pytest.raises(SystemExit):
        parse(data, "--as-at", "21/07/2016")


def test_the_default_date_is_the_one_the_loader_gives(data):
    args = parse(data, "--area", "South")
    args.default_as_at = pd.Timestamp("2016-07-21").date()
    out = io.StringIO()
    assert run_review(args, data, out=out) == 0
    assert "as at 2016-07-21" in out.getvalue()


def test_no_findings(make):
    assert render_text(review_force(make().build(), "2016-07-21")).endswith("No findings.")


def test_the_real_command_line_on_the_demo_database(sqlite_demo_url, monkeypatch, capsys):
    """`python -m services_db review` through the project's CLI, reading the seeded demo database."""
    from services_db.commands import main

    monkeypatch.setenv("DATABASE_URL", sqlite_demo_url)
    assert main(["review", "--area", "Burnley and Pendle", "--as-at", "2014-01-27"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Review of Burnley & Pendle as at 2014-01-27")
    assert "Community Action Fund" in out and "Pendle and Rossendale received nothing" in out
    assert main(["review", "--area", "Atlantis"]) == 2
    assert "Burnley & Pendle" in capsys.readouterr().err
