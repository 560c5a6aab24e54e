"""The verification webhooks: the caller keys in a number, then a PIN or SMS code."""

from __future__ import annotations

from flask import Response

from callflows import steps
from callflows.routes import answer, caller_webhooks
from verification import service

bp = caller_webhooks("verification", "/voice/verify")


@bp.post("/number")
def number() -> Response:
    return answer(
        lambda ctx, p: steps.follow(ctx, service.submit_number(ctx, p.digits)), stage="number"
    )


@bp.post("/secret")
def secret() -> Response:
    return answer(
        lambda ctx, p: steps.follow(ctx, service.submit_secret(ctx, p.digits)), stage="secret"
    )
