"""/admin/flow: where callers went, for a period, drawn and in tables, for signed-in
operators only."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest

from tests.admin.consoles import Console
from tests.demo import customer

WANG = customer(language="zh")
DAY = "2026-11-24"  # the tests' clock, in Shanghai


def counts(page: str, menu: str) -> dict[str, int]:
    row = re.search(rf'<tr data-menu="{menu}">(.*?)</tr>', page, re.S)
    assert row is not None, f"no row for menu {menu}"
    return {name: int(n) for name, n in re.findall(r'data-count="(\w+)">(\d+)', row[1])}


def step(page: str, name: str) -> int:
    found = re.search(rf'<tr data-step="{name}"><td>[^<]*</td><td class="n">(\d+)<', page)
    assert found is not None, f"no step {name}"
    return int(found[1])


def drawing(page: str) -> ET.Element:
    found = re.search(r"<svg .*?</svg>", page, re.S)
    assert found is not None, "no drawing on the page"
    return ET.fromstring(found[0])


# Nothing in these two depends on the database: SQLite alone.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_and_its_drawing_need_a_signed_in_operator(console: Console) -> None:
    page = console.client.get(f"/admin/flow?from={DAY}&to={DAY}")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/admin/login?next=/admin/flow")
    assert console.client.get("/admin/flow.svg").status_code == 401


def test_the_page_counts_the_calls_of_the_days_asked(supervisor: Console, phone) -> None:  # noqa: ANN001
    phone(WANG["phone"]).dial().hang_up()
    phone(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"]).press("2").press(
        "3"
    ).hang_up()

    page = supervisor.page(f"/admin/flow?from={DAY}&to={DAY}")

    assert (step(page, "calls"), step(page, "greeting_dropped"), step(page, "verified")) == (
        2,
        1,
        1,
    )
    assert counts(page, "main") == {
        "entered": 1,
        "answered": 0,
        "dropped": 0,
        "to_agent": 0,
        "missed": 0,
    }
    assert counts(page, "funds")["entered"] == counts(page, "funds")["answered"] == 1
    texts = {
        box.attrib["data-node"]: [
            text.text for text in box.iter("{http://www.w3.org/2000/svg}text")
        ]
        for box in drawing(page).iter("{http://www.w3.org/2000/svg}g")
        if "data-node" in box.attrib
    }
    assert texts["menu:funds"][:3] == ["充值与提现", "1 calls", "answered 100% · hung up 0%"]
    alone = supervisor.client.get(f"/admin/flow.svg?from={DAY}&to={DAY}")
    assert alone.mimetype == "image/svg+xml"
    assert (
        ET.fromstring(alone.get_data(as_text=True)).find(".//*[@data-node='menu:funds']")
        is not None
    )
    # The last week up to today, when no days are asked for; nothing on a later day.
    assert step(supervisor.page("/admin/flow"), "calls") == 2
    assert step(supervisor.page("/admin/flow?from=2026-11-25&to=2026-11-25"), "calls") == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_period_that_is_no_period_is_said_and_the_last_week_shown(supervisor: Console) -> None:
    page = supervisor.page("/admin/flow?from=2026-11-24&to=2026-11-01")
    assert "'to' is before 'from'" in html.unescape(page)
    assert 'name="from" value="2026-11-18"' in page and 'name="to" value="2026-11-24"' in page
    assert "from: Input should be a valid date" in html.unescape(
        supervisor.page("/admin/flow?from=soon")
    )
    assert supervisor.client.get("/admin/flow.svg?from=2020-01-01&to=2026-01-01").status_code == 400
