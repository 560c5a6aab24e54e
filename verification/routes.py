"""The verification webhooks: the caller keys in a number, then a PIN or SMS code."""

from __future__ import annotations

from flask import Blueprint, Response

from callflows import steps
from callflows.routes import answer, check_signature, on_error, stamp_turn
from verification import service

bp = Blueprint("verification", __name__, url_prefix="/voice/verify")
bp.before_request(check_signature)
bp.register_error_handler(Exception, on_error)
bp.url_defaults(stamp_turn)


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
