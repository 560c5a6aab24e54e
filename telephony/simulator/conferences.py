"""Conferences: rooms by name, their participants, their start and end, and the status
callbacks they post (twilio.com/docs/voice/twiml/conference; TWILIO.md, "Conferences")."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from telephony.simulator import twiml
from telephony.simulator.twiml import Verb

if TYPE_CHECKING:
    from telephony.simulator.dialing import Dialing
    from telephony.simulator.leg import Leg
    from telephony.simulator.switch import Switch

EVENTS = {
    "start": "conference-start",
    "end": "conference-end",
    "join": "participant-join",
    "leave": "participant-leave",
}
# <Conference> without waitUrl: Twilio's hold music plays to a participant alone.
DEFAULT_WAIT_MUSIC = "http://twimlets.com/holdmusic?Bucket=com.twilio.music.classical"


@dataclass
class Participant:
    leg: Leg
    dialing: Dialing
    start_on_enter: bool
    end_on_exit: bool


class Conference:
    def __init__(self, switch: Switch, name: str, sid: str) -> None:
        self.switch = switch
        self.name = name
        self.sid = sid
        self.participants: list[Participant] = []
        self.started = False
        self.ended = False
        # Conference events go to the statusCallback of the first participant that
        # names one (an assumption: Twilio's page does not say whose is used).
        self.callback: str | None = None
        self.events: set[str] = set()
        self._sequence = 0

    def join(self, leg: Leg, noun: Verb, dialing: Dialing) -> None:
        if self.callback is None and noun.get("statusCallback"):
            self.callback = urljoin(leg.url, noun.get("statusCallback", ""))
            wanted = noun.get("statusCallbackEvent", "start end").replace(",", " ").split()
            self.events = {EVENTS[name] for name in wanted if name in EVENTS}
        participant = Participant(
            leg,
            dialing,
            start_on_enter=twiml.flag(noun, "startConferenceOnEnter", True),
            end_on_exit=twiml.flag(noun, "endConferenceOnExit", False),
        )
        self.participants.append(participant)
        leg.joined(self)
        leg.conference = self.name
        self.switch.emit(leg, "conference", f"joins conference {self.name}")
        self._post("participant-join", participant)
        # It starts once two are in and one of them starts it on entering; until then a
        # participant alone hears the waitUrl (TWILIO.md; twilio.com/docs/voice/twiml/conference).
        if len(self.participants) >= 2 and any(p.start_on_enter for p in self.participants):
            if not self.started:
                self.started = True
                self._post("conference-start")
        elif not self.started:
            wait_url = noun.get("waitUrl")
            if wait_url is None:
                leg.played.append(DEFAULT_WAIT_MUSIC)
            elif wait_url:  # "" is silence, for as long as the participant is alone
                url = urljoin(leg.url, wait_url)
                self._wait_turn(participant, url, noun.get("waitMethod", "POST"))

    def _wait_turn(self, participant: Participant, url: str, method: str) -> None:
        """One turn of a lone participant's waitUrl document; Twilio requests it again
        when it ends, for as long as the participant is alone and the conference has not
        started (twilio.com/docs/voice/twiml/conference, waitUrl). The next turn comes
        as time passes: an empty document still takes a second."""
        if self.started or self.ended or participant not in self.participants:
            return
        seconds = participant.leg.conference_wait(url, method)
        again = partial(self._wait_turn, participant, url, method)
        self.switch.at(max(seconds, 1.0), again, fast=False)

    def leave(self, leg: Leg) -> None:
        participant = next((p for p in self.participants if p.leg is leg), None)
        if participant is None:
            return
        self.participants.remove(participant)
        leg.joined(None)
        self._post("participant-leave", participant)
        if participant.end_on_exit and self.participants:
            self.end("participant-with-end-conference-on-exit-left", leg.call_sid)
        elif not self.participants:
            self.end("last-participant-left", leg.call_sid)

    def end(self, reason: str, ended_by: str | None) -> None:
        """Every participant still in drops out and its <Dial> completes."""
        self.ended = True
        self.switch.conferences.pop(self.name, None)
        for participant in list(self.participants):
            self.participants.remove(participant)
            participant.leg.joined(None)
            self._post("participant-leave", participant)
            self.switch.later(
                partial(participant.dialing.complete, {"DialCallStatus": "completed"})
            )
        if self.started:
            extra = {"ReasonConferenceEnded": reason}
            if ended_by:
                extra["CallSidEndingConference"] = ended_by
            self._post("conference-end", None, extra)

    def _post(
        self,
        event: str,
        participant: Participant | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        if self.callback is None or event not in self.events:
            return
        self._sequence += 1
        params = {
            "AccountSid": self.switch.account_sid,
            "ConferenceSid": self.sid,
            "FriendlyName": self.name,
            "StatusCallbackEvent": event,
            "SequenceNumber": str(self._sequence),
            "Timestamp": self.switch.clock.timestamp(),
        } | (extra or {})
        if participant is not None:
            params |= {
                "CallSid": participant.leg.call_sid,
                "Muted": "false",
                "Hold": "false",
                "StartConferenceOnEnter": str(participant.start_on_enter).lower(),
                "EndConferenceOnExit": str(participant.end_on_exit).lower(),
            }
        self.switch.notify(self.callback, params)
