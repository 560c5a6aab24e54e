"""One webhook runner for callers and agents.

A ``Webhooks`` blueprint makes "signed, turn-stamped, no error heard" a property of
every route on it instead of a decorator someone can forget: each request is
checked against Twilio's signature, runs in one transaction, runs its handler only
when the call is at the stage the route answers and the request answers the
call's latest prompt (its turn), and otherwise hears what the stage table replays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from flask import Blueprint, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from calls.context import (
    AgentContext,
    CallContext,
    Context,
    NoCallSid,
    Services,
    open_agent_call,
    open_call,
    open_room_call,
)
from calls.fallback import caller_failure
from calls.spool import replay_some
from calls.stages import StageTable
from calls.telemetry import watch
from calls.twiml import Document, agent_apology, as_http, empty
from metrics import FALLBACK_ANSWERS
from models.db import commit_step, dropped_before_answer, session, start_deadline, unpinged
from telephony.params import VoiceParams, parse_voice
from telephony.signatures import check_signature

log = logging.getLogger(__name__)

C = TypeVar("C", bound=Context)
Handler = Callable[[C, VoiceParams], Document]
# What a webhook answers when something inside failed: it must not need the database.
Apology = Callable[[VoiceParams], Document]


class Staged(Protocol):
    stage: Any
    turn: int


@dataclass(frozen=True)
class Party(Generic[C]):
    """Whose call a blueprint's webhooks serve: a caller's or an agent's."""

    name: str  # the key of its stage table in app.extensions["stages"]
    open: Callable[[Session, VoiceParams, Services], C]
    row: Callable[[C], Staged]  # the record that holds the stage and turn
    # When something inside has failed: it must not need the database (calls.fallback).
    apology: Apology


CALLER: Party[CallContext] = Party("caller", open_call, lambda ctx: ctx.call, caller_failure)
# A caller's room, whose status callbacks carry the CallSid of either side (or none);
# a caller's webhook all the same, in the caller's stage table.
ROOM: Party[CallContext] = Party("caller", open_room_call, lambda ctx: ctx.call, caller_failure)
AGENT: Party[AgentContext] = Party(
    "agent", open_agent_call, lambda ctx: ctx.leg, lambda _: agent_apology()
)


class Webhooks(Blueprint, Generic[C]):
    def __init__(self, name: str, import_name: str, url_prefix: str, party: Party[C]) -> None:
        super().__init__(name, import_name, url_prefix=url_prefix)
        self.party = party
        self._handlers: dict[str, Handler[C]] = {}
        self._apologies: dict[str, Apology] = {}
        watch(self)
        # Every database wait of the request, the apology's included, ends by then.
        self.before_request(start_deadline)
        self.before_request(unpinged)  # a dropped connection is seen to in _on_error
        self.before_request(check_signature)
        self.url_defaults(self._stamp_turn)
        self.register_error_handler(Exception, self._on_error)

    def webhook(
        self, rule: str, *, apology: Apology | None = None
    ) -> Callable[[Handler[C]], Handler[C]]:
        """Register ``handler(ctx, params) -> Document`` as the POST webhook at ``rule``;
        ``apology``, for a document Twilio runs where the party's apology may not (a wait
        document), is what it answers when something inside fails."""

        def register(handler: Handler[C]) -> Handler[C]:
            def view() -> Response:
                return self._run(handler)

            self.add_url_rule(rule, handler.__name__, view, methods=["POST"])
            self._handlers[handler.__name__] = handler
            if apology is not None:
                self._apologies[handler.__name__] = apology
            return handler

        return register

    def _run(self, handler: Handler[C] | None) -> Response:
        """One step of the call in one transaction; ``None`` replays the call's stage."""
        params = parse_voice(request.form)
        db = session()
        ctx = self.party.open(db, params, Services.of(current_app.extensions))
        row = self.party.row(ctx)
        table = self._table()
        stage = table.stage_of(request.endpoint or "") if handler is not None else None
        current = handler is not None and (
            stage is None
            or (row.stage == stage and request.args.get("turn", type=int) in (None, row.turn))
        )
        if current and stage is not None:
            row.turn += 1
        g.turns = {**g.get("turns", {}), self.party.name: row.turn}
        response = handler(ctx, params) if current and handler else table.replay(ctx, row.stage)
        commit_step(db)
        replay_some()  # the database answers: recordings kept while it did not go in now
        return as_http(response)

    def _table(self) -> StageTable[Any, C]:
        tables: dict[str, StageTable[Any, C]] = current_app.extensions["stages"]
        return tables[self.party.name]

    def _stamp_turn(self, endpoint: str, values: dict[str, Any]) -> None:
        """Every URL written into a prompt carries the prompt's turn, of its own party:
        an agent's request may write a URL for the caller (the REST dequeue)."""
        turns: dict[str, int] = g.get("turns", {})
        if self.party.name in turns:
            values.setdefault("turn", turns[self.party.name])

    def _on_error(self, exc: Exception) -> Response | HTTPException:
        """Callers never hear Twilio's "application error": whatever fails inside, they
        hear an apology and reach a human (calls.fallback), and agents an apology.
        Refusals (403) stay refusals. Nothing here may wait on the database beyond the
        request's deadline (models.deadline), which has often passed by now."""
        if isinstance(exc, HTTPException):
            return exc
        _roll_back()
        if dropped_before_answer(exc):
            # PostgreSQL restarted, or dropped this worker's pooled connection, since the
            # last request, and nothing of this one reached it (models.db): it runs once
            # more, on a new connection, as if the pool had pinged the old one.
            return self._once_more(self._handlers.get(self._endpoint()))
        if isinstance(exc, NoCallSid):
            # Twilio always sends a CallSid: without one (or news of a room this
            # database does not know) there is no call to serve or update, and nothing
            # failed. A status callback needs no answer; a prompt hears the apology.
            log.warning("%s names no call Hotline knows; ignored", request.path)
            if self._status_callback() is not None:
                return as_http(empty())
            return as_http(self._apology()(parse_voice(request.form)))
        if isinstance(exc, StaleDataError | IntegrityError):
            # Two webhooks of one call raced and the other won. An answer to a prompt
            # carries on from the winner's result (its stage replayed); a status callback
            # answers no prompt, so it runs once more on that result, or its event (a
            # hang-up, a leave from the room) would be lost.
            return self._once_more(self._status_callback())
        return self._apologise()

    def _once_more(self, handler: Handler[C] | None) -> Response:
        """The request's step run a second time, after the first failed; the apology if
        this one fails too."""
        try:
            return self._run(handler)
        except Exception:  # noqa: BLE001 - the apology is the answer then
            _roll_back()
            return self._apologise()

    def _apologise(self) -> Response:
        log.exception("webhook %s failed; the %s hears the apology", request.path, self.party.name)
        FALLBACK_ANSWERS.labels(cause=f"{self.party.name}_webhook").inc()
        return as_http(self._apology()(parse_voice(request.form)))

    def _apology(self) -> Apology:
        return self._apologies.get(self._endpoint(), self.party.apology)

    def _endpoint(self) -> str:
        """This request's handler's name (its endpoint without the blueprint's)."""
        return (request.endpoint or "").rpartition(".")[2]

    def _status_callback(self) -> Handler[C] | None:
        """This request's handler if it runs at any stage (a status callback), else None."""
        if self._table().stage_of(request.endpoint or "") is not None:
            return None
        return self._handlers.get(self._endpoint())


def _roll_back() -> None:
    try:
        session().rollback()
    except Exception:  # noqa: BLE001 - a connection already lost has nothing to undo
        log.warning("rolling back after a failed webhook failed too", exc_info=True)
