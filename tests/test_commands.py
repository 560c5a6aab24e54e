"""The operator's commands as an operator runs them: separate processes, in a directory
with no .env, and an environment with no secrets.

Commands that need neither the database nor the secrets (``flow check``, ``flow
graph``, ``webhook-urls``) run and create no database; the server refuses to start
without its secrets, naming the missing one; commands that write data refuse an
unmigrated database and say what to run.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SECRET_KEY

REPO = Path(__file__).resolve().parents[1]
UPGRADE = "run `flask --app app db upgrade`"


class Operator:
    """A shell in an empty directory, with DATABASE_URL naming a file that does not exist."""

    def __init__(self, tmp_path: Path) -> None:
        self.cwd = tmp_path / "work"
        self.cwd.mkdir()
        self.database = tmp_path / "data" / "hotline.db"
        self.database.parent.mkdir()
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(REPO),
            "DATABASE_URL": f"sqlite:///{self.database}",
        }

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            cwd=self.cwd,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def flask(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "flask", "--app", str(REPO / "app.py"), *args, **env)

    def serve(self, **env: str) -> subprocess.CompletedProcess[str]:
        """``python app.py``; a server that did start would outlive the timeout."""
        return self.run(sys.executable, str(REPO / "app.py"), "--port", "0", **env)

    def tables(self) -> list[str]:
        with sqlite3.connect(self.database) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return [name for (name,) in rows]

    def count(self, table: str) -> int:
        with sqlite3.connect(self.database) as connection:
            (number,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
            return int(number)


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    return Operator(tmp_path)


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["flow", "check"], "OK: "),
        (["flow", "graph"], "flowchart TD"),
        (["webhook-urls"], "http://127.0.0.1:5000/voice/incoming"),
    ],
)
def test_commands_without_database_or_secrets_run_and_create_no_database(
    operator: Operator, command: list[str], says: str
) -> None:
    result = operator.flask(*command)
    assert result.returncode == 0, result.stderr
    assert says in result.stdout
    assert not operator.database.exists()
    assert list(operator.cwd.iterdir()) == []


@pytest.mark.parametrize(
    ("missing", "present"),
    [("TWILIO_AUTH_TOKEN", "HOTLINE_SECRET_KEY"), ("HOTLINE_SECRET_KEY", "TWILIO_AUTH_TOKEN")],
)
def test_the_server_does_not_start_without_a_secret_and_names_it(
    operator: Operator, missing: str, present: str
) -> None:
    result = operator.serve(**{present: SECRET_KEY})
    assert result.returncode != 0
    assert "Hotline cannot start" in result.stderr
    assert missing in result.stderr and present not in result.stderr
    assert not operator.database.exists()  # nothing migrated before the refusal


def test_data_commands_refuse_an_unmigrated_database_until_it_is_upgraded(
    operator: Operator,
) -> None:
    demo = str(REPO / "ops" / "demo_data.json")
    for command in (["import-data", demo], ["seed-demo"]):
        refused = operator.flask(*command, HOTLINE_SECRET_KEY=SECRET_KEY)
        assert refused.returncode != 0
        assert UPGRADE in refused.stderr
        assert operator.tables() == []  # neither migrated nor written

    upgraded = operator.flask("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    without_key = operator.flask("seed-demo")
    assert without_key.returncode != 0 and "HOTLINE_SECRET_KEY" in without_key.stderr
    assert "TWILIO_AUTH_TOKEN" not in without_key.stderr  # importing needs no token
    assert operator.count("customers") == 0

    seeded = operator.flask("seed-demo", HOTLINE_SECRET_KEY=SECRET_KEY)
    assert seeded.returncode == 0, seeded.stderr
    assert "Imported 4 customers" in seeded.stdout
    assert operator.count("customers") == 4
