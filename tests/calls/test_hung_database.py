"""The database hung mid-call, for real (issue 11, item 8): a PostgreSQL cluster of this
module's own (tests/clusters.py) whose every process is stopped with SIGSTOP, so that its
host goes on accepting and acknowledging connections and nothing ever answers; and the
same cluster shut down and started again. Hotline runs in this process on its pooled
connections, as a gunicorn worker does, and the phone simulator times every webhook:
callers hear the failure path within BOUND_SECONDS, and once the database is back the
next calls are served and the messages kept meanwhile are voicemails."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from models.calls import CallStage
from models.db import PAGE_DEADLINE_SECONDS, make_engine, normalise_url, upgrade
from models.deadline import SILENCE_SECONDS
from telephony.simulator import Leg, RestStandIn, Switch
from tests.admin.consoles import SUPERVISOR, Console
from tests.calls.faults import (
    BOUND_SECONDS,
    OVERFLOW,
    heard_apology_and_message_prompt,
    record_of,
    timed,
    use_overflow,
    voicemail_of,
)
from tests.clusters import Cluster
from tests.concurrently import at_once
from tests.demo import customer
from tests.needs import private_cluster

CALLER, OTHER, AFTER = "+8613700137000", "+8613700137001", "+8613700137002"
TEMPLATE = "hotline_template"  # migrated once; each test's database is a copy
# How long the cluster stays frozen at the most. A Hotline whose webhooks wait on a hung
# database for ever (as before models.deadline) then answers after this, later than
# Twilio's 15 s, and the test fails on that instead of hanging.
AT_MOST = 20
GREETING = "For English, press 2"
GUNICORN_TIMEOUT = 10  # gunicorn.conf.py: a worker silent this long is killed
EMILY = customer(language="en")
BURST = 6  # calls at once at one server worker, which answers them one after another


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with private_cluster() as cluster:
        run(cluster, f"CREATE DATABASE {TEMPLATE}")
        migrating = make_engine(cluster.url_of(TEMPLATE))
        upgrade(migrating)
        migrating.dispose()
        yield cluster


def run(cluster: Cluster, statement: str) -> None:
    admin = create_engine(normalise_url(cluster.url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()


@pytest.fixture
def database_url(cluster: Cluster) -> Iterator[str]:
    """Every fixture of conftest (the app, the simulated Twilio) on a fresh copy of the
    migrated database; the cluster running and thawed again afterwards, however the
    test ended."""
    name = f"hotline_{secrets.token_hex(4)}"
    run(cluster, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    yield cluster.url_of(name)
    cluster.restore()
    run(cluster, f"DROP DATABASE {name} WITH (FORCE)")


def served(call: Leg) -> bool:
    """The call hears the greeting and its menu, as when nothing is wrong."""
    return GREETING in call.text and "something went wrong" not in call.text


def wait_out_the_silence() -> None:
    """Hotline does not wait for a database that left a webhook unanswered a moment ago
    (models.deadline.SILENCE_SECONDS): until then, calls still hear the failure path."""
    time.sleep(SILENCE_SECONDS)


def test_callers_hear_the_failure_path_in_time_while_the_database_hangs(
    phone, switch: Switch, cluster: Cluster, database_url: str
) -> None:
    stopwatch = timed(switch)
    in_progress = phone(CALLER).dial()  # the pool holds a connection to the database now
    new: list[Leg] = []
    with cluster.frozen(AT_MOST):
        at_once([lambda: in_progress.press("1"), lambda: new.append(phone(OTHER).dial())])
        assert heard_apology_and_message_prompt(in_progress)
        assert heard_apology_and_message_prompt(new[0])
        in_progress.leave_message(duration=30)
        assert "we have your message" in in_progress.text
    assert stopwatch.slow() == [] and switch.errors == []
    assert voicemail_of(database_url, in_progress) is None  # kept in the spool meanwhile
    wait_out_the_silence()
    assert served(phone(AFTER).dial())  # the first webhook the database answers again
    voicemail = voicemail_of(database_url, in_progress)
    assert voicemail is not None and voicemail.duration_seconds == 30


def test_a_caller_is_put_through_to_the_overflow_while_the_database_hangs(
    app, phone, switch: Switch, cluster: Cluster
) -> None:
    use_overflow(app)
    stopwatch = timed(switch)
    call = phone(CALLER).dial()
    with cluster.frozen(AT_MOST):
        call.press("2")
    assert "正在为您转接客服人员" in call.text and stopwatch.slow() == []
    desk = switch.phone(OVERFLOW).call
    assert desk is not None and desk.live and call.live
    wait_out_the_silence()
    assert served(phone(AFTER).dial())


def test_calls_arriving_together_while_the_database_hangs_are_all_answered_in_time(
    phone, switch: Switch, cluster: Cluster
) -> None:
    """One server worker answers one webhook at a time: each caller queued behind a
    webhook that waits for the database waits as long. Only the first one waits."""
    stopwatch = timed(switch)
    phone(CALLER).dial()
    with cluster.frozen(AT_MOST):
        calls = [phone(f"+86137001371{n:02d}").dial() for n in range(BURST)]
    assert all(heard_apology_and_message_prompt(call) for call in calls)
    # The last of them, answered after all the others, still hears it in time.
    assert sum(seconds for _, seconds in stopwatch.timings[1:]) < BOUND_SECONDS
    wait_out_the_silence()
    assert served(phone(AFTER).dial())


@pytest.mark.usefixtures("demo")
def test_a_code_texted_as_the_database_hangs_frees_the_server_in_time_and_works_after(
    phone, switch: Switch, twilio_api: RestStandIn, cluster: Cluster
) -> None:
    """The text goes out after the answer (calls.later), and the database hangs while
    Twilio takes it: that work, which holds the server's worker, gives up in time too."""
    stopwatch = timed(switch)
    call = phone(EMILY["phone"]).dial().press("2").press("#")
    thawing = threading.Timer(AT_MOST, cluster.thaw)

    def hang() -> None:
        cluster.freeze()
        thawing.start()

    twilio_api.slow_next(hang)
    try:
        call.press("*")  # answered, then the code stored and texted, then the hang
    finally:
        thawing.cancel()
        cluster.thaw()
    assert stopwatch.slow() == [] and switch.errors == []
    wait_out_the_silence()
    [sms] = twilio_api.messages()
    code = re.search(r"\b(\d{6})\b", sms["Body"])
    assert code is not None
    call.press(code.group(1))
    assert "you are verified" in call.text


def test_callers_hear_the_failure_path_while_the_database_is_down_and_are_served_after(
    phone, switch: Switch, cluster: Cluster, database_url: str
) -> None:
    stopwatch = timed(switch)
    in_progress = phone(CALLER).dial()
    cluster.stop()
    in_progress.press("1")
    assert heard_apology_and_message_prompt(in_progress)
    in_progress.leave_message(duration=20)
    assert heard_apology_and_message_prompt(phone(OTHER).dial())
    cluster.start()
    assert served(phone(AFTER).dial())
    assert stopwatch.slow() == [] and switch.errors == []
    voicemail = voicemail_of(database_url, in_progress)
    assert voicemail is not None and voicemail.duration_seconds == 20


def test_a_call_in_progress_across_a_restart_of_the_database_hears_its_next_prompt(
    phone, switch: Switch, cluster: Cluster, database_url: str
) -> None:
    """The restart ends the connection the pool holds; the next webhook takes it without
    a ping (models.db), finds it dropped, and runs once more on a new one."""
    stopwatch = timed(switch)
    call = phone(CALLER).dial()
    before = record_of(database_url, call)
    cluster.stop()
    cluster.start()
    call.press("2")
    assert "registered with Bitai Wallet" in call.text and "something went wrong" not in call.text
    after = record_of(database_url, call)
    assert before is not None and after is not None
    assert after.stage == CallStage.NUMBER and after.turn == before.turn + 1  # taken once
    assert stopwatch.slow() == [] and switch.errors == []


@pytest.mark.usefixtures("demo")
def test_a_page_after_a_restart_of_the_database_is_served(
    client: FlaskClient, cluster: Cluster
) -> None:
    """Pages take their connection from the pool pinged (models.db): no error page."""
    console = Console(client)
    assert console.sign_in(*SUPERVISOR).status_code == 302
    assert client.get("/admin/wallboard.json").status_code == 200
    cluster.stop()
    cluster.start()
    assert client.get("/admin/wallboard.json").status_code == 200


@pytest.mark.usefixtures("demo")
def test_a_page_on_a_hung_database_gives_up_before_gunicorn_would_kill_its_worker(
    client: FlaskClient, cluster: Cluster
) -> None:
    """The wallboard polls every few seconds: on a hung database each poll must end (in
    an error page) before gunicorn.conf.py's timeout, or gunicorn kills the worker."""
    console = Console(client)
    assert console.sign_in(*SUPERVISOR).status_code == 302
    with cluster.frozen(AT_MOST):
        began = time.monotonic()
        with pytest.raises(OperationalError):  # served as a 500 page outside tests
            client.get("/admin/wallboard.json")
        took = time.monotonic() - began
    assert PAGE_DEADLINE_SECONDS <= took < GUNICORN_TIMEOUT
