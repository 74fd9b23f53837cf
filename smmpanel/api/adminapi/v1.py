"""``/adminapi/v1?key=…&action=…``: the older admin API that some fulfilment tools still speak.

Parameters are read exactly as API v2 reads them (query string, form or JSON); the
actions run the same use cases as ``/adminapi/v2``. Answers: ``{"status": "success", …}``,
or ``{"status": "error", "error": "…", "error_code": N}`` with the v2 codes, HTTP 200.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.api.adminapi import shapes
from smmpanel.api.adminapi.envelope import (
    JSON_TYPE,
    MAX_IDS,
    NOT_FOUND,
    OK,
    TOO_LARGE,
    ApiError,
    bad,
    ids,
    json_object,
    optional_whole,
    order_status,
    text,
    whole,
)
from smmpanel.api.adminapi.gate import Call, admit, guarded
from smmpanel.api.adminapi.v2 import amount, outcome
from smmpanel.api.params import TransportError, read_params
from smmpanel.domain.orders import OrderStatus
from smmpanel.usecases import admin_desk, fulfilment_api
from smmpanel.usecases.orders import OrderUpdate


def _json(content: dict[str, object], status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type=JSON_TYPE)


def _failure(error: ApiError) -> Response:
    body = {"status": "error", "error": error.message, "error_code": error.code}
    headers = None if error.retry_after is None else {"Retry-After": str(error.retry_after)}
    return Response(orjson.dumps(body), status_code=error.status_code, media_type=JSON_TYPE, headers=headers)


def _success(**values: object) -> Response:
    return _json({"status": "success", **values})


def _lease(call: Call) -> timedelta:
    return timedelta(seconds=call.settings.admin_api_lease_seconds)


def _orders(call: Call, found: list[fulfilment_api.AdminOrder]) -> list[dict[str, object]]:
    return [shapes.order(item, call.settings.currency) for item in found]


async def _get_orders(call: Call) -> Response:
    """Waiting orders of manual services (``type``: service ids), pulled for this key as v2's ``orders/pull``."""
    limit = whole(call.params, "limit", 100, low=1, high=MAX_IDS)
    service_ids = ids(call.params, "type") or ids(call.params, "service_ids")
    pulled = await fulfilment_api.pull_orders(call.db, call.key, service_ids, limit, _lease(call))
    return _success(orders=_orders(call, pulled))


async def _get_orders_by_id(call: Call) -> Response:
    wanted = ids(call.params, "orders") or ids(call.params, "id", required=True)
    found = await fulfilment_api.orders_by_id(call.db, wanted)
    return _success(orders=_orders(call, [found[number] for number in wanted if number in found]))


async def _update(call: Call, order_id: int, update: OrderUpdate) -> None:
    await fulfilment_api.update_order(call.db, call.key, order_id, update, lease=_lease(call))


async def _update_orders(call: Call) -> Response:
    """``orders``: a JSON list of ``{"id", "status", "remains", "start_count"}``; all or nothing per order."""
    raw = call.params.get("orders", "")
    items = json_object(b'{"orders": ' + raw.encode() + b"}").get("orders") if raw.strip() else None
    if not isinstance(items, list) or not items or len(items) > MAX_IDS:
        raise bad("orders", f"expected a JSON list of at most {MAX_IDS} orders")
    results = []
    for item in items:
        if not isinstance(item, dict):
            raise bad("orders", "each order must be an object")
        status = order_status(item["status"]) if item.get("status") else None
        update = OrderUpdate(status, optional_whole(item, "start_count"), optional_whole(item, "remains"))
        order_id = whole(item, "id", low=1)

        async def work(order_id: int = order_id, update: OrderUpdate = update) -> None:
            await _update(call, order_id, update)

        code, message = await outcome(work)
        results.append({"id": order_id, "status": "success"} if code == OK else {"id": order_id, "error": message})
    return _success(orders=results)


def _set(status: OrderStatus) -> Callable[[Call], Awaitable[Response]]:
    async def serve(call: Call) -> Response:
        order_id = whole(call.params, "id", low=1)
        remains = whole(call.params, "remains") if status is OrderStatus.PARTIAL else None
        await _update(call, order_id, OrderUpdate(status, optional_whole(call.params, "start_count"), remains))
        return _success()

    return serve


def _payment(sign: int) -> Callable[[Call], Awaitable[Response]]:
    async def serve(call: Call) -> Response:
        username, units = text(call.params, "username"), amount(call.params)
        memo = text(call.params, "memo", required=False)
        balance = await admin_desk.add_payment(call.db, call.key, username, sign * units, memo)
        return _success(balance=shapes.money(balance, call.settings.currency)["value"])

    return serve


async def _get_user(call: Call) -> Response:
    username = text(call.params, "username")
    listing = await admin_desk.customers(call.db, username, 1, 0)
    if not listing.rows:
        raise ApiError(NOT_FOUND, f"no user named {username!r}")
    return _success(user=shapes.account(listing.rows[0], call.settings.currency))


async def _add_ticket(call: Call) -> Response:
    params = call.params
    ticket_id = await admin_desk.open_ticket(
        call.db, call.key, text(params, "username"), text(params, "subject"), text(params, "message")
    )
    return _success(ticket=ticket_id)


ACTIONS: dict[str, tuple[str, Callable[[Call], Awaitable[Response]]]] = {
    "getOrders": ("orders", _get_orders),
    "getOrders-by-id": ("orders", _get_orders_by_id),
    "updateOrders": ("orders", _update_orders),
    "setCompleted": ("orders", _set(OrderStatus.COMPLETED)),
    "setInprogress": ("orders", _set(OrderStatus.IN_PROGRESS)),
    "setCanceled": ("orders", _set(OrderStatus.CANCELED)),
    "setPartial": ("orders", _set(OrderStatus.PARTIAL)),
    "addPayment": ("payments", _payment(1)),
    "deductPayment": ("payments", _payment(-1)),
    "getUser": ("users", _get_user),
    "addTicket": ("tickets", _add_ticket),
}


async def endpoint(request: Request) -> Response:
    async def work() -> Response:
        state = request.app.state
        try:
            params: dict[str, Any] = dict(await read_params(request))
        except TransportError as error:
            code = TOO_LARGE if error.status_code == 413 else 400
            raise ApiError(code, error.message, status_code=error.status_code) from None
        name = str(params.get("action", ""))
        area, action = ACTIONS.get(name, ("orders", None))
        key = await admit(request, params.get("key"), area, write=not name.startswith("get"))
        if action is None:
            raise ApiError(NOT_FOUND, "Incorrect action")
        return await action(Call(state.db, key, params, state.settings, request))

    return await guarded(work, _failure)


routes = [Route("/adminapi/v1", endpoint, methods=["GET", "POST"])]
