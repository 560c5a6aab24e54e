"""The live wallboard, the console's home (/admin): queues, agents and today's figures
(``reports.live``), kept current by the page itself, which asks /admin/wallboard.json
every few seconds and puts the parts it gets in place, without a reload."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, get_template_attribute, render_template
from flask.typing import ResponseReturnValue

from admin.auth import operator_required
from calls.context import Context
from reports.live import Board, snapshot
from verification.sessions import context, protect

bp = Blueprint("wallboard", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(protect)

# How often the page asks for the board again, in milliseconds.
POLL_MS = 2500
# The parts of the page the poll replaces, each a macro of admin/wallboard_parts.html.
PARTS = ("queues", "agents", "today")


@bp.get("")
@operator_required(page=True)
def page() -> ResponseReturnValue:
    ctx = context()
    board = _board(ctx)
    return render_template(
        "admin/wallboard.html", board=board, parts=_parts(ctx, board), poll_ms=POLL_MS
    )


@bp.get("/wallboard.json")
@operator_required(page=False)
def board() -> ResponseReturnValue:
    """The board now: its figures, and the page's parts rendered from them."""
    ctx = context()
    now = _board(ctx)
    return {"board": _plain(asdict(now)), "parts": _parts(ctx, now)}


def _board(ctx: Context) -> Board:
    board = snapshot(ctx.session, ctx.flow, ctx.now, ctx.settings.service_level_seconds)
    ctx.session.rollback()  # read only: end the transaction the queries began
    return board


def _parts(ctx: Context, board: Board) -> dict[str, str]:
    zone = ZoneInfo(ctx.flow.timezone)
    names = ctx.flow.agents.queue_names
    return {
        part: str(get_template_attribute("admin/wallboard_parts.html", part)(board, names, zone))
        for part in PARTS
    }


def _plain(value: Any) -> Any:
    """``value`` as JSON holds it: times in ISO 8601 (UTC)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
