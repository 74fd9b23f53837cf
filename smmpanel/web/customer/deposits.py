"""Paying in: choose a method on /funds, pay, and see honestly what is known of the payment.

``POST /funds/pay`` starts a payment and sends the customer on: to the gateway's page, to a
form posted to it, or to this panel's payment page (Stripe.js pays in the page; a manual
transfer waits there for the operator). ``/funds/payments/<id>`` is also where gateways send
the customer back: it says "waiting for confirmation" until the verified confirmation has
arrived, then what was credited. Nothing here believes the browser about money.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smmpanel.api.params import TransportError, read_body
from smmpanel.api.payment_webhooks import WEBHOOK_MAX_BYTES, incoming, payment_context
from smmpanel.db.payment_repositories import Payment
from smmpanel.db.repositories import Customer
from smmpanel.domain.payments import PaymentStatus
from smmpanel.errors import NotFound, Refused
from smmpanel.gateways.registry import adapter_class
from smmpanel.money import AmountError, parse_amount
from smmpanel.usecases import payment_desk, payments
from smmpanel.web.auth_routes import form_text
from smmpanel.web.customer.common import path_id, query_id, show
from smmpanel.web.customer.funds import funds_page
from smmpanel.web.headers import extend_csp
from smmpanel.web.pages import pager_urls, redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of, require_user


def _amount(text: str) -> int:
    try:
        return parse_amount(text)
    except AmountError:
        raise Refused("Enter the amount as a number, e.g. 10 or 12.50") from None


async def pay(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    values = {name: form_text(form, name) for name in ("gateway", "amount", "reference")}
    context = context_of(request)
    try:
        checkout = await payments.start_payment(
            context.database,
            payment_context(context.settings, request),
            user_id=user.id,
            gateway_name=values["gateway"],
            amount=_amount(values["amount"]),
            payer_reference=values["reference"],
        )
    except (Refused, NotFound) as refused:
        message = refused.message if isinstance(refused, Refused) else "This payment method is not available"
        return await funds_page(request, user, status_code=400, error=message, values=values)
    # Always this panel's own payment page first: the page's policy allows forms to post only here
    # (CSP form-action), and the page sends the customer on to a redirect gateway by itself.
    return redirect(payments.return_path(checkout.payment.id))


STRIPE_JS_ORIGIN = "https://js.stripe.com"
STRIPE_FRAMES = ("https://hooks.stripe.com",)
"""Real Stripe.js also opens 3-D Secure frames from hooks.stripe.com (Stripe's CSP guidance)."""


async def _own_payment(request: Request, user: Customer) -> Payment:
    payment = await payment_desk.customer_payment(context_of(request).database, user.id, path_id(request, "payment_id"))
    if payment is None:
        raise PageNotFound
    return payment


async def payment_page(request: Request) -> Response:
    """The payment page and the gateways' return page."""
    user = await require_user(request)
    payment = await _own_payment(request, user)
    context = context_of(request)
    gateway = await payment_desk.gateway_of(context.database, payment)
    adapter = adapter_class(gateway.kind)
    if adapter.verifies_returns and payment.status is PaymentStatus.PENDING and request.query_params:
        try:
            body = await read_body(request, WEBHOOK_MAX_BYTES)
        except TransportError:
            body = b""
        settings = payment_context(context.settings, request)
        await payments.receive(context.database, settings, gateway.name, incoming(request, body, "return"))
        payment = await _own_payment(request, user)
    checkout = payment.checkout or {}
    client = checkout.get("client") or {}
    form_url = checkout.get("redirect_url") if checkout.get("form_fields") else None
    _allow_gateway_sources(request, client, form_url)
    return show(
        request,
        "customer/payment.html",
        user,
        payment=payment,
        gateway=gateway,
        needs_review=adapter.needs_review,
        client=client,
        form_url=form_url,
        form_fields=checkout.get("form_fields") or {},
        redirect_url=None if checkout.get("form_fields") else checkout.get("redirect_url"),
    )


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def _allow_gateway_sources(request: Request, client: Mapping[str, str], form_url: str | None) -> None:
    """Widen this page's Content-Security-Policy to what its gateway needs, and nothing more: an
    in-page gateway's script (Stripe.js: its frames and its API calls), a form gateway's form target."""
    script = _origin(client.get("js_url", ""))
    api = _origin(client.get("api_base", "")) or script
    if script:
        frames = [script, *STRIPE_FRAMES] if script == STRIPE_JS_ORIGIN else [script]
        extend_csp(request, script_src=[script], frame_src=frames, connect_src=[s for s in (script, api) if s])
    target = _origin(form_url or "")
    if target:
        extend_csp(request, form_action=[target])


async def card(request: Request) -> Response:
    """What the payment page's script posts (Stripe.js's card token); answers JSON for it."""
    user = await require_user(request)
    form = await checked_form(request)
    context = context_of(request)
    try:
        answer = await payments.submit_in_page(
            context.database,
            payment_context(context.settings, request),
            user_id=user.id,
            payment_id=path_id(request, "payment_id"),
            fields={"token": form_text(form, "token")},
        )
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return JSONResponse({"error": refused.message}, status_code=400)
    return JSONResponse(dict(answer))


async def history(request: Request) -> Response:
    user = await require_user(request)
    page = await payment_desk.customer_payments_page(
        context_of(request).database, user.id, before=query_id(request, "before"), after=query_id(request, "after")
    )
    return show(request, "customer/payments.html", user, page=page, links=pager_urls("/funds/payments", page, {}))


routes = [
    Route("/funds/pay", pay, methods=["POST"]),
    Route("/funds/payments", history, methods=["GET"]),
    Route("/funds/payments/{payment_id:int}", payment_page, methods=["GET", "POST"]),
    Route("/funds/payments/{payment_id:int}/card", card, methods=["POST"]),
]
