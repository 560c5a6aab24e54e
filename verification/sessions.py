"""Who is signed in to Hotline's pages: agents at the desk, operators at /admin.

One session cookie, signed with a key derived from ``HOTLINE_SECRET_KEY``,
``HttpOnly``, ``SameSite=Lax`` and ``Secure`` (browsers keep Secure cookies on
``http://localhost`` and ``http://127.0.0.1`` too, so the local demo works), lasting a
shift (``SESSION_HOURS``). It names the person and holds a fingerprint of their
password hash: a new password signs out every session of the old one. Every form
carries a CSRF token (Flask-WTF); Twilio's webhooks carry Twilio's signature instead.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Flask, Request, abort, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from calls.context import Context, Services
from models.db import session as db_session
from settings import Settings

SESSION_HOURS = 12

csrf = CSRFProtect()
P = ParamSpec("P")
R = TypeVar("R")
Who = TypeVar("Who")


def configure(app: Flask, settings: Settings) -> None:
    """Sessions and CSRF for the pages. Twilio's webhooks are not pages: CSRF is
    checked only where a page's blueprint asks for it (``protect``)."""
    if settings.hotline_secret_key or settings.development:
        app.secret_key = hmac.new(
            settings.secret_key_bytes(), b"desk-session", hashlib.sha256
        ).hexdigest()
    app.config.update(
        SESSION_COOKIE_NAME="hotline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session
    )
    app.session_interface = CookieSessions()
    csrf.init_app(app)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, their serializer built only to read a cookie.
    Flask builds it (and parses the Cookie header) for every request before it looks
    for one: about 2 % of a webhook's time under load (bench/load.py, sampled with
    py-spy), and Twilio's webhooks, most of what Hotline serves, never carry one."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)


def protect() -> None:
    """Every POST carries the session's CSRF token (a form field, or the ``X-CSRFToken``
    header); one without it is refused with 400. A blueprint's ``before_request``."""
    if request.method == "POST":
        csrf.protect()


def context() -> Context:
    """The request's database session and the app's services, as webhooks have them."""
    services = Services.of(current_app.extensions)
    return Context(
        db_session(), services.flow, services.settings, services.twilio, services.clock()
    )


def fingerprint(password_hash: str | None) -> str:
    """Ties a session to the password it was opened with, without holding the hash."""
    secret = str(current_app.secret_key).encode()
    stored = (password_hash or "").encode()
    return hmac.new(secret, stored, hashlib.sha256).hexdigest() if stored else "-"


def sign_in(kind: str, name: str, password_hash: str | None) -> None:
    """A new session for ``name`` (an agent or an operator): nothing of before carries
    over, so a session opened before signing in is worth nothing after."""
    session.clear()
    session.permanent = True
    session[kind], session[f"{kind}_key"] = name, fingerprint(password_hash)


def sign_out() -> None:
    session.clear()


def signed_in_as(kind: str) -> str | None:
    """The name this session signed in as ``kind`` ("agent", "operator"), if any."""
    name = session.get(kind)
    return name if isinstance(name, str) else None


def same_password(kind: str, password_hash: str | None) -> bool:
    """Whether the ``kind`` signed in with the password whose hash is ``password_hash``."""
    key = session.get(f"{kind}_key")
    return isinstance(key, str) and hmac.compare_digest(fingerprint(password_hash), key)


def guard(
    who: Callable[[], Who | None],
    *,
    login: str,
    page: bool,
    allowed: Callable[[Who], bool] = lambda _: True,
    come_back: bool = False,
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Only for someone ``who`` finds (and ``allowed`` lets in): a page sends anyone else
    to the ``login`` endpoint (which, with ``come_back``, comes back to the page after),
    anything else answers 401 with JSON; someone signed in but not allowed gets 403."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            person = who()
            if person is None:
                if page:
                    back = request.full_path if come_back and request.method == "GET" else None
                    return redirect(url_for(login, next=back))
                return {"error": f"sign in at {url_for(login)}"}, 401
            if not allowed(person):
                abort(403, "Your role may not do this.")
            return view(*args, **kwargs)

        return guarded

    return decorate
