"""A model of Twilio for tests, benchmarks and demos: call legs that follow TwiML verb by
verb, queues, conferences, phones that ring, a virtual clock, and a stand-in for the
REST API. It models Twilio, not Hotline, and imports nothing of Hotline's.

    switch = Switch(FlaskTransport(app), auth_token=TOKEN, numbers=hotline_numbers(HOTLINE))
    call = switch.caller("+8613800138000").dial().press("1")
"""

from telephony.simulator.clock import Durations
from telephony.simulator.interpreter import Gathering, Said
from telephony.simulator.leg import Leg
from telephony.simulator.numbers import AGENT_LINE, Number, hotline_numbers
from telephony.simulator.phones import Answer, Busy, Machine, NoAnswer, Person, SimulatedPhone
from telephony.simulator.rest import RecordedRequest, RestStandIn
from telephony.simulator.switch import Event, Switch
from telephony.simulator.transports import FlaskTransport, HttpTransport, Relay, Transport
from telephony.simulator.webhooks import TwilioWouldFail, sign

__all__ = [
    "AGENT_LINE",
    "Answer",
    "Busy",
    "Durations",
    "Event",
    "FlaskTransport",
    "Gathering",
    "HttpTransport",
    "Leg",
    "Machine",
    "NoAnswer",
    "Number",
    "Person",
    "RecordedRequest",
    "RestStandIn",
    "Said",
    "SimulatedPhone",
    "Switch",
    "Relay",
    "Transport",
    "TwilioWouldFail",
    "hotline_numbers",
    "sign",
]
