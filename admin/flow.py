"""Where callers go in the flow (/admin/flow): the flow drawn with each step's traffic
over a period of local days, and the same numbers as tables. The drawing alone is
/admin/flow.svg, for a slide or another page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, render_template, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from admin.auth import operator_required
from calls.context import Context
from reports.flow_map import AFTER_WORDS, draw, menu_rows
from reports.period import Period
from reports.traffic import Traffic, percent, traffic
from validation import problems
from verification.sessions import context, protect

bp = Blueprint("flow", __name__, url_prefix="/admin", template_folder="templates")
bp.before_request(protect)

DEFAULT_DAYS = 7
LONGEST_DAYS = 366
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2999, 12, 31))]


class PeriodQuery(BaseModel):
    """``?from=2026-11-01&to=2026-11-07``: local days in the flow's time zone, both in."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    first: Day = Field(alias="from")
    last: Day = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> PeriodQuery:
        if self.last < self.first:
            raise ValueError("'to' is before 'from'")
        if (self.last - self.first).days >= LONGEST_DAYS:
            raise ValueError(f"at most {LONGEST_DAYS} days at a time")
        return self


def _asked(ctx: Context) -> tuple[PeriodQuery, str | None]:
    """The period asked for, a day left out taken from the last week up to today; or,
    with what was wrong with it, the last week."""
    today = ctx.now.astimezone(ZoneInfo(ctx.flow.timezone)).date()
    default = {"from": today - timedelta(days=DEFAULT_DAYS - 1), "to": today}
    asked = {name: request.args[name] for name in default if request.args.get(name)}
    try:
        return PeriodQuery.model_validate({**default, **asked}), None
    except ValidationError as exc:
        return PeriodQuery.model_validate(default), "; ".join(problems(exc))


def _traffic(ctx: Context, asked: PeriodQuery) -> Traffic:
    period = Period(asked.first, asked.last, ctx.flow.timezone)
    return traffic(ctx.session, ctx.flow, period)


@bp.get("/flow")
@operator_required(page=True)
def page() -> ResponseReturnValue:
    ctx = context()
    asked, problem = _asked(ctx)
    if problem:
        flash(f"{problem}. The last {DEFAULT_DAYS} days instead:")
    counted = _traffic(ctx, asked)
    return render_template(
        "admin/flow.html",
        asked=asked,
        traffic=counted,
        svg=draw(ctx.flow, counted),
        menus=menu_rows(ctx.flow),
        percent=percent,
        after_words=AFTER_WORDS,
        timezone=ctx.flow.timezone,
    )


@bp.get("/flow.svg")
@operator_required(page=False)
def drawing() -> ResponseReturnValue:
    ctx = context()
    asked, problem = _asked(ctx)
    if problem:
        return Response(problem, 400, mimetype="text/plain")
    return Response(draw(ctx.flow, _traffic(ctx, asked)), mimetype="image/svg+xml")
