"""The /agents webhooks: the agent line, from PIN to wrap-up, rung agents, and the
status callbacks that say when either call has ended."""

from __future__ import annotations

from flask import request

from calls.context import AgentContext
from calls.twiml import Document
from calls.webhooks import AGENT, Webhooks
from queueing import agent_ends, agent_line, conference
from telephony.params import VoiceParams

bp = Webhooks("agents", __name__, "/agents", AGENT)


def _caller() -> int | None:
    """The queued caller a ring was for, named in the URL Hotline gave Twilio."""
    return request.args.get("caller", type=int)


def _callback() -> int | None:
    """The callback a ring was for, named in the same way."""
    return request.args.get("callback", type=int)


@bp.webhook("/incoming")
def incoming(ctx: AgentContext, _: VoiceParams) -> Document:
    return agent_line.greet(ctx)


@bp.webhook("/ring")
def ring(ctx: AgentContext, _: VoiceParams) -> Document:
    # A rung agent answered: their call fetches this (see queueing.ringing).
    return agent_line.ring_answered(ctx, _caller(), _callback())


@bp.webhook("/callback")
def callback(ctx: AgentContext, _: VoiceParams) -> Document:
    # An agent who accepted a callback on the desk answered the ring (queueing.callbacks).
    return agent_line.callback_answered(ctx, _callback())


@bp.webhook("/ring/key")
def ring_key(ctx: AgentContext, params: VoiceParams) -> Document:
    return agent_line.take_ring(ctx, params.digits)


@bp.webhook("/ring/status")
def ring_status(ctx: AgentContext, params: VoiceParams) -> Document:
    return agent_ends.ring_ended(ctx, _caller(), params, _callback())


@bp.webhook("/status")
def status(ctx: AgentContext, params: VoiceParams) -> Document:
    # The agent line number's "call status changes" (SPEC §3).
    return agent_ends.line_ended(ctx, params)


@bp.webhook("/pin")
def pin(ctx: AgentContext, params: VoiceParams) -> Document:
    return agent_line.check_pin(ctx, params.digits.rstrip("#"), params.from_)


@bp.webhook("/menu")
def menu(ctx: AgentContext, params: VoiceParams) -> Document:
    return agent_line.choose(ctx, params.digits)


@bp.webhook("/answer")
def answer_offer(ctx: AgentContext, params: VoiceParams) -> Document:
    return agent_line.answer_offer(ctx, params.digits)


@bp.webhook("/room")
def room(ctx: AgentContext, _: VoiceParams) -> Document:
    # The agent's wait document while alone in the caller's room (any stage).
    return conference.agent_alone(ctx)


@bp.webhook("/desk/join")
def desk_join(ctx: AgentContext, _: VoiceParams) -> Document:
    # Where the desk's Accept moves the agent's phone (queueing.desk), by a REST update.
    return agent_line.joined_from_desk(ctx)


@bp.webhook("/after")
def after(ctx: AgentContext, _: VoiceParams) -> Document:
    return agent_line.after_call(ctx)


@bp.webhook("/ready")
def ready(ctx: AgentContext, params: VoiceParams) -> Document:
    return agent_line.ready(ctx, params.digits)
