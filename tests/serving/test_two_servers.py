"""Two Hotline servers under gunicorn on one PostgreSQL database, behind a balancer that
sends each webhook to the other server in turn (issue 12 #4): whole calls end exactly
as the same calls do on one server, row and events kind by kind. bench/load.py's call
(greeting to hang-up in the queue) replayed for several customers at once, and a caller
an agent takes, talks to and who rates the call after."""

from __future__ import annotations

import itertools
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy import Engine, select

from bench.calls import Recipe, add_customers, call_sid_of, ending, prepared, recipe, settings_of
from models import Call, CallEvent
from telephony.simulator import HttpTransport, RestStandIn, Switch, Transport, hotline_numbers
from telephony.simulator.webhooks import Media, Reply
from tests.clusters import Cluster
from tests.conftest import HOTLINE, TOKEN
from tests.needs import private_cluster
from tests.queueing.test_agent_line import FANG, WANG
from tests.servers import free_port
from tests.serving.workers import start_gunicorn

PUBLIC = "https://hotline.example.com"  # the balancer's: Twilio signs its URLs
CALLS = 6  # bench/load.py's call, each with its own CallSid and customer


@dataclass(frozen=True)
class Hotline:
    engine: Engine  # on its database, for reading what the calls left
    servers: list[str]


class Balancer(Transport):
    """A load balancer in front of ``servers``: each request goes to the next one."""

    def __init__(self, servers: list[str]) -> None:
        self.base_url = PUBLIC
        self._next = itertools.cycle([HttpTransport(PUBLIC, server) for server in servers])
        self._lock = threading.Lock()  # the switch may send from the stand-in's thread

    def _server(self) -> HttpTransport:
        with self._lock:
            return next(self._next)

    def send(self, method: str, url: str, params: dict[str, str], signature: str) -> Reply:
        return self._server().send(method, url, params, signature)

    def media(self, url: str) -> Media:
        return self._server().media(url)


@contextmanager
def hotline(
    cluster: Cluster, name: str, servers: int, folder: Path, twilio_api: RestStandIn
) -> Iterator[Hotline]:
    """``servers`` gunicorn servers of one worker each on a new database ``name``."""
    with psycopg.connect(cluster.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    url = cluster.url_of(name)
    folder.mkdir()
    engine = prepared(url, folder, PUBLIC)
    add_customers(engine, range(CALLS))
    extra = {key.upper(): value for key, value in settings_of(url, folder, PUBLIC).items()}
    extra["TWILIO_API_BASE_URL"] = twilio_api.base_url
    started = []
    try:
        for n in range(servers):
            own, port = folder / f"server-{n}", free_port()
            own.mkdir()
            started.append((start_gunicorn(own, url, PUBLIC, port, 1, extra=extra), port))
        yield Hotline(engine, [f"http://127.0.0.1:{port}" for _, port in started])
    finally:
        for server, _ in started:
            server.stop(signal.SIGTERM)
        engine.dispose()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("two-servers")


@pytest.fixture(scope="module")
def one(cluster: Cluster, folder: Path, twilio_api_server: RestStandIn) -> Iterator[Hotline]:
    with hotline(cluster, "one_server", 1, folder / "one", twilio_api_server) as found:
        yield found


@pytest.fixture(scope="module")
def two(cluster: Cluster, folder: Path, twilio_api_server: RestStandIn) -> Iterator[Hotline]:
    with hotline(cluster, "two_servers", 2, folder / "two", twilio_api_server) as found:
        yield found


def event_kinds(engine: Engine, call_sids: list[str]) -> dict[str, list[str]]:
    query = (
        select(Call.call_sid, CallEvent.kind)
        .join(Call, Call.id == CallEvent.call_id)
        .where(Call.call_sid.in_(call_sids))
        .order_by(CallEvent.id)
    )
    found: dict[str, list[str]] = {sid: [] for sid in call_sids}
    with engine.connect() as connection:
        for call_sid, kind in connection.execute(query):
            found[call_sid].append(kind)
    return found


def replay(hotline: Hotline, recipe_: Recipe) -> None:
    """Every call's first webhook, then every call's second, and so on: the calls are
    in flight together, and call n's webhook k goes to server n + k (mod servers)."""
    calls = [recipe_.call(PUBLIC, number) for number in range(CALLS)]
    for step in range(len(recipe_.steps)):
        for number, requests_ in enumerate(calls):
            path, body, signature = requests_[step]
            server = hotline.servers[(number + step) % len(hotline.servers)]
            answer = requests.post(
                server + path,
                data=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                },
                timeout=15,
            )
            assert answer.status_code == 200 and "<Response" in answer.text, (path, answer.text)


def test_calls_whose_webhooks_alternate_between_two_servers_end_as_on_one(
    one: Hotline, two: Hotline, folder: Path
) -> None:
    (folder / "recipe").mkdir()
    recipe_ = recipe(folder / "recipe")  # made on SQLite in this process
    seen: list[tuple[dict[str, Any], dict[str, list[str]]]] = []
    for hotline_ in (one, two):
        replay(hotline_, recipe_)
        call_sids = [call_sid_of(number) for number in range(CALLS)]
        seen.append((ending(hotline_.engine, call_sids), event_kinds(hotline_.engine, call_sids)))
    (endings_one, kinds_one), (endings_two, kinds_two) = seen
    # Every call ended in the queue as the recipe's did, on one server and on two.
    assert set(endings_one.values()) == {recipe_.ending}
    assert endings_two == endings_one
    assert kinds_two == kinds_one
    assert len(endings_one) == CALLS


def test_a_caller_an_agent_takes_on_two_servers_ends_as_on_one(
    one: Hotline, two: Hotline, twilio_api: RestStandIn
) -> None:
    seen = []
    for hotline_ in (one, two):
        switch = Switch(
            Balancer(hotline_.servers), auth_token=TOKEN, numbers=hotline_numbers(HOTLINE)
        )
        twilio_api.connect(switch)
        caller = switch.caller(WANG["phone"]).dial().press("1").press("#").press(WANG["pin"])
        caller.press("2").press("0")  # an account question, then an agent
        caller.hold(position=1, seconds=20)  # Twilio fetches the wait document
        assert caller.queued
        agent = switch.caller(FANG["phone"]).dial("/agents/incoming").press(FANG["pin"])
        agent.press("1").press("1")  # the next caller, accepted
        assert caller.conference is not None and caller.conference == agent.conference
        switch.wait(95)
        agent.hang_up()  # the room ends for the caller, who is asked for a rating
        caller.press("1")  # Mandarin callers hear the best score first
        query = select(Call.stage, Call.outcome, Call.rating, Call.agent_id)
        with hotline_.engine.connect() as connection:
            row = connection.execute(query.where(Call.call_sid == caller.call_sid)).one()
        kinds = event_kinds(hotline_.engine, [caller.call_sid])[caller.call_sid]
        seen.append((tuple(row), kinds))
    assert seen[0][0][1:] == ("agent", 5, FANG["id"])  # talked to Fang, rated the best
    assert seen[1] == seen[0]
