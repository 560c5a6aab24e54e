"""The agent's call as a state machine: for each stage, the webhooks that answer it and
what a request that does not fit hears (see calls.stages)."""

from __future__ import annotations

from calls.context import AgentContext
from calls.stages import Stage, StageTable
from models.agents import AgentStage
from queueing import agent_line

AGENT_STAGES: StageTable[AgentStage, AgentContext] = StageTable(
    {
        AgentStage.PIN: Stage(
            ("agents.incoming", "agents.ring", "agents.callback", "agents.pin"), agent_line.greet
        ),
        AgentStage.RING: Stage(("agents.ring_key",), agent_line.ring_prompt),
        AgentStage.MENU: Stage(("agents.menu",), agent_line.menu),
        AgentStage.WHISPER: Stage(("agents.answer_offer",), agent_line.whisper_again),
        AgentStage.CONNECTED: Stage(("agents.after", "agents.desk_join"), agent_line.talking),
        AgentStage.WRAP_UP: Stage(("agents.ready",), agent_line.wrap_up),
        AgentStage.ENDED: Stage((), agent_line.goodbye),
    },
    # Status callbacks, and the wait document of an agent alone in the room.
    anytime={"agents.ring_status", "agents.status", "agents.room"},
)
