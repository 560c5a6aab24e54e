"""bench/attack.py against a real server (gunicorn, 3 workers, SQLite; PostgreSQL too
when the tests have one): every attack class it runs reports no failure, the timing
comparison at its default 100 tries a kind."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from models.db import make_engine
from tests.conftest import POSTGRES_ENV
from tests.serving.shipped import ROOT

CLASSES = [
    "signed fuzzing",
    "forged signatures",
    "replayed webhooks",
    "parallel PIN guessing",
    "SMS pumping",
    "enumeration by timing",
]
ROW = re.compile(r"^(?P<name>[A-Za-z ]+?)\s+(?P<tried>\d+)\s+(?P<failures>\d+)\s+\d+ ms$")


def attack(*options: str) -> dict[str, tuple[int, int]]:
    """Each class's requests tried and failures, as the table printed them."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "attack.py"), "--requests", "300", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    rows = {
        found["name"]: (int(found["tried"]), int(found["failures"]))
        for line in run.stdout.splitlines()
        if (found := ROW.match(line))
    }
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    return rows


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A schema of the test's own on the tests' PostgreSQL server, dropped after."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV}")
    schema = f"hotline_attack_{os.getpid()}_{secrets.token_hex(4)}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_every_attack_class_fails_nothing(request: pytest.FixtureRequest, database: str) -> None:
    options = (
        ["--database-url", request.getfixturevalue("empty_postgres")]
        if database != "sqlite"
        else []
    )
    rows = attack(*options)
    assert sorted(rows) == sorted(CLASSES)
    assert rows["signed fuzzing"][0] == 300
    assert all(tried > 0 and failures == 0 for tried, failures in rows.values()), rows
