"""``flask --app app report``: each format says the figures, and bad dates are refused."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from tests.reports import truth
from tests.reports.dataset import FIRST, LAST, generate, save

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PERIOD = ["--from", FIRST.isoformat(), "--to", LAST.isoformat()]


@pytest.fixture
def expected(app: Flask, db: Session) -> dict[str, dict[str, object]]:
    history = generate(app.extensions["flow"], seed=5, per_kind=5)
    save(db, history)
    return truth.branches(history, 20)


def report(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["report", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_csv_has_one_figure_a_row(runner: FlaskCliRunner, expected: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(report(runner, *PERIOD, "--format", "csv"))))

    figures = {(row["section"], row["name"], row["figure"]): row["value"] for row in rows}
    assert len(figures) == len(rows)  # no figure said twice
    assert figures["period", "", "first"] == FIRST.isoformat()
    assert int(figures["branch", "all", "calls"]) == expected["all"]["calls"]
    assert (
        int(figures["branch", "all", "callbacks_failed"]) == expected["all"]["callbacks"]["failed"]
    )
    assert float(figures["branch", "all", "service_level"]) == pytest.approx(
        expected["all"]["service_level"]
    )
    assert figures["agent", "R1", "name"] == "李娜"


def test_json_loads_with_every_branch(runner: FlaskCliRunner, expected: dict) -> None:
    document = json.loads(report(runner, *PERIOD, "--format", "json"))

    branches = {b["branch"]: b for b in document["branches"]}
    for name, figures in expected.items():
        said = document["total"] if name == "all" else branches[name]
        assert said["calls"] == figures["calls"]
        assert said["ratings"]["count"] == figures["ratings"]["count"]
    assert document["period"] == {
        "first": "2026-11-23",
        "last": "2026-11-25",
        "zone": "Asia/Shanghai",
    }


def test_the_table_reads_as_columns(runner: FlaskCliRunner, expected: dict) -> None:
    lines = report(runner, *PERIOD, "--format", "table").splitlines()

    assert lines[0] == "Hotline report, 2026-11-23 to 2026-11-25 (Asia/Shanghai)"
    volumes = lines.index("Volumes")
    header, rows = lines[volumes + 1].split(), lines[volumes + 2 : lines.index("", volumes)]
    every = {row.split()[0]: dict(zip(header, row.split(), strict=True)) for row in rows}
    assert int(every["all"]["calls"]) == expected["all"]["calls"]
    assert int(every["none"]["calls"]) == expected["none"]["calls"]
    agents = lines[lines.index(next(line for line in lines if line.startswith("Agents"))) + 1 :]
    assert any("李娜" in line for line in agents)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--from", "2026-12-06", "--to", "2026-12-01"], "is after --to"),
        (["--from", "1 December"], "is not a date such as 2026-12-01"),
        (["--format", "xml"], "'xml' is not one of"),
    ],
)
def test_bad_options_are_refused_saying_why(
    runner: FlaskCliRunner, args: list[str], said: str
) -> None:
    result = runner.invoke(args=["report", *args])

    assert result.exit_code == 2
    assert said in result.output


def test_without_dates_it_reports_today(runner: FlaskCliRunner) -> None:
    document = json.loads(report(runner, "--format", "json"))

    assert document["period"]["first"] == document["period"]["last"] == "2026-11-24"  # the clock's
