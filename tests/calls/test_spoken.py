"""Account values as callers hear them: money, dates and references, in both languages
(plain functions: no HTTP, no database)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.spoken import money, reference, script_of, when

SHANGHAI = "Asia/Shanghai"


@pytest.mark.parametrize(
    ("amount", "zh", "en"),
    [
        ("4321.07", "4321元零7分", "4,321.07 yuan"),  # the skipped 角 is heard: 零
        ("1280.50", "1280元5角", "1,280.50 yuan"),
        ("59.90", "59元9角", "59.90 yuan"),
        ("10.50", "10元5角", "10.50 yuan"),
        ("10.05", "10元零5分", "10.05 yuan"),
        ("12.34", "12元3角4分", "12.34 yuan"),
        ("12.00", "12元", "12 yuan"),  # whole amounts: no "point zero zero"
        ("500", "500元", "500 yuan"),
        ("1000000.00", "1000000元", "1,000,000 yuan"),
        ("0.05", "5分", "0.05 yuan"),  # less than one yuan: no "0元", no 零
        ("0.50", "5角", "0.50 yuan"),
        ("0.01", "1分", "0.01 yuan"),
        ("0.00", "0元", "0 yuan"),  # nothing is still said
    ],
)
def test_yuan_are_spoken_as_a_native_speaker_says_them(amount: str, zh: str, en: str) -> None:
    assert money(Decimal(amount), "CNY", "zh") == zh
    assert money(Decimal(amount), "CNY", "en") == en


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
MANDARIN = re.compile(r"^(?:(\d+)元)?(零)?(?:(\d)角)?(?:(\d)分)?$")


@given(amounts)
def test_a_mandarin_amount_reads_back_as_the_same_amount(amount: Decimal) -> None:
    said = money(amount, "CNY", "zh")
    parsed = MANDARIN.match(said)
    assert parsed is not None and said, said
    yuan, zero, jiao, fen = parsed.groups()
    back = Decimal(yuan or 0) + Decimal(jiao or 0) / 10 + Decimal(fen or 0) / 100
    assert back == amount
    # 零 exactly where a 角 is skipped between 元 and 分, as a native speaker says it.
    assert bool(zero) == bool(yuan and int(yuan) and fen and not jiao)


@given(amounts)
def test_an_english_amount_is_the_price_tag_in_yuan_never_fen(amount: Decimal) -> None:
    said = money(amount, "CNY", "en")
    assert "fen" not in said and said.endswith(" yuan")
    assert Decimal(said.removesuffix(" yuan").replace(",", "")) == amount


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
        (datetime(2026, 11, 23, 13, 7), "11月23日21点07分", "November 23 at 9:07 PM"),
        (datetime(2026, 11, 23, 10, 0), "11月23日18点", "November 23 at 6 PM"),
        (datetime(2026, 11, 23, 1, 0), "11月23日9点", "November 23 at 9 AM"),  # on the hour
        (datetime(2026, 11, 22, 11, 40), "11月22日19点40分", "November 22 at 7:40 PM"),
        (datetime(2026, 11, 24, 8, 5), "11月24日16点05分", "November 24 at 4:05 PM"),
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


MANDARIN_TIME = re.compile(r"^(\d+)月(\d+)日(\d+)点(?:(\d\d)分)?$")
ENGLISH_TIME = re.compile(r"^\w+ (\d+) at (\d+)(?::(\d\d))? (AM|PM)$")


@given(st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_every_spoken_time_reads_back_as_the_local_time(moment: datetime) -> None:
    local = moment.astimezone(ZoneInfo(SHANGHAI))
    zh = MANDARIN_TIME.match(when(moment, "zh", SHANGHAI))
    assert zh is not None
    month, day, hour, minute = zh.groups()
    assert (int(month), int(day), int(hour)) == (local.month, local.day, local.hour)
    assert int(minute or 0) == local.minute and minute != "00"  # 9点, never 9点00分
    en = ENGLISH_TIME.match(when(moment, "en", SHANGHAI))
    assert en is not None
    day, hour, minute, half = en.groups()
    assert int(day) == local.day and int(minute or 0) == local.minute
    assert (int(hour) % 12) + (12 if half == "PM" else 0) == local.hour


def test_the_same_moment_elsewhere_is_spoken_in_that_zone() -> None:
    moment = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert when(moment, "en", "Europe/London") == "November 23 at 4 PM"
    assert when(moment, "zh", "Europe/London") == "11月23日16点"


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("20261124", "2 0 2 6，1 1 2 4", "2 0 2 6, 1 1 2 4"),  # not "twenty million…"
        ("00012345", "0 0 0 1，2 3 4 5", "0 0 0 1, 2 3 4 5"),  # leading zeros are heard
        ("1234567", "1 2 3 4，5 6 7", "1 2 3 4, 5 6 7"),
        ("123456789", "1 2 3，4 5 6，7 8 9", "1 2 3, 4 5 6, 7 8 9"),  # no group of one
        ("12345", "1 2 3，4 5", "1 2 3, 4 5"),
        ("7", "7", "7"),
    ],
)
def test_references_are_read_one_by_one_in_short_groups(text: str, zh: str, en: str) -> None:
    assert reference(text, "zh") == zh
    assert reference(text, "en") == en


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=1, max_size=24))
def test_a_reference_keeps_every_character_in_groups_of_two_to_four(text: str) -> None:
    groups = reference(text, "en").split(", ")
    assert "".join(groups).replace(" ", "") == text
    assert all(2 <= len(group.replace(" ", "")) <= 4 for group in groups) or len(text) == 1


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("检测到异地异常登录", "zh"),
        ("Card declined by the issuing bank", "en"),
        ("Emily Chen", "en"),
        ("王小明", "zh"),
        ("VIP客户", "zh"),  # Chinese characters need the Mandarin voice, whatever else
        ("12345", None),  # either voice reads digits
        ("", None),
    ],
)
def test_free_text_is_given_to_the_voice_of_its_script(text: str, script: str | None) -> None:
    assert script_of(text) == script
