"""The calls bench/load.py plays, shared with the other benchmarks and tests that replay
them: one whole call driven through the phone simulator into Hotline (the recipe),
replayed with fresh CallSids and phone numbers, each caller a customer of its own."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from werkzeug.test import TestResponse  # noqa: E402

from app import create_server  # noqa: E402
from models import Account, Call, CallEvent, Customer  # noqa: E402
from ops.commands import DEMO_FILE  # noqa: E402
from settings import DEFAULT_FLOW_FILE, Settings  # noqa: E402
from telephony.simulator import FlaskTransport, Relay, Switch, hotline_numbers, sign  # noqa: E402
from telephony.simulator.webhooks import Reply  # noqa: E402
from tests.conftest import SECRET_KEY, TOKEN  # noqa: E402
from tests.serving.workers import with_demo_data  # noqa: E402
from verification.secrets import CUSTOMER_PIN, keyed_hash  # noqa: E402

ACCOUNT_SID = "AC" + "0" * 32
HOTLINE = "+8640012345678"
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
TEMPLATE = next(c for c in DEMO["customers"] if c["language"] == "zh" and c.get("pin"))
ZH, CALLER_ID, ACCOUNT_MENU, FREEZE_ANSWER, AGENT = "1", "#", "1", "2", "0"

Request = tuple[str, bytes, str]  # path with its query, form body, signature


@dataclass(frozen=True)
class Recipe:
    """One call's webhooks as the simulator sent them, and how its row ended."""

    steps: list[tuple[str, dict[str, str]]]  # path with its query, form
    call_sid: str
    phone: str
    ending: tuple[Any, ...]

    def call(self, public: str, number: int) -> list[Request]:
        """Call ``number``'s requests: the template's CallSid and phone replaced."""
        return signed(
            public, self.steps, {self.call_sid: call_sid_of(number), self.phone: phone_of(number)}
        )

    def late(self, public: str, number: int) -> list[Request]:
        """Call ``number``'s answers to its prompts (their URLs carry the prompt's turn)
        sent again once the call has ended, as Twilio retries a request: Hotline
        replays the call's stage and changes nothing, the read-only webhooks."""
        return [request for request in self.call(public, number) if "turn=" in request[0]]


def signed(
    public: str, steps: list[tuple[str, dict[str, str]]], fresh: dict[str, str]
) -> list[Request]:
    """``steps`` with each key of ``fresh`` replaced by its value, in paths and in form
    values, then signed for ``public``, as Twilio signs them."""

    def replaced(text: str) -> str:
        for old, new in fresh.items():
            text = text.replace(old, new)
        return text

    built = []
    for path, form in steps:
        path, form = replaced(path), {name: replaced(value) for name, value in form.items()}
        built.append((path, urlencode(form).encode(), sign(TOKEN, public + path, form)))
    return built


def post(client: FlaskClient, public: str, request: Request) -> TestResponse:
    """``request`` sent into a Hotline in this process, as Twilio sends it to ``public``."""
    path, body, signature = request
    return client.post(
        path,
        base_url=public,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def call_sid_of(number: int) -> str:
    return f"CA{number:032x}"


# The callers' numbers start past the demo customers' (+8613700137000 is one of them).
FIRST_PHONE = 1_000_000


def phone_of(number: int) -> str:
    return f"+86137{FIRST_PHONE + number:08d}"  # a mobile number, no demo customer's


def settings_of(
    database_url: str, folder: Path, public: str, twilio_api: str = "http://127.0.0.1:9"
) -> dict[str, str]:
    """Hotline's settings for the run (the environment of gunicorn, upper-cased); its
    REST requests go to ``twilio_api`` (by default nowhere: nothing is meant to call it)."""
    return {
        "database_url": database_url,
        "twilio_auth_token": TOKEN,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_api_base_url": twilio_api,
        "hotline_number": HOTLINE,
        "hotline_secret_key": SECRET_KEY,
        "public_base_url": public,
        "flow_file": str(open_all_day(folder)),
        # Commits as the minimal stateful reference makes them (bench/references.py):
        # SQLite's synchronous NORMAL; PostgreSQL's cluster here commits asynchronously
        # anyway. Lockout counts still commit durably (verification.guard).
        "database_synchronous_commit": "false",
    }


def open_all_day(folder: Path) -> Path:
    """The default flow with agents' hours round the clock, so that 0 reaches the queue
    whenever the benchmark runs."""
    path = folder / "flow.yaml"
    if not path.exists():
        flow = yaml.safe_load(DEFAULT_FLOW_FILE.read_text(encoding="utf-8"))
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        flow["hours"] = {"weekly": {day: ["00:00-24:00"] for day in days}, "holidays": []}
        path.write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    return path


def prepared(database_url: str, folder: Path, public: str) -> Engine:
    """Hotline's database migrated and holding the demo data; an engine on it."""
    app = with_demo_data(Settings.model_validate(settings_of(database_url, folder, public)))
    engine: Engine = app.extensions["db"].engine
    return engine


class Recorder(Relay):
    """Keeps every webhook the switch sends, with the path Hotline sees."""

    def __init__(self, inner: FlaskTransport) -> None:
        super().__init__(inner)
        self.sent: list[tuple[str, dict[str, str]]] = []

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        assert method == "POST", url
        self.sent.append((url.removeprefix(self.base_url), dict(params)))
        return self.inner.send(method, url, params, signature)


def ending(engine: Engine, call_sids: list[str]) -> dict[str, tuple[Any, ...]]:
    """How each call's row ended: what the recipe's call must share with every call."""
    events = (
        select(func.count())
        .select_from(CallEvent)
        .where(CallEvent.call_id == Call.id)
        .scalar_subquery()
    )
    query = select(
        Call.call_sid,
        Call.stage,
        Call.verified,
        Call.queue,
        Call.leave_reason,
        Call.twilio_status,
        Call.caller == Customer.phone,
        events,
    ).outerjoin(Customer, Customer.id == Call.customer_id)
    found: dict[str, tuple[Any, ...]] = {}
    with engine.connect() as connection:
        for start in range(0, len(call_sids), 500):  # under any bound on parameters
            chunk = call_sids[start : start + 500]
            for row in connection.execute(query.where(Call.call_sid.in_(chunk))):
                found[row[0]] = tuple(row[1:])
    return found


def recipe(folder: Path) -> Recipe:
    """One whole call driven through the simulator into Hotline in this process, on a
    database of its own; what it sent, and how its row ended."""
    public = "http://127.0.0.1"
    engine = prepared(f"sqlite:///{folder / 'recipe.db'}", folder, public)
    app = create_server(Settings.model_validate(settings_of(str(engine.url), folder, public)))
    recorder = Recorder(FlaskTransport(app, public))
    switch = Switch(recorder, auth_token=TOKEN, numbers=hotline_numbers(HOTLINE))
    call = switch.caller(TEMPLATE["phone"]).dial().press(ZH).press(CALLER_ID)
    call.press(TEMPLATE["pin"]).press(ACCOUNT_MENU).press(FREEZE_ANSWER).press(AGENT)
    if not call.queued:
        raise SystemExit(f"the recipe's call did not reach the queue: {call.text[-300:]}")
    call.hang_up()
    ended = ending(engine, [call.call_sid])[call.call_sid]
    engine.dispose()
    return Recipe(recorder.sent, call.call_sid, TEMPLATE["phone"], ended)


def add_customers(engine: Engine, numbers: range) -> None:
    """A customer of its own for every call, with the template's PIN and language."""
    key = Settings.model_validate({"hotline_secret_key": SECRET_KEY}).secret_key_bytes()
    for start in range(0, len(numbers), 5000):
        chunk = numbers[start : start + 5000]
        customers = [
            {
                "id": f"BENCH{n:08d}",
                "name": f"Bench {n}",
                "phone": phone_of(n),
                "language": TEMPLATE["language"],
                "pin_hash": keyed_hash(key, CUSTOMER_PIN, f"BENCH{n:08d}", TEMPLATE["pin"]),
                "status": "active",
            }
            for n in chunk
        ]
        accounts = [
            {"customer_id": f"BENCH{n:08d}", "balance": "100.00", "currency": "CNY"} for n in chunk
        ]
        with engine.begin() as connection:
            connection.execute(insert(Customer), customers)
            connection.execute(insert(Account), accounts)
