"""Where a figure came from reads as the report, not the seed file's name (issue 14: "000_7c03….txt" reached users)."""

from services_db.sources import readable_source
from tests.app.conftest import texts


def test_a_seed_file_name_reads_as_its_reports_title():
    assert readable_source("001_9943c6bfa26ccb8b.txt §Financial") == (
        "Lancashire County Council Cabinet, Early Action Response, 9 January 2014 §Financial")
    both = readable_source("002_9343223861ab40f1.txt §Appendix B; 000_7c03d4a60ed0c230.txt §5")
    assert ".txt" not in both and "Police and Crime Panel" in both and "Joint Management Board" in both
    assert readable_source("import: services.csv") == "import: services.csv"
    assert readable_source(None) == ""


def test_the_service_detail_names_the_report(open_page):
    at = open_page("directory", query={"service": "avert-womens-diversion"})
    shown = texts(at) + " ".join(str(t.value) for t in at.table) + " ".join(
        df.value.to_string() for df in at.dataframe if hasattr(df.value, "to_string"))
    assert ".txt" not in shown
    assert "Lancashire" in shown
