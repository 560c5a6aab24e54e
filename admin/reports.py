"""/admin/reports: a period's figures as tables, the three charts, and the same report
to download as CSV or JSON (what ``flask --app app report`` writes)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from admin.auth import operator_required
from flowfile.flow import Flow
from reports import charts, compose
from reports.formats import sections, summary, write
from reports.period import Period, PeriodError
from verification.sessions import protect

bp = Blueprint("reports", __name__, url_prefix="/admin/reports", template_folder="templates")
bp.before_request(protect)

# What a chart is called in its URL, and what draws it.
CHARTS = {
    "hours": lambda report, labels: charts.calls_per_hour(report, labels),
    "waits": lambda report, labels: charts.wait_distribution(report),
    "ratings": lambda report, labels: charts.rating_distribution(report, labels),
}
DOWNLOADS = {"csv": "text/csv", "json": "application/json"}
NAMES = ("from", "to")  # the form's fields, as errors call them


class Days(BaseModel):
    """The query string: the first and last days, each optional (compose.period)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    first: date | None = Field(None, alias="from")
    last: date | None = Field(None, alias="to")


def _period() -> Period:
    """The days the query string asks for; 400, saying why, when it makes no period."""
    try:
        days = Days.model_validate(request.args.to_dict())
        return compose.period(
            days.first.isoformat() if days.first else None,
            days.last.isoformat() if days.last else None,
            NAMES,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise _Refused(f"{where}: {problem['msg']}") from None
    except PeriodError as exc:
        raise _Refused(str(exc)) from None


class _Refused(Exception):
    pass


def _query(days: Period) -> dict[str, str]:
    return {"from": days.first.isoformat(), "to": days.last.isoformat()}


@bp.get("")
@operator_required(page=True)
def page() -> ResponseReturnValue:
    try:
        days = _period()
    except _Refused as exc:
        return render_template("admin/reports.html", error=str(exc), args=request.args), 400
    report = compose.report(days)
    flow: Flow = current_app.extensions["flow"]
    return render_template(
        "admin/reports.html",
        error=None,
        days=days,
        query=_query(days),
        summary=summary(report),
        sections=sections(report),
        labels=charts.branch_labels(flow, flow.default_language),
        charts=CHARTS,
    )


@bp.get("/charts/<name>.png")
@operator_required(page=False)
def chart(name: str) -> ResponseReturnValue:
    draw = CHARTS.get(name)
    if draw is None:
        abort(404)
    try:
        days = _period()
    except _Refused as exc:
        return {"error": str(exc)}, 400
    flow: Flow = current_app.extensions["flow"]
    png = draw(compose.report(days), charts.branch_labels(flow, flow.default_language))
    return Response(png, mimetype="image/png")


@bp.get("/report.<form>")
@operator_required(page=False)
def download(form: str) -> ResponseReturnValue:
    if form not in DOWNLOADS:
        abort(404)
    try:
        days = _period()
    except _Refused as exc:
        return {"error": str(exc)}, 400
    name = f"hotline-report-{days.first}-{days.last}.{form}"
    return Response(
        write(compose.report(days), form),
        mimetype=DOWNLOADS[form],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
