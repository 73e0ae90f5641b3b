"""Rounding for reading, and the rule that plain words never carry a number."""

import pytest

from services_db.review.wording import (
    Sentence,
    count,
    date_text,
    duplication_opening,
    duplication_sentence,
    hyphenated,
    money,
    money_rate,
    percent,
)


@pytest.mark.parametrize("value, text, shown", [
    (0, "£0", 0.0), (750.4, "£750", 750.0), (1450, "£1,450", 1450.0), (1455, "£1,460", 1460.0),
    (41_000.4, "£41,000", 41_000.0), (98_520, "£99,000", 99_000.0), (581_476, "£581,000", 581_000.0),
    (999_600, "£1.00m", 1_000_000.0), (1_275_000, "£1.28m", 1_280_000.0), (1_794_000, "£1.79m", 1_794_000 - 4_000),
    (12_345_678, "£12.3m", 12_300_000.0), (123_456_789, "£123m", 123_000_000.0), (4.3e9, "£4.30bn", 4.3e9),
    (-98_520, "-£99,000", -99_000.0),
])
def test_money(value, text, shown):
    assert money(value) == (text, shown)


def test_rates_percent_counts_dates():
    assert money_rate(1.2) == ("£1.20", 1.2)
    assert money_rate(4.105) == ("£4.11", 4.11)
    assert money_rate(1234.4) == ("£1,234", 1234.0)
    assert percent(0.10934) == ("10.9%", 10.9)
    assert percent(0.8, 0) == ("80%", 80.0)
    assert count(3, capital=True) == ("Three", 3.0)
    assert count(12) == ("12", 12.0)
    assert count(1234) == ("1,234", 1234.0)
    assert date_text("2017-03-31") == "31 March 2017"
    assert hyphenated("mental health") == "mental-health"
    assert hyphenated("anti-social behaviour") == "anti-social behaviour"
    assert hyphenated("child sexual exploitation") == "child sexual exploitation"


def test_plain_words_may_not_hold_a_number():
    with pytest.raises(ValueError):
        Sentence().words("within 12 months")


def test_lists_of_names():
    assert Sentence().names("x", ["A"]).text() == "A"
    assert Sentence().names("x", ["A", "B"]).text() == "A and B"
    assert Sentence().names("x", ["A", "B", "C"]).text() == "A, B and C"
    s = Sentence().names("x", ["A", "B", "C", "D", "E"], other="other area")
    assert s.text() == "A, B, C and two other areas"
    assert s.figures == {"x_others": 2.0} and s.texts == {"x": "A, B, C"}


@pytest.mark.parametrize("row", [
    dict(n_services=3, theme_name="Domestic abuse", target_group_name="adults", target_group="adults"),
    dict(n_services=12, theme_name="BME outreach", target_group_name=None, target_group="women"),
    dict(n_services=1, theme_name="mental health", target_group_name="", target_group=""),
    dict(n_services=2, theme_name="mental health", target_group_name="young adults, carers"),
])
@pytest.mark.parametrize("commissioners, force_wide", [(2, False), (1, True)])
def test_a_duplication_sentence_starts_with_its_opening(row, commissioners, force_wide):
    row = dict(row, n_commissioners=commissioners, n_providers=2, overlap=0.8, shared_areas=["North"],
               force_wide=force_wide, n_unknown_funding=0, combined_funding=1000.0, money_duplicated=500.0)
    opening = duplication_opening(row, "district", "Testshire")
    assert opening.endswith(", ") and duplication_sentence(row, "district", "Testshire").text().startswith(opening)
    assert duplication_opening(row) == opening  # the same whatever the other arguments (and from the cache)
