"""Orders through the admin API: listings, pulls of manual orders, and the fulfiller's updates.

No rule lives here that the dashboard or the CLI does not apply: a status change is
``orders.apply_update`` (the operator's own update, with its refund paid exactly once),
a resend is ``fulfilment.resend``. What this module adds is the claim of a pulled
manual order, settled in the same transaction as the update that ends or renews it:

- ``pull_orders`` hands each waiting manual order to one key, for a lease;
- an update by the holder renews the lease; a final status ends the claim;
- ``release`` (the holder sends status Pending, or ``orders/resend``) puts it back in the queue;
- a claim whose lease ran out is handed out again on the next pull.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from smmpanel.clock import utcnow
from smmpanel.db.admin_api_repositories import PULLED, AdminKey, OrderFilters
from smmpanel.db.dispatch_repositories import ATTENTION, DONE
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain.catalog import Service
from smmpanel.domain.orders import Order, OrderStatus
from smmpanel.domain.refills import check_refill_allowed
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases import desk, fulfilment, orders
from smmpanel.usecases.admin_keys import acting
from smmpanel.usecases.audit import audited

DEFAULT_LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Access:
    """Which actions an order allows now, as the admin API's ``access`` flags say."""

    refill: bool
    set_partial: bool
    cancel_and_refund: bool
    resend_order: bool
    set_start_count: bool
    set_remains: bool


@dataclass(frozen=True)
class AdminOrder:
    order: Order
    username: str
    service: Service
    provider: str | None
    claimed_by: str | None
    access: Access

    @property
    def manual(self) -> bool:
        """Fulfilled by the operator's own people or software, not forwarded to a provider."""
        return self.order.provider_id is None and self.order.dispatch in (None, PULLED, DONE)


def _access(order: Order, service: Service, now: datetime) -> Access:
    open_ = not order.status.is_final
    try:
        check_refill_allowed(service, order.status, order.finished_at, now)
        refill = True
    except Refused:
        refill = False
    resend = open_ and order.dispatch in (ATTENTION, PULLED)
    return Access(refill, open_, open_, resend, open_, open_)


async def _described(repos: Repositories, rows: Sequence[tuple[Order, str]]) -> list[AdminOrder]:
    """Each order with its service, provider and claim: four statements, whatever the number."""
    now = utcnow()
    services = await repos.services.many({order.service_id for order, _ in rows})
    providers = await repos.providers.many({order.provider_id for order, _ in rows if order.provider_id})
    claims = await repos.admin_api.claims([order.id for order, _ in rows], now)
    described = []
    for order, username in rows:
        service = services[order.service_id]
        provider = providers.get(order.provider_id) if order.provider_id else None
        access = _access(order, service, now)
        described.append(
            AdminOrder(order, username, service, provider.name if provider else None, claims.get(order.id), access)
        )
    return described


async def find_orders(db: Database, filters: OrderFilters, username: str | None = None) -> tuple[list[AdminOrder], int]:
    """One page of everyone's orders and how many match; an unknown ``username`` matches nothing."""
    async with db.read() as repos:
        if username:
            customer = await repos.users.by_username(username)
            if customer is None:
                return [], 0
            filters = replace(filters, user_id=customer.id)
        listing = await repos.admin_api.orders(filters)
        return await _described(repos, listing.rows), listing.count


async def orders_by_id(db: Database, order_ids: Sequence[int]) -> dict[int, AdminOrder]:
    async with db.read() as repos:
        found = await _described(repos, await repos.admin_api.with_usernames(order_ids))
    return {item.order.id: item for item in found}


async def order_by_id(db: Database, order_id: int) -> AdminOrder:
    found = await orders_by_id(db, [order_id])
    if order_id not in found:
        raise NotFound(f"no order {order_id}")
    return found[order_id]


async def pull_orders(
    db: Database, key: AdminKey, service_ids: Sequence[int], limit: int, lease: timedelta = DEFAULT_LEASE
) -> list[AdminOrder]:
    """Hand out up to ``limit`` waiting manual orders, each to this key alone, until the lease ends."""
    now = utcnow()
    async with db.write() as repos:
        ids = await repos.admin_api.claim_manual_orders(service_ids, limit, now, now + lease, key.id)
    found = await orders_by_id(db, ids)
    return [found[order_id] for order_id in ids if order_id in found]


async def update_order(
    db: Database,
    key: AdminKey,
    order_id: int,
    update: orders.OrderUpdate,
    *,
    reason: str = "",
    lease: timedelta = DEFAULT_LEASE,
) -> AdminOrder:
    """The operator's own update, plus the claim: renewed for its holder, ended by a final status,
    released when its holder sends Pending."""
    audit = acting(key)
    async with db.write() as repos:
        updated = await orders.apply_update(repos, order_id, update, audit=audit)
        if updated.dispatch == PULLED:
            await _settle_claim(repos, key, updated, lease)
        if reason:
            await audited(repos, audit, "order.reason", f"order {order_id}", None, {"reason": reason[:1000]})
    return await order_by_id(db, order_id)


async def _settle_claim(repos: Repositories, key: AdminKey, order: Order, lease: timedelta) -> None:
    now = utcnow()
    holder = await repos.admin_api.pulled_by(order.id)
    if order.status.is_final:
        await repos.orders.update(order.id, {"dispatch": DONE, "next_attempt_at": None}, now)
    elif holder == key.id and order.status is OrderStatus.PENDING:
        await repos.orders.update(order.id, {"dispatch": None, "pulled_by": None, "next_attempt_at": None}, now)
    elif holder == key.id:
        await repos.orders.update(order.id, {"next_attempt_at": now + lease}, now)


async def resend(db: Database, key: AdminKey, order_id: int) -> AdminOrder:
    """A pulled manual order goes back to the queue; a forwarded one on the attention list is sent again."""
    audit = acting(key)
    async with db.write() as repos:
        order = await repos.orders.get(order_id, for_update=True)
        if order is None:
            raise NotFound(f"no order {order_id}")
        if order.dispatch == PULLED:
            if order.status.is_final:
                raise Refused("Order is already %(status)s", status=order.status.value)
            values = {"dispatch": None, "pulled_by": None, "next_attempt_at": None}
            await repos.orders.update(order.id, values, utcnow())
            await audited(repos, audit, "order.release", f"order {order_id}", None, {"dispatch": "waiting"})
    if order.dispatch != PULLED:
        await fulfilment.resend(db, order_id)
    return await order_by_id(db, order_id)


async def cancel_and_refund(db: Database, key: AdminKey, order_id: int) -> AdminOrder:
    return await update_order(db, key, order_id, orders.OrderUpdate(status=OrderStatus.CANCELED))


async def request_cancel(db: Database, order_id: int) -> None:
    """What the customer's own cancel does (at once while nobody started, else a request)."""
    async with db.read() as repos:
        order = await repos.orders.get(order_id)
    if order is None:
        raise NotFound(f"no order {order_id}")
    error = (await orders.cancel_orders(db, order.user_id, [order_id]))[order_id]
    if error is not None:
        raise Refused(error)


async def change_link(db: Database, key: AdminKey, order_id: int, link: str) -> AdminOrder:
    await orders.change_link(db, order_id, link, audit=acting(key))
    return await order_by_id(db, order_id)


async def cancel_requests(db: Database, limit: int) -> list[AdminOrder]:
    async with db.read() as repos:
        return await _described(repos, await repos.admin_api.cancel_requests(limit))


async def reject_cancel(db: Database, key: AdminKey, order_id: int) -> AdminOrder:
    """The fulfiller goes on with the order: the customer's cancel request is dropped."""
    await desk.refuse_cancel(db, order_id, audit=acting(key))
    return await order_by_id(db, order_id)
