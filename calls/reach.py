"""Where an agent is reached, and which agent a call Hotline placed has reached.

An agent's ``endpoint`` (a phone number, ``client:`` or ``sip:``; README "Callers in
mainland China") is where Hotline rings them; without one, their ``phone``. The phone
number alone identifies an agent who calls the agent line.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from models import Agent
from telephony.endpoints import Endpoint, Phone, Sip, parse_endpoint


def agent_endpoint(agent: Agent) -> Endpoint:
    """Where ``agent`` is rung. Stored as ``telephony.endpoints`` writes them (phone
    numbers with their +), so this parses them back; ValueError for anything else."""
    return parse_endpoint(agent.endpoint or agent.phone, None)


# Who is reached where (``rung_agent``) and who calls from where (``calling_agent``).
_AT_ENDPOINT = select(Agent).where(Agent.endpoint == bindparam("endpoint"))
_AT_NUMBER = select(Agent).where(
    or_(
        Agent.endpoint == bindparam("endpoint"),
        and_(Agent.endpoint.is_(None), Agent.phone == bindparam("phone")),
    )
)
_ON_SIP = select(Agent).where(Agent.endpoint.startswith("sip:"))
_CALLING_FROM = select(Agent).where(Agent.phone == bindparam("phone"))


def calling_agent(session: Session, phone: str | None) -> Agent | None:
    """The agent whose phone number calls the agent line, if any."""
    return session.scalar(_CALLING_FROM, {"phone": phone}) if phone else None


def rung_agent(session: Session, to: str) -> Agent | None:
    """The agent whose endpoint a call placed by Hotline went to (its ``To``). A SIP
    URI is matched by its user@host (``Endpoint.key``), however it is decorated."""
    try:
        endpoint = parse_endpoint(to, None)
    except ValueError:
        return None
    if isinstance(endpoint, Sip):
        sip_agents = session.scalars(_ON_SIP)
        return next((agent for agent in sip_agents if reach_key(agent) == endpoint.key), None)
    if isinstance(endpoint, Phone):
        return session.scalar(_AT_NUMBER, {"endpoint": str(endpoint), "phone": endpoint.number})
    return session.scalar(_AT_ENDPOINT, {"endpoint": str(endpoint)})


def reach_key(agent: Agent) -> str | None:
    """The key (``Endpoint.key``) of where ``agent`` is rung; None if it is unreadable."""
    try:
        return agent_endpoint(agent).key
    except ValueError:
        return None
