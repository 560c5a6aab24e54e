"""Admins manage the people: agents (added or changed as the import file would, a desk
password set, signed out) and operators (added, a role or password changed, removed).
Every change is a form with its CSRF token that comes back to the page (303)."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.auth import operator_required
from calls.context import Context
from models import Agent, Operator
from models.agents import AgentStatus
from models.operators import OperatorRole
from ops.importer import ImportFailed, import_data
from queueing import desk
from telephony.numbers import mask
from verification.passwords import MIN_LENGTH, hash_password
from verification.sessions import context, protect

bp = Blueprint("people", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(protect)

M = TypeVar("M", bound=BaseModel)
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=1024)]
AgentId = Annotated[str, Field(min_length=1, max_length=64)]


class AgentForm(BaseModel):
    """What the page asks of an agent; checked again, as a record of the import file."""

    id: AgentId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    phone: Annotated[str, Field(min_length=1, max_length=32)]
    endpoint: Annotated[str, Field(max_length=255)] = ""
    pin: Annotated[str, Field(min_length=1, max_length=16)]
    skills: Annotated[str, Field(min_length=1, max_length=500)]  # comma-separated
    languages: list[Literal["zh", "en"]] = []
    desk_password: Annotated[str, Field(max_length=1024)] = ""


class AgentPasswordForm(BaseModel):
    agent: AgentId
    password: Password


class AgentOnlyForm(BaseModel):
    agent: AgentId


class OperatorForm(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    role: OperatorRole
    password: Password


class OperatorChange(BaseModel):
    operator: Annotated[int, Field(ge=1, le=2**31 - 1)]
    role: OperatorRole | None = None
    password: Password | None = None


def _form(model: type[M]) -> M | None:
    """The posted form as ``model``, or None with the problem flashed."""
    form = request.form.lists()
    data = {key: values if key == "languages" else values[0] for key, values in form}
    data.pop("csrf_token", None)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        flash(f"{where}: {first['msg']}" if where else first["msg"])
        return None


# --- agents --------------------------------------------------------------------------------


@bp.get("/agents")
@operator_required(page=True, role=OperatorRole.ADMIN)
def agents() -> ResponseReturnValue:
    ctx = context()
    listed = ctx.session.scalars(select(Agent).order_by(Agent.id)).all()
    skills = sorted(ctx.flow.queues)
    return render_template(
        "admin/agents.html", agents=listed, mask=mask, now=ctx.now, skills=skills
    )


@bp.post("/agents")
@operator_required(page=True, role=OperatorRole.ADMIN)
def save_agent() -> ResponseReturnValue:
    """Add an agent, or change one by id, through the importer's checks."""
    form = _form(AgentForm)
    if form is not None:
        record = {
            "id": form.id,
            "name": form.name,
            "phone": form.phone,
            "endpoint": form.endpoint.strip() or None,
            "pin": form.pin,
            "skills": [skill.strip() for skill in form.skills.split(",") if skill.strip()],
            "languages": form.languages,
            "desk_password": form.desk_password or None,
        }
        ctx = context()
        try:
            import_data(
                ctx.session,
                {"agents": [record]},
                key=ctx.settings.secret_key_bytes(),
                region=ctx.settings.default_region,
                now=ctx.now,
            )
        except ImportFailed as exc:
            ctx.session.rollback()
            flash(str(exc).replace("agents[0].", ""))
        else:
            ctx.session.commit()
            flash(f"Agent {form.id} saved.")
    return redirect(url_for("people.agents"), 303)


@bp.post("/agents/password")
@operator_required(page=True, role=OperatorRole.ADMIN)
def agent_password() -> ResponseReturnValue:
    """A new desk password: the agent's desk sessions end."""
    form = _form(AgentPasswordForm)
    ctx = context()
    if form is not None and (agent := _agent(ctx, form.agent)) is not None:
        agent.password_hash = hash_password(form.password)
        ctx.session.commit()
        flash(f"Desk password set for {agent.id}.")
    return redirect(url_for("people.agents"), 303)


@bp.post("/agents/offline")
@operator_required(page=True, role=OperatorRole.ADMIN)
def agent_offline() -> ResponseReturnValue:
    """Take an agent who left without signing out off the rota (not while on a call)."""
    form = _form(AgentOnlyForm)
    ctx = context()
    if form is not None and (agent := _agent(ctx, form.agent)) is not None:
        if desk.set_status(ctx, agent, AgentStatus.OFFLINE):
            ctx.session.commit()
            flash(f"{agent.id} is offline.")
        else:
            flash(f"{agent.id} is on a call: try again when it ends.")
    return redirect(url_for("people.agents"), 303)


def _agent(ctx: Context, agent_id: str) -> Agent | None:
    agent = ctx.session.get(Agent, agent_id)
    if agent is None:
        flash(f"No agent {agent_id}.")
    return agent


# --- operators -----------------------------------------------------------------------------


@bp.get("/operators")
@operator_required(page=True, role=OperatorRole.ADMIN)
def operators() -> ResponseReturnValue:
    ctx = context()
    listed = ctx.session.scalars(select(Operator).order_by(Operator.name)).all()
    return render_template("admin/operators.html", operators=listed, roles=list(OperatorRole))


@bp.post("/operators")
@operator_required(page=True, role=OperatorRole.ADMIN)
def add_operator() -> ResponseReturnValue:
    form = _form(OperatorForm)
    if form is not None:
        ctx = context()
        name = form.name.strip()
        if ctx.session.scalars(select(Operator).where(Operator.name == name)).first():
            flash(f"There is an operator {name} already.")
        else:
            hashed = hash_password(form.password)
            ctx.session.add(
                Operator(name=name, role=form.role, password_hash=hashed, created_at=ctx.now)
            )
            ctx.session.commit()
            flash(f"Operator {name} added as {form.role}.")
    return redirect(url_for("people.operators"), 303)


@bp.post("/operators/change")
@operator_required(page=True, role=OperatorRole.ADMIN)
def change_operator() -> ResponseReturnValue:
    """A new role or password (which ends that operator's sessions)."""
    form = _form(OperatorChange)
    ctx = context()
    if form is not None and (operator := _operator(ctx, form.operator)) is not None:
        if form.role not in (None, operator.role) and _last_admin(ctx.session, operator):
            flash(f"{operator.name} is the last admin: make another admin first.")
        else:
            operator.role = form.role or operator.role
            if form.password is not None:
                operator.password_hash = hash_password(form.password)
            ctx.session.commit()
            flash(f"{operator.name} changed.")
    return redirect(url_for("people.operators"), 303)


@bp.post("/operators/remove")
@operator_required(page=True, role=OperatorRole.ADMIN)
def remove_operator() -> ResponseReturnValue:
    form = _form(OperatorChange)
    ctx = context()
    if form is not None and (operator := _operator(ctx, form.operator)) is not None:
        if operator.id == g.operator.id:
            flash("You cannot remove yourself.")
        elif _last_admin(ctx.session, operator):
            flash(f"{operator.name} is the last admin: make another admin first.")
        else:
            ctx.session.delete(operator)
            ctx.session.commit()
            flash(f"{operator.name} removed.")
    return redirect(url_for("people.operators"), 303)


def _operator(ctx: Context, operator_id: int) -> Operator | None:
    operator = ctx.session.get(Operator, operator_id)
    if operator is None:
        flash("No such operator.")
    return operator


def _last_admin(session: Session, operator: Operator) -> bool:
    if operator.role != OperatorRole.ADMIN:
        return False
    admins = select(func.count()).select_from(Operator).where(Operator.role == OperatorRole.ADMIN)
    return session.scalar(admins) == 1
