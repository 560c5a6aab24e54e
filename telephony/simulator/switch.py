"""The switch: one simulated Twilio account, holding every call leg, queue and conference,
the numbers it answers for, the phones it rings and a virtual clock.

It runs on the thread of whoever acts (a test, the ``simulate`` command). A
person's action is one *turn*: the action's webhooks, then everything that
follows from it without anyone acting — other legs' Dial actions, REST requests
Hotline made meanwhile (recorded by the REST stand-in on its own thread and
applied here only once no webhook is in flight), phones that answer or ring out.
Webhooks are sent with the switch unlocked, so callers acting on several
threads at once reach Hotline at once, as on the real network.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin

from telephony.simulator.clock import Clock, Durations
from telephony.simulator.conferences import Conference
from telephony.simulator.ids import Sids
from telephony.simulator.interpreter import Said
from telephony.simulator.leg import Leg
from telephony.simulator.numbers import Number
from telephony.simulator.phones import Answer, Busy, Machine, Message, Person, SimulatedPhone
from telephony.simulator.queues import TwilioQueue
from telephony.simulator.webhooks import Reply, TwilioWouldFail, problem, sign

if TYPE_CHECKING:
    from telephony.simulator.transports import Transport

DEFAULT_CALLER = "+8613800138000"


@dataclass(frozen=True)
class Event:
    """Something a person on the line would notice; the ``simulate`` command prints these."""

    leg: Leg | None
    kind: str  # say, play, keys, ring, queue, conference, sms, end, error
    text: str
    said: Said | None = None
    phone: str | None = None  # the number an event without a leg reached (an SMS's)


@dataclass(order=True)
class Timer:
    deadline: float
    order: int
    job: Callable[[], None] = field(compare=False)
    # A fast timer is one nobody can pre-empt (a phone set to ring out): when nothing
    # else is left to do, the clock jumps to it. Slow ones wait for time to pass.
    fast: bool = field(compare=False, default=True)
    cancelled: bool = field(compare=False, default=False)


@dataclass
class Ring:
    answered: Callable[[], None]
    unanswered: Callable[[str], None]
    timer: Timer | None = None


class Switch:
    def __init__(
        self,
        transport: Transport | None = None,
        *,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "",
        numbers: Sequence[Number] = (),
        strict: bool = True,
        durations: Durations | None = None,
        run: int | None = None,
    ) -> None:
        self.transport = transport
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.numbers = {number.number: number for number in numbers}
        # Strict (tests): where Twilio would log an error against Hotline, raise instead.
        self.strict = strict
        self.durations = durations or Durations()
        self.clock = Clock()
        self.sids = Sids(run)  # a fixed run number repeats a run's SIDs exactly
        self.legs: dict[str, Leg] = {}
        self.queues: dict[str, TwilioQueue] = {}
        self.conferences: dict[str, Conference] = {}
        self.phones: dict[str, SimulatedPhone] = {}
        self.errors: list[str] = []
        # Audio others host, by URL: its length in seconds, or None where Twilio cannot
        # fetch it. Unlisted audio lasts ``durations.play_seconds``; Hotline's own is
        # fetched, and its length read.
        self.media: dict[str, float | None] = {}
        # What <Record> recorded, by RecordingSid: its length in seconds. The REST
        # stand-in serves each as WAV at its RecordingUrl.
        self.recordings: dict[str, int] = {}
        self.warnings: list[str] = []  # what Twilio logs while the call goes on
        self.listeners: list[Callable[[Event], None]] = []
        self.webhooks_sent = 0
        self._lock = threading.RLock()
        self._local = threading.local()
        self._jobs: deque[Callable[[], None]] = deque()
        self._timers: list[Timer] = []
        self._timer_order = itertools.count()
        self._rings: dict[str, Ring] = {}
        self._effects: list[Callable[[], None]] = []
        self._effects_lock = threading.Lock()
        self._in_flight = 0
        self._last_rest_call = -1.0

    # --- people and their calls ----------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.transport.base_url if self.transport else "http://localhost"

    def phone(self, number: str) -> SimulatedPhone:
        if number not in self.phones:
            self.phones[number] = SimulatedPhone(number)
        return self.phones[number]

    def caller(
        self, caller: str = DEFAULT_CALLER, to: str | None = None, base_url: str | None = None
    ) -> Leg:
        """A call from ``caller`` to ``to`` (the first number by default), not dialled yet."""
        to = to or next(iter(self.numbers), "")
        number = self.numbers.get(to)
        base = (base_url or self.base_url).rstrip("/")
        callback = number.status_callback if number else None
        return self.new_leg(
            caller=caller,
            to=to,
            direction="inbound",
            base_url=base,
            status_callback=urljoin(base + "/", callback) if callback else None,
            person=caller,
        )

    def new_leg(
        self,
        *,
        caller: str,
        to: str,
        direction: str,
        base_url: str | None = None,
        parent: Leg | None = None,
        status_callback: str | None = None,
        status_events: tuple[str, ...] = ("completed",),
        person: str | None = None,
        call_sid: str | None = None,
    ) -> Leg:
        """A leg; ``person`` is whose phone it is (the called number unless said)."""
        phone = self.phone(person or to)
        leg = Leg(
            self,
            call_sid=call_sid or self.sids.mint("CA"),
            caller=caller,
            to=to,
            direction=direction,
            base_url=(base_url or (parent.base_url if parent else self.base_url)).rstrip("/"),
            phone=phone,
            parent_call_sid=parent.call_sid if parent else None,
            status_callback=status_callback,
            status_events=status_events,
        )
        self.legs[leg.call_sid] = leg
        phone.legs.append(leg)
        return leg

    def number_for(self, to: str, line: str | None) -> Number:
        """The number called: the one whose voice URL is ``line``, else ``to``."""
        for number in self.numbers.values():
            if line is not None and number.voice_url == line:
                return number
        if line is None and to in self.numbers:
            return self.numbers[to]
        return Number(to, line or "/")

    def queue(self, name: str) -> TwilioQueue:
        if name not in self.queues:
            self.queues[name] = TwilioQueue(name, self.sids.mint("QU"))
        return self.queues[name]

    def queue_by_sid(self, sid: str) -> TwilioQueue | None:
        return next((q for q in self.queues.values() if q.sid == sid), None)

    def conference(self, name: str) -> Conference:
        if name not in self.conferences:
            self.conferences[name] = Conference(self, name, self.sids.mint("CF"))
        return self.conferences[name]

    def caller_waiting(self, queue: TwilioQueue) -> None:
        """A <Dial><Queue> waiting on an empty queue takes the caller who just joined."""
        if queue.dialers and queue.members:
            queue.dialers[0].take(queue.members[0])

    def wait(self, seconds: float) -> None:
        """Let ``seconds`` pass with nobody acting: what is due meanwhile (a wait
        document requested again, say) happens at its own time, in order."""
        with self.turn():
            self.at(seconds, lambda: None)

    # --- ringing ------------------------------------------------------------------------

    def ring(
        self,
        leg: Leg,
        timeout: float,
        answered: Callable[[], None],
        unanswered: Callable[[str], None],
    ) -> None:
        """Ring ``leg``'s phone for up to ``timeout`` seconds; it does what its behaviour says."""
        leg.status = "ringing"
        leg.post_status("ringing")
        self.emit(leg, "ring", f"{leg.to} rings (from {leg.caller})")
        ring = self._rings[leg.call_sid] = Ring(answered, unanswered)
        behaviour = leg.phone.behaviour
        if isinstance(behaviour, Busy) or leg.phone.busy_for(leg):
            self.later(lambda: self.ring_ended(leg, "busy"))
            return
        after = getattr(behaviour, "after", None)
        after = self.durations.ring_seconds if after is None else after
        if isinstance(behaviour, Answer | Machine) and after < timeout:
            ring.timer = self.at(after, lambda: self.answered(leg))
        else:  # a Person decides while time passes; other phones ring out
            no_answer = lambda: self.ring_ended(leg, "no-answer")  # noqa: E731
            ring.timer = self.at(timeout, no_answer, fast=not isinstance(behaviour, Person))

    def answered(self, leg: Leg) -> None:
        ring = self._rings.pop(leg.call_sid, None)
        assert ring is not None, f"{leg.to} is not ringing"
        if ring.timer is not None:
            ring.timer.cancelled = True
        self.emit(leg, "ring", f"{leg.to} answers")
        ring.answered()

    def ring_ended(self, leg: Leg, status: str) -> None:
        ring = self._rings.pop(leg.call_sid, None)
        if ring is None:
            return
        if ring.timer is not None:
            ring.timer.cancelled = True
        leg.ring_ended(status)
        ring.unanswered(status)

    # --- what Hotline's REST requests do (applied by the stand-in through apply_later) ---

    def place_call(self, sid: str, form: dict[str, str], events: list[str]) -> None:
        """``Calls.json`` create: ring ``To``; answered, the call fetches ``Url`` (or runs
        ``Twiml``) as ``outbound-api`` (twilio.com/docs/voice/api/call-resource)."""
        # Calls created by REST are paced, one a second (TWILIO.md).
        self.clock.advance_to(self._last_rest_call + 1)
        self._last_rest_call = self.clock.now
        leg = self.new_leg(
            call_sid=sid,
            caller=form.get("From", ""),
            to=form["To"],
            direction="outbound-api",
            status_callback=form.get("StatusCallback"),
            status_events=tuple(events) or ("completed",),
        )
        leg.url = form.get("Url") or leg.url
        leg.status_method = form.get("StatusCallbackMethod", "POST")
        leg.post_status("initiated")
        method, twiml = form.get("Method", "POST"), form.get("Twiml")
        self.ring(
            leg,
            float(form.get("Timeout") or 60),
            answered=lambda: leg.answered(form.get("Url"), method, twiml),
            unanswered=lambda status: None,
        )

    def update_call(self, leg: Leg, form: dict[str, str]) -> None:
        """``Calls/{Sid}.json`` update: end the call, or move it to new TwiML."""
        status = form.get("Status")
        if status in ("completed", "canceled"):
            if leg.status == "ringing" and leg.answered_at is None:
                self.ring_ended(leg, "canceled")
            elif leg.live and status == "completed":
                leg.finish("completed")
        elif leg.live and (form.get("Url") or form.get("Twiml")):
            leg.move_to(form.get("Url", ""), form.get("Method", "POST"), form.get("Twiml"))

    def deliver_sms(self, message: Message) -> None:
        self.phone(message.to).messages.append(message)
        text = f"SMS to {message.to} from {message.sender}: {message.body}"
        self.emit(None, "sms", text, phone=message.to)

    def apply_later(self, effect: Callable[[], None]) -> None:
        """From the REST stand-in's thread: ``effect`` runs on the switch's thread once no
        webhook is in flight (the request that caused it has returned)."""
        with self._effects_lock:
            self._effects.append(effect)

    # --- the machinery ----------------------------------------------------------------

    @contextmanager
    def turn(self) -> Iterator[None]:
        """One action and everything that follows from it."""
        with self._lock:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            try:
                yield
                if depth == 0:
                    self._settle()
            finally:
                self._local.depth = depth

    def later(self, job: Callable[[], None]) -> None:
        """Run ``job`` once the current step is done (within this turn)."""
        self._jobs.append(job)

    def at(self, delay: float, job: Callable[[], None], *, fast: bool = True) -> Timer:
        timer = Timer(self.clock.now + delay, next(self._timer_order), job, fast)
        self._timers.append(timer)
        return timer

    def fetch(self, url: str, params: dict[str, str], method: str = "POST") -> str | None:
        """A request that expects TwiML back: the body, or None when Twilio could not use
        the reply (the error is recorded, or raised in strict mode)."""
        reply = self._send(url, params, method)
        issue = problem(reply, twiml=True)
        if issue is not None:
            self.fail(issue)
            return None
        return reply.body

    def notify(self, url: str, params: dict[str, str], method: str = "POST") -> None:
        """A status callback: only a 2xx is asked of it; its body is ignored."""
        issue = problem(self._send(url, params, method), twiml=False)
        if issue is not None:
            self.fail(issue)

    def media_seconds(self, url: str) -> float | None:
        """How long one play of ``url`` lasts; None when Twilio could not play it."""
        if url not in self.media:
            self.media[url] = self._fetch_media(url)
        seconds = self.media[url]
        if seconds is None:
            self.warnings.append(f"11200 HTTP retrieval failure: cannot play {url}")
            self.emit(None, "error", f"cannot play {url}: skipped")
        return seconds

    def _fetch_media(self, url: str) -> float | None:
        if self.transport is None or not url.startswith(self.base_url + "/"):
            return self.durations.play_seconds
        media = self.transport.media(url)
        if not media.playable():
            # Hotline's own audio failing is Hotline's fault: in strict mode, say so.
            self.fail(f"11200/13420 {url} is not audio Twilio can play ({media.status})")
            return None
        return media.seconds() or self.durations.play_seconds

    def fail(self, message: str) -> None:
        self.errors.append(message)
        self.emit(None, "error", message)
        if self.strict:
            raise TwilioWouldFail(message)

    def emit(
        self,
        leg: Leg | None,
        kind: str,
        text: str,
        said: Said | None = None,
        phone: str | None = None,
    ) -> None:
        event = Event(leg, kind, text, said, phone)
        for listener in self.listeners:
            listener(event)

    def _send(self, url: str, params: dict[str, str], method: str) -> Reply:
        if self.transport is None:
            return Reply(url, None, error="the switch has no transport to reach Hotline")
        data = params
        if method == "GET":  # parameters go in the query string, which is then signed
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
            data = {}
        signature = sign(self.auth_token, url, data)
        self.webhooks_sent += 1
        with self._effects_lock:
            self._in_flight += 1
        owned = getattr(self._local, "depth", 0) == 1
        if owned:  # let other callers act while this webhook is in flight
            self._lock.release()
        started = time.monotonic()
        try:
            reply = self.transport.send(method, url, data, signature)
            # A transport may report a slower network than this process saw.
            return dataclasses.replace(
                reply, seconds=max(reply.seconds, time.monotonic() - started)
            )
        finally:
            if owned:
                self._lock.acquire()
            with self._effects_lock:
                self._in_flight -= 1

    def _settle(self) -> None:
        while True:
            if self._jobs:
                self._jobs.popleft()()
                continue
            with self._effects_lock:
                if self._effects and self._in_flight == 0:
                    self._jobs.extend(self._effects)
                    self._effects.clear()
                    continue
            self._timers = [timer for timer in self._timers if not timer.cancelled]
            if not self._timers:
                return
            first = min(self._timers)
            # Time moves on only towards a fast timer; slow ones fire once it has passed them.
            if first.deadline > self.clock.now and not any(t.fast for t in self._timers):
                return
            self._timers.remove(first)
            self.clock.advance_to(first.deadline)
            first.job()
