"""Payments for the operator: the list with filters and totals, deposits to review, one payment
with its raw confirmation and every event, and the actions: approve, reject, refund."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.payment_repositories import Payment, PaymentSearch
from smmpanel.db.repositories import Customer
from smmpanel.domain.payments import PaymentStatus
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.gateways.registry import adapter_class
from smmpanel.money import format_amount
from smmpanel.usecases import payment_desk
from smmpanel.usecases.audit import Audit
from smmpanel.usecases.gateways import list_gateways
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import acting, form_text, form_values, path_id, query_id, show
from smmpanel.web.pages import pager_urls, redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of

FILTERS = ("status", "gateway", "customer", "since", "until")


def _day(text: str, label: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d")
    except ValueError:
        raise Refused("%(label)s: write a date as YYYY-MM-DD", label=label) from None


async def _search(request: Request, chosen: dict[str, str]) -> PaymentSearch:
    """The filters of the list, from its query string; a name that matches nothing matches no payment."""
    status = chosen["status"]
    if status and status not in {s.value for s in PaymentStatus}:
        raise Refused("unknown status %(status)r", status=status)
    db = context_of(request).database
    gateways = {gateway.name: gateway.id for gateway in await list_gateways(db)}
    user_id = None
    if chosen["customer"]:
        customer = await payment_desk.customer_named(db, chosen["customer"])
        user_id = customer.id if customer else 0
    until = _day(chosen["until"], "Until")
    return PaymentSearch(
        status=PaymentStatus(status) if status else None,
        gateway_id=gateways.get(chosen["gateway"], 0) if chosen["gateway"] else None,
        user_id=user_id,
        since=_day(chosen["since"], "Since"),
        until=None if until is None else until + timedelta(days=1),
    )


async def payment_list(request: Request) -> Response:
    user = staff_user(request)
    db = context_of(request).database
    chosen = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    error = None
    try:
        search = await _search(request, chosen)
    except Refused as refused:
        error, search = refused.message, PaymentSearch(user_id=0)
    page = await payment_desk.payments_page(
        db, search, before=query_id(request, "before"), after=query_id(request, "after")
    )
    totals = await payment_desk.payment_totals(db, search)
    return show(
        request,
        "admin/payments.html",
        user,
        status_code=400 if error else 200,
        error=error,
        page=page,
        totals=totals,
        chosen=chosen,
        statuses=[s.value for s in PaymentStatus],
        gateways=await list_gateways(db),
        links=pager_urls("/admin/payments", page, {k: v for k, v in chosen.items() if v}),
    )


async def review(request: Request) -> Response:
    user = staff_user(request)
    search = PaymentSearch(status=PaymentStatus.PENDING, kinds=payment_desk.review_kinds())
    db = context_of(request).database
    page = await payment_desk.payments_page(
        db, search, before=query_id(request, "before"), after=query_id(request, "after")
    )
    return show(
        request, "admin/payments_review.html", user, page=page, links=pager_urls("/admin/payments/review", page, {})
    )


async def _detail(request: Request, user: Customer, *, status_code: int = 200, **values: Any) -> Response:
    db = context_of(request).database
    try:
        detail = await payment_desk.payment_detail(db, path_id(request))
    except NotFound:
        raise PageNotFound from None
    gateway = await payment_desk.gateway_of(db, detail.payment)
    raw = None if detail.payment.confirmation is None else json.dumps(detail.payment.confirmation, indent=2)
    return show(
        request,
        "admin/payment.html",
        user,
        status_code=status_code,
        detail=detail,
        payment=detail.payment,
        gateway=gateway,
        reviewable=adapter_class(gateway.kind).needs_review,
        raw=raw,
        **values,
    )


async def payment_page(request: Request) -> Response:
    return await _detail(request, staff_user(request))


Action = Callable[[Request, Audit, int], Awaitable[Payment]]


def _action(act: Action, done: str) -> Callable[[Request], Awaitable[Response]]:
    """An operator's button on a payment: the use case, then back to the payment with a notice."""

    async def handler(request: Request) -> Response:
        user = staff_user(request)
        payment_id = path_id(request)
        try:
            payment = await act(request, acting(user), payment_id)
        except NotFound:
            raise PageNotFound from None
        except Refused as refused:
            typed = form_values(await checked_form(request))
            return await _detail(request, user, status_code=400, error=refused.message, form=typed)
        notice = Phrase(
            "Payment #%(payment_id)s %(done)s: %(amount)s %(currency)s.",
            payment_id=payment.id,
            done=done,
            amount=format_amount(payment.amount),
            currency=payment.currency,
        )
        back = form_text(await checked_form(request), "back")
        return redirect(back if back == "/admin/payments/review" else f"/admin/payments/{payment.id}", notice, request)

    return handler


async def _approve(request: Request, audit: Audit, payment_id: int) -> Payment:
    await checked_form(request)
    return await payment_desk.approve(context_of(request).database, payment_id, audit=audit)


async def _reject(request: Request, audit: Audit, payment_id: int) -> Payment:
    reason = form_text(await checked_form(request), "reason")
    return await payment_desk.reject(context_of(request).database, payment_id, reason, audit=audit)


async def _refund(request: Request, audit: Audit, payment_id: int) -> Payment:
    note = form_text(await checked_form(request), "note")
    return await payment_desk.refund(context_of(request).database, payment_id, note, audit=audit)


routes = [
    AdminRoute("/admin/payments", payment_list, Permission.PAYMENTS, methods=["GET"]),
    AdminRoute("/admin/payments/review", review, Permission.PAYMENTS, methods=["GET"]),
    AdminRoute("/admin/payments/{id:int}", payment_page, Permission.PAYMENTS, methods=["GET"]),
    AdminRoute(
        "/admin/payments/{id:int}/approve", _action(_approve, "approved"), Permission.PAYMENTS, methods=["POST"]
    ),
    AdminRoute("/admin/payments/{id:int}/reject", _action(_reject, "rejected"), Permission.PAYMENTS, methods=["POST"]),
    AdminRoute("/admin/payments/{id:int}/refund", _action(_refund, "refunded"), Permission.PAYMENTS, methods=["POST"]),
]
