"""The caller's call as a state machine: for each stage, the webhooks that answer it
and what a request that does not fit hears (see calls.stages)."""

from __future__ import annotations

from callflows import journey
from calls import twiml
from calls.context import CallContext
from calls.stages import Stage, StageTable
from models.calls import CallStage
from queueing import callbacks, conference, waiting
from verification import steps as verification

CALLER_STAGES: StageTable[CallStage, CallContext] = StageTable(
    {
        # Twilio may retry the first request: a call already under way just resumes.
        CallStage.LANGUAGE: Stage(("voice.incoming", "voice.language"), journey.greet),
        CallStage.NUMBER: Stage(("verify.number",), verification.ask_number),
        CallStage.SECRET: Stage(("verify.secret",), verification.ask_secret),
        CallStage.AGENT_OFFER: Stage(("voice.offer",), journey.agent_offer),
        CallStage.MENU: Stage(("voice.menu",), journey.current_menu),
        CallStage.ANSWERED: Stage(("voice.answered",), journey.answered_again),
        # A late or replayed request hears the read-back again: only a fresh 1 acts.
        CallStage.CONFIRM: Stage(("voice.confirm",), journey.ask_confirmation),
        CallStage.QUEUED: Stage(("queueing.left",), journey.back_in_queue),
        # The REST dequeue of an accepting agent, then the Dial action after the talk.
        CallStage.CONNECTED: Stage(
            ("queueing.connect", "queueing.after_agent"), conference.in_room
        ),
        # Hotline's REST update out of the room of an agent who never came.
        CallStage.RETURNING: Stage(("queueing.requeue",), conference.returning),
        # A customer called back, told who calls: 1 to be put through (queueing.callbacks).
        CallStage.CALLBACK: Stage(
            ("queueing.called_back", "queueing.called_back_key"), callbacks.announce
        ),
        # Voicemail or a callback, asked after a queue or after the overflow call ended.
        CallStage.AFTER_QUEUE: Stage(
            ("queueing.after", "queueing.overflow_ended"), waiting.offer_voicemail_or_callback
        ),
        CallStage.VOICEMAIL: Stage(("queueing.voicemail",), waiting.record_voicemail),
        CallStage.RATING: Stage(("queueing.rating",), waiting.ask_rating),
        CallStage.ENDED: Stage((), lambda _: twiml.hang_up()),
    },
    # Twilio's status callbacks (the call's and the agent room's), and the wait
    # documents (the queue's, with its callback key, and the room's), which Twilio
    # asks for again and again while the caller waits.
    anytime={
        "voice.status",
        "queueing.wait",
        "queueing.callback",
        "queueing.room",
        "rooms.event",
    },
)
