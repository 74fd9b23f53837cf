"""Gateways' webhooks: ``POST /payments/webhook/<gateway name>``, one path per gateway.

The body is read (at most ``WEBHOOK_MAX_BYTES``) as raw bytes, since signatures are computed
over them, and handed with the headers to ``payments.receive``; the answer is the one the
gateway's adapter says its gateway expects (Stripe retries anything but a 2xx).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from smmpanel.api.params import TransportError, read_body
from smmpanel.config import Settings
from smmpanel.errors import NotFound
from smmpanel.gateways.base import Incoming
from smmpanel.usecases import payments

WEBHOOK_MAX_BYTES = 262_144
"""Far above any gateway's notification (a Stripe event is a few kilobytes)."""

_FORM = "application/x-www-form-urlencoded"


def payment_context(settings: Settings, request: Request | None) -> payments.PaymentContext:
    """Where gateways and customers reach this panel: ``public_url``, else the address asked."""
    fallback = str(request.base_url) if request is not None else "http://127.0.0.1:8080"
    return payments.PaymentContext(settings.public_url or fallback, settings.currency, settings.http_timeout)


def incoming(request: Request, body: bytes, source: str) -> Incoming:
    """The request as the adapters see it: lower-case headers, raw body, parsed query and form."""
    is_form = request.headers.get("content-type", "").split(";")[0].strip().lower() == _FORM
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)) if is_form else {}
    return Incoming(
        source="return" if source == "return" else "webhook",
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        query=dict(request.query_params),
        form=form,
    )


async def webhook(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    try:
        body = await read_body(request, WEBHOOK_MAX_BYTES)
    except TransportError as error:
        return PlainTextResponse(error.message, status_code=error.status_code)
    context = payment_context(settings, request)
    name = str(request.path_params["gateway"])
    try:
        receipt = await payments.receive(request.app.state.db, context, name, incoming(request, body, "webhook"))
    except NotFound:
        return PlainTextResponse("no such payment gateway", status_code=404)
    answer = receipt.answer
    return Response(answer.body, status_code=answer.status, media_type=answer.content_type)


routes = [Route("/payments/webhook/{gateway}", webhook, methods=["POST"])]
