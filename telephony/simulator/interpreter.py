"""A leg's TwiML played verb by verb, the way Twilio plays it: the verbs still to play, the
context they play in, what follows when they run out, one handler per verb, and what
the verbs left running (a Record listening, a Dial, a conference, a bridge, a queue).

A verb that waits for the person (a Gather, a Record) stops the document; the leg's
actions take it up again (twilio.com/docs/voice/twiml).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from telephony.simulator import speech, twiml
from telephony.simulator.dialing import Dialing
from telephony.simulator.phones import Machine
from telephony.simulator.twiml import Context, TwimlError, Verb
from telephony.simulator.waiting import Waiting
from telephony.simulator.webhooks import APPLICATION_ERROR, error_code

if TYPE_CHECKING:
    from telephony.simulator.conferences import Conference
    from telephony.simulator.dialing import Bridge
    from telephony.simulator.leg import Leg


@dataclass
class Said:
    text: str
    language: str | None
    voice: str | None


@dataclass
class Gathering:
    action: str
    attributes: dict[str, str]
    rest: list[Verb]  # what Twilio plays next when the caller stays silent
    music: bool = False  # audio played inside it: a key pressed during it is heard


class Interpreter:
    def __init__(self, leg: Leg) -> None:
        self.leg = leg
        self.switch = leg.switch
        self.rest: list[Verb] = []
        self.context = Context.CALL
        self.then: Callable[[], None] = self._hang_up_at_end
        self.record: Verb | None = None  # a <Record> listening now
        self.dialing: Dialing | None = None
        self.participant: Conference | None = None
        self.bridge: Bridge | None = None
        self.waiting = Waiting(leg, self)
        # Seconds a conference wait document takes, counted instead of passing: the
        # room goes on meanwhile, and Twilio asks again once they have passed.
        self.counted: float | None = None
        # The verb at which the line drops, before it runs or just after (see Leg).
        self.drop_at: str | None = None
        self.drop_after: str | None = None
        self._handlers: dict[str, Callable[[Verb], bool]] = {
            "Say": self._say,
            "Play": self._play,
            "Pause": self._pause,
            "Gather": self._gather,
            "Redirect": self._redirect,
            "Record": self._record,
            "Hangup": self._hangup,
            "Enqueue": self._enqueue,
            "Leave": self._leave,
            "Dial": self._dial,
        }

    def enter(self, context: Context, then: Callable[[], None] | None = None) -> None:
        """The next document plays in ``context``; ``then`` follows when it runs out (by
        default the call ends)."""
        self.context, self.then = context, then or self._hang_up_at_end

    def fetch(
        self, url: str, extra: dict[str, str] | None = None, method: str = "POST"
    ) -> list[Verb] | None:
        leg = self.leg
        leg.url = urljoin(leg.url, url)
        params = leg.params() | (extra or {})
        body = self.switch.fetch(leg.url, params, method)
        if body is None and leg.fallback_url and leg.live and self.context is Context.CALL:
            # Twilio could not use the answer: it requests the number's Fallback URL at
            # once, with ErrorCode and ErrorUrl, and carries on with its TwiML
            # (twilio.com/docs/usage/security/availability-reliability). Modelled for the
            # call's own documents, with the call's parameters; the docs say no more.
            failed, leg.url = leg.url, leg.fallback_url
            why = {"ErrorCode": error_code(self.switch.errors[-1]), "ErrorUrl": failed}
            body = self.switch.fetch(leg.url, leg.params() | why)
        if body is None:
            return None
        leg.documents.append(body)
        return twiml.verbs(body)

    def follow(self, url: str, extra: dict[str, str] | None = None, method: str = "POST") -> None:
        """Request a document and play it, in the context the call is in."""
        verbs = self.fetch(url, extra, method)
        if verbs is None:
            self.application_error()
            return
        if self.leg.status == "ringing":
            self.leg.status = "in-progress"
        self.rest = verbs
        self.run()

    def play(self, verbs: list[Verb], url: str | None = None) -> None:
        """Play these verbs as the call's document (from ``url``, when they came from one)."""
        if url:
            self.leg.url = url
        self.enter(Context.CALL)
        self.rest = list(verbs)
        self.run()

    def answer(self, gather: Gathering, extra: dict[str, str] | None) -> None:
        """The Gather heard ``extra`` (None: nothing before its timeout; FinishedOnKey
        alone: only the finish key)."""
        self.leg.gather = None
        if extra is None or set(extra) == {"FinishedOnKey"}:
            if extra is None:
                self.switch.clock.advance(float(gather.attributes.get("timeout", 5)))
            if gather.attributes.get("actionOnEmptyResult", "").lower() != "true":
                self.run()
                return
        method = gather.attributes.get("method", "POST")
        self.follow(gather.action, extra or {}, method)

    def run(self) -> None:
        leg = self.leg
        while leg.live:
            if not self.rest:
                self.then()
                return
            verb = self.rest.pop(0)
            if verb.tag == self.drop_at:
                leg.finish("completed")
                return
            try:
                twiml.check(verb, self.context)
                carry_on = self._execute(verb)
                if verb.tag == self.drop_after:
                    leg.finish("completed")
                    return
            except TwimlError as exc:
                self.switch.fail(f"{leg.call_sid} at {leg.url}: {exc}")
                self.application_error()
                return
            if not carry_on:
                if leg.live and isinstance(leg.phone.behaviour, Machine):
                    self.switch.later(leg.machine_turn)
                return

    def stop(self) -> None:
        """Whatever the call is doing now is interrupted."""
        self.leg.gather = None
        self.record = self.leg.record_action = None
        self.rest = []
        if self.dialing is not None:
            dialing, self.dialing = self.dialing, None
            self.leg.dial_action = None
            dialing.abandon()
        if self.participant is not None:
            self.participant.leave(self.leg)
        if self.bridge is not None:
            self.bridge.end(self.leg)

    def application_error(self) -> None:
        said = Said(APPLICATION_ERROR, "en-US", None)
        self.leg.heard.append(said)
        self.switch.emit(self.leg, "say", said.text, said)
        self.leg.finish("completed")

    def _hang_up_at_end(self) -> None:
        # A document that runs out ends the call (twilio.com/docs/voice/twiml).
        self.leg.finish("completed")

    # --- the verbs: each returns False when the call now waits (for a person, a queue,
    # a dial) -----------------------------------------------------------------------------

    def _execute(self, verb: Verb) -> bool:
        handler = self._handlers.get(verb.tag)
        if handler is None:
            raise TwimlError(f"<{verb.tag}> is not modelled by the simulator")
        return handler(verb)

    def _say(self, verb: Verb) -> bool:
        said = Said(twiml.spoken(verb), verb.get("language"), verb.get("voice"))
        for _ in range(max(1, int(twiml.number(verb, "loop", 1)))):
            self.leg.heard.append(said)
            self.switch.emit(self.leg, "say", said.text, said)
            self._spend(self.switch.durations.say(said.text))
        return True

    def _play(self, verb: Verb) -> bool:
        """Each play takes the audio's length; audio Twilio cannot fetch is skipped and
        the document goes on with the next verb (Twilio logs error 11200 or 13420 in
        its debugger: twilio.com/docs/api/errors/11200, /13420)."""
        url = (verb.text or "").strip()
        seconds = self.switch.media_seconds(url)
        if seconds is None:
            return True
        for _ in range(max(1, int(twiml.number(verb, "loop", 1)))):
            self.leg.played.append(url)
            self.switch.emit(self.leg, "play", url)
            self._spend(seconds)
        return True

    def _pause(self, verb: Verb) -> bool:
        self._spend(twiml.number(verb, "length", 1))
        return True

    def _spend(self, seconds: float) -> None:
        if self.counted is None:
            self.switch.clock.advance(seconds)
        else:
            self.counted += seconds

    def _gather(self, verb: Verb) -> bool:
        if "speech" in twiml.inputs_of(verb.attrib):
            failed = False
            for problem in speech.problems(verb.attrib):
                self.switch.fail(
                    f"{self.leg.call_sid} at {self.leg.url}: {problem.code} {problem.message}"
                )
                failed = failed or problem.fails
            if failed:  # the Gather fails; Twilio goes on with the verbs after it
                return True
        played = len(self.leg.played)
        for child in verb:
            self._execute(child)
        action = urljoin(self.leg.url, verb.get("action") or self.leg.url)
        music = len(self.leg.played) > played
        self.leg.gather = Gathering(action, dict(verb.attrib), self.rest, music)
        return False

    def _redirect(self, verb: Verb) -> bool:
        target = (verb.text or "").strip() or self.leg.url
        verbs = self.fetch(target, method=verb.get("method", "POST"))
        if verbs is None:
            self.application_error()
            return False
        self.rest = verbs
        return True

    def _record(self, verb: Verb) -> bool:
        self.record = verb
        self.leg.record_action = urljoin(self.leg.url, verb.get("action") or self.leg.url)
        return False

    def _hangup(self, verb: Verb) -> bool:
        self.leg.finish("completed")
        return False

    def _enqueue(self, verb: Verb) -> bool:
        self.waiting.join(verb)
        return False

    def _leave(self, verb: Verb) -> bool:
        self.waiting.leave("leave")
        return False

    def _dial(self, verb: Verb) -> bool:
        self.dialing = Dialing(self.leg, verb, self.rest, self.leg.url)
        self.rest = []
        self.leg.dial_action = self.dialing.action
        self.dialing.start()
        return False
