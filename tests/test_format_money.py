"""Money as people read it everywhere the app shows a figure: a true minus before the pound sign, never "£-576"."""

from components.format import money


def test_money_reads_as_people_write_it():
    assert money(41_000) == "£41,000"
    assert money(1_280_000) == "£1.28m"
    assert money(-576) == "\u2212£576"
    assert money(-2_500_000) == "\u2212£2.50m"
    assert money(-0.2) == "£0"  # no "−£0"
    assert money(None) == "–"
