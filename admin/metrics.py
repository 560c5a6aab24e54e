"""``GET /metrics`` for Prometheus, behind the bearer token ``METRICS_TOKEN``.

Without a token set the endpoint is off and answers 404: no credential could open it
(so not 401), and Prometheus then shows the target as not found on this server, which
points at the setting rather than at the scraper's token (as 403 would).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from metrics import scrape_registry
from models.db import session
from reports.prometheus import HotlineNow

bp = Blueprint("metrics", __name__)

OFF = "Metrics are off on this server: set METRICS_TOKEN to serve them.\n"
ASK = "Send the metrics token: Authorization: Bearer <METRICS_TOKEN>.\n"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="Hotline metrics"'}


@bp.get("/metrics")
def scrape() -> Response:
    token = current_app.extensions["settings"].metrics_token
    if token is None:
        return Response(OFF, 404, mimetype="text/plain")
    if not _bearer_is(token.get_secret_value()):
        return Response(ASK, 401, CHALLENGE, mimetype="text/plain")
    registry = scrape_registry()
    flow = current_app.extensions["flow"]
    registry.register(HotlineNow(session(), current_app.extensions["clock"](), flow))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _bearer_is(token: str) -> bool:
    """The request's bearer token is ``token``, compared in constant time."""
    given = request.authorization
    if given is None or given.type != "bearer" or not given.token:
        return False
    return hmac.compare_digest(given.token.encode(), token.encode())
