"""The customer's dashboard view of ordering: the catalog, their orders, and what each may do next.

The pages only show what these answer; whether an order may be canceled or refilled
is decided here by the same domain rules the API's use cases apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from smmpanel.clock import utcnow
from smmpanel.db.order_repositories import OrderFilter
from smmpanel.db.repositories import Customer, Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.domain.dripfeed import remaining_runs, schedule_status
from smmpanel.domain.orders import Order, OrderStatus, check_cancel_allowed, parse_whole
from smmpanel.domain.refills import check_refill_allowed
from smmpanel.domain.subscriptions import delay_minutes, per_post_range, posts_limit, remaining_posts
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units
from smmpanel.usecases import orders, refills
from smmpanel.usecases.paging import DEFAULT_SIZE, Page, keyset_page
from smmpanel.usecases.pricing import price_listing

T = TypeVar("T")

COMPLETION_SAMPLE = 1000
"""How many of the latest Completed orders the average completion times come from: a bounded read."""


@dataclass(frozen=True)
class ServiceOffer:
    service: Service
    average_completion: timedelta | None
    """Over this service's share of the latest Completed orders; None when none of them is its."""


@dataclass(frozen=True)
class OrderRow:
    order: Order
    service_name: str
    can_cancel: bool
    can_refill: bool


@dataclass(frozen=True)
class OrderDetail:
    row: OrderRow
    service: Service
    runs: list[Order]
    """A drip-feed's runs placed so far, oldest first; empty for any other order."""


@dataclass(frozen=True)
class OrderSearch:
    """The customer's narrowing of their order list: an order id or an exact link, a status, a service."""

    text: str = ""
    status: OrderStatus | None = None
    service_id: int | None = None

    def as_filter(self) -> OrderFilter:
        text = self.text.strip()
        number = parse_whole(text)
        return OrderFilter(
            order_id=number,
            link=text if text and number is None else None,
            status=self.status.value if self.status else None,
            service_id=self.service_id,
        )


@dataclass(frozen=True)
class Receipt:
    order_id: int
    charge: Units
    balance: Units


@dataclass(frozen=True)
class CancelOutcome:
    order: Order
    refunded: Units
    """Paid back by this cancel; 0 when the cancel went to whoever delivers the order."""
    balance: Units


@dataclass(frozen=True)
class ScheduleRow:
    order: Order
    service_name: str
    status: str
    remaining_runs: int

    @property
    def can_stop(self) -> bool:
        return not self.order.status.is_final and not self.order.stopped


@dataclass(frozen=True)
class SubscriptionRow:
    """A Subscriptions-type order: one delivery of ``low``..``high`` per new post, ``delay`` minutes after it."""

    @dataclass(frozen=True)
    class Posts:
        delivered: int
        limit: int | None
        """None: every new post, with no limit."""
        remaining: int | None

    order: Order
    service_name: str
    status: str
    posts: Posts
    low: int
    high: int
    delay: int


def _passes(check: Callable[[], None]) -> bool:
    try:
        check()
    except Refused:
        return False
    return True


def _row(order: Order, service: Service | None) -> OrderRow:
    if service is None:  # services are never deleted; a row without one is shown without buttons
        return OrderRow(order, f"#{order.service_id}", False, False)
    now = utcnow()
    can_cancel = (
        order.parent_id is None
        and not order.cancel_requested
        and _passes(lambda: check_cancel_allowed(service, order.status))
    )
    can_refill = _passes(lambda: check_refill_allowed(service, order.status, order.finished_at, now))
    return OrderRow(order, service.name, can_cancel, can_refill)


async def service_offers(db: Database, customer: Customer) -> list[ServiceOffer]:
    """The enabled catalog at the customer's own rates (what ``place_order`` charges them), each with
    its average completion time where the latest orders tell it."""
    async with db.read() as repos:
        listing = await price_listing(repos, customer, await repos.services.listing(enabled_only=True))
        averages = await completion_averages(repos)
    return [ServiceOffer(service, averages.get(service.id)) for service in listing]


async def completion_averages(repos: Repositories) -> dict[int, timedelta]:
    """Service id → how long its orders took, over the latest Completed orders (one bounded read)."""
    spans: dict[int, list[timedelta]] = {}
    for service_id, created, finished in await repos.orders.recent_completions(COMPLETION_SAMPLE):
        spans.setdefault(service_id, []).append(max(finished - created, timedelta(0)))
    return {service_id: sum(found, timedelta(0)) / len(found) for service_id, found in spans.items()}


async def place_order_with_receipt(db: Database, user_id: int, params: Mapping[str, str]) -> Receipt:
    """``orders.place_order`` (the API's own use case), then what it charged and the balance left."""
    order_id = await orders.place_order(db, user_id, params)
    async with db.read() as repos:
        placed = await repos.orders.get(order_id)
        balance = await repos.users.balance(user_id)
    assert placed is not None
    return Receipt(order_id, placed.charge, balance)


async def orders_page(
    db: Database,
    user_id: int,
    search: OrderSearch,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = DEFAULT_SIZE,
) -> Page[OrderRow]:
    filters = search.as_filter()
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[Order]:
            return await repos.orders.of_customer_page(user_id, filters, before=before, after=after, limit=limit)

        page = await keyset_page(fetch, lambda order: order.id, before=before, after=after, limit=limit)
        found = await repos.services.many({order.service_id for order in page.items})
    return Page([_row(order, found.get(order.service_id)) for order in page.items], page.newer, page.older)


async def order_detail(db: Database, user_id: int, order_id: int) -> OrderDetail:
    """One of the customer's orders; anyone else's is NotFound, exactly like a missing one."""
    async with db.read() as repos:
        order = (await repos.orders.of_customer(user_id, [order_id])).get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id}")
        service = await repos.services.get(order.service_id)
        runs = await repos.orders.children(order.id) if order.runs is not None else []
    assert service is not None  # services are never deleted
    return OrderDetail(_row(order, service), service, runs)


async def _own_order(db: Database, user_id: int, order_id: int) -> Order:
    found = await orders.orders_of_customer(db, user_id, [order_id])
    if order_id not in found:
        raise NotFound(f"no order {order_id}")
    return found[order_id]


async def cancel_order(db: Database, user_id: int, order_id: int) -> CancelOutcome:
    """Cancel through ``orders.cancel_orders``; NotFound for anyone else's order, Refused by the rules."""
    before = await _own_order(db, user_id, order_id)
    error = (await orders.cancel_orders(db, user_id, [order_id]))[order_id]
    if error is not None:
        raise Refused(error)
    async with db.read() as repos:
        after = await repos.orders.get(order_id)
        balance = await repos.users.balance(user_id)
    assert after is not None
    return CancelOutcome(after, after.refunded - before.refunded, balance)


async def refill_order(db: Database, user_id: int, order_id: int) -> int:
    """Ask for a refill through ``refills.request_refills``; answer the refill's id."""
    await _own_order(db, user_id, order_id)
    outcome = (await refills.request_refills(db, user_id, [order_id]))[order_id]
    if isinstance(outcome, str):
        raise Refused(outcome)
    return outcome


async def _schedule_page(
    db: Database,
    user_id: int,
    filters: OrderFilter,
    row: Callable[[Order, str], T],
    before: int | None,
    after: int | None,
    limit: int,
) -> Page[T]:
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[Order]:
            return await repos.orders.of_customer_page(user_id, filters, before=before, after=after, limit=limit)

        page = await keyset_page(fetch, lambda order: order.id, before=before, after=after, limit=limit)
        found = await repos.services.many({order.service_id for order in page.items})
    names = {
        order.id: found[order.service_id].name if order.service_id in found else f"#{order.service_id}"
        for order in page.items
    }
    return Page([row(order, names[order.id]) for order in page.items], page.newer, page.older)


async def drip_feeds_page(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[ScheduleRow]:
    """The customer's drip-feeds with their runs, newest first."""

    def row(order: Order, name: str) -> ScheduleRow:
        return ScheduleRow(order, name, schedule_status(order), remaining_runs(order))

    return await _schedule_page(db, user_id, OrderFilter(drip_feeds=True), row, before, after, limit)


async def subscriptions_page(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[SubscriptionRow]:
    """The customer's Subscriptions-type orders with their posts, newest first."""

    def row(order: Order, name: str) -> SubscriptionRow:
        low, high = per_post_range(order)
        posts = SubscriptionRow.Posts(order.runs_done, posts_limit(order), remaining_posts(order))
        return SubscriptionRow(order, name, schedule_status(order), posts, low, high, delay_minutes(order))

    return await _schedule_page(db, user_id, OrderFilter(subscriptions=True), row, before, after, limit)


async def stop_schedule(db: Database, user_id: int, order_id: int) -> tuple[Order, Units]:
    """Stop a drip-feed (``orders.stop_drip_feed``, which refunds the runs never placed); answer it and the balance."""
    stopped = await orders.stop_drip_feed(db, order_id, user_id)
    return stopped, await _balance(db, user_id)


async def _balance(db: Database, user_id: int) -> Units:
    async with db.read() as repos:
        return await repos.users.balance(user_id)
