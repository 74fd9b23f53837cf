"""A fake-but-real upstream provider: API v2 over HTTP, with orders that move on their own.

The demo needs orders that visibly go from Pending to Completed, and the tests and
benchmarks need an upstream that can be made slow, stingy or broken on purpose. The
simulator is not a panel: one API key, one balance, state in memory only (a restart
forgets everything). An order's progress is computed from elapsed monotonic time
whenever it is read, so nothing runs in the background and a given seed and call
sequence always tells the same story. Validation, charges and refunds are the
server's own domain rules, so the simulator can never teach the panel a wrong answer.
"""

from __future__ import annotations

import asyncio
import heapq
import hmac
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from smmpanel.api.body_limit import BodyLimit
from smmpanel.api.params import Params, TransportError, id_list, read_params
from smmpanel.api.styles import STYLES, ResponseStyle, subscription
from smmpanel.api.v2 import json_response
from smmpanel.clock import utcnow
from smmpanel.domain import messages as msg
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.orders import (
    Order,
    OrderRequest,
    OrderStatus,
    build_order_request,
    check_cancel_allowed,
    check_status_change,
    parse_whole,
    refund_for,
)
from smmpanel.domain.refills import RefillStatus, check_refill_allowed
from smmpanel.errors import Refused
from smmpanel.money import Units, format_amount, parse_amount, per_thousand_charge
from smmpanel.providers.simulator_ids import SimulatorIds

CURRENCY = "USD"
MAX_BODY_BYTES = 1_048_576
CUSTOMER_ID = 1
"""The simulator has exactly one customer: whoever holds its key."""
ACTIONS = ("services", "add", "status", "refill", "refill_status", "cancel", "balance", "subscriptions")
MAX_START_COUNT = 10_000

ERROR_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
    "<body><h1>Internal Server Error</h1><p>The server encountered an internal error "
    "and was unable to complete your request.</p></body></html>\n"
)
"""What a broken upstream really sends: HTML, not JSON, so clients must survive both."""


@dataclass(frozen=True)
class SimulatorSettings:
    api_key: str = "simulator-key"
    style: str = "perfectpanel"
    """Answer style, a key of ``smmpanel.api.styles.STYLES``."""
    seconds_per_step: float = 2.0
    """Pending for one step, In progress for one step, then finished; 0 = finished on the next read."""
    partial_rate: float = 0.0
    """Share of orders that end Partial, with some remains refunded."""
    refuse_rate: float = 0.0
    """Share of valid ``add`` calls answered ``Not enough funds on balance``."""
    error_rate: float = 0.0
    """Share of API calls answered with an HTTP 500 HTML page, with no effect."""
    latency: float = 0.0
    """Seconds every API answer is held back, after the request was acted on."""
    balance: str = "100000.00"
    seed: int | None = None
    """Reproducible randomness: the same seed and the same calls give the same answers."""
    state_file: str | None = None
    """Where the next order and refill ids are kept, so that they survive a restart (``SimulatorIds``)."""

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"unknown style {self.style!r}: use one of {', '.join(STYLES)}")
        for name in ("partial_rate", "refuse_rate", "error_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.seconds_per_step < 0 or self.latency < 0:
            raise ValueError("seconds_per_step and latency must not be negative")
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        parse_amount(self.balance)  # raises AmountError, a ValueError, on an inexact amount


def _service(
    number: int,
    name: str,
    category: str,
    kind: ServiceType,
    rate: str,
    low: int,
    high: int,
    *,
    refill: bool = False,
    cancel: bool = False,
    description: str,
) -> Service:
    return Service(
        id=number,
        name=name,
        category=category,
        type=kind,
        rate=parse_amount(rate),
        min=low,
        max=high,
        refill=refill,
        cancel=cancel,
        description=description,
        enabled=True,
        refill_days=30,
        deny_duplicate_link=False,
        position=number,
    )


CATALOG: tuple[Service, ...] = (
    _service(
        1,
        "Instagram Followers [Refill 30 days]",
        "Instagram Followers",
        ServiceType.DEFAULT,
        "0.90",
        50,
        100_000,
        refill=True,
        cancel=True,
        description="Real-looking accounts, 5k/day. Drip-feed supported. Cancel any time before completion.",
    ),
    _service(
        2,
        "TikTok Views Package 10k",
        "TikTok Views",
        ServiceType.PACKAGE,
        "2.50",
        1,
        1,
        description="One package of 10,000 views, delivered within the hour.",
    ),
    _service(
        3,
        "Instagram Custom Comments",
        "Instagram Comments",
        ServiceType.CUSTOM_COMMENTS,
        "12.00",
        1,
        500,
        description="Your own comments, one per line.",
    ),
    _service(
        4,
        "Instagram Mentions [Custom List]",
        "Instagram Mentions",
        ServiceType.MENTIONS_CUSTOM_LIST,
        "8.00",
        1,
        1000,
        description="Mentions of the usernames you list, one per line.",
    ),
    _service(
        5,
        "Instagram Mentions [Hashtag]",
        "Instagram Mentions",
        ServiceType.MENTIONS_HASHTAG,
        "6.00",
        100,
        5000,
        description="Mentions from users who posted with the hashtag you give.",
    ),
    _service(
        6,
        "Instagram Mentions [User Followers]",
        "Instagram Mentions",
        ServiceType.MENTIONS_USER_FOLLOWERS,
        "6.50",
        100,
        5000,
        description="Mentions from the followers of the username you give.",
    ),
    _service(
        7,
        "Twitter Poll Votes",
        "Twitter Polls",
        ServiceType.POLL,
        "3.00",
        50,
        20_000,
        description="Votes for the answer number you pick.",
    ),
    _service(
        8,
        "YouTube Comment Likes [Refill 30 days]",
        "YouTube Comments",
        ServiceType.COMMENT_LIKES,
        "4.00",
        20,
        2000,
        refill=True,
        description="Likes on the comment of the username you give.",
    ),
    _service(
        9,
        "Telegram Auto Views [Subscription]",
        "Telegram Views",
        ServiceType.SUBSCRIPTIONS,
        "0.40",
        100,
        50_000,
        description="Views on every new post, between min and max per post; charged per post.",
    ),
)
_BY_ID = {service.id: service for service in CATALOG}


@dataclass(frozen=True, slots=True)
class _Progress:
    """How far an order got: the fields an upstream status answer carries."""

    status: OrderStatus
    start_count: int
    remains: int
    finished_ns: int | None = None


@dataclass(slots=True)
class _SimOrder:
    id: int
    service: Service
    request: OrderRequest
    placed_ns: int
    created_at: datetime
    start_count: int
    final_remains: int
    """Remains once the timeline ends: 0 for Completed, more for Partial."""
    pinned: _Progress | None = None
    """Set by a cancel or a forced state; the timeline no longer applies."""
    refunded: Units = 0
    settled: bool = False
    """Its final money movement (a refund, or none) has happened."""
    post_size: int = 0
    """A Subscriptions order: the size of each post it delivers, one per step, each paid for as it comes."""
    posts_charged: int = 0

    @property
    def is_subscription(self) -> bool:
        return self.service.type is ServiceType.SUBSCRIPTIONS

    @property
    def post_cost(self) -> Units:
        return per_thousand_charge(self.service.rate, self.post_size)

    @property
    def ordered(self) -> int:
        return self.request.ordered


@dataclass(slots=True)
class _SimRefill:
    id: int
    order_id: int
    requested_ns: int


@dataclass
class Simulator:
    """The provider's whole state; every method runs under ``lock`` with one ``now``."""

    settings: SimulatorSettings
    clock: Callable[[], int] = time.monotonic_ns
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    orders: dict[int, _SimOrder] = field(default_factory=dict)
    refills: dict[int, _SimRefill] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    charged: Units = 0
    refunded: Units = 0
    errors_served: int = 0

    def __post_init__(self) -> None:
        self.style: ResponseStyle = STYLES[self.settings.style]
        self.balance: Units = parse_amount(self.settings.balance)
        self.step_ns = round(self.settings.seconds_per_step * 1_000_000_000)
        self._rng = random.Random(self.settings.seed)
        self._due: list[tuple[int, int]] = []
        """(finish time, order id) of timeline orders whose end pays a refund."""
        self.ids = SimulatorIds(self.settings.state_file)
        self._subscribed: list[int] = []
        """Subscriptions orders still delivering posts, charged as ``settle`` finds them."""

    def chance(self, rate: float) -> bool:
        """Draw only when the rate is between 0 and 1, so that 0 and 1 never disturb the sequence."""
        if rate <= 0.0:
            return False
        return rate >= 1.0 or self._rng.random() < rate

    # progress

    def posts(self, order: _SimOrder, now: int) -> int:
        """Posts a Subscriptions order has delivered: one per step, up to its ``posts`` if it set one."""
        if order.pinned is not None:
            return order.posts_charged
        done = (now - order.placed_ns) // self.step_ns if self.step_ns else 1
        limit = order.request.details.get("posts")
        return min(done, limit) if isinstance(limit, int) else done

    def progress(self, order: _SimOrder, now: int) -> _Progress:
        """Pending for one step, In progress for one step, then Completed or Partial.

        A Subscriptions order is Pending until its first post, In progress while it delivers
        posts, and Completed once it has delivered the ``posts`` it was asked for.
        """
        if order.pinned is not None:
            return order.pinned
        if order.is_subscription:
            posts, limit = self.posts(order, now), order.request.details.get("posts")
            if isinstance(limit, int) and posts >= limit:
                return _Progress(OrderStatus.COMPLETED, order.start_count, 0, order.placed_ns + limit * self.step_ns)
            return _Progress(OrderStatus.IN_PROGRESS if posts else OrderStatus.PENDING, order.start_count, 0)
        finish = order.placed_ns + 2 * self.step_ns
        elapsed = now - order.placed_ns
        if now >= finish:
            status = OrderStatus.PARTIAL if order.final_remains else OrderStatus.COMPLETED
            return _Progress(status, order.start_count, order.final_remains, finish)
        if elapsed < self.step_ns:
            return _Progress(OrderStatus.PENDING, 0, order.ordered)
        target = order.ordered - order.final_remains
        delivered = target * (elapsed - self.step_ns) // self.step_ns
        return _Progress(OrderStatus.IN_PROGRESS, order.start_count, order.ordered - delivered)

    def settle(self, now: int) -> None:
        """Pay the refunds of timeline orders that ended Partial, and charge the posts subscriptions
        delivered, whether or not anyone looked."""
        for order_id in list(self._subscribed):
            order = self.orders[order_id]
            posts = self.posts(order, now)
            self.balance -= order.post_cost * (posts - order.posts_charged)
            self.charged += order.post_cost * (posts - order.posts_charged)
            order.posts_charged = posts
            if order.pinned is not None or self.progress(order, now).status.is_final:
                self._subscribed.remove(order_id)
        while self._due and self._due[0][0] <= now:
            _, order_id = heapq.heappop(self._due)
            order = self.orders[order_id]
            if not order.settled:
                self._finish(order, self.progress(order, now))

    def _finish(self, order: _SimOrder, progress: _Progress) -> None:
        refund = refund_for(progress.status, order.request.charge, progress.remains, order.ordered)
        refund = min(refund, order.request.charge - order.refunded)
        order.refunded += refund
        order.settled = True
        self.balance += refund
        self.refunded += refund

    def _pin(self, order: _SimOrder, progress: _Progress) -> None:
        order.pinned = progress
        if progress.status.is_final and not order.settled:
            self._finish(order, progress)

    def snapshot(self, order: _SimOrder, now: int) -> Order:
        """The order as the panel's own domain sees it, so styles shape it like the server does."""
        progress = self.progress(order, now)
        finished_at = None
        if progress.finished_ns is not None:
            finished_at = order.created_at + timedelta(microseconds=(progress.finished_ns - order.placed_ns) // 1000)
        runs = order.request.runs or 1
        delivered = order.ordered - progress.remains
        posts = self.posts(order, now) if order.is_subscription else 0
        return Order(
            id=order.id,
            user_id=CUSTOMER_ID,
            service_id=order.service.id,
            link=order.request.link,
            quantity=order.post_size * posts if order.is_subscription else order.request.quantity,
            runs=order.request.runs,
            interval=order.request.interval,
            runs_done=runs * delivered // order.ordered if order.ordered else 0,
            details=order.request.details,
            charge=order.post_cost * posts if order.is_subscription else order.request.charge,
            refunded=order.refunded,
            status=progress.status,
            start_count=progress.start_count,
            remains=progress.remains,
            cancel_requested=False,
            created_at=order.created_at,
            finished_at=finished_at,
        )

    def refill_status(self, refill: _SimRefill, now: int) -> RefillStatus:
        return RefillStatus.PENDING if now - refill.requested_ns < self.step_ns else RefillStatus.COMPLETED

    # actions

    def handle(self, params: Params, now: int) -> object:
        if not hmac.compare_digest(params.get("key", "").encode(), self.settings.api_key.encode()):
            raise Refused(msg.INVALID_KEY)
        action = self._actions.get(params.get("action", ""))
        if action is None:
            raise Refused(msg.INCORRECT_REQUEST)
        self.settle(now)
        return action(self, params, now)

    def _services(self, params: Params, now: int) -> object:
        return [self.style.service(service) for service in CATALOG]

    def _add(self, params: Params, now: int) -> object:
        number = parse_whole(params.get("service"))
        service = _BY_ID.get(number or 0)
        if service is None:
            raise Refused(msg.INCORRECT_SERVICE)
        request = build_order_request(service, params, utcnow().date())
        needed = request.charge
        if service.type is ServiceType.SUBSCRIPTIONS:  # paid per post; the first one must be affordable
            needed = per_thousand_charge(service.rate, int(str(request.details["max"])))
        if self.chance(self.settings.refuse_rate) or self.balance < needed:
            raise Refused(msg.NOT_ENOUGH_FUNDS)
        self.balance -= request.charge
        self.charged += request.charge
        ordered = request.ordered
        final_remains = 0
        if ordered and self.chance(self.settings.partial_rate):
            final_remains = self._rng.randint(1, max(1, ordered - 1))
        order = _SimOrder(
            id=self.ids.take("order"),
            service=service,
            request=request,
            placed_ns=now,
            created_at=utcnow(),
            start_count=self._rng.randrange(MAX_START_COUNT),
            final_remains=final_remains,
        )
        self.orders[order.id] = order
        if service.type is ServiceType.SUBSCRIPTIONS:
            low, high = request.details["min"], request.details["max"]
            order.post_size = self._rng.randint(int(str(low)), int(str(high)))
            self._subscribed.append(order.id)
        if final_remains:
            heapq.heappush(self._due, (now + 2 * self.step_ns, order.id))
        return {"order": order.id}

    def _find(self, token: str | None) -> _SimOrder | None:
        return self.orders.get(parse_whole(token) or 0)

    def _status(self, params: Params, now: int) -> object:
        if "orders" in params:
            answer: dict[str, object] = {}
            for token in id_list(params["orders"]):
                order = self._find(token)
                found = self.style.order_status(self.snapshot(order, now), CURRENCY) if order else None
                answer[token] = found or {"error": msg.INCORRECT_ORDER}
            return answer
        order = self._find(params.get("order"))
        if order is None:
            raise Refused(msg.INCORRECT_ORDER)
        return self.style.order_status(self.snapshot(order, now), CURRENCY)

    def _refill_one(self, token: str, now: int) -> int:
        order = self._find(token)
        if order is None:
            raise Refused(msg.INCORRECT_ORDER)
        snapshot = self.snapshot(order, now)
        check_refill_allowed(order.service, snapshot.status, snapshot.finished_at, utcnow())
        for refill in self.refills.values():
            if refill.order_id == order.id and not self.refill_status(refill, now).is_final:
                return refill.id  # a retrying client never queues the same refill twice
        refill = _SimRefill(self.ids.take("refill"), order.id, now)
        self.refills[refill.id] = refill
        return refill.id

    def _refill(self, params: Params, now: int) -> object:
        if "orders" in params:
            items = []
            for token in id_list(params["orders"]):
                try:
                    outcome: object = self._refill_one(token, now)
                except Refused as refused:
                    outcome = {"error": refused.message}
                items.append({"order": _id_or_token(token), "refill": outcome})
            return items
        return {"refill": self.style.single_refill(self._refill_one(params.get("order", ""), now))}

    def _refill_status(self, params: Params, now: int) -> object:
        if "refills" in params:
            items = []
            for token in id_list(params["refills"]):
                refill = self.refills.get(parse_whole(token) or 0)
                status: object = self.refill_status(refill, now).value if refill else {"error": msg.REFILL_NOT_FOUND}
                items.append({"refill": _id_or_token(token), "status": status})
            return items
        refill = self.refills.get(parse_whole(params.get("refill")) or 0)
        if refill is None:
            raise Refused(msg.REFILL_NOT_FOUND)
        return {"status": self.refill_status(refill, now).value}

    def _cancel_one(self, token: str, now: int) -> None:
        """Settle at once: Canceled with a full refund if nothing was delivered, else Partial."""
        order = self._find(token)
        if order is None:
            raise Refused(msg.INCORRECT_ORDER)
        progress = self.progress(order, now)
        check_cancel_allowed(order.service, progress.status)
        if progress.remains >= order.ordered:
            self._pin(order, _Progress(OrderStatus.CANCELED, progress.start_count, order.ordered, now))
        else:
            self._pin(order, _Progress(OrderStatus.PARTIAL, progress.start_count, progress.remains, now))

    def _cancel(self, params: Params, now: int) -> object:
        tokens = id_list(params["orders"] if "orders" in params else params.get("order"))
        if not tokens:
            raise Refused(msg.INCORRECT_ORDER)
        items = []
        for token in tokens:
            try:
                self._cancel_one(token, now)
                result: object = self.style.cancel_success
            except Refused as refused:
                result = {"error": refused.message}
            items.append({"order": _id_or_token(token), "cancel": result})
        return items

    def _balance(self, params: Params, now: int) -> object:
        return {"balance": format_amount(self.balance), "currency": CURRENCY}

    def _subscriptions(self, params: Params, now: int) -> object:
        drip_feeds = [order for order in reversed(self.orders.values()) if order.request.runs is not None]
        return [subscription(self.snapshot(order, now)) for order in drip_feeds]

    _actions: ClassVar[Mapping[str, Callable[[Simulator, Params, int], object]]] = {
        "services": _services,
        "add": _add,
        "status": _status,
        "refill": _refill,
        "refill_status": _refill_status,
        "cancel": _cancel,
        "balance": _balance,
        "subscriptions": _subscriptions,
    }

    # test-only control

    def preload(
        self,
        count: int,
        *,
        service_id: int = 1,
        link: str = "https://example.com/post",
        quantity: int = 1000,
        status: OrderStatus = OrderStatus.IN_PROGRESS,
        start_count: int = 0,
        remains: int | None = None,
    ) -> range:
        """Add ``count`` orders at once, as if placed earlier, and return their ids.

        For benchmarks that need a provider already holding many orders. They are
        pinned at ``status`` (``remains`` defaults to the whole quantity) and cost
        nothing: the balance and ``charged`` stay as they are. Call it before the
        simulator serves, or under ``lock``.
        """
        service = _BY_ID[service_id]
        request = build_order_request(service, {"link": link, "quantity": str(quantity)}, utcnow().date())
        pinned = _Progress(status, start_count, request.ordered if remains is None else remains)
        now, created_at = self.clock(), utcnow()
        first = self.ids.take("order", count)
        for order_id in range(first, first + count):
            self.orders[order_id] = _SimOrder(
                order_id, service, request, now, created_at, start_count, 0, pinned=pinned, settled=True
            )
        return range(first, first + count)

    def force(self, order_id: int, params: Params, now: int) -> object:
        """Set an order's state the way the operator's manual fulfilment does, and pin it there."""
        self.settle(now)
        order = self.orders.get(order_id)
        if order is None:
            raise Refused(msg.INCORRECT_ORDER)
        current = self.progress(order, now)
        status = current.status
        if params.get("status"):
            try:
                status = OrderStatus(params["status"])
            except ValueError:
                raise Refused(f"status must be one of {', '.join(OrderStatus)}") from None
        check_status_change(current.status, status)
        start_count = _optional_count(params, "start_count", current.start_count)
        remains = _optional_count(params, "remains", current.remains)
        if remains > order.ordered:
            raise Refused(f"remains must be between 0 and {order.ordered}")
        if current.status.is_final and remains != current.remains:
            raise Refused(f"Order is already {current.status.value}")
        if status is OrderStatus.COMPLETED:
            remains = 0
        elif status is OrderStatus.CANCELED:
            remains = order.ordered
        finished = current.finished_ns if current.finished_ns is not None else now
        self._pin(order, _Progress(status, start_count, remains, finished if status.is_final else None))
        return self.style.order_status(self.snapshot(order, now), CURRENCY)

    def stats(self, now: int) -> dict[str, object]:
        self.settle(now)
        by_status = Counter(self.progress(order, now).status.value for order in self.orders.values())
        return {
            "orders": {status.value: by_status[status.value] for status in OrderStatus},
            "orders_total": len(self.orders),
            "add_calls": self.calls["add"],
            "calls": dict(self.calls),
            "errors_served": self.errors_served,
            "refills": len(self.refills),
            "charged": format_amount(self.charged),
            "refunded": format_amount(self.refunded),
            "balance": format_amount(self.balance),
        }


def _id_or_token(token: str) -> int | str:
    number = parse_whole(token)
    return number if number else token


def _optional_count(params: Params, name: str, default: int) -> int:
    if not params.get(name):
        return default
    number = parse_whole(params[name])
    if number is None:
        raise Refused(f"{name} must be a whole number")
    return number


def _simulator(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


async def _api(request: Request) -> Response:
    """``/api/v2``: answers like a real upstream, including its bad days.

    A request is read and acted on at once; ``latency`` delays only the answer, so a
    client that stops waiting (a timeout, a killed worker) leaves the order placed all the same.
    """
    simulator = _simulator(request)
    try:
        params = await read_params(request)
    except TransportError as error:
        return json_response({"error": error.message}, status_code=error.status_code)
    response: Response
    async with simulator.lock:
        action = params.get("action", "")
        simulator.calls[action if action in ACTIONS else "other"] += 1
        if simulator.chance(simulator.settings.error_rate):
            simulator.errors_served += 1
            response = HTMLResponse(ERROR_PAGE, status_code=500)
        else:
            try:
                answer = simulator.handle(params, simulator.clock())
            except Refused as refused:
                answer = {"error": refused.message}
            response = json_response(answer)
    if simulator.settings.latency:
        await asyncio.sleep(simulator.settings.latency)
    return response


async def operator_params(request: Request) -> Params | Response:
    """The parameters of a ``_sim`` control call, or the answer refusing it: the controls answer
    only whoever holds the simulator's key (its ``key`` parameter)."""
    try:
        params = await read_params(request)
    except TransportError as error:
        return json_response({"error": error.message}, status_code=400)
    expected = _simulator(request).settings.api_key.encode()
    if not hmac.compare_digest(params.get("key", "").encode(), expected):
        return json_response({"error": msg.INVALID_KEY}, status_code=403)
    return params


async def _force(request: Request) -> Response:
    """``POST /_sim/orders/{id}`` with key, status, start_count, remains: lets a test script an outcome."""
    simulator = _simulator(request)
    params = await operator_params(request)
    if isinstance(params, Response):
        return params
    async with simulator.lock:
        try:
            answer = simulator.force(request.path_params["order_id"], params, simulator.clock())
        except Refused as refused:
            code = 404 if refused.message == msg.INCORRECT_ORDER else 400
            return json_response({"error": refused.message}, status_code=code)
    return json_response(answer)


async def _stats(request: Request) -> Response:
    """``GET /_sim/stats?key=…``: counts a test can assert on, such as "forwarded exactly once"."""
    simulator = _simulator(request)
    refused = await operator_params(request)
    if isinstance(refused, Response):
        return refused
    async with simulator.lock:
        answer = simulator.stats(simulator.clock())
    return json_response(answer)


def create_simulator_app(settings: SimulatorSettings) -> Starlette:
    app = Starlette(
        routes=[
            Route("/api/v2", _api, methods=["GET", "POST"]),
            Route("/api/v2/", _api, methods=["GET", "POST"]),
            Route("/_sim/orders/{order_id:int}", _force, methods=["POST"]),
            Route("/_sim/stats", _stats, methods=["GET"]),
        ],
        middleware=[Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)],
    )
    app.state.simulator = Simulator(settings)
    return app


def run_simulator(settings: SimulatorSettings, host: str, port: int) -> None:
    """Serve the simulator until interrupted (``smmpanel simulate-provider``)."""
    base = f"http://{host}:{port}"
    print(f"provider simulator at {base}/api/v2  key: {settings.api_key}  style: {settings.style}", flush=True)
    uvicorn.run(create_simulator_app(settings), host=host, port=port, log_level="info", server_header=False)
