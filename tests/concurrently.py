"""Several calls acting at the same moment, for the races the database must settle."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from telephony.simulator import Leg


def at_once(actions: Sequence[Callable[[], object]]) -> None:
    """Each action on a thread of its own (the simulator's Flask transport gives each
    thread its own client and connection), all released together."""
    start = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            start.wait()
            action()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]


def press_at_once(calls: Sequence[Leg], keys: Sequence[str]) -> None:
    """Each call presses its keys, all at the same moment."""
    at_once(
        [
            lambda call=call, digits=digits: call.press(digits)
            for call, digits in zip(calls, keys, strict=True)
        ]
    )
