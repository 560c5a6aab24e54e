"""Signing in to the desk: a password per agent (Argon2, ``verification.passwords``)
under the PIN lockout's limits, a signed session cookie, and CSRF tokens on every form.

The session cookie is signed with a key derived from ``HOTLINE_SECRET_KEY``, is
``HttpOnly``, ``SameSite=Lax`` and ``Secure`` (browsers keep Secure cookies on
``http://localhost`` and ``http://127.0.0.1`` too, so the local demo works), lasts a
shift (``SESSION_HOURS``), and holds a fingerprint of the agent's password hash: a
new password signs out every session of the old one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Annotated, ParamSpec, TypeVar

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from pydantic import BaseModel, Field, ValidationError

from calls.context import Context, Services
from models import Agent
from models.agents import AgentStatus
from models.db import session as db_session
from queueing import desk
from settings import Settings
from verification.agents import check_desk_password

SESSION_HOURS = 12
# One answer for an unknown agent, a wrong password and a locked agent: nobody learns
# which agents exist or which are locked.
SIGN_IN_FAILED = "The agent ID or password is wrong, or this agent is locked for a while."

csrf = CSRFProtect()
bp = Blueprint("desk_auth", __name__, url_prefix="/desk")

P = ParamSpec("P")
R = TypeVar("R")


class Credentials(BaseModel):
    agent: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


def configure(app: Flask, settings: Settings) -> None:
    """Sessions and CSRF for the desk. Twilio's webhooks are not the desk's: they carry
    Twilio's signature instead, so CSRF is checked only where the desk asks for it."""
    if settings.hotline_secret_key or settings.development:
        app.secret_key = hmac.new(
            settings.secret_key_bytes(), b"desk-session", hashlib.sha256
        ).hexdigest()
    app.config.update(
        SESSION_COOKIE_NAME="hotline_desk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session
    )
    csrf.init_app(app)


def protect() -> None:
    """Every POST to the desk carries the session's CSRF token (a form field, or the
    ``X-CSRFToken`` header); one without it is refused with 400."""
    if request.method == "POST":
        csrf.protect()


bp.before_request(protect)


def context() -> Context:
    """The request's database session and the app's services, as webhooks have them."""
    services = Services.of(current_app.extensions)
    return Context(
        db_session(), services.flow, services.settings, services.twilio, services.clock()
    )


def signed_in(*, page: bool) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Only for a signed-in agent (``g.agent``): a page sends anyone else to the sign-in
    page, anything else answers 401."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            agent = _session_agent()
            if agent is None:
                if page:
                    return redirect(url_for("desk_auth.login"))
                return {"error": "sign in at /desk/login"}, 401
            g.agent = agent
            return view(*args, **kwargs)

        return guarded

    return decorate


def _session_agent() -> Agent | None:
    agent_id, key = session.get("agent"), session.get("key")
    if not isinstance(agent_id, str) or not isinstance(key, str):
        return None
    agent = db_session().get(Agent, agent_id)
    if agent is None or not hmac.compare_digest(_fingerprint(agent), key):
        return None
    return agent


def _fingerprint(agent: Agent) -> str:
    """Ties a session to the password it was opened with, without holding the hash."""
    secret = str(current_app.secret_key).encode()
    stored = (agent.password_hash or "").encode()
    return hmac.new(secret, stored, hashlib.sha256).hexdigest() if stored else "-"


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
    session.clear()  # a new session: nothing of before carries over
    session.permanent = True
    session["agent"], session["key"] = agent.id, _fingerprint(agent)
    return redirect(url_for("desk.page"))


@bp.post("/logout")
@signed_in(page=True)
def logout() -> ResponseReturnValue:
    """Signing out takes the agent offline, unless a call keeps them busy."""
    ctx = context()
    desk.set_status(ctx, g.agent, AgentStatus.OFFLINE)
    ctx.session.commit()
    session.clear()
    return redirect(url_for("desk_auth.login"))
