"""One call leg following TwiML verb by verb, the way Twilio does.

The public attributes and methods are those of a phone in a test: what the
person heard since their last action, and the actions a person (or Twilio, on
its own schedule) takes. Everything a leg does goes through its switch, which
holds the clock, the queues, the conferences and the other legs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from telephony.simulator import twiml
from telephony.simulator.phones import Machine, SimulatedPhone
from telephony.simulator.twiml import Context, TwimlError, Verb
from telephony.simulator.webhooks import API_VERSION, APPLICATION_ERROR

if TYPE_CHECKING:
    from telephony.simulator.conferences import Conference
    from telephony.simulator.dialing import Bridge, Dialing
    from telephony.simulator.queues import Member
    from telephony.simulator.switch import Switch

# Enqueue without waitUrl: Twilio's own classical playlist (twilio.com/docs/api/twiml/enqueue).
DEFAULT_WAIT_MUSIC = "http://s3.amazonaws.com/com.twilio.sounds.music/index.xml"
LIVE = ("ringing", "in-progress")


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
        self.status_method = "POST"
        self.on_end: Callable[[], None] | None = None  # told when this call ends
        self._callbacks_sent = 0
        self._rest: list[Verb] = []
        self._context = Context.CALL
        self._then: Callable[[], None] = self._hang_up_at_end
        self._record: Verb | None = None
        self._member: Member | None = None
        self._enqueue: Verb | None = None
        self._enqueue_url = ""
        self._after_enqueue: list[Verb] = []
        self._parked = False  # a wait document has ended; the next turn waits for time
        self._dialing: Dialing | None = None
        self._participant: Conference | None = None
        self._bridge: Bridge | None = None

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
        return self._member is not None

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
            self.status = "ringing"
            self.answered_at = self.switch.clock.now
            self.switch.emit(self, "ring", f"{self.caller} calls {self.to}")
            self._follow(self._absolute(number.voice_url) or self.url)
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
            self._answer_gather(gather, extra if keys else None)
        return self

    def say(self, words: str, confidence: float = 0.9) -> Leg:
        """Speak instead of pressing keys (the Gather must listen for speech)."""
        with self.switch.turn():
            gather = self._listening()
            assert "speech" in twiml.inputs_of(gather.attributes), "this prompt takes keys only"
            self.switch.clock.advance(self.switch.durations.say(words))
            extra = {"SpeechResult": words, "Confidence": str(confidence)}
            self._answer_gather(gather, extra if words else None)
        return self

    def silence(self) -> Leg:
        """Say nothing: a Gather times out and Twilio carries on with the verbs after it
        (or requests its action, with ``actionOnEmptyResult``); a Record ends empty and
        its action is not requested (twilio.com/docs/voice/twiml/record)."""
        with self.switch.turn():
            if self._record is not None:
                self._reset_heard()
                record, self._record, self.record_action = self._record, None, None
                self.switch.clock.advance(twiml.number(record, "timeout", 5))
                self._run()
            else:
                self._answer_gather(self._listening(), None)
        return self

    def hold(
        self, position: int | None = None, seconds: int | None = None, average: int | None = None
    ) -> Leg:
        """One more turn of the wait document: the current one plays out (a Gather in it
        hears nothing) and Twilio requests it again. ``heard`` is what the new turn says;
        the arguments override the position, time in queue and average the queue reports."""
        with self.switch.turn():
            assert self._member is not None, "the caller is not waiting in a queue"
            while self._member is not None and not self._parked:
                assert self.gather is not None, "the wait document never ends"
                self._answer_gather(self.gather, None)
            if self._member is not None:
                self._reset_heard()
                if seconds is not None:
                    self._member.joined_at = self.switch.clock.now - seconds
                self._wait_turn(position, average)
        return self

    def leave_message(self, duration: int = 12) -> Leg:
        """Speak after the beep for ``duration`` seconds and press #: Twilio posts the
        recording to the Record's action."""
        with self.switch.turn():
            assert self._record is not None, "nobody is recording"
            self._reset_heard()
            record, self._record = self._record, None
            action, self.record_action = self.record_action, None
            duration = min(duration, int(twiml.number(record, "maxLength", 3600)))
            self.switch.clock.advance(duration)
            finish = record.get("finishOnKey", "1234567890*#")
            sid = self.switch.sids.mint("RE")
            extra = {
                "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/"
                f"{self.switch.account_sid}/Recordings/{sid}",
                "RecordingSid": sid,
                "RecordingDuration": str(duration),
            }
            if finish:
                extra["Digits"] = "#" if "#" in finish else finish[0]
            self._follow(action or self.url, extra, record.get("method", "POST"))
        return self

    def leave_queue(self, result: str, seconds: int = 30) -> Leg:
        """Twilio takes the caller out of the queue after ``seconds`` with this
        ``QueueResult`` and requests the Enqueue action; ``hangup`` means the caller hung up."""
        with self.switch.turn():
            assert self._member is not None, "the caller is not in a queue"
            self._reset_heard()
            self._member.joined_at = self.switch.clock.now - seconds
            if result == "hangup":
                self._finish("completed")
            else:
                self._leave_queue(result)
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
            assert self._participant or self._bridge, "the call is not in a conference"
            self._reset_heard()
            self.switch.clock.advance(seconds)
            if self._participant is not None:
                self._participant.end("conference-ended-via-API", None)
            elif self._bridge is not None:
                self._bridge.partner(self)._finish("completed")
        return self

    def hang_up(self) -> None:
        """The person hangs up now: a queued caller's Enqueue action hears
        ``QueueResult=hangup``, a conference loses a participant, then the status callback."""
        with self.switch.turn():
            if self.status == "ringing" and self.answered_at is None:
                self.switch.ring_ended(self, "busy")  # declined while it rang
            else:
                assert self.live, "the call has already ended"
                self._finish("completed")

    def end(self, status: str = "completed", duration: int = 60) -> None:
        """The call ends with this status after ``duration`` seconds, as Twilio's status
        callback reports it; on a call that has already ended, Twilio delivering that
        callback (again)."""
        with self.switch.turn():
            if self.live:
                self._finish(status, duration)
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
        self._stop()
        if self._member is not None:
            action, params = self._dequeue("redirected")
            if action:
                self._fetch(action, params, self._enqueue_method)
        self._context, self._then = Context.CALL, self._hang_up_at_end
        if document is None:
            self._follow(urljoin(self.url, url), method=method)
        else:
            self.documents.append(document)
            self._run_document(twiml.verbs(document))

    def answered(self, url: str | None, method: str, document: str | None) -> None:
        """A call placed through the REST API was picked up: it runs ``Url`` (or ``Twiml``)."""
        self.status = "in-progress"
        self.answered_at = self.switch.clock.now
        self.post_status("answered")
        if document is not None:
            self.documents.append(document)
            self._run_document(twiml.verbs(document))
        else:
            self._follow(url or self.url, method=method)

    def whisper(self, url: str | None, method: str, connect: Callable[[], None]) -> None:
        """A dialled party picked up: the noun's ``url`` document plays to them first."""
        self.status = "in-progress"
        self.answered_at = self.switch.clock.now
        self.post_status("answered")
        self._context, self._then = Context.WHISPER, connect
        if url is None:
            connect()
        else:
            self._follow(url, method=method)

    def announce(self, url: str | None, extra: dict[str, str], connect: Callable[[], None]) -> None:
        """A <Dial><Queue> took this caller: the Queue's ``url`` plays to them first."""
        self._context, self._then = Context.ANNOUNCE, connect
        if url is None:
            connect()
        else:
            self._follow(url, extra)

    def ring_ended(self, status: str) -> None:
        """Never answered: ``no-answer``, ``busy``, ``failed`` or ``canceled``."""
        self.status = status
        self.hung_up = True
        self.post_status("completed", 0)
        self.switch.emit(self, "end", f"{self.to}: {status}")

    def bridged(self, bridge: Bridge | None) -> None:
        self._bridge = bridge

    def joined(self, conference: Conference | None) -> None:
        self._participant = conference

    def conference_wait(self, url: str, method: str) -> None:
        """Alone in a conference that has not started: its waitUrl plays."""
        self._context, self._then = Context.CONFERENCE_WAIT, lambda: None
        self._follow(url, method=method)

    def dial_done(self, dialing: Dialing, params: dict[str, str]) -> None:
        """The <Dial> ended: its action is requested (and followed, while the call is up),
        or the document goes on after the <Dial>."""
        if self._dialing is dialing:
            self._dialing = None
            self.dial_action = None
        if dialing.action is None:
            if self.live:
                self._run_document(dialing.rest, dialing.url)
            return
        if self.live:
            self._follow(dialing.action, params, dialing.method)
        else:  # the caller hung up: Twilio still tells the action, and runs nothing
            self._fetch(dialing.action, params, dialing.method)

    def queue_done(self, result: str) -> None:
        """A <Dial><Queue> bridge with this caller ended: the Enqueue action hears
        ``QueueResult=bridged`` only now (twilio.com/docs/voice/twiml/enqueue)."""
        self._bridge = None
        self._context, self._then = Context.CALL, self._hang_up_at_end
        action, params = self._enqueue_result(result)
        if action and self.live:
            self._follow(action, params, self._enqueue_method)
        elif action:
            self._fetch(action, params, self._enqueue_method)
        elif self.live:
            self._run_document(self._after_enqueue, self._enqueue_url)

    def taken_from_queue(self) -> Member:
        """A <Dial><Queue> takes this caller; the Enqueue action waits for the bridge's end."""
        assert self._member is not None
        member, self._member = self._member, None
        self._stop()
        self.switch.queues[self.queue or ""].members.remove(member)
        self.waited = member.waited(self.switch.clock.now)
        self.wait_url = None
        return member

    def finish(self, status: str = "completed") -> None:
        self._finish(status)

    def machine_turn(self) -> None:
        """An answering machine never answers a prompt and hangs up after listening."""
        if not self.live or not isinstance(self.phone.behaviour, Machine):
            return
        listened = self.switch.clock.now - (self.answered_at or 0.0)
        if listened >= self.phone.behaviour.listens or not (self.gather or self._record):
            self._finish("completed")
        elif self._record is not None:
            self._record = self.record_action = None
            self._run()
        elif self.gather is not None:
            self._answer_gather(self.gather, None)

    # --- following TwiML ---------------------------------------------------------------

    _enqueue_method = "POST"

    def _absolute(self, url: str | None) -> str | None:
        return urljoin(self.base_url + "/", url) if url else None

    def _reset_heard(self) -> None:
        self.heard, self.played = [], []

    def _listening(self) -> Gathering:
        assert self.gather is not None, f"nobody asked for input; heard: {self.text}"
        self._reset_heard()
        return self.gather

    def _answer_gather(self, gather: Gathering, extra: dict[str, str] | None) -> None:
        self.gather = None
        if extra is None:
            self.switch.clock.advance(float(gather.attributes.get("timeout", 5)))
            if gather.attributes.get("actionOnEmptyResult", "").lower() != "true":
                self._run()
                return
        method = gather.attributes.get("method", "POST")
        self._follow(gather.action, extra or {}, method)

    def _fetch(
        self, url: str, extra: dict[str, str] | None = None, method: str = "POST"
    ) -> list[Verb] | None:
        self.url = urljoin(self.url, url)
        body = self.switch.fetch(self.url, self.params() | (extra or {}), method)
        if body is None:
            return None
        self.documents.append(body)
        return twiml.verbs(body)

    def _follow(self, url: str, extra: dict[str, str] | None = None, method: str = "POST") -> None:
        """Request a document and play it, in the context the call is in."""
        verbs = self._fetch(url, extra, method)
        if verbs is None:
            self._application_error()
            return
        if self.status == "ringing":
            self.status = "in-progress"
        self._rest = verbs
        self._run()

    def _run_document(self, verbs: list[Verb], url: str | None = None) -> None:
        if url:
            self.url = url
        self._context, self._then = Context.CALL, self._hang_up_at_end
        self._rest = list(verbs)
        self._run()

    def _run(self) -> None:
        while self.live:
            if not self._rest:
                self._then()
                return
            verb = self._rest.pop(0)
            try:
                twiml.check(verb, self._context)
                carry_on = self._execute(verb)
            except TwimlError as exc:
                self.switch.fail(f"{self.call_sid} at {self.url}: {exc}")
                self._application_error()
                return
            if not carry_on:
                if self.live and isinstance(self.phone.behaviour, Machine):
                    self.switch.later(self.machine_turn)
                return

    def _execute(self, verb: Verb) -> bool:
        """Play one verb; False when the call now waits (for a person, a queue, a dial)."""
        clock, durations = self.switch.clock, self.switch.durations
        if verb.tag == "Say":
            said = Said(twiml.spoken(verb), verb.get("language"), verb.get("voice"))
            for _ in range(max(1, int(twiml.number(verb, "loop", 1)))):
                self.heard.append(said)
                self.switch.emit(self, "say", said.text, said)
                clock.advance(durations.say(said.text))
        elif verb.tag == "Play":
            url = (verb.text or "").strip()
            for _ in range(max(1, int(twiml.number(verb, "loop", 1)))):
                self.played.append(url)
                self.switch.emit(self, "play", url)
                clock.advance(durations.play_seconds)
        elif verb.tag == "Pause":
            clock.advance(twiml.number(verb, "length", 1))
        elif verb.tag == "Gather":
            for child in verb:
                self._execute(child)
            action = urljoin(self.url, verb.get("action") or self.url)
            self.gather = Gathering(action, dict(verb.attrib), self._rest)
            return False
        elif verb.tag == "Redirect":
            target = (verb.text or "").strip() or self.url
            verbs = self._fetch(target, method=verb.get("method", "POST"))
            if verbs is None:
                self._application_error()
                return False
            self._rest = verbs
        elif verb.tag == "Record":
            self._record = verb
            self.record_action = urljoin(self.url, verb.get("action") or self.url)
            return False
        elif verb.tag == "Hangup":
            self._finish("completed")
            return False
        elif verb.tag == "Enqueue":
            self._join_queue(verb)
            return False
        elif verb.tag == "Leave":
            self._leave_queue("leave")
            return False
        elif verb.tag == "Dial":
            from telephony.simulator.dialing import Dialing

            self._dialing = Dialing(self, verb, self._rest, self.url)
            self._rest = []
            self.dial_action = self._dialing.action
            self._dialing.start()
            return False
        else:
            raise TwimlError(f"<{verb.tag}> is not modelled by the simulator")
        return True

    def _hang_up_at_end(self) -> None:
        # A document that runs out ends the call (twilio.com/docs/voice/twiml).
        self._finish("completed")

    def _park(self) -> None:
        # A wait document that ends is requested again once it has played (TWILIO.md):
        # the next turn comes with hold(), when the test lets that time pass.
        self._parked = True

    def _application_error(self) -> None:
        said = Said(APPLICATION_ERROR, "en-US", None)
        self.heard.append(said)
        self.switch.emit(self, "say", said.text, said)
        self._finish("completed")

    # --- queues ------------------------------------------------------------------------

    def _join_queue(self, verb: Verb) -> None:
        name = (verb.text or "").strip()
        if len(name) > 64:
            raise TwimlError(f"queue name longer than 64 characters: {name!r}")
        action, wait_url = verb.get("action"), verb.get("waitUrl")
        self.queue = name
        self.queue_action = urljoin(self.url, action) if action else None
        self.wait_url = urljoin(self.url, wait_url) if wait_url else None
        self._enqueue, self._enqueue_url = verb, self.url
        self._enqueue_method = verb.get("method", "POST")
        self._after_enqueue, self._rest = self._rest, []
        queue = self.switch.queue(name)
        self._member = queue.join(self, self.switch.clock.now)
        if self._member is None:
            self._after_queue("queue-full", {"QueueResult": "queue-full"})
            return
        self.switch.emit(self, "queue", f"joins {name} at position {queue.position(self._member)}")
        self.switch.caller_waiting(queue)
        if self._member is not None:
            self._wait_turn(None, None)

    def _wait_turn(self, position: int | None, average: int | None) -> None:
        assert self._member is not None
        self._parked = False
        queue, now = self.switch.queues[self.queue or ""], self.switch.clock.now
        self.waited = self._member.waited(now)
        params = queue.wait_params(self._member, now, position, average)
        self.switch.emit(
            self, "queue", f"position {params['QueuePosition']}, waited {self.waited} s"
        )
        self._context, self._then = Context.WAIT, self._park
        if self.wait_url is None:
            self.played.append(DEFAULT_WAIT_MUSIC)
            self.switch.clock.advance(self.switch.durations.play_seconds)
            self._park()
            return
        assert self._enqueue is not None
        self._follow(self.wait_url, params, self._enqueue.get("waitUrlMethod", "POST"))

    def _dequeue(self, result: str) -> tuple[str | None, dict[str, str]]:
        assert self._member is not None
        member, self._member = self._member, None
        queue = self.switch.queues[self.queue or ""]
        queue.members.remove(member)
        self.waited = member.waited(self.switch.clock.now)
        self.wait_url = None
        self._parked = False
        self.gather = None
        return self._enqueue_result(result, queue.sid)

    def _enqueue_result(
        self, result: str, queue_sid: str | None = None
    ) -> tuple[str | None, dict[str, str]]:
        action, self.queue_action = self.queue_action, None
        sid = queue_sid or self.switch.queues[self.queue or ""].sid
        return action, {"QueueResult": result, "QueueSid": sid, "QueueTime": str(self.waited)}

    def _leave_queue(self, result: str) -> None:
        """<Leave> (or a result a test injects): the action is requested at once and the
        call goes on with its TwiML, or with the verbs after the <Enqueue>."""
        self._stop()
        self._after_queue(*self._dequeue(result))

    def _after_queue(self, action: str | None, params: dict[str, str]) -> None:
        self.queue_action = None
        if action:
            self._context, self._then = Context.CALL, self._hang_up_at_end
            self._follow(action, params, self._enqueue_method)
        else:
            self._run_document(self._after_enqueue, self._enqueue_url)

    # --- the end ------------------------------------------------------------------------

    def _stop(self) -> None:
        """Whatever the call is doing now is interrupted."""
        self.gather = None
        self._record = self.record_action = None
        self._rest = []
        if self._dialing is not None:
            dialing, self._dialing = self._dialing, None
            self.dial_action = None
            dialing.abandon()
        if self._participant is not None:
            self._participant.leave(self)
        if self._bridge is not None:
            self._bridge.end(self)

    def _finish(self, status: str, duration: int | None = None) -> None:
        if not self.live:
            return
        self.status = status
        self.hung_up = True
        dialing, self._dialing = self._dialing, None
        if self._member is not None:
            action, params = self._dequeue("hangup")
            if action:  # requested, and its TwiML not run: the caller has gone
                self._fetch(action, params, self._enqueue_method)
        self._stop()
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
