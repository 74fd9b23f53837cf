"""Customers: find them, fund or correct balances, disable, new keys, discounts and custom rates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Refused
from smmpanel.i18n import N_
from smmpanel.money import format_amount
from smmpanel.usecases import accounts, funds, people, pricing, sessions
from smmpanel.usecases.audit import Audit
from smmpanel.usecases.customer_desk import CustomerView, customer_view, find_customers
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import (
    acting,
    form_amount,
    form_text,
    form_values,
    form_whole,
    path_id,
    query_id,
    show,
)
from smmpanel.web.pages import pager_urls, redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of


async def customer_list(request: Request) -> Response:
    user = staff_user(request)
    text = request.query_params.get("q", "")
    page = await find_customers(
        context_of(request).database, text, before=query_id(request, "before"), after=query_id(request, "after")
    )
    links = pager_urls("/admin/customers", page, {"q": text})
    return show(request, "admin/customers.html", user, page=page, q=text, links=links)


async def _view(db: Database, customer_id: int) -> CustomerView:
    try:
        return await customer_view(db, customer_id)
    except NotFound:
        raise PageNotFound from None


async def _detail(
    request: Request, user: Customer, view: CustomerView, *, status_code: int = 200, **values: Any
) -> Response:
    db = context_of(request).database
    ledger = await funds.ledger_page(
        db, view.customer.id, before=query_id(request, "before"), after=query_id(request, "after")
    )
    links = pager_urls(f"/admin/customers/{view.customer.id}", ledger, {})
    return show(
        request, "admin/customer.html", user, status_code=status_code, view=view, ledger=ledger, links=links, **values
    )


async def customer_page(request: Request) -> Response:
    user = staff_user(request)
    return await _detail(request, user, await _view(context_of(request).database, path_id(request)))


Action = Callable[[Database, Customer, FormData, Audit], Awaitable[str]]
"""Does one change through a use case; answers the notice shown after it."""


def _action(act: Action) -> Callable[[Request], Awaitable[Response]]:
    """POST: check CSRF, run the change; a refusal re-renders the page with the message and the input."""

    async def endpoint(request: Request) -> Response:
        user = staff_user(request)
        form = await checked_form(request)
        db = context_of(request).database
        view = await _view(db, path_id(request))
        try:
            notice = await act(db, view.customer, form, acting(user))
        except (Refused, NotFound) as refusal:
            message = refusal.message if isinstance(refusal, Refused) else str(refusal)
            return await _detail(request, user, view, status_code=400, error=message, form=form_values(form))
        return redirect(f"/admin/customers/{view.customer.id}", notice, request)

    return endpoint


async def _fund(db: Database, customer: Customer, form: FormData, audit: Audit) -> str:
    amount = form_amount(form, "amount", "Amount")
    balance = await accounts.fund(db, customer.username, amount, form_text(form, "note").strip(), audit=audit)
    return f"{customer.username}: {format_amount(amount)} recorded, balance now {format_amount(balance)}."


async def _disable(db: Database, customer: Customer, form: FormData, audit: Audit) -> str:
    disabled = form_text(form, "disabled") == "1"
    await people.set_disabled(db, customer, disabled, audit=audit)
    return f"{customer.username} is {'disabled' if disabled else 'enabled'}."


async def _discount(db: Database, customer: Customer, form: FormData, audit: Audit) -> str:
    discount = form_amount(form, "discount", "Discount", blank=0)
    await pricing.set_discount(db, customer.username, discount, audit=audit)
    return f"{customer.username}'s discount is {format_amount(discount)} %."


async def _set_rate(db: Database, customer: Customer, form: FormData, audit: Audit) -> str:
    service_id = form_whole(form, "service_id", "Service")
    rate = form_amount(form, "rate", "Rate")
    await pricing.set_custom_rate(db, customer.username, service_id, rate, audit=audit)
    return f"{customer.username} now pays {format_amount(rate)} per 1000 for service {service_id}."


async def _remove_rate(db: Database, customer: Customer, form: FormData, audit: Audit) -> str:
    service_id = form_whole(form, "service_id", "Service")
    await pricing.set_custom_rate(db, customer.username, service_id, None, audit=audit)
    return f"Custom rate for service {service_id} removed."


async def _end_sessions(db: Database, customer: Customer, form: FormData, audit: Audit) -> str:
    ended = await sessions.end_sessions(db, customer.id, audit=audit)
    return f"{customer.username} is signed out everywhere ({ended} session{'' if ended == 1 else 's'} ended)."


async def rotate_key(request: Request) -> Response:
    """A new API key, shown on this one answer only: it is stored hashed and never again readable."""
    user = staff_user(request)
    await checked_form(request)
    db = context_of(request).database
    view = await _view(db, path_id(request))
    new = await accounts.rotate_key(db, view.customer.username, audit=acting(user))
    notice = N_("A new API key was made; the old one no longer works. Copy it now: it is not shown again.")
    response = await _detail(request, user, view, new_key=new.api_key, notice=notice)
    response.headers["Cache-Control"] = "no-store"
    return response


routes = [
    AdminRoute("/admin/customers", customer_list, Permission.CUSTOMERS_READ, methods=["GET"]),
    AdminRoute("/admin/customers/{id:int}", customer_page, Permission.CUSTOMERS_READ, methods=["GET"]),
    AdminRoute("/admin/customers/{id:int}/fund", _action(_fund), Permission.FUNDS, methods=["POST"]),
    AdminRoute("/admin/customers/{id:int}/disabled", _action(_disable), Permission.CUSTOMERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/customers/{id:int}/discount", _action(_discount), Permission.CUSTOMERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/customers/{id:int}/rates", _action(_set_rate), Permission.CUSTOMERS_WRITE, methods=["POST"]),
    AdminRoute(
        "/admin/customers/{id:int}/rates/remove", _action(_remove_rate), Permission.CUSTOMERS_WRITE, methods=["POST"]
    ),
    AdminRoute("/admin/customers/{id:int}/key", rotate_key, Permission.CUSTOMERS_WRITE, methods=["POST"]),
    AdminRoute(
        "/admin/customers/{id:int}/sessions/end", _action(_end_sessions), Permission.CUSTOMERS_WRITE, methods=["POST"]
    ),
]
