"""A <Dial> in progress, from the dialling call's side: a conference, the first caller of a
queue, or another party rung and screened (twilio.com/docs/voice/twiml/dial)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from telephony.simulator import twiml
from telephony.simulator.twiml import TwimlError, Verb

if TYPE_CHECKING:
    from telephony.simulator.leg import Leg
    from telephony.simulator.queues import Member, TwilioQueue
    from telephony.simulator.switch import Timer

PARTIES = {"Number": "", "Client": "client:", "Sip": ""}
# What each noun dials: a phone number in E.164 (twilio.com/docs/voice/twiml/number), a
# client identifier, a SIP URI ("Dial->SIP: Invalid SIP URI", twilio.com/docs/api/errors/
# 13243). A phone noun given a client: or sip: address is Hotline's mistake.
PARTY_FORMS = {
    "Number": re.compile(r"\+?[0-9]{3,15}"),
    "Client": re.compile(r"(client:)?[^\s:]+"),
    "Sip": re.compile(r"sip:[^\s@]+@[^\s@]+", re.IGNORECASE),
}


def party(noun: Verb) -> str:
    """The address a <Number>, <Client> or <Sip> rings, as the switch keys phones."""
    target = (noun.text or "").strip()
    if not PARTY_FORMS[noun.tag].fullmatch(target):
        raise TwimlError(f"<{noun.tag}>{target}</{noun.tag}> is not what <{noun.tag}> dials")
    prefix = PARTIES[noun.tag]
    return target if target.startswith(prefix) else prefix + target


class Dialing:
    def __init__(self, leg: Leg, verb: Verb, rest: list[Verb], url: str) -> None:
        self.leg = leg
        self.switch = leg.switch
        self.verb = verb
        self.rest = rest  # the verbs after the <Dial>, played when it has no action
        self.url = url
        action = verb.get("action")
        self.action = urljoin(url, action) if action else None
        self.method = verb.get("method", "POST")
        self.timeout = twiml.number(verb, "timeout", 30)
        self.done = False
        self.noun = next(iter(verb), None)
        self.child: Leg | None = None
        self.bridge: Bridge | None = None
        self.queue: TwilioQueue | None = None
        self.timer: Timer | None = None

    def start(self) -> None:
        noun = self.noun
        if noun is None:  # <Dial>+8613800138000</Dial>
            self._ring((self.verb.text or "").strip(), None)
        elif noun.tag == "Conference":
            self.switch.conference((noun.text or "").strip()).join(self.leg, noun, self)
        elif noun.tag == "Queue":
            self._wait_for_caller((noun.text or "").strip())
        elif noun.tag in PARTIES:
            self._ring(party(noun), noun)
        else:
            raise TwimlError(f"<Dial><{noun.tag}> is not modelled by the simulator")

    def complete(self, params: dict[str, str]) -> None:
        """The <Dial> is over; the dialling call hears of it once."""
        if self.done:
            return
        self.done = True
        self._stop_waiting()
        self.leg.dial_done(self, params)

    def abandon(self) -> None:
        """The dialling call was moved elsewhere (a REST update): nothing is reported."""
        self.done = True
        self._stop_waiting()
        self._drop_party()

    def caller_left(self) -> None:
        """The dialling call hung up: the other party goes too; Twilio still requests the
        action, with ``CallStatus=completed``, and runs nothing it returns."""
        self._drop_party()
        self.complete(self._party_result(bridged=self.bridge is not None))

    # --- <Dial><Queue>: the first caller waiting, or the next to join ---------------------

    def _wait_for_caller(self, name: str) -> None:
        queue = self.switch.queues.get(name)
        if queue is None:
            # "If the queue does not exist, Dial will post an error status to its action
            # URL" (twilio.com/docs/voice/twiml/queue).
            self.switch.later(lambda: self.complete({"DialCallStatus": "failed"}))
            return
        self.queue = queue
        if queue.members:
            self.take(queue.members[0])
            return
        queue.dialers.append(self)
        # Nobody to take: the Dial waits until someone joins or its timeout passes.
        self.timer = self.switch.at(
            self.timeout, lambda: self.complete({"DialCallStatus": "no-answer"}), fast=False
        )

    def take(self, member: Member) -> None:
        """Bridge with this queued caller, after the Queue's ``url`` plays to them."""
        self._stop_waiting()
        caller = member.leg
        caller.taken_from_queue()
        assert self.noun is not None and self.queue is not None
        url = self.noun.get("url")
        extra = {
            "QueueSid": self.queue.sid,
            "QueueTime": str(caller.waited),
            "DequeingCallSid": self.leg.call_sid,
        }
        caller.announce(
            urljoin(self.url, url) if url else None, extra, lambda: self._connect(caller, True)
        )

    # --- <Dial><Number|Client|Sip>: ring, screen, connect --------------------------------

    def _ring(self, target: str, noun: Verb | None) -> None:
        callback = noun.get("statusCallback") if noun is not None else None
        events = (noun.get("statusCallbackEvent") if noun is not None else None) or "completed"
        child = self.switch.new_leg(
            caller=self.verb.get("callerId") or self.leg.caller,
            to=target,
            direction="outbound-dial",
            parent=self.leg,
            status_callback=urljoin(self.url, callback) if callback else None,
            status_events=tuple(events.replace(",", " ").split()),
        )
        self.child = child
        url = noun.get("url") if noun is not None else None
        whisper = urljoin(self.url, url) if url else None
        method = noun.get("method", "POST") if noun is not None else "POST"
        child.on_end = self._party_ended
        self.switch.ring(
            child,
            self.timeout,
            answered=lambda: child.whisper(whisper, method, lambda: self._connect(child, False)),
            unanswered=lambda status: self.complete(
                {"DialCallStatus": status, "DialCallSid": child.call_sid, "DialCallDuration": "0"}
            ),
        )

    def _connect(self, other: Leg, from_queue: bool) -> None:
        if self.done or not self.leg.live:
            return
        self.bridge = Bridge(self, other, from_queue)

    def _party_ended(self) -> None:
        """The called party hung up before being connected (a screening whisper that hangs
        up): ``DialCallStatus=completed`` all the same, ``DialBridged=false`` (TWILIO.md)."""
        if self.bridge is None:
            self.switch.later(lambda: self.complete(self._party_result(bridged=False)))

    def _party_result(self, bridged: bool) -> dict[str, str]:
        if self.noun is not None and self.noun.tag == "Conference":
            # No DialCallSid or DialCallDuration after a conference (TWILIO.md).
            return {"DialCallStatus": "completed"}
        party = self.child or (self.bridge.other if self.bridge else None)
        result = {"DialCallStatus": "completed", "DialBridged": str(bridged).lower()}
        if party is not None:
            result |= {"DialCallSid": party.call_sid, "DialCallDuration": str(party.talked())}
        return result

    def _drop_party(self) -> None:
        if self.bridge is not None:
            self.bridge.end(self.leg)
        elif self.child is not None and self.child.status == "ringing":
            self.switch.ring_ended(self.child, "canceled")
        elif self.child is not None:
            self.child.finish()

    def _stop_waiting(self) -> None:
        if self.timer is not None:
            self.timer.cancelled = True
        if self.queue is not None and self in self.queue.dialers:
            self.queue.dialers.remove(self)


class Bridge:
    """Two calls talking: the dialling call and the party it reached."""

    def __init__(self, dialing: Dialing, other: Leg, from_queue: bool) -> None:
        self.dialing = dialing
        self.other = other
        self.from_queue = from_queue
        self.ended = False
        dialing.leg.bridged(self)
        other.bridged(self)

    def partner(self, leg: Leg) -> Leg:
        return self.other if leg is self.dialing.leg else self.dialing.leg

    def end(self, by: Leg) -> None:
        """One side hung up (or was moved away): the other side's TwiML goes on."""
        if self.ended:
            return
        self.ended = True
        dialing, other, switch = self.dialing, self.other, self.dialing.switch
        dialing.leg.bridged(None)
        other.bridged(None)
        result = dialing._party_result(bridged=True)
        switch.later(lambda: dialing.complete(result))
        if self.from_queue:
            switch.later(lambda: other.queue_done("bridged"))
        elif by is not other:
            other.finish()  # the called party's call ends with the bridge
