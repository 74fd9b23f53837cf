"""The customer's orders: search, filter, page through, look at one, cancel or refill it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.domain.orders import OrderStatus
from smmpanel.errors import NotFound, Phrase, Refused
from smmpanel.i18n import translated
from smmpanel.money import format_amount
from smmpanel.usecases import catalog
from smmpanel.usecases.customer_orders import OrderSearch, cancel_order, order_detail, orders_page, refill_order
from smmpanel.web.auth_routes import form_text
from smmpanel.web.customer.common import currency, path_id, query_id, redirect_error, show
from smmpanel.web.pages import pager_urls, redirect, safe_next
from smmpanel.web.security import PageNotFound, checked_form, context_of, require_user

STATUSES = [status.value for status in OrderStatus]


async def order_list(request: Request) -> Response:
    user = await require_user(request)
    db = context_of(request).database
    text = request.query_params.get("q", "").strip()[:2048]
    status_text = request.query_params.get("status", "")
    status = OrderStatus(status_text) if status_text in STATUSES else None
    service_id = query_id(request, "service")
    search = OrderSearch(text=text, status=status, service_id=service_id)
    page = await orders_page(db, user.id, search, before=query_id(request, "before"), after=query_id(request, "after"))
    keep = {"q": text, "status": status.value if status else "", "service": str(service_id or "")}
    return show(
        request,
        "customer/orders.html",
        user,
        page=page,
        search=search,
        statuses=STATUSES,
        # The filtered service by name, not the whole catalog as <option>s: with 5,000 services
        # those cost ~30 ms and ~400 KB per page (benchmarks/RESULTS.md, "Dashboard order lists").
        service=await catalog.service_by_id(db, service_id) if service_id else None,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        links=pager_urls("/orders", page, keep),
    )


async def order_page(request: Request) -> Response:
    user = await require_user(request)
    order_id = path_id(request, "order_id")
    try:
        detail = await order_detail(context_of(request).database, user.id, order_id)
    except NotFound:
        raise PageNotFound from None
    return show(request, "customer/order.html", user, detail=detail, here=f"/orders/{order_id}")


async def cancel(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    order_id = path_id(request, "order_id")
    back = safe_next(form_text(form, "next") or "/orders")
    try:
        outcome = await cancel_order(context_of(request).database, user.id, order_id)
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return redirect_error(
            back,
            Phrase("Order #%(order_id)s: %(reason)s", order_id=order_id, reason=translated(refused.message)),
            request,
        )
    money = currency(request)
    if outcome.order.status is OrderStatus.CANCELED:
        notice = Phrase(
            "Order #%(order_id)s canceled. %(refunded)s %(currency)s refunded;"
            " your balance is now %(balance)s %(currency)s.",
            order_id=order_id,
            refunded=format_amount(outcome.refunded),
            balance=format_amount(outcome.balance),
            currency=money,
        )
    else:
        notice = Phrase(
            "Cancel of order #%(order_id)s requested. Any refund follows when the order ends.", order_id=order_id
        )
    return redirect(back, notice, request)


async def refill(request: Request) -> Response:
    user = await require_user(request)
    form = await checked_form(request)
    order_id = path_id(request, "order_id")
    back = safe_next(form_text(form, "next") or "/orders")
    try:
        refill_id = await refill_order(context_of(request).database, user.id, order_id)
    except NotFound:
        raise PageNotFound from None
    except Refused as refused:
        return redirect_error(
            back,
            Phrase("Order #%(order_id)s: %(reason)s", order_id=order_id, reason=translated(refused.message)),
            request,
        )
    return redirect(
        back,
        Phrase("Refill #%(refill_id)s requested for order #%(order_id)s.", refill_id=refill_id, order_id=order_id),
        request,
    )


routes = [
    Route("/orders", order_list, methods=["GET"]),
    Route("/orders/{order_id:int}", order_page, methods=["GET"]),
    Route("/orders/{order_id:int}/cancel", cancel, methods=["POST"]),
    Route("/orders/{order_id:int}/refill", refill, methods=["POST"]),
]
