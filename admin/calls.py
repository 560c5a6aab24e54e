"""Calls at the console: a search (by local date, outcome, branch, customer, the last
digits of the number) and each call's timeline (``reports.calls``, ``reports.timeline``).
The query string is checked first: a wrong value is said on the page, never a failure."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator
from sqlalchemy import select

from admin.auth import operator_required
from models import Call
from reports.calls import MAX_DIGITS, MIN_DIGITS, OUTCOMES, WORDS, CallQuery
from reports.calls import search as find_calls
from reports.timeline import timeline
from validation import problems
from verification.sessions import context, protect

bp = Blueprint("calls", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(protect)

ID = f"int(min=1, max={2**31 - 1})"
MAX_PAGE = 10_000


class SearchForm(BaseModel):
    """The search's query string; an empty field matches anything."""

    first_day: Annotated[date | None, Field(alias="from")] = None
    last_day: Annotated[date | None, Field(alias="to")] = None
    outcome: str | None = None
    branch: str | None = None
    customer: Annotated[str | None, Field(max_length=64)] = None
    digits: str | None = None
    page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: str | None) -> str | None:
        if value is not None and value not in OUTCOMES:
            raise ValueError(f"one of {', '.join(OUTCOMES)}")
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str | None, info: ValidationInfo) -> str | None:
        queues = (info.context or {}).get("queues", ())
        if value is not None and value not in queues:
            raise ValueError(f"one of {', '.join(queues)}")
        return value

    @field_validator("digits")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if value is not None and not (value.isdigit() and MIN_DIGITS <= len(value) <= MAX_DIGITS):
            raise ValueError(f"the last {MIN_DIGITS} to {MAX_DIGITS} digits of the number")
        return value

    def query(self) -> CallQuery:
        if self.first_day and self.last_day and self.first_day > self.last_day:
            raise ValueError("from: the first day comes after the last")
        return CallQuery(
            first_day=self.first_day,
            last_day=self.last_day,
            outcome=self.outcome,
            branch=self.branch,
            customer_id=self.customer.strip() if self.customer else None,
            digits=self.digits,
            page=self.page,
        )


@bp.get("/calls")
@operator_required(page=True)
def search() -> ResponseReturnValue:
    ctx = context()
    asked = request.args.to_dict()
    branches = {queue: names[WORDS] for queue, names in ctx.flow.agents.queue_names.items()}
    shown = {"asked": asked, "outcomes": OUTCOMES, "branches": branches, "zone": ctx.flow.timezone}
    try:
        query = SearchForm.model_validate(asked, context={"queues": ctx.flow.queues}).query()
    except ValidationError as exc:
        return render_template("admin/calls.html", error="; ".join(problems(exc)), **shown), 400
    except ValueError as exc:
        return render_template("admin/calls.html", error=str(exc), **shown), 400
    found = find_calls(ctx.session, ctx.flow, query)
    pages = {
        "previous": _page_url(asked, found.page - 1) if found.page > 1 else None,
        "next": _page_url(asked, found.page + 1) if found.more else None,
    }
    return render_template("admin/calls.html", error=None, found=found, **pages, **shown)


@bp.get(f"/calls/<{ID}:call_id>")
@operator_required(page=True)
def show(call_id: int) -> ResponseReturnValue:
    ctx = context()
    call = ctx.session.scalars(select(Call).where(Call.id == call_id)).one_or_none()
    if call is None:
        abort(404, "No such call.")
    return render_template(
        "admin/call.html", record=timeline(ctx.session, ctx.flow, call), zone=ctx.flow.timezone
    )


def _page_url(asked: dict[str, str], page: int) -> str:
    values: dict[str, Any] = {**asked, "page": page}
    return url_for("calls.search", **values)
