"""Signing in to /admin: operator accounts (``models.operators``), passwords hashed with
Argon2 under the PIN lockout's limits, the session cookie and CSRF tokens of
``verification.sessions``. Supervisors see and act; admins also manage agents and
operators (``admin.people``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select

from models import Operator
from models.db import session as db_session
from models.operators import OperatorRole
from verification import sessions
from verification.agents import check_operator_password
from verification.sessions import context, protect

# One answer for an unknown name, a wrong password and a locked operator.
SIGN_IN_FAILED = "The name or password is wrong, or this operator is locked for a while."
# The console's pages, in the order the menu shows them: (label, endpoint, role needed).
# A page shows in the menu once its endpoint exists and the operator's role reaches it.
PAGES = (
    ("Wallboard", "wallboard.page", OperatorRole.SUPERVISOR),
    ("Calls", "calls.search", OperatorRole.SUPERVISOR),
    ("Callbacks", "worklists.callbacks", OperatorRole.SUPERVISOR),
    ("Voicemails", "worklists.voicemails", OperatorRole.SUPERVISOR),
    ("Reports", "reports.page", OperatorRole.SUPERVISOR),
    ("Flow", "flow.page", OperatorRole.SUPERVISOR),
    ("Phone", "phone.page", OperatorRole.ADMIN),
    ("Agents", "people.agents", OperatorRole.ADMIN),
    ("Operators", "people.operators", OperatorRole.ADMIN),
)
RANK = {OperatorRole.SUPERVISOR: 1, OperatorRole.ADMIN: 2}

bp = Blueprint("admin_auth", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(protect)

P = ParamSpec("P")
R = TypeVar("R")


class Credentials(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


def may(operator: Operator, role: OperatorRole) -> bool:
    return RANK[operator.role] >= RANK[role]


def operator_required(
    *, page: bool, role: OperatorRole = OperatorRole.SUPERVISOR
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Only for a signed-in operator (``g.operator``) whose role reaches ``role``: a page
    sends anyone else to the sign-in page, anything else answers 401; an operator
    whose role falls short gets 403."""
    return sessions.guard(
        _session_operator,
        login="admin_auth.login",
        page=page,
        allowed=lambda operator: may(operator, role),
        come_back=True,
    )


def _session_operator() -> Operator | None:
    name = sessions.signed_in_as("operator")
    if name is None:
        return None
    found = db_session().scalars(select(Operator).where(Operator.name == name)).one_or_none()
    if found is None or not sessions.same_password("operator", found.password_hash):
        return None
    g.operator = found
    return found


def menu() -> list[tuple[str, str]]:
    """The pages the signed-in operator may open: (label, URL)."""
    operator: Operator | None = g.get("operator")
    if operator is None:
        return []
    return [
        (label, url_for(endpoint))
        for label, endpoint, role in PAGES
        if endpoint in current_app.view_functions and may(operator, role)
    ]


def home() -> str:
    """Where an operator lands: the first page of the menu."""
    pages = menu()
    return pages[0][1] if pages else url_for("admin_auth.login")


def configure(app: Flask) -> None:
    app.context_processor(lambda: {"admin_menu": menu})


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    back = request.args.get("next", "")
    if request.method == "GET":
        return render_template("admin/login.html", error=None, back=back)
    try:
        entered = Credentials.model_validate(request.form.to_dict())
    except ValidationError:
        return render_template("admin/login.html", error=SIGN_IN_FAILED, back=back)
    ctx = context()
    name = entered.name.strip()
    found = check_operator_password(ctx.session, ctx.settings, name, entered.password, ctx.now)
    ctx.session.commit()  # the attempt counts, whatever it was
    if found is None:
        return render_template("admin/login.html", error=SIGN_IN_FAILED, name=name, back=back)
    sessions.sign_in("operator", found.name, found.password_hash)
    g.operator = found
    # Only a path on this site: never a redirect to elsewhere.
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    return redirect(back if local else home())


@bp.post("/logout")
@operator_required(page=True)
def logout() -> ResponseReturnValue:
    sessions.sign_out()
    return redirect(url_for("admin_auth.login"))
