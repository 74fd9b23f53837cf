"""PayPal's endpoints over HTTP: the REST calls a merchant makes and the page a buyer approves on."""

from __future__ import annotations

import base64
import hmac
import html
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from smmpanel.api.params import TransportError
from smmpanel.simulators.common import (
    base_url,
    control_options,
    form_fields,
    json_answer,
    json_object,
    page,
    read_body,
    with_query,
)
from smmpanel.simulators.paypal import TOKEN_SECONDS, PayPal, PayPalError, now_text
from smmpanel.simulators.paypal_webhooks import PayPalWebhooks


def _paypal(request: Request) -> PayPal:
    paypal: PayPal = request.app.state.paypal
    return paypal


def _webhooks(request: Request) -> PayPalWebhooks:
    webhooks: PayPalWebhooks = request.app.state.paypal_webhooks
    return webhooks


def _api_base(request: Request) -> str:
    return f"{base_url(request)}/paypal"


def _bearer(request: Request) -> str | None:
    """The app whose access token authorizes this call, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return _paypal(request).tokens.get(token) if scheme.lower() == "bearer" else None


UNAUTHORIZED = {"error": "invalid_token", "error_description": "The token passed in was not found in the system"}


async def token(request: Request) -> Response:
    """``POST /v1/oauth2/token``: client credentials in HTTP basic auth, ``grant_type`` in the form."""
    paypal = _paypal(request)
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        client_id, secret = "", ""
    known = paypal.apps.get(client_id)
    if scheme.lower() != "basic" or known is None or not hmac.compare_digest(known.encode(), secret.encode()):
        return json_answer({"error": "invalid_client", "error_description": "Client Authentication failed"}, 401)
    try:
        fields = form_fields(await read_body(request))
    except TransportError:
        return json_answer({"error": "invalid_request", "error_description": "Request too large"}, 413)
    if not fields or fields.get("grant_type") != "client_credentials":
        return json_answer({"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"}, 400)
    access = f"A21AA{secrets.token_urlsafe(48)}"
    paypal.tokens[access] = client_id
    return json_answer(
        {
            "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/webhooks",
            "access_token": access,
            "token_type": "Bearer",
            "app_id": f"APP-{paypal.merchant_id(client_id)}",
            "expires_in": TOKEN_SECONDS,
            "nonce": f"{now_text()}{secrets.token_urlsafe(16)}",
        }
    )


async def _json_call(request: Request) -> tuple[str, dict[str, object]] | Response:
    """The calling app and its JSON body, or the answer refusing the call."""
    app = _bearer(request)
    if app is None:
        return json_answer(UNAUTHORIZED, 401)
    try:
        raw = await read_body(request)
    except TransportError:
        return PayPalError("INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX", "Request body too large.").answer()
    body = json_object(raw)
    if body is None:
        return PayPalError("INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.").answer()
    return app, body


def _replayed(paypal: PayPal, app: str, operation: str, request: Request) -> Response | None:
    request_id = request.headers.get("paypal-request-id")
    if request_id and (app, operation, request_id) in paypal.replies:
        status, document = paypal.replies[(app, operation, request_id)]
        return json_answer(document, 200 if status == 201 else status)
    return None


def _remember(paypal: PayPal, app: str, operation: str, request: Request, document: dict[str, object]) -> Response:
    request_id = request.headers.get("paypal-request-id")
    if request_id:
        paypal.replies[(app, operation, request_id)] = (201, document)
    return json_answer(document, 201)


async def create_order(request: Request) -> Response:
    """``POST /v2/checkout/orders``: minimal answer (id, status, links) unless ``Prefer: return=representation``."""
    call = await _json_call(request)
    if isinstance(call, Response):
        return call
    app, body = call
    paypal = _paypal(request)
    replayed = _replayed(paypal, app, "create", request)
    if replayed is not None:
        return replayed
    try:
        order = paypal.create(app, body)
    except PayPalError as error:
        return error.answer()
    base = _api_base(request)
    document = paypal.order_document(order, base)
    if "return=representation" not in request.headers.get("prefer", ""):
        document = {"id": order.id, "status": order.status, "links": document["links"]}
    return _remember(paypal, app, "create", request, document)


async def show_order(request: Request) -> Response:
    """``GET /v2/checkout/orders/{id}``: PayPal's own record of the order and its capture."""
    app = _bearer(request)
    if app is None:
        return json_answer(UNAUTHORIZED, 401)
    paypal = _paypal(request)
    try:
        order = paypal.find(app, request.path_params["order_id"])
    except PayPalError as error:
        return error.answer()
    return json_answer(paypal.order_document(order, _api_base(request)))


async def capture_order(request: Request) -> Response:
    """``POST /v2/checkout/orders/{id}/capture``: moves the money once; a second capture is refused."""
    call = await _json_call(request)
    if isinstance(call, Response):
        return call
    app, _ = call
    paypal = _paypal(request)
    order_id = request.path_params["order_id"]
    replayed = _replayed(paypal, app, f"capture {order_id}", request)
    if replayed is not None:
        return replayed
    base = _api_base(request)
    try:
        order = paypal.capture(app, order_id)
    except PayPalError as error:
        return error.answer()
    _webhooks(request).captured(order, paypal.capture_document(order, base), paypal.merchant_id(app), base)
    return _remember(paypal, app, f"capture {order_id}", request, paypal.order_document(order, base))


async def webhooks(request: Request) -> Response:
    """``POST /v1/notifications/webhooks`` subscribes a URL; ``GET`` lists the app's webhooks."""
    if request.method == "GET":
        app = _bearer(request)
        if app is None:
            return json_answer(UNAUTHORIZED, 401)
        mine = [hook.document() for hook in _webhooks(request).webhooks.values() if hook.app == app]
        return json_answer({"webhooks": mine})
    call = await _json_call(request)
    if isinstance(call, Response):
        return call
    try:
        webhook = _webhooks(request).register(*call)
    except PayPalError as error:
        return error.answer()
    return json_answer(webhook.document(), 201)


async def verify_webhook_signature(request: Request) -> Response:
    """``POST /v1/notifications/verify-webhook-signature``: SUCCESS only for what PayPal itself sent."""
    call = await _json_call(request)
    if isinstance(call, Response):
        return call
    try:
        status = _webhooks(request).verify(*call)
    except PayPalError as error:
        return error.answer()
    return json_answer({"verification_status": status})


async def checkout(request: Request) -> Response:
    """The buyer's page: ``GET`` shows the order, ``POST action=approve|cancel`` sends them back."""
    paypal = _paypal(request)
    order = paypal.orders.get(request.query_params.get("token", ""))
    if order is None:
        return page("PayPal", "<p>This checkout session does not exist.</p>", 404)
    if order.status != "CREATED":
        return page("PayPal", f"<p>This order is {html.escape(order.status)}: it can no longer be approved.</p>", 409)
    if request.method == "GET":
        amount = f"{html.escape(order.value)} {html.escape(order.currency)}"
        return page(
            "PayPal checkout",
            f'<p>Pay <strong id="amount">{amount}</strong> to merchant {paypal.merchant_id(order.app)}.</p>'
            f'<form method="post"><button name="action" value="approve">Pay now</button> '
            f'<button name="action" value="cancel">Cancel and return to merchant</button></form>',
        )
    try:
        fields = form_fields(await read_body(request)) or {}
    except TransportError:
        return page("PayPal", "<p>Request too large.</p>", 413)
    if fields.get("action") == "approve":
        paypal.approve(order)
        _webhooks(request).approved(order, paypal.order_document(order, _api_base(request)), _api_base(request))
        if order.return_url is None:
            return page("PayPal", "<p>Payment approved. You may close this window.</p>")
        assert order.payer_id is not None
        return RedirectResponse(with_query(order.return_url, {"token": order.id, "PayerID": order.payer_id}), 303)
    if order.cancel_url is None:
        return page("PayPal", "<p>Payment cancelled.</p>")
    return RedirectResponse(with_query(order.cancel_url, {"token": order.id}), 303)


async def change_order(request: Request) -> Response:
    """``POST /_sim/paypal/orders/{id}`` with ``value`` and/or ``currency``: the order asks for something else."""
    paypal = _paypal(request)
    order = paypal.orders.get(request.path_params["order_id"])
    if order is None:
        return json_answer({"error": "no such order"}, 404)
    fields = await control_options(request)
    if isinstance(fields, Response):
        return fields
    try:
        paypal.change(order, fields)
    except PayPalError as error:
        return json_answer({"error": error.description}, 400)
    return json_answer(paypal.order_document(order, _api_base(request)))


routes = [
    Route("/paypal/v1/oauth2/token", token, methods=["POST"]),
    Route("/paypal/v2/checkout/orders", create_order, methods=["POST"]),
    Route("/paypal/v2/checkout/orders/{order_id}", show_order, methods=["GET"]),
    Route("/paypal/v2/checkout/orders/{order_id}/capture", capture_order, methods=["POST"]),
    Route("/paypal/v1/notifications/webhooks", webhooks, methods=["GET", "POST"]),
    Route("/paypal/v1/notifications/verify-webhook-signature", verify_webhook_signature, methods=["POST"]),
    Route("/paypal/checkoutnow", checkout, methods=["GET", "POST"]),
]
control_routes = [Route("/_sim/paypal/orders/{order_id}", change_order, methods=["POST"])]
