"""Typed models by domain; importing this package registers every table on ``Base``."""

from models.agents import Agent, AgentCall, AgentPass, AgentStatusChange
from models.base import Base
from models.calls import Call, CallEvent
from models.customers import Account, Customer, Transaction
from models.operators import Operator
from models.queueing import CallbackAttempt, CallbackRequest, Voicemail
from models.tickets import RefundTicket
from models.verification import OneTimeCode, VerificationAttempt, VerificationGuard

__all__ = [
    "Account",
    "Agent",
    "AgentCall",
    "AgentPass",
    "AgentStatusChange",
    "Base",
    "Call",
    "CallbackAttempt",
    "CallbackRequest",
    "CallEvent",
    "Customer",
    "OneTimeCode",
    "Operator",
    "RefundTicket",
    "Transaction",
    "VerificationAttempt",
    "VerificationGuard",
    "Voicemail",
]
