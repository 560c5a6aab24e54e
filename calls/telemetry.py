"""What operators see of each webhook request: its time in the latency histogram
(``metrics.WEBHOOK_SECONDS``, by endpoint) and its CallSid on every log line written
while it runs (``logs.CALL_SID``)."""

from __future__ import annotations

from time import perf_counter

from flask import Blueprint, g, request

from logs import CALL_SID
from metrics import WEBHOOK_SECONDS

# Longer than any SID Twilio issues; a forged CallSid is still only a log field.
SID_LENGTH = 64


def watch(bp: Blueprint) -> None:
    """Time and tag every request of ``bp``. Call it before registering any other hook,
    so that the signature check and its refusals are inside the measure too."""
    bp.before_request(_begin)
    bp.teardown_request(_end)


def _begin() -> None:
    sid = request.form.get("CallSid") or None
    g.webhook_watch = (perf_counter(), CALL_SID.set(sid[:SID_LENGTH] if sid else None))


def _end(_exc: BaseException | None) -> None:
    watched = g.pop("webhook_watch", None)
    if watched is None:
        return
    started, token = watched
    # The process's own stopwatch, not the app's clock: a duration, not a time of a call.
    WEBHOOK_SECONDS.labels(webhook=request.endpoint or "unknown").observe(perf_counter() - started)
    CALL_SID.reset(token)
