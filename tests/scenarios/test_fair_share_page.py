"""The scenarios page adds a fair-share reallocation: a fund, a population weight, one need indicator taking the
rest; the review beside the actual shows the fund's Gini falling, marked as a scenario."""

from services_db.permissions import Actor
from tests.app.conftest import demo_url, open_page, texts  # noqa: F401 - the app tests' fixtures

OPCC = Actor("demo-opcc", "opcc")


def _new_scenario(open_page, name: str):  # noqa: F811
    at = open_page("scenarios", session={"actor": OPCC})
    at.text_input[0].input(name)
    at.button[0].click().run()
    at.radio(key="scenario_kind").set_value("Reallocate a fund by fair share").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _table(at, column):
    return next(df.value for df in at.dataframe if column in getattr(df.value, "columns", []))


def test_an_opcc_officer_reallocates_a_fund_by_fair_share(open_page):  # noqa: F811
    at = _new_scenario(open_page, "Fair CSG")
    [s for s in at.selectbox if s.label == "Fund"][0].set_value("csg-2013-14")
    at.slider[0].set_value(0.5)
    [s for s in at.selectbox if s.label.startswith("Need indicator")][0].set_value("early-action-incidents")
    [b for b in at.button if b.label == "Add this change"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert ("Reallocate Home Office Community Safety Grant 2013-14 by fair share (50% population, 50% Early Action "
            "incidents)") in shown
    assert "Scenario: Fair CSG" in shown and "not actual allocations" in shown
    row = _table(at, "Gini (scenario)").set_index("Fund or theme").loc["Home Office Community Safety Grant 2013-14"]
    assert round(row["Gini (actual)"], 2) == 0.14 and row["Gini (scenario)"] < 0.1


def test_population_only_and_a_fund_with_no_money_is_refused(open_page):  # noqa: F811
    at = _new_scenario(open_page, "Fair PIF")
    [s for s in at.selectbox if s.label == "Fund"][0].set_value("pif-capital-application-2014-15")
    at.slider[0].set_value(1.0)
    [b for b in at.button if b.label == "Add this change"][0].click().run()
    assert any("has no awarded or paid money" in e.value for e in at.error)
    assert "This scenario has no changes yet." in texts(at)
    [s for s in at.selectbox if s.label == "Fund"][0].set_value("csg-2013-14")
    at.slider[0].set_value(1.0)
    [b for b in at.button if b.label == "Add this change"][0].click().run()
    assert "by fair share (100% population)" in texts(at)
    row = _table(at, "Gini (scenario)").set_index("Fund or theme").loc["Home Office Community Safety Grant 2013-14"]
    assert row["Gini (scenario)"] < 0.02
