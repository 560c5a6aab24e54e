"""The stage table: for each stage of a call, the webhooks that answer it and what a
request that does not fit the stage hears instead (a retry, a late or out-of-order
webhook). A new stage is one entry here plus its handler; a test proves every stage
of every table has both."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from calls.context import Context
from calls.twiml import Document

S = TypeVar("S", bound=StrEnum)
C = TypeVar("C", bound=Context)


@dataclass(frozen=True)
class Stage(Generic[C]):
    answered_by: tuple[str, ...]  # endpoints, e.g. "voice.menu"
    replay: Callable[[C], Document]  # the prompt a call at this stage is waiting on


class StageTable(Generic[S, C]):
    def __init__(self, stages: Mapping[S, Stage[C]], *, anytime: Collection[str]) -> None:
        """``anytime``: webhooks that run at any stage (status callbacks, wait documents)."""
        self.stages = dict(stages)
        self.anytime = frozenset(anytime)
        self._by_endpoint: dict[str, S] = {}
        for stage, entry in self.stages.items():
            for endpoint in entry.answered_by:
                if endpoint in self._by_endpoint or endpoint in self.anytime:
                    raise ValueError(f"{endpoint} answers more than one stage")
                self._by_endpoint[endpoint] = stage

    def stage_of(self, endpoint: str) -> S | None:
        """The stage ``endpoint`` answers; None for a webhook that runs at any stage."""
        if endpoint in self.anytime:
            return None
        if endpoint not in self._by_endpoint:
            raise LookupError(f"{endpoint} is in no stage table: add it to one")
        return self._by_endpoint[endpoint]

    def endpoints(self) -> frozenset[str]:
        return frozenset(self._by_endpoint) | self.anytime

    def replay(self, ctx: C, stage: S) -> Document:
        return self.stages[stage].replay(ctx)
