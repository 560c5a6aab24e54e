"""Several calls acting at the same moment, for the races the database must settle."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from telephony.simulator import Leg


def press_at_once(calls: Sequence[Leg], keys: Sequence[str]) -> None:
    """Each call presses its keys on a thread of its own (the simulator's Flask transport
    gives each thread its own client and connection), all released together."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def press(call: Leg, digits: str) -> None:
        try:
            start.wait()
            call.press(digits)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test
            errors.append(exc)

    threads = [threading.Thread(target=press, args=pair) for pair in zip(calls, keys, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
