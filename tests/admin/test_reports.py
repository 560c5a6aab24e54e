"""/admin/reports shows a period's figures and charts to supervisors, and the same report
to download."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.admin.consoles import Console
from tests.conftest import OPEN_HOURS
from tests.reports import truth
from tests.reports.dataset import FIRST, LAST, generate, save

PERIOD = f"from={FIRST}&to={LAST}"
# The figures are checked on both databases in tests/reports; here, the page.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def row(page: str, name: str) -> list[str]:
    """The cells of the table row ``name`` in the first table that has it."""
    found = re.search(rf'<tr data-row="{name}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no row {name}"
    return [
        html.unescape(cell).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found[1], re.S)
    ]


def test_a_supervisor_sees_the_figures_and_charts(
    app: Flask, db: Session, supervisor: Console
) -> None:
    history = generate(app.extensions["flow"], seed=3, per_kind=4)
    save(db, history)
    expected = truth.branches(history, 20)

    page = supervisor.page(f"/admin/reports?{PERIOD}")

    volumes = row(page, "all")
    assert int(volumes[1]) == expected["all"]["calls"]
    assert int(volumes[4]) == expected["all"]["queued"]
    assert "充值与提现" in row(page, "funds")[0]  # the branch named as the flow names it
    # R4 only signed in: the agents' table still has them, their time and occupancy
    # (up to now: the clock is in the period).
    r4 = truth.agents(history, OPEN_HOURS)["R4"]
    signed_in, on_break = (round(r4[f"{key}_seconds"] / 60) for key in ("signed_in", "break"))
    assert row(page, "R4")[-4:] == [
        "-",  # no average handle: no calls
        f"{signed_in // 60}:{signed_in % 60:02d}",
        f"{on_break // 60}:{on_break % 60:02d}",
        f"{r4['occupancy']:.1%}",
    ]
    charts = re.findall(r'<img src="([^"]+)"', page)
    assert len(charts) == 3
    drawn = supervisor.client.get(html.unescape(charts[0]))
    assert drawn.status_code == 200 and drawn.mimetype == "image/png"
    assert drawn.data.startswith(b"\x89PNG") and len(drawn.data) > 10_000

    download = re.search(r'id="download-csv" href="([^"]+)"', page)
    assert download is not None
    rows = csv.DictReader(io.StringIO(supervisor.client.get(html.unescape(download[1])).text))
    calls = next(
        r for r in rows if (r["section"], r["name"], r["figure"]) == ("branch", "all", "calls")
    )
    assert int(calls["value"]) == expected["all"]["calls"]


def test_a_period_that_makes_no_sense_is_refused_saying_why(supervisor: Console) -> None:
    answer = supervisor.client.get("/admin/reports?from=2026-12-06&to=2026-12-01")
    assert answer.status_code == 400
    assert "from 2026-12-06 is after to 2026-12-01" in answer.text
    assert supervisor.client.get("/admin/reports?from=soon").status_code == 400
    assert supervisor.client.get(f"/admin/reports/charts/pie.png?{PERIOD}").status_code == 404
