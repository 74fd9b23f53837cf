"""Orders: place, read, cancel, and the operator's manual fulfilment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smmpanel.clock import utcnow
from smmpanel.db.catalog_repositories import PriceTerms
from smmpanel.db.dispatch_repositories import CLAIMED, DONE, DRIPFEED, PLACED, QUEUED, SENDING, SENT
from smmpanel.db.order_charges import OrderTerms
from smmpanel.db.repositories import Repositories
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import messages as msg
from smmpanel.domain.catalog import Service, ServiceType
from smmpanel.domain.dripfeed import drip_feed_progress
from smmpanel.domain.ledger import EntryKind
from smmpanel.domain.orders import (
    Order,
    OrderProgress,
    OrderRequest,
    OrderStatus,
    build_order_request,
    check_cancel_allowed,
    check_status_change,
    parse_whole,
    refund_for,
    subscription_post_charge,
    valid_link,
)
from smmpanel.domain.pricing import priced_for_customer
from smmpanel.errors import NotFound, Refused
from smmpanel.money import Units, format_amount, per_thousand_charge, proportional_refund
from smmpanel.usecases import catalog, notifications
from smmpanel.usecases.audit import Audit, audited
from smmpanel.usecases.money_moves import charge_new_order, charge_priced_order, post_entry
from smmpanel.usecases.pricing import priced_service


async def _orderable_service(db: Database, service_text: str | None) -> Service:
    """The enabled service ``service_text`` names, outside a hidden category, at its list rate (from the
    catalog cache)."""
    service_id = parse_whole(service_text)
    service = await catalog.service_by_id(db, service_id) if service_id else None
    if service is None or not service.enabled or service.hidden:
        raise Refused(msg.INCORRECT_SERVICE)
    return service


async def place_order(db: Database, user_id: int, params: Mapping[str, str]) -> int:
    """Validate, then price, charge and create the order in one transaction; return its id.

    The customer's own rate (custom rate or discount) is read in the transaction that charges it.
    """
    listed = await _orderable_service(db, params.get("service"))
    now = utcnow()
    build_order_request(listed, params, now.date())  # refuse bad input before taking the write lock
    if listed.deny_duplicate_link or listed.type is ServiceType.SUBSCRIPTIONS:
        return await _place_checked(db, user_id, listed, params, now)

    def price(terms: OrderTerms) -> dict[str, Any]:
        service, request = _priced(listed, terms, params, now)
        return _new_order(user_id, service, request, terms.price, now)

    # On PostgreSQL the terms, then the charge with its order and entry as one statement (and the
    # alert, if crossed); on SQLite all of it, BEGIN to COMMIT, in one hop to the database's thread.
    return await charge_priced_order(db, user_id, listed.id, price, now)


async def _place_checked(db: Database, user_id: int, listed: Service, params: Mapping[str, str], now: datetime) -> int:
    """``place_order`` of a service with a check between the pricing and the charge: no second
    active order of the link, or a balance that covers a subscription's first post."""
    # The duplicate-link rule's lock-check-insert needs a transaction round them; the rest is
    # one statement each.
    async with db.write() if listed.deny_duplicate_link else db.write_each() as repos:
        terms = await repos.order_charges.terms(user_id, listed.id)  # one read: the rate and the email rule
        service, request = _priced(listed, terms, params, now)
        if service.deny_duplicate_link:
            await repos.users.lock(user_id)  # two concurrent orders must not both see "no active order"
            if await repos.orders.has_active_with_link(user_id, service.id, request.link):
                raise Refused(msg.ACTIVE_ORDER_WITH_LINK)
        if service.type is ServiceType.SUBSCRIPTIONS:
            first_post = per_thousand_charge(service.rate, int(str(request.details["max"])))
            if await repos.users.balance(user_id) < first_post:
                raise Refused(msg.NOT_ENOUGH_FUNDS)
        return await charge_new_order(repos, _new_order(user_id, service, request, terms.price, now), now)


def _priced(
    listed: Service, terms: OrderTerms, params: Mapping[str, str], now: datetime
) -> tuple[Service, OrderRequest]:
    """The service at this customer's rate and the order the parameters ask of it (pure)."""
    if terms.unverified:
        raise Refused(msg.EMAIL_NOT_VERIFIED)
    service = priced_for_customer(listed, discount=terms.price.discount, custom=terms.price.custom_rate)
    return service, build_order_request(service, params, now.date())


def _new_order(
    user_id: int, service: Service, request: OrderRequest, terms: PriceTerms, now: datetime
) -> dict[str, Any]:
    """The new order's row, as ``OrderCharges.place`` takes it."""
    dispatch = (DRIPFEED if request.runs else QUEUED) if terms.forwarded else None
    return {
        "dispatch": dispatch,
        "next_attempt_at": now if dispatch else None,
        "user_id": user_id,
        "service_id": service.id,
        "link": request.link,
        "quantity": request.quantity,
        "runs": request.runs,
        "interval": request.interval,
        "details": request.details,
        "charge": request.charge,
        "status": OrderStatus.PENDING.value,
        "remains": request.ordered,
    }


async def _locked_order(repos: Repositories, order_id: int) -> Order:
    order = await repos.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


async def progress_of_orders(db: Database, user_id: int, order_ids: Sequence[int]) -> dict[int, OrderProgress]:
    """What a status call answers of each of ``order_ids`` that is the customer's, by id."""
    return await db.direct.progress(user_id, order_ids)


async def orders_of_customer(db: Database, user_id: int, order_ids: Sequence[int]) -> dict[int, Order]:
    async with db.read() as repos:
        return await repos.orders.of_customer(user_id, order_ids)


async def finish_order(
    repos: Repositories, order: Order, status: OrderStatus, remains: int, note: str, extra: Mapping[str, object] = {}
) -> None:
    """Record a status; on the way into Partial or Canceled pay the refund, exactly once.

    The caller holds the order's row (locked), so two concurrent finishes cannot
    both see it unfinished. What was refunded before (runs of a stopped drip-feed)
    counts against what the final status owes.
    """
    now = utcnow()
    check_status_change(order.status, status)
    values: dict[str, object] = {"status": status.value, "remains": remains, **extra}
    if status.is_final and not order.status.is_final:
        values["finished_at"] = now
        # A queued order finished here (by the operator) must not be sent to a provider afterwards.
        if order.dispatch in (QUEUED, CLAIMED, SENT, DRIPFEED, PLACED) and "dispatch" not in extra:
            values["dispatch"] = DONE
            values["next_attempt_at"] = None
        service = await repos.services.get(order.service_id)
        pays_per_post = service is not None and service.type is ServiceType.SUBSCRIPTIONS
        due = 0 if pays_per_post else refund_for(status, order.charge, remains, order.ordered)
        refund = max(0, due - order.refunded)
        if refund:
            values["refunded"] = order.refunded + refund
            await post_entry(
                repos,
                user_id=order.user_id,
                kind=EntryKind.REFUND,
                amount=refund,
                now=now,
                order_id=order.id,
                note=f"order {order.id} {status.value.lower()}{note}",
            )
        if status in (OrderStatus.PARTIAL, OrderStatus.CANCELED) and order.parent_id is None:
            refunded = order.refunded + refund
            await notifications.order_finished(
                repos, order.user_id, order.id, order.link, status.value, refund, refunded, now
            )
    await repos.orders.update(order.id, values, now)


async def cancel_orders(db: Database, user_id: int, order_ids: Sequence[int]) -> dict[int, str | None]:
    """Cancel each of the customer's orders; map each id to None on success or its error text.

    An order nobody has started yet is canceled and refunded at once; one already in
    delivery gets a cancel request that the fulfiller (operator or provider) settles.
    """
    outcomes: dict[int, str | None] = {}
    for order_id in dict.fromkeys(order_ids):  # one id written twice ("7", "07") is canceled once
        try:
            await _cancel_one(db, user_id, order_id)
            outcomes[order_id] = None
        except Refused as refused:
            outcomes[order_id] = refused.message
    return outcomes


async def _cancel_one(db: Database, user_id: int, order_id: int) -> None:
    async with db.write() as repos:
        order = await repos.orders.get(order_id, for_update=True)
        if order is None or order.user_id != user_id:
            raise Refused(msg.INCORRECT_ORDER)
        service = await repos.services.get(order.service_id)
        assert service is not None  # services are never deleted
        check_cancel_allowed(service, order.status)
        if order.parent_id is not None:  # one run of a drip-feed: the customer stops the whole drip-feed
            raise Refused(msg.CANCEL_NOT_AVAILABLE_FOR_ORDER)
        if order.status is OrderStatus.PENDING and order.dispatch in (None, QUEUED, CLAIMED, DRIPFEED):
            # Nothing has reached a provider (a claimed order is sent only while still claimed):
            # cancel and refund here and now.
            extra = {"dispatch": DONE, "next_attempt_at": None} if order.dispatch else {}
            await finish_order(repos, order, OrderStatus.CANCELED, order.ordered, " by customer", extra)
        elif not order.cancel_requested:
            # Delivery has begun (by hand or upstream): ask whoever delivers it.
            forwarded = {"cancel_state": QUEUED} if order.dispatch in (SENDING, SENT) else {}
            await repos.orders.update(order.id, {"cancel_requested": True, **forwarded}, utcnow())


@dataclass(frozen=True)
class OrderUpdate:
    status: OrderStatus | None = None
    start_count: int | None = None
    remains: int | None = None


def _facts(order: Order) -> dict[str, object]:
    return {
        "status": order.status.value,
        "start_count": order.start_count,
        "remains": order.remains,
        "refunded": format_amount(order.refunded),
    }


async def update_order(db: Database, order_id: int, update: OrderUpdate, *, audit: Audit | None = None) -> Order:
    """The operator's manual fulfilment: set status, start count and remains."""
    async with db.write() as repos:
        return await apply_update(repos, order_id, update, audit=audit)


async def apply_update(repos: Repositories, order_id: int, update: OrderUpdate, *, audit: Audit | None) -> Order:
    """``update_order`` inside the caller's transaction (the admin API settles its claim in the same one)."""
    order = await repos.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id}")
    status = update.status or order.status
    if update.remains is not None and not 0 <= update.remains <= order.ordered:
        raise Refused("remains must be between 0 and %(ordered)s", ordered=order.ordered)
    if order.status.is_final and update.remains not in (None, order.remains):
        raise Refused("Order is already %(status)s", status=order.status.value)
    if status is OrderStatus.COMPLETED:
        remains = 0
    elif status is OrderStatus.CANCELED:
        remains = order.ordered
    else:
        remains = order.remains if update.remains is None else update.remains
    if update.start_count is not None:
        if update.start_count < 0:
            raise Refused("start count must not be negative")
        await repos.orders.update(order.id, {"start_count": update.start_count}, utcnow())
    await finish_order(repos, order, status, remains, " by operator")
    if order.parent_id is not None:
        await refresh_drip_feed(repos, order.parent_id)
    updated = await repos.orders.get(order_id)
    assert updated is not None
    await audited(repos, audit, "order.update", f"order {order_id}", _facts(order), _facts(updated))
    return updated


async def change_link(db: Database, order_id: int, link: str, *, audit: Audit | None = None) -> Order:
    """Correct an order's link, only while no provider has it: what was sent upstream cannot change."""
    link = valid_link(link)
    async with db.write() as repos:
        order = await _locked_order(repos, order_id)
        unsent = order.dispatch in (None, QUEUED) or (order.dispatch == DRIPFEED and order.runs_done == 0)
        if order.status.is_final or not unsent or order.provider_order_id is not None:
            raise Refused("order %(order_id)s has already been sent to a provider or has finished", order_id=order_id)
        await repos.orders.update(order.id, {"link": link}, utcnow())
        await audited(repos, audit, "order.link", f"order {order_id}", {"link": order.link}, {"link": link})
        updated = await repos.orders.get(order_id)
    assert updated is not None
    return updated


async def record_subscription_post(db: Database, order_id: int, quantity: int) -> Order:
    """Charge one delivered post of a Subscriptions order; each post is paid when it happens."""
    now = utcnow()
    async with db.write() as repos:
        order = await repos.orders.get(order_id, for_update=True)
        service = await repos.services.get(order.service_id) if order else None
        if order is None or service is None or service.type is not ServiceType.SUBSCRIPTIONS:
            raise NotFound(f"no subscription order {order_id}")
        if order.status.is_final:
            raise Refused("Order is already %(status)s", status=order.status.value)
        service = await priced_service(repos, order.user_id, service)
        charge = subscription_post_charge(service, order.details, quantity)
        charged = await charge_post(repos, order, charge, quantity, now)
        await repos.orders.update(order.id, {**charged, "status": OrderStatus.IN_PROGRESS.value}, now)
        updated = await repos.orders.get(order_id)
    assert updated is not None
    return updated


async def charge_post(
    repos: Repositories, order: Order, charge: Units, quantity: int, now: datetime, origin: str = ""
) -> dict[str, object]:
    """Debit one delivered post of a Subscriptions order (``Refused`` when the balance does not cover
    it); return the order's figures with the post counted in, for the caller to store."""
    await post_entry(
        repos,
        user_id=order.user_id,
        kind=EntryKind.CHARGE,
        amount=-charge,
        now=now,
        order_id=order.id,
        note=f"order {order.id} post of {quantity}{origin}",
    )
    return {"charge": order.charge + charge, "quantity": order.quantity + quantity, "runs_done": order.runs_done + 1}


async def refresh_drip_feed(repos: Repositories, parent_id: int) -> None:
    """Recompute a drip-feed from its runs; finish it (with its refund) once every run has ended."""
    parent = await _locked_order(repos, parent_id)
    if parent.status.is_final or parent.runs is None:
        return
    children = await repos.orders.children(parent.id)
    progress = drip_feed_progress(
        parent.quantity,
        parent.runs,
        parent.runs_done,
        parent.stopped,
        [(c.status, c.start_count, c.remains) for c in children],
    )
    extra = {"start_count": progress.start_count}
    await finish_order(repos, parent, progress.status, progress.remains, " (drip-feed)", extra)


async def stop_drip_feed(db: Database, order_id: int, user_id: int | None = None) -> Order:
    """Place no more runs; the runs never placed are refunded now, the rest when they end."""
    now = utcnow()
    async with db.write() as repos:
        parent = await _locked_order(repos, order_id)
        if parent.runs is None or (user_id is not None and parent.user_id != user_id):
            raise NotFound(f"no drip-feed order {order_id}")
        if parent.status.is_final or parent.stopped:
            raise Refused(
                "Order %(order_id)s is already %(status)s",
                order_id=order_id,
                status="stopped" if parent.stopped else parent.status.value,
            )
        unplaced = (parent.runs - parent.runs_done) * parent.quantity
        refund = proportional_refund(parent.charge, unplaced, parent.ordered) - parent.refunded
        values: dict[str, object] = {"stopped_at": now, "next_attempt_at": None}
        if parent.dispatch == DRIPFEED:
            values["dispatch"] = PLACED
        if refund > 0:
            values["refunded"] = parent.refunded + refund
            await post_entry(
                repos,
                user_id=parent.user_id,
                kind=EntryKind.REFUND,
                amount=refund,
                now=now,
                order_id=parent.id,
                note=f"order {parent.id} drip-feed stopped: {parent.runs - parent.runs_done} runs not placed",
            )
        await repos.orders.update(parent.id, values, now)
        await refresh_drip_feed(repos, parent.id)
        stopped = await repos.orders.get(parent.id)
    assert stopped is not None
    return stopped


async def schedules_of_customer(db: Database, user_id: int, limit: int = 1000) -> list[tuple[Order, bool]]:
    """Drip-feeds and Subscriptions-type orders (True beside these), newest first: the API's ``subscriptions``."""
    async with db.read() as repos:
        return await repos.orders.schedules(user_id, limit)


async def list_orders(
    db: Database, *, username: str | None, status: OrderStatus | None, limit: int
) -> list[tuple[Order, str]]:
    async with db.read() as repos:
        user_id = None
        if username is not None:
            customer = await repos.users.by_username(username)
            if customer is None:
                raise NotFound(f"no user named {username!r}")
            user_id = customer.id
        return await repos.orders.listing(user_id=user_id, status=status.value if status else None, limit=limit)
