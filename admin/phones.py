"""The browser phones of this server process (/simulator): each one a caller's call, the
agent it plays and the transcript of both, kept under an id in the operator's session.

All of them share one simulated Twilio account, as one Twilio account carries every
call: an agent played on one phone may take the caller of another, and Hotline's REST
requests (SMS codes, agent rings, dequeues) reach the one REST stand-in on
TWILIO_API_BASE_URL's loopback port. This is Twilio's model, not Hotline's state, so it
lives in the process: the browser phone needs one server process. A phone left alone
for ``IDLE_SECONDS`` hangs up and is dropped (a thread looks while the account is open,
so a closed tab leaves no caller waiting in Hotline's queue); with none left the account
closes, ending every call it still carries, and frees the port (for ``./dev call``).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from logs import mask_numbers
from telephony.simulator import Event, Leg, RestStandIn, Switch, Transport
from telephony.simulator.line import Account, account, listen, over_http, rest_address
from telephony.simulator.steps import agent_takes_the_caller, keyed, play_agent

IDLE_SECONDS = 300.0
SWEEP_SECONDS = 30.0  # how often the account, while open, looks for idle phones
# Twilio's <Say> languages as the browser's speech synthesis names them (BCP 47).
SPEECH_LANGUAGES = {"cmn-CN": "zh-CN", "en-US": "en-US"}
# Four or more keys at once are a PIN, a code or a phone number: shown as dots.
SECRET_KEYS = re.compile(r"[0-9*]{4,}")


class Line(TypedDict):
    """One line of a browser phone's transcript."""

    who: str  # caller, agent, or "" for what Twilio would log
    kind: str  # say, keys, play, ring, queue, conference, sms, end, error
    text: str
    language: str | None  # Twilio's, on a said line (cmn-CN)
    voice: str | None  # Twilio's (Polly.Zhiyu)
    speak: str | None  # the language the browser speaks it in (zh-CN), if any


@dataclass(frozen=True)
class AgentPhone:
    """Where an agent calls the agent line from, and where Hotline rings them."""

    phone: str
    endpoint: str | None = None

    @property
    def numbers(self) -> tuple[str, ...]:
        return (self.phone, self.endpoint) if self.endpoint else (self.phone,)


class NotReady(Exception):
    """The browser phone cannot do this now; the message says why."""


class BrowserPhone:
    """One operator's phone. ``lock`` lets one step at a time act on it."""

    def __init__(self, switch: Switch, now: float) -> None:
        self.switch = switch
        self.lock = threading.Lock()
        self.call: Leg | None = None
        self.agent: AgentPhone | None = None
        self.used = now
        self._lines: list[Line] = []
        self._sent = 0
        self._lines_lock = threading.Lock()  # events arrive on other phones' threads too

    # --- what the operator does --------------------------------------------------------

    def dial(self, caller: str) -> None:
        """A new call from ``caller`` to the hotline; a call still up hangs up first."""
        self.hang_up()
        self.call = self.switch.caller(caller)
        self.call.dial()

    def step(self, who: str, step: str) -> None:
        """One step of the caller or of the agent played; StepError when nobody listens."""
        keyed(self._caller() if who == "caller" else self._agent_call(), step)

    def pick_up(self, agent: AgentPhone, pin: str | None) -> None:
        """The agent's ringing phone answered, or a call to the agent line with the PIN."""
        self._play(agent)
        leg = self.switch.phone(self._rung_at(agent)).call
        if leg is not None and leg.status == "in-progress":
            # It answered before anyone watched it (a phone that picks up itself).
            for said in leg.heard:
                self._add(said_line("agent", "say", said.text, said.language, said.voice))
        play_agent(self.switch, self._rung_at(agent), pin)

    def take_the_caller(self, agent: AgentPhone, pin: str) -> None:
        """The agent takes the waiting caller, accepts, talks, hangs up."""
        self._play(agent)
        agent_takes_the_caller(self.switch, self._rung_at(agent), pin)

    def hang_up(self) -> None:
        """Every call of this phone ends."""
        legs = [self.call] + (
            [self.switch.phone(n).call for n in self.agent.numbers] if self.agent else []
        )
        for leg in legs:
            if leg is not None and leg.live:
                leg.hang_up()

    # --- what the operator sees --------------------------------------------------------

    def news(self) -> list[Line]:
        """The transcript's lines since the last time it was asked."""
        with self._lines_lock:
            new, self._sent = self._lines[self._sent :], len(self._lines)
        return new

    def state(self) -> dict[str, bool]:
        call, agent = self.call, self._agent_leg()
        return {
            "caller_live": call is not None and call.live,
            "caller_queued": call is not None and call.queued,
            "agent_live": agent is not None,
        }

    def heard(self, event: Event) -> None:
        """The switch's listener: the events of this phone's calls become its lines."""
        who = self._who(event)
        if who is None:
            return
        said = event.said
        if said is not None:
            self._add(said_line(who, event.kind, event.text, said.language, said.voice))
        elif event.kind == "keys":
            self._add(said_line(who, "keys", SECRET_KEYS.sub(_dots, event.text)))
        else:
            self._add(said_line(who, event.kind, mask_numbers(event.text)))

    # --- inside ---------------------------------------------------------------------

    def _who(self, event: Event) -> str | None:
        if event.leg is not None:
            if event.leg is self.call:
                return "caller"
            playing = self.agent is not None and event.leg.phone.number in self.agent.numbers
            return "agent" if playing else None
        if event.phone is not None:  # an SMS: only the caller's phone shows it
            return "caller" if self.call is not None and event.phone == self.call.caller else None
        return ""  # what Twilio would log against Hotline: every phone shows it

    def _add(self, line: Line) -> None:
        with self._lines_lock:
            self._lines.append(line)

    def _play(self, agent: AgentPhone) -> None:
        if self.agent != agent:
            if self._agent_leg() is not None:
                raise NotReady("hang up the agent you play before playing another")
            self.agent = agent

    def _rung_at(self, agent: AgentPhone) -> str:
        """The agent's ringing or answered endpoint, else their phone."""
        if agent.endpoint and self.switch.phone(agent.endpoint).call is not None:
            return agent.endpoint
        return agent.phone

    def _caller(self) -> Leg:
        if self.call is None or not self.call.live:
            raise NotReady("no call: dial first")
        return self.call

    def _agent_leg(self) -> Leg | None:
        if self.agent is None:
            return None
        return next(
            (leg for n in self.agent.numbers if (leg := self.switch.phone(n).call) is not None),
            None,
        )

    def _agent_call(self) -> Leg:
        leg = self._agent_leg()
        if leg is None:
            raise NotReady("the agent is on no call: pick up or call in first")
        return leg


def said_line(
    who: str, kind: str, text: str, language: str | None = None, voice: str | None = None
) -> Line:
    speak = SPEECH_LANGUAGES.get(language or "")
    return Line(who=who, kind=kind, text=text, language=language, voice=voice, speak=speak)


def _dots(keys: re.Match[str]) -> str:
    return "•" * len(keys.group(0))


class Phones:
    """The browser phones of this process, on one simulated account opened with the first.
    ``transport`` reaches the server (over HTTP; tests may go in-process); ``stand_in``,
    when given, is a REST stand-in already listening (tests), used instead of starting
    one; ``clock`` tells idle phones (seconds, monotonic)."""

    def __init__(
        self,
        transport: Callable[[Account, str], Transport] = over_http,
        stand_in: RestStandIn | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport, self._given, self._clock = transport, stand_in, clock
        self._lock = threading.RLock()
        self._switch: Switch | None = None
        self._stand_in: RestStandIn | None = None
        self._closed = threading.Event()
        self._phones: dict[str, BrowserPhone] = {}

    def get(self, key: object) -> BrowserPhone | None:
        """The phone kept under ``key``, if it is still kept (idle ones go first)."""
        self.sweep()
        with self._lock:
            found = self._phones.get(key) if isinstance(key, str) else None
            if found is not None:
                found.used = self._clock()
            return found

    def open(self, settings: Account, server: str) -> tuple[str, BrowserPhone]:
        """A new phone, and its key; the account is opened first if need be (reaching the
        Hotline at ``server``). CannotListen when the REST stand-in cannot take its port."""
        self.sweep()
        with self._lock:
            if self._switch is None:
                address = rest_address(settings)
                if address is None:
                    raise NotReady("TWILIO_API_BASE_URL is not a loopback address")
                switch = account(settings, self._transport(settings, server))
                if self._given is None:
                    self._stand_in = listen(switch, address)
                else:
                    self._given.connect(switch)
                    self._stand_in = self._given
                switch.listeners.append(self._tell)
                self._switch, self._closed = switch, threading.Event()
                threading.Thread(target=self._sweeping, args=(self._closed,), daemon=True).start()
            key = secrets.token_urlsafe(16)
            phone = self._phones[key] = BrowserPhone(self._switch, self._clock())
            return key, phone

    def sweep(self) -> None:
        """Phones idle for IDLE_SECONDS hang up and go; with none left, the account closes."""
        with self._lock:
            now = self._clock()
            for key, phone in list(self._phones.items()):
                if now - phone.used > IDLE_SECONDS and phone.lock.acquire(blocking=False):
                    try:
                        del self._phones[key]
                        phone.hang_up()
                    finally:
                        phone.lock.release()
            if not self._phones:
                self.close()

    def close(self) -> None:
        """Every phone goes and the account closes: its calls end, its port is free."""
        with self._lock:
            self._phones.clear()
            switch, self._switch = self._switch, None
            if switch is None:
                return
            self._closed.set()
            for leg in list(switch.legs.values()):
                if leg.live:
                    leg.hang_up()
            if self._stand_in is not None and self._stand_in is not self._given:
                self._stand_in.stop()
            self._stand_in = None

    def _sweeping(self, closed: threading.Event) -> None:
        while not closed.wait(SWEEP_SECONDS):
            self.sweep()

    def _tell(self, event: Event) -> None:
        for phone in list(self._phones.values()):
            phone.heard(event)
