"""API v2: one endpoint, one action per request, answers shaped by the configured style."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from smmpanel.api.limits import TOO_MANY_REQUESTS, too_many_requests
from smmpanel.api.observability import api_call
from smmpanel.api.params import Params, TransportError, id_list, read_params
from smmpanel.api.styles import ResponseStyle, subscription
from smmpanel.db.repositories import Customer
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import messages as msg
from smmpanel.domain.orders import parse_whole
from smmpanel.errors import Refused
from smmpanel.money import format_amount
from smmpanel.usecases import accounts, orders, pricing, refills

log = logging.getLogger("smmpanel.api")

JSON_TYPE = "application/json; charset=utf-8"
PATHS = frozenset({"/api/v2", "/api/v2/"})
METHODS = frozenset({"GET", "POST"})


def json_response(content: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status_code, media_type=JSON_TYPE)


@dataclass(frozen=True)
class Call:
    """One authenticated API call, with everything an action needs."""

    db: Database
    customer: Customer
    params: Params
    style: ResponseStyle
    currency: str


def _positive(token: str) -> int | None:
    number = parse_whole(token)
    return number if number else None


def _ids(tokens: list[str]) -> dict[str, int | None]:
    return {token: _positive(token) for token in tokens}


def _valid(ids: dict[str, int | None]) -> list[int]:
    return [number for number in ids.values() if number is not None]


def _id_or_token(token: str, number: int | None) -> int | str:
    return token if number is None else number


async def _services(call: Call) -> object:
    """The catalog at this customer's own rates (one extra statement: their custom rates)."""
    listing = await pricing.services_for(call.db, call.customer)
    return [call.style.service(service) for service in listing]


async def _add(call: Call) -> object:
    return {"order": await orders.place_order(call.db, call.customer.id, call.params)}


async def _status(call: Call) -> object:
    if "orders" in call.params:
        ids = _ids(id_list(call.params["orders"]))
        found = await orders.progress_of_orders(call.db, call.customer.id, _valid(ids))
        answer: dict[str, object] = {}
        for token, number in ids.items():
            order = found.get(number) if number is not None else None
            answer[token] = call.style.order_status(order, call.currency) if order else {"error": msg.INCORRECT_ORDER}
        return answer
    number = _positive(call.params.get("order", ""))
    found = await orders.progress_of_orders(call.db, call.customer.id, [number] if number else [])
    if number is None or number not in found:
        raise Refused(msg.INCORRECT_ORDER)
    return call.style.order_status(found[number], call.currency)


async def _refill(call: Call) -> object:
    if "orders" in call.params:
        ids = _ids(id_list(call.params["orders"]))
        outcomes = await refills.request_refills(call.db, call.customer.id, _valid(ids))
        items = []
        for token, number in ids.items():
            outcome = outcomes.get(number, msg.INCORRECT_ORDER) if number is not None else msg.INCORRECT_ORDER
            refill: object = {"error": outcome} if isinstance(outcome, str) else outcome
            items.append({"order": _id_or_token(token, number), "refill": refill})
        return items
    number = _positive(call.params.get("order", ""))
    if number is None:
        raise Refused(msg.INCORRECT_ORDER)
    outcome = (await refills.request_refills(call.db, call.customer.id, [number]))[number]
    if isinstance(outcome, str):
        raise Refused(outcome)
    return {"refill": call.style.single_refill(outcome)}


async def _refill_status(call: Call) -> object:
    if "refills" in call.params:
        ids = _ids(id_list(call.params["refills"]))
        found = await refills.refills_of_customer(call.db, call.customer.id, _valid(ids))
        items = []
        for token, number in ids.items():
            refill = found.get(number) if number is not None else None
            status: object = refill.status.value if refill else {"error": msg.REFILL_NOT_FOUND}
            items.append({"refill": _id_or_token(token, number), "status": status})
        return items
    number = _positive(call.params.get("refill", ""))
    found = await refills.refills_of_customer(call.db, call.customer.id, [number] if number else [])
    if number is None or number not in found:
        raise Refused(msg.REFILL_NOT_FOUND)
    return {"status": found[number].status.value}


async def _cancel(call: Call) -> object:
    tokens = id_list(call.params["orders"] if "orders" in call.params else call.params.get("order"))
    if not tokens:
        raise Refused(msg.INCORRECT_ORDER)
    ids = _ids(tokens)
    outcomes = await orders.cancel_orders(call.db, call.customer.id, _valid(ids))
    items = []
    for token, number in ids.items():
        error = outcomes.get(number, msg.INCORRECT_ORDER) if number is not None else msg.INCORRECT_ORDER
        result = call.style.cancel_success if error is None else {"error": error}
        items.append({"order": _id_or_token(token, number), "cancel": result})
    return items


async def _balance(call: Call) -> object:
    balance = await accounts.balance_of(call.db, call.customer.id)
    return {"balance": format_amount(balance), "currency": call.currency}


async def _subscriptions(call: Call) -> object:
    found = await orders.schedules_of_customer(call.db, call.customer.id)
    return [subscription(order, per_post=per_post) for order, per_post in found]


ACTIONS: dict[str, Callable[[Call], Awaitable[object]]] = {
    "services": _services,
    "add": _add,
    "status": _status,
    "refill": _refill,
    "refill_status": _refill_status,
    "cancel": _cancel,
    "balance": _balance,
    "subscriptions": _subscriptions,
}


async def endpoint(request: Request) -> Response:
    """``/api/v2``: every outcome, including failures, is JSON; API-level errors are HTTP 200."""
    state = request.app.state
    record = api_call(request.scope)  # what the request did, for its log line and the metrics
    try:
        params = await read_params(request)
        record.action = params.get("action", "")
        customer = await accounts.authenticate(state.db, params.get("key"))
        client = request.scope.get("client")
        address = client[0] if client else "unknown"
        retry_after = await state.limits.check(address, customer.id if customer else None, record.action)
        if retry_after is not None:
            record.error = TOO_MANY_REQUESTS
            return too_many_requests(retry_after)
        if customer is None:
            raise Refused(msg.INVALID_KEY)
        action = ACTIONS.get(params.get("action", ""))
        if action is None:
            raise Refused(msg.INCORRECT_REQUEST)
        call = Call(state.db, customer, params, state.style, state.settings.currency)
        return json_response(await action(call))
    except Refused as refused:
        record.error = refused.message
        return json_response({"error": refused.message})
    except TransportError as error:
        record.error = error.message
        return json_response({"error": error.message}, status_code=error.status_code)


def client_gone(request: Request) -> Response:
    """The client hung up while sending its request: nothing was done, and nobody reads the answer."""
    log.info("client disconnected before its request on %s was read", request.url.path)
    return json_response({"error": "Client disconnected"}, status_code=400)


async def asgi_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """``endpoint`` as a plain ASGI application, for ``smmpanel.app``'s short API stack (no router)."""
    request = Request(scope, receive)
    try:
        response = await endpoint(request)
    except ClientDisconnect:
        response = client_gone(request)
    await response(scope, receive, send)
