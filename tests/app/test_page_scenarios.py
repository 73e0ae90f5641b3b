"""What-if scenarios page: an OPCC officer makes a scenario, moves £20,000 of the Community Safety Grant from
Blackpool to Burnley & Pendle, and sees the Gini and Burnley & Pendle's vulnerable-adults provision change, marked
as a scenario; a viewer reads it but cannot edit; the actual review is unchanged."""

from services_db.permissions import Actor
from services_db.review import review_force
from tests.app.conftest import texts

OPCC = Actor("demo-opcc", "opcc")


def _table(at, column):
    for df in at.dataframe:
        if column in getattr(df.value, "columns", []):
            return df.value
    raise AssertionError(f"no table with {column!r}")


def test_an_opcc_officer_moves_money_and_sees_the_review_change(open_page, demo_data):
    data, as_at, _ = demo_data
    actual = review_force(data, as_at).to_json()
    at = open_page("scenarios", session={"actor": OPCC})
    assert at.selectbox(key="scenario_choice").value == "➕ New scenario"
    at.text_input[0].input("CSG to Burnley")
    at.button[0].click().run()
    assert at.selectbox(key="scenario_choice").value == "CSG to Burnley"
    assert at.query_params["scenario"] == "CSG to Burnley"
    assert "This scenario has no changes yet." in texts(at)
    form = [s for s in at.selectbox if s.label == "Fund"][0]
    form.set_value("csg-2013-14")
    [s for s in at.selectbox if s.label == "From area"][0].set_value("Blackpool")
    [s for s in at.selectbox if s.label == "To area"][0].set_value("Burnley & Pendle")
    [n for n in at.number_input if n.label == "Amount a year (£)"][0].set_value(20_000.0)
    [s for s in at.selectbox if s.label == "For the theme"][0].set_value("vulnerable-adults")
    [b for b in at.button if b.label == "Add this change"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = texts(at)
    assert "Move £20,000 a year of Home Office Community Safety Grant 2013-14 from Blackpool to Burnley & Pendle" in shown
    assert "Scenario: CSG to Burnley" in shown and "not actual allocations" in shown
    inequity = _table(at, "Gini (scenario)").set_index("Fund or theme")
    row = inequity.loc["Home Office Community Safety Grant 2013-14"]
    assert round(row["Gini (actual)"], 2) == 0.14 and round(row["Gini (scenario)"], 2) == 0.13
    gaps = _table(at, "Provision (£, scenario)").set_index(["Area", "Theme"])
    va = gaps.loc[("Burnley & Pendle", "Vulnerable adults")]
    assert va["Provision (£, scenario)"] - va["Provision (£, actual)"] == 20_000
    assert review_force(data, as_at).to_json() == actual  # the real review did not move


def test_a_viewer_reads_a_scenario_but_cannot_edit_it(open_page, demo_url):
    from services_db.db import open_database
    from services_db.scenarios import MoveMoney
    from services_db.scenarios.store import save_scenario

    save_scenario(open_database(demo_url), OPCC, "Shared plan",
                  [MoveMoney("csg-2013-14", "Blackpool", "Preston", 5_000, "victims")])
    at = open_page("scenarios", query={"scenario": "Shared plan"}, session={"actor": Actor("v", "viewer")})
    assert at.selectbox(key="scenario_choice").value == "Shared plan"
    assert "Move £5,000 a year" in texts(at)
    assert not [b for b in at.button if b.label in ("Add this change", "Remove", "Copy")]


def test_a_change_that_cannot_apply_is_refused_and_nothing_saved(open_page):
    at = open_page("scenarios", session={"actor": OPCC})
    at.text_input[0].input("Too much")
    at.button[0].click().run()
    [s for s in at.selectbox if s.label == "Fund"][0].set_value("csg-2013-14")
    [s for s in at.selectbox if s.label == "From area"][0].set_value("Blackpool")
    [n for n in at.number_input if n.label == "Amount a year (£)"][0].set_value(5_000_000.0)
    [b for b in at.button if b.label == "Add this change"][0].click().run()
    assert any("cannot be moved" in e.value for e in at.error)
    assert "This scenario has no changes yet." in texts(at)
