"""Work a caller's webhook leaves for after its answer has gone to Twilio.

Run when the WSGI server closes the response (``call_on_close``), in its own app context,
session and transaction, so that what a step does after answering (texting an SMS code)
neither delays the answer nor shows in how long it took: a step that texts someone
answers as fast as one that texts nobody (SPEC §5). A failure there is logged; the
caller has their answer already.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, after_this_request, current_app

from calls.context import CallContext, Services
from logs import CALL_SID
from models import Call
from models.db import session, start_deadline

log = logging.getLogger(__name__)


def after_response(call_id: int, work: Callable[[CallContext], None]) -> None:
    """Run ``work`` on call ``call_id`` once this request's answer has been sent."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    @after_this_request
    def attach(response: Response) -> Response:
        response.call_on_close(lambda: _run(app, call_id, work))
        return response


def _run(app: Flask, call_id: int, work: Callable[[CallContext], None]) -> None:
    with app.app_context():
        start_deadline()  # as long as the webhook's own: the worker is held meanwhile
        db = session()
        token = CALL_SID.set(None)
        try:
            call = db.get(Call, call_id)
            if call is None:
                return
            CALL_SID.set(call.call_sid)  # its log lines are the call's, as the webhook's
            services = Services.of(app.extensions)
            now = services.clock()
            work(
                CallContext(
                    db,
                    services.flow,
                    services.settings,
                    services.twilio,
                    now,
                    call,
                    sms=services.sms,
                )
            )
            db.commit()
        except Exception:  # noqa: BLE001 - the caller has their answer; say what failed
            log.exception("work after the answer to call %s failed", call_id)
        finally:
            CALL_SID.reset(token)
