"""Refills: customers ask, the fulfiller (operator or provider) settles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smmpanel.clock import utcnow
from smmpanel.db.dispatch_repositories import DONE, QUEUED, SENT
from smmpanel.db.repositories import Refill
from smmpanel.db.unit_of_work import Database
from smmpanel.domain import messages as msg
from smmpanel.domain.refills import RefillStatus, check_refill_allowed, check_refill_status_change, checked_reason
from smmpanel.errors import NotFound, Refused
from smmpanel.usecases import notifications
from smmpanel.usecases.paging import DEFAULT_SIZE, Page, keyset_page


async def request_refills(db: Database, user_id: int, order_ids: Sequence[int]) -> dict[int, int | str]:
    """Map each order id to its refill id, or to the error text that refused it.

    Asking again while a refill of the order is still open answers that refill's
    id: a client that retries never queues the same refill twice.
    """
    outcomes: dict[int, int | str] = {}
    for order_id in order_ids:
        try:
            outcomes[order_id] = await _request_one(db, user_id, order_id)
        except Refused as refused:
            outcomes[order_id] = refused.message
    return outcomes


async def _request_one(db: Database, user_id: int, order_id: int) -> int:
    now = utcnow()
    async with db.write() as repos:
        order = await repos.orders.get(order_id, for_update=True)
        if order is None or order.user_id != user_id:
            raise Refused(msg.INCORRECT_ORDER)
        service = await repos.services.get(order.service_id)
        assert service is not None  # services are never deleted
        check_refill_allowed(service, order.status, order.finished_at, now)
        existing = await repos.refills.open_for_order(order.id)
        if existing is not None:
            return existing.id
        forwarded = order.provider_order_id is not None and order.dispatch in (SENT, DONE)
        return await repos.refills.add(order.id, user_id, now, dispatch=QUEUED if forwarded else None)


async def refills_of_customer(db: Database, user_id: int, refill_ids: Sequence[int]) -> dict[int, Refill]:
    async with db.read() as repos:
        return await repos.refills.of_customer(user_id, refill_ids)


async def update_refill(db: Database, refill_id: int, status: RefillStatus, *, reason: str = "") -> Refill:
    """Settle a refill; a rejection may say why, in words its customer reads on the dashboard and in mail."""
    kept_reason = checked_reason(status, reason)
    async with db.write() as repos:
        refill = await repos.refills.get(refill_id, for_update=True)
        if refill is None:
            raise NotFound(f"no refill {refill_id}")
        check_refill_status_change(refill.status, status)
        await repos.refills.set_status(refill_id, status, utcnow(), reason=kept_reason)
        if status.is_final and not refill.status.is_final:
            await notifications.refill_finished(repos, refill_id, status.value, utcnow())
        updated = await repos.refills.get(refill_id)
    assert updated is not None
    return updated


async def list_refills(db: Database, *, status: RefillStatus | None, limit: int) -> list[tuple[Refill, str]]:
    async with db.read() as repos:
        return await repos.refills.listing(status=status.value if status else None, limit=limit)


@dataclass(frozen=True)
class RefillRow:
    """A refill as its customer sees it: with the order's link and the service's name."""

    refill: Refill
    link: str
    service_id: int
    service_name: str


async def refills_page(
    db: Database, user_id: int, *, before: int | None = None, after: int | None = None, limit: int = DEFAULT_SIZE
) -> Page[RefillRow]:
    """The customer's refill requests, newest first."""
    async with db.read() as repos:

        async def fetch(before: int | None, after: int | None, limit: int) -> list[tuple[Refill, str, int]]:
            return await repos.refills.of_customer_page(user_id, before=before, after=after, limit=limit)

        page = await keyset_page(fetch, lambda row: row[0].id, before=before, after=after, limit=limit)
        names = {s.id: s.name for s in (await repos.services.many({row[2] for row in page.items})).values()}
    rows = [RefillRow(refill, link, service_id, names.get(service_id, "")) for refill, link, service_id in page.items]
    return Page(rows, page.newer, page.older)


async def refill_for_customer(db: Database, user_id: int, refill_id: int) -> RefillRow:
    """One of the customer's refills; anyone else's is NotFound, exactly like a missing one."""
    async with db.read() as repos:
        refill = (await repos.refills.of_customer(user_id, [refill_id])).get(refill_id)
        order = await repos.orders.get(refill.order_id) if refill else None
        service = await repos.services.get(order.service_id) if order else None
    if refill is None or order is None:
        raise NotFound(f"no refill {refill_id}")
    return RefillRow(refill, order.link, order.service_id, service.name if service else "")
