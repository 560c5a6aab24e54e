"""The caller's journey: what the call does next at each stage. Routes load the call
and hand it here; the engine and verification decide, the journey carries it out."""

from __future__ import annotations

from collections.abc import Sequence

from callflows import answers, engine
from calls import twiml
from calls.context import CallContext
from calls.twiml import Document, Line
from models.calls import CallStage
from queueing import waiting
from telephony.params import VoiceParams
from telephony.urls import webhook_url
from verification import steps as verification
from verification.policy import Verdict
from verification.steps import Step

TERMINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def greet(ctx: CallContext) -> Document:
    ctx.call.stage = CallStage.LANGUAGE
    return twiml.language_menu(ctx.flow, webhook_url("voice.language"))


def choose_language(ctx: CallContext, digits: str) -> Document:
    by_key = {spec.key: language for language, spec in ctx.flow.languages.items()}
    chosen = by_key.get(digits)
    if chosen is None:
        # Silence or another key: the caller-ID customer's own language, else the default.
        customer = (
            ctx.customer(ctx.call.claimed_customer_id) if ctx.call.claimed_by_caller_id else None
        )
        chosen = customer.language if customer else ctx.flow.default_language
    ctx.call.language = chosen
    ctx.record("language.chosen", language=chosen, pressed=digits in by_key)
    return follow(ctx, verification.begin(ctx))


def submit_number(ctx: CallContext, digits: str) -> Document:
    return follow(ctx, verification.submit_number(ctx, digits))


def submit_secret(ctx: CallContext, digits: str) -> Document:
    return follow(ctx, verification.submit_secret(ctx, digits))


def follow(ctx: CallContext, step: Step) -> Document:
    """Play a verification question, or go where the verdict leads."""
    if not isinstance(step, Verdict):
        return step
    return _go(ctx, engine.after_verification(ctx.flow, step))


def agent_offer(ctx: CallContext, preface: Sequence[Line] = ()) -> Document:
    ctx.call.stage = CallStage.AGENT_OFFER
    return ctx.voice.ask(
        [*preface, ctx.flow.prompts.agent_offer],
        webhook_url("voice.offer"),
        single_key=True,
        timeout=5,
    )


def take_offer(ctx: CallContext, digits: str) -> Document:
    to = engine.after_offer(digits)
    if isinstance(to, engine.ShowMenu):
        ctx.record("offer.declined")
    return _go(ctx, to)


def current_menu(ctx: CallContext) -> Document:
    return show_menu(ctx, ctx.call.menu or "main", [])


def show_menu(ctx: CallContext, menu: str, preface: Sequence[Line]) -> Document:
    ctx.call.stage = CallStage.MENU
    ctx.call.menu = menu
    return ctx.voice.ask(
        [*preface, ctx.flow.menus[menu].prompt],
        webhook_url("voice.menu"),
        single_key=True,
        timeout=6,
        speech_hints=engine.hints(ctx.flow, menu, ctx.language),
    )


def choose_from_menu(ctx: CallContext, params: VoiceParams) -> Document:
    menu = ctx.call.menu or "main"
    key, decision = engine.choose(
        ctx.flow,
        menu,
        params.digits,
        params.speech_result,
        ctx.language,
        verified=ctx.call.verified,
        misses=ctx.call.menu_misses,
    )
    if isinstance(decision, engine.Missed):
        ctx.call.menu_misses = decision.misses
        ctx.record(
            "menu.missed",
            menu=menu,
            key=params.digits or None,
            speech=params.speech_result or None,
            misses=decision.misses,
        )
        return _go(ctx, decision.then)
    ctx.call.menu_misses = 0  # any choice ends a run of misses
    heard = {"speech": params.speech_result} if params.speech_result and not params.digits else {}
    ctx.record("menu.chosen", menu=menu, key=key, **heard)
    if isinstance(decision, engine.Say):
        ctx.record("info.given", menu=menu, key=key)
        return _go(ctx, decision.then, [decision.text])
    if isinstance(decision, engine.Refused):
        ctx.record("answer.refused", menu=menu, answer=decision.answer, reason="unverified")
        return _go(ctx, decision.then)
    if isinstance(decision, engine.GiveAnswer):
        lines = answers.give(ctx, decision.answer)
        ctx.record("answer.given", menu=menu, answer=decision.answer)
        return _go(ctx, decision.then, lines)
    return _go(ctx, decision)


def _go(
    ctx: CallContext,
    to: engine.ShowMenu | engine.ToQueue | engine.OfferAgent,
    said: Sequence[Line] = (),
) -> Document:
    """Where the engine sends the call, after ``said`` (an answer, fixed words)."""
    if isinstance(to, engine.ToQueue):
        return waiting.enqueue(ctx, to.queue, said)
    if isinstance(to, engine.OfferAgent):
        return agent_offer(ctx, [*said, *to.preface])
    return show_menu(ctx, to.menu, [*said, *to.preface])


def back_in_queue(ctx: CallContext) -> Document:
    """A caller who should be waiting: in their queue again (Twilio keeps one place)."""
    if ctx.call.queue is None:
        return twiml.hang_up()
    return waiting.hold(ctx, ctx.call.queue)


def close(ctx: CallContext, params: VoiceParams) -> Document:
    """The status callback: Twilio's final word on the call."""
    ctx.call.twilio_status = params.call_status or ctx.call.twilio_status
    if params.call_status in TERMINAL_STATUSES:
        if ctx.call.ended_at is None:
            ctx.record("call.ended", status=params.call_status, seconds=params.call_duration)
        ctx.call.stage = CallStage.ENDED
        ctx.call.duration_seconds = params.call_duration
        ctx.call.ended_at = ctx.call.ended_at or ctx.now
        ctx.call.outcome = ctx.call.outcome or "hung_up"
    return twiml.empty()
