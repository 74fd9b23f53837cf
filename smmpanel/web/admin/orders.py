"""Orders: everyone's, filtered and paged; one order's manual fulfilment, link and provider checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus, parse_whole
from smmpanel.domain.roles import Permission
from smmpanel.errors import NotFound, Refused
from smmpanel.money import format_amount
from smmpanel.usecases import fulfilment, orders
from smmpanel.usecases.audit import Audit, record
from smmpanel.usecases.catalog_desk import all_providers
from smmpanel.usecases.order_desk import (
    LINK_INDEXED_LENGTH,
    LINK_SHORT_WINDOW,
    OrderQuery,
    OrderView,
    check_with_provider,
    find_orders,
    newest_only,
    order_view,
)
from smmpanel.web.admin import bulk_orders
from smmpanel.web.admin.access import AdminRoute, staff_user
from smmpanel.web.admin.common import (
    acting,
    form_text,
    form_values,
    form_whole,
    path_id,
    provider_pool,
    query_id,
    show,
)
from smmpanel.web.pages import pager_urls, redirect
from smmpanel.web.security import PageNotFound, checked_form, context_of

FILTERS = ("q", "status", "customer", "service", "provider", "upstream")


def _status(text: str | None) -> OrderStatus | None:
    try:
        return OrderStatus(text) if text else None
    except ValueError:
        return None


async def order_list(request: Request) -> Response:
    user = staff_user(request)
    params = request.query_params
    db = context_of(request).database
    query = OrderQuery(
        text=params.get("q", ""),
        status=_status(params.get("status")),
        username=params.get("customer", ""),
        service_id=parse_whole(params.get("service")) or None,
        provider_id=parse_whole(params.get("provider")) or None,
        upstream_id=params.get("upstream", ""),
    )
    page = await find_orders(db, query, before=query_id(request, "before"), after=query_id(request, "after"))
    kept = {name: params.get(name, "") for name in FILTERS}
    return show(
        request,
        "admin/orders.html",
        user,
        page=page,
        filters=kept,
        statuses=list(OrderStatus),
        providers=await all_providers(db),
        links=pager_urls("/admin/orders", page, kept),
        link_indexed_length=LINK_INDEXED_LENGTH,
        link_short_window=LINK_SHORT_WINDOW,
        newest_only=newest_only(query),
        bulk_actions=bulk_orders.choices(user),
    )


async def _view(db: Database, order_id: int) -> OrderView:
    try:
        return await order_view(db, order_id)
    except NotFound:
        raise PageNotFound from None


async def _detail(
    request: Request, user: Customer, view: OrderView, *, status_code: int = 200, **values: Any
) -> Response:
    return show(request, "admin/order.html", user, status_code=status_code, view=view, **values)


async def order_page(request: Request) -> Response:
    user = staff_user(request)
    return await _detail(request, user, await _view(context_of(request).database, path_id(request)))


Action = Callable[[Request, int, FormData, Audit], Awaitable[str]]
"""One change of one order through a use case; answers the notice shown after it."""


def _action(act: Action) -> Callable[[Request], Awaitable[Response]]:
    """POST: check CSRF, run the change; a refusal re-renders the order with the message and the input."""

    async def endpoint(request: Request) -> Response:
        user = staff_user(request)
        form = await checked_form(request)
        db = context_of(request).database
        order_id = path_id(request)
        await _view(db, order_id)  # a missing order is a 404, like any address that does not exist
        try:
            notice = await act(request, order_id, form, acting(user))
        except (Refused, NotFound) as refusal:
            message = refusal.message if isinstance(refusal, Refused) else str(refusal)
            view = await _view(db, order_id)
            return await _detail(request, user, view, status_code=400, error=message, form=form_values(form))
        return redirect(f"/admin/orders/{order_id}", notice, request)

    return endpoint


async def _apply(request: Request, order_id: int, update: orders.OrderUpdate, audit: Audit) -> str:
    order = await orders.update_order(context_of(request).database, order_id, update, audit=audit)
    text = f"Order {order_id}: {order.status.value}, remains {order.remains}."
    return text + (f" Refunded in total: {format_amount(order.refunded)}." if order.refunded else "")


async def _start_count(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    update = orders.OrderUpdate(start_count=form_whole(form, "start_count", "Start count"))
    return await _apply(request, order_id, update, audit)


async def _remains(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    update = orders.OrderUpdate(remains=form_whole(form, "remains", "Remains"))
    return await _apply(request, order_id, update, audit)


async def _partial(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    update = orders.OrderUpdate(status=OrderStatus.PARTIAL, remains=form_whole(form, "remains", "Remains"))
    return await _apply(request, order_id, update, audit)


async def _complete(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    return await _apply(request, order_id, orders.OrderUpdate(status=OrderStatus.COMPLETED), audit)


async def _cancel(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    return await _apply(request, order_id, orders.OrderUpdate(status=OrderStatus.CANCELED), audit)


async def _status_only(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    status = _status(form_text(form, "status"))
    if status is None or status.is_final:
        raise Refused("Choose Pending, In progress or Processing (finish with the buttons below)")
    return await _apply(request, order_id, orders.OrderUpdate(status=status), audit)


async def _link(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    await orders.change_link(context_of(request).database, order_id, form_text(form, "link"), audit=audit)
    return f"Order {order_id}: link changed."


async def _resend(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    await fulfilment.resend(context_of(request).database, order_id, audit=audit)
    return f"Order {order_id} is queued to be sent again."


async def _check(request: Request, order_id: int, form: FormData, audit: Audit) -> str:
    async with provider_pool(request, quick=False) as pool:
        order = await check_with_provider(context_of(request).database, pool, order_id)
    facts = {"status": order.status.value, "remains": order.remains}
    await record(context_of(request).database, audit, "order.check", f"order {order_id}", None, facts)
    return f"Order {order_id}: the provider says {order.status.value}, remains {order.remains}."


routes = [
    AdminRoute("/admin/orders", order_list, Permission.ORDERS_READ, methods=["GET"]),
    *bulk_orders.routes,
    AdminRoute("/admin/orders/{id:int}", order_page, Permission.ORDERS_READ, methods=["GET"]),
    AdminRoute("/admin/orders/{id:int}/status", _action(_status_only), Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/start-count", _action(_start_count), Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/remains", _action(_remains), Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/partial", _action(_partial), Permission.REFUNDS, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/complete", _action(_complete), Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/cancel", _action(_cancel), Permission.REFUNDS, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/link", _action(_link), Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/resend", _action(_resend), Permission.ORDERS_WRITE, methods=["POST"]),
    AdminRoute("/admin/orders/{id:int}/check", _action(_check), Permission.ORDERS_WRITE, methods=["POST"]),
]
