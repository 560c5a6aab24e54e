"""Every webhook must carry a valid ``X-Twilio-Signature`` for the URL Twilio called."""

from __future__ import annotations

import logging
from urllib.parse import quote, urlparse, urlsplit

from flask import Request, abort, current_app, request
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    compare,
    remove_port,
)
from werkzeug.datastructures import MultiDict

log = logging.getLogger(__name__)


def requested_url(request: Request, public_base_url: str | None) -> str:
    """The URL exactly as Twilio requested it, which is what it signed.

    Behind a proxy the app sees its internal address, so the scheme and host
    come from ``PUBLIC_BASE_URL``. The path and query are taken raw from the
    request line: Flask's ``request.url`` re-encodes them and would change the
    signed string.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if not raw:
        path = quote(request.script_root + request.path)
        query = request.query_string.decode("latin-1")
        raw = f"{path}?{query}" if query else path
    if raw.startswith(("http://", "https://")):  # absolute-form request line
        parts = urlsplit(raw)
        raw = f"{parts.path}?{parts.query}" if parts.query else parts.path
    base = public_base_url or request.host_url
    return base.rstrip("/") + raw


class SignatureCheck:
    """Refuses (403) any request Twilio did not sign for this URL."""

    def __init__(self, enabled: bool, auth_token: str | None, public_base_url: str | None) -> None:
        self.enabled = enabled
        self.validator = RequestValidator(auth_token) if auth_token else None
        self.public_base_url = public_base_url

    def __call__(self, request: Request) -> None:
        if not self.enabled:  # switched off for local development
            return
        if self.validator is None:
            # Fail closed: a server started without its token (create_server refuses
            # to) must not let anyone pose as Twilio.
            log.error("refused %s: TWILIO_AUTH_TOKEN is not set", request.path)
            abort(403)
        if request.headers.get(SIGNATURE_SETTINGS_HEADER):
            # Signed with a webhook SharedKey, a secret Hotline does not hold.
            log.error(
                "refused %s: signed with a webhook shared key (%s); configure the"
                " number to sign with the account auth token",
                request.path,
                SIGNATURE_SETTINGS_HEADER,
            )
            abort(403)
        signature = request.headers.get("X-Twilio-Signature", "")
        url = requested_url(request, self.public_base_url)
        if not signature or not signed(self.validator, url, request.form, signature):
            log.warning("refused %s: missing or wrong X-Twilio-Signature", request.path)
            abort(403)


def signed(
    validator: RequestValidator, url: str, form: MultiDict[str, str], signature: str
) -> bool:
    """``validator.validate`` for a form-encoded webhook, with one HMAC where it computes
    two. It accepts the URL signed without its port or with it (Twilio signs either) and
    computes both every time; this tries the form Twilio signs a URL as configured
    first (with its port where PUBLIC_BASE_URL names one, else without), and the other
    only if that does not match. The library's own parts do the signing and the
    constant-time comparison."""
    parsed = urlparse(url)
    forms = (add_port, remove_port) if parsed.port is not None else (remove_port, add_port)
    return any(
        compare(validator.compute_signature(form_of_url(parsed), form), signature)
        for form_of_url in forms
    )


def check_signature() -> None:
    """``before_request`` of every webhook blueprint: the app's check, on this request."""
    current_app.extensions["signature_check"](request)
