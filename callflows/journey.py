"""The caller's journey: what the call does next at each stage. Routes load the call
and hand it here; the engine and verification decide, the journey carries it out."""

from __future__ import annotations

from collections.abc import Sequence

from callflows import answers, engine
from calls import twiml
from calls.context import CallContext
from calls.twiml import Document, Line
from models.calls import CallStage
from queueing import callbacks, waiting
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
        # Silence or another key: Mandarin (the flow's default) for every caller; the
        # caller-ID customer's own language would tell a spoofer who is registered.
        chosen = ctx.flow.default_language
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
    # How long a lock lasts: said to every caller, locked or not (SPEC §5).
    minutes = str(ctx.settings.verification_lockout_minutes)
    return ctx.voice.ask(
        [*preface, (ctx.flow.prompts.agent_offer, {"minutes": minutes})],
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
    return _listen(ctx, [*preface, ctx.flow.menus[menu].prompt], "voice.menu")


def choose_from_menu(ctx: CallContext, params: VoiceParams) -> Document:
    menu = ctx.call.menu or "main"
    key, decision = engine.choose(
        ctx.flow,
        menu,
        _heard(params),
        ctx.language,
        verified=ctx.call.verified,
        misses=ctx.call.menu_misses,
        acting=answers.ACTING,
    )
    return _carry_out(ctx, menu, key, decision, params)


def after_answer(ctx: CallContext, params: VoiceParams) -> Document:
    """The caller's key (or words, or silence) after the short line that follows an answer."""
    menu = ctx.call.menu or "main"
    key, decision = engine.after_answer(
        ctx.flow,
        menu,
        ctx.call.option_key or "",
        _heard(params),
        ctx.language,
        verified=ctx.call.verified,
        acting=answers.ACTING,
    )
    return _carry_out(ctx, menu, key, decision, params)


def answered_again(ctx: CallContext) -> Document:
    """What a request out of turn hears after an answer: the short line again."""
    menu = ctx.call.menu or "main"
    then = engine.answered(ctx.flow, menu, ctx.call.option_key or "")
    return _go(ctx, then) if then is not None else current_menu(ctx)


def ask_confirmation(ctx: CallContext) -> Document:
    """The read-back of what the chosen option would do, and the confirm key; also all a
    replayed or late request at this stage hears: it never acts."""
    menu = ctx.call.menu or "main"
    pending = engine.confirming(ctx.flow, menu, ctx.call.option_key or "")
    if pending is None:  # the flow changed under the call: nothing to confirm any more
        return current_menu(ctx)
    ctx.call.stage = CallStage.CONFIRM
    lines = answers.read_back(ctx, pending.answer, ctx.call.option_subject)
    return ctx.voice.ask(lines, webhook_url("voice.confirm"), single_key=True, timeout=8)


def confirm(ctx: CallContext, params: VoiceParams) -> Document:
    """Only the confirm key carries out what was read back, on what was read back."""
    menu, subject = ctx.call.menu or "main", ctx.call.option_subject
    to = engine.after_confirm(ctx.flow, menu, ctx.call.option_key or "", params.digits)
    if isinstance(to, engine.GiveAnswer):
        lines = answers.carry_out(ctx, to.answer, subject)
        ctx.record("answer.confirmed", menu=menu, answer=to.answer)
        ctx.record("answer.given", menu=menu, answer=to.answer)
        return _go(ctx, to.then, lines)
    ctx.record("answer.declined", menu=menu, key=params.digits or None)
    ctx.call.option_key = ctx.call.option_subject = None
    return _go(ctx, to)


def _carry_out(
    ctx: CallContext, menu: str, key: str, decision: engine.Decision, params: VoiceParams
) -> Document:
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
    if isinstance(decision, engine.Goodbye):
        ctx.record("menu.goodbye", menu=menu)
        ctx.call.stage = CallStage.ENDED
        ctx.call.outcome = "self_served"
        return ctx.voice.goodbye([decision.text])
    heard = {"speech": params.speech_result} if params.speech_result and not params.digits else {}
    ctx.record("menu.chosen", menu=menu, key=key, **heard)
    if isinstance(decision, engine.HearAgain):
        # Carrying it out again changes nothing (Action): it tells what was done.
        lines = answers.carry_out(ctx, decision.answer, ctx.call.option_subject)
        ctx.record("answer.given", menu=menu, answer=decision.answer)
        return _go(ctx, decision.then, lines)
    ctx.call.option_subject = None
    if isinstance(decision, engine.Say):
        ctx.record("info.given", menu=menu, key=key)
        return _go(ctx, decision.then, [decision.text])
    if isinstance(decision, engine.Refused):
        ctx.record("answer.refused", menu=menu, answer=decision.answer, reason="unverified")
        return _go(ctx, decision.then)
    if isinstance(decision, engine.GiveAnswer):
        given = answers.give(ctx, decision.answer)
        ctx.record("answer.given", menu=menu, answer=decision.answer)
        then = (
            engine.offering_agent(ctx.flow, decision.then) if given.offer_agent else decision.then
        )
        return _go(ctx, then, given.lines)
    if isinstance(decision, engine.Confirm):
        return _propose(ctx, menu, decision)
    return _go(ctx, decision)


def _propose(ctx: CallContext, menu: str, decision: engine.Confirm) -> Document:
    """Keep what the option would act on, and read it back; when there is nothing to do
    (no refundable payment, a refund asked already) say so and go on."""
    proposal = answers.propose(ctx, decision.answer)
    if not isinstance(proposal, answers.Proposal):
        ctx.record("answer.given", menu=menu, answer=decision.answer)
        return _go(ctx, decision.then, proposal)
    ctx.call.option_key, ctx.call.option_subject = decision.key, proposal.subject
    ctx.record("answer.proposed", menu=menu, answer=decision.answer)
    return ask_confirmation(ctx)


def _heard(params: VoiceParams) -> engine.Heard:
    return engine.Heard(params.digits, params.speech_result, params.confidence)


def _listen(ctx: CallContext, prompts: Sequence[Line], endpoint: str) -> Document:
    """A menu's question, by key or by voice."""
    menu = ctx.call.menu or "main"
    return ctx.voice.ask(
        prompts,
        webhook_url(endpoint),
        single_key=True,
        timeout=6,
        speech_hints=engine.hints(ctx.flow, menu, ctx.language),
    )


def _go(
    ctx: CallContext,
    to: engine.ShowMenu | engine.ToQueue | engine.OfferAgent | engine.Answered,
    said: Sequence[Line] = (),
) -> Document:
    """Where the engine sends the call, after ``said`` (an answer, fixed words)."""
    if isinstance(to, engine.ToQueue):
        return waiting.enqueue(ctx, to.queue, said)
    if isinstance(to, engine.OfferAgent):
        return agent_offer(ctx, [*said, *to.preface])
    if isinstance(to, engine.Answered):
        ctx.call.stage = CallStage.ANSWERED
        ctx.call.menu, ctx.call.option_key = to.menu, to.key
        return _listen(ctx, [*said, to.closing], "voice.answered")
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
        # A customer Hotline called back: how the attempt went (queueing.callbacks).
        # Hotline places those calls (Direction "outbound-api", TWILIO.md): a caller's
        # own call is none, and its status callback looks for no attempt.
        if params.direction != "inbound":
            callbacks.call_ended(ctx, params.call_status)
        if ctx.call.ended_at is None:
            ctx.record("call.ended", status=params.call_status, seconds=params.call_duration)
        ctx.call.stage = CallStage.ENDED
        ctx.call.duration_seconds = params.call_duration
        ctx.call.ended_at = ctx.call.ended_at or ctx.now
        ctx.call.outcome = ctx.call.outcome or "hung_up"
    return twiml.empty()
