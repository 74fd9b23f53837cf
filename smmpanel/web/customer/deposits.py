"""Paying in: choose a method on /funds, pay, and see honestly what is known of the payment.

``POST /funds/pay`` starts a payment and sends the customer on: to the gateway's page, to a
form posted to it, or to this panel's payment page (Stripe.js pays in the page; a manual
transfer waits there for the operator). ``/funds/payments/<id>`` is also where gateways send
the customer back: it says "waiting for confirmation" until the verified confirmation has
arrived, then what was credited. Nothing here believes the browser about money.
"""

from __future__ import annotations

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
    started = checkout.started
    if started.redirect_url and not started.form_fields:
        return redirect(started.redirect_url)
    return redirect(payments.return_path(checkout.payment.id))


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
    return show(
        request,
        "customer/payment.html",
        user,
        payment=payment,
        gateway=gateway,
        needs_review=adapter.needs_review,
        client=checkout.get("client") or {},
        form_url=checkout.get("redirect_url") if checkout.get("form_fields") else None,
        form_fields=checkout.get("form_fields") or {},
        redirect_url=None if checkout.get("form_fields") else checkout.get("redirect_url"),
    )


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
