"""The two references bench/load.py measures Hotline against, served by gunicorn with
the same settings as Hotline (``gunicorn 'references:bare()'``, bench/ on the path):

- ``bare()``: checks the signature and answers a fixed TwiML document, the least a
  signed TwiML webhook can cost;
- ``stateful()``: the least a stateful one can cost: the signature, then through the
  raw driver (sqlite3 or psycopg) on DATABASE_URL read the call's row, update it (or
  insert it, on its first webhook), insert one event, commit. Its two tables are its
  own (``bench_calls``, ``bench_events``), in Hotline's database.

The rest of the issue's ladder, the same stateful webhook through SQLAlchemy, is
bench/ladder.py's.

SQLite runs as the issue measured this reference: WAL and synchronous NORMAL (sqlite.org
/wal.html: "WAL mode is safe from corruption with synchronous=NORMAL"), each request one
``BEGIN IMMEDIATE`` transaction so that a reader never has to upgrade to a writer (the
busy handler cannot help a deadlocked upgrade: sqlite.org/lang_transaction.html).
PostgreSQL runs with the cluster's own settings (bench/load.py's private cluster commits
asynchronously: postgresql.org/docs/current/wal-async-commit.html).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS bench_calls (call_sid VARCHAR(64) PRIMARY KEY, turns INTEGER)",
    "CREATE TABLE IF NOT EXISTS bench_events (call_sid VARCHAR(64), path VARCHAR(200))",
]
# A call's first webhook: two of one CallSid may race (_step says why).
FIRST = (
    "INSERT INTO bench_calls (call_sid, turns) VALUES ({mark}, 1)"
    " ON CONFLICT (call_sid) DO UPDATE SET turns = bench_calls.turns + 1"
)


def signed_app(name: str, handle: Callable[[str], None]) -> Flask:
    """A Flask app whose every POST is checked as Hotline checks it, then ``handle``d
    with its CallSid, then answered with one fixed TwiML document."""
    app = Flask(name)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    public = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    response = VoiceResponse()
    response.say("hello", language="en-US", voice="Polly.Joanna")
    document = str(response)

    @app.post("/<path:path>")
    def webhook(path: str) -> Response:
        url = public + request.full_path.rstrip("?")
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        handle(request.form.get("CallSid", ""))
        return Response(document, mimetype="text/xml")

    return app


def bare() -> Flask:
    return signed_app("bare", lambda call_sid: None)


def stateful() -> Flask:
    url = os.environ["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        return signed_app("stateful", _sqlite(url.removeprefix("sqlite:///")))
    return signed_app("stateful", _postgresql(url))


def _sqlite(path: str) -> Callable[[str], None]:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout = 10000")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    for statement in SCHEMA:
        connection.execute(statement)

    def handle(call_sid: str) -> None:
        connection.execute("BEGIN IMMEDIATE")
        try:
            _step(connection, call_sid, "?")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    return handle


def _postgresql(url: str) -> Callable[[str], None]:
    import psycopg  # only where PostgreSQL is measured

    connection = psycopg.connect(url, autocommit=True)
    for statement in SCHEMA:
        connection.execute(statement)
    connection.autocommit = False

    def handle(call_sid: str) -> None:
        with connection.transaction():
            _step(connection, call_sid, "%s")

    return handle


def _step(connection: Any, call_sid: str, mark: str) -> None:
    """Read the call's row, update it (insert it the first time), insert one event."""
    row = connection.execute(
        f"SELECT turns FROM bench_calls WHERE call_sid = {mark}", (call_sid,)
    ).fetchone()
    if row is None:
        # Two first webhooks of one CallSid may race (a conference's start and end carry
        # none, so all of them share ""): the second counts a turn instead of failing.
        connection.execute(FIRST.format(mark=mark), (call_sid,))
    else:
        connection.execute(
            f"UPDATE bench_calls SET turns = {mark} WHERE call_sid = {mark}",
            (row[0] + 1, call_sid),
        )
    connection.execute(
        f"INSERT INTO bench_events (call_sid, path) VALUES ({mark}, {mark})",
        (call_sid, request.path),
    )
