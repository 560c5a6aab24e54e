"""The caller's webhooks of the journey: /voice (greeting, offers, menus, status) and
/voice/verify (the number, then the PIN or SMS code). Routes only hand the call on."""

from __future__ import annotations

from callflows import journey
from calls.context import CallContext
from calls.twiml import Document
from calls.webhooks import CALLER, Webhooks
from telephony.params import VoiceParams

voice = Webhooks("voice", __name__, "/voice", CALLER)
verify = Webhooks("verify", __name__, "/voice/verify", CALLER)


@voice.webhook("/incoming")
def incoming(ctx: CallContext, _: VoiceParams) -> Document:
    return journey.greet(ctx)


@voice.webhook("/language")
def language(ctx: CallContext, params: VoiceParams) -> Document:
    return journey.choose_language(ctx, params.digits)


@voice.webhook("/offer")
def offer(ctx: CallContext, params: VoiceParams) -> Document:
    return journey.take_offer(ctx, params.digits)


@voice.webhook("/menu")
def menu(ctx: CallContext, params: VoiceParams) -> Document:
    return journey.choose_from_menu(ctx, params)


@voice.webhook("/answered")
def answered(ctx: CallContext, params: VoiceParams) -> Document:
    return journey.after_answer(ctx, params)


@voice.webhook("/confirm")
def confirm(ctx: CallContext, params: VoiceParams) -> Document:
    return journey.confirm(ctx, params)


@voice.webhook("/status")
def status(ctx: CallContext, params: VoiceParams) -> Document:
    return journey.close(ctx, params)


@verify.webhook("/number")
def number(ctx: CallContext, params: VoiceParams) -> Document:
    # "#" alone claims the caller ID's number (SPEC §5).
    return journey.submit_number(ctx, params.digits or params.finished_on_key)


@verify.webhook("/secret")
def secret(ctx: CallContext, params: VoiceParams) -> Document:
    return journey.submit_secret(ctx, params.digits)
