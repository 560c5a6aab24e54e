"""One call leg: what the person on it heard, the actions they (or Twilio, on its own
schedule) take, and the hooks through which the switch moves the call.

Everything a leg does goes through its switch, which holds the clock, the queues, the
conferences and the other legs; its TwiML is played, verb by verb, by its interpreter
(``interpreter.py``), and its time in a queue is kept by ``waiting.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from telephony.simulator import twiml
from telephony.simulator.interpreter import Gathering, Interpreter, Said
from telephony.simulator.phones import Machine, SimulatedPhone
from telephony.simulator.twiml import Context
from telephony.simulator.webhooks import API_VERSION

if TYPE_CHECKING:
    from telephony.simulator.conferences import Conference
    from telephony.simulator.dialing import Bridge, Dialing
    from telephony.simulator.queues import Member
    from telephony.simulator.switch import Switch

LIVE = ("ringing", "in-progress")


class Leg:
    """A call leg. ``heard`` and ``played`` hold what was said and played since this
    person's last action (other legs' actions add to them)."""

    def __init__(
        self,
        switch: Switch,
        *,
        call_sid: str,
        caller: str,
        to: str,
        direction: str,
        base_url: str,
        phone: SimulatedPhone,
        parent_call_sid: str | None = None,
        status_callback: str | None = None,
        status_events: tuple[str, ...] = ("completed",),
    ) -> None:
        self.switch = switch
        self.call_sid = call_sid
        self.caller = caller
        self.to = to
        self.direction = direction
        self.base_url = base_url
        self.phone = phone
        self.parent_call_sid = parent_call_sid
        self.status = "queued"  # Twilio's CallStatus; "queued" until dialled or rung
        self.url = base_url + "/"
        self.heard: list[Said] = []
        self.played: list[str] = []
        self.documents: list[str] = []  # every TwiML document, raw
        self.gather: Gathering | None = None
        self.record_action: str | None = None
        self.queue: str | None = None  # the queue an <Enqueue> last put the call in
        self.queue_action: str | None = None
        self.wait_url: str | None = None
        self.waited = 0  # seconds in the queue, as Twilio last reported them
        self.conference: str | None = None  # the room a <Dial><Conference> last joined
        self.dial_action: str | None = None
        self.hung_up = False
        self.answered_at: float | None = None
        self.status_callback = status_callback
        self.status_events = status_events
        self.fallback_url: str | None = None  # the called number's, for an inbound call
        self.status_method = "POST"
        self.on_end: Callable[[], None] | None = None  # told when this call ends
        self._callbacks_sent = 0
        self._interpreter = Interpreter(self)
        self._waiting = self._interpreter.waiting

    # --- what a test reads ---------------------------------------------------------

    @property
    def text(self) -> str:
        return " ".join(said.text for said in self.heard)

    @property
    def live(self) -> bool:
        return self.status in LIVE and not self.hung_up

    def talked(self) -> int:
        """Seconds since the call was answered (0 if it never was)."""
        if self.answered_at is None:
            return 0
        return int(self.switch.clock.now - self.answered_at)

    @property
    def queued(self) -> bool:
        return self._waiting.member is not None

    def params(self) -> dict[str, str]:
        params = {
            "CallSid": self.call_sid,
            "AccountSid": self.switch.account_sid,
            "From": self.caller,
            "Caller": self.caller,
            "To": self.to,
            "Called": self.to,
            "CallStatus": self.status,
            "Direction": self.direction,
            "ApiVersion": API_VERSION,
        }
        if self.parent_call_sid:
            params["ParentCallSid"] = self.parent_call_sid
        return params

    # --- what the person on this leg does --------------------------------------------

    def dial(self, line: str | None = None) -> Leg:
        """Call ``to`` (or the number whose voice URL is ``line``): Twilio requests the
        number's voice URL, its first request saying ``CallStatus=ringing``
        (twilio.com/docs/usage/webhooks/voice-webhooks)."""
        with self.switch.turn():
            assert self.status == "queued", "this call was already dialled"
            number = self.switch.number_for(self.to, line)
            self.to = number.number
            self.status_callback = self._absolute(number.status_callback)
            self.fallback_url = self._absolute(number.fallback_url)
            self.status = "ringing"
            self.answered_at = self.switch.clock.now
            self.switch.emit(self, "ring", f"{self.caller} calls {self.to}")
            self._interpreter.follow(self._absolute(number.voice_url) or self.url)
        return self

    def answer(self) -> Leg:
        """Pick up this ringing phone (a ``Person`` decides when)."""
        with self.switch.turn():
            self.switch.answered(self)
        return self

    def press(self, digits: str) -> Leg:
        """Key ``digits`` into the Gather listening now. Keys after ``finishOnKey`` or
        beyond ``numDigits`` are lost, as on a real phone; keys that stop short of
        either are sent when the Gather's timeout runs out."""
        with self.switch.turn():
            gather = self._listening()
            assert "dtmf" in twiml.inputs_of(gather.attributes), "this prompt takes speech only"
            finish = gather.attributes.get("finishOnKey", "#")
            limit = int(gather.attributes.get("numDigits") or 0)
            keys, finished_on = "", None
            for key in digits:
                if finish and key in finish:
                    finished_on = key
                    break
                keys += key
                if limit and len(keys) >= limit:
                    break
            if keys and finished_on is None and not (limit and len(keys) >= limit):
                # Keys that stop short are sent once the timeout has passed.
                self.switch.clock.advance(float(gather.attributes.get("timeout", 5)))
            extra = {"Digits": keys} | ({"FinishedOnKey": finished_on} if finished_on else {})
            # The finish key alone is no input, but ends the wait at once (and an
            # ``actionOnEmptyResult`` request says which key it was).
            alone = {"FinishedOnKey": finished_on} if finished_on else None
            self._interpreter.answer(gather, extra if keys else alone)
        return self

    def say(self, words: str, confidence: float = 0.9) -> Leg:
        """Speak instead of pressing keys (the Gather must listen for speech)."""
        with self.switch.turn():
            gather = self._listening()
            assert "speech" in twiml.inputs_of(gather.attributes), "this prompt takes keys only"
            self.switch.clock.advance(self.switch.durations.say(words))
            extra = {"SpeechResult": words, "Confidence": str(confidence)}
            self._interpreter.answer(gather, extra if words else None)
        return self

    def silence(self) -> Leg:
        """Say nothing: a Gather times out and Twilio carries on with the verbs after it
        (or requests its action, with ``actionOnEmptyResult``); a Record ends empty and
        its action is not requested (twilio.com/docs/voice/twiml/record)."""
        with self.switch.turn():
            interpreter = self._interpreter
            if interpreter.record is not None:
                self._reset_heard()
                record, interpreter.record, self.record_action = interpreter.record, None, None
                self.switch.clock.advance(twiml.number(record, "timeout", 5))
                interpreter.run()
            else:
                interpreter.answer(self._listening(), None)
        return self

    def hold(
        self, position: int | None = None, seconds: int | None = None, average: int | None = None
    ) -> Leg:
        """One more turn of the wait document: the current one plays out (a Gather in it
        hears nothing) and Twilio requests it again. ``heard`` is what the new turn says;
        the arguments override the position, time in queue and average the queue reports."""
        with self.switch.turn():
            waiting = self._waiting
            assert waiting.member is not None, "the caller is not waiting in a queue"
            while waiting.member is not None and not waiting.parked:
                assert self.gather is not None, "the wait document never ends"
                self._interpreter.answer(self.gather, None)
            if waiting.member is not None:
                self._reset_heard()
                if seconds is not None:
                    waiting.member.joined_at = self.switch.clock.now - seconds
                waiting.turn(position, average)
        return self

    def press_during_music(self, digits: str) -> Leg:
        """Key ``digits`` while the wait document's hold music plays: a Gather around the
        music hears them; music outside any Gather does not, and the keys are lost
        (the document plays on to its end, and Twilio then asks for the next one)."""
        with self.switch.turn():
            waiting = self._waiting
            assert waiting.member is not None, "the caller is not waiting in a queue"
            while waiting.member is not None and not waiting.parked:
                assert self.gather is not None, "the wait document never ends"
                if self.gather.music:
                    self.press(digits)
                    return self
                self._interpreter.answer(self.gather, None)  # a Gather before the music
            self._reset_heard()
        return self

    def leave_message(self, duration: int = 12) -> Leg:
        """Speak after the beep for ``duration`` seconds and press #: Twilio posts the
        recording to the Record's action."""
        with self.switch.turn():
            record, self._interpreter.record = self._interpreter.record, None
            assert record is not None, "nobody is recording"
            self._reset_heard()
            action, self.record_action = self.record_action, None
            duration = min(duration, int(twiml.number(record, "maxLength", 3600)))
            self.switch.clock.advance(duration)
            finish = record.get("finishOnKey", "1234567890*#")
            sid = self.switch.sids.mint("RE")
            self.switch.recordings[sid] = duration
            extra = {
                "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/"
                f"{self.switch.account_sid}/Recordings/{sid}",
                "RecordingSid": sid,
                "RecordingDuration": str(duration),
            }
            if finish:
                extra["Digits"] = "#" if "#" in finish else finish[0]
            self._interpreter.follow(action or self.url, extra, record.get("method", "POST"))
        return self

    def leave_queue(self, result: str, seconds: int = 30) -> Leg:
        """Twilio takes the caller out of the queue after ``seconds`` with this
        ``QueueResult`` and requests the Enqueue action; ``hangup`` means the caller hung up."""
        with self.switch.turn():
            member = self._waiting.member
            assert member is not None, "the caller is not in a queue"
            self._reset_heard()
            member.joined_at = self.switch.clock.now - seconds
            if result == "hangup":
                self.finish("completed")
            else:
                self._waiting.leave(result)
        return self

    def redirect(self, url: str, method: str = "POST") -> Leg:
        """Twilio moving the call to another URL (a REST update, or a dequeue)."""
        with self.switch.turn():
            self._reset_heard()
            self.move_to(url, method)
        return self

    def conference_ends(self, seconds: int = 120) -> Leg:
        """After ``seconds`` of talk the conference this call is in ends (as when it is
        ended through the REST API): every participant's Dial completes and its action
        is requested. On a two-party call, the other side hangs up."""
        with self.switch.turn():
            participant, bridge = self._interpreter.participant, self._interpreter.bridge
            assert participant or bridge, "the call is not in a conference"
            self._reset_heard()
            self.switch.clock.advance(seconds)
            if participant is not None:
                participant.end("conference-ended-via-API", None)
            elif bridge is not None:
                bridge.partner(self).finish("completed")
        return self

    def drops_at(self, verb: str) -> Leg:
        """The line drops when this call's TwiML next reaches ``verb`` (a ``Dial``, say:
        an agent's phone that hangs up while "connecting"); nothing after it runs."""
        self._interpreter.drop_at = verb
        return self

    def drops_after(self, verb: str) -> Leg:
        """The line drops as soon as ``verb`` has started (after a ``Dial`` has joined a
        conference, say, and before anyone else is there)."""
        self._interpreter.drop_after = verb
        return self

    def hang_up(self) -> None:
        """The person hangs up now: a queued caller's Enqueue action hears
        ``QueueResult=hangup``, a conference loses a participant, then the status callback."""
        with self.switch.turn():
            if self.status == "ringing" and self.answered_at is None:
                self.switch.ring_ended(self, "busy")  # declined while it rang
            else:
                assert self.live, "the call has already ended"
                self.finish("completed")

    def end(self, status: str = "completed", duration: int = 60) -> None:
        """The call ends with this status after ``duration`` seconds, as Twilio's status
        callback reports it; on a call that has already ended, Twilio delivering that
        callback (again)."""
        with self.switch.turn():
            if self.live:
                self.finish(status, duration)
            else:
                self.status = status
                self.post_status("completed", duration)

    def post(self, path_or_url: str, extra: dict[str, str]) -> str:
        """A request to Hotline as Twilio would send it (a retry, a late callback): the
        reply must be TwiML; it is returned, not played."""
        with self.switch.turn():
            url = urljoin(self.base_url + "/", path_or_url)
            body = self.switch.fetch(url, self.params() | extra)
            assert body is not None, f"Hotline's reply to {url} is not TwiML Twilio accepts"
            return body

    # --- the switch's side: how Twilio moves the call ---------------------------------

    def move_to(self, url: str, method: str = "POST", document: str | None = None) -> None:
        """A REST update (Url or Twiml) or dequeue: whatever the call was doing stops. A
        queued caller's Enqueue action is requested at once with ``QueueResult=redirected``
        and its TwiML is not run: the call goes on at ``url`` (TWILIO.md; Enqueue's action,
        twilio.com/docs/voice/twiml/enqueue; twilio.com/docs/voice/api/member-resource)."""
        self._interpreter.stop()
        self._waiting.gone("redirected")
        self._interpreter.enter(Context.CALL)
        if document is None:
            self._interpreter.follow(urljoin(self.url, url), method=method)
        else:
            self.documents.append(document)
            self._interpreter.play(twiml.verbs(document))

    def answered(self, url: str | None, method: str, document: str | None) -> None:
        """A call placed through the REST API was picked up: it runs ``Url`` (or ``Twiml``)."""
        self.status = "in-progress"
        self.answered_at = self.switch.clock.now
        self.post_status("answered")
        if document is not None:
            self.documents.append(document)
            self._interpreter.play(twiml.verbs(document))
        else:
            self._interpreter.follow(url or self.url, method=method)

    def whisper(self, url: str | None, method: str, connect: Callable[[], None]) -> None:
        """A dialled party picked up: the noun's ``url`` document plays to them first."""
        self.status = "in-progress"
        self.answered_at = self.switch.clock.now
        self.post_status("answered")
        self._interpreter.enter(Context.WHISPER, connect)
        if url is None:
            connect()
        else:
            self._interpreter.follow(url, method=method)

    def announce(self, url: str | None, extra: dict[str, str], connect: Callable[[], None]) -> None:
        """A <Dial><Queue> took this caller: the Queue's ``url`` plays to them first."""
        self._interpreter.enter(Context.ANNOUNCE, connect)
        if url is None:
            connect()
        else:
            self._interpreter.follow(url, extra)

    def ring_ended(self, status: str) -> None:
        """Never answered: ``no-answer``, ``busy``, ``failed`` or ``canceled``."""
        self.status = status
        self.hung_up = True
        self.post_status("completed", 0)
        self.switch.emit(self, "end", f"{self.to}: {status}")

    def bridged(self, bridge: Bridge | None) -> None:
        self._interpreter.bridge = bridge

    def joined(self, conference: Conference | None) -> None:
        self._interpreter.participant = conference

    def conference_wait(self, url: str, method: str) -> float:
        """Alone in a conference that has not started: one turn of its waitUrl document
        plays. Returns how long it lasts, after which Twilio requests it again."""
        interpreter = self._interpreter
        interpreter.enter(Context.CONFERENCE_WAIT, lambda: None)
        interpreter.counted = 0.0
        try:
            interpreter.follow(url, method=method)
            return interpreter.counted
        finally:
            interpreter.counted = None
            interpreter.enter(Context.CALL)

    def dial_done(self, dialing: Dialing, params: dict[str, str]) -> None:
        """The <Dial> ended: its action is requested (and followed, while the call is up),
        or the document goes on after the <Dial>."""
        if self._interpreter.dialing is dialing:
            self._interpreter.dialing = None
            self.dial_action = None
        if dialing.action is None:
            if self.live:
                self._interpreter.play(dialing.rest, dialing.url)
            return
        if self.live:
            self._interpreter.follow(dialing.action, params, dialing.method)
        else:  # the caller hung up: Twilio still tells the action, and runs nothing
            self._interpreter.fetch(dialing.action, params, dialing.method)

    def queue_done(self, result: str) -> None:
        """A <Dial><Queue> bridge with this caller ended: the Enqueue action hears
        ``QueueResult=bridged`` only now (twilio.com/docs/voice/twiml/enqueue)."""
        self._interpreter.bridge = None
        self._waiting.bridge_ended(result)

    def taken_from_queue(self) -> Member:
        """A <Dial><Queue> takes this caller; the Enqueue action waits for the bridge's end."""
        return self._waiting.taken()

    def machine_turn(self) -> None:
        """An answering machine never answers a prompt and hangs up after listening."""
        if not self.live or not isinstance(self.phone.behaviour, Machine):
            return
        interpreter = self._interpreter
        listened = self.switch.clock.now - (self.answered_at or 0.0)
        if listened >= self.phone.behaviour.listens or not (self.gather or interpreter.record):
            self.finish("completed")
        elif interpreter.record is not None:
            interpreter.record = self.record_action = None
            interpreter.run()
        elif self.gather is not None:
            interpreter.answer(self.gather, None)

    def finish(self, status: str = "completed", duration: int | None = None) -> None:
        """The call ends: whatever it was doing stops, and the status callback is posted."""
        if not self.live:
            return
        self.status = status
        self.hung_up = True
        dialing, self._interpreter.dialing = self._interpreter.dialing, None
        self._waiting.gone("hangup")
        self._interpreter.stop()
        if dialing is not None:
            dialing.caller_left()
        self.post_status("completed", duration)
        self.switch.emit(self, "end", f"{self.caller} → {self.to}: {status}")
        if self.on_end is not None:
            self.on_end()

    def post_status(self, event: str, duration: int | None = None) -> None:
        """Sent only for the events asked for: a REST call's StatusCallbackEvent, or the
        number's "call status changes" URL, which hears only the end (TWILIO.md)."""
        if self.status_callback is None or event not in self.status_events:
            return
        if self.phone.callbacks_lost:
            self.switch.emit(self, "error", f"the {event} status callback is lost")
            return
        self._callbacks_sent += 1
        params = self.params() | {
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(self._callbacks_sent - 1),
            "Timestamp": self.switch.clock.timestamp(),
        }
        if event == "completed":
            if duration is None:
                duration = self.talked()
            params["CallDuration"] = str(duration)
        self.switch.notify(self.status_callback, params, self.status_method)

    def _absolute(self, url: str | None) -> str | None:
        return urljoin(self.base_url + "/", url) if url else None

    def _reset_heard(self) -> None:
        self.heard, self.played = [], []

    def _listening(self) -> Gathering:
        assert self.gather is not None, f"nobody asked for input; heard: {self.text}"
        self._reset_heard()
        return self.gather
