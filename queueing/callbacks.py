"""Callbacks that happen (SPEC §6, issue 9): an agent is offered a callback as they are
offered a live caller, and on accepting Hotline calls the customer back.

The agent is offered it by phone (rung, or on the agent line: "callback for …, about
…", 1 accept, 2 pass) or on the desk (``accept``, ``pass_on``). On accept, the callback
is claimed (``queueing.callback_queue``: never placed twice at once, whatever the
number of servers) and an attempt recorded; Hotline places the customer's call by
REST and the agent waits in the customer's conference room (``queueing.conference``).
The customer hears who is calling and joins the agent only on 1, so an answering
machine never gets the agent. No key, no answer, busy, failed: the attempt's result
is recorded, the agent is told and goes to wrap-up, and the callback is tried again
after ``CALLBACK_RETRY_MINUTES``, within business hours, until ``CALLBACK_ATTEMPTS``
attempts have failed: then it is closed as unreachable.

What starts an offer is an event that already rings agents (an agent becoming ready,
a live caller's wait document, a callback asked for), or ``flask --app app callbacks
run`` from cron or a systemd timer for callbacks whose retry time has come while
nothing else happened; no timer lives in a process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Blueprint, current_app
from sqlalchemy import or_, select

from calls.context import AgentContext, CallContext, Context, Services
from calls.twiml import Document, Line, Value, Verbatim
from models import Agent, AgentCall, Call, CallbackAttempt, CallbackRequest, CallEvent, Customer
from models.agents import AgentStage, AgentStatus
from models.calls import CallStage
from models.db import session as db_session
from queueing import callback_queue, conference, ringing, routing
from queueing.passes import record_pass
from queueing.routing import OFFER_HOLDS
from telephony.endpoints import Phone
from telephony.numbers import mask
from telephony.rest import TwilioUnavailable
from telephony.urls import webhook_url

# How long the customer's phone rings: the Calls API's ``Timeout``, "how long Twilio
# should let the phone ring before giving up, and is useful if you want to have Twilio
# hangup before an answering machine picks up" (twilio.com/docs/api/errors/21208); and
# how long they have to press 1 after the announcement.
CUSTOMER_RING_SECONDS = 30
KEY_SECONDS = 8
# The customer's call's status callback: only its end, whose CallStatus says how it went
# (completed, busy, no-answer, failed, canceled: twilio.com/docs/voice/api/call-resource
# #call-status-values); it goes to the hotline's own /voice/status.
CUSTOMER_EVENTS = ["completed"]

log = logging.getLogger(__name__)
bp = Blueprint("callbacks", __name__, cli_group="callbacks")


# --- the desk's API -------------------------------------------------------------------


def due_for(ctx: Context, agent: Agent) -> list[CallbackRequest]:
    """The callbacks ``agent`` could take now, in turn (the first is theirs to offer)."""
    return callback_queue.due_for(ctx.session, agent, ctx.now, callback_queue.hours_open(ctx))


def accept(ctx: Context, agent: Agent, callback_id: int) -> bool:
    """The agent accepted ``callback_id`` on the desk: it is kept for them and their phone
    rings; answered, Hotline calls the customer at once (no "press 1", no whisper: they
    have read it). False when it is no longer theirs to take, or the agent is not
    ready, or Twilio refused the ring."""
    callback = ctx.session.get(CallbackRequest, callback_id)
    if callback is None or not ctx.gateway.configured:
        return False
    if callback not in due_for(ctx, agent):
        return False
    if not ringing.take_agent(ctx, agent):
        return False
    if not callback_queue.reserve(ctx.session, callback, agent.id, ctx.now):
        ringing.free_agent(ctx, agent)
        return False
    about = {"callback": callback.id}
    url = webhook_url("agents.callback", absolute=True, turn=None, **about)
    if ringing.ring_phone(ctx, agent, url, about):
        return True
    callback_queue.release(ctx.session, callback, agent.id)
    ringing.free_agent(ctx, agent)
    return False


def pass_on(ctx: Context, agent: Agent, callback_id: int) -> None:
    """The agent passed on ``callback_id`` (on the desk, a key, or hanging up while
    hearing it): not offered to them again while the pass holds; the next agent is rung."""
    callback = ctx.session.get(CallbackRequest, callback_id)
    if callback is None:
        return
    callback_queue.release(ctx.session, callback, agent.id)
    record_pass(ctx.session, callback.call_id, agent.id, ctx.now)
    ringing.ring_for_callback(ctx, callback, exclude=agent.id)


# --- the agent's side ----------------------------------------------------------------


def whisper(ctx: AgentContext, callback: CallbackRequest) -> list[Line]:
    """ "A callback for <name, or the number's last digits>, about <topic>." """
    texts, language = ctx.flow.agents.texts, ctx.voice.language
    customer = ctx.session.get(Customer, callback.customer_id) if callback.customer_id else None
    # A name in another script is said by that script's voice (calls.twiml.Verbatim).
    who: Value = (
        Verbatim(customer.name)
        if customer is not None
        else (texts.callback_number, {"digits": " ".join(callback.number[-4:])})
    )
    topic = ctx.flow.agents.queue_names[callback.topic][language]
    return [(texts.callback_whisper, {"who": who, "topic": topic})]


def call_customer(ctx: AgentContext, agent: Agent, callback: CallbackRequest) -> Document | None:
    """The agent accepted: claim the callback, record the attempt, place the customer's
    call and keep the agent in the customer's room meanwhile. None when it is no
    longer theirs (another agent, a closed hour) or Twilio refused the call."""
    session, now = ctx.session, ctx.now
    attempt = callback_queue.claim(session, callback, agent.id, now, callback_queue.hours_open(ctx))
    if attempt is None:
        return None
    attempt.agent_call_id = ctx.leg.id
    ctx.leg.callback_id = callback.id
    routing.agent_free(session, agent.id, now)  # a new piece of work: the last one is done
    if agent.status != AgentStatus.BUSY:  # taken already: by their ring, or the agent line
        routing.set_status(session, agent, AgentStatus.BUSY, now)
    number = callback.number
    # A new call: its URLs answer no prompt of the agent's (no turn).
    url = webhook_url("queueing.called_back", absolute=True, turn=None)
    status_callback = webhook_url("voice.status", absolute=True, turn=None)
    try:
        sid = ctx.rest(
            lambda api: api.ring(
                Phone(number),  # through the BYOC trunk, if there is one
                url=url,
                status_callback=status_callback,
                status_events=CUSTOMER_EVENTS,
                timeout=CUSTOMER_RING_SECONDS,
            )
        )
    except TwilioUnavailable as exc:
        log.error("could not call back %s (callback %s): %s", mask(number), callback.id, exc)
        callback_queue.finish(ctx, attempt, "not_placed")
        return None
    attempt.call_sid = sid
    customer = _customer_call(ctx, sid, callback, agent)
    session.add(
        CallEvent(
            call=customer,
            kind="callback.placed",
            data={"callback": callback.id, "attempt": attempt.id, "agent": agent.id},
            at=now,
        )
    )
    session.flush()
    ctx.leg.caller_call_id = customer.id
    ctx.leg.stage = AgentStage.CONNECTED
    return conference.agent_joins(ctx, customer, [ctx.flow.agents.texts.callback_calling])


def _customer_call(ctx: Context, sid: str, callback: CallbackRequest, agent: Agent) -> Call:
    """The customer's call, as Hotline keeps every call; its first webhook finds it."""
    call = ctx.session.scalars(select(Call).where(Call.call_sid == sid)).one_or_none()
    if call is None:
        call = Call.begun(sid, ctx.now, CallStage.CALLBACK)
        ctx.session.add(call)
    call.caller, call.called = callback.number, ctx.gateway.from_number
    call.stage, call.language, call.queue = CallStage.CALLBACK, callback.language, callback.topic
    # The number is the one on file (or the caller ID): a claim, as caller ID always is.
    call.claimed_customer_id, call.agent_id = callback.customer_id, agent.id
    call.outcome = "callback"
    return call


def told(ctx: AgentContext) -> list[Line]:
    """What the agent hears before the wrap-up question after a callback: that the
    customer was not reached, when they were not."""
    if ctx.leg.callback_id is None:
        return []
    attempt = ctx.session.scalars(
        select(CallbackAttempt).where(CallbackAttempt.agent_call_id == ctx.leg.id)
    ).first()
    if attempt is None or attempt.result in callback_queue.REACHED:
        return []
    return [ctx.flow.agents.texts.callback_unanswered]


def agent_left(ctx: AgentContext) -> None:
    """The agent's side of a callback ended (they hung up, or their wait ran out) while
    the customer's phone rang or they heard who was calling: the attempt ends
    uncounted, the customer's call is ended, and the callback is due again at once."""
    leg = ctx.leg
    customer = ctx.session.get(Call, leg.caller_call_id) if leg.caller_call_id else None
    if leg.callback_id is None or customer is None or customer.stage != CallStage.CALLBACK:
        return
    attempt = callback_queue.open_attempt(ctx.session, customer.call_sid)
    if attempt is None:
        return
    callback_queue.finish(ctx, attempt, "agent_left")
    customer.stage, call_sid = CallStage.ENDED, customer.call_sid
    try:
        ctx.rest(lambda api: api.hang_up(call_sid))
    except TwilioUnavailable as exc:
        log.warning("could not end callback call %s: %s", call_sid, exc)


# --- the customer's side ---------------------------------------------------------------


def announce(ctx: CallContext) -> Document:
    """The customer picked up: who is calling, and 1 to be put through. Said again to a
    late request."""
    return ctx.voice.ask(
        [ctx.flow.waiting.texts.callback_announcement],
        webhook_url("queueing.called_back_key"),
        single_key=True,
        timeout=KEY_SECONDS,
    )


def take_key(ctx: CallContext, digits: str) -> Document:
    """1: into the agent's room, if the agent is still there. Anything else, or silence
    (an answering machine): the attempt did not reach them; the agent is told."""
    call = ctx.call
    attempt = callback_queue.open_attempt(ctx.session, call.call_sid)
    if attempt is None:  # ended meanwhile (the agent left)
        return _goodbye(ctx, [ctx.flow.waiting.texts.callback_agent_gone])
    if digits != "1":
        ctx.record("callback.no_key")
        callback_queue.finish(ctx, attempt, "no_key")
        _tell_agent(ctx, attempt)
        return _goodbye(ctx, [])
    leg = ctx.session.get(AgentCall, attempt.agent_call_id) if attempt.agent_call_id else None
    if leg is None or leg.stage != AgentStage.CONNECTED or leg.caller_call_id != call.id:
        callback_queue.finish(ctx, attempt, "agent_left")
        return _goodbye(ctx, [ctx.flow.waiting.texts.callback_agent_gone])
    attempt.result = "answered"  # reached; "talked" once they have been with the agent
    call.stage = CallStage.CONNECTED
    ctx.record("callback.accepted", agent=call.agent_id)
    return conference.connect(ctx)


def call_ended(ctx: CallContext, status: str) -> None:
    """The customer's call is over (its status callback): the attempt's result, once, and
    the agent told if they are still waiting for nobody."""
    attempt = callback_queue.open_attempt(ctx.session, ctx.call.call_sid)
    if attempt is None:
        return
    if status != "completed":
        result = status  # no-answer, busy, failed, canceled
    elif conference.talked(ctx.call):
        result = "talked"
    else:
        result = "answered" if attempt.result == "answered" else "no_key"
    ctx.record("callback.ended", result=result)
    if callback_queue.finish(ctx, attempt, result) and result not in callback_queue.REACHED:
        _tell_agent(ctx, attempt)


def _tell_agent(ctx: CallContext, attempt: CallbackAttempt) -> None:
    """Move the agent waiting in the room on to their wrap-up, which says the customer
    was not reached. If Twilio cannot, the agent's wait document notices next turn."""
    leg = ctx.session.get(AgentCall, attempt.agent_call_id) if attempt.agent_call_id else None
    if leg is None or leg.stage != AgentStage.CONNECTED or leg.caller_call_id != ctx.call.id:
        return
    call_sid, url = leg.call_sid, webhook_url("agents.after", absolute=True)
    try:
        ctx.rest(lambda api: api.redirect(call_sid, url))
    except TwilioUnavailable as exc:
        log.warning("could not move agent call %s to wrap-up: %s", call_sid, exc)


def _goodbye(ctx: CallContext, lines: list[Line]) -> Document:
    ctx.call.stage = CallStage.ENDED
    return ctx.voice.goodbye(lines)


# --- offers with nobody else to start them: ``flask --app app callbacks run`` -----------


def offer_due(ctx: Context, limit: int) -> list[str]:
    """Ring an agent for each of the first ``limit`` due callbacks nobody is hearing
    about (Twilio paces calls placed by REST: keep ``limit`` small); what was done."""
    done: list[str] = []
    if not callback_queue.hours_open(ctx):
        done.append("outside business hours: only the urgent queue's callbacks are due")
    for callback in _waiting(ctx, limit):
        agent = ringing.ring_for_callback(ctx, callback)
        what = f"rang agent {agent.id}" if agent else "no ready agent could take it"
        done.append(f"callback {callback.id} ({callback.topic}, {mask(callback.number)}): {what}")
    return done


def _waiting(ctx: Context, limit: int) -> list[CallbackRequest]:
    hours = callback_queue.hours_open(ctx)
    query = (
        select(CallbackRequest)
        .where(
            callback_queue.due(ctx.now, hours),
            or_(
                CallbackRequest.offered_agent_id.is_(None),
                CallbackRequest.offered_at <= ctx.now - OFFER_HOLDS,
            ),
        )
        .order_by(*callback_queue.IN_TURN)
        .limit(limit)
    )
    return list(ctx.session.scalars(query))


@contextmanager
def _command_context() -> Iterator[Context]:
    """A context for a command: Twilio must be told absolute URLs, which only
    ``PUBLIC_BASE_URL`` can give outside a request."""
    services = Services.of(current_app.extensions)
    base = services.settings.public_base_url
    if base is None:
        raise click.ClickException("PUBLIC_BASE_URL must be set: Twilio needs the URLs to call")
    with current_app.test_request_context("/", base_url=str(base)):
        session = db_session()
        yield Context(session, services.flow, services.settings, services.twilio, services.clock())
        session.commit()


@bp.cli.command("run")
@click.option("--limit", default=5, show_default=True, help="most callbacks offered in one run")
def run_command(limit: int) -> None:
    """Offer due callbacks to ready agents (run every minute from cron or a systemd
    timer: a callback whose retry time comes while no caller waits and no agent
    becomes ready is offered then)."""
    with _command_context() as ctx:
        if not ctx.gateway.configured:
            raise click.ClickException("TWILIO_ACCOUNT_SID and HOTLINE_NUMBER must be set")
        lines = offer_due(ctx, limit)
    for line in lines or ["no callback is due"]:
        click.echo(line)
