"""A caller in a queue, from the caller's side: the <Enqueue> that put it there, its turns
of wait music, and how it leaves — with <Leave>, taken by a <Dial><Queue>, moved, or
hanging up — and what the Enqueue action hears of it (twilio.com/docs/voice/twiml/enqueue)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin

from telephony.simulator.twiml import Context, TwimlError, Verb

if TYPE_CHECKING:
    from telephony.simulator.interpreter import Interpreter
    from telephony.simulator.leg import Leg
    from telephony.simulator.queues import Member

# Enqueue without waitUrl: Twilio's own classical playlist (twilio.com/docs/api/twiml/enqueue).
DEFAULT_WAIT_MUSIC = "http://s3.amazonaws.com/com.twilio.sounds.music/index.xml"


class Waiting:
    def __init__(self, leg: Leg, interpreter: Interpreter) -> None:
        self.leg = leg
        self.switch = leg.switch
        self.interpreter = interpreter
        self.member: Member | None = None
        self.parked = False  # a wait document has ended; the next turn waits for time
        self._enqueue: Verb | None = None
        self._enqueue_url = ""
        self._method = "POST"  # the Enqueue action's
        self._after: list[Verb] = []  # the verbs after the <Enqueue>

    def join(self, verb: Verb) -> None:
        leg, name = self.leg, (verb.text or "").strip()
        if len(name) > 64:
            raise TwimlError(f"queue name longer than 64 characters: {name!r}")
        action, wait_url = verb.get("action"), verb.get("waitUrl")
        leg.queue = name
        leg.queue_action = urljoin(leg.url, action) if action else None
        leg.wait_url = urljoin(leg.url, wait_url) if wait_url else None
        self._enqueue, self._enqueue_url = verb, leg.url
        self._method = verb.get("method", "POST")
        self._after, self.interpreter.rest = self.interpreter.rest, []
        queue = self.switch.queue(name)
        self.member = queue.join(leg, self.switch.clock.now)
        if self.member is None:
            self._after_queue("queue-full", {"QueueResult": "queue-full"})
            return
        self.switch.emit(leg, "queue", f"joins {name} at position {queue.position(self.member)}")
        self.switch.caller_waiting(queue)
        if self.member is not None:
            self.turn(None, None)

    def turn(self, position: int | None, average: int | None) -> None:
        """One turn of the wait document, told this position and average (the queue's
        own when None)."""
        assert self.member is not None
        leg = self.leg
        self.parked = False
        queue, now = self.switch.queues[leg.queue or ""], self.switch.clock.now
        leg.waited = self.member.waited(now)
        params = queue.wait_params(self.member, now, position, average)
        self.switch.emit(leg, "queue", f"position {params['QueuePosition']}, waited {leg.waited} s")
        self.interpreter.enter(Context.WAIT, self._park)
        if leg.wait_url is None:
            leg.played.append(DEFAULT_WAIT_MUSIC)
            self.switch.clock.advance(self.switch.durations.play_seconds)
            self._park()
            return
        assert self._enqueue is not None
        self.interpreter.follow(leg.wait_url, params, self._enqueue.get("waitUrlMethod", "POST"))

    def leave(self, result: str) -> None:
        """<Leave> (or a result a test injects): the action is requested at once and the
        call goes on with its TwiML, or with the verbs after the <Enqueue>."""
        self.interpreter.stop()
        self._after_queue(*self._dequeue(result))

    def gone(self, result: str) -> None:
        """The call left the queue another way (moved, hung up): the Enqueue action hears
        ``result``, and its TwiML is not run."""
        if self.member is None:
            return
        action, params = self._dequeue(result)
        if action:
            self.interpreter.fetch(action, params, self._method)

    def taken(self) -> Member:
        """A <Dial><Queue> takes this caller; the Enqueue action waits for the bridge's end."""
        assert self.member is not None
        member, self.member = self.member, None
        self.interpreter.stop()
        self.switch.queues[self.leg.queue or ""].members.remove(member)
        self.leg.waited = member.waited(self.switch.clock.now)
        self.leg.wait_url = None
        return member

    def bridge_ended(self, result: str) -> None:
        """The bridge a <Dial><Queue> made with this caller ended: the Enqueue action hears
        ``result`` only now."""
        self.interpreter.enter(Context.CALL)
        action, params = self._result(result)
        if action and self.leg.live:
            self.interpreter.follow(action, params, self._method)
        elif action:
            self.interpreter.fetch(action, params, self._method)
        elif self.leg.live:
            self.interpreter.play(self._after, self._enqueue_url)

    def _park(self) -> None:
        # A wait document that ends is requested again once it has played (TWILIO.md):
        # the next turn comes with hold(), when the test lets that time pass.
        self.parked = True

    def _dequeue(self, result: str) -> tuple[str | None, dict[str, str]]:
        assert self.member is not None
        member, self.member = self.member, None
        queue = self.switch.queues[self.leg.queue or ""]
        queue.members.remove(member)
        self.leg.waited = member.waited(self.switch.clock.now)
        self.leg.wait_url = None
        self.parked = False
        self.leg.gather = None
        return self._result(result, queue.sid)

    def _result(
        self, result: str, queue_sid: str | None = None
    ) -> tuple[str | None, dict[str, str]]:
        leg = self.leg
        action, leg.queue_action = leg.queue_action, None
        sid = queue_sid or self.switch.queues[leg.queue or ""].sid
        return action, {"QueueResult": result, "QueueSid": sid, "QueueTime": str(leg.waited)}

    def _after_queue(self, action: str | None, params: dict[str, str]) -> None:
        self.leg.queue_action = None
        if action:
            self.interpreter.enter(Context.CALL)
            self.interpreter.follow(action, params, self._method)
        else:
            self.interpreter.play(self._after, self._enqueue_url)
