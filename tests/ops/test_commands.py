"""``flask import-data FILE`` and ``flask seed-demo``, as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from models import Customer, Transaction
from settings import Settings
from tests.demo import DEMO, customer
from verification.secrets import CUSTOMER_PIN, keyed_hash


def customers_in(app: Flask) -> dict[str, Customer]:
    with app.extensions["db"].sessions() as session:
        return {c.id: c for c in session.scalars(select(Customer))}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_seed_demo_loads_the_demo_data_and_says_what_it_did(
    app: Flask, runner: FlaskCliRunner, settings: Settings
) -> None:
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Imported 4 customers (4 new, 0 updated), 8 transactions (8 new, 0 updated),"
        " 6 agents (6 new, 0 updated), 2 operators (2 new, 0 updated) from demo_data.json\n"
    )
    stored = customers_in(app)
    assert set(stored) == {record["id"] for record in DEMO["customers"]}
    zh = customer(language="zh")
    # Hashed with the configured HOTLINE_SECRET_KEY, so verification can match it.
    key = settings.secret_key_bytes()
    assert stored[zh["id"]].pin_hash == keyed_hash(key, CUSTOMER_PIN, zh["id"], zh["pin"])


def test_seed_demo_twice_updates_instead_of_duplicating(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "4 customers (0 new, 4 updated), 8 transactions (0 new, 8 updated)" in result.stdout
    with app.extensions["db"].sessions() as session:
        assert session.scalar(select(func.count()).select_from(Transaction)) == 8


def test_import_data_uses_the_default_region_for_national_numbers(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    record = {**DEMO["customers"][0], "phone": "13800138000"}
    result = runner.invoke(args=["import-data", str(write(tmp_path, {"customers": [record]}))])

    assert result.exit_code == 0, result.output
    assert customers_in(app)[record["id"]].phone == "+8613800138000"


def test_a_bad_record_is_reported_and_nothing_is_imported(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    data = json.loads(json.dumps(DEMO))
    data["customers"][2]["phone"] = "12345"
    path = write(tmp_path, data)

    result = runner.invoke(args=["import-data", str(path)])

    assert result.exit_code != 0
    assert result.stderr == (
        f"Error: {path}: customers[2].phone: '12345' is not a valid phone number\n"
    )
    assert customers_in(app) == {}


def test_malformed_json_is_reported_with_its_line(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"customers": [\n  {"id": "C1"\n]}\n', encoding="utf-8")

    result = runner.invoke(args=["import-data", str(path)])

    assert result.exit_code != 0
    assert result.stderr.startswith(f"Error: {path}: line 3, column 1: not valid JSON")


def test_a_missing_file_is_reported(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    result = runner.invoke(args=["import-data", str(path)])
    assert result.exit_code != 0
    assert result.stderr.startswith(f"Error: {path}: cannot read the file")
