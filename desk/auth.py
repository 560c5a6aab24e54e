"""Signing in to the desk: a password per agent (Argon2, ``verification.passwords``)
under the PIN lockout's limits, in the session cookie of ``verification.sessions``
(signed, HttpOnly, SameSite=Lax, Secure; ended by a new password), with CSRF tokens
on every form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, ValidationError

from models import Agent
from models.agents import AgentStatus
from models.db import session as db_session
from queueing import desk
from verification import sessions
from verification.agents import check_desk_password
from verification.sessions import context, protect

# One answer for an unknown agent, a wrong password and a locked agent: nobody learns
# which agents exist or which are locked.
SIGN_IN_FAILED = "The agent ID or password is wrong, or this agent is locked for a while."

bp = Blueprint("desk_auth", __name__, url_prefix="/desk")
bp.before_request(protect)

P = ParamSpec("P")
R = TypeVar("R")


class Credentials(BaseModel):
    agent: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


def signed_in(*, page: bool) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Only for a signed-in agent (``g.agent``): a page sends anyone else to the sign-in
    page, anything else answers 401."""
    return sessions.guard(_session_agent, login="desk_auth.login", page=page)


def _session_agent() -> Agent | None:
    agent_id = sessions.signed_in_as("agent")
    agent = db_session().get(Agent, agent_id) if agent_id else None
    if agent is None or not sessions.same_password("agent", agent.password_hash):
        return None
    g.agent = agent
    return agent


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("desk/login.html", error=None)
    try:
        entered = Credentials.model_validate(request.form.to_dict())
    except ValidationError:
        return render_template("desk/login.html", error=SIGN_IN_FAILED)
    ctx = context()
    agent = ctx.session.get(Agent, entered.agent.strip())
    ok = check_desk_password(ctx.session, ctx.settings, agent, entered.password, ctx.now)
    ctx.session.commit()  # the attempt counts, whatever it was
    if not ok or agent is None:
        return render_template("desk/login.html", error=SIGN_IN_FAILED, agent=entered.agent)
    sessions.sign_in("agent", agent.id, agent.password_hash)
    return redirect(url_for("desk.page"))


@bp.post("/logout")
@signed_in(page=True)
def logout() -> ResponseReturnValue:
    """Signing out takes the agent offline, unless a call keeps them busy."""
    ctx = context()
    desk.set_status(ctx, g.agent, AgentStatus.OFFLINE)
    ctx.session.commit()
    sessions.sign_out()
    return redirect(url_for("desk_auth.login"))
