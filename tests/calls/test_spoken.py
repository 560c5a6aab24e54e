"""Account values as callers hear them: money, dates and references, in both languages
(plain functions: no HTTP, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from calls.spoken import digits, money, when

SHANGHAI = "Asia/Shanghai"


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        ("1280.50", "1280元5角", "1,280 yuan and 50 fen"),
        ("59.90", "59元9角", "59 yuan and 90 fen"),
        ("35.00", "35元", "35 yuan"),  # whole amounts: no "and 0 fen"
        ("500", "500元", "500 yuan"),
        ("1000000.00", "1000000元", "1,000,000 yuan"),
        ("0.05", "5分", "5 fen"),  # less than one yuan: no "0 yuan"
        ("0.50", "5角", "50 fen"),
        ("0.01", "1分", "1 fen"),
        ("12.34", "12元3角4分", "12 yuan and 34 fen"),
        ("10.05", "10元5分", "10 yuan and 5 fen"),
        ("0.00", "0元", "0 yuan"),  # nothing is still said
    ],
)
def test_yuan_are_spoken_as_yuan_jiao_and_fen(amount: str, zh: str, en: str) -> None:
    assert money(Decimal(amount), "CNY", "zh") == zh
    assert money(Decimal(amount), "CNY", "en") == en


@pytest.mark.parametrize(
    ("amount", "currency", "zh", "en"),
    [
        ("1234.5", "USD", "1234.50USD", "1,234.50 USD"),
        ("20", "HKD", "20.00HKD", "20.00 HKD"),
        ("0.05", "EUR", "0.05EUR", "0.05 EUR"),
    ],
)
def test_other_currencies_keep_their_code_and_two_decimals(
    amount: str, currency: str, zh: str, en: str
) -> None:
    assert money(Decimal(amount), currency, "zh") == zh
    assert money(Decimal(amount), currency, "en") == en


@pytest.mark.parametrize(
    ("utc", "zh", "en"),
    [
        (datetime(2026, 11, 23, 10, 0), "11月23日18点", "November 23 at 6 PM"),
        (datetime(2026, 11, 22, 11, 40), "11月22日19点40分", "November 22 at 7:40 PM"),
        (datetime(2026, 11, 24, 8, 5), "11月24日16点5分", "November 24 at 4:05 PM"),
        (datetime(2026, 11, 24, 4, 0), "11月24日12点", "November 24 at 12 PM"),  # noon
        (datetime(2026, 11, 23, 16, 0), "11月24日0点", "November 24 at 12 AM"),  # midnight
        (datetime(2026, 11, 23, 16, 30), "11月24日0点30分", "November 24 at 12:30 AM"),
        (datetime(2026, 11, 24, 3, 59), "11月24日11点59分", "November 24 at 11:59 AM"),
        (datetime(2026, 12, 31, 16, 0), "1月1日0点", "January 1 at 12 AM"),  # a new year
    ],
)
def test_times_are_spoken_in_the_hotlines_zone(utc: datetime, zh: str, en: str) -> None:
    moment = utc.replace(tzinfo=UTC)
    assert when(moment, "zh", SHANGHAI) == zh
    assert when(moment, "en", SHANGHAI) == en


def test_the_same_moment_elsewhere_is_spoken_in_that_zone() -> None:
    moment = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert when(moment, "en", "Europe/London") == "November 23 at 4 PM"
    assert when(moment, "zh", "Europe/London") == "11月23日16点"


@pytest.mark.parametrize(
    ("reference", "spoken"),
    [
        ("20261124", "2 0 2 6 1 1 2 4"),  # not "twenty million…"
        ("00012345", "0 0 0 1 2 3 4 5"),  # leading zeros are heard
        ("7", "7"),
    ],
)
def test_references_are_read_digit_by_digit(reference: str, spoken: str) -> None:
    assert digits(reference) == spoken
