"""``/adminapi/v2``: PerfectPanel's admin API, JSON in and out, keyed by ``X-Api-Key``.

Each endpoint parses its parameters, calls one use case and shapes the answer;
``gate`` does the key, the rate limit and the role, ``envelope`` the wire format.
Parameters come from the query string and, for POST, a JSON object body (body wins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.api.adminapi import shapes
from smmpanel.api.adminapi.envelope import (
    BAD_REQUEST,
    MAX_IDS,
    MAX_LIMIT,
    MAX_NUMBER,
    NOT_FOUND,
    OK,
    REFUSED,
    ApiError,
    answer,
    bad,
    failure,
    ids,
    json_object,
    moment,
    optional_whole,
    order_status,
    order_statuses,
    refill_status,
    text,
    whole,
)
from smmpanel.api.adminapi.gate import Call, admit, guarded, read_body
from smmpanel.db.admin_api_repositories import Listing, OrderFilters
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.orders import OrderStatus
from smmpanel.domain.tickets import TicketStatus
from smmpanel.errors import NotFound, Refused
from smmpanel.money import AmountError, parse_amount
from smmpanel.usecases import admin_desk, fulfilment_api, tickets
from smmpanel.usecases.orders import OrderUpdate

PREFIX = "/adminapi/v2"


def _lease(call: Call) -> timedelta:
    return timedelta(seconds=call.settings.admin_api_lease_seconds)


def _currency(call: Call) -> str:
    return str(call.settings.currency)


def _page(call: Call, count: int, limit: int, offset: int) -> dict[str, object]:
    """PerfectPanel's ``pagination``: clients follow ``next_page_href`` until it is null."""
    url = call.request.url

    def href(at: int) -> str:
        return str(url.include_query_params(limit=limit, offset=at))

    return {
        "prev_page_href": href(max(0, offset - limit)) if offset > 0 else None,
        "next_page_href": href(offset + limit) if offset + limit < count else None,
        "offset": offset,
        "limit": limit,
    }


# --- orders ------------------------------------------------------------------------


async def list_orders(call: Call) -> Response:
    params = call.params
    limit = whole(params, "limit", 100, low=1, high=MAX_LIMIT)
    offset = whole(params, "offset", 0)
    sort = text(params, "sort", required=False, default="date-desc")
    if sort not in ("date-desc", "date-asc"):
        raise bad("sort", "expected date-desc or date-asc")
    filters = OrderFilters(
        ids=ids(params, "ids"),
        created_from=moment(params, "created_from"),
        created_to=moment(params, "created_to"),
        statuses=order_statuses(params, "order_status"),
        service_ids=ids(params, "service_ids"),
        newest_first=sort == "date-desc",
        limit=limit,
        offset=offset,
    )
    username = text(params, "user", required=False) or None
    found, count = await fulfilment_api.find_orders(call.db, filters, username)
    data = {"list": [shapes.order(item, _currency(call)) for item in found], "count": count}
    return answer(data, extra={"pagination": _page(call, count, limit, offset)})


async def get_order(call: Call) -> Response:
    found = await fulfilment_api.order_by_id(call.db, call.params["id"])
    return answer(shapes.order(found, _currency(call)))


async def pull_orders(call: Call) -> Response:
    limit = whole(call.params, "limit", 100, low=1, high=MAX_IDS)
    pulled = await fulfilment_api.pull_orders(call.db, call.key, ids(call.params, "service_ids"), limit, _lease(call))
    return answer({"list": [shapes.order(item, _currency(call)) for item in pulled]})


def _update_of(item: dict[str, Any]) -> OrderUpdate:
    status = None if item.get("status") in (None, "") else order_status(item["status"])
    return OrderUpdate(status, optional_whole(item, "start_count"), optional_whole(item, "remains"))


async def outcome(work: Callable[[], Awaitable[object]]) -> tuple[int, str]:
    """One item of a batch: its error code and message (0 and "" when it succeeded)."""
    try:
        await work()
    except ApiError as error:
        return error.code, error.message
    except NotFound as error:
        return NOT_FOUND, str(error)
    except Refused as error:
        return REFUSED, error.message
    return OK, ""


def _result(order_id: object, code: int, message: str) -> dict[str, object]:
    return {"id": order_id, "success": code == OK, "message": message or "ok", "error_code": code}


async def update_orders(call: Call) -> Response:
    items = call.params.get("orders")
    if not isinstance(items, list) or not items:
        raise bad("orders", "expected a list of {id, status, remains, start_count, reason}")
    if len(items) > MAX_IDS:
        raise bad("orders", f"at most {MAX_IDS} orders")
    results = []
    for item in items:
        if not isinstance(item, dict):
            results.append(_result(None, BAD_REQUEST, "Incorrect order: expected an object"))
            continue
        order_id = item.get("id")

        async def work(item: dict[str, Any] = item) -> object:
            number = whole(item, "id", low=1)
            reason = text(item, "reason", required=False)
            return await fulfilment_api.update_order(
                call.db, call.key, number, _update_of(item), reason=reason, lease=_lease(call)
            )

        results.append(_result(order_id, *await outcome(work)))
    return answer({"orders": results})


async def edit_link(call: Call) -> Response:
    found = await fulfilment_api.change_link(call.db, call.key, call.params["id"], text(call.params, "link"))
    return answer(shapes.order(found, _currency(call)))


async def change_status(call: Call) -> Response:
    update = _update_of(call.params)
    if update.status is None:
        raise bad("status", "required")
    found = await fulfilment_api.update_order(call.db, call.key, call.params["id"], update, lease=_lease(call))
    return answer(shapes.order(found, _currency(call)))


async def set_partial(call: Call) -> Response:
    update = OrderUpdate(OrderStatus.PARTIAL, None, whole(call.params, "remains"))
    found = await fulfilment_api.update_order(call.db, call.key, call.params["id"], update, lease=_lease(call))
    return answer(shapes.order(found, _currency(call)))


def _batch(action: Callable[[Call, int], Awaitable[object]]) -> Callable[[Call], Awaitable[Response]]:
    """An action over ``ids`` (also ``orders`` or one ``id``), answered per order in ``data.orders``."""

    async def serve(call: Call) -> Response:
        params = call.params
        chosen = ids(params, "ids") or ids(params, "orders") or ([whole(params, "id", low=1)] if "id" in params else [])
        if not chosen:
            raise bad("ids", "required")
        results = []
        for order_id in chosen:

            async def work(order_id: int = order_id) -> object:
                return await action(call, order_id)

            results.append(_result(order_id, *await outcome(work)))
        return answer({"orders": results})

    return serve


async def _request_cancel(call: Call, order_id: int) -> object:
    await fulfilment_api.request_cancel(call.db, order_id)
    return None


async def _resend(call: Call, order_id: int) -> object:
    return await fulfilment_api.resend(call.db, call.key, order_id)


async def _cancel(call: Call, order_id: int) -> object:
    return await fulfilment_api.cancel_and_refund(call.db, call.key, order_id)


async def _reject_cancel(call: Call, order_id: int) -> object:
    return await fulfilment_api.reject_cancel(call.db, call.key, order_id)


# --- refills and cancels -----------------------------------------------------------


async def pull_refills(call: Call) -> Response:
    rows = await admin_desk.pull_refills(call.db, whole(call.params, "limit", 100, low=1, high=MAX_IDS))
    return answer({"list": [shapes.refill(row) for row in rows]})


async def change_refill_status(call: Call) -> Response:
    refill_id = whole(call.params, "id", low=1)
    row = await admin_desk.change_refill_status(call.db, call.key, refill_id, refill_status(call.params.get("status")))
    return answer(shapes.refill(row))


async def pull_cancels(call: Call) -> Response:
    found = await fulfilment_api.cancel_requests(call.db, whole(call.params, "limit", 100, low=1, high=MAX_IDS))
    return answer({"list": [shapes.order(item, _currency(call)) for item in found]})


# --- payments, users, tickets ------------------------------------------------------


def amount(params: dict[str, Any], name: str = "amount") -> int:
    value = params.get(name)
    try:
        units = parse_amount(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else None
    except AmountError:
        units = None
    if not units or units < 0:
        raise bad(name, 'expected a positive amount with at most 5 decimals, e.g. "10.50"')
    return units


def _listing(
    name: str,
    fetch: Callable[[Database, str | None, int, int], Awaitable[Listing]],
    shape: Callable[[Any, str], dict[str, object]],
) -> Callable[[Call], Awaitable[Response]]:
    """A paged listing narrowed to one username (``name``): ``data.list``, ``data.count``, ``pagination``."""

    async def serve(call: Call) -> Response:
        limit = whole(call.params, "limit", 100, low=1, high=MAX_LIMIT)
        offset = whole(call.params, "offset", 0)
        username = text(call.params, name, required=False) or None
        listing = await fetch(call.db, username, limit, offset)
        data = {"list": [shape(row, _currency(call)) for row in listing.rows], "count": listing.count}
        return answer(data, extra={"pagination": _page(call, listing.count, limit, offset)})

    return serve


async def add_payment(call: Call) -> Response:
    username, units = text(call.params, "user"), amount(call.params)
    memo = text(call.params, "memo", required=False) or text(call.params, "note", required=False)
    balance = await admin_desk.add_payment(call.db, call.key, username, units, memo)
    currency = _currency(call)
    data = {"user": username, "amount": shapes.money(units, currency), "balance": shapes.money(balance, currency)}
    return answer({**data, "memo": memo})


async def add_user(call: Call) -> Response:
    password = text(call.params, "password", required=False) or None
    created = await admin_desk.add_customer(call.db, call.key, text(call.params, "username"), password)
    return answer({"username": created.username, "api_key": created.api_key})


async def list_tickets(call: Call) -> Response:
    wanted = text(call.params, "status", required=False).strip().lower()
    statuses = {status.value.lower(): status for status in TicketStatus}
    if wanted and wanted not in statuses:
        raise bad("status", "expected one of " + ", ".join(statuses))
    limit = whole(call.params, "limit", 100, low=1, high=MAX_LIMIT)
    found = await tickets.tickets_for_operator(call.db, status=statuses.get(wanted), limit=limit)
    return answer({"list": [shapes.ticket(item) for item in found], "count": len(found)})


async def reply_ticket(call: Call) -> Response:
    ticket_id = call.params["id"]
    await admin_desk.reply_ticket(call.db, call.key, ticket_id, text(call.params, "message"))
    return answer({"id": ticket_id})


async def add_ticket(call: Call) -> Response:
    params = call.params
    ticket_id = await admin_desk.open_ticket(
        call.db, call.key, text(params, "user"), text(params, "subject"), text(params, "message")
    )
    return answer({"id": ticket_id})


# --- routing -----------------------------------------------------------------------


def _endpoint(area: str, handler: Callable[[Call], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        async def work() -> Response:
            state = request.app.state
            raw = await read_body(request, state.settings)
            params: dict[str, Any] = dict(request.query_params)
            if request.method == "POST":
                params.update(json_object(raw))
            key = await admit(request, request.headers.get("x-api-key"), area, write=request.method == "POST")
            if any(not 0 < number <= MAX_NUMBER for number in request.path_params.values()):
                raise ApiError(NOT_FOUND, "Not found")
            params.update(request.path_params)
            return await handler(Call(state.db, key, params, state.settings, request))

        return await guarded(work, failure)

    return serve


async def _unknown(request: Request) -> Response:
    return failure(ApiError(NOT_FOUND, "Unknown endpoint"))


_ROUTES: list[tuple[str, str, str, Callable[[Call], Awaitable[Response]]]] = [
    ("GET", "/orders", "orders", list_orders),
    ("GET", "/orders/{id:int}", "orders", get_order),
    ("POST", "/orders/pull", "orders", pull_orders),
    ("POST", "/orders/update", "orders", update_orders),
    ("POST", "/orders/{id:int}/edit-link", "orders", edit_link),
    ("POST", "/orders/{id:int}/change-status", "orders", change_status),
    ("POST", "/orders/{id:int}/set-partial", "orders", set_partial),
    ("POST", "/orders/request-cancel", "orders", _batch(_request_cancel)),
    ("POST", "/orders/resend", "orders", _batch(_resend)),
    ("POST", "/orders/cancel", "orders", _batch(_cancel)),
    ("POST", "/refill/pull", "orders", pull_refills),
    ("POST", "/refill/change-status", "orders", change_refill_status),
    ("POST", "/cancel/pull", "orders", pull_cancels),
    ("POST", "/cancel/reject", "orders", _batch(_reject_cancel)),
    ("GET", "/payments", "payments", _listing("user", admin_desk.topups, shapes.topup)),
    ("POST", "/payments/add", "payments", add_payment),
    ("GET", "/users", "users", _listing("username", admin_desk.customers, shapes.account)),
    ("POST", "/users/add", "users", add_user),
    ("GET", "/tickets", "tickets", list_tickets),
    ("POST", "/tickets/{id:int}/reply", "tickets", reply_ticket),
    ("POST", "/tickets/add", "tickets", add_ticket),
]

routes = [Route(PREFIX + path, _endpoint(area, handler), methods=[method]) for method, path, area, handler in _ROUTES]
routes.append(Route(PREFIX + "/{rest:path}", _unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]))
