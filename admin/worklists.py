"""Worklists at the console: callbacks and voicemails with their state and who has them
(``reports.worklists``), each marked done by an operator through the same conditional
updates agents' actions go through (``queueing.callback_queue.close``,
``queueing.voicemails.close_voicemail``), so an operator and an agent acting at once
cannot both win. Who closed it is a step on the caller's call, naming the operator."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError

from admin.auth import operator_required
from calls.context import Context
from desk.views import recording_response
from queueing.callback_queue import close
from queueing.voicemails import close_voicemail
from reports.worklists import callback_list, voicemail_list
from verification.sessions import context, protect

bp = Blueprint("worklists", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(protect)

ID = f"int(min=1, max={2**31 - 1})"


class Shown(BaseModel):
    """Which items a list shows: those still to do, or all (the newest first)."""

    show: Literal["open", "all"] = "open"


def _shown() -> Shown:
    try:
        return Shown.model_validate(request.values.to_dict())
    except ValidationError:
        return Shown()


@bp.get("/callbacks")
@operator_required(page=True)
def callbacks() -> ResponseReturnValue:
    ctx = context()
    shown = _shown().show
    items = callback_list(ctx.session, ctx.flow, ctx.now, only_open=shown == "open")
    return render_template("admin/callbacks.html", items=items, show=shown, zone=ctx.flow.timezone)


@bp.post(f"/callbacks/<{ID}:callback_id>/done")
@operator_required(page=True)
def callback_done(callback_id: int) -> ResponseReturnValue:
    ctx = context()
    closed = close(ctx.session, callback_id, g.operator.name, ctx.now)
    return _after_done(
        ctx,
        closed,
        f"Callback {callback_id} marked done.",
        f"Callback {callback_id} was not changed: an agent is calling it now,"
        " or it is closed already.",
        "worklists.callbacks",
    )


@bp.get("/voicemails")
@operator_required(page=True)
def voicemails() -> ResponseReturnValue:
    ctx = context()
    shown = _shown().show
    items = voicemail_list(ctx.session, ctx.flow, only_open=shown == "open")
    return render_template("admin/voicemails.html", items=items, show=shown, zone=ctx.flow.timezone)


@bp.post(f"/voicemails/<{ID}:voicemail_id>/done")
@operator_required(page=True)
def voicemail_done(voicemail_id: int) -> ResponseReturnValue:
    ctx = context()
    closed = close_voicemail(ctx.session, voicemail_id, g.operator.name, ctx.now)
    return _after_done(
        ctx,
        closed,
        f"Voicemail {voicemail_id} marked done.",
        f"Voicemail {voicemail_id} was not changed: it is done already.",
        "worklists.voicemails",
    )


def _after_done(
    ctx: Context, closed: bool, done: str, refused: str, page: str
) -> ResponseReturnValue:
    """Keep the change (or none), say which, and go back to the list as it was shown."""
    if closed:
        ctx.session.commit()
    else:
        ctx.session.rollback()
    flash(done if closed else refused)
    return redirect(url_for(page, show=_shown().show), 303)


@bp.get(f"/voicemails/<{ID}:voicemail_id>/recording")
@operator_required(page=False)
def recording(voicemail_id: int) -> ResponseReturnValue:
    """Any voicemail's audio, as the desk plays an agent's."""
    return recording_response(None, voicemail_id)
